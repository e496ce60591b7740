package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"shanyu/internal/browsertest"
	"shanyu/internal/servertest"
)

// The home page speaks to every kind of visitor, in Chinese by default and in English after the
// switch in the header, on a phone and on a desktop.
func TestHomePageInBothLanguagesOnPhoneAndDesktop(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{})
	sizes := map[string]browsertest.Viewport{"phone": browsertest.Phone, "desktop": browsertest.Desktop}
	for name, vp := range sizes {
		t.Run(name, func(t *testing.T) {
			ctx := browsertest.New(t, vp)
			if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
				t.Fatal(err)
			}
			h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(h1, "托育从业人员") {
				t.Fatalf("zh-CN h1 = %q", h1)
			}
			cards, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".audiences")))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"保育师", "培训机构", "托育机构", "监管人员", "家长与公众"} {
				if !strings.Contains(cards, want) {
					t.Errorf("zh-CN page lacks %q", want)
				}
			}
			browsertest.AssertFits(t, ctx, vp)
			browsertest.Screenshot(t, ctx, "home-zh-"+name)

			// Switch language the way a person does: the link in the header.
			if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS("a.lang")))); err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
				t.Fatal(err)
			}
			h1, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(h1, "childcare workers") {
				t.Fatalf("en h1 = %q", h1)
			}
			browsertest.AssertFits(t, ctx, vp)
			browsertest.Screenshot(t, ctx, "home-en-"+name)

			// The choice is remembered on the next visit.
			if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
				t.Fatal(err)
			}
			lang, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.documentElement.lang"))
			if err != nil || lang != "en" {
				t.Fatalf("remembered language = %q, %v", lang, err)
			}
		})
	}
}
