package audits

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/accounts"
	"shanyu/internal/clock"
	"shanyu/internal/failure"
)

// ExamResults is what the indicators need from the exams domain: per training centre, the results
// published in [from, to) and how many passed. app wires an adapter; the audit never reads exam tables.
type ExamResults interface {
	PassCounts(ctx context.Context, from, to time.Time) (map[int64]ExamCount, error)
}

// ExamCount is one training centre's published results.
type ExamCount struct{ Sat, Passed int }

// IndicatorRow is one region's indicators of the plan (一张网).
type IndicatorRow struct {
	Code           string `json:"code"`  // region short code
	Name           string `json:"name"`  // in Chinese
	Level          string `json:"level"` // province, city or county
	HasChildren    bool   `json:"has_children"`
	Population     int64  `json:"population"`
	PopulationYear int    `json:"population_year"`
	// PopulationDemo marks a population made up for the demo.
	PopulationDemo     bool     `json:"population_demo"`
	Places             int      `json:"places"`
	PuhuiPlaces        int      `json:"puhui_places"`
	PlacesPer1000      *float64 `json:"places_per_1000"` // nil when the denominator is 0
	PuhuiShare         *float64 `json:"puhui_share"`
	Townships          int      `json:"townships"`
	TownshipsCovered   int      `json:"townships_covered"`
	TownshipCoverage   *float64 `json:"township_coverage"`
	Institutions       int      `json:"institutions"`
	Posts              int      `json:"posts"`
	PostsQualified     int      `json:"posts_qualified"`
	QualifiedRatio     *float64 `json:"qualified_ratio"`
	CertifiedStaff     int      `json:"certified_staff"`
	Expiring60d        int      `json:"expiring_60d"`
	RoundsDone         int      `json:"rounds_done"`
	Inspections        int      `json:"inspections"`
	InspectionsPassed  int      `json:"inspections_passed"`
	InspectionPassRate *float64 `json:"inspection_pass_rate"`
	BarredOnRosters    int      `json:"barred_on_rosters"`
	ExamSat            int      `json:"exam_sat"`
	ExamPassed         int      `json:"exam_passed"`
	ExamPassRate       *float64 `json:"exam_pass_rate"`
}

// IndicatorTargets are the plan's targets for a year (data, editable).
type IndicatorTargets struct {
	Year             int     `json:"year"`
	PlacesPer1000    float64 `json:"places_per_1000"`
	PuhuiShare       float64 `json:"puhui_share"`
	TownshipCoverage float64 `json:"township_coverage"`
	QualifiedRatio   float64 `json:"qualified_ratio"`
}

// IndicatorTable is a region's indicators and those of the regions directly below it.
type IndicatorTable struct {
	Region  IndicatorRow     `json:"region"`
	Rows    []IndicatorRow   `json:"rows"`
	Year    int              `json:"year"`
	Targets IndicatorTargets `json:"targets"`
	AsOf    time.Time        `json:"as_of"`
}

// TrendPoint is one month of an indicator ("2026-01").
type TrendPoint struct {
	Month string   `json:"month"`
	Value *float64 `json:"value"`
}

// ExpiringWindow is how far ahead a valid certificate counts as expiring.
const ExpiringWindow = 60 * 24 * time.Hour

// Indicator names, as the trend and the snapshots know them, with how each is read from a row.
var indicatorValues = map[string]func(IndicatorRow) *float64{
	"places_per_1000":      func(r IndicatorRow) *float64 { return r.PlacesPer1000 },
	"puhui_share":          func(r IndicatorRow) *float64 { return r.PuhuiShare },
	"township_coverage":    func(r IndicatorRow) *float64 { return r.TownshipCoverage },
	"qualified_ratio":      func(r IndicatorRow) *float64 { return r.QualifiedRatio },
	"inspection_pass_rate": func(r IndicatorRow) *float64 { return r.InspectionPassRate },
	"exam_pass_rate":       func(r IndicatorRow) *float64 { return r.ExamPassRate },
	"places":               func(r IndicatorRow) *float64 { return count(r.Places) },
	"puhui_places":         func(r IndicatorRow) *float64 { return count(r.PuhuiPlaces) },
	"institutions":         func(r IndicatorRow) *float64 { return count(r.Institutions) },
	"certified_staff":      func(r IndicatorRow) *float64 { return count(r.CertifiedStaff) },
	"expiring_60d":         func(r IndicatorRow) *float64 { return count(r.Expiring60d) },
	"barred_on_rosters":    func(r IndicatorRow) *float64 { return count(r.BarredOnRosters) },
	"inspections":          func(r IndicatorRow) *float64 { return count(r.Inspections) },
}

