package accounts

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// EnsurePerson finds the person with this citizen ID number or records them, without a user account:
// institutions keep rosters of staff who never sign in. It returns the person's id.
func (s *Service) EnsurePerson(ctx context.Context, name, phone, idNumber string) (int64, error) {
	idNumber = NormaliseCitizenID(idNumber)
	var f failure.Fields
	if !validName(name) {
		f.Add("name", "accounts.name_invalid")
	}
	if !ValidCitizenID(idNumber) {
		f.Add("id_number", "accounts.id_number_invalid")
	}
	if err := f.Err(); err != nil {
		return 0, err
	}
	for attempt := 0; ; attempt++ {
		id, err := s.PersonByIDNumber(ctx, idNumber)
		if !errors.Is(err, ErrUserNotFound) {
			return id, err
		}
		err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
			id, err = s.insertPerson(ctx, tx, name, phone, idNumber)
			return err
		})
		// Someone recorded the same person meanwhile: find them on the next pass.
		if errors.Is(err, ErrPersonExists) && attempt == 0 {
			continue
		}
		return id, err
	}
}
