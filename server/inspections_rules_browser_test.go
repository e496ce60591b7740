package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"shanyu/internal/browsertest"
	"shanyu/internal/servertest"
)

// At 360 px: the demo home point's compliance page says its own rule and complies; the regulator
// builds a rule by form — post, a yearly 从业禁止 query, the region from the tree — previews it in words
// and saves it; the inspector then sees that required check, missing, in red in the scan result of a
// Hangzhou caregiver, and the verdict counts it.
func TestRegionalCheckRuleHomePointAndScanOnAPhone(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	bg := context.Background()

	// The home point, as seeded: its rule stated, compliant.
	home := browsertest.New(t, browsertest.Phone)
	signIn(t, home, srv.URL, "/institutions/HZH001/compliance", "institution.home")
	if err := chromedp.Do(home, chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	body, _ := chromedp.Run(home, chromedp.Text(chromedp.CSS("main")))
	for _, want := range []string{"桐庐县小橘灯家庭托育点", "家庭托育点：最多收托 5 名幼儿，每名照护人员最多照护 3 名。", "混龄组"} {
		if !strings.Contains(body, want) {
			t.Errorf("home point page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "post:") || strings.Contains(body, "%!") {
		t.Errorf("home point page shows policy code or a bad format:\n%s", body)
	}
	browsertest.AssertFits(t, home, browsertest.Phone)
	browsertest.Screenshot(t, home, "compliance-home-point-phone")

	// The regulator's rule by form, for Hangzhou and below.
	admin := browsertest.New(t, browsertest.Phone)
	signIn(t, admin, srv.URL, "/dashboard/rules", "admin")
	if err := chromedp.Do(admin, chromedp.WaitVisible(chromedp.CSS("#rule-form")),
		chromedp.SetValue(chromedp.CSS("#post"), "caregiver"),
		chromedp.Click(chromedp.CSS(`input[name=requirement][value="check:employment_ban"]`)),
		chromedp.SetValue(chromedp.CSS("#rule-region"), "3301"),
		chromedp.SetValue(chromedp.CSS("#effect"), "allow")); err != nil {
		t.Fatal(err)
	}
	browsertest.AssertFits(t, admin, browsertest.Phone)
	clickCentred(t, admin, `button[name=action][value=preview]`)
	words, err := chromedp.Run(admin, chromedp.Text(chromedp.CSS("#rule-words")))
	if err != nil || !strings.Contains(words, "杭州市及下辖地区") || !strings.Contains(words, "12 个月内的从业禁止查询") {
		t.Fatalf("the rule in words: %q %v", words, err)
	}
	if n, _ := chromedp.Run(admin, chromedp.Evaluate[int]("document.querySelectorAll('#changes li.bad').length")); n == 0 {
		t.Errorf("the preview shows nobody losing a post")
	}
	browsertest.AssertFits(t, admin, browsertest.Phone)
	browsertest.Screenshot(t, admin, "rules-preview-phone")
	clickCentred(t, admin, "#rule-add")
	if notice, err := chromedp.Run(admin, chromedp.Text(chromedp.CSS("p.status.ok"))); err != nil || !strings.Contains(notice, "规则已保存") {
		t.Fatalf("after saving: %q %v", notice, err)
	}
	list, _ := chromedp.Run(admin, chromedp.Text(chromedp.CSS("#rules")))
	if !strings.Contains(list, "杭州市及下辖地区") {
		t.Errorf("the rules list does not say the region:\n%s", list)
	}
	browsertest.Screenshot(t, admin, "rules-saved-phone")

	// The inspector scans a HZI001 caregiver's certificate: the required check is missing, in red.
	hzi, err := srv.App.Accounts.OrganisationByCode(bg, "HZI001")
	if err != nil {
		t.Fatal(err)
	}
	var number string
	if err := srv.Pool.QueryRow(bg, `SELECT e.number FROM audit_external_certificates e
		JOIN audit_roster r ON r.person_id = e.person_id AND r.organisation_id = e.organisation_id
		JOIN audit_assignments a ON a.roster_id = r.id WHERE a.post = 'caregiver' AND r.organisation_id = $1 ORDER BY e.number LIMIT 1`, hzi.ID).Scan(&number); err != nil {
		t.Fatal(err)
	}
	insp := browsertest.New(t, browsertest.Phone)
	signIn(t, insp, srv.URL, "/inspections", "inspector")
	if err := chromedp.Do(insp, chromedp.WaitVisible(chromedp.CSS(".inspection-list"))); err != nil {
		t.Fatal(err)
	}
	clickCentred(t, insp, ".inspection-list a")
	if err := chromedp.Do(insp, chromedp.WaitVisible(chromedp.CSS("#code")), chromedp.SetValue(chromedp.CSS("#code"), number)); err != nil {
		t.Fatal(err)
	}
	clickCentred(t, insp, "#scan-form button[type=submit]")
	checks, err := chromedp.Run(insp, chromedp.Text(chromedp.CSS("#result-checks")))
	if err != nil || !strings.Contains(checks, "从业禁止查询：未核查") || !strings.Contains(checks, "岗位要求，不合格") {
		t.Fatalf("the scan result's checks: %q %v", checks, err)
	}
	red, _ := chromedp.Run(insp, chromedp.Evaluate[bool](`Array.from(document.querySelectorAll('#result-checks .check-issue')).some(function (e) { return e.textContent.indexOf('从业禁止查询') >= 0 && e.classList.contains('bad'); })`))
	if !red {
		t.Errorf("the required missing check is not red")
	}
	if faults, _ := chromedp.Run(insp, chromedp.Text(chromedp.CSS(".faults"))); !strings.Contains(faults, "有岗位要求的背景核查缺失或已超过 12 个月") {
		t.Errorf("the verdict's faults: %q", faults)
	}
	if err := chromedp.Do(insp, chromedp.ScrollIntoView(chromedp.CSS("#result"))); err != nil {
		t.Fatal(err)
	}
	browsertest.AssertFits(t, insp, browsertest.Phone)
	browsertest.Screenshot(t, insp, "inspection-required-check-phone")
}
