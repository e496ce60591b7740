package server_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/exams"
	"shanyu/internal/servertest"
)

// signIn signs a demo user in through the login page, lands on next, and waits until the browser is
// signed in.
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
	// The signed-in header is not on every page (the exam page shows none, and at 360 px the
	// sign-out button sits in the menu), so ask the API who this browser is once it left /login.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`location.pathname !== "/login"`)); err != nil {
		t.Fatalf("sign in as %s: still on the login page: %v", username, err)
	}
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("/api/v1/me", {credentials: "same-origin"}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("sign in as %s: %v", username, err)
	}
	if status != 200 {
		t.Fatalf("sign in as %s: /api/v1/me answers %d after the login form", username, status)
	}
}

// clickAndLoad clicks an element that submits a form or follows a link and waits for the new page.
func clickAndLoad(t *testing.T, ctx context.Context, css string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(css)))); err != nil {
		t.Fatalf("click %s: %v", css, err)
	}
}

// testExams is the exams service for a test's set-up on pool: the one of the full set of services
// that serve builds (servertest.Services), whose jobs (papers, notices) the server started on the
// database then works. done releases what the set opened.
func testExams(pool *pgxpool.Pool) (svc *exams.Service, done func(), err error) {
	full, err := servertest.Services(context.Background(), pool)
	if err != nil {
		return nil, nil, err
	}
	return full.Exams, full.Close, nil
}
