package audits

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"shanyu/accounts"
	"shanyu/internal/failure"
	"shanyu/internal/limits"
	"shanyu/internal/pg"
)

// The planning data behind the indicators: population per region and year, each institution's
// places, the townships of the province and the targets per year. Every write is audited.

// Bounds of the planning data.
const (
	MaxPopulation = 2_000_000_000
	MaxPlaces     = 100_000
	MinYear       = 2000
	MaxYear       = 2100
	MaxTownships  = 100_000 // a national list has about 40,000
)

// PlanKinds are the "5+X" kinds of institution (standards.md §1), home childcare points included.
var PlanKinds = []string{"public", "community", "employer", "kindergarten", "home", "other"}

// Population is a region's resident population in a year.
type Population struct {
	Region     string `json:"region"`
	Year       int    `json:"year"`
	Population int64  `json:"population"`
	Demo       bool   `json:"demo"`
}

// Places are an institution's places as filed for the plan.
type Places struct {
	OrganisationID int64  `json:"organisation_id"`
	Places         int    `json:"places"`
	Puhui          int    `json:"puhui_places"`
	Township       string `json:"township_code"` // empty: not given
	Kind           string `json:"kind"`
	Demo           bool   `json:"demo"`
}

// Township is a township or street (乡镇/街道) under a county.
type Township struct {
	Code, Name, County string
}

var townshipCode = regexp.MustCompile(`^[0-9]{9}([0-9]{3})?$`)

// Problems of planning data, each naming its field.
var (
	ErrPlanRegion     = "audits.plan.region_unknown"
	ErrPlanYear       = "audits.plan.year_invalid"
	ErrPlanPopulation = "audits.plan.population_invalid"
	ErrPlanPlaces     = "audits.plan.places_invalid"
	ErrPlanPuhui      = "audits.plan.puhui_invalid"
	ErrPlanTownship   = "audits.plan.township_unknown"
	ErrPlanKind       = "audits.plan.kind_invalid"
	ErrPlanShare      = "audits.plan.share_invalid"
	ErrPlanTownships  = failure.New(failure.Invalid, "audits.plan.townships_file")
)

// check gives the problems of a population figure, by field.
func (p Population) check(regions map[string]bool) failure.Fields {
	var f failure.Fields
	if !regions[p.Region] || len(p.Region) > 6 {
		f.Add("region", ErrPlanRegion)
	}
	if p.Year < MinYear || p.Year > MaxYear {
		f.Add("year", ErrPlanYear, MinYear, MaxYear)
	}
	if p.Population < 0 || p.Population > MaxPopulation {
		f.Add("population", ErrPlanPopulation)
	}
	return f
}

// check gives the problems of an institution's places, by field; townships says which township
// codes exist and in which county.
func (p Places) check(orgRegion string, townships map[string]string) failure.Fields {
	var f failure.Fields
	if p.Places < 0 || p.Places > MaxPlaces {
		f.Add("places", ErrPlanPlaces, MaxPlaces)
	}
	if p.Puhui < 0 || p.Puhui > p.Places {
		f.Add("puhui_places", ErrPlanPuhui)
	}
	if p.Township != "" {
		if county, ok := townships[p.Township]; !ok || !accounts.Contains(county, orgRegion) && !accounts.Contains(orgRegion, county) {
			f.Add("township_code", ErrPlanTownship)
		}
	}
	if !contains(PlanKinds, p.Kind) {
		f.Add("kind", ErrPlanKind)
	}
	return f
}

func (t IndicatorTargets) check() failure.Fields {
	var f failure.Fields
	if t.Year < MinYear || t.Year > MaxYear {
		f.Add("year", ErrPlanYear, MinYear, MaxYear)
	}
	if t.PlacesPer1000 < 0 || t.PlacesPer1000 > 1000 {
		f.Add("places_per_1000", ErrPlanPlaces, 1000)
	}
	for field, v := range map[string]float64{"puhui_share": t.PuhuiShare, "township_coverage": t.TownshipCoverage, "qualified_ratio": t.QualifiedRatio} {
		if v < 0 || v > 1 {
			f.Add(field, ErrPlanShare)
		}
	}
	return f
}

// regionSet is every region code.
func (s *Service) regionSet(ctx context.Context) (map[string]bool, error) {
	regions, err := accounts.Regions(ctx, s.db)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(regions))
	for _, r := range regions {
		out[r.Code] = true
	}
	return out, nil
}

