package curriculum

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// RelatedOrganisations lists the organisations a person has a relationship with in this domain
// (an enrolment in one of its courses): the server decides from them whose administrators may act on a person
// who holds no grant.
func (s *Service) RelatedOrganisations(ctx context.Context, personID int64) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT DISTINCT c.organisation_id FROM enrolments e JOIN courses c ON c.id = e.course_id WHERE e.person_id = $1`, personID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
