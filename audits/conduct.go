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
	err := s.db.QueryRow(ctx, conductQuery, personID, day(on)).Scan(&c.Barred, &c.RecordFound)
	if err != nil {
		return Conduct{}, fmt.Errorf("conduct of person %d: %w", personID, err)
	}
	return c, nil
}

// QueueConductOf is ConductOf queued on b, for a caller that sends it with statements of its own in
// one round trip (the exam start's transaction); done is given the answer when b's results are read.
func (s *Service) QueueConductOf(b *pgx.Batch, personID int64, on time.Time, done func(Conduct)) {
	b.Queue(conductQuery, personID, day(on)).QueryRow(func(row pgx.Row) error {
		var c Conduct
		if err := row.Scan(&c.Barred, &c.RecordFound); err != nil {
			return fmt.Errorf("conduct of person %d: %w", personID, err)
		}
		done(c)
		return nil
	})
}

const conductQuery = `SELECT
		EXISTS (SELECT 1 FROM audit_barred_persons WHERE person_id = $1 AND starts_on <= $2 AND (ends_on IS NULL OR ends_on >= $2)),
		EXISTS (SELECT 1 FROM (SELECT DISTINCT ON (c.roster_id, c.kind) c.result FROM audit_background_checks c
				JOIN audit_roster r ON r.id = c.roster_id
				WHERE r.person_id = $1 AND c.kind IN ('no_criminal_record', 'employment_ban') AND c.checked_on <= $2
				ORDER BY c.roster_id, c.kind, c.checked_on DESC, c.id DESC) latest WHERE latest.result = 'record_found')`