// townshipCounties is every township code with its county.
func townshipCounties(ctx context.Context, db pg.DB) (map[string]string, error) {
	rows, err := db.Query(ctx, `SELECT code, county_code FROM audit_townships`)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	var code, county string
	_, err = pgx.ForEachRow(rows, []any{&code, &county}, func() error { out[code] = county; return nil })
	return out, err
}

// SetPopulation stores (or replaces) a region's population for a year.
func (s *Service) SetPopulation(ctx context.Context, actorID int64, p Population) error {
	regions, err := s.regionSet(ctx)
	if err != nil {
		return err
	}
	if err := p.check(regions).Err(); err != nil {
		return err
	}
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error { return putPopulation(ctx, tx, actorID, p) })
}

func putPopulation(ctx context.Context, tx pgx.Tx, actorID int64, p Population) error {
	if _, err := tx.Exec(ctx, `INSERT INTO audit_region_population (region_code, year, population, demo, set_by)
		VALUES ($1, $2, $3, $4, nullif($5, 0)) ON CONFLICT (region_code, year)
		DO UPDATE SET population = EXCLUDED.population, demo = EXCLUDED.demo, set_by = EXCLUDED.set_by, set_at = now()`,
		p.Region, p.Year, p.Population, p.Demo, actorID); err != nil {
		return err
	}
	return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "planning.population", Subject: "region:" + p.Region,
		Details: map[string]any{"year": p.Year, "population": p.Population}})
}

// SetPlaces stores (or replaces) an institution's places; orgRegion is the institution's region,
// which its township must lie in.
func (s *Service) SetPlaces(ctx context.Context, actorID int64, orgRegion string, p Places) error {
	townships, err := townshipCounties(ctx, s.db)
	if err != nil {
		return err
	}
	if err := p.check(orgRegion, townships).Err(); err != nil {
		return err
	}
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error { return putPlaces(ctx, tx, actorID, p) })
}

func putPlaces(ctx context.Context, tx pgx.Tx, actorID int64, p Places) error {
	if _, err := tx.Exec(ctx, `INSERT INTO audit_institution_places (organisation_id, places, puhui_places, township_code, kind, demo, set_by)
		VALUES ($1, $2, $3, nullif($4, ''), $5, $6, nullif($7, 0)) ON CONFLICT (organisation_id)
		DO UPDATE SET places = EXCLUDED.places, puhui_places = EXCLUDED.puhui_places, township_code = EXCLUDED.township_code,
			kind = EXCLUDED.kind, demo = EXCLUDED.demo, set_by = EXCLUDED.set_by, set_at = now()`,
		p.OrganisationID, p.Places, p.Puhui, p.Township, p.Kind, p.Demo, actorID); err != nil {
		return err
	}
	return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "planning.places", Subject: fmt.Sprintf("organisation:%d", p.OrganisationID),
		Details: map[string]any{"places": p.Places, "puhui_places": p.Puhui, "township": p.Township, "kind": p.Kind}})
}

// PlacesOf is an institution's filed places; ErrNotFound when none are filed.
func (s *Service) PlacesOf(ctx context.Context, orgID int64) (Places, error) {
	all, err := s.PlacesOfMany(ctx, []int64{orgID})
	if p, ok := all[orgID]; ok || err != nil {
		return p, err
	}
	return Places{OrganisationID: orgID}, ErrNotFound
}

// PlacesOfMany is the filed places of each of the institutions ids that has some (a page of the
// planning table: the caller bounds ids).
func (s *Service) PlacesOfMany(ctx context.Context, ids []int64) (map[int64]Places, error) {
	rows, err := s.db.Query(ctx, `SELECT organisation_id, places, puhui_places, coalesce(township_code, ''), kind, demo
		FROM audit_institution_places WHERE organisation_id = ANY ($1)`, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]Places, len(ids))
	var p Places
	_, err = pgx.ForEachRow(rows, []any{&p.OrganisationID, &p.Places, &p.Puhui, &p.Township, &p.Kind, &p.Demo}, func() error {
		out[p.OrganisationID] = p
		return nil
	})
	return out, err
}

