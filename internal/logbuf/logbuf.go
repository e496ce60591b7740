// Package logbuf batches log output: a busy server writes one access-log line per request, and one
// write system call per line costs as much as a tenth of a small request. Lines are buffered and
// written at least every interval, at once for warnings and errors, and on Close.
package logbuf

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Writer buffers writes to an underlying writer and flushes them every interval.
type Writer struct {
	mu   sync.Mutex
	buf  *bufio.Writer
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// New starts a Writer that flushes to dst at least every interval.
func New(dst io.Writer, interval time.Duration) *Writer {
	w := &Writer{buf: bufio.NewWriterSize(dst, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go w.loop(interval)
	return w
}

func (w *Writer) loop(interval time.Duration) {
	defer close(w.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = w.Flush()
		case <-w.stop:
			return
		}
	}
}

// Write buffers p; a full buffer is written through at once.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// Flush writes out what is buffered.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Flush()
}

// Close stops the flushing loop and writes out what is buffered. Writes after Close still work but
// are only written when the buffer fills or Flush is called.
func (w *Writer) Close() error {
	w.once.Do(func() { close(w.stop); <-w.done })
	return w.Flush()
}

// Handler wraps a slog.Handler writing to w so that records at or above level are flushed at once:
// a warning or an error must not wait for the next tick, or be lost with the process.
func Handler(h slog.Handler, w *Writer, level slog.Level) slog.Handler {
	return flushing{h, w, level}
}

type flushing struct {
	slog.Handler
	w     *Writer
	level slog.Level
}

func (f flushing) Handle(ctx context.Context, r slog.Record) error {
	err := f.Handler.Handle(ctx, r)
	if r.Level >= f.level {
		if ferr := f.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (f flushing) WithAttrs(as []slog.Attr) slog.Handler {
	return flushing{f.Handler.WithAttrs(as), f.w, f.level}
}

func (f flushing) WithGroup(name string) slog.Handler {
	return flushing{f.Handler.WithGroup(name), f.w, f.level}
}
