package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/internal/config"
	"shanyu/internal/servertest"
)

// seedCurriculumAccounts is the demo accounts plus a trainer of the Ningbo centre (NB001).
func seedCurriculumAccounts(pool *pgxpool.Pool) error {
	if err := seedDemoAccounts(pool); err != nil {
		return err
	}
	ctx := context.Background()
	cfg, err := config.Parse(func(string) string { return "" })
	if err != nil {
		return err
	}
	acc, err := accounts.New(pool, cfg.SecretKey, accounts.DefaultPolicy)
	if err != nil {
		return err
	}
	u, err := acc.CreateUser(ctx, 0, accounts.CreateUserInput{Username: "trainer.nb", Name: "吴芳", Password: accounts.DemoPassword})
	if err != nil {
		return err
	}
	return acc.AddGrant(ctx, 0, u.ID, accounts.RoleTrainer, "org:NB001")
}

func startCurriculum(tb testing.TB) *servertest.Instance {
	tb.Helper()
	return servertest.Start(tb, servertest.Options{Seeded: curriculumSeeded})
}

// courseBody is a valid course in the JSON API's shape; minSeconds is every lesson's minimum time.
func courseBody(title string, minSeconds int) map[string]any {
	return map[string]any{
		"title": title, "summary": "测试课程", "occupation_code": "4-10-01-03", "level": 4, "required_hours": 1.5,
		"modules": []map[string]any{{"title": "模块一", "lessons": []map[string]any{
			{"title": "第一课", "body": "## 要点\n\n<script>alert(1)</script>\n\n**重要**", "hours": 1, "min_seconds": minSeconds},
			{"title": "第二课", "body": "正文", "hours": 0.5, "min_seconds": minSeconds},
		}}},
	}
}

func num(v any) int64 { f, _ := v.(float64); return int64(f) }

// createPublished makes a course as the client (a trainer) in the centre and publishes it.
func createPublished(t *testing.T, c *client, centre, title string) int64 {
	t.Helper()
	r := c.send("POST", "/api/v1/centres/"+centre+"/courses", courseBody(title, 0))
	if r.Status != http.StatusCreated {
		t.Fatalf("create course: %d %s", r.Status, r.Body)
	}
	id := num(r.json(t)["id"])
	if r := c.send("POST", fmt.Sprintf("/api/v1/courses/%d/publish", id), nil); r.Status != http.StatusOK {
		t.Fatalf("publish: %d %s", r.Status, r.Body)
	}
	return id
}

