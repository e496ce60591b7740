package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/exams/bank"
	"shanyu/internal/browsertest"
	"shanyu/internal/servertest"
)

// seedSetupBank gives HZ001 the demo accounts and the small bank of examItems (one item of each type).
func seedSetupBank(pool *pgxpool.Pool) error {
	if err := seedDemoAccounts(pool); err != nil {
		return err
	}
	ctx := context.Background()
	var centre int64
	if err := pool.QueryRow(ctx, `SELECT id FROM organisations WHERE code = 'HZ001'`).Scan(&centre); err != nil {
		return err
	}
	for _, it := range examItems() {
		if _, err := bank.Create(ctx, pool, centre, it); err != nil {
			return err
		}
	}
	return nil
}

func countRows(t *testing.T, pool *pgxpool.Pool, table string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

type blueprintOut struct {
	ID       int64 `json:"id"`
	Sections []struct {
		Count int `json:"count"`
	} `json:"sections"`
}

type checkOut struct {
	Feasible   bool `json:"feasible"`
	Shortfalls []struct {
		Section   int `json:"section"`
		Wanted    int `json:"wanted"`
		Available int `json:"available"`
	} `json:"shortfalls"`
}

// A centre administrator creates a blueprint through the API, checks it, previews it with the key,
// creates a session from it, and the session appears on the centre's exams page. The check follows
// the bank: after the only essay is retired, the blueprint is short by one in its second section.
func TestSetupBlueprintCheckSessionThroughAPI(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: setupBankSeeded})
	centre := mustLogin(t, srv, "centre")

	bp := map[string]any{"name": "保育师四级理论", "occupation": "4-10-01-03", "level": 4, "mode": "fixed", "sections": []map[string]any{
		{"name": "单选", "part": "theory", "count": 1, "points": 100, "type": "single_choice"},
		{"name": "论述", "part": "practical", "count": 1, "points": 100, "type": "essay"},
	}}
	r := centre.send("POST", "/api/v1/centres/HZ001/blueprints", bp)
	if r.Status != http.StatusCreated {
		t.Fatalf("create blueprint: %d %s", r.Status, r.Body)
	}
	b := decodeJSON[blueprintOut](t, r)
	base := fmt.Sprintf("/api/v1/centres/HZ001/blueprints/%d", b.ID)

	list := centre.do("GET", "/api/v1/centres/HZ001/blueprints", nil, nil)
	if list.Status != http.StatusOK || !strings.Contains(string(list.Body), "保育师四级理论") {
		t.Errorf("list blueprints: %d %s", list.Status, list.Body)
	}
	if ck := decodeJSON[checkOut](t, centre.send("POST", base+"/check", nil)); !ck.Feasible || len(ck.Shortfalls) != 0 {
		t.Errorf("check of a feasible blueprint: %+v", ck)
	}
	prev := centre.do("GET", base+"/preview", nil, nil)
	if prev.Status != http.StatusOK || !strings.Contains(string(prev.Body), "KEYFEEDBACK") || !strings.Contains(string(prev.Body), "KEYRUBRIC") {
		t.Errorf("preview with the key: %d %s", prev.Status, prev.Body)
	}
	page := centre.do("GET", fmt.Sprintf("/centres/HZ001/exams/blueprints/%d", b.ID), nil, nil)
	if page.Status != http.StatusOK || !strings.Contains(string(page.Body), "KEYRUBRIC") || !strings.Contains(string(page.Body), "题库能满足") {
		t.Errorf("blueprint page: %d", page.Status)
	}

	now := time.Now()
	r = centre.send("POST", "/api/v1/centres/HZ001/exam-sessions", map[string]any{"name": "十二月考试", "blueprint_id": b.ID,
		"opens_at": now.Add(time.Hour), "closes_at": now.Add(4 * time.Hour), "latest_start_at": now.Add(3 * time.Hour),
		"duration_minutes": 90, "grace_seconds": 60, "attempts_allowed": 2, "double_marking": true, "arbitration_gap": 2})
	if r.Status != http.StatusCreated {
		t.Fatalf("create session: %d %s", r.Status, r.Body)
	}
	x := r.json(t)
	if x["occupation"] != "4-10-01-03" || x["level"] != 4.0 || x["theory_pass"] != 60.0 || x["attempts_allowed"] != 2.0 || x["double_marking"] != true {
		t.Errorf("created session: %s", r.Body)
	}
	if x["require_verified_identity"] != true {
		t.Errorf("a session requires a verified identity by default: %s", r.Body)
	}
	r = centre.send("POST", "/api/v1/centres/HZ001/exam-sessions", map[string]any{"name": "免核验考试", "blueprint_id": b.ID,
		"opens_at": now.Add(time.Hour), "closes_at": now.Add(4 * time.Hour), "latest_start_at": now.Add(3 * time.Hour),
		"duration_minutes": 90, "require_verified_identity": false})
	if r.Status != http.StatusCreated || r.json(t)["require_verified_identity"] != false {
		t.Errorf("session without the identity requirement: %d %s", r.Status, r.Body)
	}
	exams := centre.do("GET", "/centres/HZ001/exams", nil, nil)
	if exams.Status != http.StatusOK || !strings.Contains(string(exams.Body), "十二月考试") {
		t.Errorf("the centre's exams page lacks the new session: %d", exams.Status)
	}

	if _, err := srv.Pool.Exec(context.Background(), `UPDATE bank_items SET status = 'retired', retired_at = now() WHERE type = 'essay'`); err != nil {
		t.Fatal(err)
	}
	ck := decodeJSON[checkOut](t, centre.send("POST", base+"/check", nil))
	if ck.Feasible || len(ck.Shortfalls) != 1 || ck.Shortfalls[0].Section != 1 || ck.Shortfalls[0].Wanted != 1 || ck.Shortfalls[0].Available != 0 {
		t.Errorf("check after retiring the essay: %+v", ck)
	}
}

