package server_test

import (
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"shanyu/internal/browsertest"
	"shanyu/internal/servertest"
)

// The places edit page, after a refused edit (the errors on the form), fits a 360 px phone and a
// 1280 px desktop, passes axe-core, and is saved as var/screenshots/planning-places-{phone,desktop}.png.
func TestPlacesEditPageOnPhoneAndDesktop(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	for name, vp := range map[string]browsertest.Viewport{"phone": browsertest.Phone, "desktop": browsertest.Desktop} {
		ctx := browsertest.New(t, vp)
		signIn(t, ctx, srv.URL, "/institutions/NBI001/places", "regulator.nb")
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#places-form")),
			chromedp.SetValue(chromedp.CSS("#f-places"), "10"), chromedp.SetValue(chromedp.CSS("#f-puhui_places"), "12")); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS("#places-form button[type=submit]")))); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(".field-error"))); err != nil {
			t.Fatal(err)
		}
		browsertest.AssertFits(t, ctx, vp)
		if v := browsertest.Axe(t, ctx); len(v) > 0 {
			t.Errorf("%s: axe: %v", name, v)
		}
		browsertest.Screenshot(t, ctx, "planning-places-"+name)
	}
}