func TestCurriculumCatalogueEnrolStudyAndHoursOverJSON(t *testing.T) {
	t.Parallel()
	srv := startCurriculum(t)
	trainer := mustLogin(t, srv, "trainer")
	id := createPublished(t, trainer, "HZ001", "婴幼儿生活照料")
	createPublished(t, trainer, "HZ001", "安全防护与应急处置")
	anon := newClient(t, srv)

	r := anon.do("GET", "/api/v1/courses?q="+url.QueryEscape("照料"), nil, nil)
	body := r.json(t)
	items, _ := body["items"].([]any)
	if r.Status != 200 || num(body["total"]) != 1 || len(items) != 1 || items[0].(map[string]any)["title"] != "婴幼儿生活照料" {
		t.Fatalf("catalogue search: %d %s", r.Status, r.Body)
	}
	if r := anon.do("GET", "/api/v1/courses?region=3302", nil, nil); num(r.json(t)["total"]) != 0 {
		t.Fatalf("region filter: %s", r.Body)
	}
	if r := anon.do("POST", fmt.Sprintf("/api/v1/courses/%d/enrolments", id), nil, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("anonymous enrolment: %d", r.Status)
	}

	learner := mustLogin(t, srv, "caregiver")
	r = learner.send("POST", fmt.Sprintf("/api/v1/courses/%d/enrolments", id), nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("enrol: %d %s", r.Status, r.Body)
	}
	if r := learner.send("POST", fmt.Sprintf("/api/v1/courses/%d/enrolments", id), nil); r.Status != http.StatusConflict {
		t.Fatalf("second enrolment: %d %s", r.Status, r.Body)
	}
	r = anon.do("GET", fmt.Sprintf("/api/v1/courses/%d", id), nil, nil)
	lessons := r.json(t)["modules"].([]any)[0].(map[string]any)["lessons"].([]any)
	lessonID := num(lessons[0].(map[string]any)["id"])
	r = learner.send("POST", fmt.Sprintf("/api/v1/lessons/%d/open", lessonID), nil)
	html, _ := r.json(t)["lesson"].(map[string]any)["body_html"].(string)
	if r.Status != 200 || strings.Contains(html, "<script") || strings.Contains(html, "alert") || !strings.Contains(html, "<strong>重要</strong>") {
		t.Fatalf("open lesson (sanitised body expected): %d %s", r.Status, r.Body)
	}
	if r := learner.send("POST", fmt.Sprintf("/api/v1/lessons/%d/complete", lessonID), nil); r.Status != 200 || r.json(t)["credited"] != true {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	r = learner.do("GET", "/api/v1/me/hours", nil, nil)
	if r.Status != 200 || r.json(t)["total_hours"] != 1.0 {
		t.Fatalf("my hours: %d %s", r.Status, r.Body)
	}
	entryID := num(r.json(t)["entries"].([]any)[0].(map[string]any)["id"])
	corr := map[string]any{"hours": -0.5, "reason": "课时录入有误"}
	path := fmt.Sprintf("/api/v1/hours/%d/corrections", entryID)
	if r := mustLogin(t, srv, "trainer.nb").send("POST", path, corr); r.Status != http.StatusForbidden {
		t.Fatalf("correction by another centre's trainer: %d %s", r.Status, r.Body)
	}
	if r := learner.send("POST", path, corr); r.Status != http.StatusForbidden {
		t.Fatalf("correction by the learner: %d %s", r.Status, r.Body)
	}
	if r := trainer.send("POST", path, map[string]any{"hours": -0.5}); r.Status != http.StatusUnprocessableEntity || errorFields(t, r)["reason"] == nil {
		t.Fatalf("correction without a reason: %d %s", r.Status, r.Body)
	}
	if r := trainer.send("POST", path, corr); r.Status != http.StatusCreated || r.json(t)["kind"] != "correction" {
		t.Fatalf("correction by the centre: %d %s", r.Status, r.Body)
	}
	if h := learner.do("GET", "/api/v1/me/hours", nil, nil).json(t)["total_hours"]; h != 0.5 {
		t.Fatalf("hours after the correction: %v", h)
	}
	if r := learner.do("GET", "/api/v1/me/hours?from=2026-13-01", nil, nil); r.Status != http.StatusUnprocessableEntity || errorFields(t, r)["from"] == nil {
		t.Fatalf("bad period: %d %s", r.Status, r.Body)
	}
	r = learner.do("GET", "/hours.csv", nil, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), "婴幼儿生活照料") {
		t.Fatalf("CSV: %d %s", r.Status, r.Body)
	}
	r = learner.do("GET", "/hours.pdf", nil, nil)
	if r.Status != 200 || !strings.HasPrefix(string(r.Body), "%PDF") || r.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("PDF: %d %.200s", r.Status, r.Body)
	}
	if r := anon.do("GET", "/courses", nil, map[string]string{"Accept": "text/html"}); r.Status != 200 || !strings.Contains(string(r.Body), "课程目录") || !strings.Contains(string(r.Body), "婴幼儿生活照料") {
		t.Fatalf("/courses page: %d", r.Status)
	}
}

