package audits

import (
	"context"
	"testing"
)

// TestConductOfReadsBarsAndBackgroundChecks: a person's conduct is clear until a background check
// finds a record, clear again once a later check is clear, and not clear while a bar is in force.
func TestConductOfReadsBarsAndBackgroundChecks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	m := f.staff(t, f.org.ID, "吴保育", "4-10-01-03", 4, []string{"caregiver"}, "")
	conduct := func() Conduct {
		t.Helper()
		c, err := f.svc.ConductOf(ctx, m.PersonID, today)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := conduct(); !c.Clear() {
		t.Fatalf("no records: %+v, want clear", c)
	}
	if _, err := f.svc.RecordCheck(ctx, f.admin, f.org.ID, m.ID, CheckNoCriminalRecord, today.AddDate(0, -1, 0), "record_found", testPDF); err != nil {
		t.Fatal(err)
	}
	if c := conduct(); c.Clear() || !c.RecordFound {
		t.Fatalf("a check found a record: %+v", c)
	}
	if _, err := f.svc.RecordCheck(ctx, f.admin, f.org.ID, m.ID, CheckNoCriminalRecord, today, "clear", testPDF); err != nil {
		t.Fatal(err)
	}
	if c := conduct(); !c.Clear() {
		t.Fatalf("a later clear check: %+v, want clear", c)
	}
	// A health check is no conduct record.
	if _, err := f.svc.RecordCheck(ctx, f.admin, f.org.ID, m.ID, CheckHealth, today, "record_found", testPDF); err != nil {
		t.Fatal(err)
	}
	if c := conduct(); !c.Clear() {
		t.Fatalf("a health finding: %+v, want clear", c)
	}
	if _, err := f.svc.RecordBar(ctx, f.admin, Bar{PersonID: m.PersonID, LegalBasis: "《未成年人保护法》第六十二条", Authority: "法院",
		StartsOn: today.AddDate(0, 0, 1), Evidence: "判决书"}); err != nil {
		t.Fatal(err)
	}
	if c := conduct(); !c.Clear() {
		t.Fatalf("a bar starting tomorrow: %+v, want clear today", c)
	}
	if c, err := f.svc.ConductOf(ctx, m.PersonID, today.AddDate(0, 0, 1)); err != nil || !c.Barred {
		t.Fatalf("the day the bar starts: %+v, %v; want barred", c, err)
	}
}
