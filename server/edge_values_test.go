package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"shanyu/internal/servertest"
)

// Every JSON route of /api/openapi.json is sent edge values, as a user whose role may use it: each
// property of its request body in turn set to a huge number, a negative one, the wrong type, an
// empty string, a very long string and invalid UTF-8, and whole bodies that are no object at all.
// No answer may be a 5xx.
func TestEdgeValuesOnEveryJSONRouteNeverAnswer5xx(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	_, _, body := get(t, srv.URL+"/api/openapi.json", nil)
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Properties map[string]struct {
							Type string `json:"type"`
						} `json:"properties"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	var users []*client
	for _, u := range []string{"admin", "centre", "examiner", "trainer", "institution", "inspector", "caregiver"} {
		users = append(users, mustLogin(t, srv, u))
	}
	// Routes that would end the clients' own sessions are left out: everything after them would be 401.
	skip := map[string]bool{"POST /api/v1/auth/logout": true, "POST /api/v1/me/sessions/revoke-others": true}
	param := regexp.MustCompile(`\{[^}]+\}`)
	fill := func(p string) string {
		return param.ReplaceAllStringFunc(p, func(name string) string {
			switch {
			case name == "{code}" && strings.HasPrefix(p, "/api/v1/institutions"):
				return "HZI001"
			case name == "{code}":
				return "HZ001"
			case name == "{purpose}":
				return "revocation"
			}
			return "1"
		})
	}
	huge := strings.Repeat("长", 40000)
	var paths []string
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	requests, fails := 0, 0
	send := func(c *client, method, path string, raw []byte) response {
		t.Helper()
		requests++
		req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", c.csrf)
		res, err := c.http.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(res.Body)
		if res.StatusCode >= 500 && fails < 30 {
			fails++
			t.Errorf("%s %s with %.120q: %d %.300s", method, path, raw, res.StatusCode, b.String())
		}
		return response{Status: res.StatusCode, Body: b.Bytes()}
	}
	for _, p := range paths {
		for method, op := range doc.Paths[p] {
			method = strings.ToUpper(method)
			if method == "GET" || method == "HEAD" || skip[method+" "+p] {
				continue
			}
			path := fill(p)
			// The right role: the first user that the route does not refuse outright.
			var who *client
			for _, c := range users {
				if r := send(c, method, path, []byte(`{}`)); r.Status != http.StatusUnauthorized && r.Status != http.StatusForbidden {
					who = c
					break
				}
			}
			if who == nil {
				continue
			}
			for _, raw := range []string{`[]`, `null`, `"x"`, `1e999`, "{\"a\":\"\xff\xfe\"}", `{`, strings.Repeat(`[`, 10000)} {
				send(who, method, path, []byte(raw))
			}
			props := op.RequestBody.Content["application/json"].Schema.Properties
			names := make([]string, 0, len(props))
			for n := range props {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, name := range names {
				for _, v := range []any{int64(1) << 40, 1e300, -1, -1e300, "", huge, "\u0000", true, []any{1e300}, map[string]any{"x": -1}} {
					b, _ := json.Marshal(map[string]any{name: v})
					send(who, method, path, b)
				}
				// Invalid UTF-8 inside a string, which encoding/json would never write.
				send(who, method, path, []byte("{\""+name+"\":\"\xc3\x28\xff\"}"))
			}
		}
	}
	t.Logf("%d requests sent to the JSON routes of /api/openapi.json, %d answered 5xx", requests, fails)
	if requests < 200 {
		t.Errorf("only %d requests: the route walk found too little", requests)
	}
}
