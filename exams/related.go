package exams

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// RelatedOrganisations lists the organisations a person has a relationship with in this domain
// (a registration for one of its exam sessions): the server decides from them whose administrators may act on a person
// who holds no grant.
func (s *Service) RelatedOrganisations(ctx context.Context, personID int64) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT DISTINCT x.organisation_id FROM exam_registrations r JOIN exam_sessions x ON x.id = r.session_id WHERE r.person_id = $1`, personID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// SubmitPersonAttempts submits, inside tx (e.g. the transaction disabling the person's account),
// every attempt the person has in progress, with reason (e.g. ByAccountDisabled), and returns how
// many it submitted.
func (s *Service) SubmitPersonAttempts(ctx context.Context, tx pgx.Tx, personID int64, reason string) (int, error) {
	rows, err := tx.Query(ctx, `SELECT id FROM exam_attempts WHERE person_id = $1 AND status = 'active' ORDER BY id`, personID)
	if err != nil {
		return 0, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if _, err := s.submitTx(ctx, tx, id, 0, "", reason); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// RelatedPeople lists the people with a relationship in this domain (a registration for one of their exam sessions) with any of the
// organisations: the server lists them, holding no grant, to those organisations' administrators.
func (s *Service) RelatedPeople(ctx context.Context, orgIDs []int64) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT DISTINCT r.person_id FROM exam_registrations r JOIN exam_sessions x ON x.id = r.session_id WHERE x.organisation_id = ANY($1::bigint[])`, orgIDs)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
