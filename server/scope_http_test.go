package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"shanyu/internal/servertest"
)

// userID finds a demo user's id through the province administrator's user search.
func userID(tb testing.TB, admin *client, username string) int64 {
	tb.Helper()
	out := decodeJSON[struct {
		Items []struct {
			ID       int64  `json:"id"`
			Username string `json:"username"`
		} `json:"items"`
	}](tb, admin.do("GET", "/api/v1/admin/users?limit=200&q="+username, nil, nil))
	for _, u := range out.Items {
		if u.Username == username {
			return u.ID
		}
	}
	tb.Fatalf("no user %s", username)
	return 0
}

func wantStatus(tb testing.TB, what string, r response, want int) {
	tb.Helper()
	if r.Status != want {
		tb.Errorf("%s: %d %s, want %d", what, r.Status, r.Body, want)
	}
}

// The takeover of the issue: a Ningbo regulator resetting the province admin's password.
func TestScopeTakeoverByARegionalRegulatorRefused(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	admin, nb := mustLogin(t, srv, "admin"), mustLogin(t, srv, "regulator.nb")
	reset := func(c *client, id int64) response {
		return c.send("POST", fmt.Sprintf("/api/v1/admin/users/%d/password-reset", id), map[string]string{"password": "taken-over-1234"})
	}
	for _, victim := range []string{"admin", "centre", "inspector", "institution"} {
		id := userID(t, admin, victim)
		wantStatus(t, "regulator.nb resets "+victim, reset(nb, id), http.StatusForbidden)
		wantStatus(t, "regulator.nb grants to "+victim, nb.send("POST", fmt.Sprintf("/api/v1/admin/users/%d/grants", id), map[string]string{"role": "trainer", "domain": "org:NB001"}), http.StatusForbidden)
		wantStatus(t, "regulator.nb reads "+victim, nb.do("GET", fmt.Sprintf("/api/v1/admin/users/%d", id), nil, nil), http.StatusForbidden)
	}
	// The province admin still signs in with the demo password: nothing was reset.
	mustLogin(t, srv, "admin")
	// Inside Ningbo the regional regulator may act…
	nbInspector := userID(t, admin, "inspector.nb")
	before := mustLogin(t, srv, "inspector.nb")
	wantStatus(t, "regulator.nb resets inspector.nb", reset(nb, nbInspector), http.StatusOK)
	// Replay: the session opened before the reset is over.
	wantStatus(t, "inspector.nb's old session after the reset", before.do("GET", "/api/v1/me", nil, nil), http.StatusUnauthorized)
	// …but not raise anyone above itself (item 4): not the province, not everywhere.
	for _, domain := range []string{"region:33", "*", "region:3301", "org:HZ001"} {
		wantStatus(t, "regulator.nb grants regulator_admin in "+domain, nb.send("POST", fmt.Sprintf("/api/v1/admin/users/%d/grants", nbInspector), map[string]string{"role": "regulator_admin", "domain": domain}), http.StatusForbidden)
	}
	wantStatus(t, "regulator.nb grants in its own region", nb.send("POST", fmt.Sprintf("/api/v1/admin/users/%d/grants", nbInspector), map[string]string{"role": "institution_admin", "domain": "org:NBI001"}), http.StatusCreated)
	// The province admin acts on Ningbo staff.
	wantStatus(t, "admin resets regulator.nb", reset(admin, userID(t, admin, "regulator.nb")), http.StatusOK)
}

// A regional regulator lists only people of its region; a learner of a Hangzhou centre is not theirs.
func TestScopeUserListFilteredToTheRegion(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	admin := mustLogin(t, srv, "admin")
	nb := mustLogin(t, srv, "regulator.nb")
	r := nb.do("GET", "/api/v1/admin/users?limit=200", nil, nil)
	wantStatus(t, "list", r, http.StatusOK)
	var got []string
	for _, it := range r.json(t)["items"].([]any) {
		got = append(got, it.(map[string]any)["username"].(string))
	}
	joined := "," + strings.Join(got, ",") + ","
	for _, u := range []string{"inspector.nb", "institution.nb", "regulator.nb"} {
		if !strings.Contains(joined, ","+u+",") {
			t.Errorf("regulator.nb's list %v lacks %s", got, u)
		}
	}
	for _, u := range []string{"admin", "centre", "trainer", "caregiver", "inspector", "institution"} {
		if strings.Contains(joined, ","+u+",") {
			t.Errorf("regulator.nb's list %v shows %s", got, u)
		}
	}
	full := admin.do("GET", "/api/v1/admin/users?limit=200", nil, nil).json(t)["items"].([]any)
	if len(full) <= len(got) {
		t.Errorf("the province admin sees %d users, the Ningbo regulator %d", len(full), len(got))
	}
	orgs := nb.do("GET", "/api/v1/admin/organisations?limit=200", nil, nil)
	if body := string(orgs.Body); orgs.Status != http.StatusOK || strings.Contains(body, "HZ001") || !strings.Contains(body, "NBI001") {
		t.Errorf("regulator.nb's organisation list: %d %s", orgs.Status, body)
	}
	wantStatus(t, "regulator.nb lists Hangzhou's organisations", nb.do("GET", "/api/v1/admin/organisations?region=3301", nil, nil), http.StatusForbidden)
	wantStatus(t, "regulator.nb reads the caregiver", nb.do("GET", fmt.Sprintf("/api/v1/admin/users/%d", userID(t, admin, "caregiver")), nil, nil), http.StatusForbidden)
	wantStatus(t, "admin reads the caregiver", admin.do("GET", fmt.Sprintf("/api/v1/admin/users/%d", userID(t, admin, "caregiver")), nil, nil), http.StatusOK)
}