// Another organisation's staff get 403 on every setup route of HZ001, and HZ001's staff get 403 on
// another organisation's; a candidate cannot create anything.
func TestSetupCrossCentreForbidden(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: setupBankSeeded})
	centre := mustLogin(t, srv, "centre")
	r := centre.send("POST", "/api/v1/centres/HZ001/blueprints", map[string]any{"name": "卷", "occupation": "4-10-01-03", "level": 4, "mode": "random",
		"sections": []map[string]any{{"part": "theory", "count": 1, "points": 10, "type": "true_false"}}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create blueprint: %d %s", r.Status, r.Body)
	}
	id := decodeJSON[blueprintOut](t, r).ID

	for _, who := range []string{"institution", "caregiver"} {
		c := mustLogin(t, srv, who)
		for _, req := range []struct{ method, path string }{
			{"GET", "/api/v1/centres/HZ001/blueprints"},
			{"POST", "/api/v1/centres/HZ001/blueprints"},
			{"POST", fmt.Sprintf("/api/v1/centres/HZ001/blueprints/%d/check", id)},
			{"GET", fmt.Sprintf("/api/v1/centres/HZ001/blueprints/%d/preview", id)},
			{"POST", "/api/v1/centres/HZ001/exam-sessions"},
			{"GET", "/centres/HZ001/exams/blueprints"},
			{"GET", fmt.Sprintf("/centres/HZ001/exams/blueprints/%d", id)},
			{"GET", "/centres/HZ001/exams/new"},
		} {
			if res := c.send(req.method, req.path, map[string]any{}); res.Status != http.StatusForbidden {
				t.Errorf("%s %s %s: %d", who, req.method, req.path, res.Status)
			}
		}
	}
	for _, path := range []string{"/api/v1/centres/HZI001/blueprints", "/centres/HZI001/exams/new"} {
		if res := centre.do("GET", path, nil, nil); res.Status != http.StatusForbidden {
			t.Errorf("centre admin of HZ001 GET %s: %d", path, res.Status)
		}
	}
	if res := centre.send("POST", "/api/v1/centres/HZI001/exam-sessions", map[string]any{"blueprint_id": id}); res.Status != http.StatusForbidden {
		t.Errorf("centre admin of HZ001 creating a session at HZI001: %d", res.Status)
	}
	if n := countRows(t, srv.Pool, "exam_sessions"); n != 0 {
		t.Errorf("%d sessions stored by forbidden requests", n)
	}
}

