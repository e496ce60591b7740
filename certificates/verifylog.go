package certificates

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// verificationRecord is one line of the verification log.
type verificationRecord struct {
	at            time.Time
	method        string
	certificateID *int64
	result        string
	ip            string
	inspectionRef string
}

// verificationLog writes the verification log in batches from a goroutine of its own, so that a
// verification is a single read and never waits for a commit to reach the disk: a public endpoint
// that phones hit by the thousand should cost what a SELECT costs. A verification appends its record
// to pending under a mutex (no goroutine is woken for it); the writer takes the whole batch every
// flushEvery, or at once when it reaches logBatchMax. When logQueueSize records are already waiting
// (the database is slow), the caller writes its record itself: back-pressure, no loss.
// A crash can lose the records of the last flushEvery; a shutdown loses none, as App.Stop calls
// FlushVerifications once the server has stopped answering.
type verificationLog struct {
	mu      sync.Mutex
	pending []verificationRecord
	full    chan struct{} // pending reached logBatchMax
	flushes chan chan struct{}
}

const (
	flushEvery   = 50 * time.Millisecond
	logQueueSize = 8192
	logBatchMax  = 2048
)

func (s *Service) logVerification(ctx context.Context, r verificationRecord) {
	s.logOnce.Do(s.startLog)
	l := s.vlog
	l.mu.Lock()
	if len(l.pending) >= logQueueSize {
		l.mu.Unlock()
		if err := s.writeVerifications(ctx, []verificationRecord{r}); err != nil {
			slog.Default().Error("verification log", slog.Any("err", err))
		}
		return
	}
	l.pending = append(l.pending, r)
	full := len(l.pending) == logBatchMax
	l.mu.Unlock()
	if full {
		select {
		case l.full <- struct{}{}:
		default:
		}
	}
}

// FlushVerifications waits until every verification logged so far is stored.
func (s *Service) FlushVerifications(ctx context.Context) {
	s.logOnce.Do(s.startLog)
	done := make(chan struct{})
	select {
	case s.vlog.flushes <- done:
	case <-ctx.Done():
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}

func (s *Service) startLog() {
	s.vlog = &verificationLog{full: make(chan struct{}, 1), flushes: make(chan chan struct{})}
	go s.runLog()
}

func (s *Service) runLog() {
	l := s.vlog
	var spare []verificationRecord
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	flush := func() {
		l.mu.Lock()
		batch := l.pending
		l.pending = spare[:0]
		l.mu.Unlock()
		if len(batch) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := s.writeVerifications(ctx, batch); err != nil {
				slog.Default().Error("verification log", slog.Any("err", err), slog.Int("lost", len(batch)))
			}
			cancel()
		}
		spare = batch
	}
	for {
		select {
		case <-tick.C:
			flush()
		case <-l.full:
			flush()
		case done := <-l.flushes:
			flush()
			close(done)
		}
	}
}

func (s *Service) writeVerifications(ctx context.Context, rs []verificationRecord) error {
	_, err := s.db.CopyFrom(ctx, pgx.Identifier{"certificate_verifications"},
		[]string{"at", "method", "certificate_id", "result", "ip", "inspection_ref"},
		pgx.CopyFromSlice(len(rs), func(i int) ([]any, error) {
			r := rs[i]
			return []any{r.at, r.method, r.certificateID, r.result, r.ip, r.inspectionRef}, nil
		}))
	return err
}
