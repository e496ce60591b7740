package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/exams"
	"shanyu/exams/bank"
	"shanyu/internal/browsertest"
	"shanyu/internal/servertest"
)

// Exam day on a phone (issue #16): each scenario types answers in real Chromium tabs at 360 px (each
// device its own browser), misbehaves the way phones do, then compares what was typed with what the
// database stored (counted, or kept as evidence) and with what the page shows.

// dayItems are six single-choice items, so that a typed answer is "option k of question n".
func dayItems() []bank.Item {
	var out []bank.Item
	for i := 1; i <= 6; i++ {
		out = append(out, bank.Item{Type: bank.SingleChoice, Stem: fmt.Sprintf("考题%d：以下哪项正确？", i), Format: bank.Plain, Points: 1,
			Choices: []bank.Option{{Text: fmt.Sprintf("甲%d", i), Weight: 1}, {Text: fmt.Sprintf("乙%d", i)}, {Text: fmt.Sprintf("丙%d", i)}}})
	}
	return out
}

func startDayExam(t *testing.T) (*servertest.Instance, int64) {
	t.Helper()
	var sessionID int64
	srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Setup: func(pool *pgxpool.Pool) (err error) {
		sessionID, err = seedExam(pool, dayItems(), []exams.Section{{Name: "单选", Part: exams.Theory, Count: 6, Points: 10}}, time.Hour)
		return err
	}})
	return srv, sessionID
}

// phone is one device: a browser of its own, signed in as the demo caregiver, on the exam page.
type phone struct {
	t       *testing.T
	ctx     context.Context
	name    string
	session int64
	typed   map[int]int // position → option index typed on this device
	// positions[n-1] is the paper position of question n, read from the page's copy of the paper
	// (the order is the attempt's, the same on every device)
	positions []int
}

func newPhone(t *testing.T, base string, sessionID int64, name string) *phone {
	t.Helper()
	p := &phone{t: t, ctx: browsertest.New(t, browsertest.Phone), name: name, session: sessionID, typed: map[int]int{}}
	signIn(t, p.ctx, base, fmt.Sprintf("/exams/sessions/%d/take", sessionID), "caregiver")
	// Before an attempt has begun the instructions come first: press 开始考试.
	if p.eval(`String(!!document.querySelector("#exam-start"))`) == "true" {
		clickAndLoad(t, p.ctx, `#exam-start button[type=submit]`)
	}
	p.acceptDialogs()
	return p
}

func (p *phone) run(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

// value evaluates a JavaScript expression (a promise is awaited).
func value[T any](p *phone, js string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: %s: %v", p.name, js, err)
	}
	return v
}

// acceptDialogs answers every confirm() with yes (the candidate confirms).
func (p *phone) acceptDialogs() {
	p.t.Helper()
	p.eval(`window.confirm = function () { return true; }; true`)
}

func (p *phone) eval(js string) string {
	p.t.Helper()
	out := value[any](p, js)
	if s, ok := out.(string); ok {
		return s
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// wait polls a JavaScript condition; on timeout it fails with what the page says.
func (p *phone) wait(js string, d time.Duration) time.Duration {
	p.t.Helper()
	t0 := time.Now()
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(d), chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		p.t.Fatalf("%s: %s never held (status %q, message %q): %v", p.name, js, p.status(), p.message(), err)
	}
	return time.Since(t0)
}

func (p *phone) status() string {
	return p.eval(`document.getElementById("save-status").textContent`)
}

func (p *phone) message() string {
	return p.eval(`(function(){var m=document.getElementById("exam-message");return m.hidden?"":m.innerText;})()`)
}

func (p *phone) waitStatus(want string) {
	p.t.Helper()
	p.wait(`document.getElementById("save-status").textContent.indexOf(`+jsString(want)+`) === 0`, 30*time.Second)
}

func (p *phone) waitPaper() {
	p.t.Helper()
	p.wait(`!!document.querySelector("#question .stem") && document.querySelectorAll("#navigator li").length === 6`, 30*time.Second)
}

func (p *phone) reload() {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Reload())); err != nil {
		p.t.Fatalf("%s: reload: %v", p.name, err)
	}
	p.acceptDialogs()
}

