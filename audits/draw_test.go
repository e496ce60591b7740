package audits

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func register(n, inspectors int) DrawInput {
	in := DrawInput{Seed: 20261128, Count: CountForShare(0.05, n), PerInspection: 2}
	for i := 1; i <= n; i++ {
		in.Targets = append(in.Targets, Target{ID: int64(i), Risk: 1 + i%3})
	}
	for i := 1; i <= inspectors; i++ {
		// Each inspector has a conflict with a few institutions (former employer, relatives).
		in.Inspectors = append(in.Inspectors, Inspector{ID: int64(1000 + i), Conflicts: []int64{int64(i), int64(i + 7), int64(i * 13 % n)}})
	}
	return in
}

func TestDrawIsReproducible(t *testing.T) {
	t.Parallel()
	in := register(200, 12)
	a, err := Draw(in)
	if err != nil {
		t.Fatal(err)
	}
	// The same registers handed over in another order give the same draw.
	shuffled := in
	shuffled.Targets = append([]Target(nil), in.Targets...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled.Targets), func(i, j int) {
		shuffled.Targets[i], shuffled.Targets[j] = shuffled.Targets[j], shuffled.Targets[i]
	})
	b, err := Draw(shuffled)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("re-running the draw changed it:\n%s", diff)
	}
	other := in
	other.Seed++
	c, _ := Draw(other)
	if cmp.Equal(a.Assignments, c.Assignments) || a.InputDigest == c.InputDigest {
		t.Fatal("another seed gave the same draw and digest")
	}
}

func TestDrawConstraints(t *testing.T) {
	t.Parallel()
	in := register(200, 12)
	res, err := Draw(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Assignments) != 10 { // 5 % of 200
		t.Fatalf("drew %d targets, want 10", len(res.Assignments))
	}
	conflicts := map[[2]int64]bool{}
	for _, insp := range in.Inspectors {
		for _, c := range insp.Conflicts {
			conflicts[[2]int64{insp.ID, c}] = true
		}
	}
	seen := map[int64]bool{}
	for _, a := range res.Assignments {
		if seen[a.TargetID] {
			t.Errorf("target %d drawn twice", a.TargetID)
		}
		seen[a.TargetID] = true
		if len(a.Inspectors) < 2 || a.Inspectors[0] == a.Inspectors[1] {
			t.Errorf("target %d: inspectors %v", a.TargetID, a.Inspectors)
		}
		for _, id := range a.Inspectors {
			if conflicts[[2]int64{id, a.TargetID}] {
				t.Errorf("inspector %d has a conflict with target %d", id, a.TargetID)
			}
		}
	}
}

func TestDrawRefusesImpossibleRounds(t *testing.T) {
	t.Parallel()
	in := DrawInput{Seed: 1, Count: 1, PerInspection: 2,
		Targets:    []Target{{ID: 1, Risk: 1}},
		Inspectors: []Inspector{{ID: 10}, {ID: 11, Conflicts: []int64{1}}}}
	if _, err := Draw(in); !errors.Is(err, ErrTooFewInspectors) {
		t.Fatalf("one eligible inspector: %v", err)
	}
	in.PerInspection = 1
	if _, err := Draw(in); !errors.Is(err, ErrDrawInvalid) {
		t.Fatalf("one inspector per inspection: %v", err)
	}
}

func TestRiskWeightsDrawHighRiskMoreOften(t *testing.T) {
	t.Parallel()
	// Over many seeded draws, the high-risk half is drawn clearly more often than the low-risk half.
	var high, low int
	for seed := uint64(0); seed < 300; seed++ {
		in := DrawInput{Seed: seed, Count: 2, PerInspection: 2, Inspectors: []Inspector{{ID: 1}, {ID: 2}}}
		for i := 1; i <= 20; i++ {
			risk := 1
			if i > 10 {
				risk = 3
			}
			in.Targets = append(in.Targets, Target{ID: int64(i), Risk: risk})
		}
		res, err := Draw(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range res.Assignments {
			if a.TargetID > 10 {
				high++
			} else {
				low++
			}
		}
	}
	if high < 2*low {
		t.Fatalf("high-risk drawn %d times, low-risk %d times", high, low)
	}
}
