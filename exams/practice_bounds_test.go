package exams

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"shanyu/exams/bank"
	"shanyu/internal/failure"
	"shanyu/internal/pgtest"
)

// A learner keeps one open run per category (starting again goes back to it, even when eight starts
// race) and starts at most practiceRunsPerHour runs in any hour: the next is refused, saying when
// one may start again, and may start once the oldest run has left the hour; another learner is not
// held back.
func TestPracticeBoundedPerLearner(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	cat, _ := f.practiceCategory(t)
	learner, other := f.candidate(t, "练习者", 0), f.candidate(t, "旁人", 0)

	ids := make([]int64, 8)
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := f.svc.StartPractice(ctx, learner, cat)
			ids[i], errs[i] = r.ID, err
		}()
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("eight starts at once: run %d, %v; want all of them the same run %d", ids[i], errs[i], ids[0])
		}
	}
	runs := func(person int64) int {
		var n int
		if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM exam_practice_runs WHERE person_id = $1`, person).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := runs(learner); n != 1 {
		t.Fatalf("%d runs after eight starts of an open run, want 1", n)
	}

	// The open run finished, and 19 more started 50 minutes ago (finished too): the hour is full.
	now := f.clock.now()
	if _, err := f.pool.Exec(ctx, `UPDATE exam_practice_runs SET answered = item_count WHERE person_id = $1`, learner); err != nil {
		t.Fatal(err)
	}
	if _, err := f.pool.Exec(ctx, `INSERT INTO exam_practice_runs (person_id, organisation_id, category_id, item_count, answered, started_at)
		SELECT $1, $2, $3, 1, 1, $4 FROM generate_series(1, $5)`, learner, f.centre, cat, now.Add(-50*time.Minute), practiceRunsPerHour-1); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.StartPractice(ctx, learner, cat)
	var e *failure.Error
	if !errors.Is(err, ErrPracticeTooMany) || !errors.As(err, &e) || e.Kind != failure.TooMany {
		t.Fatalf("run %d in the hour: %v, want ErrPracticeTooMany", practiceRunsPerHour+1, err)
	}
	if e.RetryAfter != 600 || fmt.Sprint(e.Msg.Args) != fmt.Sprint([]any{practiceRunsPerHour, 10}) {
		t.Errorf("refusal says retry after %d s with %v, want 600 s (the oldest leaves the hour in 10 min) and [%d 10]", e.RetryAfter, e.Msg.Args, practiceRunsPerHour)
	}
	if n := runs(learner); n != practiceRunsPerHour {
		t.Errorf("the refused start left %d runs, want %d", n, practiceRunsPerHour)
	}
	if _, err := f.svc.StartPractice(ctx, other, cat); err != nil {
		t.Errorf("another learner is held back: %v", err)
	}
	f.clock.add(10*time.Minute + time.Second)
	if _, err := f.svc.StartPractice(ctx, learner, cat); err != nil {
		t.Errorf("once the oldest run left the hour: %v", err)
	}
}

// The practice page's category list is one query, whatever the number of categories.
func TestPracticePoolsIsOneQuery(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	f.practiceCategory(t)
	for i := 0; i < 4; i++ {
		st, err := bank.Create(ctx, f.pool, f.centre, bank.Item{Type: bank.TrueFalse, Stem: fmt.Sprintf("判断 %d", i), Format: bank.Plain, Points: 1, Truth: true,
			Category: []string{"其他", fmt.Sprint(i)}})
		if err != nil {
			t.Fatal(err)
		}
		var cat int64
		if err := f.pool.QueryRow(ctx, `SELECT category_id FROM bank_items WHERE id = $1`, st.ID).Scan(&cat); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.OpenPractice(ctx, 0, f.centre, cat, true); err != nil {
			t.Fatal(err)
		}
	}
	counting := New(pgtest.OpenCounting(t, f.pool.Config().ConnString()), Options{Now: f.svc.now, Names: f.svc.names, Notices: f.svc.notices, Jobs: f.svc.jobs, Identity: f.svc.ids,
		Hours: f.svc.hours, Conduct: f.svc.conduct})
	cctx, q := pgtest.CountQueries(ctx)
	pools, err := counting.PracticePools(cctx, f.centre)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pools {
		got = append(got, fmt.Sprintf("%v:%d", p.Path, p.Available))
	}
	if want := "[[保育 练习]:3 [其他 0]:1 [其他 1]:1 [其他 2]:1 [其他 3]:1]"; fmt.Sprint(got) != want {
		t.Errorf("pools %v, want %s", got, want)
	}
	if q.N() != 1 {
		t.Errorf("%d queries for %d categories, want 1: %q", q.N(), len(pools), q.SQL())
	}
}