// Bad input answers 422 with the fields at fault, in the API and in the forms, and stores nothing.
func TestSetupBadInputStoresNothing(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: setupBankSeeded})
	centre := mustLogin(t, srv, "centre")

	r := centre.send("POST", "/api/v1/centres/HZ001/blueprints", map[string]any{"name": " ", "occupation": "4-10-01-03", "level": 9, "mode": "odd",
		"sections": []map[string]any{{"part": "theory", "count": 0, "points": 10}}})
	f := errorFields(t, r)
	if r.Status != http.StatusUnprocessableEntity || f["name"] == nil || f["level"] == nil || f["mode"] == nil || f["sections.0"] == nil {
		t.Errorf("bad blueprint: %d %s", r.Status, r.Body)
	}
	r = centre.send("POST", "/api/v1/centres/HZ001/blueprints", map[string]any{"name": "太多", "occupation": "4-10-01-03", "level": 4, "mode": "random",
		"sections": []map[string]any{{"part": "theory", "count": 1, "points": 10}, {"part": "theory", "count": 50, "points": 1, "type": "numeric"}}})
	if f := errorFields(t, r); r.Status != http.StatusUnprocessableEntity || f["sections.1"] == nil || f["sections.0"] != nil {
		t.Errorf("infeasible blueprint: %d %s", r.Status, r.Body)
	}
	form := examForm(centre, "/centres/HZ001/exams/blueprints", url.Values{"name": {""}, "occupation": {"4-10-01-03:4"}, "mode": {"random"},
		"s0_part": {"theory"}, "s0_count": {"1"}, "s0_points": {"10"}, "s2_part": {"theory"}, "s2_count": {"x"}})
	if form.Status != http.StatusUnprocessableEntity || !strings.Contains(string(form.Body), "题量无效") || !strings.Contains(string(form.Body), `value="x"`) {
		t.Errorf("blueprint form with bad input: %d", form.Status)
	}
	if n := countRows(t, srv.Pool, "exam_blueprints"); n != 0 {
		t.Fatalf("%d blueprints stored from bad input", n)
	}

	r = centre.send("POST", "/api/v1/centres/HZ001/exam-sessions", map[string]any{"name": "x", "blueprint_id": 999999,
		"opens_at": time.Now(), "closes_at": time.Now().Add(time.Hour), "latest_start_at": time.Now(), "duration_minutes": 60})
	if f := errorFields(t, r); r.Status != http.StatusUnprocessableEntity || f["blueprint_id"] == nil {
		t.Errorf("session of an unknown blueprint: %d %s", r.Status, r.Body)
	}
	form = examForm(centre, "/centres/HZ001/exams/blueprints", url.Values{"name": {"判断题卷"}, "occupation": {"4-10-01-03:4"}, "mode": {"fixed"},
		"s0_part": {"theory"}, "s0_count": {"1"}, "s0_points": {"100"}, "s0_type": {"true_false"}})
	if form.Status != http.StatusSeeOther {
		t.Fatalf("blueprint form: %d %s", form.Status, form.Body)
	}
	var bpID int64
	if err := srv.Pool.QueryRow(context.Background(), `SELECT id FROM exam_blueprints`).Scan(&bpID); err != nil {
		t.Fatal(err)
	}
	r = centre.send("POST", "/api/v1/centres/HZ001/exam-sessions", map[string]any{"name": "", "blueprint_id": bpID,
		"opens_at": time.Now().Add(time.Hour), "closes_at": time.Now(), "latest_start_at": time.Now().Add(-time.Hour), "duration_minutes": 0, "attempts_allowed": 11})
	f = errorFields(t, r)
	if r.Status != http.StatusUnprocessableEntity || f["name"] == nil || f["closes_at"] == nil || f["latest_start_at"] == nil || f["duration"] == nil || f["attempts_allowed"] == nil {
		t.Errorf("bad session: %d %s", r.Status, r.Body)
	}
	if res := centre.do("GET", "/centres/HZ001/exams/new", nil, nil); res.Status != http.StatusOK || !strings.Contains(string(res.Body), "判断题卷") {
		t.Errorf("new session page: %d", res.Status)
	}
	form = examForm(centre, "/centres/HZ001/exams/new", url.Values{"name": {"周末批次"}, "blueprint_id": {fmt.Sprint(bpID)}, "opens_at": {"2030-01-02T09:00"},
		"closes_at": {"2030-01-02T08:00"}, "latest_start_at": {"bad"}, "duration_minutes": {"90"}, "grace_minutes": {"1"}, "attempts_allowed": {"1"},
		"theory_pass": {"60"}, "practical_pass": {"60"}, "min_hours": {"0"}, "arbitration_gap": {"0"}})
	if form.Status != http.StatusUnprocessableEntity || !strings.Contains(string(form.Body), "请输入日期和时间") || !strings.Contains(string(form.Body), "周末批次") {
		t.Errorf("session form with a bad time: %d", form.Status)
	}
	form = examForm(centre, "/centres/HZ001/exams/new", url.Values{"name": {"周末批次"}, "blueprint_id": {fmt.Sprint(bpID)}, "opens_at": {"2030-01-02T09:00"},
		"closes_at": {"2030-01-02T08:00"}, "latest_start_at": {"2030-01-02T09:30"}, "duration_minutes": {"90"}, "grace_minutes": {"1"}, "attempts_allowed": {"1"},
		"theory_pass": {"60"}, "practical_pass": {"60"}, "min_hours": {"0"}, "arbitration_gap": {"0"}})
	if form.Status != http.StatusUnprocessableEntity || !strings.Contains(string(form.Body), "结束时间应晚于开始时间") || !strings.Contains(string(form.Body), `aria-invalid="true"`) {
		t.Errorf("session form with a bad window: %d", form.Status)
	}
	if n := countRows(t, srv.Pool, "exam_sessions"); n != 0 {
		t.Fatalf("%d sessions stored from bad input", n)
	}
	form = examForm(centre, "/centres/HZ001/exams/new", url.Values{"name": {"周末批次"}, "blueprint_id": {fmt.Sprint(bpID)}, "opens_at": {"2030-01-02T09:00"},
		"closes_at": {"2030-01-02T12:00"}, "latest_start_at": {"2030-01-02T10:30"}, "duration_minutes": {"90"}, "grace_minutes": {"1"}, "attempts_allowed": {"1"},
		"theory_pass": {"60"}, "practical_pass": {"60"}, "min_hours": {"0"}, "arbitration_gap": {"0"}, "double_marking": {"1"}})
	if form.Status != http.StatusSeeOther {
		t.Fatalf("session form: %d %s", form.Status, form.Body)
	}
	if page := centre.do("GET", "/centres/HZ001/exams", nil, nil); !strings.Contains(string(page.Body), "周末批次") {
		t.Error("the session made with the form is not on the centre's page")
	}
	form = examForm(centre, "/centres/HZ001/exams/new", url.Values{"name": {"免核验批次"}, "blueprint_id": {fmt.Sprint(bpID)}, "opens_at": {"2030-01-02T09:00"},
		"closes_at": {"2030-01-02T12:00"}, "latest_start_at": {"2030-01-02T10:30"}, "duration_minutes": {"90"}, "grace_minutes": {"1"}, "attempts_allowed": {"1"},
		"theory_pass": {"60"}, "practical_pass": {"60"}, "min_hours": {"0"}, "arbitration_gap": {"0"}, "require_verified_identity": {"off"}})
	if form.Status != http.StatusSeeOther {
		t.Fatalf("session form without the identity requirement: %d %s", form.Status, form.Body)
	}
	required := map[string]bool{}
	rows, err := srv.Pool.Query(context.Background(), `SELECT name, require_verified_identity FROM exam_sessions`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		var req bool
		if err := rows.Scan(&name, &req); err != nil {
			t.Fatal(err)
		}
		required[name] = req
	}
	rows.Close()
	if !required["周末批次"] || required["免核验批次"] {
		t.Errorf("identity requirement from the form: %v; want the default on, off when chosen", required)
	}
}

