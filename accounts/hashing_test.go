package accounts

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"shanyu/internal/pgtest"
)

// The budget admits budget ÷ 64 MiB hashes at once; one more waits its queue deadline and gets
// ErrBusy; once the running ones finish, their slots come back (after a collection) and the next
// one runs. OWASP ASVS 5.0 V6.3.1: a sign-in storm is bounded, not fatal.
func TestHasherAdmitsTheBudgetThenQueuesThenRefuses(t *testing.T) {
	t.Parallel()
	h := newHasher(4*hashCost, 50*time.Millisecond)
	release := make(chan struct{})
	var started, done sync.WaitGroup
	for range 4 {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			_ = h.run(context.Background(), func() error { started.Done(); <-release; return nil })
		}()
	}
	started.Wait()
	if err := h.run(context.Background(), func() error { return nil }); !errors.Is(err, ErrBusy) {
		t.Fatalf("a fifth hash with four running: %v, want ErrBusy", err)
	}
	close(release)
	done.Wait()
	h.queue = 2 * time.Second
	t0 := time.Now()
	if err := h.run(context.Background(), func() error { return nil }); err != nil {
		t.Fatalf("after the four finished: %v", err)
	}
	t.Logf("slots came back %v after the four finished", time.Since(t0))
}

// With slots to spare, a hash that finishes alone gets its slot back after collectDelay without
// waiting for a batch to fill: a budget of one slot signs in one user after another.
func TestHasherGivesBackALoneSlot(t *testing.T) {
	t.Parallel()
	h := newHasher(hashCost, 5*time.Second)
	t0 := time.Now()
	for i := range 5 {
		if err := h.run(context.Background(), func() error { return nil }); err != nil {
			t.Fatalf("hash %d: %v", i, err)
		}
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("five hashes one after another through one slot took %v", d)
	}
	h8 := newHasher(8*hashCost, 5*time.Second)
	for i := range 12 { // more than the 8 slots: the lone ones must come back
		if err := h8.run(context.Background(), func() error { return nil }); err != nil {
			t.Fatalf("hash %d of 12 through 8 slots: %v", i, err)
		}
	}
}

// New hashes use the product's parameters (64 MiB, one pass, one lane) and still verify; a hash
// stored with the former two lanes verifies too and is reported as not current.
func TestHashParameters(t *testing.T) {
	t.Parallel()
	h := newHasher(2*hashCost, time.Second)
	stored, err := h.hash(context.Background(), "a password")
	if err != nil {
		t.Fatal(err)
	}
	p, _, _, err := argon2id.DecodeHash(stored)
	if err != nil || p.Memory != 64*1024 || p.Iterations != 1 || p.Parallelism != 1 {
		t.Fatalf("stored %q: %+v %v", stored, p, err)
	}
	if !HashParamsCurrent(stored) {
		t.Errorf("a new hash is not current")
	}
	old, _ := argon2id.CreateHash("a password", &argon2id.Params{Memory: 64 * 1024, Iterations: 1, Parallelism: 2, SaltLength: 16, KeyLength: 32})
	if HashParamsCurrent(old) {
		t.Errorf("a two-lane hash is reported current")
	}
	for _, s := range []string{stored, old} {
		if ok, err := h.compare(context.Background(), "a password", s); !ok || err != nil {
			t.Errorf("compare with %q: %v %v", s, ok, err)
		}
		if ok, _ := h.compare(context.Background(), "another", s); ok {
			t.Errorf("a wrong password matched %q", s)
		}
	}
}

// TestStoredHashesHaveTheProductsCost: whatever writes a password (the demo seed, an account made by
// an administrator, a reset, a change) stores it with the product's parameters, never the cheaper
// ones the test fixtures use (pgtest.UseTestHashes); those exist only in test support code.
func TestStoredHashesHaveTheProductsCost(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	if _, _, err := s.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, 0, CreateUserInput{Username: "cost.check", Name: "成本核对", Password: "cost-check-2024"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ChangePassword(ctx, u.ID, 0, "cost-check-2024", "cost-check-2025"); err != nil {
		t.Fatal(err)
	}
	admin, err := s.UserByUsername(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ResetPassword(ctx, 0, admin.ID, "reset-temporary-2024"); err != nil {
		t.Fatal(err)
	}
	rows, err := s.db.Query(ctx, `SELECT username, password_hash FROM users ORDER BY username`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var name, stored string
		if err := rows.Scan(&name, &stored); err != nil {
			t.Fatal(err)
		}
		n++
		if !HashParamsCurrent(stored) || pgtest.IsTestHash(stored) {
			t.Errorf("%s: stored %q, not at the product's cost", name, stored)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 11 {
		t.Errorf("%d users checked; want the demo's and one more", n)
	}
}
