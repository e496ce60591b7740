package exams

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// SessionTodo is what a centre still has to do for one exam session: registrations to decide,
// identities to check before they can be approved, and answers waiting for a mark.
type SessionTodo struct {
	SessionID  int64
	Name       string
	OpensAt    time.Time
	ClosesAt   time.Time
	Pending    int // registrations awaiting a decision
	Unverified int // of those, candidates whose ID card staff have not checked (the session requires it)
	ToMark     int // subjective answers still without a final mark
}

// Today reports whether the session's window overlaps [from, to).
func (t SessionTodo) Today(from, to time.Time) bool {
	return t.OpensAt.Before(to) && t.ClosesAt.After(from)
}

// CentreTodo lists a centre's sessions that have something to do (a pending registration or an
// answer to mark) or whose window overlaps [from, to) (today's sessions), soonest first.
func (s *Service) CentreTodo(ctx context.Context, centreID int64, from, to time.Time) ([]SessionTodo, error) {
	rows, err := s.db.Query(ctx, `SELECT x.id, x.name, x.opens_at, x.closes_at, x.require_verified_identity,
		(SELECT count(*) FROM exam_registrations r WHERE r.session_id = x.id AND r.status = 'pending'),
		(SELECT count(*) FROM exam_attempt_items i JOIN exam_attempts a ON a.id = i.attempt_id
			WHERE a.session_id = x.id AND a.status = 'marking' AND i.earned IS NULL)
		FROM exam_sessions x WHERE x.organisation_id = $1
		ORDER BY x.opens_at, x.id LIMIT 500`, centreID)
	if err != nil {
		return nil, err
	}
	type row struct {
		t        SessionTodo
		required bool
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.t.SessionID, &x.t.Name, &x.t.OpensAt, &x.t.ClosesAt, &x.required, &x.t.Pending, &x.t.ToMark)
		return x, err
	})
	if err != nil {
		return nil, err
	}
	var out []SessionTodo
	for _, x := range list {
		if x.t.Pending == 0 && x.t.ToMark == 0 && !x.t.Today(from, to) {
			continue
		}
		if x.t.Pending > 0 && x.required {
			if x.t.Unverified, err = s.unverifiedPending(ctx, x.t.SessionID); err != nil {
				return nil, err
			}
		}
		out = append(out, x.t)
	}
	return out, nil
}

// unverifiedPending counts a session's pending registrants whose identity is not verified.
func (s *Service) unverifiedPending(ctx context.Context, sessionID int64) (int, error) {
	rows, err := s.db.Query(ctx, `SELECT person_id FROM exam_registrations WHERE session_id = $1 AND status = 'pending' LIMIT 1000`, sessionID)
	if err != nil {
		return 0, err
	}
	people, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(people) == 0 {
		return 0, err
	}
	ids, err := s.ids.Identities(ctx, people)
	if err != nil {
		return 0, fmt.Errorf("identities: %w", err)
	}
	n := 0
	for _, p := range people {
		if !ids[p].Verified {
			n++
		}
	}
	return n, nil
}

// HoursTowards is how many training hours of a session's occupation a person holds, counted the way
// Register counts them (the year before the session opens), so that what a learner sees is what
// registration will find.
func (s *Service) HoursTowards(ctx context.Context, personID int64, x Session) (float64, error) {
	from, to := x.hoursWindow()
	return s.hours.CompletedHours(ctx, personID, x.Occupation, from, to)
}

// hoursWindow is the period whose training hours count towards a session: the year before it opens.
func (x Session) hoursWindow() (from, to time.Time) { return x.OpensAt.AddDate(-1, 0, 0), x.OpensAt }
