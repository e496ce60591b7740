package audits

import (
	"context"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/pg"
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

// InspectionPlace finds an inspection's institution and whether userID is one of its inspectors,
// for the server's scope guard.
func (s *Service) InspectionPlace(ctx context.Context, inspectionID, userID int64) (institutionID int64, assigned bool, err error) {
	err = s.db.QueryRow(ctx, `SELECT i.organisation_id, EXISTS (SELECT 1 FROM audit_inspection_inspectors a WHERE a.inspection_id = i.id AND a.user_id = $2)
		FROM audit_inspections i WHERE i.id = $1`, inspectionID, userID).Scan(&institutionID, &assigned)
	if pg.IsNoRows(err) {
		return 0, false, ErrNotFound
	}
	return institutionID, assigned, err
}

// RelatedPeople lists the people with a relationship in this domain (a place on their roster) with any of the
// organisations: the server lists them, holding no grant, to those organisations' administrators.
func (s *Service) RelatedPeople(ctx context.Context, orgIDs []int64) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT DISTINCT r.person_id FROM audit_roster r WHERE r.organisation_id = ANY($1::bigint[])`, orgIDs)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
