package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"shanyu/internal/browsertest"
)

// The audit-log viewer as a page for regulators: reachable from their navigation, filtered by
// actor, action, subject and date, scoped (the Ningbo regulator sees the events of Ningbo actors
// only), with the chain check, a CSV link carrying the same filters, field errors in the page's
// language, and a 360-px phone layout. A row forged after the last full walk is caught by the
// incremental check on the next visit.
func TestAuditLogPageForRegulators(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	admin, nb := mustLogin(t, srv, "admin"), mustLogin(t, srv, "regulator.nb")
	nbID := userID(t, admin, "regulator.nb")
	wantStatus(t, "regulator.nb resets inspector.nb", nb.send("POST", fmt.Sprintf("/api/v1/admin/users/%d/password-reset", userID(t, admin, "inspector.nb")), map[string]string{"password": "a-new-password-77"}), http.StatusOK)
	wantStatus(t, "admin resets inspector", admin.send("POST", fmt.Sprintf("/api/v1/admin/users/%d/password-reset", userID(t, admin, "inspector")), map[string]string{"password": "a-new-password-78"}), http.StatusOK)

	page := func(c *client, query string) (int, string) {
		r := c.do("GET", "/audit-log"+query, nil, map[string]string{"Accept": "text/html"})
		return r.Status, string(r.Body)
	}
	rows := func(body string) int { return strings.Count(body, "<code>password.reset</code>") }
	srv.SealAudit(t) // the page checks the chain as far as it is sealed
	status, body := page(admin, "?action=password.reset&from=2000-01-01&to=2999-12-31")
	if status != http.StatusOK || rows(body) != 2 || !strings.Contains(body, "哈希链完整") ||
		!strings.Contains(body, `href="/api/v1/audit-log.csv?action=password.reset&amp;from=2000-01-01&amp;to=2999-12-31"`) {
		t.Fatalf("admin's page: %d, %d rows\n%s", status, rows(body), body)
	}
	if status, body = page(nb, "?action=password.reset"); status != http.StatusOK || rows(body) != 1 || !strings.Contains(body, fmt.Sprintf(`?actor=%d"`, nbID)) {
		t.Errorf("regulator.nb's page: %d, %d rows", status, rows(body))
	}
	if status, body = page(admin, fmt.Sprintf("?actor=%d", nbID)); status != http.StatusOK || rows(body) != 1 {
		t.Errorf("filtered by actor: %d, %d rows", status, rows(body))
	}
	if status, body = page(admin, "?actor=abc&from=yesterday"); status != http.StatusUnprocessableEntity || !strings.Contains(body, "操作人：请填写用户编号") {
		t.Errorf("bad filters: %d", status)
	}
	if status, _ = page(mustLogin(t, srv, "centre"), ""); status != http.StatusForbidden {
		t.Errorf("a centre admin opens the audit log: %d", status)
	}
	if _, home := page(admin, ""); !strings.Contains(home, `href="/audit-log"`) {
		t.Errorf("the regulator's navigation has no link to the audit log")
	}
	csv := admin.do("GET", "/api/v1/audit-log.csv?action=password.reset&from=2000-01-01&to=2999-12-31", nil, nil)
	if lines := strings.Split(strings.TrimSpace(string(csv.Body)), "\n"); csv.Status != http.StatusOK || len(lines) != 3 {
		t.Errorf("the CSV behind the link: %d %q", csv.Status, csv.Body)
	}

	ctx := browsertest.New(t, browsertest.Phone)
	signIn(t, ctx, srv.URL, "/audit-log?action=password.reset", "admin")
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#audit-events tbody tr").length`))
	if err != nil || n != 2 {
		t.Fatalf("the page on a phone lists %d events (%v)", n, err)
	}
	browsertest.AssertFits(t, ctx, browsertest.Phone)
	browsertest.Screenshot(t, ctx, "audit-log-phone")

	// A row appended without its hash (straight into the table) is found on the next visit. First the
	// rows this test's own requests appended are sealed: forged behind an unsealed row, the sealed
	// row would be reported as one sealed out of order, not as a broken link.
	srv.SealAudit(t)
	var forged int64
	if err := srv.Pool.QueryRow(context.Background(), `WITH f AS (INSERT INTO audit_log (action) VALUES ('forged') RETURNING id)
		INSERT INTO audit_chain (id, prev_hash, hash) SELECT id, '\x00', '\x01' FROM f RETURNING id`).Scan(&forged); err != nil {
		t.Fatal(err)
	}
	if status, body = page(admin, ""); !strings.Contains(body, fmt.Sprintf("哈希链在第 %d 条断开", forged)) {
		t.Errorf("after a forged row: %d, the page does not say the chain is broken at %d", status, forged)
	} else if !strings.Contains(body, "该条记录所记的前一条哈希与前一条记录不符") {
		t.Errorf("after a forged row the page does not say, in Chinese, what is wrong with it")
	}
	// The break as a regulator sees it, on a phone and on a desktop.
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/audit-log"), chromedp.WaitVisible(chromedp.CSS("#chain .notice.error"))); err != nil {
		t.Fatal(err)
	}
	browsertest.AssertFits(t, ctx, browsertest.Phone)
	browsertest.Screenshot(t, ctx, "audit-log-broken-phone")
	if err := chromedp.Do(ctx, browsertest.SetViewport(browsertest.Desktop)); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "audit-log-broken-desktop")
}