// A temporary password opens /api/v1/me, the password change and logout, and nothing else.
func TestScopeTemporaryPasswordMustBeChangedFirst(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	admin := mustLogin(t, srv, "admin")
	wantStatus(t, "create", admin.send("POST", "/api/v1/admin/users", map[string]string{"username": "temp.user", "name": "临时用户", "password": "temporary-1234"}), http.StatusCreated)
	u := newClient(t, srv)
	wantStatus(t, "login", u.login("temp.user", "temporary-1234"), http.StatusOK)
	wantStatus(t, "GET /api/v1/me", u.do("GET", "/api/v1/me", nil, nil), http.StatusOK)
	for _, path := range []string{"/api/v1/me/courses", "/api/v1/me/sessions", "/api/v1/certificates", "/api/v1/my/exams"} {
		r := u.do("GET", path, nil, nil)
		wantStatus(t, path, r, http.StatusForbidden)
		if r.Status == http.StatusForbidden {
			if code := r.json(t)["error"].(map[string]any)["code"]; code != "password_change_required" {
				t.Errorf("%s: code %v", path, code)
			}
		}
	}
	if r := u.do("GET", "/learn", nil, map[string]string{"Accept": "text/html"}); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/account#password" {
		t.Errorf("page: %d to %q, want a redirect to the change form", r.Status, r.Header.Get("Location"))
	}
	wantStatus(t, "change", u.send("POST", "/api/v1/me/password", map[string]string{"current_password": "temporary-1234", "new_password": "my-own-password-99"}), http.StatusOK)
	wantStatus(t, "after the change", u.do("GET", "/api/v1/me/courses", nil, nil), http.StatusOK)
}

