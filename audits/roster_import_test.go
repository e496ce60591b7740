package audits

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

func TestRosterImportNamesBadRowsAndIsIdempotent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.class(t, "托小班", "toddler_young", 10)
	birth := time.Date(1991, 3, 4, 0, 0, 0, 0, time.UTC)
	good1, good2 := SyntheticCitizenID("330106", birth, 11), SyntheticCitizenID("330106", birth, 12)
	bad := good1[:17] + map[bool]string{true: "1", false: "2"}[good1[17] != '1']
	csv := "姓名,身份证号,岗位,班级,健康证明有效期至,无犯罪记录证明开具日期,证书编号,证书职业,证书等级,证书有效期至,证明材料\n" +
		"王晓梅," + good1 + ",caregiver,托小班,2027-06-30,2026-05-01,S1,4-10-01-03,4,2029-06-30,复印件\n" +
		"李静," + bad + ",caregiver,托小班,,,,,,,\n" +
		"张敏," + good2 + ",astronaut,,,,,,,,\n" +
		"赵丽," + SyntheticCitizenID("330106", birth, 13) + ",caregiver,火星班,,,,,,,\n" +
		"陈红," + SyntheticCitizenID("330106", birth, 14) + ",security,,2027-13-01,,,,,,\n"
	rows, err := f.svc.ParseRoster(ctx, f.org.ID, "csv", []byte(csv))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{2: "", 3: "accounts.id_number_invalid", 4: "audits.post_invalid", 5: "audits.class_unknown", 6: "audits.date_invalid"}
	for _, r := range rows {
		if r.Error != want[r.Line] {
			t.Errorf("line %d: error %q, want %q", r.Line, r.Error, want[r.Line])
		}
	}
	if len(rows) != 5 {
		t.Fatalf("%d rows", len(rows))
	}
	for i := 0; i < 2; i++ {
		_, n, err := f.svc.ImportRoster(ctx, f.admin, f.org.ID, "csv", []byte(csv))
		if err != nil || n != 1 {
			t.Fatalf("import %d: %d imported, %v", i, n, err)
		}
	}
	r, _ := f.svc.Compliance(ctx, f.org.ID, today)
	if r.Staff != 1 || len(r.Assignments) != 1 || !r.Assignments[0].Decision.Qualified {
		t.Fatalf("after import: %+v", r)
	}
	// The Excel template, filled in, imports the same way.
	tpl, err := RosterTemplate()
	if err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(bytes.NewReader(tpl))
	if err != nil {
		t.Fatal(err)
	}
	sheet := x.GetSheetName(0)
	_ = x.SetCellValue(sheet, "C2", good2)
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		t.Fatal(err)
	}
	rows, n, err := f.svc.ImportRoster(ctx, f.admin, f.org.ID, "xlsx", buf.Bytes())
	if err != nil || n != 1 || rows[0].Error != "" {
		t.Fatalf("xlsx: %+v %d %v", rows, n, err)
	}
	if _, err := f.svc.ParseRoster(ctx, f.org.ID, "csv", []byte("a,b\n1,2\n")); err == nil || !strings.Contains(err.Error(), "bad_file") {
		t.Fatalf("a file without the columns: %v", err)
	}
}
