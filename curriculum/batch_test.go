package curriculum

import (
	"context"
	"testing"
	"time"

	"shanyu/internal/pgtest"
)

// TestSessionListsInConstantQueries counts the statements SessionsOf and Sessions send, with a pgx
// tracer, for 3 and for 30 sessions: the same number (SessionsOf read each session and sign-up in
// turn before), with the places, trainer and names filled in from accounts.
func TestSessionListsInConstantQueries(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	bases, err := f.acc.TrainingBases(ctx, f.hz.ID)
	if err != nil || len(bases) == 0 {
		t.Fatalf("bases: %v", err)
	}
	add := func(n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			start := f.clock.now().Add(time.Duration(i+1) * time.Hour)
			x, err := f.svc.CreateSession(ctx, f.trainer.ID, f.hz.ID, SessionInput{BaseID: bases[0].ID, Title: "实操", OccupationCode: "4-10-01-03", Level: 4,
				StartsAt: start, EndsAt: start.Add(time.Hour), Capacity: 5, TrainerID: f.trainer.ID, Hours: 1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.SignUp(ctx, f.learner.PersonID, x.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func(want int) (mine, list int) {
		t.Helper()
		cctx, q := pgtest.CountQueries(ctx)
		my, err := f.svc.SessionsOf(cctx, f.learner.PersonID)
		if err != nil || len(my) != want {
			t.Fatalf("SessionsOf: %d sessions (%v), want %d", len(my), err, want)
		}
		for i, m := range my {
			x := m.Session
			if x.OrgCode != f.hz.Code || x.RegionCode != f.hz.RegionCode || x.BaseName != bases[0].Name || x.TrainerName != f.trainer.Name ||
				m.Signup.SessionID != x.ID || m.Signup.Name != f.learner.Name || (i > 0 && x.StartsAt.Before(my[i-1].Session.StartsAt)) {
				t.Fatalf("session %d as listed: %+v", i, m)
			}
		}
		mine = q.N()
		cctx, q = pgtest.CountQueries(ctx)
		all, err := f.svc.Sessions(cctx, SessionFilter{OrgID: f.hz.ID, From: f.clock.now(), Limit: 100})
		if err != nil || len(all) != want || all[0].BaseAddress != bases[0].Address {
			t.Fatalf("Sessions: %d (%v), want %d", len(all), err, want)
		}
		return mine, q.N()
	}
	add(3)
	mine3, list3 := count(3)
	add(27)
	mine30, list30 := count(30)
	if mine3 != mine30 || list3 != list30 || mine3 == 0 || list3 == 0 {
		t.Fatalf("statements for 3 and 30 sessions: SessionsOf %d and %d, Sessions %d and %d; want the same", mine3, mine30, list3, list30)
	}
}
