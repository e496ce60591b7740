package certificates

import (
	"context"
	"fmt"
	"testing"

	"shanyu/internal/pgtest"
)

// TestCertificatesOfPeopleInConstantQueries counts the statements OfHolders (audits' certificates of
// a roster) sends, with a pgx tracer, for 3 and for 30 people: the same number (it was one list per
// person before), and each person gets exactly their own certificates.
func TestCertificatesOfPeopleInConstantQueries(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a, b := f.issue(t, "持证人甲"), f.issue(t, "持证人乙")
	people := []int64{a.PersonID, b.PersonID}
	for len(people) < 30 {
		people = append(people, f.person(t, fmt.Sprintf("无证人员%d", len(people)), ""))
	}
	count := func(ids []int64) int {
		t.Helper()
		cctx, q := pgtest.CountQueries(ctx)
		held, err := f.svc.OfHolders(cctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(held) != 2 || len(held[a.PersonID]) != 1 || held[a.PersonID][0].Number != a.Number ||
			len(held[b.PersonID]) != 1 || held[b.PersonID][0].Number != b.Number || held[a.PersonID][0].State != StateValid {
			t.Fatalf("certificates of %d people: %+v", len(ids), held)
		}
		return q.N()
	}
	small, large := count(people[:3]), count(people)
	if small != large || small == 0 {
		t.Fatalf("certificates of 3 people took %d statements, of 30 took %d: want the same", small, large)
	}
}
