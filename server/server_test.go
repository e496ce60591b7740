package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"shanyu/internal/pgtest"
	"shanyu/internal/servertest"
	"shanyu/server"
)

// get sends a request to a running test server and returns status, headers and body.
func get(t *testing.T, url string, header map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

type apiError struct {
	Error struct {
		Code      string            `json:"code"`
		Message   string            `json:"message"`
		Fields    map[string]string `json:"fields"`
		RequestID string            `json:"request_id"`
	} `json:"error"`
}

func TestAPIErrorsAreJSONInTheRequestLanguage(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{})
	cases := []struct {
		name, path, lang, wantMsg string
	}{
		{"chinese by default", "/api/v1/no-such-thing", "", "没有找到"},
		{"english when asked", "/api/v1/no-such-thing", "en-GB,en;q=0.9", "could not find"},
		{"nested unknown path", "/api/v1/a/b/c", "zh-CN", "没有找到"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, h, body := get(t, srv.URL+c.path, map[string]string{"Accept": "application/json", "Accept-Language": c.lang})
			if status != http.StatusNotFound {
				t.Fatalf("status = %d", status)
			}
			if !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
				t.Fatalf("content type = %q", h.Get("Content-Type"))
			}
			var e apiError
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if e.Error.Code != "not_found" || !strings.Contains(e.Error.Message, c.wantMsg) || e.Error.RequestID == "" {
				t.Fatalf("error = %+v", e.Error)
			}
		})
	}
}

func TestPagesAnswerHTMLErrors(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{})
	status, h, body := get(t, srv.URL+"/no-such-page", nil)
	if status != http.StatusNotFound || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, type %q", status, h.Get("Content-Type"))
	}
	if !strings.Contains(body, "没有找到") || !strings.Contains(body, `lang="zh-CN"`) {
		t.Fatalf("body lacks the Chinese message: %s", body)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{})
	_, h, _ := get(t, srv.URL+"/", nil)
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" || h.Get("X-Request-Id") == "" {
		t.Errorf("missing headers: %v", h)
	}
}

func TestPagesUseNoInlineScriptOrStyle(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{})
	_, _, body := get(t, srv.URL+"/", nil)
	for _, bad := range []string{"<script>", "style=\"", " onclick=", "<style"} {
		if strings.Contains(body, bad) {
			t.Errorf("home page contains %q, which the CSP forbids", bad)
		}
	}
}

func TestLanguageSwitchIsRememberedAndSafe(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{})
	status, h, _ := get(t, srv.URL+"/lang/en?next=/somewhere", nil)
	if status != http.StatusSeeOther || h.Get("Location") != "/somewhere" {
		t.Fatalf("status %d location %q", status, h.Get("Location"))
	}
	cookie := h.Get("Set-Cookie")
	if !strings.Contains(cookie, "lang=en") || !strings.Contains(cookie, "HttpOnly") {
		t.Fatalf("cookie = %q", cookie)
	}
	_, _, body := get(t, srv.URL+"/", map[string]string{"Cookie": "lang=en"})
	if !strings.Contains(body, `lang="en"`) || !strings.Contains(body, "Who are you?") {
		t.Fatal("the remembered language was not used")
	}
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "/%09/evil.example", "/%5C/evil.example"} {
		_, h, _ := get(t, srv.URL+"/lang/zh-CN?next="+next, nil)
		if h.Get("Location") != "/" {
			t.Errorf("next=%s redirected to %q", next, h.Get("Location"))
		}
	}
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{})
	if status, _, _ := get(t, srv.URL+"/healthz", nil); status != http.StatusOK {
		t.Fatalf("healthz = %d", status)
	}
	if status, _, body := get(t, srv.URL+"/readyz", nil); status != http.StatusOK {
		t.Fatalf("readyz = %d %s", status, body)
	}
}

func TestReadinessFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := servertest.Start(t, servertest.Options{})
	// Take the schema away (as a database restore of an old dump would) and back.
	if _, err := srv.Pool.Exec(ctx, `ALTER TABLE schema_migrations RENAME TO schema_migrations_away`); err != nil {
		t.Fatal(err)
	}
	if status, _, body := get(t, srv.URL+"/readyz", nil); status != http.StatusServiceUnavailable {
		t.Fatalf("readyz with schema behind = %d %s", status, body)
	}
	if _, err := srv.Pool.Exec(ctx, `ALTER TABLE schema_migrations_away RENAME TO schema_migrations`); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := get(t, srv.URL+"/readyz", nil); status != http.StatusOK {
		t.Fatalf("readyz after recovery = %d", status)
	}
}

