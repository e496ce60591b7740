package exams

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"shanyu/exams/bank"
)

// practiceCategory files the fixture's six session items under 保育/练习, adds three more under its
// subcategory 保育/练习/辅食 (in no session), and opens 保育/练习 for practice. It returns the
// category and the three free items' ids.
func (f *fixture) practiceCategory(t *testing.T) (int64, []int64) {
	t.Helper()
	ctx := context.Background()
	var ids []int64
	for _, st := range f.items {
		ids = append(ids, st.ID)
	}
	if _, err := bank.Move(ctx, f.pool, f.centre, ids, []string{"保育", "练习"}); err != nil {
		t.Fatal(err)
	}
	var free []int64
	for i := 0; i < 3; i++ {
		st, err := bank.Create(ctx, f.pool, f.centre, bank.Item{Type: bank.SingleChoice, Stem: fmt.Sprintf("练习题 %d", i), Format: bank.Plain,
			Points: 2, Explanation: "PRACTICE-EXPLANATION", Category: []string{"保育", "练习", "辅食"},
			Choices: []bank.Option{{Text: "RIGHT", Weight: 1}, {Text: "WRONG-A", Feedback: "WRONG-A-FEEDBACK"}, {Text: "WRONG-B"}}})
		if err != nil {
			t.Fatal(err)
		}
		free = append(free, st.ID)
	}
	cats, err := bank.Categories(ctx, f.pool, f.centre)
	if err != nil {
		t.Fatal(err)
	}
	var cat int64
	for _, c := range cats {
		if slices.Equal(c.Path, []string{"保育", "练习"}) {
			cat = c.ID
		}
	}
	if err := f.svc.OpenPractice(ctx, 0, f.centre, cat, true); err != nil {
		t.Fatal(err)
	}
	return cat, free
}