// position is the paper position of question n (1-based, as the candidate counts).
func (p *phone) position(n int) int {
	p.t.Helper()
	if p.positions == nil {
		p.positions = value[[]int](p, fmt.Sprintf(`JSON.parse(localStorage.getItem("shanyu.exam.%d.paper")).view.questions.map(function(q){return q.position;})`, p.session))
	}
	return p.positions[n-1]
}

// answer opens question n and picks its option k, the way the candidate taps it.
func (p *phone) answer(n, k int) {
	p.t.Helper()
	p.open(n)
	p.run(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#question label.option:nth-child(%d)`, k+1))))
	p.typed[p.position(n)] = k
}

// open taps question n in the navigator. A tap that lands while the page re-renders the navigator
// (a save answered, the network lost) can miss; opening a question is idempotent, so it taps again.
func (p *phone) open(n int) {
	p.t.Helper()
	button := fmt.Sprintf("#navigator li:nth-child(%d) button", n)
	current := fmt.Sprintf(`document.querySelector(%s).getAttribute("aria-current") === "step"`, jsString(button))
	for range 3 {
		p.run(chromedp.Click(chromedp.CSS(button)))
		if _, err := chromedp.Run(p.ctx, chromedp.Poll[bool](current, chromedp.WithPollingTimeout(3*time.Second), chromedp.WithPollingInterval(100*time.Millisecond))); err == nil {
			return
		}
	}
	p.wait(current, 5*time.Second)
}

// shown reads, question by question, the option the page shows as picked and how the navigator
// marks it ("answered", "pending").
func (p *phone) shown() (picked map[int]int, marks map[int]string) {
	p.t.Helper()
	picked, marks = map[int]int{}, map[int]string{}
	for n := 1; n <= 6; n++ {
		p.open(n)
		k := value[int](p, `(function(){var r=-1;document.querySelectorAll("#question input").forEach(function(x,i){if(x.checked)r=i;});return r;})()`)
		pos := p.position(n)
		if k >= 0 {
			picked[pos] = k
		}
		cls := value[string](p, fmt.Sprintf(`document.querySelector("#navigator li:nth-child(%d) button").className`, n))
		var m []string
		for _, c := range []string{"answered", "pending"} {
			if strings.Contains(" "+cls+" ", " "+c+" ") {
				m = append(m, c)
			}
		}
		if len(m) > 0 {
			marks[pos] = strings.Join(m, " ")
		}
	}
	return picked, marks
}

func (p *phone) screenshot(name string) {
	p.t.Helper()
	browsertest.AssertFits(p.t, p.ctx, browsertest.Phone)
	browsertest.Screenshot(p.t, p.ctx, name)
}

// stored is what the database holds for the session's attempt: counted answers (position → option)
// and evidence (position → reason), with the device numbers that typed them.
type stored struct {
	attempt  int64
	holder   int
	status   string
	counted  map[int]int
	device   map[int]int
	evidence map[int]string
	evDevice map[int]int
	typedOK  bool // every evidence row has the phone's typing time, before its arrival
}

func readStored(t *testing.T, pool *pgxpool.Pool, sessionID int64) stored {
	t.Helper()
	ctx := context.Background()
	s := stored{counted: map[int]int{}, device: map[int]int{}, evidence: map[int]string{}, evDevice: map[int]int{}, typedOK: true}
	if err := pool.QueryRow(ctx, `SELECT id, devices, status FROM exam_attempts WHERE session_id = $1`, sessionID).Scan(&s.attempt, &s.holder, &s.status); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT DISTINCT ON (position) position, (response->'choices'->>0)::int, device_no FROM exam_answers
		WHERE attempt_id = $1 ORDER BY position, device_no DESC, seq DESC`, s.attempt)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var pos, k, dev int
		if err := rows.Scan(&pos, &k, &dev); err != nil {
			t.Fatal(err)
		}
		s.counted[pos], s.device[pos] = k, dev
	}
	rows.Close()
	rows, err = pool.Query(ctx, `SELECT position, reason, device_no, typed_at IS NOT NULL AND typed_at <= arrived_at FROM exam_answer_evidence WHERE attempt_id = $1`, s.attempt)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var pos, dev int
		var reason string
		var ok bool
		if err := rows.Scan(&pos, &reason, &dev, &ok); err != nil {
			t.Fatal(err)
		}
		s.evidence[pos], s.evDevice[pos] = reason, dev
		s.typedOK = s.typedOK && ok
	}
	rows.Close()
	return s
}

func union(ms ...map[int]int) map[int]int {
	out := map[int]int{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func logScenario(t *testing.T, name string, typed map[int]int, st stored, shown map[int]int) {
	t.Logf("%s: typed %d %v; stored %d counted %v + %d evidence %v; shown %d %v", name, len(typed), typed, len(st.counted), st.counted,
		len(st.evidence), st.evidence, len(shown), shown)
}

// Device A answers 1–3, loses its network, answers 4; device B asks to continue and confirms; A,
// back online, learns it lost the exam and lists question 4 as not counted (kept as evidence); A
// reloads and does not take the exam back; then A asks for it back and B, idle, learns within 5 s.
func TestExamDayTakeoverIsExplicitAndLosesNothing(t *testing.T) {
	t.Parallel()
	srv, sessionID := startDayExam(t)
	a := newPhone(t, srv.URL, sessionID, "A")
	a.waitPaper()
	for n := 1; n <= 3; n++ {
		a.answer(n, n%3)
	}
	a.waitStatus("已保存")
	if err := setOffline(a.ctx, true); err != nil {
		t.Fatal(err)
	}
	a.answer(4, 1)
	a.waitStatus("离线：1 个答案")

	b := newPhone(t, srv.URL, sessionID, "B")
	b.wait(`!document.getElementById("take-over").hidden`, 20*time.Second)
	if msg := b.message(); !strings.Contains(msg, "正在另一台设备上作答") || !strings.Contains(msg, "在本设备继续作答") || b.status() != "另一台设备正在作答" {
		t.Errorf("B before taking over says %q (status %q)", msg, b.status())
	}
	if st := readStored(t, srv.Pool, sessionID); st.holder != 1 {
		t.Fatalf("opening the exam on B changed the holder to device %d", st.holder)
	}
	b.screenshot("exam-takeover-asked")
	b.run(chromedp.Click(chromedp.CSS("#take-over")))
	b.waitPaper()
	b.waitStatus("已保存")
	b.answer(5, 2)
	b.waitStatus("已保存")

	if err := setOffline(a.ctx, false); err != nil {
		t.Fatal(err)
	}
	a.wait(`document.getElementById("save-status").textContent === "已转到另一设备" && document.getElementById("exam-notes").textContent.indexOf("第 4 题") >= 0`, 15*time.Second)
	if msg := a.message(); !strings.Contains(msg, "已在另一台设备上继续作答") || !strings.Contains(msg, "第 4 题的答案在此之后才从本设备送达，未计入成绩；已记录备查") {
		t.Errorf("A after losing the exam says %q", msg)
	}
	if n := a.eval(`String(document.querySelectorAll("#question input:not(:disabled), #submit:not(:disabled), #flag:not(:disabled)").length)`); n != "0" {
		t.Errorf("A after losing the exam: %s inputs still enabled", n)
	}
	a.screenshot("exam-takeover-lost")

	// A reload never takes the exam back.
	a.reload()
	a.wait(`!document.getElementById("take-over").hidden && document.getElementById("exam-notes").textContent.indexOf("第 4 题") >= 0`, 20*time.Second)
	if st := readStored(t, srv.Pool, sessionID); st.holder != 2 {
		t.Fatalf("A's reload took the exam back: holder is device %d", st.holder)
	}
	a.screenshot("exam-takeover-reloaded")

	// A asks for it back; B, idle, is told by its state poll.
	t0 := time.Now()
	a.run(chromedp.Click(chromedp.CSS("#take-over")))
	a.waitPaper()
	a.wait(`document.getElementById("save-status").textContent === "已保存"`, 20*time.Second)
	b.wait(`document.getElementById("save-status").textContent === "已转到另一设备"`, 10*time.Second)
	if took := time.Since(t0); took > 5*time.Second {
		t.Errorf("B learnt it lost the exam after %v, want within 5 s", took)
	} else {
		t.Logf("B learnt it lost the exam %v after A took it back", took.Round(10*time.Millisecond))
	}
	b.screenshot("exam-takeover-b-lost")
	if a.eval(`String(document.getElementById("take-over").offsetParent !== null)`) != "false" {
		t.Error("A holds the exam again but still offers to continue on this device")
	}
	a.answer(6, 0)
	a.waitStatus("已保存")

	st := readStored(t, srv.Pool, sessionID)
	pos4 := a.position(4)
	typed := union(a.typed, b.typed)
	wantCounted := union(a.typed, b.typed)
	delete(wantCounted, pos4)
	if d := cmp.Diff(wantCounted, st.counted); d != "" {
		t.Errorf("counted answers (-typed +stored):\n%s", d)
	}
	if d := cmp.Diff(map[int]string{pos4: exams.EvidenceTakenOver}, st.evidence); d != "" || st.evDevice[pos4] != 1 || !st.typedOK {
		t.Errorf("evidence (-want +stored), device %d, typing times ok %v:\n%s", st.evDevice[pos4], st.typedOK, d)
	}
	if st.holder != 3 || st.device[a.position(6)] != 3 || st.device[a.position(5)] != 2 || st.device[a.position(1)] != 1 {
		t.Errorf("devices: holder %d, answers by device %v", st.holder, st.device)
	}
	shown, marks := a.shown()
	if d := cmp.Diff(wantCounted, shown); d != "" {
		t.Errorf("A shows (-stored +shown):\n%s", d)
	}
	for pos, m := range marks {
		if m != "answered" {
			t.Errorf("navigator marks position %d %q after every save", pos, m)
		}
	}
	if msg := a.message(); !strings.Contains(msg, "第 4 题的答案在此之后才从本设备送达") {
		t.Errorf("A no longer lists question 4 as not counted: %q", msg)
	}
	logScenario(t, "takeover", typed, st, shown)
}

// Offline from before the deadline, the candidate types 3 answers; the server submits the attempt at
// the deadline (plus grace) with the 3 earlier ones; when the phone returns the 3 are kept as
// evidence, the page says which were not counted (also after a reload), and the marking page lists
// them for staff.
func TestExamDayLateAnswersAreRecordedAndExplained(t *testing.T) {
	t.Parallel()
	srv, sessionID := startDayExam(t)
	a := newPhone(t, srv.URL, sessionID, "A")
	a.waitPaper()
	for n := 1; n <= 3; n++ {
		a.answer(n, 2)
	}
	a.waitStatus("已保存")
	if err := setOffline(a.ctx, true); err != nil {
		t.Fatal(err)
	}
	for n := 4; n <= 6; n++ {
		a.answer(n, 1)
	}
	a.waitStatus("离线：3 个答案")
	// Time runs out while the phone is offline: the sweep submits what arrived.
	ctx := context.Background()
	if _, err := srv.Pool.Exec(ctx, `UPDATE exam_attempts SET deadline_at = now() - interval '2 minutes' WHERE session_id = $1`, sessionID); err != nil {
		t.Fatal(err)
	}
	st := readStored(t, srv.Pool, sessionID)
	if _, err := srv.App.Exams.Submit(ctx, st.attempt, 0, "", exams.ByDeadline); err != nil {
		t.Fatal(err)
	}
	if err := setOffline(a.ctx, false); err != nil {
		t.Fatal(err)
	}
	const note = "第 4、5、6 题在交卷后才送达，未计入成绩；已记录备查"
	a.wait(`document.getElementById("exam-notes").textContent.indexOf(`+jsString(note)+`) >= 0 && document.getElementById("save-status").textContent === "已交卷"`, 20*time.Second)
	a.screenshot("exam-late-answers")
	a.reload()
	a.wait(`document.getElementById("exam-notes").textContent.indexOf(`+jsString(note)+`) >= 0 && document.getElementById("save-status").textContent === "已交卷"`, 20*time.Second)
	if n := a.eval(`String(document.querySelectorAll("#question input:not(:disabled), #submit:not(:disabled)").length)`); n != "0" {
		t.Errorf("after submission %s inputs are enabled", n)
	}
	if a.eval(`String(document.getElementById("take-over").offsetParent !== null)`) != "false" {
		t.Error("after submission the page offers to continue on this device")
	}
	a.wait(`document.getElementById("countdown").textContent === "--:--"`, 5*time.Second) // no time left to count
	a.screenshot("exam-late-answers-reloaded")

	st = readStored(t, srv.Pool, sessionID)
	wantCounted, wantEvidence := map[int]int{}, map[int]string{}
	for n := 1; n <= 6; n++ {
		pos := a.position(n)
		if n <= 3 {
			wantCounted[pos] = a.typed[pos]
		} else {
			wantEvidence[pos] = exams.EvidenceLate
		}
	}
	if d := cmp.Diff(wantCounted, st.counted); d != "" {
		t.Errorf("counted (-typed before the deadline +stored):\n%s", d)
	}
	if d := cmp.Diff(wantEvidence, st.evidence); d != "" || !st.typedOK {
		t.Errorf("evidence (-want +stored), typing times ok %v:\n%s", st.typedOK, d)
	}
	if st.status != exams.Graded {
		t.Errorf("attempt %s, want graded", st.status)
	}
	shown, _ := a.shown()
	if d := cmp.Diff(wantCounted, shown); d != "" {
		t.Errorf("page shows (-counted +shown):\n%s", d)
	}
	logScenario(t, "late", a.typed, st, shown)

	// Staff see them on the marking page, for an appeal.
	staff := browsertest.New(t, browsertest.Phone)
	signIn(t, staff, srv.URL, fmt.Sprintf("/exams/sessions/%d/marking", sessionID), "examiner")
	if err := chromedp.Do(staff, chromedp.WaitVisible(chromedp.CSS("#evidence"))); err != nil {
		t.Fatal(err)
	}
	rows, err := chromedp.Run(staff, chromedp.Evaluate[int](`document.querySelectorAll("#evidence tr[data-reason=late]").length`))
	if err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(staff, chromedp.Text(chromedp.CSS("#evidence")))
	if err != nil {
		t.Fatal(err)
	}
	if rows != 3 || !strings.Contains(text, "送达过晚，未计分") || !strings.Contains(text, "手机记录的作答时间") {
		t.Errorf("marking page lists %d late answers: %q", rows, text)
	}
	browsertest.Screenshot(t, staff, "exam-late-marking")
}

// cutProxy stands between the browser and the server; cut() makes the network disappear for every
// request (the page's and the service worker's), restore() brings it back.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: strings.TrimPrefix(target, "http://"), conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *cutProxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *cutProxy) serve(c net.Conn) {
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		c.Close()
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	_, _ = io.Copy(c, up)
	c.Close()
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

func (p *cutProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// Without a network, a reload opens the exam from the service worker's copy with the answers kept on
// the phone; the candidate goes on answering and everything is saved when the network returns.
func TestExamDayReloadOfflineOpensTheExam(t *testing.T) {
	t.Parallel()
	srv, sessionID := startDayExam(t)
	link := newCutProxy(t, srv.URL)
	a := newPhone(t, link.URL(), sessionID, "A")
	a.waitPaper()
	a.answer(1, 1)
	a.waitStatus("已保存")
	// The service worker controls the page and the page is kept.
	a.wait(`!!navigator.serviceWorker.controller`, 20*time.Second)
	for deadline := time.Now().Add(20 * time.Second); !value[bool](a, `caches.open("shanyu-exam").then(function(c){return c.match(location.pathname);}).then(function(r){return !!r;})`); {
		if time.Now().After(deadline) {
			t.Fatal("the exam page was never kept for offline use")
		}
		time.Sleep(200 * time.Millisecond)
	}
	link.cut()
	a.answer(2, 2)
	a.waitStatus("离线：1 个答案")
	a.reload()
	a.waitPaper()
	a.wait(`document.getElementById("save-status").textContent.indexOf("离线：1 个答案") === 0 && document.getElementById("exam-message-text").textContent.indexOf("离线") === 0`, 20*time.Second)
	if c := a.eval(`document.getElementById("countdown").textContent`); !strings.Contains(c, ":") || strings.Contains(c, "-") {
		t.Errorf("countdown offline after the reload: %q", c)
	}
	a.answer(3, 0)
	a.waitStatus("离线：2 个答案")
	shownOffline, marks := a.shown()
	a.screenshot("exam-offline-reload")
	if d := cmp.Diff(a.typed, shownOffline); d != "" {
		t.Errorf("offline reload shows (-typed +shown):\n%s", d)
	}
	if marks[a.position(2)] != "answered pending" || marks[a.position(1)] != "answered" {
		t.Errorf("navigator marks offline: %v; want question 2 and 3 dashed (not received), 1 answered", marks)
	}
	link.restore()
	a.wait(`document.getElementById("save-status").textContent === "已保存"`, 30*time.Second)
	st := readStored(t, srv.Pool, sessionID)
	if d := cmp.Diff(a.typed, st.counted); d != "" || len(st.evidence) != 0 {
		t.Errorf("stored after the network returned (-typed +stored), evidence %v:\n%s", st.evidence, d)
	}
	shown, _ := a.shown()
	logScenario(t, "offline reload", a.typed, st, shown)
}

// After 交卷 is confirmed nothing can be changed; an offline submit says it waits for the network,
// the disabled button looks disabled, and the submit happens when the network returns.
func TestExamDaySubmitLocksThePageAndWaitsForTheNetwork(t *testing.T) {
	t.Parallel()
	srv, sessionID := startDayExam(t)
	a := newPhone(t, srv.URL, sessionID, "A")
	a.waitPaper()
	a.answer(1, 1)
	a.answer(2, 2)
	a.waitStatus("已保存")
	opacity := func(sel string) string {
		return a.eval(`getComputedStyle(document.querySelector(` + jsString(sel) + `)).opacity`)
	}
	enabled := opacity("#submit")
	if err := setOffline(a.ctx, true); err != nil {
		t.Fatal(err)
	}
	a.run(chromedp.Click(chromedp.CSS("#submit")))
	a.waitStatus("等待网络")
	if n := a.eval(`String(document.querySelectorAll("#question input:not(:disabled), #submit:not(:disabled), #flag:not(:disabled)").length)`); n != "0" {
		t.Errorf("after confirming 交卷, %s inputs are enabled", n)
	}
	if disabled := opacity("#submit"); disabled >= enabled || disabled > "0.6" {
		t.Errorf("disabled 交卷 has opacity %s (enabled %s): it looks active", disabled, enabled)
	}
	// A tap on another option now changes nothing.
	before := a.eval(`(function(){var r=-1;document.querySelectorAll("#question input").forEach(function(x,i){if(x.checked)r=i;});return String(r);})()`)
	_ = chromedp.Do(a.ctx, chromedp.Click(chromedp.CSS(`#question label.option:nth-child(1)`)))
	after := a.eval(`(function(){var r=-1;document.querySelectorAll("#question input").forEach(function(x,i){if(x.checked)r=i;});return String(r);})()`)
	if before != after {
		t.Errorf("after confirming 交卷 a tap changed the answer shown from %s to %s", before, after)
	}
	a.screenshot("exam-submit-waiting")
	if err := setOffline(a.ctx, false); err != nil {
		t.Fatal(err)
	}
	a.wait(`document.getElementById("save-status").textContent === "已交卷" && document.getElementById("exam-message-text").textContent.indexOf("已交卷") === 0`, 30*time.Second)
	st := readStored(t, srv.Pool, sessionID)
	if d := cmp.Diff(a.typed, st.counted); d != "" || st.status != exams.Graded || len(st.evidence) != 0 {
		t.Errorf("after the submit: status %s, evidence %v, counted (-typed +stored):\n%s", st.status, st.evidence, d)
	}
	shown, _ := a.shown()
	if d := cmp.Diff(a.typed, shown); d != "" {
		t.Errorf("page shows (-typed +shown):\n%s", d)
	}
	logScenario(t, "submit offline", a.typed, st, shown)
}

// Time runs out while the page is open: the page learns the deadline from its state poll, locks
// every input at 0, says so, and submits what was saved.
func TestExamDayTimeUpLocksAndSubmits(t *testing.T) {
	t.Parallel()
	srv, sessionID := startDayExam(t)
	a := newPhone(t, srv.URL, sessionID, "A")
	a.waitPaper()
	a.answer(1, 1)
	a.waitStatus("已保存")
	// The candidate opens the exam in a second tab of the same phone: it goes on there; the first
	// tab stops (the two would share the device's token and numbering).
	tab, cancel := chromedp.NewContext(a.ctx)
	t.Cleanup(cancel)
	first := *a
	first.ctx = a.ctx
	a.ctx = tab
	a.run(chromedp.Navigate(fmt.Sprintf("%s/exams/sessions/%d/take", srv.URL, sessionID)))
	a.acceptDialogs()
	a.waitPaper()
	first.wait(`document.getElementById("save-status").textContent === "已在另一标签页" && document.getElementById("exam-message-text").textContent.indexOf("另一个标签页") >= 0`, 10*time.Second)
	if n := first.eval(`String(document.querySelectorAll("#question input:not(:disabled), #submit:not(:disabled)").length)`); n != "0" {
		t.Errorf("the first tab still has %s enabled inputs", n)
	}
	a.answer(1, 2) // a change in the new tab: its own next number, no collision with the first tab's
	a.waitStatus("已保存")
	// The session closes early (staff shortened it): the server's deadline is the truth.
	if _, err := srv.Pool.Exec(context.Background(), `UPDATE exam_attempts SET deadline_at = now() + interval '4 seconds' WHERE session_id = $1`, sessionID); err != nil {
		t.Fatal(err)
	}
	a.wait(`document.getElementById("exam-message-text").textContent.indexOf("考试时间到") === 0 || document.getElementById("save-status").textContent === "已交卷"`, 20*time.Second)
	if n := a.eval(`String(document.querySelectorAll("#question input:not(:disabled), #submit:not(:disabled)").length)`); n != "0" {
		t.Errorf("at time up %s inputs are enabled", n)
	}
	a.wait(`document.getElementById("save-status").textContent === "已交卷"`, 20*time.Second)
	st := readStored(t, srv.Pool, sessionID)
	if d := cmp.Diff(a.typed, st.counted); d != "" || st.status != exams.Graded {
		t.Errorf("after time up: status %s, counted (-typed +stored):\n%s", st.status, d)
	}
	shown, _ := a.shown()
	logScenario(t, "time up", a.typed, st, shown)
}
