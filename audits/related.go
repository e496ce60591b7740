package audits

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// RelatedOrganisations lists the organisations a person has a relationship with in this domain
// (a place on its roster): the server decides from them whose administrators may act on a person
// who holds no grant.
func (s *Service) RelatedOrganisations(ctx context.Context, personID int64) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT DISTINCT r.organisation_id FROM audit_roster r WHERE r.person_id = $1`, personID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
