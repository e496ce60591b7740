package curriculum

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLedgerForCentreShowsOnlyItsOwnEntriesWithCorrections(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	c := f.published(t, "婴幼儿生活照料")
	v, _ := f.svc.Version(ctx, c.PublishedVersionID)
	if _, err := f.svc.LedgerForCentre(ctx, f.hz.ID, f.learner.PersonID); !errors.Is(err, ErrEntryNotFound) {
		t.Fatalf("a stranger's ledger: %v, want ErrEntryNotFound", err)
	}
	if _, err := f.svc.Enrol(ctx, f.learner.PersonID, c.ID); err != nil {
		t.Fatal(err)
	}
	if l, err := f.svc.LedgerForCentre(ctx, f.hz.ID, f.learner.PersonID); err != nil || len(l.Entries) != 0 || l.PersonName == "" {
		t.Fatalf("an enrolled learner without hours: %+v, %v", l, err)
	}
	lesson := v.Lessons()[0]
	if _, err := f.svc.OpenLesson(ctx, f.learner.PersonID, lesson.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.add(10 * time.Minute)
	if _, err := f.svc.CompleteLesson(ctx, f.learner.PersonID, lesson.ID); err != nil {
		t.Fatal(err)
	}
	l, err := f.svc.LedgerForCentre(ctx, f.hz.ID, f.learner.PersonID)
	if err != nil || len(l.Entries) != 1 || l.Total != 1 || l.PersonName == "" {
		t.Fatalf("ledger before correction: %+v, %v", l, err)
	}
	if _, err := f.svc.Correct(ctx, f.trainer.ID, l.Entries[0].ID, -0.25, "课时录入有误"); err != nil {
		t.Fatal(err)
	}
	l, err = f.svc.LedgerForCentre(ctx, f.hz.ID, f.learner.PersonID)
	if err != nil || len(l.Entries) != 2 || l.Total != 0.75 || l.Entries[1].Kind != KindCorrection || l.Entries[1].CorrectsID != l.Entries[0].ID {
		t.Fatalf("ledger after correction: %+v, %v", l, err)
	}
	if _, err := f.svc.LedgerForCentre(ctx, f.nb.ID, f.learner.PersonID); !errors.Is(err, ErrEntryNotFound) {
		t.Fatalf("another centre's view: %v, want ErrEntryNotFound", err)
	}
}
