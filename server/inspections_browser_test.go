package server_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"shanyu/internal/browsertest"
	"shanyu/internal/servertest"
)

// On a phone, the demo inspector opens the open demo inspection, checks a staff member by typing the
// certificate code, sees the policy's decision with the rules that matched, records a head count,
// signs; once the second inspector has signed, the page shows the inspection finished.
func TestInspectorChecksStaffOnAPhone(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Setup: seedFullDemo})
	bg := context.Background()
	hzi, err := srv.App.Accounts.OrganisationByCode(bg, "HZI001")
	if err != nil {
		t.Fatal(err)
	}
	certs, err := srv.App.Audits.ExternalCertificates(bg, hzi.ID)
	if err != nil || len(certs) == 0 {
		t.Fatalf("HZI001 certificates: %d %v", len(certs), err)
	}
	inspector, _ := srv.App.Accounts.UserByUsername(bg, "inspector")
	second, _ := srv.App.Accounts.UserByUsername(bg, "inspector2")

	ctx := browsertest.New(t, browsertest.Phone)
	signIn(t, ctx, srv.URL, "/inspections", "inspector")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(".inspection-list"))); err != nil {
		t.Fatal(err)
	}
	list, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".inspection-list")))
	if err != nil || !strings.Contains(list, hzi.Name) || !strings.Contains(list, "进行中") {
		t.Fatalf("inspection list: %q %v", list, err)
	}
	browsertest.AssertFits(t, ctx, browsertest.Phone)
	browsertest.Screenshot(t, ctx, "inspections-list-phone")
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(".inspection-list a")))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#code")), chromedp.SendKeys(chromedp.CSS("#code"), certs[0].Number)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS("#scan-form button[type=submit]")))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#result"))); err != nil {
		t.Fatal(err)
	}
	result, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#result")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{certs[0].Number, "未经平台核验", "依据规则", "p, doc:no-criminal-record, post:*, background, allow"} {
		if !strings.Contains(result, want) {
			t.Errorf("result lacks %q:\n%s", want, result)
		}
	}
	if !strings.Contains(result, "资质合格") && !strings.Contains(result, "资质不符") {
		t.Errorf("result without a decision:\n%s", result)
	}
	browsertest.AssertFits(t, ctx, browsertest.Phone)
	browsertest.Screenshot(t, ctx, "inspection-result-phone")

	// A head count for the first class, with the keyboard-reachable form.
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(".headcount input[name=caregivers]"), "3")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(".headcount button")))); err != nil {
		t.Fatal(err)
	}
	// A finding with a photo from the phone's camera (here a file): shown as a thumbnail.
	photo := filepath.Join(t.TempDir(), "IMG_0001.png")
	if err := os.WriteFile(photo, pngPhoto(t), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#note"), "消毒柜未通电"), chromedp.SetUploadFiles(chromedp.CSS("#photo"), []string{photo})); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS("#finding-form button[type=submit]")))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool]("(function(){ var i = document.querySelector('.photos img'); return (i && i.complete && i.naturalWidth === 64) || null; })()")); err != nil {
		t.Fatalf("thumbnail: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.CSS("#findings"))); err != nil {
		t.Fatal(err)
	}
	browsertest.AssertFits(t, ctx, browsertest.Phone)
	browsertest.Screenshot(t, ctx, "inspection-finding-photo-phone")
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS("#sign-button")))); err != nil {
		t.Fatal(err)
	}
	x, err := srv.App.Audits.InspectionsFor(bg, inspector.ID)
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	for _, i := range x {
		if i.Status == "open" {
			id = i.ID
		}
	}
	if id == 0 {
		t.Fatal("no open inspection after the first signature")
	}
	if _, err := srv.App.Audits.Sign(bg, second.ID, id); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/inspections/%d", srv.URL, id)), chromedp.WaitVisible(chromedp.CSS("#final"))); err != nil {
		t.Fatal(err)
	}
	final, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#final")))
	if !strings.Contains(final, "检查已完成") {
		t.Errorf("final: %q", final)
	}
	browsertest.AssertFits(t, ctx, browsertest.Phone)
	browsertest.Screenshot(t, ctx, "inspection-finished-phone")
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/inspections/public"), chromedp.WaitVisible(chromedp.CSS(".public-results"))); err != nil {
		t.Fatal(err)
	}
	browsertest.AssertFits(t, ctx, browsertest.Phone)
	browsertest.Screenshot(t, ctx, "inspections-public-phone")
}

// The institution administrator's compliance page and the regulator's dashboard hold at 360 px.
func TestCompliancePageAndDashboardOnAPhone(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Setup: seedFullDemo})
	for _, v := range []struct{ user, path, shot, want string }{
		{"institution", "/institutions/HZI001/compliance", "compliance-phone", "合规情况"},
		{"admin", "/dashboard?region=3301", "dashboard-phone", "监管一张网"},
	} {
		ctx := browsertest.New(t, browsertest.Phone)
		signIn(t, ctx, srv.URL, v.path, v.user)
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
			t.Fatal(err)
		}
		h1, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
		if !strings.Contains(h1, v.want) {
			t.Errorf("%s: h1 %q", v.path, h1)
		}
		browsertest.AssertFits(t, ctx, browsertest.Phone)
		browsertest.Screenshot(t, ctx, v.shot)
		if v.user == "institution" {
			// The roster and class editing forms, opened, hold at 360 px too.
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.querySelectorAll('details.edit').forEach(function (d) { d.open = true; }); document.querySelectorAll('details.edit').length")); err != nil {
				t.Fatal(err)
			}
			browsertest.AssertFits(t, ctx, browsertest.Phone)
			browsertest.Screenshot(t, ctx, "compliance-edit-phone")
			// A new class is saved and announced; the same name again is refused on the page itself.
			for _, want := range []string{"班级已保存。", "已有同名班级。"} {
				if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("document.getElementById('class-edit').open = true")); err != nil {
					t.Fatal(err)
				}
				if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#cn-new"), "小二班")); err != nil {
					t.Fatal(err)
				}
				clickAndLoad(t, ctx, "#class-add button[type=submit]")
				notice, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("p.notice")))
				if err != nil || !strings.Contains(notice, want) {
					t.Errorf("after adding 小二班: notice %q, %v; want %q", notice, err, want)
				}
			}
			// The refused form is shown again open, with what was typed.
			kept, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.getElementById('class-edit').open ? document.getElementById('cn-new').value : 'closed'"))
			if err != nil || kept != "小二班" {
				t.Errorf("the refused class form: %q, %v; want it open with 小二班", kept, err)
			}
			browsertest.Screenshot(t, ctx, "compliance-class-exists-phone")
		}
	}
}
