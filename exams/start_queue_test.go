package exams

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// Starts that arrive while others are being written share one transaction (startQueue), and each
// gets what it would have got alone: a start on a built paper its attempt and paper; a start whose
// paper was never built its paper drawn (alone); a second start of the same person in the burst
// ErrHeldElsewhere; a candidate whose hours were corrected down, one barred, and a person with no
// registration their own refusals, without failing the others.
func TestStartsThatArriveTogetherShareATransaction(t *testing.T) {
	t.Parallel()
	l := &ledger{hours: map[int64]float64{}, barred: map[int64]bool{}}
	f := newFixture(t, fixtureOpts{hours: l, conduct: l, minHours: 5})
	ctx := context.Background()
	approve := func(name string) int64 {
		p := f.person(t, name)
		f.ids.verify(p)
		l.set(p, 6)
		r, err := f.svc.Register(ctx, f.session.ID, p)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Decide(ctx, 0, r.ID, true, 0); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const n = 30
	var ready []int64
	for i := range n {
		ready = append(ready, approve(fmt.Sprintf("考生%d", i)))
	}
	corrected, barred := approve("学时更正"), approve("从业禁止")
	f.workQueued(t, BuildPaperArgs{}.Kind()) // the papers of all of these are built
	unbuilt := approve("未组卷")                // its paper's job has not run
	l.set(corrected, 4)
	l.bar(barred, true)
	stranger := f.person(t, "未报名")

	who := append(append([]int64{}, ready...), corrected, barred, unbuilt, stranger, ready[0])
	// Hold the queue's runners until every start waits in it, so that they gather in one batch.
	q := &f.svc.starts
	q.mu.Lock()
	q.running = startRunners
	q.mu.Unlock()
	started := make([]Started, len(who))
	errs := make([]error, len(who))
	var wg sync.WaitGroup
	for i, p := range who {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started[i], errs[i] = f.svc.Start(ctx, f.session.ID, p)
		}()
	}
	for waiting := 0; waiting < len(who); time.Sleep(time.Millisecond) {
		q.mu.Lock()
		waiting = len(q.pending[f.session.ID])
		q.mu.Unlock()
	}
	q.mu.Lock()
	q.running = 1
	q.mu.Unlock()
	go q.run(f.svc)
	wg.Wait()

	if q.batches != 2 || q.largest != len(who)-1 {
		t.Errorf("%d batches, the largest of %d starts; want 2, of %d (the second start of one person waits for the next)",
			q.batches, q.largest, len(who)-1)
	}
	dup := len(who) - 1
	if errs[0] == nil == (errs[dup] == nil) || !errors.Is(errors.Join(errs[0], errs[dup]), ErrHeldElsewhere) {
		t.Errorf("two starts of one person: %v and %v, want one attempt and ErrHeldElsewhere", errs[0], errs[dup])
	}
	for i, p := range append(ready[1:], unbuilt) {
		i := i + 1
		if p == unbuilt {
			i = n + 2
		}
		if errs[i] != nil {
			t.Errorf("start of %d: %v", p, errs[i])
			continue
		}
		st := started[i]
		if st.Paper == nil || st.Attempt.PersonID != p || st.Attempt.Status != Active {
			t.Errorf("start of %d: %+v", p, st)
			continue
		}
		v, err := f.svc.Paper(ctx, st.Attempt.ID, p, st.DeviceToken)
		if err != nil || len(v.Questions) == 0 {
			t.Errorf("paper of %d's attempt: %d questions, %v", p, len(v.Questions), err)
		}
		var at, deadline time.Time
		if err := f.pool.QueryRow(ctx, `SELECT started_at, deadline_at FROM exam_attempts WHERE id = $1`, st.Attempt.ID).Scan(&at, &deadline); err != nil {
			t.Fatal(err)
		}
		if !at.Equal(st.Attempt.StartedAt) || !deadline.Equal(st.Attempt.Deadline) {
			t.Errorf("attempt %d: answered start %s and deadline %s, stored %s and %s", st.Attempt.ID,
				st.Attempt.StartedAt, st.Attempt.Deadline, at, deadline)
		}
	}
	if got := missingHours(t, errs[n]); got != 1 {
		t.Errorf("start after the correction to 4 hours: %v, want 1 hour missing", errs[n])
	}
	if !errors.Is(errs[n+1], ErrConductRecord) {
		t.Errorf("start of a barred candidate: %v, want ErrConductRecord", errs[n+1])
	}
	if !errors.Is(errs[n+3], ErrNotApproved) {
		t.Errorf("start of a person not registered: %v, want ErrNotApproved", errs[n+3])
	}
	var attempts, devices int
	if err := f.pool.QueryRow(ctx, `SELECT count(*), (SELECT count(*) FROM exam_attempt_devices d JOIN exam_attempts a ON a.id = d.attempt_id
		WHERE a.session_id = $1) FROM exam_attempts WHERE session_id = $1`, f.session.ID).Scan(&attempts, &devices); err != nil {
		t.Fatal(err)
	}
	if attempts != n+1 || devices != n+1 {
		t.Errorf("%d attempts and %d devices, want %d of each", attempts, devices, n+1)
	}
}