// Value is the row's indicator of that name (as the trend and the snapshots know it), nil where the
// name is unknown or the indicator has no denominator.
func (r IndicatorRow) Value(name string) *float64 {
	if value, ok := indicatorValues[name]; ok {
		return value(r)
	}
	return nil
}

// Indicators lists the indicator names the trend accepts, sorted.
func IndicatorNames() []string {
	out := make([]string, 0, len(indicatorValues))
	for k := range indicatorValues {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ErrIndicatorUnknown is a trend asked of an indicator that does not exist.
var ErrIndicatorUnknown = failure.New(failure.Invalid, "audits.indicator_unknown")

func count(n int) *float64 { f := float64(n); return &f }

func ratio(num, den float64) *float64 {
	if den == 0 {
		return nil
	}
	f := num / den
	return &f
}

func regionLevel(code string) string {
	switch len(code) {
	case 2:
		return "province"
	case 4:
		return "city"
	}
	return "county"
}

// Indicators computes the indicators of region and of each region directly below it for a year
// (0: the current year in the product's zone). Places, townships and staff are as they stand now;
// population is the latest figure at or before the year; inspections and exam results are those of
// the year.
func (s *Service) Indicators(ctx context.Context, region string, year int) (IndicatorTable, error) {
	now := time.Now()
	if year == 0 {
		year = clock.In(now).Year()
	}
	all, err := s.indicatorRows(ctx, year, now)
	if err != nil {
		return IndicatorTable{}, err
	}
	top, ok := all[region]
	if !ok {
		return IndicatorTable{}, ErrNotFound
	}
	t := IndicatorTable{Region: *top, Rows: []IndicatorRow{}, Year: year, AsOf: now}
	for _, r := range sortedRows(all) {
		if parentOf(r.Code) == region {
			t.Rows = append(t.Rows, r)
		}
	}
	if t.Targets, err = s.Targets(ctx, year); err != nil {
		return IndicatorTable{}, err
	}
	return t, nil
}

// IndicatorsBelow gives region and every region below it, in code order (the exports).
func (s *Service) IndicatorsBelow(ctx context.Context, region string, year int) ([]IndicatorRow, error) {
	now := time.Now()
	if year == 0 {
		year = clock.In(now).Year()
	}
	all, err := s.indicatorRows(ctx, year, now)
	if err != nil {
		return nil, err
	}
	if _, ok := all[region]; !ok {
		return nil, ErrNotFound
	}
	var out []IndicatorRow
	for _, r := range sortedRows(all) {
		if accounts.Contains(region, r.Code) {
			out = append(out, r)
		}
	}
	return out, nil
}

func sortedRows(all map[string]*IndicatorRow) []IndicatorRow {
	out := make([]IndicatorRow, 0, len(all))
	for _, r := range all {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// parentOf is the region one level up: 330106 → 3301 → 33 → "".
func parentOf(code string) string {
	if len(code) <= 2 {
		return ""
	}
	return code[:len(code)-2]
}

// Targets are the plan's targets for year: its own row, else the latest earlier one, else the
// earliest there is (0: the current year).
func (s *Service) Targets(ctx context.Context, year int) (IndicatorTargets, error) {
	if year == 0 {
		year = clock.In(time.Now()).Year()
	}
	var t IndicatorTargets
	err := s.db.QueryRow(ctx, `SELECT year, places_per_1000, puhui_share, township_coverage, qualified_ratio
		FROM audit_indicator_targets ORDER BY (year <= $1) DESC, CASE WHEN year <= $1 THEN -year ELSE year END LIMIT 1`, year).
		Scan(&t.Year, &t.PlacesPer1000, &t.PuhuiShare, &t.TownshipCoverage, &t.QualifiedRatio)
	if errors.Is(err, pgx.ErrNoRows) {
		return IndicatorTargets{Year: year}, nil
	}
	return t, err
}

// indicatorRows computes every region's indicators in a few set-wise queries: the facts of each
// institution, township and training centre are added to its region and every region above it.
func (s *Service) indicatorRows(ctx context.Context, year int, now time.Time) (map[string]*IndicatorRow, error) {
	regions, err := accounts.Regions(ctx, s.db)
	if err != nil {
		return nil, err
	}
	all := make(map[string]*IndicatorRow, len(regions))
	for _, r := range regions {
		all[r.Code] = &IndicatorRow{Code: r.Code, Name: r.Name, Level: regionLevel(r.Code)}
	}
	for _, r := range regions {
		if p := all[r.Parent]; p != nil {
			p.HasChildren = true
		}
	}
	// up calls f on the row of code and of every region above it.
	up := func(code string, f func(*IndicatorRow)) {
		for c := code; c != ""; c = parentOf(c) {
			if r := all[c]; r != nil {
				f(r)
			}
		}
	}
	orgRegion, err := accounts.OrganisationRegions(ctx, s.db, accounts.KindInstitution)
	if err != nil {
		return nil, err
	}
	for _, region := range orgRegion {
		up(region, func(r *IndicatorRow) { r.Institutions++ })
	}
	if err := s.addPopulation(ctx, all, regions, year); err != nil {
		return nil, err
	}
	if err := s.addPlaces(ctx, up, orgRegion); err != nil {
		return nil, err
	}
	if err := s.addStaff(ctx, up, orgRegion, now); err != nil {
		return nil, err
	}
	if err := s.addInspections(ctx, up, orgRegion, year); err != nil {
		return nil, err
	}
	if err := s.addExams(ctx, up, year); err != nil {
		return nil, err
	}
	for _, r := range all {
		r.derive()
	}
	return all, nil
}

// derive computes the row's shares and rates from its counts.
func (r *IndicatorRow) derive() {
	r.PlacesPer1000 = ratio(float64(r.Places)*1000, float64(r.Population))
	r.PuhuiShare = ratio(float64(r.PuhuiPlaces), float64(r.Places))
	r.TownshipCoverage = ratio(float64(r.TownshipsCovered), float64(r.Townships))
	r.QualifiedRatio = ratio(float64(r.PostsQualified), float64(r.Posts))
	r.InspectionPassRate = ratio(float64(r.InspectionsPassed), float64(r.Inspections))
	r.ExamPassRate = ratio(float64(r.ExamPassed), float64(r.ExamSat))
}

// addPopulation gives each region its latest population figure at or before year; a region with
// no figure of its own takes the sum of the regions below it that have one.
func (s *Service) addPopulation(ctx context.Context, all map[string]*IndicatorRow, regions []accounts.Region, year int) error {
	rows, err := s.db.Query(ctx, `SELECT DISTINCT ON (region_code) region_code, population, year, demo
		FROM audit_region_population WHERE year <= $1 ORDER BY region_code, year DESC`, year)
	if err != nil {
		return err
	}
	own := map[string]bool{}
	var code string
	var pop int64
	var y int
	var demo bool
	if _, err := pgx.ForEachRow(rows, []any{&code, &pop, &y, &demo}, func() error {
		if r := all[code]; r != nil {
			r.Population, r.PopulationYear, r.PopulationDemo = pop, y, demo
			own[code] = true
		}
		return nil
	}); err != nil {
		return fmt.Errorf("population: %w", err)
	}
	// Deepest first, so that a county's figure reaches its city before the city reaches the province.
	order := make([]accounts.Region, len(regions))
	copy(order, regions)
	sort.Slice(order, func(i, j int) bool { return len(order[i].Code) > len(order[j].Code) })
	for _, r := range order {
		row, parent := all[r.Code], all[r.Parent]
		if parent == nil || own[r.Parent] || row.PopulationYear == 0 {
			continue
		}
		parent.Population += row.Population
		parent.PopulationYear = max(parent.PopulationYear, row.PopulationYear)
		parent.PopulationDemo = parent.PopulationDemo || row.PopulationDemo
	}
	return nil
}

// addPlaces adds each institution's places and each township (covered when an institution of the
// region sits in it).
func (s *Service) addPlaces(ctx context.Context, up func(string, func(*IndicatorRow)), orgRegion map[int64]string) error {
	rows, err := s.db.Query(ctx, `SELECT t.county_code, count(*), count(*) FILTER (WHERE EXISTS (
			SELECT 1 FROM audit_institution_places p WHERE p.township_code = t.code))
		FROM audit_townships t GROUP BY t.county_code`)
	if err != nil {
		return err
	}
	var county string
	var n, covered int
	if _, err := pgx.ForEachRow(rows, []any{&county, &n, &covered}, func() error {
		up(county, func(r *IndicatorRow) { r.Townships += n; r.TownshipsCovered += covered })
		return nil
	}); err != nil {
		return fmt.Errorf("townships: %w", err)
	}
	if rows, err = s.db.Query(ctx, `SELECT organisation_id, places, puhui_places FROM audit_institution_places`); err != nil {
		return err
	}
	var id int64
	var places, puhui int
	if _, err := pgx.ForEachRow(rows, []any{&id, &places, &puhui}, func() error {
		up(orgRegion[id], func(r *IndicatorRow) { r.Places += places; r.PuhuiPlaces += puhui })
		return nil
	}); err != nil {
		return fmt.Errorf("places: %w", err)
	}
	return nil
}

// addStaff adds posts, qualified posts, certified staff, certificates expiring within 60 days and
// barred persons on rosters, from one compliance load of every institution with a roster.
func (s *Service) addStaff(ctx context.Context, up func(string, func(*IndicatorRow)), orgRegion map[int64]string, now time.Time) error {
	w, err := s.load(ctx, s.db, nil, now)
	if err != nil {
		return err
	}
	p := s.Policy()
	today := day(now)
	soon := today.Add(ExpiringWindow)
	for _, orgID := range w.orgOrder {
		rep, err := s.report(p, w, orgID, now)
		if err != nil {
			return err
		}
		certified, expiring := 0, 0
		for _, m := range w.members[orgID] {
			held := false
			for _, c := range w.certs[m.PersonID] {
				if c.Status != CertValid || (!c.ExpiresOn.IsZero() && c.ExpiresOn.Before(today)) {
					continue
				}
				held = true
				if !c.ExpiresOn.IsZero() && !c.ExpiresOn.After(soon) {
					expiring++
				}
			}
			if held {
				certified++
			}
		}
		posts, qualified, barred := len(rep.Assignments), len(rep.Assignments)-rep.Unqualified, len(rep.BarredOnRoster)
		up(orgRegion[orgID], func(r *IndicatorRow) {
			r.Posts += posts
			r.PostsQualified += qualified
			r.CertifiedStaff += certified
			r.Expiring60d += expiring
			r.BarredOnRosters += barred
		})
	}
	return nil
}

// yearBounds is [1 January of year, 1 January of the next) in the product's zone.
func yearBounds(year int) (time.Time, time.Time) {
	from := time.Date(year, 1, 1, 0, 0, 0, 0, clock.Zone())
	return from, from.AddDate(1, 0, 0)
}

// addInspections adds the inspections finished in year and the rounds of the year whose every
// inspection is finished (to the round's own region and those above it).
func (s *Service) addInspections(ctx context.Context, up func(string, func(*IndicatorRow)), orgRegion map[int64]string, year int) error {
	from, to := yearBounds(year)
	rows, err := s.db.Query(ctx, `SELECT organisation_id, count(*), count(*) FILTER (WHERE passed) FROM audit_inspections
		WHERE status = 'finished' AND finished_at >= $1 AND finished_at < $2 GROUP BY organisation_id`, from, to)
	if err != nil {
		return err
	}
	var id int64
	var n, passed int
	if _, err := pgx.ForEachRow(rows, []any{&id, &n, &passed}, func() error {
		up(orgRegion[id], func(r *IndicatorRow) { r.Inspections += n; r.InspectionsPassed += passed })
		return nil
	}); err != nil {
		return fmt.Errorf("inspections: %w", err)
	}
	if rows, err = s.db.Query(ctx, `SELECT r.region_code, count(*) FROM audit_rounds r
		WHERE r.created_at >= $1 AND r.created_at < $2
		  AND NOT EXISTS (SELECT 1 FROM audit_inspections i WHERE i.round_id = r.id AND i.status <> 'finished')
		GROUP BY r.region_code`, from, to); err != nil {
		return err
	}
	var region string
	if _, err := pgx.ForEachRow(rows, []any{&region, &n}, func() error {
		up(region, func(r *IndicatorRow) { r.RoundsDone += n })
		return nil
	}); err != nil {
		return fmt.Errorf("rounds: %w", err)
	}
	return nil
}

// addExams adds the results published in year, by the region of the training centre.
func (s *Service) addExams(ctx context.Context, up func(string, func(*IndicatorRow)), year int) error {
	from, to := yearBounds(year)
	counts, err := s.exams.PassCounts(ctx, from, to)
	if err != nil {
		return fmt.Errorf("exam results: %w", err)
	}
	centres, err := accounts.OrganisationRegions(ctx, s.db, accounts.KindTrainingCentre)
	if err != nil {
		return err
	}
	for id, c := range counts {
		up(centres[id], func(r *IndicatorRow) { r.ExamSat += c.Sat; r.ExamPassed += c.Passed })
	}
	return nil
}
