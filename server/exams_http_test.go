package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/exams"
	"shanyu/exams/bank"
	"shanyu/internal/servertest"
)

// Key material planted in the exam's items: none of it may reach the candidate before submission.
var keyMarkers = []string{"KEYEXPLAIN", "KEYFEEDBACK", "KEYBLANKANSWER", "271828", "KEYRUBRIC",
	`"weight"`, `"truth"`, `"accepted"`, `"explanation"`, `"rubric"`, `"feedback"`, `"numbers"`, `"option_order"`, `"seed"`}

// examItems is a small paper of every objective type (and an essay), each carrying key markers.
func examItems() []bank.Item {
	yes := true
	_ = yes
	return []bank.Item{
		{Type: bank.SingleChoice, Stem: "婴儿每日睡眠约多少小时？", Format: bank.Plain, Points: 1, Explanation: "KEYEXPLAIN 1",
			Choices: []bank.Option{{Text: "14 小时", Weight: 1, Feedback: "KEYFEEDBACK"}, {Text: "6 小时"}, {Text: "3 小时"}}},
		{Type: bank.MultipleChoice, Stem: "哪些是洗手的时机？", Format: bank.Plain, Points: 1, Scoring: bank.AllOrNothing, Explanation: "KEYEXPLAIN 2",
			Choices: []bank.Option{{Text: "进餐前", Weight: 0.5}, {Text: "如厕后", Weight: 0.5}, {Text: "睡觉中", Weight: -1}}},
		{Type: bank.TrueFalse, Stem: "奶瓶应每次使用后清洗。", Format: bank.Plain, Points: 1, Truth: true, Explanation: "KEYEXPLAIN 3"},
		{Type: bank.FillBlank, Stem: "洗手至少搓洗 ___ 秒。", Format: bank.Plain, Points: 1,
			Blanks: []bank.Blank{{Accepted: []bank.Option{{Text: "KEYBLANKANSWER", Weight: 1}}}}},
		{Type: bank.Numeric, Stem: "某数是多少？", Format: bank.Plain, Points: 1, Numbers: []bank.NumericAnswer{{Value: 271828, Tolerance: 0, Weight: 1}}},
		{Type: bank.Matching, Stem: "配对", Format: bank.Plain, Points: 1, Pairs: []bank.Pair{{Left: "维生素 D", Right: "晒太阳"}, {Left: "铁", Right: "红肉"}, {Right: "干扰项"}}},
		{Type: bank.Essay, Stem: "简述如何安抚哭闹的婴儿。", Format: bank.Plain, Points: 10, Rubric: []bank.Criterion{{Text: "KEYRUBRIC", Points: 10}}},
	}
}

// seedExam makes the demo accounts, a bank at HZ001 holding items, and an open session of it in which
// the demo caregiver is registered and approved. It returns the session id.
func seedExam(pool *pgxpool.Pool, items []bank.Item, sections []exams.Section, duration time.Duration) (int64, error) {
	if err := seedDemoAccounts(pool); err != nil {
		return 0, err
	}
	ctx := context.Background()
	var centre, person int64
	if err := pool.QueryRow(ctx, `SELECT id FROM organisations WHERE code = 'HZ001'`).Scan(&centre); err != nil {
		return 0, err
	}
	if err := pool.QueryRow(ctx, `SELECT person_id FROM users WHERE username = 'caregiver'`).Scan(&person); err != nil {
		return 0, err
	}
	for _, it := range items {
		if _, err := bank.Create(ctx, pool, centre, it); err != nil {
			return 0, err
		}
	}
	if _, err := verifyIdentityOf(pool, "caregiver"); err != nil {
		return 0, err
	}
	svc, done, err := testExams(pool)
	if err != nil {
		return 0, err
	}
	defer done()
	b, err := svc.CreateBlueprint(ctx, 0, exams.Blueprint{CentreID: centre, Name: "测试卷", Occupation: "4-10-01-03", Level: 4, Mode: exams.Random, Sections: sections})
	if err != nil {
		return 0, err
	}
	now := time.Now()
	x, err := svc.CreateSession(ctx, 0, exams.Session{CentreID: centre, BlueprintID: b.ID, Name: "测试批次", OpensAt: now.Add(-time.Minute),
		ClosesAt: now.Add(3 * time.Hour), LatestStartAt: now.Add(2 * time.Hour), Duration: duration, Grace: 30 * time.Second,
		TheoryPass: 60, PracticalPass: 60})
	if err != nil {
		return 0, err
	}
	r, err := svc.Register(ctx, x.ID, person)
	if err != nil {
		return 0, err
	}
	return x.ID, svc.Decide(ctx, 0, r.ID, true, 0)
}

