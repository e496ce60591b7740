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
	"time"

	"shanyu/internal/clock"
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

// asOf finds the instants a page stamps as the time it was computed ("as of"), which move with the
// wall clock between one child's render and the next; the test compares them with a tolerance
// instead of exactly, so a minute turning over between children is not taken for a zone.
var asOf = regexp.MustCompile(`(class="muted as-of">[^<]*?)(\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}|\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} [A-Z+\-0-9]+)`)

// stampsOf replaces each as-of instant on the pages by "…" and returns them in page order.
func stampsOf(t *testing.T, pages map[string]string) map[string][]time.Time {
	t.Helper()
	stamps := map[string][]time.Time{}
	for k, body := range pages {
		for _, m := range asOf.FindAllStringSubmatch(body, -1) {
			at, err := parseStamp(m[2])
			if err != nil {
				t.Fatalf("%s: as-of %q: %v", k, m[2], err)
			}
			stamps[k] = append(stamps[k], at)
		}
		pages[k] = asOf.ReplaceAllString(body, "$1…")
	}
	return stamps
}

// parseStamp reads an as-of instant in either language's layout, in the product's zone.
func parseStamp(s string) (time.Time, error) {
	if strings.Contains(s, "年") {
		return clock.Parse("2006年1月2日 15:04", s)
	}
	return clock.Parse("2 Jan 2006, 15:04", s[:strings.LastIndexByte(s, ' ')])
}

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
	var firstStamps map[string][]time.Time
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
		stamps := stampsOf(t, pages)
		if first == nil {
			first, firstStamps, firstTZ = pages, stamps, tz
			continue
		}
		for k, want := range firstStamps {
			got := stamps[k]
			if len(got) != len(want) {
				t.Errorf("%s: %d as-of stamps under TZ=%s, %d under TZ=%s", k, len(want), firstTZ, len(got), tz)
				continue
			}
			for i := range want {
				// The children run one after the other within a minute or two; a zone mix-up
				// shows as hours.
				if d := got[i].Sub(want[i]); d < -5*time.Minute || d > 5*time.Minute {
					t.Errorf("%s: as of %s under TZ=%s, %s under TZ=%s", k, want[i], firstTZ, got[i], tz)
				}
			}
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
	if len(firstStamps["admin /dashboard en"]) == 0 || len(firstStamps["admin /dashboard zh-CN"]) == 0 {
		t.Errorf("no as-of stamp found on the dashboard: the pattern no longer matches the page")
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
