package exams

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// AutoSubmitWorker submits an attempt whose deadline and grace have passed, even if the candidate is
// gone.
type AutoSubmitWorker struct {
	river.WorkerDefaults[AutoSubmitArgs]
	Exams *Service
}

// Work submits the attempt, or snoozes when it is not due yet (the clock of the enqueuing replica ran
// ahead of this one).
func (w *AutoSubmitWorker) Work(ctx context.Context, j *river.Job[AutoSubmitArgs]) error {
	a, err := w.Exams.Submit(ctx, j.Args.AttemptID, 0, "", ByDeadline)
	if err != nil {
		return err
	}
	if a.Status == Active {
		return river.JobSnooze(max(time.Second, a.AcceptUntil.Sub(w.Exams.now())))
	}
	return nil
}

// SweepArgs is the periodic safety net: it submits every attempt past its deadline, for attempts
// whose job was lost or never enqueued.
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

// SubmitOverdue submits every active attempt whose deadline and grace have passed, and returns how many.
func (s *Service) SubmitOverdue(ctx context.Context) (int, error) {
	rows, err := s.db.Query(ctx, `SELECT id FROM exam_attempts
		WHERE status = 'active' AND deadline_at + grace_s * interval '1 second' < $1 ORDER BY deadline_at LIMIT 500`, s.now())
	if err != nil {
		return 0, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		if _, err := s.Submit(ctx, id, 0, "", ByDeadline); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// SweepPeriod is how often the safety-net sweep runs.
const SweepPeriod = time.Minute

// PeriodicSweep is the sweeper's schedule, for the job registry.
func PeriodicSweep() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(SweepPeriod),
		func() (river.JobArgs, *river.InsertOpts) { return SweepArgs{}, nil }, nil)
}
