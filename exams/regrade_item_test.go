package exams

import (
	"context"
	"testing"

	"shanyu/exams/bank"
)

func TestCorrectionsAndRegradeOfOneItem(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{mode: Fixed})
	ctx := context.Background()
	who := f.candidate(t, "甲", 0)
	st, err := f.svc.Start(ctx, f.session.ID, who)
	if err != nil {
		t.Fatal(err)
	}
	paper, _ := f.svc.StoredPaper(ctx, st.Attempt.ID)
	// Every answer picks the original second option ("错A"): 0 points.
	for i, pi := range paper {
		shown := 0
		for s, o := range pi.OptionOrder {
			if o == 1 {
				shown = s
			}
		}
		if _, err := f.svc.Save(ctx, st.Attempt.ID, who, st.DeviceToken, int64(i+1), pi.Position, Answer{Choices: []int{shown}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.Submit(ctx, st.Attempt.ID, who, st.DeviceToken, ByCandidate); err != nil {
		t.Fatal(err)
	}
	if list, err := f.svc.Corrections(ctx, f.session.ID); err != nil || len(list) != 0 {
		t.Fatalf("corrections before any edit: %+v, %v", list, err)
	}
	// Correct two items on the paper: "错A" was right.
	var fixed []int64
	for _, pi := range paper[:2] {
		for _, st := range f.items {
			if st.ID == pi.ItemID {
				it := st.Item
				it.Choices[0].Weight, it.Choices[1].Weight = 0, 1
				if _, err := bank.Update(ctx, f.pool, 0, f.centre, st.ID, it); err != nil {
					t.Fatal(err)
				}
				fixed = append(fixed, st.ID)
			}
		}
	}
	list, err := f.svc.Corrections(ctx, f.session.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("corrections: %+v, %v; want the 2 corrected items", list, err)
	}
	for _, c := range list {
		if c.Regraded || !c.Eligible || c.Attempts != 1 || c.Current == c.Delivered[0] {
			t.Errorf("correction %+v: want eligible, not regraded, 1 attempt, a new version", c)
		}
	}
	// Regrading one item moves the score by that item only (20 of 100 points).
	ch, err := f.svc.RegradeItem(ctx, 0, f.session.ID, fixed[0], false)
	if err != nil || len(ch) != 1 || ch[0].TheoryBefore != 0 || ch[0].TheoryAfter != 20 {
		t.Fatalf("regrade item: %+v, %v; want 0 → 20", ch, err)
	}
	list, _ = f.svc.Corrections(ctx, f.session.ID)
	done := map[int64]bool{}
	for _, c := range list {
		done[c.ItemID] = c.Regraded
	}
	if !done[fixed[0]] || done[fixed[1]] {
		t.Errorf("regraded flags %v: want only item %d regraded", done, fixed[0])
	}
}
