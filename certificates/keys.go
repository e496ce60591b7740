package certificates

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/jackc/pgx/v5"

	"shanyu/internal/pg"
)

// Key statuses: the active key signs; retired keys only verify.
const (
	KeyActive  = "active"
	KeyRetired = "retired"
)

// KeyInfo describes a stored signing key without its private half.
type KeyInfo struct {
	ID        string
	Algorithm string
	Public    ed25519.PublicKey
	Status    string
	CreatedAt time.Time
	RetiredAt time.Time // zero while active
}

// EnsureSigningKey makes sure an active Ed25519 signing key exists, creating the first one when there
// is none. created says whether it did; running it again changes nothing.
func EnsureSigningKey(ctx context.Context, db pg.DB, secret []byte) (key KeyInfo, created bool, err error) {
	err = pg.WithTx(ctx, db, func(tx pgx.Tx) error {
		if err := lockKeys(ctx, tx); err != nil {
			return err
		}
		key, err = activeKey(ctx, tx)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrNoActiveKey) {
			return err
		}
		key, err = insertKey(ctx, tx, secret)
		created = err == nil
		return err
	})
	return key, created, err
}

// RotateKey creates a new active key and retires the one before it, which stays published so that
// what it signed still verifies. It also works when there is no key yet.
func RotateKey(ctx context.Context, db pg.DB, secret []byte) (KeyInfo, error) {
	var key KeyInfo
	err := pg.WithTx(ctx, db, func(tx pgx.Tx) error {
		if err := lockKeys(ctx, tx); err != nil {
			return err
		}
		var sm2Active bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM certificate_signing_keys WHERE status = 'active' AND algorithm = 'SM2')`).Scan(&sm2Active); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE certificate_signing_keys SET status = 'retired', retired_at = now() WHERE status = 'active'`); err != nil {
			return fmt.Errorf("retire key: %w", err)
		}
		var err error
		if key, err = insertKey(ctx, tx, secret); err != nil || !sm2Active {
			return err
		}
		_, err = insertSM2Key(ctx, tx, secret) // an SM2 token key in use is rotated too
		return err
	})
	return key, err
}

