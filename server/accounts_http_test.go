package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"shanyu/accounts"
	"shanyu/internal/pgtest"
	"shanyu/internal/servertest"
)

// demoUsers are the usernames accounts/seed/demo.json creates, one per role.
var demoUsers = []string{"admin", "centre", "trainer", "examiner", "caregiver", "institution", "inspector"}

// startWithDemo starts a server whose database holds the regions and the demo organisations and users.
// Seeding happens before the server builds its access policy.
func startWithDemo(tb testing.TB) *servertest.Instance {
	tb.Helper()
	return servertest.Start(tb, servertest.Options{Seeded: demoAccountsSeeded})
}

// client is one visitor: its own cookie jar, and the CSRF token once it has signed in.
type client struct {
	tb   testing.TB
	base string
	http *http.Client
	csrf string
	user struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
}

func newClient(tb testing.TB, srv *servertest.Instance) *client {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	// Redirects are part of what the tests check, so they are never followed.
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &client{tb: tb, base: srv.URL, http: hc}
}

// response is what the tests look at: status, headers and the body, decoded when it is JSON.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		tb.Fatalf("body is not JSON (%v): %s", err, r.Body)
	}
	return m
}

// do sends a request; body, when not nil, is sent as JSON. header adds or overrides headers.
func (c *client) do(method, path string, body any, header map[string]string) response {
	c.tb.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.tb.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
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

// send is do with the CSRF header of the signed-in session, as the JSON API expects.
func (c *client) send(method, path string, body any) response {
	c.tb.Helper()
	return c.do(method, path, body, map[string]string{"X-CSRF-Token": c.csrf})
}

func (c *client) login(username, password string) response {
	c.tb.Helper()
	r := c.do("POST", "/api/v1/auth/login", map[string]string{"username": username, "password": password}, nil)
	if r.Status == http.StatusOK {
		var out struct {
			CSRF string          `json:"csrf_token"`
			User json.RawMessage `json:"user"`
		}
		if err := json.Unmarshal(r.Body, &out); err != nil {
			c.tb.Fatal(err)
		}
		if out.CSRF == "" {
			c.tb.Fatalf("login as %s answered no csrf_token: %s", username, r.Body)
		}
		c.csrf = out.CSRF
		if err := json.Unmarshal(out.User, &c.user); err != nil {
			c.tb.Fatal(err)
		}
	}
	return r
}

// mustLogin signs in as a demo user or fails the test.
func mustLogin(tb testing.TB, srv *servertest.Instance, username string) *client {
	tb.Helper()
	c := newClient(tb, srv)
	if r := c.login(username, accounts.DemoPassword); r.Status != http.StatusOK {
		tb.Fatalf("login as %s: %d %s", username, r.Status, r.Body)
	}
	return c
}

func (c *client) sessionToken() string {
	c.tb.Helper()
	u, err := url.Parse(c.base)
	if err != nil {
		c.tb.Fatal(err)
	}
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "shanyu_session" {
			return ck.Value
		}
	}
	c.tb.Fatal("no shanyu_session cookie")
	return ""
}

// errorFields returns error.fields of a JSON error answer.
func errorFields(tb testing.TB, r response) map[string]any {
	tb.Helper()
	e, _ := r.json(tb)["error"].(map[string]any)
	if e == nil {
		tb.Fatalf("no error object: %s", r.Body)
	}
	f, _ := e["fields"].(map[string]any)
	return f
}

