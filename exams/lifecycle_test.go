package exams

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// answerAll saves the right answer to every choice item of the attempt.
func (f *fixture) answerAll(t *testing.T, st Started, person int64) {
	t.Helper()
	ctx := context.Background()
	paper, err := f.svc.StoredPaper(ctx, st.Attempt.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(0)
	for _, pi := range paper {
		if len(pi.OptionOrder) == 0 {
			continue
		}
		n++
		if _, err := f.svc.Save(ctx, st.Attempt.ID, person, st.DeviceToken, n, pi.Position, Answer{Choices: []int{correct(pi)}}, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) resultsByName(t *testing.T) map[string]bool {
	t.Helper()
	results, err := f.svc.Results(context.Background(), f.session.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range results {
		got[r.Name] = r.Passed
	}
	return got
}

func (f *fixture) requestsOf(t *testing.T, person int64) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM certificate_requests WHERE person_id = $1`, person).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPublishClosesStartsAndSittersGetTheirResults: publishing while a candidate is sitting
// publishes the graded results, refuses new starts, lets the sitter finish (and take the attempt
// over), and publishes the sitter's passing result, with its certificate request, at submission.
func TestPublishClosesStartsAndSittersGetTheirResults(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	done, sitter, late := f.candidate(t, "已交卷", 0), f.candidate(t, "作答中", 0), f.candidate(t, "未开始", 0)
	st, err := f.svc.Start(ctx, f.session.ID, done)
	if err != nil {
		t.Fatal(err)
	}
	f.answerAll(t, st, done)
	if _, err := f.svc.Submit(ctx, st.Attempt.ID, done, st.DeviceToken, ByCandidate); err != nil {
		t.Fatal(err)
	}
	sit, err := f.svc.Start(ctx, f.session.ID, sitter)
	if err != nil {
		t.Fatal(err)
	}
	sitting, err := f.svc.Sitting(ctx, f.session.ID)
	if err != nil || len(sitting) != 1 || sitting[0].Name != "作答中" {
		t.Fatalf("sitting before publishing: %+v, %v; want 作答中 alone", sitting, err)
	}
	n, err := f.svc.Publish(ctx, 0, f.session.ID)
	if err != nil || n != 1 {
		t.Fatalf("publish with one sitting: %d, %v; want 1 result", n, err)
	}
	if _, err := f.svc.Start(ctx, f.session.ID, late); !errors.Is(err, ErrSessionPublished) {
		t.Errorf("start after publishing: %v, want ErrSessionPublished", err)
	}
	// The sitter's phone dies: the attempt can still be taken over and finished.
	sit, err = f.svc.TakeOver(ctx, f.session.ID, sitter)
	if err != nil || !sit.Resumed {
		t.Fatalf("takeover after publishing: %+v, %v", sit, err)
	}
	f.answerAll(t, sit, sitter)
	if a, err := f.svc.Submit(ctx, sit.Attempt.ID, sitter, sit.DeviceToken, ByCandidate); err != nil || a.Status != Graded {
		t.Fatalf("sitter's submit: %+v, %v", a, err)
	}
	want := map[string]bool{"已交卷": true, "作答中": true}
	if got := f.resultsByName(t); len(got) != 2 || !got["作答中"] || !got["已交卷"] {
		t.Errorf("results after the sitter submitted: %v, want %v", got, want)
	}
	if n := f.requestsOf(t, sitter); n != 1 {
		t.Errorf("certificate requests of the sitter: %d, want 1", n)
	}
	if n := f.requestsOf(t, late); n != 0 {
		t.Errorf("certificate requests of the one who never started: %d, want 0", n)
	}
	if sitting, err := f.svc.Sitting(ctx, f.session.ID); err != nil || len(sitting) != 0 {
		t.Errorf("sitting at the end: %+v, %v", sitting, err)
	}
}

// TestSubmissionsDuringPublishingAllGetResults races several submissions with the publication:
// whichever commits first, every graded attempt ends with a result.
func TestSubmissionsDuringPublishingAllGetResults(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	const n = 5
	type sitter struct {
		person int64
		st     Started
	}
	sitters := make([]sitter, n)
	for i := range sitters {
		p := f.candidate(t, string(rune('甲'+i)), 0)
		st, err := f.svc.Start(ctx, f.session.ID, p)
		if err != nil {
			t.Fatal(err)
		}
		f.answerAll(t, st, p)
		sitters[i] = sitter{p, st}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n+1)
	for i, s := range sitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = f.svc.Submit(ctx, s.st.Attempt.ID, s.person, s.st.DeviceToken, ByCandidate)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-start
		_, errs[n] = f.svc.Publish(ctx, 0, f.session.ID)
	}()
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if got := f.resultsByName(t); len(got) != n {
		t.Errorf("results: %v, want %d", got, n)
	}
}

// TestRejectionMidAttemptEndsItWithoutAResult: rejecting a registration while its attempt runs ends
// the attempt with that reason; its answers are not counted and publishing gives it no result.
func TestRejectionMidAttemptEndsItWithoutAResult(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	p, other := f.candidate(t, "被驳回", 0), f.candidate(t, "正常考生", 0)
	st, err := f.svc.Start(ctx, f.session.ID, p)
	if err != nil {
		t.Fatal(err)
	}
	f.answerAll(t, st, p)
	var reg int64
	if err := f.pool.QueryRow(ctx, `SELECT registration_id FROM exam_attempts WHERE id = $1`, st.Attempt.ID).Scan(&reg); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Decide(ctx, 0, reg, false, 0); err != nil {
		t.Fatal(err)
	}
	a, err := f.svc.Submit(ctx, st.Attempt.ID, p, st.DeviceToken, ByCandidate)
	if err != nil || a.Reason != ByRejection || a.Status == Active {
		t.Errorf("attempt after the rejection: status %s, reason %q, %v; want ended with %q", a.Status, a.Reason, err, ByRejection)
	}
	if _, err := f.svc.Save(ctx, st.Attempt.ID, p, st.DeviceToken, 99, 0, Answer{Choices: []int{0}}, nil); !errors.Is(err, ErrRecordedLate) {
		t.Errorf("save after the rejection: %v, want ErrRecordedLate", err)
	}
	os, err := f.svc.Start(ctx, f.session.ID, other)
	if err != nil {
		t.Fatal(err)
	}
	f.answerAll(t, os, other)
	if _, err := f.svc.Submit(ctx, os.Attempt.ID, other, os.DeviceToken, ByCandidate); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Publish(ctx, 0, f.session.ID); err != nil {
		t.Fatal(err)
	}
	if got := f.resultsByName(t); len(got) != 1 || !got["正常考生"] {
		t.Errorf("results: %v, want only 正常考生", got)
	}
	if n := f.requestsOf(t, p); n != 0 {
		t.Errorf("certificate requests of the rejected candidate: %d, want 0", n)
	}
	var audited int
	_ = f.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'exam.registration.rejected' AND details->>'attempt_ended' = $1`, ByRejection).Scan(&audited)
	if audited != 1 {
		t.Errorf("audit rows of the rejection ending the attempt: %d, want 1", audited)
	}
}

// TestExtraTimeAfterStartMovesTheDeadline: extra time granted while the attempt runs moves its
// deadline, and the sweep does not submit it at the old one.
func TestExtraTimeAfterStartMovesTheDeadline(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	p := f.candidate(t, "加时", 0)
	st, err := f.svc.Start(ctx, f.session.ID, p)
	if err != nil {
		t.Fatal(err)
	}
	if want := st.Attempt.StartedAt.Add(time.Hour); !st.Attempt.Deadline.Equal(want) {
		t.Fatalf("deadline at start %v, want %v", st.Attempt.Deadline, want)
	}
	var reg int64
	if err := f.pool.QueryRow(ctx, `SELECT registration_id FROM exam_attempts WHERE id = $1`, st.Attempt.ID).Scan(&reg); err != nil {
		t.Fatal(err)
	}
	f.clock.add(20 * time.Minute)
	if err := f.svc.Decide(ctx, 0, reg, true, 25*time.Minute); err != nil {
		t.Fatal(err)
	}
	v, err := f.svc.Paper(ctx, st.Attempt.ID, p, st.DeviceToken)
	if err != nil {
		t.Fatal(err)
	}
	if want := st.Attempt.StartedAt.Add(85 * time.Minute); !v.Attempt.Deadline.Equal(want) {
		t.Errorf("deadline after 25 min extra: %v, want %v", v.Attempt.Deadline, want)
	}
	// At the old deadline the attempt is not due.
	f.clock.add(45 * time.Minute)
	if a, err := f.svc.Submit(ctx, st.Attempt.ID, 0, "", ByDeadline); err != nil || a.Status != Active {
		t.Errorf("deadline submit at the old deadline: %s, %v; want still active", a.Status, err)
	}
	f.clock.add(25 * time.Minute)
	if a, err := f.svc.Submit(ctx, st.Attempt.ID, 0, "", ByDeadline); err != nil || a.Status == Active {
		t.Errorf("deadline submit after the new deadline: %s, %v; want submitted", a.Status, err)
	}
}