// PopulationAt is region's own figure for year; ErrNotFound when none is filed.
func (s *Service) PopulationAt(ctx context.Context, region string, year int) (Population, error) {
	p := Population{Region: region, Year: year}
	err := s.db.QueryRow(ctx, `SELECT population, demo FROM audit_region_population WHERE region_code = $1 AND year = $2`, region, year).
		Scan(&p.Population, &p.Demo)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	return p, err
}

// PopulationOf lists the population figures of region and the regions below it, newest year first.
func (s *Service) PopulationOf(ctx context.Context, region string) ([]Population, error) {
	rows, err := s.db.Query(ctx, `SELECT region_code, year, population, demo FROM audit_region_population
		WHERE starts_with(region_code, $1) ORDER BY region_code, year DESC LIMIT 5000`, region)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Population, error) {
		var p Population
		err := r.Scan(&p.Region, &p.Year, &p.Population, &p.Demo)
		return p, err
	})
}

// SetTargets stores (or replaces) the plan's targets for a year.
func (s *Service) SetTargets(ctx context.Context, actorID int64, t IndicatorTargets) error {
	if err := t.check().Err(); err != nil {
		return err
	}
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO audit_indicator_targets (year, places_per_1000, puhui_share, township_coverage, qualified_ratio, set_by)
			VALUES ($1, $2, $3, $4, $5, nullif($6, 0)) ON CONFLICT (year) DO UPDATE SET places_per_1000 = EXCLUDED.places_per_1000,
				puhui_share = EXCLUDED.puhui_share, township_coverage = EXCLUDED.township_coverage, qualified_ratio = EXCLUDED.qualified_ratio,
				set_by = EXCLUDED.set_by, set_at = now()`,
			t.Year, t.PlacesPer1000, t.PuhuiShare, t.TownshipCoverage, t.QualifiedRatio, actorID); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "planning.targets", Subject: fmt.Sprintf("year:%d", t.Year),
			Details: map[string]any{"places_per_1000": t.PlacesPer1000, "puhui_share": t.PuhuiShare, "township_coverage": t.TownshipCoverage, "qualified_ratio": t.QualifiedRatio}})
	})
}

// AllTargets lists the targets of every year, oldest first.
func (s *Service) AllTargets(ctx context.Context) ([]IndicatorTargets, error) {
	rows, err := s.db.Query(ctx, `SELECT year, places_per_1000, puhui_share, township_coverage, qualified_ratio FROM audit_indicator_targets ORDER BY year`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (IndicatorTargets, error) {
		var t IndicatorTargets
		err := r.Scan(&t.Year, &t.PlacesPer1000, &t.PuhuiShare, &t.TownshipCoverage, &t.QualifiedRatio)
		return t, err
	})
}

// LoadTownships reads a township list (CSV with the header code,name,county_code; county_code the
// short county code such as 330106) and stores the townships of the counties that exist here, in one
// transaction; names of known codes are updated. It answers how many lines it stored and how many
// it left out because their county is not a region of this platform.
func LoadTownships(ctx context.Context, db pg.DB, r io.Reader) (stored, skipped int, err error) {
	regions, err := accounts.Regions(ctx, db)
	if err != nil {
		return 0, 0, err
	}
	known := map[string]bool{}
	for _, x := range regions {
		known[x.Code] = true
	}
	cr := csv.NewReader(io.LimitReader(r, 32<<20))
	cr.FieldsPerRecord = 3
	head, err := cr.Read()
	if err != nil || strings.TrimPrefix(strings.Join(head, ","), "\ufeff") != "code,name,county_code" {
		return 0, 0, ErrPlanTownships
	}
	var codes, names, counties []string
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil || len(codes)+skipped >= MaxTownships || !townshipCode.MatchString(rec[0]) || rec[1] == "" || len(rec[1]) > limits.Text {
			return 0, 0, ErrPlanTownships.Wrap(fmt.Errorf("line %d: %v", line, err))
		}
		if !known[rec[2]] {
			skipped++
			continue
		}
		codes, names, counties = append(codes, rec[0]), append(names, rec[1]), append(counties, rec[2])
	}
	err = pg.WithTx(ctx, db, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO audit_townships (code, name, county_code)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
			ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, county_code = EXCLUDED.county_code`, codes, names, counties)
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return ErrPlanTownships.Wrap(err)
		}
		return err
	})
	return len(codes), skipped, err
}
