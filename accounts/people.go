package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

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

// ErrNoIDNumber refuses to verify the identity of a person with no citizen ID number on file: there
// is nothing to compare the document with.
var ErrNoIDNumber = failure.New(failure.Conflict, "accounts.identity_no_id_number")

// Identity is whether a person's identity was verified, by whom and when.
type Identity struct {
	PersonID   int64      `json:"person_id"`
	Verified   bool       `json:"verified"`
	VerifiedAt *time.Time `json:"verified_at,omitempty"`
	VerifiedBy int64      `json:"verified_by,omitempty"` // a user id
}

// VerifyIdentity records that byUserID checked the person's ID document against the citizen ID
// number on file. Verifying again keeps the first verification: it is the fact that matters, and
// the audit log keeps every check.
func (s *Service) VerifyIdentity(ctx context.Context, personID, byUserID int64) error {
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		var hasID, already bool
		err := tx.QueryRow(ctx, `SELECT id_number_hash IS NOT NULL, identity_verified_at IS NOT NULL FROM people WHERE id = $1 FOR UPDATE`,
			personID).Scan(&hasID, &already)
		if pg.IsNoRows(err) {
			return ErrUserNotFound
		}
		if err != nil {
			return err
		}
		if !hasID {
			return ErrNoIDNumber
		}
		if !already {
			if _, err := tx.Exec(ctx, `UPDATE people SET identity_verified_at = now(), identity_verified_by = $2 WHERE id = $1`,
				personID, byUserID); err != nil {
				return fmt.Errorf("verify identity: %w", err)
			}
		}
		return Audit(ctx, tx, Event{ActorID: byUserID, Action: "person.identity.verify", Subject: fmt.Sprintf("person:%d", personID),
			Details: map[string]any{"already": already}})
	})
}

// Identities tells, for each of the people, whether their identity is verified; people not found
// are absent from the map.
func (s *Service) Identities(ctx context.Context, personIDs []int64) (map[int64]Identity, error) {
	rows, err := s.db.Query(ctx, `SELECT id, identity_verified_at, coalesce(identity_verified_by, 0) FROM people WHERE id = ANY($1)`, personIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]Identity, len(personIDs))
	for rows.Next() {
		var v Identity
		if err := rows.Scan(&v.PersonID, &v.VerifiedAt, &v.VerifiedBy); err != nil {
			rows.Close()
			return nil, err
		}
		v.Verified = v.VerifiedAt != nil
		out[v.PersonID] = v
	}
	return out, rows.Err()
}

// IdentityVerified reports whether one person's identity is verified.
func (s *Service) IdentityVerified(ctx context.Context, personID int64) (bool, error) {
	m, err := s.Identities(ctx, []int64{personID})
	return m[personID].Verified, err
}