// countRows counts what practice must never write: attempts, answers, results, certificate
// requests and jobs, training hours.
func countRows(t *testing.T, f *fixture) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"exam_attempts", "exam_answers", "exam_results", "certificate_requests", "river_job", "hours_ledger"} {
		var n int
		if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func shownIndex(q *Question, text string) int {
	return slices.Index(q.Options, text)
}

// Practice draws only from the open category and never an item of a live session's pool; each
// answer gets its feedback and moves the running score; nothing is written where results, certificates
// or hours are; another learner cannot see or answer the run.
func TestPracticeGivesFeedbackAndNeverWritesResults(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	cat, free := f.practiceCategory(t)
	learner := f.candidate(t, "练习者", 0)
	other := f.candidate(t, "旁人", 0)
	before := countRows(t, f)

	pools, err := f.svc.PracticePools(ctx, f.centre)
	if err != nil || len(pools) != 1 || pools[0].Available != 3 {
		t.Fatalf("pools = %+v (%v), want the category with its 3 items outside the live session", pools, err)
	}
	run, err := f.svc.StartPractice(ctx, learner, cat)
	if err != nil {
		t.Fatal(err)
	}
	if run.Score.Asked != 3 {
		t.Fatalf("run asks %d items, want 3", run.Score.Asked)
	}
	if _, err := f.svc.Practice(ctx, run.ID, other); !errors.Is(err, ErrNotFound) {
		t.Errorf("another learner's practice: %v, want ErrNotFound", err)
	}
	if _, err := f.svc.PracticeNext(ctx, run.ID, other); !errors.Is(err, ErrNotFound) {
		t.Errorf("another learner draws: %v, want ErrNotFound", err)
	}
	var seen []int64
	for i, right := range []bool{true, false, true} {
		v, err := f.svc.PracticeNext(ctx, run.ID, learner)
		if err != nil {
			t.Fatal(err)
		}
		if v.Question == nil || v.Question.Position != i {
			t.Fatalf("item %d: view %+v", i, v)
		}
		again, err := f.svc.PracticeNext(ctx, run.ID, learner)
		if err != nil || again.Question == nil || again.Question.Stem != v.Question.Stem {
			t.Fatalf("asking again before answering gave %+v (%v), want the same item", again.Question, err)
		}
		var item int64
		if err := f.pool.QueryRow(ctx, `SELECT item_id FROM exam_practice_items WHERE run_id = $1 AND position = $2`, run.ID, i).Scan(&item); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(free, item) || slices.Contains(seen, item) {
			t.Fatalf("item %d is bank item %d: not one of the free items %v, or drawn twice (%v)", i, item, free, seen)
		}
		seen = append(seen, item)
		pick := shownIndex(v.Question, "RIGHT")
		if !right {
			pick = shownIndex(v.Question, "WRONG-A")
		}
		if _, err := f.svc.AnswerPractice(ctx, run.ID, other, i, Answer{Choices: []int{pick}}); !errors.Is(err, ErrNotFound) {
			t.Errorf("another learner answers: %v, want ErrNotFound", err)
		}
		fb, err := f.svc.AnswerPractice(ctx, run.ID, learner, i, Answer{Choices: []int{pick}})
		if err != nil {
			t.Fatal(err)
		}
		want := Feedback{Position: i, Correct: right, Earned: 0, Points: practicePoints, Answer: Answer{Choices: []int{pick}},
			Solution: Answer{Choices: []int{shownIndex(v.Question, "RIGHT")}}, Explanation: "PRACTICE-EXPLANATION", Format: "plain"}
		if right {
			want.Earned = practicePoints
		} else {
			want.Notes = []string{"WRONG-A-FEEDBACK"}
		}
		if d := cmp.Diff(want, fb.Feedback); d != "" {
			t.Errorf("item %d feedback (-want +got):\n%s", i, d)
		}
		if fb.Score.Answered != i+1 {
			t.Errorf("item %d: score %+v", i, fb.Score)
		}
		same, err := f.svc.AnswerPractice(ctx, run.ID, learner, i, Answer{Choices: []int{pick}})
		if err != nil || same.Feedback.Correct != fb.Correct || same.Score != fb.Score {
			t.Errorf("the same answer again: %+v (%v), want the same feedback and score", same, err)
		}
		if _, err := f.svc.AnswerPractice(ctx, run.ID, learner, i, Answer{Choices: []int{(pick + 1) % 3}}); !errors.Is(err, ErrPracticeAnswered) {
			t.Errorf("another answer to an answered item: %v, want ErrPracticeAnswered", err)
		}
	}
	v, err := f.svc.Practice(ctx, run.ID, learner)
	if err != nil {
		t.Fatal(err)
	}
	if want := (PracticeScore{Asked: 3, Answered: 3, Correct: 2, Earned: 2, Possible: 3}); !v.Done || v.Question != nil || v.Run.Score != want {
		t.Errorf("after the run: %+v, want done with %+v", v, want)
	}
	if _, err := f.svc.PracticeNext(ctx, run.ID, learner); !errors.Is(err, ErrPracticeDone) {
		t.Errorf("next after the last item: %v, want ErrPracticeDone", err)
	}
	if d := cmp.Diff(before, countRows(t, f)); d != "" {
		t.Errorf("practice wrote rows that count (-before +after):\n%s", d)
	}

	// Once its session is published and closed, a past paper's items may be practised.
	if _, err := f.svc.Publish(ctx, 0, f.session.ID); err != nil {
		t.Fatal(err)
	}
	if pools, _ := f.svc.PracticePools(ctx, f.centre); pools[0].Available != 3 {
		t.Errorf("published but still open: %d available, want 3", pools[0].Available)
	}
	f.clock.t = f.session.ClosesAt.Add(time.Minute)
	if pools, _ := f.svc.PracticePools(ctx, f.centre); pools[0].Available != 9 {
		t.Errorf("published and closed: %d available, want 9", pools[0].Available)
	}
	// Closing the category stops new runs.
	if err := f.svc.OpenPractice(ctx, 0, f.centre, cat, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.StartPractice(ctx, learner, cat); !errors.Is(err, ErrPracticeClosed) {
		t.Errorf("practice in a closed category: %v, want ErrPracticeClosed", err)
	}
}

// A category of another centre cannot be opened; an item is answered only at a drawn position.
func TestPracticeBounds(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	cat, _ := f.practiceCategory(t)
	g := newFixture(t, fixtureOpts{})
	if err := g.svc.OpenPractice(ctx, 0, g.centre, cat, true); err == nil {
		t.Error("a centre opened another centre's category")
	}
	learner := f.candidate(t, "练习者", 0)
	run, err := f.svc.StartPractice(ctx, learner, cat)
	if err != nil {
		t.Fatal(err)
	}
	for _, pos := range []int{-1, 0, 50} {
		if _, err := f.svc.AnswerPractice(ctx, run.ID, learner, pos, Answer{Choices: []int{0}}); err == nil {
			t.Errorf("answer at undrawn position %d accepted", pos)
		}
	}
	if _, err := f.svc.AnswerPractice(ctx, run.ID, learner, 0, Answer{Choices: make([]int, 65)}); err == nil {
		t.Error("an oversized answer accepted")
	}
}

// A candidate reviews their own wrong answers only when the session allows it and their result is
// published; another person never sees them.
func TestReviewOfWrongAnswers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	p := f.candidate(t, "复习者", 0)
	other := f.candidate(t, "旁人", 0)
	st, err := f.svc.Start(ctx, f.session.ID, p)
	if err != nil {
		t.Fatal(err)
	}
	paper, err := f.svc.StoredPaper(ctx, st.Attempt.ID)
	if err != nil {
		t.Fatal(err)
	}
	wrong := (correct(paper[1]) + 1) % 4
	if _, err := f.svc.Save(ctx, st.Attempt.ID, p, st.DeviceToken, 1, 0, Answer{Choices: []int{correct(paper[0])}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Save(ctx, st.Attempt.ID, p, st.DeviceToken, 2, 1, Answer{Choices: []int{wrong}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Submit(ctx, st.Attempt.ID, p, st.DeviceToken, ByCandidate); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ReviewAttempt(ctx, st.Attempt.ID, p); !errors.Is(err, ErrReviewClosed) {
		t.Errorf("review in a session that does not allow it (the default): %v, want ErrReviewClosed", err)
	}
	if err := f.svc.AllowReview(ctx, 0, f.session.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ReviewAttempt(ctx, st.Attempt.ID, p); !errors.Is(err, ErrReviewNotPublished) {
		t.Errorf("review before publication: %v, want ErrReviewNotPublished", err)
	}
	if _, err := f.svc.Publish(ctx, 0, f.session.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ReviewAttempt(ctx, st.Attempt.ID, other); !errors.Is(err, ErrNotFound) {
		t.Errorf("another person's review: %v, want ErrNotFound", err)
	}
	r, err := f.svc.ReviewAttempt(ctx, st.Attempt.ID, p)
	if err != nil {
		t.Fatal(err)
	}
	if r.Items != 5 || len(r.Wrong) != 4 {
		t.Fatalf("review: %d items, %d wrong, want 5 and 4 (one right)", r.Items, len(r.Wrong))
	}
	first := r.Wrong[0]
	if first.Position != 1 || first.Question.Position != 1 || !cmp.Equal(first.Answer.Choices, []int{wrong}) ||
		!cmp.Equal(first.Solution.Choices, []int{correct(paper[1])}) || first.Earned != 0 || first.Explanation != "KEY-EXPLANATION" {
		t.Errorf("the wrong answer: %+v", first)
	}
	for _, w := range r.Wrong[1:] {
		if len(w.Answer.Choices) != 0 || len(w.Solution.Choices) != 1 {
			t.Errorf("unanswered item %d: %+v", w.Position, w.Feedback)
		}
	}
	if err := f.svc.AllowReview(ctx, 0, f.session.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ReviewAttempt(ctx, st.Attempt.ID, p); !errors.Is(err, ErrReviewClosed) {
		t.Errorf("review after the centre turned it off: %v, want ErrReviewClosed", err)
	}
}

// The solution of each objective type scores full marks through the paper's shuffle.
func TestSolutionScoresFullMarks(t *testing.T) {
	t.Parallel()
	stem, gaps, err := bank.ParseCloze("A {1:MCS:=right~w1~w2} B {2:SA:=ok} C {1:NM:=2:0.5} D {1:MRS:=p~=q~r}")
	if err != nil {
		t.Fatal(err)
	}
	items := []bank.Item{
		{Type: bank.SingleChoice, Points: 1, Choices: []bank.Option{{Text: "a"}, {Text: "b", Weight: 1}, {Text: "c"}}},
		{Type: bank.MultipleChoice, Points: 1, Scoring: bank.AllOrNothing, Choices: []bank.Option{{Text: "a", Weight: 0.5}, {Text: "b"}, {Text: "c", Weight: 0.5}}},
		{Type: bank.TrueFalse, Points: 1, Truth: false},
		{Type: bank.FillBlank, Points: 1, Blanks: []bank.Blank{{Accepted: []bank.Option{{Text: "x", Weight: 0.5}, {Text: "y", Weight: 1}}}}},
		{Type: bank.Numeric, Points: 1, Numbers: []bank.NumericAnswer{{Value: 3.5, Tolerance: 0.1, Weight: 1}}},
		{Type: bank.Matching, Points: 1, Pairs: []bank.Pair{{Left: "l1", Right: "r1"}, {Left: "l2", Right: "r2"}, {Right: "r3"}}},
		{Type: bank.Cloze, Points: 1, Stem: stem, Gaps: gaps},
	}
	for _, it := range items {
		pi := PaperItem{Points: 4}
		if n := optionCount(it); n > 0 {
			for k := n - 1; k >= 0; k-- {
				pi.OptionOrder = append(pi.OptionOrder, k)
			}
		}
		sol := solutionOf(pi, it)
		if got := scoreItem(pi, it, &sol); got != 4 {
			t.Errorf("%s: solution %+v scores %v, want 4", it.Type, sol, got)
		}
	}
}
