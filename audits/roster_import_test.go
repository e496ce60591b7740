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
	rows, err := f.svc.ParseRoster(ctx, f.org.ID, "csv", []byte(csv), testVocabulary)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{2: "", 3: "accounts.id_number_invalid", 4: "audits.import.post_invalid", 5: "audits.import.class_unknown", 6: "audits.import.date_invalid"}
	for _, r := range rows {
		if r.Error != want[r.Line] {
			t.Errorf("line %d: error %q, want %q", r.Line, r.Error, want[r.Line])
		}
	}
	if len(rows) != 5 {
		t.Fatalf("%d rows", len(rows))
	}
	for i := 0; i < 2; i++ {
		_, n, err := f.svc.ImportRoster(ctx, f.admin, f.org.ID, "csv", []byte(csv), testVocabulary)
		if err != nil || n != 1 {
			t.Fatalf("import %d: %d imported, %v", i, n, err)
		}
	}
	r, _ := f.svc.Compliance(ctx, f.org.ID, today)
	if r.Staff != 1 || len(r.Assignments) != 1 || !r.Assignments[0].Decision.Qualified {
		t.Fatalf("after import: %+v", r)
	}
	// The Excel template, filled in, imports the same way.
	tpl, err := RosterTemplate(testVocabulary, nil)
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
	rows, n, err := f.svc.ImportRoster(ctx, f.admin, f.org.ID, "xlsx", buf.Bytes(), testVocabulary)
	if err != nil || n != 1 || rows[0].Error != "" {
		t.Fatalf("xlsx: %+v %d %v", rows, n, err)
	}
	if _, err := f.svc.ParseRoster(ctx, f.org.ID, "csv", []byte("a,b\n1,2\n"), testVocabulary); err == nil || !strings.Contains(err.Error(), "bad_file") {
		t.Fatalf("a file without the columns: %v", err)
	}
}

var testVocabulary = Vocabulary{
	Posts: []Term{{Code: "caregiver", Names: []string{"保育人员", "Caregiver"}}, {Code: "director", Names: []string{"负责人", "Director"}},
		{Code: "health", Names: []string{"保健人员", "Health staff"}}, {Code: "security", Names: []string{"保安人员", "Security guard"}}},
	Occupations: []Term{{Code: "4-10-01-03", Names: []string{"保育师", "Childcare Worker"}}, {Code: "4-10-01-02", Names: []string{"育婴员", "Infant Caregiver"}}},
}

// Posts and occupations are accepted by their names in either language; every problem of a line is
// reported at once, each naming the accepted values; the template offers them as drop-downs.
func TestRosterImportSpeaksTheUsersLanguage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.class(t, "托小班", "toddler_young", 10)
	birth := time.Date(1992, 5, 6, 0, 0, 0, 0, time.UTC)
	csv := "姓名,身份证号,岗位,班级,健康证明有效期至,证书编号,证书职业,证书等级,证明材料\n" +
		"王晓梅," + SyntheticCitizenID("330106", birth, 21) + ",保育人员,托小班,2027-06-30,S9,保育师,4,复印件\n" +
		"李静," + SyntheticCitizenID("330106", birth, 22) + ",Security guard、负责人,,2027-06-30,,,,\n" +
		"张," + SyntheticCitizenID("330106", birth, 23)[:17] + "0,宇航员,火星班,2027-13-01,S10,厨师,9,\n"
	rows, err := f.svc.ParseRoster(ctx, f.org.ID, "csv", []byte(csv), testVocabulary)
	if err != nil || len(rows) != 3 {
		t.Fatalf("%+v %v", rows, err)
	}
	if len(rows[0].Problems) != 0 || strings.Join(rows[0].Staff.Posts, ",") != "caregiver" || rows[0].Cert.Occupation != "4-10-01-03" {
		t.Errorf("Chinese names: %+v %+v", rows[0], rows[0].Cert)
	}
	if len(rows[1].Problems) != 0 || strings.Join(rows[1].Staff.Posts, ",") != "security,director" {
		t.Errorf("English and Chinese names: %+v", rows[1])
	}
	var keys []string
	for _, p := range rows[2].Problems {
		keys = append(keys, p.Key)
	}
	want := []string{"accounts.name_invalid", "accounts.id_number_invalid", "audits.import.post_invalid", "audits.import.class_unknown",
		"audits.import.date_invalid", "audits.level_invalid", "audits.import.occupation_invalid", "audits.evidence_required"}
	if strings.Join(keys, " ") != strings.Join(want, " ") {
		t.Errorf("problems of the bad line:\n got %v\nwant %v", keys, want)
	}
	for _, p := range rows[2].Problems {
		if p.Key == "audits.import.post_invalid" && (p.Args[0] != "宇航员" || !strings.Contains(p.Args[1].(string), "保育人员、负责人")) {
			t.Errorf("post message args: %v", p.Args)
		}
	}
	tpl, err := RosterTemplate(testVocabulary, nil)
	if err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(bytes.NewReader(tpl))
	if err != nil {
		t.Fatal(err)
	}
	dvs, err := x.GetDataValidations(x.GetSheetName(0))
	if err != nil || len(dvs) != 3 {
		t.Fatalf("data validations: %d %v", len(dvs), err)
	}
	posts, _ := x.GetCellValue("values", "A1")
	example, _ := x.GetCellValue(x.GetSheetName(0), "D2")
	occ, _ := x.GetCellValue(x.GetSheetName(0), "I2")
	if posts != "保育人员" || example != "保育人员" || occ != "保育师" || !strings.Contains(dvs[0].Formula1, "values") {
		t.Errorf("template: values %q, example post %q occupation %q, validation %+v", posts, example, occ, dvs[0])
	}
}