// Every demo user and an anonymous visitor against the administration and self-service routes: who
// gets 200, who 401 (not signed in) and who 403 (signed in, not allowed). Staff lists are scoped by
// organisation, and a regulator of the province (region:33) reaches every organisation inside it.
func TestRoleRouteMatrix(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	routes := []string{
		"/api/v1/admin/users",
		"/api/v1/admin/organisations",
		"/api/v1/me",
		"/api/v1/organisations/HZ001/staff",  // training centre in 330106
		"/api/v1/organisations/HZI001/staff", // childcare institution in 330106
		"/api/v1/organisations/NB001/staff",  // training centre in Ningbo (3302)
	}
	const ok, unauth, forbid = http.StatusOK, http.StatusUnauthorized, http.StatusForbidden
	want := map[string][]int{
		"":            {unauth, unauth, unauth, unauth, unauth, unauth},
		"admin":       {ok, ok, ok, ok, ok, ok},
		"centre":      {forbid, forbid, ok, ok, forbid, forbid},
		"trainer":     {forbid, forbid, ok, forbid, forbid, forbid},
		"examiner":    {forbid, forbid, ok, forbid, forbid, forbid},
		"caregiver":   {forbid, forbid, ok, forbid, forbid, forbid},
		"institution": {forbid, forbid, ok, forbid, ok, forbid},
		"inspector":   {forbid, forbid, ok, forbid, forbid, forbid},
	}
	for _, user := range append([]string{""}, demoUsers...) {
		name := user
		if name == "" {
			name = "anonymous"
		}
		t.Run(name, func(t *testing.T) {
			c := newClient(t, srv)
			if user != "" {
				c = mustLogin(t, srv, user)
			}
			got := make([]int, len(routes))
			for i, path := range routes {
				got[i] = c.do("GET", path, nil, nil).Status
			}
			if diff := cmp.Diff(want[user], got); diff != "" {
				t.Errorf("statuses for %v (-want +got):\n%s", routes, diff)
			}
		})
	}
}

// From outside, the issue's own checks: the caregiver is refused the user list the admin reads, and
// /api/v1/me names who is signed in.
func TestRoleCaregiverForbiddenAdminAllowedOnUserList(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	caregiver := mustLogin(t, srv, "caregiver")
	admin := mustLogin(t, srv, "admin")

	r := caregiver.do("GET", "/api/v1/admin/users", nil, nil)
	if r.Status != http.StatusForbidden {
		t.Fatalf("caregiver: %d %s", r.Status, r.Body)
	}
	if code := r.json(t)["error"].(map[string]any)["code"]; code == "" || code == nil {
		t.Errorf("403 without an error code: %s", r.Body)
	}
	r = admin.do("GET", "/api/v1/admin/users", nil, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("admin: %d %s", r.Status, r.Body)
	}
	if total, _ := r.json(t)["total"].(float64); int(total) < len(demoUsers) {
		t.Errorf("admin sees %v users, want at least %d: %s", total, len(demoUsers), r.Body)
	}
	me := caregiver.do("GET", "/api/v1/me", nil, nil).json(t)
	if me["username"] != "caregiver" {
		t.Errorf("me = %v", me)
	}
	if masked, _ := me["id_number_masked"].(string); masked == "" || strings.Contains(masked, "199305064525") {
		t.Errorf("id number not masked: %q", masked)
	}
}

// Region-prefix semantics through grants: the provincial regulator (region:33) may grant in a
// district of Hangzhou (330106, inside 33) but not in Beijing (11); a centre admin may not grant at all.
func TestRoleRegionPrefixOnGrants(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	admin := mustLogin(t, srv, "admin")
	centre := mustLogin(t, srv, "centre")
	target := mustLogin(t, srv, "trainer")
	path := fmt.Sprintf("/api/v1/admin/users/%d/grants", target.user.ID)

	tests := []struct {
		name   string
		actor  *client
		domain string
		want   int
	}{
		{"regulator grants inside its region", admin, "region:330106", http.StatusCreated},
		{"regulator grants in an organisation inside its region", admin, "org:NB001", http.StatusCreated},
		{"regulator refused outside its region", admin, "region:11", http.StatusForbidden},
		{"centre admin refused", centre, "region:330106", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.actor.send("POST", path, map[string]string{"role": accounts.RoleInspector, "domain": tt.domain})
			if r.Status != tt.want {
				t.Fatalf("grant %s: %d %s, want %d", tt.domain, r.Status, r.Body, tt.want)
			}
		})
	}

	// The new grant takes effect for the grantee's own view of themselves.
	me := target.do("GET", "/api/v1/me", nil, nil).json(t)
	var domains []string
	for _, g := range me["grants"].([]any) {
		domains = append(domains, g.(map[string]any)["domain"].(string))
	}
	for _, d := range []string{"region:330106", "org:NB001"} {
		if !strings.Contains(strings.Join(domains, " "), d) {
			t.Errorf("grants of the trainer %v lack %s", domains, d)
		}
	}
	if strings.Contains(strings.Join(domains, " "), "region:11") {
		t.Errorf("refused grant was stored: %v", domains)
	}
}

