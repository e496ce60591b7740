package exams

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/failure"
)

// ledger is an HoursSource and a ConductSource whose figures a test corrects as it goes, as the
// curriculum's ledger and the audits' records are corrected in life.
type ledger struct {
	mu     sync.Mutex
	hours  map[int64]float64
	barred map[int64]bool
}

func (l *ledger) set(person int64, hours float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hours[person] = hours
}

func (l *ledger) bar(person int64, barred bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.barred[person] = barred
}

func (l *ledger) CompletedHours(_ context.Context, person int64, _ string, _, _ time.Time) (float64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hours[person], nil
}

func (l *ledger) ConductClear(_ context.Context, person int64, _ time.Time) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.barred[person], nil
}

// The queued forms answer through the start's own batch, as the real sources' statements do, so that
// the tests run the start's one-round-trip path.
func (l *ledger) QueueCompletedHours(b *pgx.Batch, people []int64, occupation string, from, to time.Time, out map[int64]float64) {
	hours := make([]float64, len(people))
	for i, p := range people {
		hours[i], _ = l.CompletedHours(context.Background(), p, occupation, from, to)
	}
	b.Queue(`SELECT unnest($1::bigint[]), unnest($2::float8[])`, people, hours).Query(func(rows pgx.Rows) error {
		var p int64
		var h float64
		_, err := pgx.ForEachRow(rows, []any{&p, &h}, func() error { out[p] = h; return nil })
		return err
	})
}

func (l *ledger) QueueConductClear(b *pgx.Batch, people []int64, on time.Time, out map[int64]bool) {
	clear := make([]bool, len(people))
	for i, p := range people {
		clear[i], _ = l.ConductClear(context.Background(), p, on)
	}
	b.Queue(`SELECT unnest($1::bigint[]), unnest($2::bool[])`, people, clear).Query(func(rows pgx.Rows) error {
		var p int64
		var c bool
		_, err := pgx.ForEachRow(rows, []any{&p, &c}, func() error { out[p] = c; return nil })
		return err
	})
}

func (f *fixture) person(t *testing.T, name string) int64 {
	t.Helper()
	var id int64
	if err := f.pool.QueryRow(context.Background(), `INSERT INTO people (name) VALUES ($1) RETURNING id`, name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// missingHours is the number of hours an ErrNotEligible says are missing.
func missingHours(t *testing.T, err error) float64 {
	t.Helper()
	fe := failure.As(err)
	if !errors.Is(err, ErrNotEligible) || fe == nil || len(fe.Msg.Args) != 3 {
		t.Fatalf("error %v, want ErrNotEligible with done, required and missing hours", err)
	}
	return fe.Msg.Args[2].(float64)
}

// TestEligibilityIsCheckedAtEveryGate: the hours (read from the ledger each time), the conduct
// records and, at approval and start, the verified identity are checked at registration, at
// approval and at start; the refusal says how many hours are missing. A candidate already sitting
// can still take the attempt over.
func TestEligibilityIsCheckedAtEveryGate(t *testing.T) {
	t.Parallel()
	l := &ledger{hours: map[int64]float64{}, barred: map[int64]bool{}}
	f := newFixture(t, fixtureOpts{hours: l, conduct: l, minHours: 5})
	ctx := context.Background()

	// Hours: the case, a ledger corrected from 6.5 down to 4.0 after registering.
	p := f.person(t, "学时更正")
	f.ids.verify(p)
	l.set(p, 3)
	if _, err := f.svc.Register(ctx, f.session.ID, p); missingHours(t, err) != 2 {
		t.Errorf("registration with 3 of 5 hours: %v, want 2 hours missing", err)
	}
	l.set(p, 6.5)
	r, err := f.svc.Register(ctx, f.session.ID, p)
	if err != nil || r.Hours != 6.5 {
		t.Fatalf("registration with 6.5 hours: %+v, %v", r, err)
	}
	l.set(p, 4)
	if err := f.svc.Decide(ctx, 0, r.ID, true, 0); missingHours(t, err) != 1 {
		t.Errorf("approval after the correction to 4.0: %v, want 1 hour missing", err)
	}
	l.set(p, 6.5)
	if err := f.svc.Decide(ctx, 0, r.ID, true, 0); err != nil {
		t.Fatal(err)
	}
	l.set(p, 4)
	if _, err := f.svc.Start(ctx, f.session.ID, p); missingHours(t, err) != 1 {
		t.Errorf("start after the correction to 4.0: %v, want 1 hour missing", err)
	}
	l.set(p, 5)
	if _, err := f.svc.Start(ctx, f.session.ID, p); err != nil {
		t.Errorf("start with the 5 hours required: %v", err)
	}

	// Conduct records.
	q := f.person(t, "从业记录")
	f.ids.verify(q)
	l.set(q, 8)
	l.bar(q, true)
	if _, err := f.svc.Register(ctx, f.session.ID, q); !errors.Is(err, ErrConductRecord) {
		t.Errorf("registration while barred: %v, want ErrConductRecord", err)
	}
	l.bar(q, false)
	rq, err := f.svc.Register(ctx, f.session.ID, q)
	if err != nil {
		t.Fatal(err)
	}
	l.bar(q, true)
	if err := f.svc.Decide(ctx, 0, rq.ID, true, 0); !errors.Is(err, ErrConductRecord) {
		t.Errorf("approval while barred: %v, want ErrConductRecord", err)
	}
	l.bar(q, false)
	if err := f.svc.Decide(ctx, 0, rq.ID, true, 0); err != nil {
		t.Fatal(err)
	}
	l.bar(q, true)
	if _, err := f.svc.Start(ctx, f.session.ID, q); !errors.Is(err, ErrConductRecord) {
		t.Errorf("start while barred: %v, want ErrConductRecord", err)
	}
	l.bar(q, false)
	st, err := f.svc.Start(ctx, f.session.ID, q)
	if err != nil {
		t.Fatal(err)
	}
	// Once sitting, the verdict does not throw the candidate out of a takeover (rejecting does).
	l.bar(q, true)
	if got, err := f.svc.TakeOver(ctx, f.session.ID, q); err != nil || got.Attempt.ID != st.Attempt.ID {
		t.Errorf("takeover while barred: %+v, %v; want the attempt in progress", got, err)
	}

	// Identity: not asked at registration (it is checked in person afterwards), asked at approval
	// and again at start.
	u := f.person(t, "未核验")
	l.set(u, 8)
	ru, err := f.svc.Register(ctx, f.session.ID, u)
	if err != nil {
		t.Fatalf("registration before the identity check: %v", err)
	}
	if err := f.svc.Decide(ctx, 0, ru.ID, true, 0); !errors.Is(err, ErrIdentityUnverified) {
		t.Errorf("approval unverified: %v, want ErrIdentityUnverified", err)
	}
	f.ids.verify(u)
	if err := f.svc.Decide(ctx, 0, ru.ID, true, 0); err != nil {
		t.Fatal(err)
	}
	f.ids.mu.Lock()
	delete(f.ids.verified, u)
	f.ids.mu.Unlock()
	if _, err := f.svc.Start(ctx, f.session.ID, u); !errors.Is(err, ErrIdentityUnverified) {
		t.Errorf("start after the verification was withdrawn: %v, want ErrIdentityUnverified", err)
	}
}
