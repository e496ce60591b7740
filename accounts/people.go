package accounts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// EnsurePerson finds the person with this citizen ID number (PersonByIDNumber: the person a centre's
// check bound it to, else the organisations' record of it) or records them, without a user account:
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
			id, err = s.insertPerson(ctx, tx, name, phone, idNumber, false)
			return err
		})
		// Someone recorded the same person meanwhile: find them on the next pass.
		if errors.Is(err, ErrPersonExists) && attempt == 0 {
			continue
		}
		return id, err
	}
}

// Errors of identity checks and ID number claims.
var (
	// ErrNoIDNumber refuses to verify the identity of a person with no citizen ID number on file:
	// there is nothing to compare the document with.
	ErrNoIDNumber = failure.New(failure.Conflict, "accounts.identity_no_id_number")
	// ErrIDNumberBound refuses a check of a number a centre already bound to another person: staff
	// see it (the claimant never does, so sign-up reveals nothing).
	ErrIDNumberBound = failure.New(failure.Conflict, "accounts.identity_bound_elsewhere")
	// ErrIdentityFixed refuses to change the ID number of a person whose card a centre checked.
	ErrIdentityFixed = failure.New(failure.Conflict, "accounts.identity_fixed")
)

// Identity is whether a person's identity was verified, by whom and when, and whether they hold an
// ID number at all.
type Identity struct {
	PersonID   int64      `json:"person_id"`
	Verified   bool       `json:"verified"`
	VerifiedAt *time.Time `json:"verified_at,omitempty"`
	VerifiedBy int64      `json:"verified_by,omitempty"` // a user id
	// HasIDNumber: an ID number (claimed or bound) is on file.
	HasIDNumber bool `json:"has_id_number"`
	// ClaimDropped: a centre bound the number this person had claimed to someone else, and this
	// person's own card has not been checked since. They hold their hours, and may take part in
	// exams only once a centre checked their own card.
	ClaimDropped bool `json:"claim_dropped,omitempty"`
}

