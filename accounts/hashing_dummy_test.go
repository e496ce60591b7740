package accounts

import (
	"testing"

	"github.com/alexedwards/argon2id"
)

// TestDummyHashHasTheLiveParameters: a login naming no user is compared against dummyHash, which must
// cost what a real user's hash costs (OWASP ASVS 5.0 V6: no account enumeration by timing).
func TestDummyHashHasTheLiveParameters(t *testing.T) {
	p, _, _, err := argon2id.DecodeHash(dummyHash)
	if err != nil {
		t.Fatal(err)
	}
	if p.Memory != argonParams.Memory || p.Iterations != argonParams.Iterations || p.Parallelism != argonParams.Parallelism || p.KeyLength != argonParams.KeyLength {
		t.Fatalf("dummyHash params %+v, live %+v", *p, *argonParams)
	}
}
