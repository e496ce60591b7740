package audits

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"shanyu/accounts"
	"shanyu/internal/clock"
)

// fakeExams answers fixed exam counts per training centre.
type fakeExams struct{ counts map[int64]ExamCount }

func (e *fakeExams) PassCounts(context.Context, time.Time, time.Time) (map[int64]ExamCount, error) {
	return e.counts, nil
}

func f64(v float64) *float64 { return &v }

// TestIndicatorsComputedByHand builds a small province (two Hangzhou districts, three institutions,
// four townships, a round, exam results) and compares every indicator with the figures worked out
// by hand in the comments.
func TestIndicatorsComputedByHand(t *testing.T) {
	t.Parallel()
	exams := &fakeExams{}
	f := newFixture(t, func(d *Deps) { d.Exams = exams })
	ctx := context.Background()
	year := clock.In(time.Now()).Year()

	// Townships: two in 西湖区 (330106), two in 上城区 (330102).
	csv := "code,name,county_code\n330106001,北山街道,330106\n330106002,西溪街道,330106\n330102001,清波街道,330102\n330102002,湖滨街道,330102\n999999001,外省街道,999999\n"
	stored, skipped, err := LoadTownships(ctx, f.pool, strings.NewReader(csv))
	if err != nil || stored != 4 || skipped != 1 {
		t.Fatalf("townships: %d stored, %d skipped, %v", stored, skipped, err)
	}
	// TI001 (from the fixture) in 330106; TI002 in 330102; TI003 in 330106 with no places filed.
	mk := func(code, region string, n int) accounts.Organisation {
		o, err := f.acc.CreateOrganisation(ctx, 0, accounts.Organisation{Kind: accounts.KindInstitution, Code: code, Name: "托育园" + code,
			RegionCode: region, CreditCode: SyntheticCreditCode(region, n), InstitutionType: "home"})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	ti2, _ := mk("TI002", "330102", 2), mk("TI003", "330106", 3)
	for _, p := range []Places{
		{OrganisationID: f.org.ID, Places: 100, Puhui: 70, Township: "330106001", Kind: "community"},
		{OrganisationID: ti2.ID, Places: 50, Puhui: 20, Township: "330102001", Kind: "home"},
	} {
		region := "330106"
		if p.OrganisationID == ti2.ID {
			region = "330102"
		}
		if err := f.svc.SetPlaces(ctx, f.admin, region, p); err != nil {
			t.Fatal(err)
		}
	}
	// Population: 330106 100,000 this year; 330102 50,000 last year (and 999,999 next year, not
	// counted); Hangzhou its own 400,000, so the province (no figure) takes Hangzhou's.
	for _, p := range []Population{
		{Region: "330106", Year: year, Population: 100_000},
		{Region: "330102", Year: year - 1, Population: 50_000},
		{Region: "330102", Year: year + 1, Population: 999_999},
		{Region: "3301", Year: year, Population: 400_000},
	} {
		if err := f.svc.SetPopulation(ctx, f.admin, p); err != nil {
			t.Fatal(err)
		}
	}
	// Staff of TI001: two qualified caregivers, one of whose certificate runs out in 30 days; one
	// caregiver without a certificate; one qualified caregiver who is barred.
	f.staff(t, f.org.ID, "保育员甲", "4-10-01-03", 4, []string{"caregiver"}, "")
	soon := f.staff(t, f.org.ID, "保育员乙", "", 0, []string{"caregiver"}, "")
	if _, err := f.svc.RecordExternalCertificate(ctx, f.admin, ExternalCert{OrganisationID: f.org.ID, PersonID: soon.PersonID,
		Number: "CERT-SOON", Occupation: "4-10-01-03", Level: 4, ExpiresOn: today.AddDate(0, 0, 30), Evidence: "复印件"}); err != nil {
		t.Fatal(err)
	}
	f.staff(t, f.org.ID, "无证人员", "", 0, []string{"caregiver"}, "")
	barred := f.staff(t, f.org.ID, "被禁人员", "4-10-01-03", 4, []string{"caregiver"}, "")
	if _, err := f.svc.RecordBar(ctx, f.admin, Bar{PersonID: barred.PersonID, LegalBasis: "《未成年人保护法》第六十二条", Authority: "法院", StartsOn: today.AddDate(-1, 0, 0), Evidence: "判决书"}); err != nil {
		t.Fatal(err)
	}
	// A round of Hangzhou, finished: TI001 passed, TI002 failed. A round of 330106 still open.
	var done, open int64
	if err := f.pool.QueryRow(ctx, `INSERT INTO audit_rounds (region_code, name, seed, target_count, per_inspection, input, input_digest, created_by)
		VALUES ('3301', '全市', 1, 2, 2, '{}', 'x', $1) RETURNING id`, f.admin).Scan(&done); err != nil {
		t.Fatal(err)
	}
	if err := f.pool.QueryRow(ctx, `INSERT INTO audit_rounds (region_code, name, seed, target_count, per_inspection, input, input_digest, created_by)
		VALUES ('330106', '西湖', 2, 1, 2, '{}', 'y', $1) RETURNING id`, f.admin).Scan(&open); err != nil {
		t.Fatal(err)
	}
	if _, err := f.pool.Exec(ctx, `INSERT INTO audit_inspections (round_id, organisation_id, status, passed, finished_at) VALUES
		($1, $3, 'finished', true, now()), ($1, $4, 'finished', false, now()), ($2, $3, 'open', NULL, NULL)`, done, open, f.org.ID, ti2.ID); err != nil {
		t.Fatal(err)
	}
	// Exams: a centre in 330106 with 10 sat, 7 passed; one in 3301 itself with 5 sat, 5 passed.
	c1, err := f.acc.CreateOrganisation(ctx, 0, accounts.Organisation{Kind: accounts.KindTrainingCentre, Code: "TC1", Name: "培训一", RegionCode: "330106"})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := f.acc.CreateOrganisation(ctx, 0, accounts.Organisation{Kind: accounts.KindTrainingCentre, Code: "TC2", Name: "培训二", RegionCode: "3301"})
	if err != nil {
		t.Fatal(err)
	}
	exams.counts = map[int64]ExamCount{c1.ID: {Sat: 10, Passed: 7}, c2.ID: {Sat: 5, Passed: 5}}
	if err := f.svc.SetTargets(ctx, f.admin, IndicatorTargets{Year: year, PlacesPer1000: 5, PuhuiShare: 0.65, TownshipCoverage: 0.9, QualifiedRatio: 0.95}); err != nil {
		t.Fatal(err)
	}

	table, err := f.svc.Indicators(ctx, "3301", year)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(IndicatorTargets{Year: year, PlacesPer1000: 5, PuhuiShare: 0.65, TownshipCoverage: 0.9, QualifiedRatio: 0.95}, table.Targets); d != "" {
		t.Errorf("targets (-want +got):\n%s", d)
	}
	// 西湖区: 100 places (70 普惠) for 100,000 people → 1.0 per 1,000, 0.7; 1 of 2 townships; two
	// institutions; 4 posts of which 2 qualified (甲 and 乙; neither the one without a certificate
	// nor the barred one); 3 certified people (甲, 乙 and the barred one), 1 certificate within 60
	// days; the open round is not done; the one inspection of the year in 330106 passed; 10 sat, 7 passed.
	xihu := IndicatorRow{Code: "330106", Name: "西湖区", Level: "county", Population: 100_000, PopulationYear: year,
		Places: 100, PuhuiPlaces: 70, PlacesPer1000: f64(1), PuhuiShare: f64(0.7),
		Townships: 2, TownshipsCovered: 1, TownshipCoverage: f64(0.5), Institutions: 2,
		Posts: 4, PostsQualified: 2, QualifiedRatio: f64(0.5), CertifiedStaff: 3, Expiring60d: 1,
		Inspections: 1, InspectionsPassed: 1, InspectionPassRate: f64(1), BarredOnRosters: 1,
		ExamSat: 10, ExamPassed: 7, ExamPassRate: f64(0.7)}
	// 上城区: 50 places (20 普惠) for last year's 50,000 → 1.0 and 0.4; 1 of 2 townships; no staff; one
	// failed inspection.
	shangcheng := IndicatorRow{Code: "330102", Name: "上城区", Level: "county", Population: 50_000, PopulationYear: year - 1,
		Places: 50, PuhuiPlaces: 20, PlacesPer1000: f64(1), PuhuiShare: f64(0.4),
		Townships: 2, TownshipsCovered: 1, TownshipCoverage: f64(0.5), Institutions: 1,
		Inspections: 1, InspectionPassRate: f64(0)}
	// 杭州市: its own 400,000; 150 places → 0.375 per 1,000, 90/150 = 0.6 普惠; 2 of 4 townships; the
	// finished round; 2 inspections, 1 passed; 15 sat, 12 passed.
	hangzhou := IndicatorRow{Code: "3301", Name: "杭州市", Level: "city", HasChildren: true, Population: 400_000, PopulationYear: year,
		Places: 150, PuhuiPlaces: 90, PlacesPer1000: f64(0.375), PuhuiShare: f64(0.6),
		Townships: 4, TownshipsCovered: 2, TownshipCoverage: f64(0.5), Institutions: 3,
		Posts: 4, PostsQualified: 2, QualifiedRatio: f64(0.5), CertifiedStaff: 3, Expiring60d: 1,
		RoundsDone: 1, Inspections: 2, InspectionsPassed: 1, InspectionPassRate: f64(0.5), BarredOnRosters: 1,
		ExamSat: 15, ExamPassed: 12, ExamPassRate: f64(0.8)}
	if d := cmp.Diff(hangzhou, table.Region); d != "" {
		t.Errorf("Hangzhou (-want +got):\n%s", d)
	}
	got := map[string]IndicatorRow{}
	for _, r := range table.Rows {
		got[r.Code] = r
	}
	for _, want := range []IndicatorRow{xihu, shangcheng} {
		if d := cmp.Diff(want, got[want.Code]); d != "" {
			t.Errorf("%s (-want +got):\n%s", want.Code, d)
		}
	}
	if len(table.Rows) < 10 {
		t.Errorf("Hangzhou has %d districts in the table, want every one (with zeros)", len(table.Rows))
	}
	// The province has no figure of its own: it takes Hangzhou's (the only city with one).
	zj, err := f.svc.Indicators(ctx, "33", year)
	if err != nil {
		t.Fatal(err)
	}
	if zj.Region.Population != 400_000 || zj.Region.Places != 150 || *zj.Region.PlacesPer1000 != 0.375 || zj.Region.RoundsDone != 1 {
		t.Errorf("province: %+v", zj.Region)
	}
	if _, err := f.svc.Indicators(ctx, "9999", year); err != ErrNotFound {
		t.Errorf("unknown region: %v, want ErrNotFound", err)
	}
}
