package server_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"shanyu/accounts"
)

// signIn signs a demo user in through the login page, lands on next, and waits until the page shows
// the signed-in header (its sign-out button; the anonymous header has a .me link too).
func signIn(t *testing.T, ctx context.Context, base, next, username string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/login?next="+url.QueryEscape(next)),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), accounts.DemoPassword),
	); err != nil {
		t.Fatal(err)
	}
	clickAndLoad(t, ctx, `main form[action="/login"] button[type=submit]`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(".session form button"))); err != nil {
		t.Fatalf("sign in as %s: %v", username, err)
	}
}

// clickAndLoad clicks an element that submits a form or follows a link and waits for the new page.
func clickAndLoad(t *testing.T, ctx context.Context, css string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(css)))); err != nil {
		t.Fatalf("click %s: %v", css, err)
	}
}