func TestCurriculumTrainerOfAnotherCentreGets403(t *testing.T) {
	t.Parallel()
	srv := startCurriculum(t)
	hz := mustLogin(t, srv, "trainer")
	nb := mustLogin(t, srv, "trainer.nb")
	id := createPublished(t, hz, "HZ001", "卫生保健与疾病预防")

	for _, tc := range []struct{ method, path string }{
		{"PUT", fmt.Sprintf("/api/v1/courses/%d/draft", id)},
		{"POST", fmt.Sprintf("/api/v1/courses/%d/publish", id)},
		{"POST", fmt.Sprintf("/api/v1/courses/%d/unpublish", id)},
		{"GET", fmt.Sprintf("/api/v1/courses/%d/versions", id)},
		{"POST", "/api/v1/centres/HZ001/courses"},
		{"GET", "/api/v1/centres/HZ001/courses"},
	} {
		if r := nb.send(tc.method, tc.path, courseBody("改动", 0)); r.Status != http.StatusForbidden {
			t.Errorf("NB001 trainer %s %s: %d %s", tc.method, tc.path, r.Status, r.Body)
		}
	}
	// The page forms are guarded the same way.
	if r := nb.do("GET", fmt.Sprintf("/centre/courses/%d", id), nil, map[string]string{"Accept": "text/html"}); r.Status != http.StatusForbidden {
		t.Errorf("NB001 trainer opening the HZ001 editor: %d", r.Status)
	}
	// A caregiver may not author at all; the NB001 trainer can in their own centre.
	if r := mustLogin(t, srv, "caregiver").send("POST", "/api/v1/centres/HZ001/courses", courseBody("学员课程", 0)); r.Status != http.StatusForbidden {
		t.Errorf("caregiver creating a course: %d", r.Status)
	}
	if r := nb.send("POST", "/api/v1/centres/NB001/courses", courseBody("职业道德与心理健康", 0)); r.Status != http.StatusCreated {
		t.Errorf("NB001 trainer in their own centre: %d %s", r.Status, r.Body)
	}
	// Nothing the refused requests sent was saved.
	r := hz.do("GET", fmt.Sprintf("/api/v1/courses/%d/versions", id), nil, nil)
	if n := num(r.json(t)["total"]); n != 1 {
		t.Fatalf("versions after refused edits: %d", n)
	}
}

func TestCurriculumBadInputIsTranslatedAndNothingSaved(t *testing.T) {
	t.Parallel()
	srv := startCurriculum(t)
	trainer := mustLogin(t, srv, "trainer")
	bad := courseBody("x", -1)
	bad["occupation_code"] = "9-99-99-99"
	r := trainer.do("POST", "/api/v1/centres/HZ001/courses", bad, map[string]string{"X-CSRF-Token": trainer.csrf, "Accept-Language": "zh-CN"})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad course: %d %s", r.Status, r.Body)
	}
	fields := errorFields(t, r)
	for _, f := range []string{"title", "occupation_code", "modules.0.lessons.0.min_seconds"} {
		msg, _ := fields[f].(string)
		if msg == "" || strings.HasPrefix(msg, "curriculum.") {
			t.Errorf("field %s: %q (want a translated message)", f, msg)
		}
	}
	if r := trainer.do("POST", "/api/v1/centres/HZ001/courses", "not an object", map[string]string{"X-CSRF-Token": trainer.csrf}); r.Status != http.StatusUnprocessableEntity && r.Status != http.StatusBadRequest {
		t.Fatalf("malformed JSON: %d %s", r.Status, r.Body)
	}
	// The HTML editor shows the outline problem with its line number and keeps what was typed.
	form := url.Values{"_csrf": {trainer.csrf}, "org": {"HZ001"}, "title": {"早期发展支持"}, "occupation": {"4-10-01-03:4"}, "required_hours": {"4"},
		"outline": {"=== 模块\n--- 第一课 | 一 | 60\n"}}
	r2 := trainer.postForm("/centre/courses", form)
	if r2.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r2.Body), "第 2 行") || !strings.Contains(string(r2.Body), "早期发展支持") {
		t.Fatalf("editor with a bad outline: %d", r2.Status)
	}
	r = trainer.do("GET", "/api/v1/centres/HZ001/courses", nil, nil)
	if n := num(r.json(t)["total"]); n != 0 {
		t.Fatalf("courses saved after bad input: %d", n)
	}
}