// Logout is a state change: without the CSRF token it is refused, with it the session ends on the
// server (the old cookie no longer works, even if a client kept it).
func TestLogoutNeedsCSRFAndEndsTheSession(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	c := mustLogin(t, srv, "caregiver")
	token := c.sessionToken()

	if r := c.do("POST", "/api/v1/auth/logout", nil, nil); r.Status != http.StatusForbidden {
		t.Fatalf("logout without X-CSRF-Token: %d %s", r.Status, r.Body)
	}
	if r := c.do("POST", "/api/v1/auth/logout", nil, map[string]string{"X-CSRF-Token": "not-the-token"}); r.Status != http.StatusForbidden {
		t.Fatalf("logout with a wrong X-CSRF-Token: %d %s", r.Status, r.Body)
	}
	if r := c.do("GET", "/api/v1/me", nil, nil); r.Status != http.StatusOK {
		t.Fatalf("refused logout ended the session anyway: %d", r.Status)
	}
	if r := c.send("POST", "/api/v1/auth/logout", nil); r.Status != http.StatusOK {
		t.Fatalf("logout with X-CSRF-Token: %d %s", r.Status, r.Body)
	}
	if r := c.do("GET", "/api/v1/me", nil, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("me after logout: %d", r.Status)
	}
	stale := newClient(t, srv)
	if r := stale.do("GET", "/api/v1/me", nil, map[string]string{"Cookie": "shanyu_session=" + token}); r.Status != http.StatusUnauthorized {
		t.Errorf("me with the old session cookie: %d %s", r.Status, r.Body)
	}
}

// Pages take the CSRF token as the _csrf form field; the header's logout form without it is refused.
func TestCSRFOnPageForms(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	c := mustLogin(t, srv, "caregiver")
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

	r := c.do("POST", "/logout", nil, form)
	if r.Status != http.StatusForbidden {
		t.Fatalf("POST /logout without _csrf: %d", r.Status)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("page refusal is %q, want HTML", ct)
	}
	req, err := http.NewRequest("POST", srv.URL+"/logout", strings.NewReader("_csrf="+c.csrf))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /logout with _csrf: %d", res.StatusCode)
	}
	if r := c.do("GET", "/api/v1/me", nil, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("me after page logout: %d", r.Status)
	}
}

