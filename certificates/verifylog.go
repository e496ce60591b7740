package certificates

import (
	"context"
	"log/slog"
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
// that phones hit by the thousand should cost what a SELECT costs. Records wait at most
// flushEvery; when the queue is full, the caller writes its record itself (back-pressure, no loss).
// A crash can lose the records of the last flushEvery; a shutdown loses none, as App.Stop calls
// FlushVerifications once the server has stopped answering.
type verificationLog struct {
	queue   chan verificationRecord
	flushes chan chan struct{}
}

const (
	flushEvery   = 50 * time.Millisecond
	logQueueSize = 8192
	logBatchMax  = 2048
)

func (s *Service) logVerification(ctx context.Context, r verificationRecord) {
	s.logOnce.Do(s.startLog)
	select {
	case s.vlog.queue <- r:
	default:
		if err := s.writeVerifications(ctx, []verificationRecord{r}); err != nil {
			slog.Default().Error("verification log", slog.Any("err", err))
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
	s.vlog = &verificationLog{queue: make(chan verificationRecord, logQueueSize), flushes: make(chan chan struct{})}
	go s.runLog()
}

func (s *Service) runLog() {
	batch := make([]verificationRecord, 0, logBatchMax)
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := s.writeVerifications(ctx, batch); err != nil {
			slog.Default().Error("verification log", slog.Any("err", err), slog.Int("lost", len(batch)))
		}
		cancel()
		batch = batch[:0]
	}
	for {
		select {
		case r := <-s.vlog.queue:
			batch = append(batch, r)
			if len(batch) >= logBatchMax {
				flush()
			}
		case <-tick.C:
			flush()
		case done := <-s.vlog.flushes:
			for drained := false; !drained; {
				select {
				case r := <-s.vlog.queue:
					batch = append(batch, r)
				default:
					drained = true
				}
			}
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
