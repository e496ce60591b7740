package audits

import (
	"context"
	"errors"
	"testing"
	"time"
)

var testPDF = []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

// Background checks per staff member: a missing or year-old check is flagged, a check that found a
// record is a fault, the document is typed by its content, a post may require a check through the
// policy, and a barred person stays denied whatever their checks say.
func TestBackgroundChecksAreFlaggedRequiredAndNeverOverrideABar(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	m := f.staff(t, f.org.ID, "周保育", "4-10-01-03", 4, []string{"caregiver"}, "")
	reasons := func() map[string]string {
		t.Helper()
		r, err := f.svc.Compliance(ctx, f.org.ID, today)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, ci := range r.CheckIssues {
			out[ci.Kind] = ci.Reason
		}
		return out
	}
	if got := reasons(); got[CheckNoCriminalRecord] != "missing" || got[CheckEmploymentBan] != "missing" {
		t.Fatalf("no checks on file: %v", got)
	}
	if _, err := f.svc.RecordCheck(ctx, f.admin, f.org.ID, m.ID, CheckEmploymentBan, today, "clear", []byte("just some text")); err == nil {
		t.Fatal("a text document accepted")
	}
	if _, err := f.svc.RecordCheck(ctx, f.admin, f.org.ID, m.ID, CheckEmploymentBan, today.AddDate(-1, -1, 0), "clear", testPDF); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RecordCheck(ctx, f.admin, f.org.ID, m.ID, CheckNoCriminalRecord, today.AddDate(0, -2, 0), "clear", testImage(t, "png")); err != nil {
		t.Fatal(err)
	}
	if got := reasons(); got[CheckEmploymentBan] != "outdated" || got[CheckNoCriminalRecord] != "" {
		t.Fatalf("an old and a recent check: %v", got)
	}
	// The policy may require the yearly 从业禁止 query for caregivers: the outdated one does not count.
	if _, err := f.svc.AddRule(ctx, f.admin, "p, check:employment_ban, post:caregiver, background_check, allow", "托育服务法（草案）"); err != nil {
		t.Fatal(err)
	}
	r, _ := f.svc.Compliance(ctx, f.org.ID, today)
	if r.Assignments[0].Decision.Qualified {
		t.Fatalf("caregiver qualified without a current 从业禁止 query: %+v", r.Assignments[0].Decision)
	}
	if _, err := f.svc.RecordCheck(ctx, f.admin, f.org.ID, m.ID, CheckEmploymentBan, today, "clear", testPDF); err != nil {
		t.Fatal(err)
	}
	if r, _ = f.svc.Compliance(ctx, f.org.ID, today); !r.Assignments[0].Decision.Qualified || len(r.CheckIssues) != 0 {
		t.Fatalf("after a current query: %+v %v", r.Assignments[0].Decision, r.CheckIssues)
	}
	// A check that found a record is a fault.
	if _, err := f.svc.RecordCheck(ctx, f.admin, f.org.ID, m.ID, CheckNoCriminalRecord, today, "record_found", testPDF); err != nil {
		t.Fatal(err)
	}
	if r, _ = f.svc.Compliance(ctx, f.org.ID, today); r.Compliant() || r.RecordsFound() != 1 {
		t.Fatalf("record found: compliant %v, %v", r.Compliant(), r.CheckIssues)
	}
	// Barred: clear, current checks change nothing.
	if _, err := f.svc.RecordCheck(ctx, f.admin, f.org.ID, m.ID, CheckNoCriminalRecord, today, "clear", testPDF); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RecordBar(ctx, f.admin, Bar{PersonID: m.PersonID, LegalBasis: "《未成年人保护法》第六十二条", Authority: "法院", StartsOn: today.AddDate(-1, 0, 0), Evidence: "判决书"}); err != nil {
		t.Fatal(err)
	}
	if r, _ = f.svc.Compliance(ctx, f.org.ID, today); r.Assignments[0].Decision.Qualified || len(r.BarredOnRoster) != 1 {
		t.Fatalf("a barred person with clear checks: %+v", r.Assignments[0].Decision)
	}
	// The document comes back for this institution only.
	checks, _ := f.svc.Checks(ctx, f.org.ID)
	if _, ct, err := f.svc.CheckDocument(ctx, f.org.ID, checks[m.ID][0].ID); err != nil || ct != "application/pdf" {
		t.Fatalf("document: %s %v", ct, err)
	}
	other := f.institution(t, 2)
	if _, _, err := f.svc.CheckDocument(ctx, other.ID, checks[m.ID][0].ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another institution's check document: %v", err)
	}
}