// postForm posts an HTML form with the session's cookie.
func (c *client) postForm(path string, form url.Values) response {
	c.tb.Helper()
	req, err := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	res, err := c.http.Do(req)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.tb.Fatal(err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

func TestCurriculumQRCheckInOverHTTP(t *testing.T) {
	t.Parallel()
	srv := startCurriculum(t)
	trainer := mustLogin(t, srv, "trainer")
	bases, err := srv.App.Accounts.TrainingBases(context.Background(), orgID(t, srv, "HZ001"))
	if err != nil || len(bases) == 0 {
		t.Fatalf("bases: %v", err)
	}
	r := trainer.send("POST", "/api/v1/centres/HZ001/sessions", map[string]any{"base_id": bases[0].ID, "title": "急救实训", "occupation_code": "4-10-01-03", "level": 4,
		"starts_at": time.Now().Add(-time.Hour).Format(time.RFC3339), "ends_at": time.Now().Add(2 * time.Hour).Format(time.RFC3339), "capacity": 1, "hours": 3})
	if r.Status != http.StatusCreated {
		t.Fatalf("create session: %d %s", r.Status, r.Body)
	}
	sid := num(r.json(t)["id"])
	learner := mustLogin(t, srv, "caregiver")
	if r := learner.send("POST", fmt.Sprintf("/api/v1/sessions/%d/signups", sid), nil); r.Status != http.StatusCreated || r.json(t)["status"] != "confirmed" {
		t.Fatalf("sign up: %d %s", r.Status, r.Body)
	}
	if r := mustLogin(t, srv, "examiner").send("GET", fmt.Sprintf("/api/v1/sessions/%d/code", sid), nil); r.Status != http.StatusForbidden {
		t.Fatalf("examiner asking for a check-in code: %d", r.Status)
	}
	if r := mustLogin(t, srv, "trainer.nb").send("GET", fmt.Sprintf("/api/v1/sessions/%d/code", sid), nil); r.Status != http.StatusForbidden {
		t.Fatalf("other centre's trainer asking for a check-in code: %d", r.Status)
	}
	code := trainer.do("GET", fmt.Sprintf("/api/v1/sessions/%d/code", sid), nil, nil).json(t)["code"].(string)
	png := trainer.do("GET", fmt.Sprintf("/centre/sessions/%d/qr.png", sid), nil, nil)
	if png.Status != 200 || png.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(string(png.Body), "\x89PNG") {
		t.Fatalf("QR image: %d %s", png.Status, png.Header.Get("Content-Type"))
	}
	// It decodes, with an independent decoder, to this session's check-in link.
	qrFile := filepath.Join(t.TempDir(), "qr.png")
	if err := os.WriteFile(qrFile, png.Body, 0o600); err != nil {
		t.Fatal(err)
	}
	if link := runTool(t, "zbarimg", "--nodbus", "-q", "--raw", qrFile); !strings.Contains(link, fmt.Sprintf("/sessions/%d/checkin?code=", sid)) {
		t.Fatalf("QR image decodes to %q", link)
	}
	r = learner.send("POST", fmt.Sprintf("/api/v1/sessions/%d/checkin", sid), map[string]string{"code": code})
	if r.Status != 200 || r.json(t)["action"] != "in" {
		t.Fatalf("check-in: %d %s", r.Status, r.Body)
	}
	r = learner.send("POST", fmt.Sprintf("/api/v1/sessions/%d/checkin", sid), map[string]string{"code": code})
	if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "已使用") && !strings.Contains(string(r.Body), "already used") {
		t.Fatalf("replayed code: %d %s", r.Status, r.Body)
	}
	// The page flow: the check-in link shows a confirm button; a tampered code is refused with its reason.
	page := learner.do("GET", fmt.Sprintf("/sessions/%d/checkin?code=%s", sid, url.QueryEscape(code+"x")), nil, map[string]string{"Accept": "text/html"})
	if page.Status != 200 || !strings.Contains(string(page.Body), "confirm-checkin") {
		t.Fatalf("check-in page: %d", page.Status)
	}
	res := learner.postForm(fmt.Sprintf("/sessions/%d/checkin", sid), url.Values{"_csrf": {learner.csrf}, "code": {code + "x"}})
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(string(res.Body), "二维码无效") {
		t.Fatalf("tampered code on the page: %d", res.Status)
	}
	fresh := trainer.do("GET", fmt.Sprintf("/api/v1/sessions/%d/code", sid), nil, nil).json(t)["code"].(string)
	res = learner.postForm(fmt.Sprintf("/sessions/%d/checkin", sid), url.Values{"_csrf": {learner.csrf}, "code": {fresh}})
	if res.Status != 200 || !strings.Contains(string(res.Body), "签退成功") {
		t.Fatalf("check-out on the page: %d %s", res.Status, res.Body)
	}
	if h := learner.do("GET", "/api/v1/me/hours", nil, nil).json(t)["total_hours"]; h != 3.0 {
		t.Fatalf("hours after check-out: %v", h)
	}
}

func orgID(t *testing.T, srv *servertest.Instance, code string) int64 {
	t.Helper()
	o, err := srv.App.Accounts.OrganisationByCode(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return o.ID
}