// OWASP ASVS 5.0 V6.3.8: an unknown user gets exactly the answer a wrong password gets.
// V6.3.1 and V6.1.1 (no malicious lockout): wrong passwords slow down the (account, address) pair
// with 429 and a growing Retry-After, even for the right password from that address, while the owner
// from another address signs in. Addresses come from X-Forwarded-For because the test's peer is a
// trusted proxy (SHANYU_TRUSTED_PROXIES); the address a proxy appended is the one that counts.
func TestLoginV6_3_1StrangersCannotLockTheOwnerOut(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Env: map[string]string{"SHANYU_TRUSTED_PROXIES": "127.0.0.1/32, ::1"}})
	c := newClient(t, srv)
	from := func(ip, username, password string) response {
		return c.do("POST", "/api/v1/auth/login", map[string]string{"username": username, "password": password}, map[string]string{"X-Forwarded-For": ip})
	}
	unknown := from("203.0.113.9", "nobody-here", "wrong-password")
	wrong := from("203.0.113.9", "caregiver", "wrong-password")
	if unknown.Status != http.StatusUnauthorized || wrong.Status != http.StatusUnauthorized {
		t.Fatalf("unknown user %d, wrong password %d", unknown.Status, wrong.Status)
	}
	strip := func(r response) map[string]any {
		e := r.json(t)["error"].(map[string]any)
		delete(e, "request_id")
		return e
	}
	if diff := cmp.Diff(strip(unknown), strip(wrong)); diff != "" {
		t.Errorf("unknown user and wrong password answer differently (-unknown +wrong):\n%s", diff)
	}
	for i := 0; i < accounts.DefaultPolicy.PairFree; i++ {
		if r := from("203.0.113.7", "caregiver", "wrong-password"); r.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	// The client forges a first hop; the proxy's appended address is still 203.0.113.7.
	last := from("198.51.100.1, 203.0.113.7", "caregiver", accounts.DemoPassword)
	if last.Status != http.StatusTooManyRequests {
		t.Fatalf("right password from the failing address: %d %s", last.Status, last.Body)
	}
	if secs, err := strconv.Atoi(last.Header.Get("Retry-After")); err != nil || secs <= 0 {
		t.Errorf("Retry-After = %q", last.Header.Get("Retry-After"))
	}
	if r := from("198.51.100.2", "caregiver", accounts.DemoPassword); r.Status != http.StatusOK {
		t.Errorf("the owner from a clean address: %d %s", r.Status, r.Body)
	}
}

// Without SHANYU_TRUSTED_PROXIES, X-Forwarded-For is ignored: failures count against the direct peer
// whatever the header says, so a client cannot escape its bucket by inventing addresses.
func TestForwardedForIgnoredFromUntrustedPeers(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	c := newClient(t, srv)
	limit := accounts.DefaultPolicy.AddressFailures
	for i := 0; i < limit; i++ {
		r := c.do("POST", "/api/v1/auth/login", map[string]string{"username": fmt.Sprintf("guess-%d", i), "password": "wrong-password"},
			map[string]string{"X-Forwarded-For": fmt.Sprintf("192.0.2.%d", i+1)})
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	r := c.do("POST", "/api/v1/auth/login", map[string]string{"username": "caregiver", "password": accounts.DemoPassword},
		map[string]string{"X-Forwarded-For": "192.0.2.200"})
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("a forged X-Forwarded-For from an untrusted peer escaped its address's bucket: %d", r.Status)
	}
}

// Failures are also counted per client address, across usernames.
func TestLoginThrottledPerAddress(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	c := newClient(t, srv)
	limit := accounts.DefaultPolicy.AddressFailures
	for i := 0; i < limit; i++ {
		if r := c.login(fmt.Sprintf("guess-%d", i), "wrong-password"); r.Status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	r := c.login("caregiver", accounts.DemoPassword)
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("after %d failures from one address: %d, Retry-After %q", limit, r.Status, r.Header.Get("Retry-After"))
	}
}

// Sign-up checks the ID number (GB 11643 check character) field by field; a valid sign-up creates a
// caregiver who then signs in with the phone number.
func TestSignupValidatesIDNumberThenLoginByPhone(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	c := newClient(t, srv)
	body := map[string]string{"name": "王小丽", "phone": "13812345678", "id_number": "110105194912310021", "password": "xiaoli-2024"}

	r := c.do("POST", "/api/v1/auth/signup", body, nil)
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad check digit: %d %s", r.Status, r.Body)
	}
	if _, ok := errorFields(t, r)["id_number"]; !ok {
		t.Fatalf("error.fields lacks id_number: %s", r.Body)
	}

	body["id_number"] = "11010519491231002X"
	r = c.do("POST", "/api/v1/auth/signup", body, nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("valid signup: %d %s", r.Status, r.Body)
	}
	if roles := fmt.Sprint(r.json(t)["roles"]); !strings.Contains(roles, accounts.RoleCaregiver) {
		t.Errorf("new account roles = %s", roles)
	}

	// The phone is the username: the same phone again is refused (the ID number alone never is:
	// TestSignupRevealsNothingAboutIDNumberV6_3_8).
	again := c.do("POST", "/api/v1/auth/signup", body, nil)
	if again.Status != http.StatusConflict {
		t.Errorf("second signup with the same phone: %d %s", again.Status, again.Body)
	}

	if r := c.login(body["phone"], body["password"]); r.Status != http.StatusOK {
		t.Fatalf("login by phone: %d %s", r.Status, r.Body)
	}
	me := c.do("GET", "/api/v1/me", nil, nil).json(t)
	if me["name"] != "王小丽" {
		t.Errorf("me = %v", me)
	}
	if masked, _ := me["id_number_masked"].(string); masked == "" || masked == body["id_number"] {
		t.Errorf("id_number_masked = %q", masked)
	}
}

