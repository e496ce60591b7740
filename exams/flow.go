package exams

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// ItemCount is the number of questions on every paper of the session (its blueprint's sections).
func (x Session) ItemCount() int {
	n := 0
	for _, p := range x.pool {
		n += p.Count
	}
	return n
}

// MyAttempts tells how many attempts the person has used in a session and whether one of them is in
// progress: the exam page shows the instructions, and the start button, only when none is.
func (s *Service) MyAttempts(ctx context.Context, sessionID, personID int64) (used int, active bool, err error) {
	err = s.db.QueryRow(ctx, `SELECT count(*), coalesce(bool_or(status = 'active'), false) FROM exam_attempts
		WHERE session_id = $1 AND person_id = $2`, sessionID, personID).Scan(&used, &active)
	return used, active, err
}

// Provisional is a candidate's mark before the session's results are published: the latest
// attempt of an approved registration, graded or waiting for an examiner.
type Provisional struct {
	PersonID  int64    `json:"-"`
	Name      string   `json:"name"`
	Status    string   `json:"status"` // graded | marking
	Theory    float64  `json:"theory"`
	Practical *float64 `json:"practical,omitempty"`
	Passed    bool     `json:"passed"` // meaningful when Status is graded
}

// PracticalScore is the practical percentage, 0 when the paper had no practical part.
func (p Provisional) PracticalScore() float64 {
	if p.Practical == nil {
		return 0
	}
	return *p.Practical
}

// ProvisionalResults lists the marks Publish would write now, in registration order (the same
// attempts writeResults picks), with those still being marked; results and certificates count the
// results publishing would create and the certificates it would request (the passes).
func (s *Service) ProvisionalResults(ctx context.Context, sessionID int64) (list []Provisional, results, certificates int, err error) {
	x, err := s.GetSession(ctx, sessionID)
	if err != nil {
		return nil, 0, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT DISTINCT ON (a.registration_id) a.person_id, a.status,
		a.theory_earned::float8, a.theory_possible::float8, a.practical_earned::float8, a.practical_possible::float8
		FROM exam_attempts a JOIN exam_registrations r ON r.id = a.registration_id
		WHERE a.session_id = $1 AND a.status IN ('graded', 'marking') AND r.status = 'approved'
		ORDER BY a.registration_id, a.number DESC`, sessionID)
	if err != nil {
		return nil, 0, 0, err
	}
	list, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Provisional, error) {
		var v Provisional
		var t, p Score
		if err := row.Scan(&v.PersonID, &v.Status, &t.Earned, &t.Possible, &p.Earned, &p.Possible); err != nil {
			return v, err
		}
		v.Theory, _ = t.Percent()
		if pc, ok := p.Percent(); ok {
			v.Practical = &pc
		}
		if v.Status == Graded {
			v.Passed = x.Passes(t, p)
			results++
			if v.Passed {
				certificates++
			}
		}
		return v, nil
	})
	if err != nil || len(list) == 0 {
		return list, results, certificates, err
	}
	names, err := namesOf(ctx, s, list, func(v Provisional) int64 { return v.PersonID })
	for i := range list {
		list[i].Name = names[list[i].PersonID]
	}
	return list, results, certificates, err
}