// An attempt is read and written only with its current device token: none is refused like a wrong
// one. Disabling the candidate ends their session and submits the attempt as "account_disabled",
// which the centre's live view and, once published, the staff results page show.
func TestScopeAttemptNeedsItsDeviceAndDisablingSubmitsIt(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	cand := mustLogin(t, srv, "caregiver")
	mine := decodeJSON[struct {
		Items []struct {
			Session struct {
				ID int64 `json:"id"`
			} `json:"session"`
			Open bool `json:"open"`
		} `json:"items"`
	}](t, cand.do("GET", "/api/v1/my/exams", nil, nil))
	var session int64
	for _, it := range mine.Items {
		if it.Open {
			session = it.Session.ID
		}
	}
	if session == 0 {
		t.Fatalf("no open session for the demo caregiver: %+v", mine)
	}
	st := decodeJSON[startOut](t, cand.send("POST", fmt.Sprintf("/api/v1/exam-sessions/%d/start", session), nil))
	base := fmt.Sprintf("/api/v1/attempts/%d", st.Attempt.ID)
	for _, path := range []string{"/paper", "/state"} {
		none := cand.do("GET", base+path, nil, nil)
		wrong := cand.do("GET", base+path, nil, map[string]string{"X-Exam-Device": "not-the-token"})
		right := cand.do("GET", base+path, nil, map[string]string{"X-Exam-Device": st.DeviceToken})
		if none.Status == http.StatusOK || none.Status != wrong.Status || right.Status != http.StatusOK {
			t.Errorf("%s: no token %d, wrong token %d, right token %d", path, none.Status, wrong.Status, right.Status)
		}
	}
	wantStatus(t, "signal without the token", cand.send("POST", base+"/signals", map[string]string{"kind": "paste"}), http.StatusConflict)

	admin, nb := mustLogin(t, srv, "admin"), mustLogin(t, srv, "regulator.nb")
	id := userID(t, admin, "caregiver")
	disable := fmt.Sprintf("/api/v1/admin/users/%d/disable", id)
	wantStatus(t, "regulator.nb disables a Hangzhou learner", nb.send("POST", disable, map[string]string{"reason": "test"}), http.StatusForbidden)
	wantStatus(t, "disable without a reason", admin.send("POST", disable, map[string]string{"reason": " "}), http.StatusUnprocessableEntity)
	wantStatus(t, "disable", admin.send("POST", disable, map[string]string{"reason": "身份冒用调查"}), http.StatusOK)
	wantStatus(t, "the candidate's session after disabling", cand.do("GET", "/api/v1/me", nil, nil), http.StatusUnauthorized)
	if r := newClient(t, srv).login("caregiver", "shanyu-demo"); r.Status == http.StatusOK {
		t.Errorf("a disabled account signs in")
	}
	live := mustLogin(t, srv, "centre").do("GET", fmt.Sprintf("/api/v1/exam-sessions/%d/live", session), nil, nil)
	if !strings.Contains(string(live.Body), `"submit_reason":"account_disabled"`) {
		t.Errorf("live view does not show the attempt submitted as account_disabled: %s", live.Body)
	}
	// The staff results page shows the reason beside that candidate's result, in each language.
	centre, examiner := mustLogin(t, srv, "centre"), mustLogin(t, srv, "examiner")
	queue := decodeJSON[struct {
		Items []struct {
			AttemptID int64     `json:"attempt_id"`
			Position  int       `json:"position"`
			Max       []float64 `json:"max"`
		} `json:"items"`
	}](t, examiner.do("GET", fmt.Sprintf("/api/v1/exam-sessions/%d/marking", session), nil, nil))
	for _, m := range queue.Items { // the essay answers submitted with the attempt, marked 0 each
		wantStatus(t, "mark", examiner.send("POST", fmt.Sprintf("/api/v1/attempts/%d/marks", m.AttemptID),
			map[string]any{"position": m.Position, "marks": make([]float64, len(m.Max))}), http.StatusNoContent)
	}
	wantStatus(t, "publish", centre.send("POST", fmt.Sprintf("/api/v1/exam-sessions/%d/publish", session), nil), http.StatusOK)
	results := fmt.Sprintf("/exams/sessions/%d/results", session)
	for lang, want := range map[string]string{"zh-CN": "账号已停用", "en": "account disabled"} {
		wantStatus(t, "switch to "+lang, centre.do("GET", "/lang/"+lang+"?next="+results, nil, nil), http.StatusSeeOther)
		page := centre.do("GET", results, nil, nil)
		wantStatus(t, "results page", page, http.StatusOK)
		body, _, _ := strings.Cut(string(page.Body), "</tbody>")
		var marked []string
		for _, row := range strings.Split(body, "<tr>") {
			if strings.Contains(row, "submit-reason") {
				marked = append(marked, row)
			}
		}
		if len(marked) != 1 || !strings.Contains(marked[0], want) {
			t.Errorf("%s results page: want one result marked %q, got %q", lang, want, marked)
		}
	}
	wantStatus(t, "enable", admin.send("POST", fmt.Sprintf("/api/v1/admin/users/%d/enable", id), map[string]string{"reason": "调查结束"}), http.StatusOK)
	mustLogin(t, srv, "caregiver")
}