// Administration pages send anonymous visitors to sign in (coming back afterwards) and show signed-in
// users without the permission an HTML 403.
func TestRolePagesRedirectAnonymousAndRefuseCaregiver(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)

	r := newClient(t, srv).do("GET", "/admin/users", nil, map[string]string{"Accept": "text/html"})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("anonymous: %d", r.Status)
	}
	if loc := r.Header.Get("Location"); loc != "/login?next=/admin/users" {
		t.Errorf("Location = %q", loc)
	}

	caregiver := mustLogin(t, srv, "caregiver")
	r = caregiver.do("GET", "/admin/users", nil, map[string]string{"Accept": "text/html"})
	if r.Status != http.StatusForbidden {
		t.Fatalf("caregiver: %d", r.Status)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q", ct)
	}
	if !bytes.Contains(r.Body, []byte("<html")) {
		t.Errorf("403 page is not a page: %.200s", r.Body)
	}
}

// The administration pages render for those allowed to see them: the regulator everywhere in the
// province, the centre admin on the centre's own staff page.
func TestRoleAdminPagesRenderForAllowedUsers(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	admin := mustLogin(t, srv, "admin")
	centre := mustLogin(t, srv, "centre")
	tests := []struct {
		who  *client
		path string
		want string // text the page must show
	}{
		{admin, "/admin/users", "caregiver"},
		{admin, "/admin/organisations", "HZ001"},
		{admin, "/org/NB001/staff", "NB001"},
		{centre, "/org/HZ001/staff", "trainer"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := tt.who.do("GET", tt.path, nil, map[string]string{"Accept": "text/html"})
			if r.Status != http.StatusOK {
				t.Fatalf("%d (request id %s)", r.Status, r.Header.Get("X-Request-ID"))
			}
			if !bytes.Contains(r.Body, []byte(tt.want)) {
				t.Errorf("page lacks %q", tt.want)
			}
		})
	}
}

