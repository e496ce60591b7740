package server_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"shanyu/audits"
	"shanyu/internal/servertest"
)

// The published results name institutions and counts, never a person: no staff name, no ID number
// (not even its last four characters), on the JSON endpoint or the page.
func TestPublicInspectionsCarryNoPersonalData(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	anon := newClient(t, srv)
	r := anon.do("GET", "/api/v1/public/inspections", nil, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	results, _ := r.json(t)["results"].([]any)
	if len(results) == 0 {
		t.Fatalf("no published results: %s", r.Body)
	}
	page := anon.do("GET", "/inspections/public", nil, nil)
	if page.Status != http.StatusOK {
		t.Fatalf("public page: %d", page.Status)
	}
	ctx := context.Background()
	rows, err := srv.Pool.Query(ctx, `SELECT name FROM audit_roster UNION SELECT name FROM people`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	checked := 0
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		for _, body := range []string{string(r.Body), string(page.Body)} {
			if strings.Contains(body, name) {
				t.Errorf("public results contain the name %q", name)
			}
			if strings.Contains(body, "****") || strings.Contains(body, "id_number") {
				t.Error("public results carry a (masked) ID number")
			}
		}
		checked++
	}
	if checked < 150 {
		t.Fatalf("only %d people to look for", checked)
	}
	// Only these fields are published.
	for _, res := range results {
		for k := range res.(map[string]any) {
			if !map[string]bool{"inspection_id": true, "round": true, "institution": true, "credit_code": true, "region_code": true,
				"finished_on": true, "passed": true, "summary": true}[k] {
				t.Errorf("public result has field %q", k)
			}
		}
	}
}

// An institution administrator reads their own compliance, not another institution's; the regulator
// of the region reads both; a barred person shows as "not permitted", never with the record.
func TestComplianceAccessAndExplanations(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	inst := mustLogin(t, srv, "institution")
	r := inst.do("GET", "/api/v1/institutions/HZI001/compliance", nil, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("own compliance: %d %s", r.Status, r.Body)
	}
	body := r.json(t)
	as, _ := body["assignments"].([]any)
	if len(as) == 0 {
		t.Fatalf("no assignments: %s", r.Body)
	}
	d := as[0].(map[string]any)["decision"].(map[string]any)
	if m, _ := d["matched"].([]any); len(m) == 0 {
		t.Errorf("decision without the rules that matched: %v", d)
	}
	if r := inst.do("GET", "/api/v1/institutions/HZI002/compliance", nil, nil); r.Status != http.StatusForbidden {
		t.Errorf("another institution: %d", r.Status)
	}
	admin := mustLogin(t, srv, "admin")
	if r := admin.do("GET", "/api/v1/institutions/HZI003/compliance", nil, nil); r.Status != http.StatusOK || r.json(t)["compliant"] != false {
		t.Errorf("regulator on HZI003: %d %s", r.Status, r.Body)
	}
	if r := inst.do("GET", "/institutions/HZI001/compliance", nil, nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "合规情况") {
		t.Errorf("compliance page: %d", r.Status)
	}
	// The regulator bars a roster member of HZI001; the institution sees "not permitted", no record.
	roster := inst.do("GET", "/api/v1/institutions/HZI001/roster", nil, nil).json(t)["staff"].([]any)
	first := roster[0].(map[string]any)
	var personID int64
	if err := srv.Pool.QueryRow(context.Background(), `SELECT person_id FROM audit_roster WHERE id = $1`, int64(first["id"].(float64))).Scan(&personID); err != nil {
		t.Fatal(err)
	}
	idNumber, err := srv.App.Accounts.RevealIDNumber(context.Background(), personID)
	if err != nil {
		t.Fatal(err)
	}
	if r := inst.send("POST", "/api/v1/conduct/bars", map[string]string{"id_number": idNumber, "legal_basis": "x", "authority": "y", "starts_on": "2026-01-01", "evidence": "z"}); r.Status != http.StatusForbidden {
		t.Errorf("institution records a bar: %d", r.Status)
	}
	if r := admin.send("POST", "/api/v1/conduct/bars", map[string]string{"id_number": idNumber, "legal_basis": "《未成年人保护法》第六十二条",
		"authority": "西湖区人民法院", "starts_on": "2026-01-01", "evidence": "判决书"}); r.Status != http.StatusOK {
		t.Fatalf("bar: %d %s", r.Status, r.Body)
	}
	if r := inst.do("GET", "/api/v1/conduct/bars", nil, nil); r.Status != http.StatusForbidden {
		t.Errorf("institution reads bar records: %d", r.Status)
	}
	if r := admin.do("GET", "/api/v1/conduct/bars", nil, nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "人民法院") {
		t.Errorf("regulator reads bar records: %d %s", r.Status, r.Body)
	}
	r = inst.do("GET", "/api/v1/institutions/HZI001/compliance", nil, nil)
	if ids, _ := r.json(t)["not_permitted_roster_ids"].([]any); len(ids) != 1 || strings.Contains(string(r.Body), "人民法院") {
		t.Errorf("after the bar: %s", r.Body)
	}
}

// The regulator's dashboard drills down from the city to its districts to institutions, and exports
// CSV; an institution administrator may not read it.
func TestDashboardDrillDownAndCSV(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	admin := mustLogin(t, srv, "admin")
	r := admin.do("GET", "/api/v1/dashboard?region=3301", nil, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	rows := r.json(t)["rows"].([]any)
	total := rows[0].(map[string]any)
	// Hangzhou: the 20 demo centres, the home childcare point HZH001 and the planning demo's small
	// institutions (PL…), as many as the indicators count.
	planned := admin.do("GET", "/api/v1/indicators?region=3301", nil, nil).json(t)["region"].(map[string]any)["institutions"].(float64)
	if total["institutions"].(float64) != planned || planned <= 21 || total["inspected"].(float64) == 0 || total["qualified_percent"].(float64) >= 100 || len(rows) < 5 {
		t.Fatalf("city totals: %v (%d rows)", total, len(rows))
	}
	district := rows[1].(map[string]any)["key"].(string)
	if len(district) != 6 {
		t.Fatalf("first sub-row %q is not a district", district)
	}
	sub := admin.do("GET", "/api/v1/dashboard?region="+district, nil, nil).json(t)["rows"].([]any)
	if len(sub) < 2 || sub[1].(map[string]any)["key"].(string)[:3] != "HZI" {
		t.Fatalf("district rows: %v", sub)
	}
	csv := admin.do("GET", "/dashboard.csv?region=3301", nil, nil)
	if csv.Status != http.StatusOK || !strings.Contains(string(csv.Body), "qualified_percent") || strings.Count(string(csv.Body), "\n") != len(rows)+1 {
		t.Fatalf("csv: %d %s", csv.Status, csv.Body)
	}
	if page := admin.do("GET", "/dashboard?region=3301", nil, nil); page.Status != http.StatusOK || !strings.Contains(string(page.Body), "<svg") {
		t.Fatalf("page: %d", page.Status)
	}
	inst := mustLogin(t, srv, "institution")
	if r := inst.do("GET", "/api/v1/dashboard?region=3301", nil, nil); r.Status != http.StatusForbidden {
		t.Fatalf("institution reads the dashboard: %d", r.Status)
	}
}

// The regulator previews a regional rule, adds it, removes it; draws a round that replays to the
// same result; an inspector may do neither.
func TestRegulatorRulesAndRounds(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	admin := mustLogin(t, srv, "admin")
	line := "p, qual:4-10-01-03:5, post:health, qualification, allow"
	r := admin.send("POST", "/api/v1/policy/qualification/preview", map[string]string{"line": line})
	if r.Status != http.StatusOK {
		t.Fatalf("preview: %d %s", r.Status, r.Body)
	}
	if r := admin.send("POST", "/api/v1/policy/qualification/preview", map[string]string{"line": "p, nonsense"}); r.Status != http.StatusBadRequest && r.Status != http.StatusUnprocessableEntity {
		t.Errorf("bad rule: %d", r.Status)
	}
	// The API bounds a rule as the form does: a 3 MB note or a 400-byte line is refused by name.
	for field, body := range map[string]map[string]string{
		"note": {"line": line, "note": strings.Repeat("长", 1<<20)},
		"line": {"line": line + strings.Repeat(" ", 10) + strings.Repeat("x", 400)},
	} {
		r := admin.send("POST", "/api/v1/policy/qualification/rules", body)
		fields, _ := r.json(t)["error"].(map[string]any)["fields"].(map[string]any)
		if r.Status != http.StatusUnprocessableEntity || fields[field] == nil {
			t.Errorf("a rule with an oversized %s: %d %.200s", field, r.Status, r.Body)
		}
	}
	added := admin.send("POST", "/api/v1/policy/qualification/rules", map[string]string{"line": line, "note": "试点"})
	if added.Status != http.StatusOK {
		t.Fatalf("add: %d %s", added.Status, added.Body)
	}
	id := int64(added.json(t)["id"].(float64))
	if r := admin.send("DELETE", fmt.Sprintf("/api/v1/policy/qualification/rules/%d", id), nil); r.Status != http.StatusOK {
		t.Fatalf("remove: %d", r.Status)
	}
	// 10 % of Hangzhou's institutions (the 21 with rosters, the home point among them, and the
	// planning demo's small ones), rounded up.
	inHangzhou := admin.do("GET", "/api/v1/indicators?region=3301", nil, nil).json(t)["region"].(map[string]any)["institutions"].(float64)
	share := int(math.Ceil(inHangzhou / 10))
	round := admin.send("POST", "/api/v1/inspections/rounds", map[string]any{"region_code": "3301", "name": "测试轮次", "share": 0.1, "per_inspection": 2, "risk_weighted": true, "seed": 99})
	if round.Status != http.StatusOK {
		t.Fatalf("round: %d %s", round.Status, round.Body)
	}
	rid := int64(round.json(t)["id"].(float64))
	got := admin.do("GET", fmt.Sprintf("/api/v1/inspections/rounds/%d", rid), nil, nil).json(t)
	if got["replay_matches"] != true || got["input_digest"] != round.json(t)["input_digest"] || len(got["drawn"].([]any)) != share || share <= 3 {
		t.Fatalf("stored round: %v", got)
	}
	// Class types are data: the regulator tightens the 托大班 ratio, and HZI001's compliance follows.
	before := admin.do("GET", "/api/v1/institutions/HZI001/compliance", nil, nil).json(t)["issues"].(float64)
	if r := admin.send("PUT", "/api/v1/policy/class-types/toddler_old", map[string]int{"min_months": 24, "max_months": 36, "max_children": 20, "children_per_caregiver": 3}); r.Status != http.StatusOK {
		t.Fatalf("class type: %d %s", r.Status, r.Body)
	}
	if after := admin.do("GET", "/api/v1/institutions/HZI001/compliance", nil, nil).json(t)["issues"].(float64); after <= before {
		t.Errorf("a tighter ratio changed nothing: %v → %v issues", before, after)
	}
	insp := mustLogin(t, srv, "inspector")
	if r := insp.send("PUT", "/api/v1/policy/class-types/toddler_old", map[string]int{"max_children": 99, "children_per_caregiver": 99}); r.Status != http.StatusForbidden {
		t.Errorf("inspector edits class types: %d", r.Status)
	}
	if r := insp.send("POST", "/api/v1/inspections/rounds", map[string]any{"region_code": "3301", "name": "x", "count": 1, "per_inspection": 2}); r.Status != http.StatusForbidden {
		t.Errorf("inspector draws a round: %d", r.Status)
	}
	if r := insp.send("POST", "/api/v1/policy/qualification/rules", map[string]string{"line": line}); r.Status != http.StatusForbidden {
		t.Errorf("inspector adds a rule: %d", r.Status)
	}
}

// auditForm sends a page form with the session's CSRF token.
func (c *client) auditForm(path string, values url.Values) response {
	c.tb.Helper()
	values.Set("_csrf", c.csrf)
	req, err := http.NewRequest("POST", c.base+path, strings.NewReader(values.Encode()))
	if err != nil {
		c.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.http.Do(req)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// The regulator's pages: a rule previewed shows the posts it changes; a round drawn shows its digest.
func TestRegulatorPages(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	admin := mustLogin(t, srv, "admin")
	// Revoking every caregiver qualification of 育婴员 level 5 and above would unqualify some posts.
	r := admin.auditForm("/dashboard/rules", url.Values{"action": {"preview"}, "line": {"p, qual:4-10-01-02:5, post:caregiver, qualification, deny"}})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `id="changes"`) || !strings.Contains(string(r.Body), "资质不符") {
		t.Fatalf("preview page: %d", r.Status)
	}
	// The same rule by form: post, occupation, minimum level and effect chosen, the rule said in words,
	// previewed, then saved as previewed; the list shows it in words with the line only in a detail.
	form := url.Values{"action": {"preview"}, "post": {"lead_caregiver"}, "requirement": {"certificate"}, "occupation": {"4-10-01-03"}, "level": {"3"}, "effect": {"allow"}, "region": {"3301"}}
	r = admin.auditForm("/dashboard/rules", form)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "杭州市及下辖地区 · 保育组长须持有保育师三级及以上证书") || !strings.Contains(string(r.Body), `name="previewed_line" value="p, qual:4-10-01-03:3, region:3301*, post:lead_caregiver, qualification, allow"`) {
		t.Fatalf("rule by form, preview: %d", r.Status)
	}
	form.Set("action", "add")
	form.Set("previewed_line", "p, qual:4-10-01-03:3, region:3301*, post:lead_caregiver, qualification, allow")
	form.Set("level", "1") // changed after the preview: what was previewed is saved
	if r = admin.auditForm("/dashboard/rules", form); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "规则已保存") {
		t.Fatalf("rule by form, add: %d %s", r.Status, r.Body)
	}
	rules, err := srv.App.Audits.Rules(context.Background())
	if err != nil || len(rules) == 0 || rules[len(rules)-1].Line != "p, qual:4-10-01-03:3, region:3301*, post:lead_caregiver, qualification, allow" {
		t.Fatalf("stored rules: %+v %v", rules, err)
	}
	// A rule carries its region: Ningbo's regulator may make rules for Ningbo, not for Hangzhou nor for
	// everywhere, and may not remove Hangzhou's; a region that is not in the tree is refused by name.
	nb := mustLogin(t, srv, "regulator.nb")
	hzForm := url.Values{"action": {"preview"}, "post": {"caregiver"}, "requirement": {"health"}, "effect": {"deny"}, "region": {"3301"}}
	if r := nb.auditForm("/dashboard/rules", hzForm); r.Status != http.StatusForbidden {
		t.Errorf("Ningbo previews a Hangzhou rule: %d", r.Status)
	}
	if r := nb.send("POST", "/api/v1/policy/qualification/rules", map[string]string{"line": "p, doc:health, post:cook, health, allow"}); r.Status != http.StatusForbidden {
		t.Errorf("Ningbo adds a rule everywhere: %d", r.Status)
	}
	if r := nb.send("DELETE", fmt.Sprintf("/api/v1/policy/qualification/rules/%d", rules[len(rules)-1].ID), nil); r.Status != http.StatusForbidden {
		t.Errorf("Ningbo removes a Hangzhou rule: %d", r.Status)
	}
	nbForm := url.Values{"action": {"preview"}, "post": {"caregiver"}, "requirement": {"health"}, "effect": {"allow"}, "region": {"3302"}}
	if r := nb.auditForm("/dashboard/rules", nbForm); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "宁波市及下辖地区") || !strings.Contains(string(r.Body), `id="changes"`) {
		t.Errorf("Ningbo previews a Ningbo rule: %d", r.Status)
	}
	nbForm.Set("region", "9999")
	if r := nb.auditForm("/dashboard/rules", nbForm); r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "适用地区无效") {
		t.Errorf("an unknown region: %d", r.Status)
	}
	nbForm.Set("region", "3302")
	nbForm.Set("level", "9")
	nbForm.Set("requirement", "certificate")
	nbForm.Set("occupation", "x, post:*")
	if r := nb.auditForm("/dashboard/rules", nbForm); r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "最低等级无效") || !strings.Contains(string(r.Body), "职业无效") {
		t.Errorf("a bad level and occupation: %d", r.Status)
	}
	// 10 % of Hangzhou's institutions, rounded up (the planning demo's small ones among them).
	inHangzhou := admin.do("GET", "/api/v1/indicators?region=3301", nil, nil).json(t)["region"].(map[string]any)["institutions"].(float64)
	r = admin.auditForm("/dashboard/rounds", url.Values{"name": {"页面抽查"}, "region_code": {"3301"}, "share_percent": {"10"}, "per_inspection": {"2"}})
	if drawn := fmt.Sprintf("已抽取 %d 家机构", int(math.Ceil(inHangzhou/10))); r.Status != http.StatusOK || !strings.Contains(string(r.Body), drawn) {
		t.Fatalf("round page: %d %s", r.Status, r.Body)
	}
	if r := admin.auditForm("/dashboard/rounds", url.Values{"name": {"x"}, "region_code": {"3301"}, "per_inspection": {"1"}, "count": {"1"}}); !strings.Contains(string(r.Body), "notice error") {
		t.Fatalf("one inspector per inspection accepted")
	}
}

