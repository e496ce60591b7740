package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"shanyu/internal/browsertest"
	"shanyu/internal/servertest"
)

// The planning page fits a 360 px phone and a 1280 px desktop, passes axe-core, and is saved as
// var/screenshots/planning-{phone,desktop}.png.
func TestPlanningPageOnPhoneAndDesktop(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	for name, vp := range map[string]browsertest.Viewport{"phone": browsertest.Phone, "desktop": browsertest.Desktop} {
		ctx := browsertest.New(t, vp)
		signIn(t, ctx, srv.URL, "/dashboard/planning?region=33", "admin")
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#targets"))); err != nil {
			t.Fatal(err)
		}
		browsertest.AssertFits(t, ctx, vp)
		if text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`)); err != nil || strings.Contains(text, "%!") {
			t.Errorf("%s: a message with a wrong argument count: %v", name, err)
		}
		if v := browsertest.Axe(t, ctx); len(v) > 0 {
			t.Errorf("%s: axe: %v", name, v)
		}
		browsertest.Screenshot(t, ctx, "planning-"+name)
	}
}
