package curriculum

import (
	"context"
	"errors"
	"testing"
	"time"

	"shanyu/internal/failure"
)

// completeFirstLesson enrols the learner and completes the course's first lesson (1 hour).
func completeFirstLesson(t *testing.T, f fixture, c Course) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.svc.Enrol(ctx, f.learner.PersonID, c.ID); err != nil && !errors.Is(err, ErrAlreadyEnrolled) {
		t.Fatal(err)
	}
	l := mustVersion(t, f, c.PublishedVersionID).Lessons()[0]
	if _, err := f.svc.OpenLesson(ctx, f.learner.PersonID, l.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.add(time.Duration(l.MinSeconds) * time.Second)
	if _, err := f.svc.CompleteLesson(ctx, f.learner.PersonID, l.ID); err != nil {
		t.Fatal(err)
	}
}

func TestLedgerIsAppendOnlyAndCorrectionsAreNewEntries(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	completeFirstLesson(t, f, f.published(t, "婴幼儿生活照料"))
	from, to := f.clock.now().Add(-24*time.Hour), f.clock.now().Add(24*time.Hour)
	rep, err := f.svc.Hours(ctx, f.learner.PersonID, from, to)
	if err != nil || len(rep.Entries) != 1 {
		t.Fatalf("report: %+v %v", rep, err)
	}
	orig := rep.Entries[0]

	for _, q := range []string{`UPDATE hours_ledger SET hours = 99`, `DELETE FROM hours_ledger`, `TRUNCATE hours_ledger`} {
		if _, err := f.svc.db.Exec(ctx, q); err == nil {
			t.Errorf("%q was allowed on the ledger", q)
		}
	}

	// Bad corrections are refused and add nothing.
	for name, tc := range map[string]struct {
		actor  int64
		delta  float64
		reason string
		want   error
	}{
		"no reason":     {f.trainer.ID, -0.5, " ", nil},
		"zero hours":    {f.trainer.ID, 0, "录入错误", nil},
		"no actor":      {0, -0.5, "录入错误", nil},
		"below zero":    {f.trainer.ID, -1.5, "录入错误", ErrOverCorrection},
		"no such entry": {f.trainer.ID, -0.5, "录入错误", ErrEntryNotFound},
	} {
		id := orig.ID
		if name == "no such entry" {
			id = 999999
		}
		_, err := f.svc.Correct(ctx, tc.actor, id, tc.delta, tc.reason)
		if tc.want != nil && !errors.Is(err, tc.want) || tc.want == nil && failure.As(err).Kind != failure.Invalid {
			t.Errorf("%s: %v", name, err)
		}
	}
	corr, err := f.svc.Correct(ctx, f.trainer.ID, orig.ID, -0.25, "课时录入错误")
	if err != nil {
		t.Fatal(err)
	}
	if corr.Kind != KindCorrection || corr.CorrectsID != orig.ID || corr.ActorID != f.trainer.ID || corr.Reason != "课时录入错误" || !corr.EarnedAt.Equal(orig.EarnedAt) {
		t.Fatalf("correction entry: %+v", corr)
	}
	// Correcting a correction chains to the original; the total may not fall below zero.
	if _, err := f.svc.Correct(ctx, f.trainer.ID, corr.ID, -0.8, "再次更正"); !errors.Is(err, ErrOverCorrection) {
		t.Fatalf("over-correction through a correction: %v", err)
	}
	h, err := f.svc.CompletedHours(ctx, f.learner.PersonID, "4-10-01-03", from, to)
	if err != nil || h != 0.75 {
		t.Fatalf("hours after correction: %v %v", h, err)
	}
	again, _ := f.svc.Entry(ctx, orig.ID)
	if again.Hours != 1 {
		t.Fatalf("original entry changed: %+v", again)
	}
	rep, _ = f.svc.Hours(ctx, f.learner.PersonID, from, to)
	if rep.Total != 0.75 || len(rep.ByCourse) != 1 || rep.ByCourse[0].Hours != 0.75 || len(rep.ByOccupation) != 1 {
		t.Fatalf("report after correction: %+v", rep)
	}
	var audits int
	if err := f.svc.db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'hours.correct'`).Scan(&audits); err != nil || audits != 1 {
		t.Fatalf("audit entries: %d %v", audits, err)
	}
}

func TestCompletedHoursCountsOnlyTheOccupationAndPeriod(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	start := f.clock.now()
	completeFirstLesson(t, f, f.published(t, "婴幼儿生活照料"))
	f.clock.add(40 * 24 * time.Hour)
	completeFirstLesson(t, f, f.published(t, "早期发展支持"))
	in := sampleCourse("育婴员课程")
	in.OccupationCode = "4-10-01-02"
	c, err := f.svc.CreateCourse(ctx, f.trainer.ID, f.hz.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Publish(ctx, f.trainer.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	completeFirstLesson(t, f, mustCourse(t, f, c.ID))
	end := f.clock.now().Add(time.Second)
	for name, tc := range map[string]struct {
		occ      string
		from, to time.Time
		want     float64
	}{
		"all 保育师":          {"4-10-01-03", start, end, 2},
		"first month only": {"4-10-01-03", start, start.Add(30 * 24 * time.Hour), 1},
		"other occupation": {"4-10-01-02", start, end, 1},
		"end is exclusive": {"4-10-01-03", start, start.Add(300 * time.Second), 0},
		"nothing before":   {"4-10-01-03", start.Add(-time.Hour), start, 0},
	} {
		h, err := f.svc.CompletedHours(ctx, f.learner.PersonID, tc.occ, tc.from, tc.to)
		if err != nil || h != tc.want {
			t.Errorf("%s: %v %v, want %v", name, h, err, tc.want)
		}
	}
}

func mustCourse(t *testing.T, f fixture, id int64) Course {
	t.Helper()
	c, err := f.svc.Course(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
