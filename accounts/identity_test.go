package accounts

import (
	"context"
	"errors"
	"testing"
)

func TestVerifyIdentityRecordsWhoAndWhenAndIsAudited(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	staff, err := s.CreateUser(ctx, 0, CreateUserInput{Username: "staff.id", Name: "王审核", Password: "long-enough-pw"})
	if err != nil {
		t.Fatal(err)
	}
	withID, err := s.EnsurePerson(ctx, "陈考生", "", "33010619880301901X")
	if err != nil {
		t.Fatal(err)
	}
	var noID int64
	if err := s.db.QueryRow(ctx, `INSERT INTO people (name) VALUES ('无证件') RETURNING id`).Scan(&noID); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.IdentityVerified(ctx, withID); err != nil || ok {
		t.Fatalf("before: verified = %v, %v; want false", ok, err)
	}
	if err := s.VerifyIdentity(ctx, noID, staff.ID); !errors.Is(err, ErrNoIDNumber) {
		t.Fatalf("verify without an ID number: %v, want ErrNoIDNumber", err)
	}
	if err := s.VerifyIdentity(ctx, 1<<40, staff.ID); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("verify unknown person: %v, want ErrUserNotFound", err)
	}
	if err := s.VerifyIdentity(ctx, withID, staff.ID); err != nil {
		t.Fatal(err)
	}
	m, err := s.Identities(ctx, []int64{withID, noID})
	if err != nil {
		t.Fatal(err)
	}
	got := m[withID]
	if !got.Verified || got.VerifiedBy != staff.ID || got.VerifiedAt == nil {
		t.Fatalf("after: %+v, want verified by %d with a time", got, staff.ID)
	}
	if m[noID].Verified {
		t.Fatal("the person without an ID number is verified")
	}
	// Verifying again keeps the first check and is audited again.
	first := *got.VerifiedAt
	if err := s.VerifyIdentity(ctx, withID, staff.ID); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Identities(ctx, []int64{withID}); !again[withID].VerifiedAt.Equal(first) {
		t.Fatalf("second verification moved the time: %v → %v", first, again[withID].VerifiedAt)
	}
	var n int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'person.identity.verify' AND actor_id = $1`, staff.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("audit events = %d, want 2", n)
	}
	if _, err := VerifyAudit(ctx, s.db); err != nil {
		t.Fatalf("audit chain: %v", err)
	}
}