// EnsureTokenKey makes sure an active key of the token algorithm (AlgEdDSA or AlgSM2, from
// SHANYU_TOKEN_ALG) exists, creating it when there is none.
func EnsureTokenKey(ctx context.Context, db pg.DB, secret []byte, alg string) (key KeyInfo, created bool, err error) {
	switch alg {
	case "", AlgEdDSA:
		return EnsureSigningKey(ctx, db, secret)
	case AlgSM2:
	default:
		return KeyInfo{}, false, fmt.Errorf("token algorithm %q: EdDSA or SM2", alg)
	}
	err = pg.WithTx(ctx, db, func(tx pgx.Tx) error {
		if err := lockKeys(ctx, tx); err != nil {
			return err
		}
		key, err = scanKey(tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM certificate_signing_keys WHERE status = 'active' AND algorithm = 'SM2'`))
		if err == nil || !pg.IsNoRows(err) {
			return err
		}
		key, err = insertSM2Key(ctx, tx, secret)
		created = err == nil
		return err
	})
	return key, created, err
}

func insertSM2Key(ctx context.Context, tx pgx.Tx, secret []byte) (KeyInfo, error) {
	priv, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return KeyInfo{}, err
	}
	pub := sm2PublicBytes(&priv.PublicKey)
	kid := sm2KeyID(pub)
	enc, err := seal(secret, priv.D.FillBytes(make([]byte, 32)), []byte(kid))
	if err != nil {
		return KeyInfo{}, err
	}
	k := KeyInfo{ID: kid, Algorithm: AlgSM2, Public: pub, Status: KeyActive}
	err = tx.QueryRow(ctx, `INSERT INTO certificate_signing_keys (kid, algorithm, public_key, private_key_enc, status)
		VALUES ($1, 'SM2', $2, $3, 'active') RETURNING created_at`, kid, pub, enc).Scan(&k.CreatedAt)
	if err != nil {
		return KeyInfo{}, fmt.Errorf("insert SM2 signing key: %w", err)
	}
	return k, nil
}

// TokenSigner loads the active key of the token algorithm, decrypted, for signing QR tokens.
func TokenSigner(ctx context.Context, db pg.DB, secret []byte, alg string) (*Signer, error) {
	if alg == "" || alg == AlgEdDSA {
		return ActiveSigner(ctx, db, secret)
	}
	var kid string
	var pub, enc []byte
	err := db.QueryRow(ctx, `SELECT kid, public_key, private_key_enc FROM certificate_signing_keys WHERE status = 'active' AND algorithm = 'SM2'`).
		Scan(&kid, &pub, &enc)
	if pg.IsNoRows(err) {
		return nil, ErrNoActiveKey
	}
	if err != nil {
		return nil, fmt.Errorf("load SM2 signing key: %w", err)
	}
	d, err := unseal(secret, enc, []byte(kid))
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", kid, err)
	}
	priv, err := sm2PrivateKey(d)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(sm2PublicBytes(&priv.PublicKey), pub) {
		return nil, fmt.Errorf("signing key %s: private key does not match public key", kid)
	}
	return NewSM2Signer(priv), nil
}

// lockKeys serialises key creation and rotation across processes; readers are not blocked.
func lockKeys(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `LOCK TABLE certificate_signing_keys IN SHARE ROW EXCLUSIVE MODE`)
	return err
}

func insertKey(ctx context.Context, tx pgx.Tx, secret []byte) (KeyInfo, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return KeyInfo{}, err
	}
	kid := KeyID(pub)
	enc, err := seal(secret, priv.Seed(), []byte(kid))
	if err != nil {
		return KeyInfo{}, err
	}
	k := KeyInfo{ID: kid, Algorithm: "EdDSA", Public: pub, Status: KeyActive}
	err = tx.QueryRow(ctx, `INSERT INTO certificate_signing_keys (kid, public_key, private_key_enc, status)
		VALUES ($1, $2, $3, 'active') RETURNING created_at`, kid, []byte(pub), enc).Scan(&k.CreatedAt)
	if err != nil {
		return KeyInfo{}, fmt.Errorf("insert signing key: %w", err)
	}
	return k, nil
}

const keyColumns = `kid, algorithm, public_key, status, created_at, retired_at`

func scanKey(row pgx.Row) (KeyInfo, error) {
	var k KeyInfo
	var pub []byte
	var retired *time.Time
	if err := row.Scan(&k.ID, &k.Algorithm, &pub, &k.Status, &k.CreatedAt, &retired); err != nil {
		return KeyInfo{}, err
	}
	k.Public = ed25519.PublicKey(pub)
	if retired != nil {
		k.RetiredAt = *retired
	}
	return k, nil
}

func activeKey(ctx context.Context, db pg.DB) (KeyInfo, error) {
	k, err := scanKey(db.QueryRow(ctx, `SELECT `+keyColumns+` FROM certificate_signing_keys WHERE status = 'active' AND algorithm = 'EdDSA'`))
	if pg.IsNoRows(err) {
		return KeyInfo{}, ErrNoActiveKey
	}
	return k, err
}

// ListKeys returns every signing key, newest first.
func ListKeys(ctx context.Context, db pg.DB) ([]KeyInfo, error) {
	rows, err := db.Query(ctx, `SELECT `+keyColumns+` FROM certificate_signing_keys ORDER BY created_at DESC, kid`)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (KeyInfo, error) { return scanKey(r) })
}

// JWKS returns every public signing key, active and retired, as a JWK Set.
func JWKS(ctx context.Context, db pg.DB) (JWKSet, error) {
	keys, err := ListKeys(ctx, db)
	if err != nil {
		return JWKSet{}, err
	}
	set := JWKSet{Keys: make([]JWK, 0, len(keys))}
	for _, k := range keys {
		if k.Algorithm == AlgSM2 {
			set.Keys = append(set.Keys, sm2JWK(k.ID, k.Public))
			continue
		}
		set.Keys = append(set.Keys, publicJWK(k.ID, k.Public))
	}
	return set, nil
}

// ActiveSigner loads the active key, decrypted, for signing. Callers may keep it for a while: after a
// rotation, what an old signer signs still verifies, since retired keys stay published.
func ActiveSigner(ctx context.Context, db pg.DB, secret []byte) (*Signer, error) {
	var kid string
	var pub, enc []byte
	err := db.QueryRow(ctx, `SELECT kid, public_key, private_key_enc FROM certificate_signing_keys WHERE status = 'active' AND algorithm = 'EdDSA'`).
		Scan(&kid, &pub, &enc)
	if pg.IsNoRows(err) {
		return nil, ErrNoActiveKey
	}
	if err != nil {
		return nil, fmt.Errorf("load signing key: %w", err)
	}
	seed, err := unseal(secret, enc, []byte(kid))
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", kid, err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("signing key %s: bad seed length", kid)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	if !priv.Public().(ed25519.PublicKey).Equal(ed25519.PublicKey(pub)) {
		return nil, fmt.Errorf("signing key %s: private key does not match public key", kid)
	}
	return &Signer{kid: kid, alg: AlgEdDSA, key: priv}, nil
}
