package exams

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/accounts"
)

// fakeIdentities is an IdentitySource whose verified people a test names explicitly.
type fakeIdentities struct {
	mu       sync.Mutex
	verified map[int64]bool
	dropped  map[int64]bool // the person's claimed ID number was bound to someone else
	hasID    map[int64]bool // with dropped: they entered their own number since
}

func (f *fakeIdentities) verify(person int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.verified == nil {
		f.verified = map[int64]bool{}
	}
	f.verified[person] = true
}

func (f *fakeIdentities) Identities(_ context.Context, people []int64) (map[int64]accounts.Identity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int64]accounts.Identity{}
	for _, p := range people {
		out[p] = accounts.Identity{PersonID: p, Verified: f.verified[p], ClaimDropped: f.dropped[p] && !f.verified[p],
			HasIDNumber: !f.dropped[p] || f.hasID[p]}
	}
	return out, nil
}

func (f *fakeIdentities) QueueIdentities(b *pgx.Batch, people []int64, out map[int64]accounts.Identity) {
	m, _ := f.Identities(context.Background(), people)
	b.Queue(`SELECT unnest($1::bigint[])`, people).Query(func(rows pgx.Rows) error {
		var p int64
		_, err := pgx.ForEachRow(rows, []any{&p}, func() error { out[p] = m[p]; return nil })
		return err
	})
}

func TestApprovalRequiresVerifiedIdentity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, fixtureOpts{})
	if !f.session.RequiresIdentity() {
		t.Fatal("a new session does not require a verified identity by default")
	}
	var person int64
	if err := f.pool.QueryRow(ctx, `INSERT INTO people (name) VALUES ('未核验') RETURNING id`).Scan(&person); err != nil {
		t.Fatal(err)
	}
	// An unverified person may register (online, before showing the ID card at the centre), and
	// appears on the list as unverified; approval is what needs the verified identity.
	r, err := f.svc.Register(ctx, f.session.ID, person)
	if err != nil {
		t.Fatalf("unverified person cannot register: %v", err)
	}
	list, err := f.svc.Registrations(ctx, f.session.ID)
	if err != nil || len(list) != 1 || list[0].IdentityVerified {
		t.Fatalf("registrations = %+v, %v; want one, unverified", list, err)
	}
	if err := f.svc.Decide(ctx, 0, r.ID, true, 0); !errors.Is(err, ErrIdentityUnverified) {
		t.Fatalf("approve unverified: %v, want ErrIdentityUnverified", err)
	}
	if err := f.svc.Decide(ctx, 0, r.ID, false, 0); err != nil {
		t.Fatalf("reject unverified: %v", err)
	}
	f.ids.verify(person)
	if err := f.svc.Decide(ctx, 0, r.ID, true, 0); err != nil {
		t.Fatalf("approve verified: %v", err)
	}
}

func TestSessionWithoutIdentityRequirement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, fixtureOpts{})
	off := false
	now := f.clock.now()
	x, err := f.svc.CreateSession(ctx, 0, Session{CentreID: f.centre, BlueprintID: f.session.BlueprintID, Name: "不核验批次",
		OpensAt: now, ClosesAt: now.Add(3 * time.Hour), LatestStartAt: now.Add(time.Hour), Duration: time.Hour,
		TheoryPass: DefaultTheoryPass, PracticalPass: DefaultPracticalPass, RequireVerifiedIdentity: &off})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.GetSession(ctx, x.ID)
	if err != nil || got.RequiresIdentity() {
		t.Fatalf("stored session requires identity = %v (%v), want false", got.RequiresIdentity(), err)
	}
	var person int64
	if err := f.pool.QueryRow(ctx, `INSERT INTO people (name) VALUES ('未核验') RETURNING id`).Scan(&person); err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.Register(ctx, x.ID, person)
	if err != nil {
		t.Fatalf("register without requirement: %v", err)
	}
	if err := f.svc.Decide(ctx, 0, r.ID, true, 0); err != nil {
		t.Fatalf("approve without requirement: %v", err)
	}
}

// A person whose claimed ID number a centre bound to someone else (issue #14 item 4) cannot register
// while they hold no number, and once they entered their own they are approved only after a check
// of their card, even for a session that does not require one.
func TestDroppedClaimantRegistersOnlyWithOwnNumberAndIsApprovedOnlyWhenChecked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, fixtureOpts{})
	off := false
	now := f.clock.now()
	x, err := f.svc.CreateSession(ctx, 0, Session{CentreID: f.centre, BlueprintID: f.session.BlueprintID, Name: "不核验批次",
		OpensAt: now, ClosesAt: now.Add(3 * time.Hour), LatestStartAt: now.Add(time.Hour), Duration: time.Hour,
		TheoryPass: DefaultTheoryPass, PracticalPass: DefaultPracticalPass, RequireVerifiedIdentity: &off})
	if err != nil {
		t.Fatal(err)
	}
	var person int64
	if err := f.pool.QueryRow(ctx, `INSERT INTO people (name) VALUES ('被移除') RETURNING id`).Scan(&person); err != nil {
		t.Fatal(err)
	}
	f.ids.mu.Lock()
	f.ids.dropped = map[int64]bool{person: true}
	f.ids.mu.Unlock()
	if _, err := f.svc.Register(ctx, x.ID, person); !errors.Is(err, ErrIDNumberDropped) {
		t.Fatalf("register holding no number after the drop: %v, want ErrIDNumberDropped", err)
	}
	f.ids.mu.Lock()
	f.ids.hasID = map[int64]bool{person: true}
	f.ids.mu.Unlock()
	r, err := f.svc.Register(ctx, x.ID, person)
	if err != nil {
		t.Fatalf("register with their own number: %v", err)
	}
	if err := f.svc.Decide(ctx, 0, r.ID, true, 0); !errors.Is(err, ErrIdentityUnverified) {
		t.Fatalf("approve before the check, on a session without the requirement: %v, want ErrIdentityUnverified", err)
	}
	f.ids.verify(person)
	if err := f.svc.Decide(ctx, 0, r.ID, true, 0); err != nil {
		t.Fatalf("approve after the check: %v", err)
	}
}
