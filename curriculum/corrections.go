package curriculum

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// CentreLedger is what a training centre sees of one learner's hours: only the entries that came from
// its own courses and sessions, with their corrections, oldest first.
type CentreLedger struct {
	PersonID   int64
	PersonName string
	Entries    []Entry
	Total      float64
}

// LedgerForCentre lists a person's ledger entries that came from the centre's courses or sessions
// (corrections included), so the centre can correct them. A person with no enrolment or sign-up at
// the centre gets ErrEntryNotFound: a centre does not look at strangers' ledgers.
func (s *Service) LedgerForCentre(ctx context.Context, orgID, personID int64) (CentreLedger, error) {
	l := CentreLedger{PersonID: personID}
	rows, err := s.db.Query(ctx, entrySelect+`
		LEFT JOIN courses c ON c.id = coalesce(h.course_id, o.course_id)
		LEFT JOIN practical_sessions ps ON ps.id = coalesce(h.session_id, o.session_id)
		WHERE h.person_id = $1 AND coalesce(c.organisation_id, ps.organisation_id) = $2
		ORDER BY coalesce(h.corrects_id, h.id), h.id`, personID, orgID)
	if err != nil {
		return l, err
	}
	l.Entries, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) { return scanEntry(r) })
	if err != nil {
		return l, err
	}
	if len(l.Entries) == 0 {
		// Someone enrolled in the centre's course or signed up for its session has an empty ledger
		// there; anyone else is a stranger.
		var known bool
		if err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM enrolments e JOIN courses c ON c.id = e.course_id WHERE e.person_id = $1 AND c.organisation_id = $2)
			OR EXISTS (SELECT 1 FROM session_signups su JOIN practical_sessions ps ON ps.id = su.session_id WHERE su.person_id = $1 AND ps.organisation_id = $2)`,
			personID, orgID).Scan(&known); err != nil {
			return l, err
		}
		if !known {
			return l, ErrEntryNotFound
		}
	}
	for _, e := range l.Entries {
		l.Total += e.Hours
	}
	names, err := s.opts.Directory.Names(ctx, []int64{personID})
	if err != nil {
		return l, err
	}
	name, ok := names[personID]
	if !ok {
		return l, ErrEntryNotFound
	}
	l.PersonName = name
	return l, nil
}