// On a phone the centre administrator submits the blueprint form with a bad row (the error shows and
// the typed values stay), fixes it, sees the feasibility and the sample paper, then opens the
// new-session form; no page scrolls sideways at 360 px.
func TestSetupPagesOnAPhone(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: setupBankSeeded})
	vp := browsertest.Phone
	ctx := browsertest.New(t, vp)
	submit := func(sel string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
			t.Fatalf("submit %s: %v", sel, err)
		}
	}
	signIn(t, ctx, srv.URL, "/centres/HZ001/exams/blueprints", "centre")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#bp-name")),
		chromedp.SendKeys(chromedp.CSS("#bp-name"), "判断题小测"),
		chromedp.SendKeys(chromedp.CSS("#s0-count"), "9"), chromedp.SendKeys(chromedp.CSS("#s0-points"), "10"),
		chromedp.SetValue(chromedp.CSS("#s0-type"), "true_false")); err != nil {
		t.Fatal(err)
	}
	submit(`form[action$="/blueprints"] button[type=submit]`)
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("fieldset .field-error")))
	if err != nil || !strings.Contains(msg, "9") {
		t.Fatalf("the short section's message: %q %v", msg, err)
	}
	if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#bp-name"))); err != nil || v != "判断题小测" {
		t.Errorf("the name typed was not kept: %q %v", v, err)
	}
	browsertest.AssertFits(t, ctx, vp)
	browsertest.Screenshot(t, ctx, "exam-blueprints-error-phone")
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#s0-count"), "1")); err != nil {
		t.Fatal(err)
	}
	submit(`form[action$="/blueprints"] button[type=submit]`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(".notice"))); err != nil {
		t.Fatal(err)
	}
	submit(`tbody a`)
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil || !strings.Contains(text, "题库能满足") || !strings.Contains(text, "奶瓶应每次使用后清洗") {
		t.Errorf("blueprint page: %q %v", text, err)
	}
	browsertest.AssertFits(t, ctx, vp)
	browsertest.Screenshot(t, ctx, "exam-blueprint-phone")
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/centres/HZ001/exams/new"), chromedp.WaitVisible(chromedp.CSS("#x-name"))); err != nil {
		t.Fatal(err)
	}
	browsertest.AssertFits(t, ctx, vp)
	browsertest.Screenshot(t, ctx, "exam-session-new-phone")
}