// A certificate issued on the platform counts through the certificates domain: the demo caregiver at
// HZI001 holds her post by it, and scanning its verification code on site resolves it, verified.
func TestPlatformCertificatesReachTheAudit(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	ctx := context.Background()
	hzi, _ := srv.App.Accounts.OrganisationByCode(ctx, "HZI001")
	rep, err := srv.App.Audits.Compliance(ctx, hzi.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range rep.Assignments {
		if a.Name == "李小燕" {
			found = true
			if !a.Decision.Qualified || !strings.Contains(strings.Join(a.Decision.Matched, ";"), "qual:4-10-01-03") {
				t.Errorf("demo caregiver: %+v", a.Decision)
			}
		}
	}
	if !found {
		t.Fatal("the demo caregiver is not on HZI001's roster")
	}
	var code string
	if err := srv.Pool.QueryRow(ctx, `SELECT c.code FROM certificates c JOIN users u ON u.person_id = c.person_id WHERE u.username = 'caregiver' AND c.pdf IS NOT NULL LIMIT 1`).Scan(&code); err != nil {
		t.Skipf("no issued demo certificate to scan: %v", err)
	}
	inspector, _ := srv.App.Accounts.UserByUsername(ctx, "inspector")
	mine, _ := srv.App.Audits.InspectionsFor(ctx, inspector.ID)
	var open int64
	for _, x := range mine {
		if x.Status == "open" {
			open = x.ID
		}
	}
	sc, _, err := srv.App.Audits.RecordScan(ctx, inspector.ID, open, audits.ScanInput{ClientID: "platform-scan-1", Code: srv.URL + "/v/" + code})
	if err != nil {
		t.Fatal(err)
	}
	if !sc.Result.Known || !sc.Result.Verified || !sc.Result.OnRoster || sc.Result.Name != "李小燕" {
		t.Fatalf("scan of a platform certificate: %+v", sc.Result)
	}
}