// multipart posts a multipart/form-data request: the fields, then one file as fileField, with the
// extra headers given (a CSRF token, a language).
func (c *client) multipart(path string, fields map[string]string, fileField, name string, data []byte, headers map[string]string) response {
	c.tb.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	fw, err := w.CreateFormFile(fileField, name)
	if err != nil {
		c.tb.Fatal(err)
	}
	_, _ = fw.Write(data)
	if err := w.Close(); err != nil {
		c.tb.Fatal(err)
	}
	req, err := http.NewRequest("POST", c.base+path, &body)
	if err != nil {
		c.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// OWASP ASVS 5.0 V6.2.1, V6.2.4: the sign-up page states the password rules before anything is typed,
// and "password" (short and among the most common) is refused with a 422 naming the field.
func TestSignupShowsPasswordRulesAndRefusesWeakOnes(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	c := newClient(t, srv)
	page := c.do("GET", "/signup", nil, nil)
	if !strings.Contains(string(page.Body), `aria-describedby="password-rules"`) || !strings.Contains(string(page.Body), "至少 10 个字符") {
		t.Errorf("the sign-up page does not state the password rules up front")
	}
	// Every other form that sets a password states them too: the account page and the administrator's
	// create-user and reset forms.
	admin := mustLogin(t, srv, "admin")
	caregiverID := mustLogin(t, srv, "caregiver").user.ID
	for path, id := range map[string]string{"/account": "new_password-rules", "/admin/users": "new-password-rules",
		fmt.Sprintf("/admin/users/%d", caregiverID): "password-rules"} {
		body := string(admin.do("GET", path, nil, map[string]string{"Accept": "text/html"}).Body)
		if !strings.Contains(body, `aria-describedby="`+id+`"`) || !strings.Contains(body, "至少 10 个字符") {
			t.Errorf("%s does not state the password rules up front", path)
		}
	}
	for pw, want := range map[string]string{"password": "10", "qwertyuiop": "常见", "13812345670abc": "手机号"} {
		r := c.do("POST", "/api/v1/auth/signup", map[string]string{"name": "王小丽", "phone": "13812345670", "id_number": "11010519491231002X", "password": pw}, nil)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(errorFields(t, r)["password"]), want) {
			t.Errorf("password %q: %d %s", pw, r.Status, r.Body)
		}
	}
}

// Sign-up is rate limited per client address (OWASP ASVS 5.0 V2.4.1): past the allowance an address
// gets 429 with Retry-After, whatever it sends, while another address still signs up.
func TestSignupRateLimitedPerAddress(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Env: map[string]string{"SHANYU_TRUSTED_PROXIES": "127.0.0.1"}})
	c := newClient(t, srv)
	from := func(ip string, body map[string]string) response {
		return c.do("POST", "/api/v1/auth/signup", body, map[string]string{"X-Forwarded-For": ip})
	}
	bad := map[string]string{"name": "王", "phone": "1", "id_number": "1", "password": "x"}
	for i := 0; i < accounts.DefaultPolicy.SignupsPerAddress; i++ {
		if r := from("203.0.113.20", bad); r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("attempt %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	good := map[string]string{"name": "王小丽", "phone": "13812345679", "id_number": "11010519491231002X", "password": "xiaoli-2024"}
	if r := from("203.0.113.20", good); r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("past the allowance: %d %s", r.Status, r.Body)
	}
	if r := from("198.51.100.20", good); r.Status != http.StatusCreated {
		t.Fatalf("another address: %d %s", r.Status, r.Body)
	}
}

// TestSignInAtTheProductsHashCost: the fixtures' users carry test-cost hashes (servertest.Seeded),
// so this is the sign-in at the product's own cost. A user the administrator creates through the API
// is stored with the product's argon2id parameters, and signs in with its password and not another;
// the demo users of the same server sign in with their test-cost hashes.
func TestSignInAtTheProductsHashCost(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	admin := mustLogin(t, srv, "admin")
	if r := admin.send("POST", "/api/v1/admin/users", map[string]string{"username": "full.cost", "name": "全价用户", "password": "full-cost-2024"}); r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	hashes := map[string]string{}
	rows, err := srv.Pool.Query(t.Context(), `SELECT username, password_hash FROM users WHERE username IN ('full.cost', 'admin')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var u, h string
		if err := rows.Scan(&u, &h); err != nil {
			t.Fatal(err)
		}
		hashes[u] = h
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !accounts.HashParamsCurrent(hashes["full.cost"]) || pgtest.IsTestHash(hashes["full.cost"]) {
		t.Fatalf("the new user's hash %q does not have the product's parameters", hashes["full.cost"])
	}
	if !pgtest.IsTestHash(hashes["admin"]) {
		t.Errorf("the fixture's admin has hash %q, not a test-cost one", hashes["admin"])
	}
	if r := newClient(t, srv).login("full.cost", "full-cost-2025"); r.Status != http.StatusUnauthorized {
		t.Errorf("a wrong password: %d %s", r.Status, r.Body)
	}
	c := newClient(t, srv)
	if r := c.login("full.cost", "full-cost-2024"); r.Status != http.StatusOK {
		t.Fatalf("sign-in at the product's cost: %d %s", r.Status, r.Body)
	}
	if me := c.send("GET", "/api/v1/me", nil); me.Status != http.StatusOK || !strings.Contains(string(me.Body), "全价用户") {
		t.Errorf("/api/v1/me after the sign-in: %d %s", me.Status, me.Body)
	}
}
