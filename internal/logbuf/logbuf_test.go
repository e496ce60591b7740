package logbuf

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is the destination; the flushing loop writes to it from its own goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestInfoIsBufferedWarningsAreFlushedCloseWritesTheRest(t *testing.T) {
	var dst lockedBuffer
	w := New(&dst, time.Hour) // no tick during the test: only the rules under test flush
	log := slog.New(Handler(slog.NewTextHandler(w, nil), w, slog.LevelWarn)).With("app", "shanyu")

	log.Info("http", "path", "/a")
	if got := dst.String(); got != "" {
		t.Fatalf("an info line was written through at once: %q", got)
	}
	log.Warn("slow", "path", "/b")
	got := dst.String()
	if !strings.Contains(got, "path=/a") || !strings.Contains(got, "path=/b") || !strings.Contains(got, "app=shanyu") {
		t.Fatalf("a warning did not flush the buffered lines in order: %q", got)
	}
	log.Info("http", "path", "/c")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := dst.String(); !strings.Contains(got, "path=/c") {
		t.Fatalf("Close did not write the rest: %q", got)
	}
}

func TestTheTickFlushes(t *testing.T) {
	var dst lockedBuffer
	w := New(&dst, 5*time.Millisecond)
	defer w.Close()
	if _, err := w.Write([]byte("line\n")); err != nil {
		t.Fatal(err)
	}
	// Wait for the tick, however slow the machine; the test's own timeout bounds it.
	for dst.String() == "" {
		time.Sleep(time.Millisecond)
	}
	if got := dst.String(); got != "line\n" {
		t.Fatalf("tick wrote %q", got)
	}
}
