package audits

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Conduct is what the conduct records say about a person on a day: an employment bar (从业禁止) in
// force, or a record found by the latest background check of a kind that bars (no criminal record,
// employment ban) at any institution.
type Conduct struct {
	Barred      bool
	RecordFound bool
}

// Clear reports whether nothing in the conduct records stands against the person.
func (c Conduct) Clear() bool { return !c.Barred && !c.RecordFound }

// ConductOf reads a person's conduct records as of a day, for other domains (exams asks it at every
// gate of an exam session, through app/).
func (s *Service) ConductOf(ctx context.Context, personID int64, on time.Time) (Conduct, error) {
	var c Conduct
	err := s.db.QueryRow(ctx, conductQuery, []int64{personID}, day(on)).Scan(new(int64), &c.Barred, &c.RecordFound)
	if err != nil {
		return Conduct{}, fmt.Errorf("conduct of person %d: %w", personID, err)
	}
	return c, nil
}

// QueueConductOf is ConductOf of several people queued on b, for a caller that sends it with
// statements of its own in one round trip (the exam start's transaction, which starts a sitting's
// candidates together); done is given each person's answer when b's results are read.
func (s *Service) QueueConductOf(b *pgx.Batch, personIDs []int64, on time.Time, done func(personID int64, c Conduct)) {
	b.Queue(conductQuery, personIDs, day(on)).Query(func(rows pgx.Rows) error {
		var id int64
		var c Conduct
		_, err := pgx.ForEachRow(rows, []any{&id, &c.Barred, &c.RecordFound}, func() error {
			done(id, c)
			return nil
		})
		if err != nil {
			return fmt.Errorf("conduct of %d people: %w", len(personIDs), err)
		}
		return nil
	})
}

const conductQuery = `SELECT p.id,
		EXISTS (SELECT 1 FROM audit_barred_persons WHERE person_id = p.id AND starts_on <= $2 AND (ends_on IS NULL OR ends_on >= $2)),
		EXISTS (SELECT 1 FROM (SELECT DISTINCT ON (c.roster_id, c.kind) c.result FROM audit_background_checks c
				JOIN audit_roster r ON r.id = c.roster_id
				WHERE r.person_id = p.id AND c.kind IN ('no_criminal_record', 'employment_ban') AND c.checked_on <= $2
				ORDER BY c.roster_id, c.kind, c.checked_on DESC, c.id DESC) latest WHERE latest.result = 'record_found')
	FROM unnest($1::bigint[]) AS p(id)`
