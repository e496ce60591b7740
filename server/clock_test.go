package server_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"shanyu/internal/servertest"
)

// clockPages are the main pages of every role, rendered by TestPagesDoNotDependOnTheProcessZone.
var clockPages = map[string][]string{
	"":            {"/inspections/public", "/verify"},
	"caregiver":   {"/home", "/exams", "/exams/results", "/hours", "/certificates/mine", "/sessions", "/learn"},
	"centre":      {"/home", "/centre/courses", "/centre/sessions", "/centre/calendar", "/centres/HZ001/exams", "/certificates", "/certificates?expiring_days=365"},
	"institution": {"/home", "/institutions/HZI001/compliance"},
	"inspector":   {"/home", "/inspections"},
	"admin":       {"/home", "/dashboard", "/dashboard/rounds"},
}

// varying are the parts of a page that differ from one request to the next whatever the clock:
// CSRF tokens, request ids, per-request nonces.
var varying = regexp.MustCompile(`(name="_csrf" value="|data-csrf="|data-request-id="|<code class="rid">|name="client_id" value=")[^"<]*`)

// TestPagesDoNotDependOnTheProcessZone starts the server in processes whose TZ differ (UTC, Los
// Angeles, Kiritimati at UTC+14) on one demo database and finds every main page the same,
// in both languages: times are shown and dates counted in SHANYU_TIMEZONE, never the process's zone.
func TestPagesDoNotDependOnTheProcessZone(t *testing.T) {
	if os.Getenv("SHANYU_CLOCK_CHILD") != "" {
		t.Skip("a child of this test")
	}
	t.Parallel()
	dbURL := demoSeeded.URL(t)
	dir := t.TempDir()
	var first map[string]string
	var firstTZ string
	for _, tz := range []string{"UTC", "America/Los_Angeles", "Pacific/Kiritimati"} {
		out := filepath.Join(dir, strings.ReplaceAll(tz, "/", "_")+".json")
		cmd := exec.Command(os.Args[0], "-test.run=^TestClockChildRenders$", "-test.count=1")
		cmd.Env = append(os.Environ(), "TZ="+tz, "SHANYU_CLOCK_CHILD="+out, "SHANYU_CLOCK_CHILD_DB="+dbURL)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("TZ=%s: %v\n%s", tz, err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var pages map[string]string
		if err := json.Unmarshal(b, &pages); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first, firstTZ = pages, tz
			continue
		}
		for k, want := range first {
			if got := pages[k]; got != want {
				t.Errorf("%s differs between TZ=%s and TZ=%s:\n%s", k, firstTZ, tz, firstDifference(want, got))
			}
		}
	}
	if n := len(first); n < 2*15 {
		t.Errorf("only %d pages rendered", n)
	}
}

func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, strings.TrimSpace(al[i]), strings.TrimSpace(bl[i]))
		}
	}
	return fmt.Sprintf("%d lines against %d", len(al), len(bl))
}

// TestClockChildRenders is the child process of TestPagesDoNotDependOnTheProcessZone: it serves the
// database it is given and writes the pages it renders to a file.
func TestClockChildRenders(t *testing.T) {
	out := os.Getenv("SHANYU_CLOCK_CHILD")
	if out == "" {
		t.Skip("run by TestPagesDoNotDependOnTheProcessZone")
	}
	srv := servertest.Start(t, servertest.Options{DBURL: os.Getenv("SHANYU_CLOCK_CHILD_DB")})
	pages := map[string]string{}
	for user, paths := range clockPages {
		c := newClient(t, srv)
		if user != "" {
			c = mustLogin(t, srv, user)
		}
		for _, p := range paths {
			for _, lang := range []string{"zh-CN", "en"} {
				r := c.do("GET", p, nil, map[string]string{"Accept-Language": lang})
				if r.Status != 200 {
					t.Fatalf("%s %s (%s): %d", user, p, lang, r.Status)
				}
				pages[user+" "+p+" "+lang] = varying.ReplaceAllString(strings.ReplaceAll(string(r.Body), srv.URL, "BASE"), "$1…")
			}
		}
	}
	b, err := json.Marshal(pages)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
