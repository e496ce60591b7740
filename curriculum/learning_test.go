package curriculum

import (
	"context"
	"errors"
	"testing"
	"time"

	"shanyu/internal/failure"
)

func TestLessonCompletesOnlyAfterServerMeasuredMinimumTime(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	c := f.published(t, "婴幼儿生活照料")
	if _, err := f.svc.Enrol(ctx, f.learner.PersonID, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Enrol(ctx, f.learner.PersonID, c.ID); !errors.Is(err, ErrAlreadyEnrolled) {
		t.Fatalf("second enrolment: %v", err)
	}
	lesson := mustVersion(t, f, c.PublishedVersionID).Lessons()[0] // 300 s, 1 hour

	if _, err := f.svc.CompleteLesson(ctx, f.learner.PersonID, lesson.ID); !errors.Is(err, ErrLessonNotOpened) {
		t.Fatalf("completing an unopened lesson: %v", err)
	}
	st, err := f.svc.OpenLesson(ctx, f.learner.PersonID, lesson.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.RemainingSec != 300 {
		t.Fatalf("remaining after opening: %d", st.RemainingSec)
	}
	f.clock.add(299 * time.Second)
	// Opening again does not restart the clock, and a completion one second early is refused.
	if st, _ = f.svc.OpenLesson(ctx, f.learner.PersonID, lesson.ID); st.RemainingSec != 1 {
		t.Fatalf("remaining after reopening: %d", st.RemainingSec)
	}
	_, err = f.svc.CompleteLesson(ctx, f.learner.PersonID, lesson.ID)
	if e := failure.As(err); e.Msg.Key != "curriculum.lesson_too_soon" || len(e.Msg.Args) != 1 || e.Msg.Args[0] != 1 {
		t.Fatalf("early completion: %v", err)
	}
	if h, _ := f.svc.CompletedHours(ctx, f.learner.PersonID, "4-10-01-03", time.Time{}, f.clock.now().Add(time.Hour)); h != 0 {
		t.Fatalf("hours credited for an early completion: %v", h)
	}
	f.clock.add(time.Second)
	st, err = f.svc.CompleteLesson(ctx, f.learner.PersonID, lesson.ID)
	if err != nil || !st.Credited || !st.Progress.Done() {
		t.Fatalf("completion at the minimum: %+v %v", st, err)
	}
	// Completing again credits nothing more.
	if st, err = f.svc.CompleteLesson(ctx, f.learner.PersonID, lesson.ID); err != nil || st.Credited {
		t.Fatalf("second completion: %+v %v", st, err)
	}
	h, err := f.svc.CompletedHours(ctx, f.learner.PersonID, "4-10-01-03", time.Time{}, f.clock.now().Add(time.Hour))
	if err != nil || h != 1 {
		t.Fatalf("hours: %v %v", h, err)
	}
	e, _ := f.svc.EnrolmentIn(ctx, f.learner.PersonID, c.ID)
	if e.LessonsDone != 1 || e.HoursEarned != 1 {
		t.Fatalf("enrolment progress: %+v", e)
	}
	// Someone not enrolled cannot open or complete it.
	if _, err := f.svc.OpenLesson(ctx, f.learner2.PersonID, lesson.ID); !errors.Is(err, ErrNotEnrolled) {
		t.Fatalf("not enrolled: %v", err)
	}
}
