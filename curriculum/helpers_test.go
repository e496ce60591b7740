package curriculum

import (
	"context"
	"sync"
	"testing"
	"time"

	"shanyu/accounts"
	"shanyu/internal/pgtest"
)

// fakeClock is a settable time source: tests move it instead of sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a migrated database with the demo organisations and users, and a curriculum service.
type fixture struct {
	svc      *Service
	acc      *accounts.Service
	clock    *fakeClock
	hz, nb   accounts.Organisation
	trainer  accounts.User
	learner  accounts.User // the demo caregiver
	learner2 accounts.User
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	db := pgtest.NewCounting(t) // a plain pool whose statements a test may count
	if _, err := accounts.SeedRegions(ctx, db); err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 32)
	acc, err := accounts.New(db, secret, accounts.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := acc.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	f := fixture{acc: acc, clock: &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}}
	f.svc = New(db, secret, Options{Directory: acc})
	f.svc.SetClock(f.clock.now)
	must := func(u accounts.User, err error) accounts.User {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	f.trainer = must(acc.UserByUsername(ctx, "trainer"))
	f.learner = must(acc.UserByUsername(ctx, "caregiver"))
	f.learner2 = must(acc.UserByUsername(ctx, "examiner"))
	if f.hz, err = acc.OrganisationByCode(ctx, "HZ001"); err != nil {
		t.Fatal(err)
	}
	if f.nb, err = acc.OrganisationByCode(ctx, "NB001"); err != nil {
		t.Fatal(err)
	}
	return f
}

func sampleCourse(title string) CourseInput {
	return CourseInput{
		Title: title, Summary: "summary", OccupationCode: "4-10-01-03", Level: 4, RequiredHours: 1.5,
		Modules: []ModuleInput{{Title: "Module one", Lessons: []LessonInput{
			{Title: "Lesson one", Body: "# Hello", Hours: 1, MinSeconds: 300},
			{Title: "Lesson two", Body: "text", Hours: 0.5, MinSeconds: 60},
		}}},
	}
}

// published makes and publishes a course of HZ001.
func (f fixture) published(t *testing.T, title string) Course {
	t.Helper()
	ctx := context.Background()
	c, err := f.svc.CreateCourse(ctx, f.trainer.ID, f.hz.ID, sampleCourse(title))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Publish(ctx, f.trainer.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	c, err = f.svc.Course(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
