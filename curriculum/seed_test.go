package curriculum

import (
	"context"
	"testing"
	"time"
)

func TestSeedDemoIsIdempotentAndGivesTheLearnerHours(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.clock.t = time.Now()
	centres := map[string]DemoCentre{}
	for code, id := range map[string]int64{"HZ001": f.hz.ID, "NB001": f.nb.ID} {
		bases, err := f.acc.TrainingBases(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		c := DemoCentre{ID: id, TrainerID: f.trainer.ID}
		for _, b := range bases {
			c.BaseIDs = append(c.BaseIDs, b.ID)
		}
		centres[code] = c
	}
	first, err := f.svc.SeedDemo(ctx, centres, f.learner.PersonID)
	if err != nil {
		t.Fatal(err)
	}
	if first.Courses != 5 || first.Sessions != 4 || first.Enrolments != 2 || first.Lessons != 3 {
		t.Fatalf("first seed: %+v", first)
	}
	again, err := f.svc.SeedDemo(ctx, centres, f.learner.PersonID)
	if err != nil {
		t.Fatal(err)
	}
	if again != (DemoResult{}) {
		t.Fatalf("second seed created more: %+v", again)
	}
	list, total, err := f.svc.Courses(ctx, Filter{Centre: "NB001"})
	if err != nil || total != 2 || list[0].OrgCode != "NB001" {
		t.Fatalf("NB001 courses: %d %v", total, err)
	}
	h, err := f.svc.CompletedHours(ctx, f.learner.PersonID, "4-10-01-03", time.Now().AddDate(0, -1, 0), time.Now())
	if err != nil || h != 1+1+1.5+3 { // three lessons of 婴幼儿生活照料 and one attended 3-hour session
		t.Fatalf("learner hours: %v %v", h, err)
	}
}
