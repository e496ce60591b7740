package demo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"shanyu/accounts"
	"shanyu/audits"
	"shanyu/internal/clock"
)

// demoCounty is a county's made-up plan figures: resident population (near the real order of
// magnitude, but demo figures), the places per 1,000 residents it is given, its 普惠 share, and the
// share of its townships that get an institution.
type demoCounty struct {
	code                  string
	population            int64
	per1000, puhui, towns float64
}

// demoCounties are Hangzhou's and Ningbo's districts and counties, some ahead of the plan's 4.5 and
// 60 %, some behind, so that the map shows which.
var demoCounties = []demoCounty{
	{"330102", 1_340_000, 4.8, 0.66, 1.0}, {"330105", 1_190_000, 4.1, 0.58, 0.9}, {"330106", 1_190_000, 5.2, 0.71, 1.0},
	{"330108", 540_000, 3.6, 0.52, 1.0}, {"330109", 2_130_000, 3.9, 0.61, 0.7}, {"330110", 1_440_000, 4.6, 0.63, 0.9},
	{"330111", 840_000, 3.1, 0.49, 0.6}, {"330112", 650_000, 2.8, 0.55, 0.5}, {"330113", 1_180_000, 4.3, 0.60, 0.8},
	{"330114", 800_000, 3.4, 0.47, 0.7}, {"330122", 460_000, 2.6, 0.68, 0.5}, {"330127", 320_000, 2.2, 0.72, 0.4},
	{"330182", 440_000, 3.0, 0.64, 0.6},
	{"330203", 1_050_000, 4.7, 0.62, 1.0}, {"330205", 580_000, 4.0, 0.57, 0.9}, {"330206", 860_000, 3.8, 0.54, 0.8},
	{"330211", 520_000, 4.4, 0.61, 1.0}, {"330212", 1_700_000, 5.0, 0.67, 0.9}, {"330213", 580_000, 3.2, 0.50, 0.6},
	{"330225", 570_000, 2.7, 0.66, 0.5}, {"330226", 700_000, 2.9, 0.59, 0.6}, {"330281", 1_260_000, 3.7, 0.56, 0.7},
	{"330282", 1_850_000, 4.2, 0.63, 0.8},
}

// seedPlanning gives the demo province its plan data, all marked demo: the bundled township list,
// population for last year and this, one small institution (no staff) in a share of each county's
// townships with places and 普惠 places, places for the demo institutions that have a roster, and 12
// months of snapshots. Running it again adds nothing.
func seedPlanning(ctx context.Context, env seedEnv) error {
	svc := env.audits
	acc := env.accounts
	towns, _, err := audits.LoadProvinceTownships(ctx, env.pool)
	if err != nil {
		return fmt.Errorf("townships: %w", err)
	}
	year := clock.In(time.Now()).Year()
	created := 0
	for ci, c := range demoCounties {
		filed, err := svc.PopulationOf(ctx, c.code)
		if err != nil {
			return err
		}
		for _, y := range []int{year - 1, year} {
			if slices.ContainsFunc(filed, func(p audits.Population) bool { return p.Region == c.code && p.Year == y }) {
				continue
			}
			pop := c.population - int64(year-y)*c.population/100 // a year earlier, 1 % fewer
			if err := svc.SetPopulation(ctx, 0, audits.Population{Region: c.code, Year: y, Population: pop, Demo: true}); err != nil {
				return fmt.Errorf("population of %s: %w", c.code, err)
			}
		}
		list, err := svc.Townships(ctx, c.code)
		if err != nil {
			return err
		}
		n := max(1, int(float64(len(list))*c.towns+0.5))
		places := int(float64(c.population) * c.per1000 / 1000)
		for k := 0; k < n; k++ {
			code := fmt.Sprintf("PL%s%02d", c.code, k+1)
			o, err := acc.OrganisationByCode(ctx, code)
			if errors.Is(err, accounts.ErrOrganisationNotFound) {
				kind := audits.PlanKinds[(ci+k)%len(audits.PlanKinds)]
				o, err = acc.CreateOrganisation(ctx, 0, accounts.Organisation{Kind: accounts.KindInstitution, Code: code,
					Name: fmt.Sprintf("%s托育点（演示 %d）", list[k].Name, k+1), NameEN: fmt.Sprintf("Demo childcare %s-%d", c.code, k+1),
					RegionCode: c.code, CreditCode: audits.SyntheticCreditCode(c.code, 5000+k), InstitutionType: kind})
				created++
			}
			if err != nil {
				return fmt.Errorf("institution %s: %w", code, err)
			}
			if _, err := svc.PlacesOf(ctx, o.ID); !errors.Is(err, audits.ErrNotFound) {
				continue // filed already (perhaps edited since): kept
			}
			// The county's places spread over its institutions, the first ones larger.
			share := places / n
			if k == 0 {
				share += places % n
			}
			p := audits.Places{OrganisationID: o.ID, Places: share, Puhui: int(float64(share) * c.puhui), Township: list[k].Code, Kind: o.InstitutionType, Demo: true}
			if err := svc.SetPlaces(ctx, 0, c.code, p); err != nil {
				return fmt.Errorf("places of %s: %w", code, err)
			}
		}
	}
	// The demo institutions with a roster: their licensed places, two thirds 普惠, in their
	// district's first township, unless places were filed for them already.
	rostered, _, err := acc.ListOrganisations(ctx, accounts.OrgFilter{Kind: accounts.KindInstitution, Region: "33", Limit: 1000})
	if err != nil {
		return err
	}
	for _, o := range rostered {
		if _, err := svc.PlacesOf(ctx, o.ID); strings.HasPrefix(o.Code, "PL") || !errors.Is(err, audits.ErrNotFound) {
			continue
		}
		list, err := svc.Townships(ctx, o.RegionCode)
		if err != nil || len(list) == 0 {
			continue
		}
		total := 0
		for _, n := range o.LicensedPlaces {
			total += n
		}
		p := audits.Places{OrganisationID: o.ID, Places: total, Puhui: total * 2 / 3, Township: list[0].Code, Kind: o.InstitutionType, Demo: true}
		if err := svc.SetPlaces(ctx, 0, o.RegionCode, p); err != nil {
			return fmt.Errorf("places of %s: %w", o.Code, err)
		}
	}
	months, err := svc.SeedDemoSnapshots(ctx, 12)
	if err != nil {
		return fmt.Errorf("snapshots: %w", err)
	}
	fmt.Fprintf(env.out, "planning: %d townships, %d counties with population, %d small institutions new, %d months of snapshots\n",
		towns, len(demoCounties), created, months)
	return nil
}
