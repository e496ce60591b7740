package audits

import (
	"context"
	"errors"
	"testing"
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
