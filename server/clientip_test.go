package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"shanyu/accounts"
	"shanyu/internal/servertest"
)

// Behind HAProxy (`option forwardfor`) a request arrives with the client's own X-Forwarded-For line
// first and the proxy's line after it. The client address is read from the right across every line,
// so a client that forges the first line still lands in the bucket of the address the proxy saw
// (issue #14 item 10; OWASP ASVS 5.0 V2.4.1 anti-automation keyed on the real client).
func TestForwardedForReadAcrossEveryHeaderLine(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Env: map[string]string{"SHANYU_TRUSTED_PROXIES": "127.0.0.1/32"}})
	signup := func(forged string) int {
		body, _ := json.Marshal(map[string]string{"name": "王", "phone": "1", "id_number": "1", "password": "x"})
		req, err := http.NewRequest("POST", srv.URL+"/api/v1/auth/signup", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Add("X-Forwarded-For", forged)          // what the client sent
		req.Header.Add("X-Forwarded-For", "198.51.100.77") // the line the proxy added
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for i := range accounts.DefaultPolicy.SignupsPerAddress {
		if st := signup(fmt.Sprintf("203.0.113.%d", i+1)); st != http.StatusUnprocessableEntity {
			t.Fatalf("attempt %d: %d", i+1, st)
		}
	}
	if st := signup("203.0.113.250"); st != http.StatusTooManyRequests {
		t.Fatalf("a forged first X-Forwarded-For line escaped the proxy-seen address's bucket: %d, want 429", st)
	}
}

// The post-login `next` goes through the same check as the language switch (issue #14 item 5):
// the sign-in form's bypass attempts land on the user's home, a path on the site is kept.
func TestLoginNextStaysOnTheSite(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	for next, want := range map[string]string{
		"//evil.example/": "/home", "https://evil.example/": "/home", "/\\evil.example": "/home", "/\t/evil.example": "/home",
		"/%2f/evil.example": "/home", "/\u3000/evil.example": "/home", "/exams/results?session=3": "/exams/results?session=3",
	} {
		c := newClient(t, srv)
		r := c.postForm("/login", url.Values{"username": {"caregiver"}, "password": {accounts.DemoPassword}, "next": {next}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != want {
			t.Errorf("sign-in with next=%q: %d to %q, want %q", next, r.Status, r.Header.Get("Location"), want)
		}
	}
	page := newClient(t, srv).do("GET", "/login?next="+url.QueryEscape("//evil.example/"), nil, nil)
	if !strings.Contains(string(page.Body), `name="next" value="/"`) {
		t.Fatal("the sign-in page carries a foreign next into its form")
	}
}
