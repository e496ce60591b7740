package server_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"

	"shanyu/internal/browsertest"
	"shanyu/internal/servertest"
)

// TestAccessibilityAxe runs axe-core 4.14 (WCAG 2.1 A and AA rules) on the public pages and on every
// destination in each role's navigation, at 1280 px, and on each role's first page at 360 px with the
// phone menu open (its items were off-screen and untested before): any serious or critical violation
// fails, named with the elements that break it.
func TestAccessibilityAxe(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	// The parts run in parallel (a browser context each, on the one server); runs counts their audits.
	var runs atomic.Int64
	audit := func(t *testing.T, ctx context.Context, where string) {
		t.Helper()
		runs.Add(1)
		for _, v := range browsertest.Axe(t, ctx) {
			t.Errorf("%s: %s", where, v)
		}
	}

	t.Run("public", func(t *testing.T) {
		t.Parallel()
		ctx := browsertest.New(t, browsertest.Desktop)
		for _, path := range []string{"/", "/login", "/signup", "/verify", "/courses", "/sessions", "/inspections/public", "/public/indicators"} {
			if _, err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+path)); err != nil {
				t.Fatal(err)
			}
			audit(t, ctx, "anonymous "+path)
		}
	})
	for _, user := range []string{"caregiver", "centre", "examiner", "institution", "inspector", "admin"} {
		t.Run(user, func(t *testing.T) {
			t.Parallel()
			ctx := browsertest.New(t, browsertest.Desktop)
			signIn(t, ctx, srv.URL, "/", user)
			links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('.top .nav a')).map(a => a.getAttribute('href'))`))
			if err != nil {
				t.Fatal(err)
			}
			if len(links) == 0 {
				t.Fatalf("%s: no navigation links", user)
			}
			seen := map[string]bool{}
			for _, href := range links {
				if seen[href] || !strings.HasPrefix(href, "/") {
					continue
				}
				seen[href] = true
				if _, err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+href)); err != nil {
					t.Fatal(err)
				}
				audit(t, ctx, user+" "+href+" (1280 px)")
			}

			phone := browsertest.New(t, browsertest.Phone)
			signIn(t, phone, srv.URL, links[0], user)
			audit(t, phone, user+" "+links[0]+" (360 px)")
			hasMenu, err := chromedp.Run(phone, chromedp.Evaluate[bool](`!!document.querySelector('.tabmenu summary')`))
			if err != nil {
				t.Fatal(err)
			}
			if hasMenu {
				if err := chromedp.Do(phone, chromedp.Click(chromedp.CSS(".tabmenu summary"))); err != nil {
					t.Fatal(err)
				}
				audit(t, phone, user+" "+links[0]+" with the menu open (360 px)")
			}
		})
	}
	// The exam page, on a phone, while answering and after 交卷 (its greyed, locked state).
	t.Run("exam", func(t *testing.T) {
		t.Parallel()
		exam, sessionID := startDayExam(t)
		p := newPhone(t, exam.URL, sessionID, "axe")
		p.waitPaper()
		p.answer(1, 1)
		p.waitStatus("已保存")
		audit(t, p.ctx, "the exam page while answering (360 px)")
		p.run(chromedp.Click(chromedp.CSS("#submit")))
		p.waitStatus("已交卷")
		audit(t, p.ctx, "the exam page after 交卷 (360 px)")
	})
	t.Cleanup(func() { t.Logf("axe-core: %d page runs", runs.Load()) })
}
