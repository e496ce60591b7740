package pgtest

import (
	"testing"

	"github.com/alexedwards/argon2id"
)

// A test-cost hash verifies its password and no other, is recognised as test-cost, and a hash at
// the product's parameters (64 MiB, one pass, one lane) is not.
func TestTestHash(t *testing.T) {
	t.Parallel()
	h, err := TestHash("shanyu-demo")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := argon2id.ComparePasswordAndHash("shanyu-demo", h); !ok || err != nil {
		t.Errorf("the password does not verify against %q: %v", h, err)
	}
	if ok, _ := argon2id.ComparePasswordAndHash("shanyu-demo2", h); ok {
		t.Errorf("another password verifies against %q", h)
	}
	if !IsTestHash(h) {
		t.Errorf("%q is not recognised as test-cost", h)
	}
	full, err := argon2id.CreateHash("shanyu-demo", &argon2id.Params{Memory: 64 * 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	if err != nil {
		t.Fatal(err)
	}
	if IsTestHash(full) {
		t.Errorf("a product-cost hash is taken for a test-cost one")
	}
}