// VerifyIdentity records that byUserID checked the person's ID document against the citizen ID
// number on file, binding the number to this person: every other account's claim of the same number
// is dropped (the accounts keep their hours but hold no ID number) and each drop is audited.
// Verifying again keeps the first verification: it is the fact that matters, and the audit log keeps
// every check. A number already bound to another person is refused (ErrIDNumberBound).
func (s *Service) VerifyIdentity(ctx context.Context, personID, byUserID int64) error {
	var hash []byte
	err := s.db.QueryRow(ctx, `SELECT id_number_hash FROM people WHERE id = $1`, personID).Scan(&hash)
	if pg.IsNoRows(err) {
		return ErrUserNotFound
	}
	if err != nil {
		return err
	}
	if hash == nil {
		return ErrNoIDNumber
	}
	return s.sessionsTx(ctx, func(tx pgx.Tx) error {
		// Every holder of the number, locked in ascending id (docs/architecture.md, one lock order),
		// so two checks of two claimants of one number take turns.
		rows, err := tx.Query(ctx, `SELECT id, identity_verified_at IS NOT NULL, id_claimed FROM people
			WHERE id_number_hash = $1 OR id = $2 ORDER BY id FOR UPDATE`, hash, personID)
		if err != nil {
			return err
		}
		type holder struct {
			id              int64
			verified, claim bool
		}
		var holders []holder
		for rows.Next() {
			var h holder
			if err := rows.Scan(&h.id, &h.verified, &h.claim); err != nil {
				rows.Close()
				return err
			}
			holders = append(holders, h)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var self *holder
		var dropped []int64
		for i, h := range holders {
			switch {
			case h.id == personID:
				self = &holders[i]
			case h.verified:
				return ErrIDNumberBound
			case h.claim:
				dropped = append(dropped, h.id)
			}
		}
		// Re-read under the lock: the person's number may have changed since it was read.
		var now []byte
		if err := tx.QueryRow(ctx, `SELECT id_number_hash FROM people WHERE id = $1`, personID).Scan(&now); err != nil {
			return err
		}
		if self == nil || !bytes.Equal(now, hash) {
			return ErrNoIDNumber.Wrap(errors.New("the ID number changed during the check"))
		}
		if !self.verified {
			if _, err := tx.Exec(ctx, `UPDATE people SET identity_verified_at = now(), identity_verified_by = $2 WHERE id = $1`,
				personID, byUserID); err != nil {
				return fmt.Errorf("verify identity: %w", err)
			}
		}
		if len(dropped) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE people SET id_number_enc = NULL, id_number_hash = NULL, id_last4 = '', birth_date = NULL,
				gender = NULL, id_claim_dropped_at = now() WHERE id = ANY($1)`, dropped); err != nil {
				return fmt.Errorf("drop other claims: %w", err)
			}
		}
		subject := fmt.Sprintf("person:%d", personID)
		for _, id := range dropped {
			if err := Audit(ctx, tx, Event{ActorID: byUserID, Action: "person.id_number.claim_dropped", Subject: fmt.Sprintf("person:%d", id),
				Details: map[string]any{"bound_to": subject}}); err != nil {
				return err
			}
		}
		return Audit(ctx, tx, Event{ActorID: byUserID, Action: "person.identity.verify", Subject: subject,
			Details: map[string]any{"already": self.verified, "claims_dropped": len(dropped)}})
	})
}

// ClaimIDNumber sets the ID number of the user's own person, as a claim: a learner whose earlier claim
// was dropped enters their own number, or one corrects a mistyped number before any check. It is
// refused once a centre checked the card (ErrIdentityFixed). Like sign-up, the answer does not
// depend on whether anyone else claims or holds the number.
func (s *Service) ClaimIDNumber(ctx context.Context, userID int64, idNumber string) error {
	idNumber = NormaliseCitizenID(idNumber)
	if !ValidCitizenID(idNumber) {
		return failure.Field("id_number", "accounts.id_number_invalid")
	}
	v := s.sealID(idNumber)
	return s.sessionsTx(ctx, func(tx pgx.Tx) error {
		var personID int64
		var verified bool
		err := tx.QueryRow(ctx, `SELECT p.id, p.identity_verified_at IS NOT NULL FROM users u JOIN people p ON p.id = u.person_id
			WHERE u.id = $1 FOR UPDATE OF p`, userID).Scan(&personID, &verified)
		if pg.IsNoRows(err) {
			return ErrUserNotFound
		}
		if err != nil {
			return err
		}
		if verified {
			return ErrIdentityFixed
		}
		if _, err := tx.Exec(ctx, `UPDATE people SET id_number_enc = $2, id_number_hash = $3, id_last4 = $4, birth_date = $5, gender = $6,
			id_claimed = true WHERE id = $1`, personID, v.enc, v.hash, v.last4, v.birth, v.gender); err != nil {
			return fmt.Errorf("claim ID number: %w", err)
		}
		return Audit(ctx, tx, Event{ActorID: userID, Action: "person.id_number.claim", Subject: fmt.Sprintf("person:%d", personID)})
	})
}

// Identities tells, for each of the people, whether their identity is verified; people not found
// are absent from the map.
func (s *Service) Identities(ctx context.Context, personIDs []int64) (map[int64]Identity, error) {
	rows, err := s.db.Query(ctx, identitiesQuery, personIDs)
	if err != nil {
		return nil, err
	}
	return scanIdentities(rows, len(personIDs))
}

const identitiesQuery = `SELECT id, identity_verified_at, coalesce(identity_verified_by, 0), id_number_hash IS NOT NULL,
	id_claim_dropped_at IS NOT NULL AND identity_verified_at IS NULL FROM people WHERE id = ANY($1)`

func scanIdentities(rows pgx.Rows, n int) (map[int64]Identity, error) {
	defer rows.Close()
	out := make(map[int64]Identity, n)
	for rows.Next() {
		var v Identity
		if err := rows.Scan(&v.PersonID, &v.VerifiedAt, &v.VerifiedBy, &v.HasIDNumber, &v.ClaimDropped); err != nil {
			return nil, err
		}
		v.Verified = v.VerifiedAt != nil
		out[v.PersonID] = v
	}
	return out, rows.Err()
}

// QueueIdentities is Identities queued on b, for a caller that sends it with statements of its own
// in one round trip (the exam start's transaction); out is given the people found when b's results
// are read.
func (s *Service) QueueIdentities(b *pgx.Batch, personIDs []int64, out map[int64]Identity) {
	b.Queue(identitiesQuery, personIDs).Query(func(rows pgx.Rows) error {
		m, err := scanIdentities(rows, len(personIDs))
		for id, v := range m {
			out[id] = v
		}
		return err
	})
}

// IdentityVerified reports whether one person's identity is verified.
func (s *Service) IdentityVerified(ctx context.Context, personID int64) (bool, error) {
	m, err := s.Identities(ctx, []int64{personID})
	return m[personID].Verified, err
}
