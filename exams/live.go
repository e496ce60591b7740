package exams

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// OpenSessions lists the sessions a person may still register for or start: not past their latest
// start, newest first, with the person's registration status ("" when not registered).
func (s *Service) OpenSessions(ctx context.Context, personID int64) ([]MySession, error) {
	rows, err := s.db.Query(ctx, `SELECT `+sessionColumns+`, coalesce(r.status, ''),
		coalesce((SELECT a.id FROM exam_attempts a WHERE a.registration_id = r.id ORDER BY a.number DESC LIMIT 1), 0),
		coalesce((SELECT a.status <> 'active' FROM exam_attempts a WHERE a.registration_id = r.id ORDER BY a.number DESC LIMIT 1), false)
		FROM exam_sessions x JOIN exam_blueprints b ON b.id = x.blueprint_id
		LEFT JOIN exam_registrations r ON r.session_id = x.id AND r.person_id = $1
		WHERE x.latest_start_at > $2 OR r.id IS NOT NULL ORDER BY x.opens_at DESC LIMIT 100`, personID, s.now())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MySession
	for rows.Next() {
		var m MySession
		var dur, grace int
		var pool []byte
		x := &m.Session
		if err := rows.Scan(&x.ID, &x.CentreID, &x.BlueprintID, &x.Name, &x.Occupation, &x.Level, &x.Venue, &x.OpensAt,
			&x.ClosesAt, &x.LatestStartAt, &dur, &grace, &x.AttemptsAllowed, &x.TheoryPass, &x.PracticalPass, &x.MinHours,
			&x.PublishedAt, &x.mode, &pool, &x.fixedSeed, &x.DoubleMarking, &x.ArbitrationGap, &m.Registration, &m.AttemptID, &m.Submitted); err != nil {
			return nil, err
		}
		x.Duration, x.Grace = time.Duration(dur)*time.Second, time.Duration(grace)*time.Second
		m.Open = !s.now().Before(x.OpensAt) && s.now().Before(x.LatestStartAt)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Live states of a candidate during a session.
const (
	NotStarted = "not_started"
	Answering  = "answering" // saved an answer in the last IdleAfter
	Idle       = "idle"      // started, nothing saved for IdleAfter
	Submitted  = "submitted"
)

// IdleAfter is how long without a save makes a candidate idle in the live view.
const IdleAfter = 2 * time.Minute

// LiveRow is one candidate in the centre's live view.
type LiveRow struct {
	RegistrationID int64      `json:"registration_id"`
	Name           string     `json:"name"`
	State          string     `json:"state"`
	Answered       int        `json:"answered"`
	Questions      int        `json:"questions"`
	LastSave       *time.Time `json:"last_save,omitempty"`
	Deadline       *time.Time `json:"deadline,omitempty"`
	Devices        int        `json:"devices"`
	Signals        int        `json:"signals"`
	SubmitReason   string     `json:"submit_reason,omitempty"` // candidate, deadline or account_disabled
}

// Live reports every approved candidate of a session: started, answering, idle or submitted.
func (s *Service) Live(ctx context.Context, sessionID int64) ([]LiveRow, error) {
	now := s.now()
	rows, err := s.db.Query(ctx, `SELECT r.id, r.person_id, a.id IS NOT NULL, coalesce(a.status, ''), a.deadline_at, coalesce(a.devices, 0),
		(SELECT count(DISTINCT e.position) FROM exam_answers e WHERE e.attempt_id = a.id),
		coalesce(a.positions, 0),
		(SELECT max(e.saved_at) FROM exam_answers e WHERE e.attempt_id = a.id),
		(SELECT count(*) FROM exam_signals g WHERE g.attempt_id = a.id), coalesce(a.submit_reason, '')
		FROM exam_registrations r
		LEFT JOIN LATERAL (SELECT * FROM exam_attempts a WHERE a.registration_id = r.id ORDER BY a.number DESC LIMIT 1) a ON true
		WHERE r.session_id = $1 AND r.status = 'approved' ORDER BY r.id`, sessionID)
	if err != nil {
		return nil, err
	}
	persons := map[int64]int64{} // registration → person
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (LiveRow, error) {
		var l LiveRow
		var started bool
		var status string
		var person int64
		err := row.Scan(&l.RegistrationID, &person, &started, &status, &l.Deadline, &l.Devices, &l.Answered, &l.Questions, &l.LastSave, &l.Signals, &l.SubmitReason)
		switch {
		case !started:
			l.State = NotStarted
		case status != Active:
			l.State = Submitted
		case l.LastSave != nil && now.Sub(*l.LastSave) < IdleAfter:
			l.State = Answering
		default:
			l.State = Idle
		}
		persons[l.RegistrationID] = person
		return l, err
	})
	if err != nil {
		return nil, err
	}
	names, err := namesOf(ctx, s, list, func(l LiveRow) int64 { return persons[l.RegistrationID] })
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Name = names[persons[list[i].RegistrationID]]
	}
	// By name, then registration (the rows came in registration order and the sort is stable).
	slices.SortStableFunc(list, func(a, b LiveRow) int { return strings.Compare(a.Name, b.Name) })
	return list, nil
}
