package pgtest

import (
	"context"
	"fmt"
	"sync"

	"github.com/alexedwards/argon2id"

	"shanyu/internal/pg"
)

// testHashParams is the argon2id cost of fixture passwords: 1 MiB and one pass, a sixty-fourth of
// the product's 64 MiB (accounts.argonParams). Under -race one product hash takes about 0.37 s of
// CPU, and the tests sign fixture users in a few hundred times; at this cost a sign-in takes a few
// milliseconds. The product reads a hash's parameters from its stored form (PHC string), so these
// verify like any other; it never writes them (accounts' TestStoredHashesHaveTheProductsCost, and
// this package is never linked into the product: cmd/shanyu's TestProductLinksNoTestSupport).
var testHashParams = &argon2id.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

var testHashes sync.Map // password → stored form at testHashParams

// TestHash returns a stored form of pw at the test cost (one per password and test binary).
func TestHash(pw string) (string, error) {
	if h, ok := testHashes.Load(pw); ok {
		return h.(string), nil
	}
	h, err := argon2id.CreateHash(pw, testHashParams)
	if err != nil {
		return "", err
	}
	v, _ := testHashes.LoadOrStore(pw, h)
	return v.(string), nil
}

// IsTestHash reports whether a stored hash has the test cost.
func IsTestHash(stored string) bool {
	p, _, _, err := argon2id.DecodeHash(stored)
	return err == nil && *p == *testHashParams
}

// UseTestHashes stores pw at the test cost for every user of db, for a fixture all of whose users
// have that password (the demo seeds give every account accounts.DemoPassword); it returns how
// many users it changed. A fixture user with another password would no longer sign in, which fails
// the test that tries rather than passing it.
func UseTestHashes(ctx context.Context, db pg.DB, pw string) (int64, error) {
	h, err := TestHash(pw)
	if err != nil {
		return 0, err
	}
	tag, err := db.Exec(ctx, `UPDATE users SET password_hash = $1 WHERE password_hash <> $1`, h)
	if err != nil {
		return 0, fmt.Errorf("pgtest: test-cost hashes: %w", err)
	}
	return tag.RowsAffected(), nil
}
