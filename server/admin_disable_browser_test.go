package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"shanyu/internal/browsertest"
	"shanyu/internal/servertest"
)

// The province admin disables a candidate in the middle of an exam from the user page, on a 360-px
// phone: a reason is required (the form says so beside the field), the candidate's session ends at
// once, the running attempt is submitted as "account disabled", which the centre sees in its live
// view, and the account is enabled again from the same page. A Ningbo regulator's form post on
// the Hangzhou learner is refused.
func TestAdminDisablesAnAccountFromTheUserPage(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	cand := mustLogin(t, srv, "caregiver")
	mine := decodeJSON[struct {
		Items []struct {
			Session struct {
				ID int64 `json:"id"`
			} `json:"session"`
			Open bool `json:"open"`
		} `json:"items"`
	}](t, cand.do("GET", "/api/v1/my/exams", nil, nil))
	var session int64
	for _, it := range mine.Items {
		if it.Open {
			session = it.Session.ID
		}
	}
	if session == 0 {
		t.Fatalf("no open session for the demo caregiver: %+v", mine)
	}
	decodeJSON[startOut](t, cand.send("POST", fmt.Sprintf("/api/v1/exam-sessions/%d/start", session), nil))
	admin := mustLogin(t, srv, "admin")
	id := userID(t, admin, "caregiver")

	// Scoped: the Ningbo regulator's form post is refused and changes nothing.
	nb := mustLogin(t, srv, "regulator.nb")
	r := nb.postForm(fmt.Sprintf("/admin/users/%d/disable", id), url.Values{"reason": {"x"}, "_csrf": {nb.csrf}})
	wantStatus(t, "regulator.nb disables a Hangzhou learner by form", r, http.StatusForbidden)
	wantStatus(t, "the candidate after the refused disabling", cand.do("GET", "/api/v1/me", nil, nil), http.StatusOK)

	ctx := browsertest.New(t, browsertest.Phone)
	signIn(t, ctx, srv.URL, fmt.Sprintf("/admin/users/%d", id), "admin")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#disable"))); err != nil {
		t.Fatal(err)
	}
	browsertest.AssertFits(t, ctx, browsertest.Phone)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.confirm = function () { return true; }; true`)); err != nil {
		t.Fatal(err)
	}
	clickAndLoad(t, ctx, "#disable") // no reason
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#account-state .field-error")))
	if err != nil || !strings.Contains(msg, "请填写原因") {
		t.Fatalf("disabling without a reason: field error %q (%v)", msg, err)
	}
	wantStatus(t, "the candidate after a disabling without reason", cand.do("GET", "/api/v1/me", nil, nil), http.StatusOK)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.confirm = function () { return true; }; true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#reason"), "身份冒用调查")); err != nil {
		t.Fatal(err)
	}
	clickAndLoad(t, ctx, "#disable")
	state, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil || !strings.Contains(state, "账号已停用") || !strings.Contains(state, "已停用") {
		t.Fatalf("after disabling, the page says %q (%v)", state, err)
	}
	browsertest.AssertFits(t, ctx, browsertest.Phone)
	browsertest.Screenshot(t, ctx, "admin-user-disabled-phone")

	wantStatus(t, "the candidate's session after disabling", cand.do("GET", "/api/v1/me", nil, nil), http.StatusUnauthorized)
	audit := decodeJSON[struct {
		Items []struct {
			Action  string         `json:"action"`
			Details map[string]any `json:"details"`
		} `json:"items"`
	}](t, admin.do("GET", fmt.Sprintf("/api/v1/audit-log?action=user.disable&subject=user:%d", id), nil, nil))
	if len(audit.Items) != 1 || audit.Items[0].Details["reason"] != "身份冒用调查" {
		t.Errorf("audit log of the disabling: %+v", audit.Items)
	}

	// The centre's live view says why the attempt was submitted.
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, srv.URL, fmt.Sprintf("/exams/sessions/%d/live", session), "centre")
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("live-rows").textContent.includes("已交卷 · 账号已停用")`)); err != nil {
		rows, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#live-rows")))
		t.Fatalf("live view does not show the attempt submitted because the account was disabled: %q (%v)", rows, err)
	}
	browsertest.AssertFits(t, ctx, browsertest.Phone)

	// Enabled again from the same page, with a reason.
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, srv.URL, fmt.Sprintf("/admin/users/%d", id), "admin")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#enable")), chromedp.SendKeys(chromedp.CSS("#reason"), "调查结束")); err != nil {
		t.Fatal(err)
	}
	clickAndLoad(t, ctx, "#enable")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#disable"))); err != nil {
		t.Fatal(err)
	}
	mustLogin(t, srv, "caregiver")
}
