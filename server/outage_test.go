package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"shanyu/internal/pgtest"
	"shanyu/internal/servertest"
)

// A database outage under a running server (its own PostgreSQL, stopped in fast mode: sessions
// ended with 57P01, then connections refused) is a known fault: a save, an API read and a page all
// answer 503 with Retry-After and the code "unavailable", in zh-CN and in English, never 500; once
// the database is back the same session carries on.
func TestDatabaseOutageAnswers503(t *testing.T) {
	t.Parallel()
	db := pgtest.StartCluster(t)
	srv := servertest.Start(t, servertest.Options{DBURL: db.URL, Setup: seedDemoAccounts})
	cand := mustLogin(t, srv, "caregiver")
	wantStatus(t, "before the outage", cand.do("GET", "/api/v1/me", nil, nil), http.StatusOK)
	// A signed-in user is answered in their own language (their sessions stay known to the server
	// during the outage): the English answers go to a user who chose English.
	centre := mustLogin(t, srv, "centre")
	wantStatus(t, "choosing English", centre.do("GET", "/lang/en", nil, nil), http.StatusSeeOther)

	db.Stop(t)
	messages := map[string]string{"zh-CN": "数据库暂时无法连接，请几秒钟后再试。", "en": "The database cannot be reached right now; please try again in a few seconds."}
	for _, c := range []struct {
		name, method, path, lang string
		body                     any
		page                     bool
		as                       *client
	}{
		{"an answer saved", "POST", "/api/v1/attempts/1/answers", "zh-CN", map[string]any{"item": 0, "seq": 1, "response": map[string]any{"choices": []int{0}}}, false, cand},
		{"my sessions", "GET", "/api/v1/me/sessions", "en", nil, false, centre},
		{"the account page", "GET", "/account", "zh-CN", nil, true, cand},
		{"the account page in English", "GET", "/account", "en", nil, true, centre},
	} {
		h := map[string]string{"X-CSRF-Token": c.as.csrf, "Accept-Language": c.lang}
		if !c.page {
			h["Accept"] = "application/json"
		}
		r := c.as.do(c.method, c.path, c.body, h)
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") != "5" {
			t.Errorf("%s during the outage: %d, Retry-After %q, want 503 with Retry-After 5: %.300s", c.name, r.Status, r.Header.Get("Retry-After"), r.Body)
			continue
		}
		if c.page {
			if !strings.Contains(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.Body), messages[c.lang]) {
				t.Errorf("%s: %s page without its %s message: %.300s", c.name, r.Header.Get("Content-Type"), c.lang, r.Body)
			}
			continue
		}
		e, _ := r.json(t)["error"].(map[string]any)
		if e["code"] != "unavailable" || e["key"] != "error.db_unavailable" || e["message"] != messages[c.lang] {
			t.Errorf("%s: error %v, want code unavailable with the %s message", c.name, e, c.lang)
		}
	}

	db.Start(t)
	// The pool reconnects by itself; allow it a few attempts (a liveness wait, not a timing check).
	status := 0
	for i := 0; i < 50 && status != http.StatusOK; i++ {
		if i > 0 {
			time.Sleep(200 * time.Millisecond)
		}
		status = cand.do("GET", "/api/v1/my/exams", nil, nil).Status
	}
	if status != http.StatusOK {
		t.Fatalf("after the database came back: %d, want the same session to carry on", status)
	}
}
