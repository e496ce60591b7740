package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"shanyu/internal/browsertest"
	"shanyu/internal/servertest"
)

// On a phone, the demo inspector does a whole visit: opens the open demo inspection, types the
// revoked and the suspended demo certificates (both shown red, in words, with reason and date), checks
// a staff member whose certificate was recorded from elsewhere (labelled as not issued here), is
// refused signing while the roster is unchecked, marks the others absent with a reason, counts every
// class, records a finding with a photo and signs; the second inspector countersigns on their phone.
func TestInspectorChecksStaffOnAPhone(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	bg := context.Background()
	hzi, err := srv.App.Accounts.OrganisationByCode(bg, "HZI001")
	if err != nil {
		t.Fatal(err)
	}
	certs, err := srv.App.Audits.ExternalCertificates(bg, hzi.ID)
	if err != nil || len(certs) == 0 {
		t.Fatalf("HZI001 certificates: %d %v", len(certs), err)
	}
	var revoked, suspended string
	if err := srv.Pool.QueryRow(bg, `SELECT (SELECT number FROM certificates WHERE status = 'revoked' ORDER BY id LIMIT 1),
		(SELECT number FROM certificates WHERE status = 'suspended' ORDER BY id LIMIT 1)`).Scan(&revoked, &suspended); err != nil {
		t.Fatal(err)
	}

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
	clickCentred(t, ctx, ".inspection-list a")
	inspURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	typeCode := func(code string) string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#code")), chromedp.SetValue(chromedp.CSS("#code"), code)); err != nil {
			t.Fatal(err)
		}
		clickCentred(t, ctx, "#scan-form button[type=submit]")
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#result"))); err != nil {
			t.Fatal(err)
		}
		result, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#result")))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(result, "p, ") || strings.Contains(result, "post:") || strings.Contains(result, "%!") {
			t.Errorf("policy code or a bad format in the scan result:\n%s", result)
		}
		return result
	}
	// Genuine is not valid: the revoked and the suspended certificates are red, with reason and date.
	for _, c := range []struct{ number, state, reason, shot string }{
		{revoked, "已撤销", "以欺骗手段取得证书", "inspection-revoked-phone"},
		{suspended, "已暂停", "继续教育学时未达要求", "inspection-suspended-phone"},
	} {
		result := typeCode(c.number)
		for _, want := range []string{c.number, c.state, c.reason, "自 20"} {
			if !strings.Contains(result, want) {
				t.Errorf("typed %s: result lacks %q:\n%s", c.number, want, result)
			}
		}
		cls, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.getElementById('cert-status').className"))
		if !strings.Contains(cls, "bad") || strings.Contains(result, "有效 ") {
			t.Errorf("typed %s: not shown as bad (%q):\n%s", c.number, cls, result)
		}
		browsertest.AssertFits(t, ctx, browsertest.Phone)
		browsertest.Screenshot(t, ctx, c.shot)
	}
	// A certificate the institution recorded from elsewhere: checked, labelled as not issued here,
	// the decision explained in words.
	result := typeCode(certs[0].Number)
	for _, want := range []string{certs[0].Number, "非本平台签发，未核验", "须持有"} {
		if !strings.Contains(result, want) {
			t.Errorf("result lacks %q:\n%s", want, result)
		}
	}
	if !strings.Contains(result, "资质合格") && !strings.Contains(result, "资质不符") {
		t.Errorf("result without a decision:\n%s", result)
	}
	browsertest.AssertFits(t, ctx, browsertest.Phone)
	browsertest.Screenshot(t, ctx, "inspection-result-phone")

	// Signing now is refused, naming what is missing.
	clickCentred(t, ctx, "#sign-button")
	refusal, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#form-error")))
	if err != nil || !strings.Contains(refusal, "还不能签名") || !strings.Contains(refusal, "未点名") {
		t.Fatalf("signing an unready inspection: %q %v", refusal, err)
	}
	browsertest.AssertFits(t, ctx, browsertest.Phone)
	browsertest.Screenshot(t, ctx, "inspection-sign-refused-phone")

	// Everyone not met is marked absent with a reason.
	for n := 0; ; n++ {
		left, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.querySelectorAll('.absent-form').length"))
		if err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			break
		}
		if n > 40 {
			t.Fatal("absent forms do not go away")
		}
		if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(".absent-form input[name=reason]"), "当日病假")); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			if err := chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.CSS(".absent-form"))); err != nil {
				t.Fatal(err)
			}
			browsertest.AssertFits(t, ctx, browsertest.Phone)
			browsertest.Screenshot(t, ctx, "inspection-absent-phone")
		}
		clickCentred(t, ctx, ".absent-form button")
	}
	// Every class counted: children and caregivers present.
	classes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string]("Array.from(document.querySelectorAll('form.headcount')).map(function (f) { return f.id; })"))
	if err != nil || len(classes) == 0 {
		t.Fatalf("head count forms: %v %v", classes, err)
	}
	for _, id := range classes {
		if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#"+id+" input[name=children]"), "6"), chromedp.SetValue(chromedp.CSS("#"+id+" input[name=caregivers]"), "2")); err != nil {
			t.Fatal(err)
		}
		clickCentred(t, ctx, "#"+id+" button")
	}
	check, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#"+classes[0]+" .class-check")))
	if err != nil || !strings.Contains(check, "实际 1:3") || !strings.Contains(check, "标准 1:") {
		t.Errorf("observed ratio beside the rule: %q %v", check, err)
	}
	if err := chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.CSS("#classes"))); err != nil {
		t.Fatal(err)
	}
	browsertest.AssertFits(t, ctx, browsertest.Phone)
	browsertest.Screenshot(t, ctx, "inspection-headcounts-phone")

	// A finding with a photo from the phone's camera (here a file): shown as a thumbnail. An emoji in
	// the note is refused first, saying why.
	photo := filepath.Join(t.TempDir(), "IMG_0001.png")
	if err := os.WriteFile(photo, pngPhoto(t), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#note"), "午睡室整洁👶")); err != nil {
		t.Fatal(err)
	}
	clickCentred(t, ctx, "#finding-form button[type=submit]")
	if msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#finding-form .field-error"))); err != nil || !strings.Contains(msg, "无法印入检查报告") || !strings.Contains(msg, "👶") {
		t.Errorf("emoji note: %q %v", msg, err)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#note"), "消毒柜未通电"), chromedp.SetUploadFiles(chromedp.CSS("#photo"), []string{photo})); err != nil {
		t.Fatal(err)
	}
	clickCentred(t, ctx, "#finding-form button[type=submit]")
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool]("(function(){ var i = document.querySelector('.photos img'); return (i && i.complete && i.naturalWidth === 64) || null; })()")); err != nil {
		t.Fatalf("thumbnail: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.CSS("#findings"))); err != nil {
		t.Fatal(err)
	}
	browsertest.AssertFits(t, ctx, browsertest.Phone)
	browsertest.Screenshot(t, ctx, "inspection-finding-photo-phone")

	// Ready: the first signature freezes the inspection; no more findings can be added.
	if ok, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#ready-ok"))); err != nil || ok == "" {
		t.Fatalf("not ready after the visit: %v", err)
	}
	clickCentred(t, ctx, "#sign-button")
	status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#status")))
	frozen, _ := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!document.getElementById('frozen') && !document.getElementById('finding-form') && !document.getElementById('scan-form')"))
	if !strings.Contains(status, "已签名") || !frozen {
		t.Errorf("after the first signature: status %q, frozen %v", status, frozen)
	}
	browsertest.AssertFits(t, ctx, browsertest.Phone)
	browsertest.Screenshot(t, ctx, "inspection-signed-phone")

	// The second inspector countersigns on their own phone.
	ctx2 := browsertest.New(t, browsertest.Phone)
	signIn(t, ctx2, srv.URL, strings.TrimPrefix(inspURL, srv.URL), "inspector2")
	if err := chromedp.Do(ctx2, chromedp.WaitVisible(chromedp.CSS("#sign-button"))); err != nil {
		t.Fatal(err)
	}
	if label, _ := chromedp.Run(ctx2, chromedp.Text(chromedp.CSS("#sign-button"))); !strings.Contains(label, "复核") {
		t.Errorf("countersign button: %q", label)
	}
	clickCentred(t, ctx2, "#sign-button")
	final, err := chromedp.Run(ctx2, chromedp.Text(chromedp.CSS("#final")))
	if err != nil || !strings.Contains(final, "检查已完成") || !strings.Contains(final, "未通过") {
		t.Errorf("final: %q %v", final, err)
	}
	faults, _ := chromedp.Run(ctx2, chromedp.Text(chromedp.CSS("#ready")))
	if !strings.Contains(faults, "有证书无法核实或持证人不在花名册") {
		t.Errorf("the verdict does not say why:\n%s", faults)
	}
	browsertest.AssertFits(t, ctx2, browsertest.Phone)
	browsertest.Screenshot(t, ctx2, "inspection-finished-phone")
	if err := chromedp.Do(ctx2, chromedp.Navigate(srv.URL+"/inspections/public"), chromedp.WaitVisible(chromedp.CSS(".public-results"))); err != nil {
		t.Fatal(err)
	}
	browsertest.AssertFits(t, ctx2, browsertest.Phone)
	browsertest.Screenshot(t, ctx2, "inspections-public-phone")
}

// The institution administrator's compliance page and the regulator's dashboard hold at 360 px.
func TestCompliancePageAndDashboardOnAPhone(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
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
			// Decisions in words; no policy line anywhere on the institution's page.
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
			if strings.Contains(body, "p, ") || strings.Contains(body, "post:") || !strings.Contains(body, "须持有") {
				t.Errorf("compliance page shows policy code or no explanation:\n%s", body)
			}
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

// clickCentred scrolls an element to the middle of the screen before clicking it, so that the
// phone's fixed bottom bar cannot take the click, and waits for the new page.
func clickCentred(t *testing.T, ctx context.Context, css string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("(function(){ var e = document.querySelector("+strconv.Quote(css)+"); if (!e) return false; e.scrollIntoView({block: 'center'}); return true; })()")); err != nil {
		t.Fatalf("scroll to %s: %v", css, err)
	}
	clickAndLoad(t, ctx, css)
}
