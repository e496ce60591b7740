package server_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"shanyu/internal/browsertest"
)

// A caregiver signs up on a small phone, lands on the account page, signs out from the header, signs
// in again, switches to English and signs out: the whole account life as a person sees it.
func TestAccountsSignupLoginLanguageLogoutOnPhone(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	vp := browsertest.Phone
	ctx := browsertest.New(t, vp)
	const (
		name     = "王小丽"
		phone    = "13812345678"
		idNumber = "11010519491231002X" // valid per GB 11643 (check character X)
		password = "xiaoli-2024"
	)

	// submit clicks a button and waits for the page it leads to.
	submit := func(t *testing.T, sel string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
			t.Fatalf("click %s: %v", sel, err)
		}
	}
	path := func(t *testing.T) string {
		t.Helper()
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		return u.Path
	}
	text := func(t *testing.T, sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	fill := func(t *testing.T, fields [][2]string) {
		t.Helper()
		for _, f := range fields {
			if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(f[0]), f[1])); err != nil {
				t.Fatalf("type into %s: %v", f[0], err)
			}
		}
	}
	step := func(t *testing.T, shot string) {
		t.Helper()
		browsertest.AssertFits(t, ctx, vp)
		browsertest.Screenshot(t, ctx, "accounts-"+shot)
	}

	// Sign up.
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/signup"), chromedp.WaitVisible(chromedp.CSS("#name"))); err != nil {
		t.Fatal(err)
	}
	fill(t, [][2]string{{"#name", name}, {"#phone", phone}, {"#id_number", idNumber}, {"#password", password}, {"#password_confirm", password}})
	step(t, "signup-filled")
	submit(t, `main form[action="/signup"] button[type=submit]`)
	if p := path(t); p != "/home" {
		t.Fatalf("after sign-up the browser is at %s: %s", p, text(t, "main"))
	}
	if body := text(t, "main"); !strings.Contains(body, name) || !strings.Contains(body, "注册成功") || !strings.Contains(body, "选一门课程开始学习") {
		t.Errorf("the new learner's home lacks the name, the welcome or the next step: %q", body)
	}
	if me := text(t, "header a.me"); me != name {
		t.Errorf("header shows %q, want the name", me)
	}
	step(t, "account-zh")

	// Sign out with the header button.
	submit(t, `header form[action="/logout"] button`)
	if me := text(t, "header a.me"); me != "登录" {
		t.Errorf("after sign-out the header shows %q", me)
	}
	step(t, "signed-out-zh")

	// Sign in again with the phone number.
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/login?next=/account"), chromedp.WaitVisible(chromedp.CSS("#username"))); err != nil {
		t.Fatal(err)
	}
	fill(t, [][2]string{{"#username", phone}, {"#password", password}})
	step(t, "login-filled")
	submit(t, `main form[action="/login"] button[type=submit]`)
	if p := path(t); p != "/account" {
		t.Fatalf("after sign-in the browser is at %s: %s", p, text(t, "main"))
	}
	if body := text(t, "main"); !strings.Contains(body, name) {
		t.Errorf("account page after sign-in lacks the name: %q", body)
	}

	// Switch to English with the header link; the same page comes back in English.
	submit(t, "header a.lang")
	if p := path(t); p != "/account" {
		t.Errorf("language switch left the page for %s", p)
	}
	if h1 := text(t, "main h1"); h1 != "My account" {
		t.Errorf("English h1 = %q", h1)
	}
	if out := text(t, `header form[action="/logout"] button`); out != "Sign out" {
		t.Errorf("English sign-out button = %q", out)
	}
	step(t, "account-en")

	// Sign out again; the header offers to sign in, in English.
	submit(t, `header form[action="/logout"] button`)
	if me := text(t, "header a.me"); me != "Sign in" {
		t.Errorf("after the second sign-out the header shows %q", me)
	}
	step(t, "signed-out-en")

	// The session is over on the server too: the account page sends the browser to sign in.
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/account"), chromedp.WaitVisible(chromedp.CSS("#username"))); err != nil {
		t.Fatal(err)
	}
	if p := path(t); p != "/login" {
		t.Errorf("/account after sign-out is at %s", p)
	}
}
