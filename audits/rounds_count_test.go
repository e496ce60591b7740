package audits

import (
	"context"
	"fmt"
	"testing"

	"shanyu/accounts"
	"shanyu/internal/pgtest"
)

// TestRoundListQueriesDoNotGrowWithItsLength counts the statements Rounds sends, with a pgx tracer,
// for 3 and for 30 rounds: the same number (it was one query, then three per round, before).
func TestRoundListQueriesDoNotGrowWithItsLength(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.institution(t, 2)
	f.user(t, "insp-a", accounts.RoleInspector, "region:3301")
	f.user(t, "insp-b", accounts.RoleInspector, "region:3301")
	create := func(from, to int) {
		t.Helper()
		for i := from; i <= to; i++ {
			if _, err := f.svc.CreateRound(ctx, f.admin, RoundInput{RegionCode: "330106", Name: fmt.Sprintf("第%d轮", i), Count: 2, PerInspection: 2, Seed: uint64(i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func(want int) int {
		t.Helper()
		cctx, q := pgtest.CountQueries(ctx)
		rounds, err := f.svc.Rounds(cctx, "3301")
		if err != nil {
			t.Fatal(err)
		}
		if len(rounds) != want {
			t.Fatalf("%d rounds listed, want %d", len(rounds), want)
		}
		for _, r := range rounds {
			one, err := f.svc.RoundByID(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Assignments) != 2 || fmt.Sprint(r) != fmt.Sprint(one) {
				t.Fatalf("round %d listed as %+v, loaded as %+v", r.ID, r, one)
			}
		}
		return q.N()
	}
	create(1, 3)
	small := count(3)
	create(4, 30)
	large := count(30)
	if small != large || small == 0 {
		t.Fatalf("a list of 3 rounds sent %d statements, of 30 sent %d: want the same", small, large)
	}
}