// The audit-log viewer: filters, the chain check and CSV; a regional regulator reads only the events
// of actors inside its region.
func TestScopeAuditLogViewerFilteredToTheRegion(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	admin, nb := mustLogin(t, srv, "admin"), mustLogin(t, srv, "regulator.nb")
	nbID, inspectorID := userID(t, admin, "regulator.nb"), userID(t, admin, "inspector")
	wantStatus(t, "regulator.nb resets inspector.nb", nb.send("POST", fmt.Sprintf("/api/v1/admin/users/%d/password-reset", userID(t, admin, "inspector.nb")), map[string]string{"password": "a-new-password-77"}), http.StatusOK)
	wantStatus(t, "admin resets inspector", admin.send("POST", fmt.Sprintf("/api/v1/admin/users/%d/password-reset", inspectorID), map[string]string{"password": "a-new-password-78"}), http.StatusOK)
	type logOut struct {
		Items []struct {
			ActorID int64  `json:"actor_id"`
			Action  string `json:"action"`
			Subject string `json:"subject"`
		} `json:"items"`
		Chain struct {
			OK       bool `json:"ok"`
			Rows     int  `json:"rows_checked"`
			Unsealed int  `json:"unsealed"`
		} `json:"chain"`
	}
	// The chain check covers sealed rows: the server's sealer chains the resets shortly after their
	// commit (how soon depends on the cluster's oldest transaction), so the check is polled.
	var all logOut
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		all = decodeJSON[logOut](t, admin.do("GET", "/api/v1/audit-log?action=password.reset", nil, nil))
		if all.Chain.Unsealed == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(all.Items) != 2 || !all.Chain.OK || all.Chain.Rows == 0 || all.Chain.Unsealed != 0 {
		t.Errorf("admin's view: %+v", all)
	}
	mine := decodeJSON[logOut](t, nb.do("GET", "/api/v1/audit-log?action=password.reset", nil, nil))
	if len(mine.Items) != 1 || mine.Items[0].ActorID != nbID {
		t.Errorf("regulator.nb's view: %+v", mine)
	}
	if everything := decodeJSON[logOut](t, nb.do("GET", "/api/v1/audit-log?limit=200", nil, nil)); len(everything.Items) == 0 {
		t.Errorf("regulator.nb sees nothing")
	} else {
		for _, e := range everything.Items {
			if e.ActorID != nbID {
				t.Errorf("regulator.nb sees an event of actor %d: %+v", e.ActorID, e)
			}
		}
	}
	byActor := decodeJSON[logOut](t, admin.do("GET", fmt.Sprintf("/api/v1/audit-log?actor=%d&from=2000-01-01&to=2999-12-31", nbID), nil, nil))
	if len(byActor.Items) == 0 {
		t.Errorf("no event by actor %d", nbID)
	}
	for _, e := range byActor.Items {
		if e.ActorID != nbID {
			t.Errorf("actor filter let through %+v", e)
		}
	}
	csv := admin.do("GET", "/api/v1/audit-log.csv?action=password.reset", nil, nil)
	if lines := strings.Split(strings.TrimSpace(string(csv.Body)), "\n"); csv.Status != http.StatusOK || len(lines) != 3 || !strings.HasPrefix(lines[0], "id,at,actor_id,action") {
		t.Errorf("CSV: %d %q", csv.Status, csv.Body)
	}
	wantStatus(t, "a caregiver reads the log", mustLogin(t, srv, "caregiver").do("GET", "/api/v1/audit-log", nil, nil), http.StatusForbidden)
	wantStatus(t, "a bad date", admin.do("GET", "/api/v1/audit-log?from=yesterday", nil, nil), http.StatusUnprocessableEntity)
}

// The learner rule (README, "A person without grants"): the Ningbo regulator lists a learner only
// when the learner has a relationship with a Ningbo organisation (an enrolment, an exam
// registration, a roster place; here the Hangzhou learner gains one by enrolling in a Ningbo
// course), and reads their record by id on the same rule; the province admin lists every learner.
func TestScopeRelatedLearnersListedToTheRegion(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	admin, nb := mustLogin(t, srv, "admin"), mustLogin(t, srv, "regulator.nb")
	listed := func(c *client, username string) bool {
		r := c.do("GET", "/api/v1/admin/users?limit=200&q="+username, nil, nil)
		wantStatus(t, "list", r, http.StatusOK)
		return strings.Contains(string(r.Body), `"username":"`+username+`"`)
	}
	wantStatus(t, "regulator.nb reads the Hangzhou learner", nb.do("GET", fmt.Sprintf("/api/v1/admin/users/%d", userID(t, admin, "caregiver")), nil, nil), http.StatusForbidden)
	if listed(nb, "caregiver") || !listed(admin, "caregiver") {
		t.Errorf("the Hangzhou learner: listed to regulator.nb %v, to the province admin %v", listed(nb, "caregiver"), listed(admin, "caregiver"))
	}
	// The Hangzhou learner enrols in a Ningbo course: now the Ningbo regulator's too.
	var course int64
	if err := srv.Pool.QueryRow(context.Background(), `SELECT c.id FROM courses c JOIN organisations o ON o.id = c.organisation_id
		WHERE o.code = 'NB001' AND c.published_version_id IS NOT NULL ORDER BY c.id LIMIT 1`).Scan(&course); err != nil {
		t.Fatal(err)
	}
	cand := mustLogin(t, srv, "caregiver")
	if r := cand.send("POST", fmt.Sprintf("/api/v1/courses/%d/enrolments", course), nil); r.Status >= 300 {
		t.Fatalf("enrol in the Ningbo course: %d %s", r.Status, r.Body)
	}
	if !listed(nb, "caregiver") {
		t.Errorf("after enrolling in a Ningbo course, the learner is not listed to regulator.nb")
	}
	wantStatus(t, "regulator.nb reads the learner now related to Ningbo", nb.do("GET", fmt.Sprintf("/api/v1/admin/users/%d", userID(t, admin, "caregiver")), nil, nil), http.StatusOK)
	// Staff stay out: a Hangzhou trainer is listed to nobody in Ningbo.
	if listed(nb, "trainer") {
		t.Errorf("regulator.nb lists the Hangzhou trainer")
	}
}
