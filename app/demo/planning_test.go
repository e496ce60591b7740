package demo_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"shanyu/app/demo"
	"shanyu/internal/config"
	"shanyu/internal/pgtest"
	"shanyu/internal/servertest"
)

// The planning demo: every Hangzhou and Ningbo county has demo population and places, so each has
// places per 1,000 and a 普惠 share, some under the plan's 4.5 and some over; the province's trend has
// 12 kept months before the live one; a second seed writes nothing more.
func TestSeedPlanning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	cfg, err := config.Parse(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for i := 0; i < 2; i++ {
		out.Reset()
		if err := demo.Seed(ctx, cfg, pool, &out); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(out.String(), "0 small institutions new, 0 months of snapshots") {
		t.Errorf("second seed: %s", out.String())
	}
	full, err := servertest.Services(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	svc := full.Audits
	under, over := 0, 0
	for _, city := range []string{"3301", "3302"} {
		table, err := svc.Indicators(ctx, city, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !table.Region.PopulationDemo || table.Region.TownshipCoverage == nil || *table.Region.TownshipCoverage >= 1 {
			t.Errorf("%s: %+v", city, table.Region)
		}
		for _, r := range table.Rows {
			if r.PlacesPer1000 == nil || r.PuhuiShare == nil || !r.PopulationDemo || r.Townships == 0 {
				t.Errorf("%s %s has no demo figures: %+v", city, r.Code, r)
				continue
			}
			if *r.PlacesPer1000 < table.Targets.PlacesPer1000 {
				under++
			} else {
				over++
			}
		}
	}
	if under == 0 || over == 0 {
		t.Errorf("%d counties under the target, %d over: the map would be one colour", under, over)
	}
	points, err := svc.IndicatorTrend(ctx, "33", "places_per_1000", 13)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range points {
		if p.Value == nil || i > 0 && *p.Value < *points[i-1].Value {
			t.Errorf("trend point %d (%s): %v, want a value not below the month before", i, p.Month, p.Value)
		}
	}
}
