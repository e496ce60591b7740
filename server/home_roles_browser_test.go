package server_test

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"shanyu/internal/browsertest"
	"shanyu/internal/pgtest"
	"shanyu/internal/servertest"
)

// TestRoleHomesOnAPhone signs each demo role in on a 360 px phone: the sign-in lands on /home, the
// role's section is there with at least one to-do linking to its main task, the page never scrolls
// sideways, and following the to-do opens that task's page. A screenshot of each home is saved as
// var/screenshots/home-<role>.png (docs/screenshots/<role>.png are made from them).
func TestRoleHomesOnAPhone(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	vp := browsertest.Phone
	for _, tc := range []struct {
		role, user string
		todo       string // the to-do to follow, a CSS selector inside the role's section
		lands      string // a prefix of the path it opens
		sees       string // a selector on that page
	}{
		{"caregiver", "caregiver", `.home-caregiver li.todo a[href^="/learn/lessons/"]`, "/learn/lessons/", "#complete, #lesson-done"},
		{"centre", "centre", `.home-centre li a[href^="/exams/sessions/"]`, "/exams/sessions/", "main h1"},
		{"institution", "institution", `.home-institution li.todo a`, "/institutions/HZI001/compliance", "#posts"},
		{"inspector", "inspector", `.home-inspector li.todo a`, "/inspections/", "main h1"},
		{"regulator", "admin", `.home-regulator li a`, "/dashboard", "main h1"},
	} {
		t.Run(tc.role, func(t *testing.T) {
			ctx := browsertest.New(t, vp)
			signIn(t, ctx, srv.URL, "/", tc.user)
			path, err := chromedp.Run(ctx, chromedp.Evaluate[string]("location.pathname"))
			if err != nil || path != "/home" {
				t.Fatalf("after sign-in at %q (%v), want /home", path, err)
			}
			body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s home:\n%s", tc.role, body)
			browsertest.AssertFits(t, ctx, vp)
			homeScreenshot(t, ctx, tc.role)
			href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){ const a = document.querySelector(`+jsString(tc.todo)+`); return a ? a.getAttribute("href") : ""; })()`))
			if err != nil || href == "" {
				t.Fatalf("no to-do %s on the %s home (%v)", tc.todo, tc.role, err)
			}
			clickAndLoad(t, ctx, tc.todo)
			path, err = chromedp.Run(ctx, chromedp.Evaluate[string]("location.pathname"))
			if err != nil || !strings.HasPrefix(path, tc.lands) {
				t.Fatalf("the to-do %s opened %q (%v), want %s…", href, path, err, tc.lands)
			}
			if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(tc.sees))); err != nil {
				t.Fatalf("%s: %s not shown: %v", path, tc.sees, err)
			}
			browsertest.AssertFits(t, ctx, vp)
			if tc.role == "caregiver" {
				lessonCountsDown(t, ctx)
			}
		})
	}
}

// lessonCountsDown checks that the lesson page's hint under the complete button counts down with
// the button instead of staying at the minimum time it was rendered with.
func lessonCountsDown(t *testing.T, ctx context.Context) {
	t.Helper()
	read := func() (hint, button int) {
		t.Helper()
		texts, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[(document.getElementById("remaining") || {}).textContent || "", document.getElementById("complete").textContent]`))
		if err != nil {
			t.Fatal(err)
		}
		num := func(s string) int {
			m := regexp.MustCompile(`[0-9]+`).FindString(s)
			n, _ := strconv.Atoi(m)
			return n
		}
		return num(texts[0]), num(texts[1])
	}
	h1, b1 := read()
	if h1 == 0 {
		t.Skip("the demo's next lesson has no study time left to count down")
	}
	if err := chromedp.Do(ctx, chromedp.Sleep(2500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	h2, b2 := read()
	if h2 >= h1 || b2 >= b1 || h2-b2 > 1 || b2-h2 > 1 {
		t.Errorf("lesson hint %d → %d while the button went %d → %d: they should count down together", h1, h2, b1, b2)
	}
}

// homeScreenshot saves what a 360 × 800 phone screen shows of a role's home, at one device pixel per
// CSS pixel and with the best PNG compression, so the committed copies stay small.
func homeScreenshot(t *testing.T, ctx context.Context, role string) {
	t.Helper()
	small := browsertest.Viewport{Width: 360, Height: 800, Mobile: true, Scale: 1}
	if err := chromedp.Do(ctx, browsertest.SetViewport(small)); err != nil {
		t.Fatal(err)
	}
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, browsertest.SetViewport(browsertest.Phone)); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, img); err != nil {
		t.Fatal(err)
	}
	root, err := pgtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "var", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "home-"+role+".png"), out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
