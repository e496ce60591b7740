package audits

import (
	"context"
	"errors"
	"testing"
)

// TestTownshipUploadNamesBadLinesAndReplacesInOneTransaction: a file with bad lines stores nothing
// and names each; an addition keeps the list; a replacement removes what the file leaves out except a
// township an institution's places are filed in; every commit is audited.
func TestTownshipUploadNamesBadLinesAndReplacesInOneTransaction(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	count := func() (n int) {
		t.Helper()
		if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM audit_townships`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	bad := "code,name,county_code\n330106001,北山街道,330106\n33010600X,坏代码,330106\n330102001,,330102\n330106001,重复,330106\n330102002,错县,330106\n330102003,无县,999999\n"
	p, err := f.svc.ImportTownships(ctx, f.admin, "csv", []byte(bad), false)
	if !errors.Is(err, ErrPlanProblems) || count() != 0 {
		t.Fatalf("a bad file: %v, %d townships stored", err, count())
	}
	want := map[int]string{3: "township_code", 4: "township_name", 5: "township_code", 6: "township_code", 7: "county_code"}
	for _, r := range p.Rows {
		if field, ok := want[r.Line]; ok != (len(r.Problems) > 0) || ok && r.Problems[0].Field != field {
			t.Errorf("line %d: %+v (want a problem in %q)", r.Line, r.Problems, field)
		}
	}
	good := "code,name,county_code\n330106001,北山街道,330106\n330106002,西溪街道,330106\n330102001,清波街道,330102\n"
	if p, err := f.svc.ImportTownships(ctx, f.admin, "csv", []byte(good), false); err != nil || p.Stored != 3 || count() != 3 {
		t.Fatalf("an addition: %+v %v", p, err)
	}
	if err := f.svc.SetPlaces(ctx, f.admin, "330106", Places{OrganisationID: f.org.ID, Places: 10, Township: "330106002", Kind: "community"}); err != nil {
		t.Fatal(err)
	}
	repl := "code,name,county_code\n330106001,北山街道（新）,330106\n"
	if p, err := f.svc.ParseTownships(ctx, "csv", []byte(repl), true); err != nil || p.Removed != 1 || p.Kept != 1 {
		t.Fatalf("replacement preview: %+v %v", p, err)
	}
	p, err = f.svc.ImportTownships(ctx, f.admin, "csv", []byte(repl), true)
	if err != nil || p.Stored != 1 || p.Removed != 1 || p.Kept != 1 || count() != 2 {
		t.Fatalf("replacement: %+v %v, %d left", p, err, count())
	}
	var name string
	if err := f.pool.QueryRow(ctx, `SELECT name FROM audit_townships WHERE code = '330106001'`).Scan(&name); err != nil || name != "北山街道（新）" {
		t.Errorf("renamed: %q %v", name, err)
	}
	var audited int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'planning.townships'`).Scan(&audited); err != nil || audited != 2 {
		t.Errorf("audited %d times (%v), want 2", audited, err)
	}
}
