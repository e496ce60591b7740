package exams

import (
	"context"
	"testing"

	"shanyu/exams/bank"
)

func TestPreviewBlueprintDrawsLikeAPaperWithTheKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{essay: true})
	ctx := context.Background()
	b, err := f.svc.GetBlueprint(ctx, f.session.BlueprintID)
	if err != nil {
		t.Fatal(err)
	}
	// The fixture's bank: 6 single choice and 1 essay; ask one section for more than it holds.
	b.Sections = append(b.Sections, Section{Name: "判断", Part: Theory, Count: 3, Points: 10, Type: bank.TrueFalse})
	p, err := f.svc.PreviewBlueprint(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 3 {
		t.Fatalf("%d sections, want 3", len(p))
	}
	seen := map[int64]bool{}
	for _, q := range p[0].Questions {
		if seen[q.ItemID] {
			t.Errorf("item %d drawn twice", q.ItemID)
		}
		seen[q.ItemID] = true
		if q.Item.Type != bank.SingleChoice || q.Item.Explanation != "KEY-EXPLANATION" || q.Item.Choices[0].Weight != 1 {
			t.Errorf("single-choice question without its key or of the wrong type: %+v", q.Item)
		}
	}
	if len(p[0].Questions) != 5 || p[0].Missing != 0 {
		t.Errorf("section 1: %d questions, %d missing; want 5, 0", len(p[0].Questions), p[0].Missing)
	}
	if len(p[1].Questions) != 1 || p[1].Questions[0].Item.Type != bank.Essay || len(p[1].Questions[0].Item.Rubric) != 1 {
		t.Errorf("section 2: %+v, want the essay with its rubric", p[1].Questions)
	}
	if len(p[2].Questions) != 0 || p[2].Missing != 3 {
		t.Errorf("unfillable section: %d questions, %d missing; want 0, 3", len(p[2].Questions), p[2].Missing)
	}
}