func TestReadinessWhenDatabaseGoesAwayAndComesBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := pgtest.NewURL(t)
	srv := servertest.Start(t, servertest.Options{DBURL: dbURL})
	admin := pgtest.Open(t, pgtest.ServerURL(t))
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	// Refuse new connections and cut the existing ones: the server's pool loses its database.
	if _, err := admin.Exec(ctx, `ALTER DATABASE "`+name+`" ALLOW_CONNECTIONS false`); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, name); err != nil {
		t.Fatal(err)
	}
	// Termination is asynchronous: wait until the backends are really gone.
	for i := 0; i < 100; i++ {
		var n int
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = $1`, name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status, _, _ := get(t, srv.URL+"/readyz", nil); status != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the database away = %d", status)
	}
	if _, err := admin.Exec(ctx, `ALTER DATABASE "`+name+`" ALLOW_CONNECTIONS true`); err != nil {
		t.Fatal(err)
	}
	// The pool reconnects by itself; allow it a few attempts (a liveness wait, not a timing check).
	status, body := 0, ""
	for i := 0; i < 50 && status != http.StatusOK; i++ {
		if i > 0 {
			time.Sleep(200 * time.Millisecond)
		}
		status, _, body = get(t, srv.URL+"/readyz", nil)
	}
	if status != http.StatusOK {
		t.Fatalf("readyz after the database came back = %d %s (same process, no restart)", status, body)
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Env: map[string]string{"SHANYU_BODY_LIMIT_MB": "1"}})
	resp, err := http.Post(srv.URL+"/api/v1/anything", "application/json", strings.NewReader(strings.Repeat("x", 2<<20)))
	if err != nil {
		// fasthttp may close the connection before reading everything; that is a refusal too.
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413", resp.StatusCode)
	}
}

func TestOpenAPIDescribesEveryAPIRoute(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{})
	_, _, body := get(t, srv.URL+"/api/openapi.json", nil)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	registered := map[string]bool{}
	for _, r := range srv.Server.App().GetRoutes(true) {
		api := strings.HasPrefix(r.Path, "/api/") || strings.HasPrefix(r.Path, "/.well-known/")
		if !api || r.Path == "/api/*" || r.Method == http.MethodHead {
			continue
		}
		key := r.Method + " " + openAPIPath(r.Path)
		registered[key] = true
		if !documented[key] {
			t.Errorf("route %s is not in /api/openapi.json (register it with s.api)", key)
		}
	}
	for key := range documented {
		if !registered[key] {
			t.Errorf("/api/openapi.json documents %s, which is not registered", key)
		}
	}
}

// openAPIPath mirrors the server's conversion of :param to {param}.
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			parts[i] = "{" + strings.TrimSuffix(strings.TrimPrefix(s, ":"), "?") + "}"
		}
	}
	return strings.Join(parts, "/")
}

func TestStaticAssetsAreHashedAndCached(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{})
	_, _, body := get(t, srv.URL+"/", nil)
	i := strings.Index(body, "/static/app.")
	if i < 0 {
		t.Fatal("no hashed stylesheet link")
	}
	href := body[i : i+strings.Index(body[i:], `"`)]
	status, h, css := get(t, srv.URL+href, nil)
	if status != 200 || !strings.Contains(h.Get("Cache-Control"), "immutable") || !strings.Contains(css, ":root") {
		t.Fatalf("%s: %d %q", href, status, h.Get("Cache-Control"))
	}
}

// A panic in a handler is logged and answered with a generic 500, without internal details.
func TestPanicsBecomeInternalErrors(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Server: func(s *server.Server) {
		s.App().Get("/test-panic", func(_ fiberCtx) error { panic("secret internal detail") })
	}})
	req := httptest.NewRequest(http.MethodGet, "/test-panic", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := srv.Server.App().Test(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 500 || strings.Contains(string(b), "secret") || !strings.Contains(string(b), `"code":"internal"`) {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}

// TestPublicAPIRunsItsOwnMiddleware checks the public JSON endpoints that skip the pages' middleware
// (routesPublicAPI): they still get a request id, an access log and the API's security headers, any
// origin may read them, and their errors still speak the caller's language (cookie first, then
// Accept-Language) although the language middleware is gone.
func TestPublicAPIRunsItsOwnMiddleware(t *testing.T) {
	t.Parallel()
	var logged strings.Builder
	var mu sync.Mutex
	srv := servertest.Start(t, servertest.Options{Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logged}, nil))})
	status, h, body := get(t, srv.URL+"/api/v1/verify/no-such-code", nil)
	if status != 200 || !strings.Contains(body, `"status":"unknown"`) {
		t.Fatalf("unknown code: %d %s", status, body)
	}
	rid := h.Get("X-Request-Id")
	if rid == "" || h.Get("Access-Control-Allow-Origin") != "*" || h.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") || h.Get("Cache-Control") != "no-store" {
		t.Errorf("headers: %v", h)
	}
	mu.Lock()
	line := logged.String()
	mu.Unlock()
	if !strings.Contains(line, "path=/api/v1/verify/no-such-code") || !strings.Contains(line, "request_id="+rid) {
		t.Errorf("no access log line with the request id %s:\n%s", rid, line)
	}
	for _, c := range []struct {
		header map[string]string
		want   string
	}{
		{nil, "没有这张证书"},
		{map[string]string{"Accept-Language": "en-GB,en;q=0.9"}, "No such certificate"},
		{map[string]string{"Accept-Language": "en", "Cookie": "lang=zh-CN"}, "没有这张证书"},
	} {
		status, _, body := get(t, srv.URL+"/api/v1/status-lists/no-such-purpose", c.header)
		if status != 404 || !strings.Contains(body, c.want) {
			t.Errorf("%v: %d %s; want 404 with %q", c.header, status, body, c.want)
		}
	}
	if status, h, body := get(t, srv.URL+"/.well-known/jwks.json", nil); status != 200 || !strings.Contains(body, `"keys"`) || h.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("jwks: %d %v %s", status, h, body)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
