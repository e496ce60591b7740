package exams

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// The deadline of every attempt is enforced by one periodic job, the sweep, rather than by a job per
// attempt: a province's candidates start within the same minute, and enqueuing a River job in each
// start's transaction (a river_job row, its indexes and a notification) was the heaviest part of a
// start. The sweep runs every SweepPeriod on the River leader, and once when a worker process starts,
// so an attempt is submitted at most about SweepPeriod after its deadline and grace have passed, even
// if the candidate is gone; saves are refused by the database from the end of the grace period on
// whether or not the sweep has run yet.

// SweepPeriod is how often the sweep submits the attempts whose deadline and grace have passed.
const SweepPeriod = 10 * time.Second

// sweepBatch is how many overdue attempts one query of the sweep picks up.
const sweepBatch = 200

// SweepArgs is the periodic job that submits overdue attempts.
type SweepArgs struct{}

// Kind names the job for River.
func (SweepArgs) Kind() string { return "exams.sweep" }

// SweepWorker works SweepArgs.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	Exams *Service
}

// Work submits the overdue attempts.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	_, err := w.Exams.SubmitOverdue(ctx)
	return err
}

// PeriodicSweep is the sweep's schedule, for the job registry. It also runs when the client starts,
// so attempts that fell due while no worker ran are submitted at once.
func PeriodicSweep() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(SweepPeriod),
		func() (river.JobArgs, *river.InsertOpts) { return SweepArgs{}, &river.InsertOpts{MaxAttempts: 1} },
		&river.PeriodicJobOpts{RunOnStart: true})
}

// SubmitOverdue submits every active attempt whose deadline and grace have passed, and returns how
// many it submitted. Each attempt is submitted in its own transaction, by Submit, which is final and
// idempotent: two sweeps at once, or a sweep and the candidate's own submit, submit an attempt once.
// An attempt that fails is reported and skipped, so that it cannot hold the others back.
func (s *Service) SubmitOverdue(ctx context.Context) (int, error) {
	return s.submitOverdue(ctx, sweepBatch)
}

func (s *Service) submitOverdue(ctx context.Context, batch int) (n int, err error) {
	var errs []error
	defer func() { err = errors.Join(append(errs, err)...) }()
	after := int64(0)
	for {
		rows, err := s.db.Query(ctx, `SELECT id FROM exam_attempts
			WHERE status = 'active' AND deadline_at + grace_s * interval '1 second' < $1 AND id > $2
			ORDER BY id LIMIT $3`, s.now(), after, batch)
		if err != nil {
			return n, err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return n, err
		}
		for _, id := range ids {
			if ctx.Err() != nil {
				return n, ctx.Err()
			}
			a, err := s.Submit(ctx, id, 0, "", ByDeadline)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("submit attempt %d: %w", id, err))
			case a.Status != Active:
				n++
			}
		}
		if len(ids) < batch {
			return n, nil
		}
		after = ids[len(ids)-1]
	}
}

// AutoSubmitArgs is the per-attempt job that earlier versions enqueued at start. None is enqueued
// any more (the sweep does its work); the worker stays so that jobs still queued in a database are
// worked rather than left failing.
type AutoSubmitArgs struct {
	AttemptID int64 `json:"attempt_id"`
}

// Kind names the job for River.
func (AutoSubmitArgs) Kind() string { return "exams.auto_submit" }

// AutoSubmitWorker works jobs queued by earlier versions: it submits the attempt when it is due, and
// otherwise leaves it to the sweep.
type AutoSubmitWorker struct {
	river.WorkerDefaults[AutoSubmitArgs]
	Exams *Service
}

// Work submits the attempt if its deadline and grace have passed (Submit does nothing before).
func (w *AutoSubmitWorker) Work(ctx context.Context, j *river.Job[AutoSubmitArgs]) error {
	_, err := w.Exams.Submit(ctx, j.Args.AttemptID, 0, "", ByDeadline)
	return err
}