var allTypes = []exams.Section{
	{Name: "客观题", Part: exams.Theory, Count: 6, Points: 10, Type: ""},
}

// recorder is a candidate whose every response body is kept, to be scanned for key material.
type recorder struct {
	*client
	bodies []string
}

func (r *recorder) call(method, path string, body any, device string) response {
	r.tb.Helper()
	h := map[string]string{"X-CSRF-Token": r.csrf}
	if device != "" {
		h["X-Exam-Device"] = device
	}
	res := r.do(method, path, body, h)
	r.bodies = append(r.bodies, string(res.Body))
	return res
}

type startOut struct {
	Attempt struct {
		ID       int64     `json:"id"`
		Deadline time.Time `json:"deadline"`
	} `json:"attempt"`
	DeviceToken string `json:"device_token"`
	Resumed     bool   `json:"resumed"`
}

type paperOut struct {
	Attempt struct {
		Deadline time.Time `json:"deadline"`
	} `json:"attempt"`
	Questions []exams.Question     `json:"questions"`
	Answers   map[int]exams.Answer `json:"answers"`
	LastSeq   int64                `json:"last_seq"`
	Evidence  []exams.Evidence     `json:"evidence"`
}

func decodeJSON[T any](tb testing.TB, r response) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		tb.Fatalf("decode %s: %v", r.Body, err)
	}
	return v
}

func TestCandidateNeverReceivesTheKeyBeforeSubmission(t *testing.T) {
	t.Parallel()
	var sessionID int64
	srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Setup: func(pool *pgxpool.Pool) (err error) {
		sessionID, err = seedExam(pool, examItems(), append([]exams.Section{{Name: "论述", Part: exams.Practical, Count: 1, Points: 100, Type: bank.Essay}}, allTypes...), time.Hour)
		return err
	}})
	cand := &recorder{client: mustLogin(t, srv, "caregiver")}
	cand.call("GET", "/api/v1/my/exams", nil, "")
	r := cand.call("POST", fmt.Sprintf("/api/v1/exam-sessions/%d/start", sessionID), nil, "")
	if r.Status != http.StatusOK {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	st := decodeJSON[startOut](t, r)
	base := fmt.Sprintf("/api/v1/attempts/%d", st.Attempt.ID)
	p := decodeJSON[paperOut](t, cand.call("GET", base+"/paper", nil, st.DeviceToken))
	if len(p.Questions) != 7 {
		t.Fatalf("paper has %d questions, want 7", len(p.Questions))
	}
	for i, q := range p.Questions {
		ans := exams.Answer{Choices: []int{0}}
		switch q.Type {
		case "fill_blank":
			ans = exams.Answer{Blanks: []string{"十五"}}
		case "essay":
			ans = exams.Answer{Text: "抱起、轻拍、说话。"}
		}
		if r := cand.call("POST", base+"/answers", map[string]any{"seq": i + 1, "item": q.Position, "response": ans}, st.DeviceToken); r.Status != http.StatusOK {
			t.Fatalf("save: %d %s", r.Status, r.Body)
		}
	}
	// An out-of-range number is a 422 naming the field, not a 500 from the database.
	for _, body := range []map[string]any{{"seq": 99, "item": int64(1099511627776), "response": map[string]any{}}} {
		r := cand.call("POST", base+"/answers", body, st.DeviceToken)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `"fields"`) {
			t.Errorf("answer with %v: %d %s", body, r.Status, r.Body)
		}
	}
	cand.call("GET", base+"/state", nil, st.DeviceToken)
	cand.call("POST", base+"/signals", map[string]string{"kind": "focus_lost"}, st.DeviceToken)
	cand.call("GET", base+"/paper", nil, st.DeviceToken)
	cand.call("GET", "/exams", nil, "")
	cand.call("GET", fmt.Sprintf("/exams/sessions/%d/take", sessionID), nil, "")
	for _, body := range cand.bodies {
		for _, k := range keyMarkers {
			if strings.Contains(body, k) {
				t.Errorf("a response before submission holds key material %q: %.300s", k, body)
			}
		}
	}
	if r := cand.call("POST", base+"/submit", nil, st.DeviceToken); r.Status != http.StatusOK {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
}

