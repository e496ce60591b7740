package exams

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"shanyu/accounts"
	"shanyu/internal/jobs"
	"shanyu/internal/pg"
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
func PeriodicSweep() *river.PeriodicJob { return jobs.Every(SweepPeriod, SweepArgs{}, 1) }

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

// Reminders: a periodic job tells each approved candidate that their exam starts soon, once when
// it is within 24 hours and once when it is within 1 hour. Whether a reminder was sent is decided by
// its notification's unique key, so runs that overlap, or run on two nodes, remind once.

// ReminderPeriod is how often the reminder job runs.
const ReminderPeriod = 5 * time.Minute

// reminderThresholds are how long before the start a candidate is reminded, with their key's name.
// A session opening within the hour gets only the 1 h reminder.
var reminderThresholds = []struct {
	name          string
	before, after time.Duration
}{{"24h", 24 * time.Hour, time.Hour}, {"1h", time.Hour, 0}}

// RemindArgs is the periodic job that reminds candidates of exams starting soon.
type RemindArgs struct{}

// Kind names the job for River.
func (RemindArgs) Kind() string { return "exams.remind" }

// RemindWorker works RemindArgs.
type RemindWorker struct {
	river.WorkerDefaults[RemindArgs]
	Exams *Service
}

// Work sends the reminders that are due.
func (w *RemindWorker) Work(ctx context.Context, _ *river.Job[RemindArgs]) error {
	_, err := w.Exams.RemindStartingSoon(ctx)
	return err
}

// PeriodicRemind is the reminder job's schedule, for the job registry.
func PeriodicRemind() *river.PeriodicJob { return jobs.Every(ReminderPeriod, RemindArgs{}, 3) }

// RemindStartingSoon notifies every approved candidate of a session opening within a threshold
// (24 h, 1 h) that has not started yet, once per registration and threshold, and returns how many
// notices it asked for (those already sent are skipped by their key).
func (s *Service) RemindStartingSoon(ctx context.Context) (int, error) {
	now := s.now()
	n := 0
	for _, th := range reminderThresholds {
		rows, err := s.db.Query(ctx, `SELECT r.id, r.person_id, x.name, x.opens_at FROM exam_registrations r
			JOIN exam_sessions x ON x.id = r.session_id
			WHERE r.status = 'approved' AND x.opens_at > $1 AND x.opens_at <= $2 ORDER BY r.id`, now.Add(th.after), now.Add(th.before))
		if err != nil {
			return n, err
		}
		type due struct {
			reg, person int64
			name        string
			opens       time.Time
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (due, error) {
			var d due
			return d, r.Scan(&d.reg, &d.person, &d.name, &d.opens)
		})
		if err != nil || len(list) == 0 {
			if err != nil {
				return n, err
			}
			continue
		}
		if err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
			for _, d := range list {
				if err := s.notices.Notify(ctx, tx, accounts.Notice{PersonID: d.person, Kind: accounts.NoticeExamSoon,
					Key:  fmt.Sprintf("exam_soon:%s:registration:%d", th.name, d.reg),
					Args: []string{d.name, d.opens.UTC().Format(time.RFC3339)}, Link: "/exams"}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return n, err
		}
		n += len(list)
	}
	return n, nil
}