// A background check the policy requires for a post fails compliance and the inspection when it is
// missing or older than 12 months: the issue is marked required, counted as a fault and the decision
// says why (outdated, with the date); a flagged check no rule requires stays a warning.
func TestRequiredBackgroundCheckFailsComplianceWhenMissingOrOutdated(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	m := f.staff(t, f.org.ID, "吴保育", "4-10-01-03", 4, []string{"caregiver"}, "")
	f.staff(t, f.org.ID, "园长", "director-training", 5, []string{"director"}, "")
	f.staff(t, f.org.ID, "保安", "security-guard", 5, []string{"security"}, "")
	clearAll := func(rosterID int64, on time.Time) {
		t.Helper()
		for _, k := range RequiredChecks {
			if _, err := f.svc.RecordCheck(ctx, f.admin, f.org.ID, rosterID, k, on, "clear", testPDF); err != nil {
				t.Fatal(err)
			}
		}
	}
	roster, err := f.svc.Roster(ctx, f.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roster {
		clearAll(r.ID, today.AddDate(0, -1, 0))
	}
	r, err := f.svc.Compliance(ctx, f.org.ID, today)
	if err != nil || !r.Compliant() || r.CheckFaults() != 0 {
		t.Fatalf("every check current, no rule: compliant=%v faults=%d %v %+v", r.Compliant(), r.CheckFaults(), err, r.CheckIssues)
	}
	// Without a rule, a year-old check is a flag: a warning, not a fault.
	if _, err := f.svc.RecordCheck(ctx, f.admin, f.org.ID, m.ID, CheckEmploymentBan, today.AddDate(-1, -2, 0), "clear", testPDF); err != nil {
		t.Fatal(err)
	}
	// (the newest check of a kind counts: the recent one goes, so the old one is the latest)
	if _, err := f.pool.Exec(ctx, `DELETE FROM audit_background_checks WHERE roster_id = $1 AND kind = $2 AND checked_on > $3`, m.ID, CheckEmploymentBan, today.AddDate(0, -6, 0)); err != nil {
		t.Fatal(err)
	}
	if r, _ = f.svc.Compliance(ctx, f.org.ID, today); !r.Compliant() || len(r.CheckIssues) != 1 || r.CheckIssues[0].Required || r.CheckIssues[0].Fault() {
		t.Fatalf("an outdated check no rule requires: compliant=%v %+v", r.Compliant(), r.CheckIssues)
	}
	// The policy requires the yearly 从业禁止 query of caregivers (in this region): now a fault.
	if _, err := f.svc.AddRule(ctx, f.admin, "p, check:employment_ban, region:3301*, post:caregiver, background_check, allow", "托育服务法（草案）"); err != nil {
		t.Fatal(err)
	}
	r, _ = f.svc.Compliance(ctx, f.org.ID, today)
	if r.Compliant() || r.CheckFaults() != 1 || !r.CheckIssues[0].Required || r.CheckIssues[0].Reason != "outdated" {
		t.Fatalf("a required outdated check: compliant=%v faults=%d %+v", r.Compliant(), r.CheckFaults(), r.CheckIssues)
	}
	var gap Gap
	for _, a := range r.Assignments {
		if a.RosterID == m.ID {
			for _, g := range a.Decision.Gaps {
				gap = g
			}
		}
	}
	if gap.Reason != "outdated" || gap.Detail != today.AddDate(-1, -2, 0).Format("2006-01-02") {
		t.Fatalf("the decision's gap: %+v", gap)
	}
	// Missing altogether: also a fault.
	if _, err := f.pool.Exec(ctx, `DELETE FROM audit_background_checks WHERE roster_id = $1 AND kind = $2`, m.ID, CheckEmploymentBan); err != nil {
		t.Fatal(err)
	}
	if r, _ = f.svc.Compliance(ctx, f.org.ID, today); r.Compliant() || r.CheckFaults() != 1 || r.CheckIssues[0].Reason != "missing" || !r.CheckIssues[0].Required {
		t.Fatalf("a required missing check: compliant=%v %+v", r.Compliant(), r.CheckIssues)
	}
	// The inspection's verdict counts it: checks_required among the faults.
	insp := f.user(t, "insp-a", "inspector", "region:3301")
	f.user(t, "insp-b", "inspector", "region:3301")
	if _, err := f.svc.CreateRound(ctx, f.admin, RoundInput{RegionCode: "330106", Name: "背景核查", Count: 1, PerInspection: 2, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	xs, err := f.svc.InspectionsFor(ctx, insp)
	if err != nil || len(xs) != 1 {
		t.Fatalf("%v %v", xs, err)
	}
	x, err := f.svc.Inspection(ctx, xs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.svc.Assess(ctx, x, today)
	if err != nil {
		t.Fatal(err)
	}
	if a.Passed || !contains(a.Faults, "checks_required") {
		t.Fatalf("inspection verdict: passed=%v faults=%v", a.Passed, a.Faults)
	}
	// A current clear query clears it; a bar still denies whatever the checks say.
	if _, err := f.svc.RecordCheck(ctx, f.admin, f.org.ID, m.ID, CheckEmploymentBan, today, "clear", testPDF); err != nil {
		t.Fatal(err)
	}
	if r, _ = f.svc.Compliance(ctx, f.org.ID, today); !r.Compliant() {
		t.Fatalf("after a current query: %+v %v", r.CheckIssues, r.MissingPosts)
	}
	if _, err := f.svc.RecordBar(ctx, f.admin, Bar{PersonID: m.PersonID, LegalBasis: "《未成年人保护法》第六十二条", Authority: "法院", StartsOn: today.AddDate(-1, 0, 0), Evidence: "判决书"}); err != nil {
		t.Fatal(err)
	}
	if r, _ = f.svc.Compliance(ctx, f.org.ID, today); r.Compliant() || len(r.BarredOnRoster) != 1 {
		t.Fatalf("barred with every check clear and current: compliant=%v", r.Compliant())
	}
}