// Over HTTP: a second device is refused until it asks to take over; then the first is told (by its
// state poll and its saves, with a reason key the page reads), and its answer is kept as evidence.
func TestOlderDeviceIsToldItWasTakenOver(t *testing.T) {
	t.Parallel()
	var sessionID int64
	srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Setup: func(pool *pgxpool.Pool) (err error) {
		sessionID, err = seedExam(pool, examItems()[:3], []exams.Section{{Name: "单选", Part: exams.Theory, Count: 3, Points: 10}}, time.Hour)
		return err
	}})
	phone := &recorder{client: mustLogin(t, srv, "caregiver")}
	laptop := &recorder{client: mustLogin(t, srv, "caregiver")}
	start := fmt.Sprintf("/api/v1/exam-sessions/%d/start", sessionID)
	a := decodeJSON[startOut](t, phone.call("POST", start, nil, ""))
	key := func(r response) string {
		t.Helper()
		var e struct {
			Error struct {
				Key string `json:"key"`
			} `json:"error"`
		}
		_ = json.Unmarshal(r.Body, &e)
		return e.Error.Key
	}
	if r := laptop.call("POST", start, nil, ""); r.Status != http.StatusConflict || key(r) != "exams.held_elsewhere" {
		t.Fatalf("second device without asking: %d %s; want 409 exams.held_elsewhere", r.Status, r.Body)
	}
	b := decodeJSON[startOut](t, laptop.call("POST", start, map[string]any{"take_over": true}, ""))
	if !b.Resumed || b.Attempt.ID != a.Attempt.ID {
		t.Fatalf("second device taking over: %+v", b)
	}
	base := fmt.Sprintf("/api/v1/attempts/%d", a.Attempt.ID)
	if r := phone.call("GET", base+"/state", nil, a.DeviceToken); r.Status != http.StatusConflict || key(r) != "exams.taken_over" {
		t.Errorf("older device state poll: %d %s; want 409 exams.taken_over", r.Status, r.Body)
	}
	r := phone.call("POST", base+"/answers", map[string]any{"seq": 1, "item": 0, "response": map[string]any{"choices": []int{0}}, "typed_at": time.Now()}, a.DeviceToken)
	if r.Status != http.StatusConflict || key(r) != "exams.recorded_taken_over" || !strings.Contains(string(r.Body), "已记录") {
		t.Errorf("older device save: %d %s; want 409 exams.recorded_taken_over", r.Status, r.Body)
	}
	r = laptop.call("POST", base+"/answers", map[string]any{"seq": 1, "item": 0, "response": map[string]any{"choices": []int{1}}}, b.DeviceToken)
	if r.Status != http.StatusOK {
		t.Errorf("newer device save under the same seq: %d %s", r.Status, r.Body)
	}
	if r := laptop.call("GET", base+"/state?answered=1", nil, b.DeviceToken); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"answered":1`) {
		t.Errorf("state with the answered count: %d %s", r.Status, r.Body)
	}
	p := decodeJSON[paperOut](t, laptop.call("GET", base+"/paper", nil, b.DeviceToken))
	if len(p.Evidence) != 1 || p.Evidence[0].Reason != "taken_over" || p.Evidence[0].Device != 1 || p.Answers[0].Choices[0] != 1 {
		t.Errorf("paper on the new device: answers %v, evidence %+v", p.Answers, p.Evidence)
	}
}

// The drill: the server stops in the middle of an exam and starts again on the same database; the
// candidate resumes with the same paper, deadline and every acknowledged answer.
func TestDrillServerRestartMidExam(t *testing.T) {
	t.Parallel()
	var sessionID int64
	first := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Setup: func(pool *pgxpool.Pool) (err error) {
		sessionID, err = seedExam(pool, examItems(), allTypes, time.Hour)
		return err
	}})
	cand := &recorder{client: mustLogin(t, first, "caregiver")}
	st := decodeJSON[startOut](t, cand.call("POST", fmt.Sprintf("/api/v1/exam-sessions/%d/start", sessionID), nil, ""))
	base := fmt.Sprintf("/api/v1/attempts/%d", st.Attempt.ID)
	before := decodeJSON[paperOut](t, cand.call("GET", base+"/paper", nil, st.DeviceToken))
	acked := map[int]exams.Answer{}
	for i, q := range before.Questions {
		ans := exams.Answer{Choices: []int{i % 2}}
		if q.Type == "fill_blank" {
			ans = exams.Answer{Blanks: []string{fmt.Sprint("答", i)}}
		}
		if r := cand.call("POST", base+"/answers", map[string]any{"seq": i + 1, "item": q.Position, "response": ans}, st.DeviceToken); r.Status == http.StatusOK {
			acked[q.Position] = ans
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := first.Server.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	_ = first.App.Stop(ctx)

	second := servertest.Start(t, servertest.Options{DBURL: first.DBURL})
	cand.base = second.URL
	after := decodeJSON[paperOut](t, cand.call("GET", base+"/paper", nil, st.DeviceToken))
	if d := cmp.Diff(before.Questions, after.Questions); d != "" {
		t.Errorf("paper changed across the restart (-before +after):\n%s", d)
	}
	if !after.Attempt.Deadline.Equal(before.Attempt.Deadline) {
		t.Errorf("deadline %v after the restart, %v before", after.Attempt.Deadline, before.Attempt.Deadline)
	}
	if d := cmp.Diff(acked, after.Answers); d != "" {
		t.Errorf("acknowledged answers after the restart (-acked +stored):\n%s", d)
	}
	if len(acked) != len(before.Questions) {
		t.Errorf("%d of %d saves acknowledged", len(acked), len(before.Questions))
	}
}

// examForm posts a form the way a page does (with the session's CSRF token in _csrf).
func examForm(c *client, path string, values url.Values) response {
	c.tb.Helper()
	values.Set("_csrf", c.csrf)
	res, err := c.http.PostForm(c.base+path, values)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// The centre's side of a session: live view, marking with names hidden, publishing, results with
// item statistics and the CSV export; then the candidate reads her result.
func TestCentreMarksPublishesAndTheCandidateSeesTheResult(t *testing.T) {
	t.Parallel()
	var sessionID int64
	srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Setup: func(pool *pgxpool.Pool) (err error) {
		sessionID, err = seedExam(pool, examItems(), []exams.Section{
			{Name: "论述", Part: exams.Practical, Count: 1, Points: 100, Type: bank.Essay},
			{Name: "单选", Part: exams.Theory, Count: 1, Points: 100, Type: bank.SingleChoice},
		}, time.Hour)
		return err
	}})
	cand := &recorder{client: mustLogin(t, srv, "caregiver")}
	st := decodeJSON[startOut](t, cand.call("POST", fmt.Sprintf("/api/v1/exam-sessions/%d/start", sessionID), nil, ""))
	base := fmt.Sprintf("/api/v1/attempts/%d", st.Attempt.ID)
	p := decodeJSON[paperOut](t, cand.call("GET", base+"/paper", nil, st.DeviceToken))
	for i, q := range p.Questions {
		ans := exams.Answer{Text: "先抱起婴儿轻声安抚"}
		if q.Type == "single_choice" {
			for k, o := range q.Options {
				if o == "14 小时" {
					ans = exams.Answer{Choices: []int{k}}
				}
			}
		}
		if r := cand.call("POST", base+"/answers", map[string]any{"seq": i + 1, "item": q.Position, "response": ans}, st.DeviceToken); r.Status != http.StatusOK {
			t.Fatalf("save: %d %s", r.Status, r.Body)
		}
	}

	centre := mustLogin(t, srv, "centre")
	live := centre.do("GET", fmt.Sprintf("/api/v1/exam-sessions/%d/live", sessionID), nil, nil)
	if live.Status != http.StatusOK || !strings.Contains(string(live.Body), `"state":"answering"`) {
		t.Errorf("live view during the exam: %d %s", live.Status, live.Body)
	}
	if r := cand.call("POST", base+"/submit", nil, st.DeviceToken); r.Status != http.StatusOK {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	for _, path := range []string{"/centres/HZ001/exams", fmt.Sprintf("/exams/sessions/%d/registrations", sessionID),
		fmt.Sprintf("/exams/sessions/%d/live", sessionID)} {
		if r := centre.do("GET", path, nil, nil); r.Status != http.StatusOK {
			t.Errorf("GET %s: %d", path, r.Status)
		}
	}
	if r := centre.send("POST", fmt.Sprintf("/api/v1/exam-sessions/%d/publish", sessionID), nil); r.Status != http.StatusConflict {
		t.Errorf("publish before marking: %d %s", r.Status, r.Body)
	}

	examiner := mustLogin(t, srv, "examiner")
	marking := examiner.do("GET", fmt.Sprintf("/exams/sessions/%d/marking", sessionID), nil, nil)
	if marking.Status != http.StatusOK || !strings.Contains(string(marking.Body), "先抱起婴儿轻声安抚") {
		t.Fatalf("marking page: %d", marking.Status)
	}
	if strings.Contains(string(marking.Body), "李小燕") {
		t.Error("the marking page names the candidate")
	}
	var essay int
	for _, q := range p.Questions {
		if q.Type == "essay" {
			essay = q.Position
		}
	}
	if r := examForm(examiner, fmt.Sprintf("/exams/attempts/%d/marks", st.Attempt.ID), url.Values{"position": {fmt.Sprint(essay)}, "marks": {"7"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("mark: %d %s", r.Status, r.Body)
	}
	if r := examForm(centre, fmt.Sprintf("/exams/sessions/%d/publish", sessionID), url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("publish: %d %s", r.Status, r.Body)
	}
	results := centre.do("GET", fmt.Sprintf("/exams/sessions/%d/results", sessionID), nil, nil)
	if results.Status != http.StatusOK || !strings.Contains(string(results.Body), "合格") || !strings.Contains(string(results.Body), "<meter") {
		t.Errorf("results page: %d", results.Status)
	}
	csv := centre.do("GET", fmt.Sprintf("/exams/sessions/%d/results.csv", sessionID), nil, nil)
	if csv.Status != http.StatusOK || !strings.Contains(string(csv.Body), "李小燕,100.00,70.00,true") {
		t.Errorf("CSV: %d %s", csv.Status, csv.Body)
	}
	// OWASP CSV injection: a name that is a formula is written escaped, so a spreadsheet shows it as text.
	if _, err := srv.Pool.Exec(context.Background(), `UPDATE people SET name = '=HYPERLINK("https://evil.example","x")' WHERE name = '李小燕'`); err != nil {
		t.Fatal(err)
	}
	csv = centre.do("GET", fmt.Sprintf("/exams/sessions/%d/results.csv", sessionID), nil, nil)
	if !strings.Contains(string(csv.Body), `"'=HYPERLINK(""https://evil.example"",""x"")",100.00`) {
		t.Errorf("CSV with a formula for a name: %s", csv.Body)
	}
	if _, err := srv.Pool.Exec(context.Background(), `UPDATE people SET name = '李小燕' WHERE name LIKE '=HYPERLINK%'`); err != nil {
		t.Fatal(err)
	}
	mine := cand.call("GET", "/exams/results", nil, "")
	if mine.Status != http.StatusOK || !strings.Contains(string(mine.Body), "测试批次") || !strings.Contains(string(mine.Body), "70.0") {
		t.Errorf("the candidate's results page: %d", mine.Status)
	}
	var requests int
	if err := srv.Pool.QueryRow(context.Background(), `SELECT count(*) FROM certificate_requests WHERE result_ref LIKE 'exam_result:%'`).Scan(&requests); err != nil || requests != 1 {
		t.Errorf("certificate requests after publishing a pass: %d (%v)", requests, err)
	}
	if r := cand.call("GET", fmt.Sprintf("/api/v1/exam-sessions/%d/live", sessionID), nil, ""); r.Status != http.StatusForbidden {
		t.Errorf("a candidate reading the live view: %d", r.Status)
	}
}
