package exams

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"shanyu/accounts"
	"shanyu/curriculum"
	"shanyu/exams/bank"
	"shanyu/internal/jobs"
	"shanyu/internal/pgtest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var seq atomic.Int64

type fixture struct {
	pool    *pgxpool.Pool
	svc     *Service
	clock   *clock
	centre  int64
	items   []bank.Stored // 6 single choice (correct option: index 0) then 1 essay
	session Session
	ids     *fakeIdentities // whose identity staff verified
}

type fixtureOpts struct {
	mode     string
	grace    time.Duration
	duration time.Duration
	essay    bool
	hours    HoursSource   // nil: the curriculum service's ledger, where nobody has hours
	conduct  ConductSource // nil: a ledger with no record (audits builds on the app's adapters, which this package cannot import)
	minHours float64
}

func newFixture(t *testing.T, o fixtureOpts) *fixture {
	t.Helper()
	if o.mode == "" {
		o.mode = Random
	}
	if o.duration == 0 {
		o.duration = time.Hour
	}
	ctx := context.Background()
	f := &fixture{pool: pgtest.New(t), clock: &clock{t: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}, ids: &fakeIdentities{}}
	inserter, err := jobs.NewInserter(f.pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := accounts.New(f.pool, []byte("exams test secret of 32 bytes!!!"), accounts.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if o.hours == nil {
		o.hours = curriculum.New(f.pool, []byte("exams test secret of 32 bytes!!!"), curriculum.Options{Directory: acc})
	}
	if o.conduct == nil {
		o.conduct = &ledger{}
	}
	f.svc = New(f.pool, Options{Now: f.clock.now, Identity: f.ids, Names: acc, Jobs: inserter, Hours: o.hours, Conduct: o.conduct, Notices: accounts.NewNotices(inserter)})
	if _, err := f.pool.Exec(ctx, `INSERT INTO regions (code, gb_code, name) VALUES ('33', '330000', '浙江省') ON CONFLICT DO NOTHING`); err != nil {
		t.Fatal(err)
	}
	if err := f.pool.QueryRow(ctx, `INSERT INTO organisations (kind, code, name, region_code) VALUES ('training_centre', $1, '培训中心', '33') RETURNING id`,
		fmt.Sprintf("EX%d", seq.Add(1))).Scan(&f.centre); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		st, err := bank.Create(ctx, f.pool, f.centre, bank.Item{Type: bank.SingleChoice, Stem: fmt.Sprintf("问题 %d", i), Format: bank.Plain, Points: 1,
			Explanation: "KEY-EXPLANATION", Choices: []bank.Option{{Text: fmt.Sprintf("对%d", i), Weight: 1, Feedback: "KEY-FEEDBACK"}, {Text: "错A"}, {Text: "错B"}, {Text: "错C"}}})
		if err != nil {
			t.Fatal(err)
		}
		f.items = append(f.items, st)
	}
	sections := []Section{{Name: "单选", Part: Theory, Count: 5, Points: 20, Type: bank.SingleChoice}}
	if o.essay {
		st, err := bank.Create(ctx, f.pool, f.centre, bank.Item{Type: bank.Essay, Stem: "论述", Format: bank.Plain, Points: 10,
			Rubric: []bank.Criterion{{Text: "要点", Points: 10}}})
		if err != nil {
			t.Fatal(err)
		}
		f.items = append(f.items, st)
		sections = append(sections, Section{Name: "实操", Part: Practical, Count: 1, Points: 100, Type: bank.Essay})
	}
	b, err := f.svc.CreateBlueprint(ctx, 0, Blueprint{CentreID: f.centre, Name: "四级", Occupation: "4-10-01-03", Level: 4, Mode: o.mode, Sections: sections})
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.now()
	f.session, err = f.svc.CreateSession(ctx, 0, Session{CentreID: f.centre, BlueprintID: b.ID, Name: "五月批次", OpensAt: now.Add(-time.Minute),
		ClosesAt: now.Add(3 * time.Hour), LatestStartAt: now.Add(time.Hour), Duration: o.duration, Grace: o.grace,
		TheoryPass: DefaultTheoryPass, PracticalPass: DefaultPracticalPass, MinHours: o.minHours})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// candidate registers an approved person with extra time.
func (f *fixture) candidate(t *testing.T, name string, extra time.Duration) int64 {
	t.Helper()
	ctx := context.Background()
	var person int64
	if err := f.pool.QueryRow(ctx, `INSERT INTO people (name) VALUES ($1) RETURNING id`, name).Scan(&person); err != nil {
		t.Fatal(err)
	}
	f.ids.verify(person)
	r, err := f.svc.Register(ctx, f.session.ID, person)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Decide(ctx, 0, r.ID, true, extra); err != nil {
		t.Fatal(err)
	}
	return person
}

// correct is the displayed index of the right option of a paper item (the original index 0).
func correct(p PaperItem) int {
	for shown, orig := range p.OptionOrder {
		if orig == 0 {
			return shown
		}
	}
	return -1
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		extra  time.Duration
		closes time.Time
		want   time.Time
	}{
		{"duration only", 0, start.Add(5 * time.Hour), start.Add(90 * time.Minute)},
		{"extra time adds up", 30 * time.Minute, start.Add(5 * time.Hour), start.Add(120 * time.Minute)},
		{"session close cuts it", 30 * time.Minute, start.Add(100 * time.Minute), start.Add(100 * time.Minute)},
	}
	for _, tc := range tests {
		if got := Deadline(start, 90*time.Minute, tc.extra, tc.closes); !got.Equal(tc.want) {
			t.Errorf("%s: deadline %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestStartSetsDeadlineWithExtraTimeCloseAndGrace(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{grace: 30 * time.Second, duration: 2 * time.Hour})
	ctx := context.Background()
	p := f.candidate(t, "张三", 45*time.Minute)
	f.clock.add(30 * time.Minute)
	st, err := f.svc.Start(ctx, f.session.ID, p)
	if err != nil {
		t.Fatal(err)
	}
	// start 9:30 + 2 h + 45 min = 12:15, but the session closes at 12:00
	if want := f.session.ClosesAt; !st.Attempt.Deadline.Equal(want) {
		t.Errorf("deadline %v, want the session close %v", st.Attempt.Deadline, want)
	}
	if want := f.session.ClosesAt.Add(30 * time.Second); !st.Attempt.AcceptUntil.Equal(want) {
		t.Errorf("accept until %v, want %v", st.Attempt.AcceptUntil, want)
	}
}

func TestPaperIsRebuiltIdenticallyFromItsSeed(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{Fixed, Random} {
		f := newFixture(t, fixtureOpts{mode: mode, essay: true})
		ctx := context.Background()
		st, err := f.svc.Start(ctx, f.session.ID, f.candidate(t, "李四", 0))
		if err != nil {
			t.Fatal(err)
		}
		stored, err := f.svc.StoredPaper(ctx, st.Attempt.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != 6 {
			t.Fatalf("%s: paper has %d items, want 6", mode, len(stored))
		}
		rebuilt, err := f.svc.Rebuild(ctx, st.Attempt.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(stored, rebuilt); d != "" {
			t.Errorf("%s: rebuilt paper differs (-stored +rebuilt):\n%s", mode, d)
		}
		var delivered int
		if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM bank_item_versions v JOIN exam_attempt_paper i ON i.version_id = v.id
			WHERE i.attempt_id = $1 AND v.delivered_at IS NOT NULL`, st.Attempt.ID).Scan(&delivered); err != nil {
			t.Fatal(err)
		}
		if delivered != 6 {
			t.Errorf("%s: %d of 6 versions marked delivered", mode, delivered)
		}
	}
}

func TestSaveIsIdempotentAndLateSavesAreRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{grace: 20 * time.Second})
	ctx := context.Background()
	p := f.candidate(t, "王五", 0)
	st, err := f.svc.Start(ctx, f.session.ID, p)
	if err != nil {
		t.Fatal(err)
	}
	id, dev := st.Attempt.ID, st.DeviceToken
	first, err := f.svc.Save(ctx, id, p, dev, 1, 0, Answer{Choices: []int{2}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.svc.Save(ctx, id, p, dev, 1, 0, Answer{Choices: []int{2}}, nil)
	if err != nil {
		t.Fatalf("repeated save: %v", err)
	}
	if !again.SavedAt.Equal(first.SavedAt) {
		t.Errorf("repeated save acknowledged at %v, first at %v", again.SavedAt, first.SavedAt)
	}
	if _, err := f.svc.Save(ctx, id, p, dev, 1, 0, Answer{Choices: []int{3}}, nil); !errors.Is(err, ErrSeqReused) {
		t.Errorf("other answer under a used seq: %v, want ErrSeqReused", err)
	}
	var rows int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM exam_answers WHERE attempt_id = $1`, id).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("answer rows %d (%v), want 1", rows, err)
	}
	if _, err := f.svc.Save(ctx, id, p, dev, 2, 99, Answer{}, nil); !errors.Is(err, ErrBadAnswer) {
		t.Errorf("save to a position not on the paper: %v", err)
	}
	// within the grace period: accepted
	f.clock.t = st.Attempt.Deadline.Add(10 * time.Second)
	if _, err := f.svc.Save(ctx, id, p, dev, 3, 1, Answer{Choices: []int{1}}, nil); err != nil {
		t.Errorf("save within grace: %v", err)
	}
	f.clock.t = st.Attempt.AcceptUntil.Add(time.Second)
	typed := st.Attempt.Deadline.Add(-time.Minute)
	if _, err := f.svc.Save(ctx, id, p, dev, 4, 1, Answer{Choices: []int{0}}, &typed); !errors.Is(err, ErrRecordedLate) {
		t.Errorf("save after deadline + grace: %v, want ErrRecordedLate", err)
	}
	// not counted, but kept with the device, the arrival time and the phone's claim
	ev, err := f.svc.AttemptEvidence(ctx, id)
	if err != nil || len(ev) != 1 || ev[0].Position != 1 || ev[0].Device != 1 || ev[0].Seq != 4 || ev[0].Reason != EvidenceLate ||
		ev[0].TypedAt == nil || !ev[0].TypedAt.Equal(typed) || !ev[0].ArrivedAt.Equal(f.clock.t) || ev[0].Response.Choices[0] != 0 {
		t.Errorf("evidence = %+v (%v), want the late answer to item 1", ev, err)
	}
	if _, err := f.svc.Save(ctx, id, p, dev, 4, 1, Answer{Choices: []int{0}}, &typed); !errors.Is(err, ErrRecordedLate) {
		t.Errorf("late save sent again: %v, want ErrRecordedLate again", err)
	}
	if ev, _ := f.svc.AttemptEvidence(ctx, id); len(ev) != 1 {
		t.Errorf("a resent late save kept %d times", len(ev))
	}
	// an acknowledged save sent again after the deadline is still acknowledged
	if _, err := f.svc.Save(ctx, id, p, dev, 3, 1, Answer{Choices: []int{1}}, nil); err != nil {
		t.Errorf("repeat of an acknowledged save after the deadline: %v", err)
	}
}

// One device holds an attempt; another takes it over only by asking; sequence numbers are the
// device's own, so they never collide; what a device sends after losing the attempt is kept as
// evidence, and a device that never held it (or sends no token) is refused without a record.
func TestTakeoverIsExplicitAndNothingIsDroppedWithoutARecord(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	p := f.candidate(t, "赵六", 0)
	phone, err := f.svc.Start(ctx, f.session.ID, p)
	if err != nil {
		t.Fatal(err)
	}
	id := phone.Attempt.ID
	if _, err := f.svc.Save(ctx, id, p, phone.DeviceToken, 1, 0, Answer{Choices: []int{1}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Start(ctx, f.session.ID, p); !errors.Is(err, ErrHeldElsewhere) {
		t.Fatalf("second start without asking: %v, want ErrHeldElsewhere", err)
	}
	if _, err := f.svc.Save(ctx, id, p, phone.DeviceToken, 2, 1, Answer{Choices: []int{2}}, nil); err != nil {
		t.Errorf("the refused start changed the holder: %v", err)
	}
	laptop, err := f.svc.TakeOver(ctx, f.session.ID, p)
	if err != nil {
		t.Fatal(err)
	}
	if !laptop.Resumed || laptop.Attempt.ID != id || laptop.Attempt.Device != 2 || !laptop.Attempt.Deadline.Equal(phone.Attempt.Deadline) {
		t.Fatalf("take over = %+v, want the same attempt on device 2", laptop)
	}
	if _, err := f.svc.AttemptState(ctx, id, p, phone.DeviceToken, false); !errors.Is(err, ErrTakenOver) {
		t.Errorf("older device state poll: %v, want ErrTakenOver", err)
	}
	if _, err := f.svc.Paper(ctx, id, p, phone.DeviceToken); !errors.Is(err, ErrTakenOver) {
		t.Errorf("older device paper: %v, want ErrTakenOver", err)
	}
	for _, dev := range []string{"", "0123456789abcdef0123456789abcdef"} {
		if _, err := f.svc.AttemptState(ctx, id, p, dev, false); !errors.Is(err, ErrTakenOver) {
			t.Errorf("state with token %q: %v, want ErrTakenOver", dev, err)
		}
		if _, err := f.svc.Save(ctx, id, p, dev, 9, 2, Answer{Choices: []int{0}}, nil); !errors.Is(err, ErrTakenOver) {
			t.Errorf("save with token %q: %v, want ErrTakenOver", dev, err)
		}
		if _, err := f.svc.Submit(ctx, id, p, dev, ByCandidate); !errors.Is(err, ErrTakenOver) {
			t.Errorf("submit with token %q: %v, want ErrTakenOver", dev, err)
		}
	}
	// The old device's unsent answer: refused, kept with the device that typed it.
	typed := f.clock.t.Add(-3 * time.Second)
	if _, err := f.svc.Save(ctx, id, p, phone.DeviceToken, 3, 2, Answer{Choices: []int{2}}, &typed); !errors.Is(err, ErrRecordedTakenOver) {
		t.Errorf("older device save: %v, want ErrRecordedTakenOver", err)
	}
	// The new device numbers from 1: no collision with the phone's 1–3.
	if _, err := f.svc.Save(ctx, id, p, laptop.DeviceToken, 1, 1, Answer{Choices: []int{0}}, nil); err != nil {
		t.Fatalf("newer device save: %v", err)
	}
	v, err := f.svc.Paper(ctx, id, p, laptop.DeviceToken)
	if err != nil {
		t.Fatal(err)
	}
	if v.LastSeq != 1 || v.Answers[0].Choices[0] != 1 || v.Answers[1].Choices[0] != 0 || len(v.Answers) != 2 {
		t.Errorf("view on the new device: last seq %d, answers %v; want 1, item 0 from the phone, item 1 from the laptop", v.LastSeq, v.Answers)
	}
	if len(v.Evidence) != 1 || v.Evidence[0].Position != 2 || v.Evidence[0].Device != 1 || v.Evidence[0].Reason != EvidenceTakenOver {
		t.Errorf("evidence = %+v, want the phone's answer to item 2", v.Evidence)
	}
	// The phone asks for the attempt back: device 3; the laptop is now the one refused.
	back, err := f.svc.TakeOver(ctx, f.session.ID, p)
	if err != nil || back.Attempt.Device != 3 {
		t.Fatalf("take back = %+v, %v", back, err)
	}
	if _, err := f.svc.Save(ctx, id, p, laptop.DeviceToken, 2, 1, Answer{Choices: []int{2}}, nil); !errors.Is(err, ErrRecordedTakenOver) {
		t.Errorf("laptop after the phone took back: %v", err)
	}
	if _, err := f.svc.Save(ctx, id, p, back.DeviceToken, 1, 1, Answer{Choices: []int{1}}, nil); err != nil {
		t.Fatal(err)
	}
	a, err := f.svc.Submit(ctx, id, p, back.DeviceToken, ByCandidate)
	if err != nil {
		t.Fatal(err)
	}
	answers, err := latestAnswers(ctx, f.pool, id)
	if err != nil || answers[1].Choices[0] != 1 || answers[2] != nil {
		t.Errorf("graded answers %v (%v): item 1 from the last device, item 2 not counted", answers, err)
	}
	var signals int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM exam_signals WHERE attempt_id = $1 AND kind = 'device_change'`, a.ID).Scan(&signals); err != nil || signals != 2 {
		t.Errorf("device changes logged: %d (%v), want 2", signals, err)
	}
	if _, err := f.svc.Paper(ctx, id, p+1000, back.DeviceToken); !errors.Is(err, ErrNotFound) {
		t.Errorf("someone else's attempt: %v, want ErrNotFound", err)
	}
	// Submitted: the device that held it last reads it; no other token does, nor no token.
	if _, err := f.svc.Paper(ctx, id, p, back.DeviceToken); err != nil {
		t.Errorf("last device reading the submitted attempt: %v", err)
	}
	for _, dev := range []string{"", phone.DeviceToken, laptop.DeviceToken} {
		if _, err := f.svc.Paper(ctx, id, p, dev); !errors.Is(err, ErrTakenOver) {
			t.Errorf("submitted attempt read with token %q: %v, want ErrTakenOver", dev, err)
		}
	}
}

func TestSubmitIsIdempotentAndGradesObjectiveItems(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	p := f.candidate(t, "钱七", 0)
	st, err := f.svc.Start(ctx, f.session.ID, p)
	if err != nil {
		t.Fatal(err)
	}
	paper, _ := f.svc.StoredPaper(ctx, st.Attempt.ID)
	for i, pi := range paper[:3] { // three right answers, then one wrong one
		if _, err := f.svc.Save(ctx, st.Attempt.ID, p, st.DeviceToken, int64(i+1), pi.Position, Answer{Choices: []int{correct(pi)}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	wrong := (correct(paper[3]) + 1) % 4
	if _, err := f.svc.Save(ctx, st.Attempt.ID, p, st.DeviceToken, 4, paper[3].Position, Answer{Choices: []int{wrong}}, nil); err != nil {
		t.Fatal(err)
	}
	a, err := f.svc.Submit(ctx, st.Attempt.ID, p, st.DeviceToken, ByCandidate)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != Graded || a.Theory != (Score{Earned: 60, Possible: 100}) {
		t.Errorf("submitted: status %s, theory %+v; want graded 60/100", a.Status, a.Theory)
	}
	again, err := f.svc.Submit(ctx, st.Attempt.ID, p, st.DeviceToken, ByCandidate)
	if err != nil || again.Theory != a.Theory || !again.SubmittedAt.Equal(*a.SubmittedAt) {
		t.Errorf("second submit: %+v, %v", again, err)
	}
	if _, err := f.svc.Save(ctx, st.Attempt.ID, p, st.DeviceToken, 5, 0, Answer{Choices: []int{0}}, nil); !errors.Is(err, ErrRecordedLate) {
		t.Errorf("save after submit: %v, want ErrRecordedLate", err)
	}
	if _, err := f.svc.Start(ctx, f.session.ID, p); !errors.Is(err, ErrNoAttemptsLeft) {
		t.Errorf("second attempt: %v, want ErrNoAttemptsLeft", err)
	}
}

func TestSweepJobSubmitsExpiredAttempts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{grace: 10 * time.Second})
	ctx := context.Background()
	p := f.candidate(t, "孙八", 0)
	st, err := f.svc.Start(ctx, f.session.ID, p)
	if err != nil {
		t.Fatal(err)
	}
	var jobs int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind <> 'exams.build_paper'`).Scan(&jobs); err != nil || jobs != 0 {
		t.Errorf("start enqueued %d jobs (%v), want none: the sweep enforces deadlines", jobs, err)
	}
	paper, _ := f.svc.StoredPaper(ctx, st.Attempt.ID)
	if _, err := f.svc.Save(ctx, st.Attempt.ID, p, st.DeviceToken, 1, paper[0].Position, Answer{Choices: []int{correct(paper[0])}}, nil); err != nil {
		t.Fatal(err)
	}
	w := &SweepWorker{Exams: f.svc}
	job := &river.Job[SweepArgs]{}
	f.clock.t = st.Attempt.Deadline.Add(5 * time.Second) // in the grace period: not yet
	if err := w.Work(ctx, job); err != nil {
		t.Fatal(err)
	}
	if v, _ := f.svc.AttemptState(ctx, st.Attempt.ID, p, st.DeviceToken, false); v.Status != Active {
		t.Fatalf("status after a sweep within the grace period: %s, want active", v.Status)
	}
	f.clock.t = st.Attempt.AcceptUntil.Add(time.Second)
	if err := w.Work(ctx, job); err != nil {
		t.Fatal(err)
	}
	v, err := f.svc.AttemptState(ctx, st.Attempt.ID, p, st.DeviceToken, false)
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != Graded {
		t.Fatalf("status after the sweep: %s", v.Status)
	}
	a, _ := f.svc.ownAttempt(ctx, f.pool, st.Attempt.ID, p, st.DeviceToken, "")
	if a.Reason != ByDeadline || a.Theory.Earned != 20 {
		t.Errorf("auto-submitted attempt: reason %q, theory %+v", a.Reason, a.Theory)
	}
	// submission is final: the next sweep finds nothing more to do
	if n, err := f.svc.SubmitOverdue(ctx); err != nil || n != 0 {
		t.Errorf("sweep after the job: %d, %v", n, err)
	}
	// a job queued by an earlier version for the same attempt is worked without effect
	legacy := &AutoSubmitWorker{Exams: f.svc}
	if err := legacy.Work(ctx, &river.Job[AutoSubmitArgs]{Args: AutoSubmitArgs{AttemptID: st.Attempt.ID}}); err != nil {
		t.Errorf("legacy auto-submit job: %v", err)
	}
}

func TestSweeperSubmitsOverdueAttempts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	for _, name := range []string{"甲", "乙", "丙"} {
		if _, err := f.svc.Start(ctx, f.session.ID, f.candidate(t, name, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := f.svc.SubmitOverdue(ctx); n != 0 {
		t.Fatalf("swept %d attempts before their deadline", n)
	}
	f.clock.add(2 * time.Hour)
	// batches of one: the sweep goes on until no overdue attempt is left
	if n, err := f.svc.submitOverdue(ctx, 1); err != nil || n != 3 {
		t.Errorf("swept %d (%v), want 3", n, err)
	}
	var active int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM exam_attempts WHERE session_id = $1 AND status = 'active'`, f.session.ID).Scan(&active); err != nil || active != 0 {
		t.Errorf("%d attempts still active after the sweep (%v)", active, err)
	}
}

func TestConcurrentStartsMakeOneAttempt(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	p := f.candidate(t, "丁", 0)
	const devices = 8
	results := make([]Started, devices)
	errs := make([]error, devices)
	var wg sync.WaitGroup
	for i := range devices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = f.svc.TakeOver(ctx, f.session.ID, p) // every device asks for the attempt
		}()
	}
	wg.Wait()
	fresh := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
		if results[i].Attempt.ID != results[0].Attempt.ID {
			t.Errorf("start %d got attempt %d, start 0 got %d", i, results[i].Attempt.ID, results[0].Attempt.ID)
		}
		if !results[i].Resumed {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d starts created an attempt, want 1", fresh)
	}
	numbers := map[int]bool{}
	for _, r := range results {
		numbers[r.Attempt.Device] = true
	}
	if len(numbers) != devices {
		t.Errorf("device numbers %v, want %d distinct", numbers, devices)
	}
	var n, signals int
	if err := f.pool.QueryRow(ctx, `SELECT count(*), (SELECT count(*) FROM exam_signals s WHERE s.attempt_id = $2 AND s.kind = 'device_change')
		FROM exam_attempts WHERE session_id = $1`, f.session.ID, results[0].Attempt.ID).Scan(&n, &signals); err != nil {
		t.Fatal(err)
	}
	if n != 1 || signals != devices-1 {
		t.Errorf("%d attempts and %d device changes, want 1 and %d", n, signals, devices-1)
	}
	// the device that started last holds the attempt: exactly one token is accepted
	held := 0
	for i, r := range results {
		if _, err := f.svc.Paper(ctx, r.Attempt.ID, p, r.DeviceToken); err == nil {
			held++
		} else if !errors.Is(err, ErrTakenOver) {
			t.Errorf("paper for device %d: %v", i, err)
		}
	}
	if held != 1 {
		t.Errorf("%d devices hold the attempt, want 1", held)
	}
}

// A province's candidates start together on a bank none of whose versions was delivered yet: every
// start inserts its paper (whose foreign keys share-lock the versions, in paper order) and marks the
// versions delivered. Marking must not take a lock that conflicts with those key-share locks, or the
// starts deadlock against each other (exam day: 199 of 200 starts refused in the bench).
func TestManyCandidatesStartTogetherOnAFreshBank(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	const n = 24
	people := make([]int64, n)
	for i := range people {
		people[i] = f.candidate(t, fmt.Sprintf("考生%d", i), 0)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range people {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			_, errs[i] = f.svc.Start(ctx, f.session.ID, people[i])
		}()
	}
	close(gate)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("start %d: %v", i, err)
		}
	}
	var deadlocks int64
	if err := f.pool.QueryRow(ctx, `SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`).Scan(&deadlocks); err != nil {
		t.Fatal(err)
	}
	if deadlocks != 0 {
		t.Errorf("%d deadlocks among %d starts", deadlocks, n)
	}
}

func TestPassRule(t *testing.T) {
	t.Parallel()
	x := Session{TheoryPass: 60, PracticalPass: 60}
	tests := []struct {
		name      string
		theory    Score
		practical Score
		want      bool
	}{
		{"both at 60 pass", Score{60, 100}, Score{30, 50}, true},
		{"theory below", Score{59.5, 100}, Score{100, 100}, false},
		{"practical below", Score{100, 100}, Score{59, 100}, false},
		{"no practical part: theory decides", Score{70, 100}, Score{}, true},
		{"nothing scored fails", Score{}, Score{}, false},
	}
	for _, tc := range tests {
		if got := x.Passes(tc.theory, tc.practical); got != tc.want {
			t.Errorf("%s: passes = %v, want %v", tc.name, got, tc.want)
		}
	}
	strict := Session{TheoryPass: 80, PracticalPass: 60}
	if strict.Passes(Score{70, 100}, Score{}) {
		t.Error("a configured theory pass mark of 80 let 70 pass")
	}
}

func TestMarkingPublishAndIssuanceRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{essay: true})
	ctx := context.Background()
	pass, fail := f.candidate(t, "通过者", 0), f.candidate(t, "未通过", 0)
	for _, who := range []int64{pass, fail} {
		st, err := f.svc.Start(ctx, f.session.ID, who)
		if err != nil {
			t.Fatal(err)
		}
		paper, _ := f.svc.StoredPaper(ctx, st.Attempt.ID)
		n := int64(0)
		for _, pi := range paper {
			if len(pi.OptionOrder) > 0 && who == pass {
				n++
				if _, err := f.svc.Save(ctx, st.Attempt.ID, who, st.DeviceToken, n, pi.Position, Answer{Choices: []int{correct(pi)}}, nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := f.svc.Submit(ctx, st.Attempt.ID, who, st.DeviceToken, ByCandidate); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.Publish(ctx, 0, f.session.ID); !errors.Is(err, ErrMarkingOpen) {
		t.Fatalf("publish with essays unmarked: %v", err)
	}
	examiner := f.examiner(t, "examiner-x")
	queue, err := f.svc.MarkingQueue(ctx, f.session.ID, examiner)
	if err != nil || len(queue) != 2 {
		t.Fatalf("marking queue: %d tasks, %v", len(queue), err)
	}
	for _, task := range queue {
		if err := f.svc.Mark(ctx, examiner, task.AttemptID, task.Position, []float64{8}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := f.svc.Publish(ctx, examiner, f.session.ID)
	if err != nil || n != 2 {
		t.Fatalf("publish: %d, %v", n, err)
	}
	results, _ := f.svc.Results(ctx, f.session.ID)
	got := map[string]bool{}
	for _, r := range results {
		got[r.Name] = r.Passed
	}
	if d := cmp.Diff(map[string]bool{"通过者": true, "未通过": false}, got); d != "" {
		t.Errorf("results (-want +got):\n%s", d)
	}
	var requests int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM certificate_requests WHERE person_id = $1 AND occupation_code = '4-10-01-03' AND level = 4`, pass).Scan(&requests); err != nil || requests != 1 {
		t.Errorf("issuance requests for the pass: %d (%v), want 1", requests, err)
	}
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM certificate_requests WHERE person_id = $1`, fail).Scan(&requests); err != nil || requests != 0 {
		t.Errorf("issuance requests for the fail: %d, want 0", requests)
	}
}

func (f *fixture) examiner(t *testing.T, username string) int64 {
	t.Helper()
	var id int64
	if err := f.pool.QueryRow(context.Background(), `WITH p AS (INSERT INTO people (name) VALUES ('考评员') RETURNING id)
		INSERT INTO users (person_id, username, password_hash) SELECT id, $1, 'x' FROM p RETURNING id`, username).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestDoubleMarkingWithArbitration(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{essay: true})
	ctx := context.Background()
	if _, err := f.pool.Exec(ctx, `UPDATE exam_sessions SET double_marking = true, arbitration_gap = 10 WHERE id = $1`, f.session.ID); err != nil {
		t.Fatal(err)
	}
	p := f.candidate(t, "双评", 0)
	st, err := f.svc.Start(ctx, f.session.ID, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Submit(ctx, st.Attempt.ID, p, st.DeviceToken, ByCandidate); err != nil {
		t.Fatal(err)
	}
	a, b, c := f.examiner(t, "ex-a"), f.examiner(t, "ex-b"), f.examiner(t, "ex-c")
	task := func(who int64) MarkTask {
		t.Helper()
		q, err := f.svc.MarkingQueue(ctx, f.session.ID, who)
		if err != nil || len(q) != 1 {
			t.Fatalf("queue of %d: %v, %v", who, q, err)
		}
		return q[0]
	}
	practical := func() (earned *float64) {
		t.Helper()
		if err := f.pool.QueryRow(ctx, `SELECT earned::float8 FROM exam_attempt_items WHERE attempt_id = $1 AND part = 'practical'`, st.Attempt.ID).Scan(&earned); err != nil {
			t.Fatal(err)
		}
		return earned
	}
	first := task(a)
	if err := f.svc.Mark(ctx, a, first.AttemptID, first.Position, []float64{8}); err != nil {
		t.Fatal(err)
	}
	if q, _ := f.svc.MarkingQueue(ctx, f.session.ID, a); len(q) != 0 {
		t.Errorf("the first examiner still sees the answer: %v", q)
	}
	if err := f.svc.Mark(ctx, a, first.AttemptID, first.Position, []float64{9}); !errors.Is(err, ErrMarkedAlready) {
		t.Errorf("second mark by the same examiner: %v", err)
	}
	if practical() != nil {
		t.Fatal("one marking scored a double-marked item")
	}
	if second := task(b); second.Round != 2 {
		t.Errorf("second task round %d", second.Round)
	}
	// 80 and 20 of 100 differ by more than the gap of 10: arbitration
	if err := f.svc.Mark(ctx, b, first.AttemptID, first.Position, []float64{2}); err != nil {
		t.Fatal(err)
	}
	if practical() != nil {
		t.Fatal("marks 60 points apart were averaged instead of going to arbitration")
	}
	if third := task(c); third.Round != 3 {
		t.Errorf("arbitration task round %d", third.Round)
	}
	if err := f.svc.Mark(ctx, c, first.AttemptID, first.Position, []float64{6}); err != nil {
		t.Fatal(err)
	}
	if e := practical(); e == nil || *e != 60 {
		t.Errorf("after arbitration the item earned %v, want 60", e)
	}
	var status string
	if err := f.pool.QueryRow(ctx, `SELECT status FROM exam_attempts WHERE id = $1`, st.Attempt.ID).Scan(&status); err != nil || status != Graded {
		t.Errorf("attempt status %q (%v), want graded", status, err)
	}
}

func TestRegradeDryRunListsWhoChanges(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{mode: Fixed})
	ctx := context.Background()
	// Both pick the same original option ("错A", index 1) on every question of the fixed paper: 0 points.
	people := []int64{f.candidate(t, "甲", 0), f.candidate(t, "乙", 0)}
	for _, who := range people {
		st, err := f.svc.Start(ctx, f.session.ID, who)
		if err != nil {
			t.Fatal(err)
		}
		paper, _ := f.svc.StoredPaper(ctx, st.Attempt.ID)
		for i, pi := range paper {
			shown := 0
			for s, o := range pi.OptionOrder {
				if o == 1 {
					shown = s
				}
			}
			if who == people[1] {
				shown = correct(pi) // the second candidate answers the original key
			}
			if _, err := f.svc.Save(ctx, st.Attempt.ID, who, st.DeviceToken, int64(i+1), pi.Position, Answer{Choices: []int{shown}}, nil); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.svc.Submit(ctx, st.Attempt.ID, who, st.DeviceToken, ByCandidate); err != nil {
			t.Fatal(err)
		}
	}
	// Correct the key of every item: "错A" was right all along.
	for _, st := range f.items {
		it := st.Item
		it.Choices[0].Weight, it.Choices[1].Weight = 0, 1
		if _, err := bank.Update(ctx, f.pool, 0, f.centre, st.ID, it); err != nil {
			t.Fatal(err)
		}
	}
	changes, err := f.svc.Regrade(ctx, 0, f.session.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Change{}
	for _, c := range changes {
		byName[c.Name] = c
	}
	if c := byName["甲"]; c.TheoryBefore != 0 || c.TheoryAfter != 100 || c.PassedBefore || !c.PassedAfter {
		t.Errorf("甲: %+v, want 0 → 100 and a new pass", c)
	}
	if c := byName["乙"]; c.TheoryBefore != 100 || c.TheoryAfter != 0 || !c.PassedBefore || c.PassedAfter {
		t.Errorf("乙: %+v, want 100 → 0 and a lost pass", c)
	}
	var stored float64
	if err := f.pool.QueryRow(ctx, `SELECT theory_earned::float8 FROM exam_attempts WHERE person_id = $1`, people[0]).Scan(&stored); err != nil || stored != 0 {
		t.Errorf("dry run changed the stored score to %v (%v)", stored, err)
	}
	if _, err := f.svc.Regrade(ctx, 0, f.session.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := f.pool.QueryRow(ctx, `SELECT theory_earned::float8 FROM exam_attempts WHERE person_id = $1`, people[0]).Scan(&stored); err != nil || stored != 100 {
		t.Errorf("regrade stored %v (%v), want 100", stored, err)
	}
}

func TestItemStatistics(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{mode: Fixed})
	ctx := context.Background()
	// Four candidates on the same fixed paper: the strongest answers every item right, the weakest
	// none; the item everyone gets right has difficulty 1 and no discrimination.
	var paper []PaperItem
	for c, right := range []int{5, 3, 2, 1} {
		p := f.candidate(t, fmt.Sprintf("考生%d", c), 0)
		st, err := f.svc.Start(ctx, f.session.ID, p)
		if err != nil {
			t.Fatal(err)
		}
		paper, _ = f.svc.StoredPaper(ctx, st.Attempt.ID)
		sort.Slice(paper, func(i, j int) bool { return paper[i].ItemID < paper[j].ItemID })
		for i, pi := range paper {
			pick := correct(pi)
			if i >= right {
				pick = (pick + 1) % 4
			}
			if _, err := f.svc.Save(ctx, st.Attempt.ID, p, st.DeviceToken, int64(i+1), pi.Position, Answer{Choices: []int{pick}}, nil); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.svc.Submit(ctx, st.Attempt.ID, p, st.DeviceToken, ByCandidate); err != nil {
			t.Fatal(err)
		}
	}
	stats, err := f.svc.ItemStats(ctx, f.session.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]ItemStat{}
	for _, s := range stats {
		got[s.ItemID] = s
	}
	easy, hard := got[paper[0].ItemID], got[paper[4].ItemID]
	if easy.Difficulty != 1 || easy.Discrimination != 0 || easy.N != 4 {
		t.Errorf("item all got right: %+v", easy)
	}
	if hard.Difficulty != 0.25 || hard.Discrimination != 1 {
		t.Errorf("item only the best got right: %+v, want difficulty 0.25, discrimination 1", hard)
	}
	if stats[0].Difficulty > stats[len(stats)-1].Difficulty {
		t.Error("statistics are not hardest first")
	}
}
