package server_test

import (
	"bytes"
	"net/http"
	"strconv"
	"testing"
	"time"

	"shanyu/internal/servertest"
)

// The institution records a staff member's background check with its document on the compliance
// page; the document is typed by content (text refused, a PDF kept), served back as what it is, and
// the flags of missing checks go once both yearly checks are on file.
func TestBackgroundChecksOnTheCompliancePage(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	inst := mustLogin(t, srv, "institution")
	hzi, _ := srv.App.Accounts.OrganisationByCode(t.Context(), "HZI001")
	roster, err := srv.App.Audits.Roster(t.Context(), hzi.ID)
	if err != nil || len(roster) == 0 {
		t.Fatal(err)
	}
	rid := strconv.FormatInt(roster[0].ID, 10)
	page := inst.do("GET", "/institutions/HZI001/compliance", nil, nil)
	if !bytes.Contains(page.Body, []byte(`id="checks"`)) || !bytes.Contains(page.Body, []byte("未核查")) {
		t.Fatalf("compliance page without the checks' flags: %d", page.Status)
	}
	fields := map[string]string{"_csrf": inst.csrf, "roster_id": rid, "kind": "employment_ban", "checked_on": "2026-11-20", "result": "clear"}
	r := inst.multipart("/institutions/HZI001/checks", fields, "document", "scan.txt", []byte("not a document"), nil)
	if !bytes.Contains(r.Body, []byte("证明文件只接受")) {
		t.Errorf("a text document: %d, no message", r.Status)
	}
	pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	for _, kind := range []string{"employment_ban", "no_criminal_record"} {
		fields["kind"] = kind
		if r := inst.multipart("/institutions/HZI001/checks", fields, "document", "check.pdf", pdf, nil); !bytes.Contains(r.Body, []byte("核查已记录")) || bytes.Contains(r.Body, []byte("%!")) {
			t.Fatalf("record %s: %d", kind, r.Status)
		}
	}
	checks, _ := srv.App.Audits.Checks(t.Context(), hzi.ID)
	if len(checks[roster[0].ID]) != 2 {
		t.Fatalf("checks stored: %+v", checks[roster[0].ID])
	}
	doc := inst.do("GET", "/institutions/HZI001/checks/"+strconv.FormatInt(checks[roster[0].ID][0].ID, 10)+"/document", nil, nil)
	if doc.Status != http.StatusOK || doc.Header.Get("Content-Type") != "application/pdf" || doc.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("document: %d %s", doc.Status, doc.Header.Get("Content-Type"))
	}
	rep, _ := srv.App.Audits.Compliance(t.Context(), hzi.ID, time.Now())
	for _, ci := range rep.CheckIssues {
		if ci.RosterID == roster[0].ID {
			t.Errorf("still flagged after both checks: %+v", ci)
		}
	}
	// Once a rule of the region requires the yearly 从业禁止 query for every post, a member without one
	// is a fault in the compliance answer: required, counted, not compliant.
	admin := mustLogin(t, srv, "admin")
	if r := admin.send("POST", "/api/v1/policy/qualification/rules", map[string]string{"line": "p, check:employment_ban, region:3301*, post:*, background_check, allow"}); r.Status != http.StatusOK {
		t.Fatalf("rule: %d %s", r.Status, r.Body)
	}
	c := inst.do("GET", "/api/v1/institutions/HZI001/compliance", nil, nil).json(t)
	faults := 0
	for _, x := range c["background_check_issues"].([]any) {
		ci := x.(map[string]any)
		if ci["roster_id"] == float64(roster[0].ID) {
			t.Errorf("the member with a current query is flagged: %v", ci)
		}
		if ci["kind"] == "employment_ban" && ci["reason"] == "missing" && ci["required"] == true && ci["fault"] == true {
			faults++
		}
	}
	if c["compliant"] != false || faults != len(roster)-1 {
		t.Errorf("with the rule: compliant %v, %d required missing queries for %d members without one", c["compliant"], faults, len(roster)-1)
	}
}
