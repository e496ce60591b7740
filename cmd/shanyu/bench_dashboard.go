package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/internal/clock"
	"shanyu/internal/config"
)

func init() { benches["dashboard"] = benchDashboard }

// benchDashboard builds a synthetic province in a scratch database (the audit bench's institutions,
// classes and staff, moved to the county-level regions; --townships townships over those regions;
// places, 普惠 places and a township for every institution; population for every region; finished
// inspections of a tenth of the institutions) and times the indicators of every region, the
// computation behind the dashboard, the exports and the monthly snapshot.
func benchDashboard(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench dashboard", flag.ContinueOnError)
	nInst := fs.Int("institutions", 20000, "institutions")
	nTowns := fs.Int("townships", 1400, "townships")
	nAssign := fs.Int("assignments", 100000, "post assignments (one per staff member)")
	runs := fs.Int("runs", 5, "timed computations of every region's indicators")
	keep := fs.Bool("keep", false, "keep the scratch database")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	if *nInst < 1 || *nTowns < 1 || *runs < 1 {
		return fmt.Errorf("--institutions, --townships and --runs must be positive: %w", errUsage)
	}
	sc, err := provinceScratch(ctx, cfg, "shanyu_bench_dashboard", *keep, stdout)
	if err != nil {
		return err
	}
	defer sc.Close()
	pool := sc.Pool
	start := time.Now()
	if _, err := benchProvince(ctx, pool, *nInst, *nAssign); err != nil {
		return err
	}
	if err := benchPlanning(ctx, pool, *nTowns); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "built %d institutions, %d assignments, %d townships in %s\n", *nInst, *nAssign, *nTowns, time.Since(start).Round(time.Millisecond))
	full, err := services(ctx, cfg, pool)
	if err != nil {
		return err
	}
	defer full.Close()
	svc := full.Audits
	year := clock.In(time.Now()).Year()
	times := make([]float64, 0, *runs)
	var regions int
	for i := 0; i < *runs; i++ {
		t0 := time.Now()
		rows, err := svc.IndicatorsBelow(ctx, "33", year)
		if err != nil {
			return err
		}
		times = append(times, time.Since(t0).Seconds())
		regions = len(rows)
		if i == 0 {
			p := rows[0]
			fmt.Fprintf(stdout, "province: %d institutions, %d places (%.2f per 1,000), %d of %d townships covered, %d posts (%d qualified), %d inspections\n",
				p.Institutions, p.Places, deref(p.PlacesPer1000), p.TownshipsCovered, p.Townships, p.Posts, p.PostsQualified, p.Inspections)
		}
	}
	sort.Float64s(times)
	t0 := time.Now()
	if _, err := svc.SnapshotIndicators(ctx, time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		return err
	}
	snap := time.Since(t0).Seconds()
	fmt.Fprintf(stdout, "every region's indicators (%d regions): min %.2fs, median %.2fs, max %.2fs over %d runs; snapshot %.2fs\n",
		regions, times[0], times[len(times)/2], times[len(times)-1], *runs, snap)
	out, _ := json.Marshal(map[string]any{"institutions": *nInst, "townships": *nTowns, "assignments": *nAssign, "regions": regions, "runs": *runs,
		"all_regions_min_s": round2(times[0]), "all_regions_median_s": round2(times[len(times)/2]), "all_regions_max_s": round2(times[len(times)-1]),
		"snapshot_s": round2(snap), "target_s": 2, "load1": loadAverage()})
	fmt.Fprintln(stdout, string(out))
	return nil
}

func deref(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}

// benchPlanning moves the bench institutions to the county-level regions (a city without counties
// here stands for its own), spreads nTowns townships over those regions, and gives every institution
// places in a township of its region, every region a population and a tenth of the institutions a
// finished inspection.
func benchPlanning(ctx context.Context, pool *pgxpool.Pool, nTowns int) error {
	regions, err := accounts.Regions(ctx, pool)
	if err != nil {
		return err
	}
	parents := map[string]bool{}
	for _, r := range regions {
		parents[r.Parent] = true
	}
	var leaves []string
	for _, r := range regions {
		if !parents[r.Code] && len(r.Code) > 2 {
			leaves = append(leaves, r.Code)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE organisations SET region_code = ($1::text[])[1 + id % cardinality($1::text[])] WHERE kind = 'institution'`, leaves); err != nil {
		return fmt.Errorf("institution regions: %w", err)
	}
	var towns [][]any
	for i := 0; i < nTowns; i++ {
		leaf := leaves[i%len(leaves)]
		code := fmt.Sprintf("%s%03d", (leaf + "0000")[:6], 1+i/len(leaves))
		towns = append(towns, []any{code, fmt.Sprintf("基准街道%d", i), leaf})
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"audit_townships"}, []string{"code", "name", "county_code"}, pgx.CopyFromRows(towns)); err != nil {
		return fmt.Errorf("townships: %w", err)
	}
	// A township of the institution's own region, picked by id: some townships get none.
	if _, err := pool.Exec(ctx, `INSERT INTO audit_institution_places (organisation_id, places, puhui_places, township_code, kind)
		SELECT o.id, 20 + o.id % 80, (20 + o.id % 80) * (o.id % 10) / 10, t.code, o.institution_type
		FROM organisations o
		LEFT JOIN LATERAL (SELECT code FROM audit_townships WHERE county_code = o.region_code ORDER BY code
			OFFSET (o.id * 7) % greatest(1, (SELECT count(*) FROM audit_townships x WHERE x.county_code = o.region_code)) LIMIT 1) t ON true
		WHERE o.kind = 'institution'`); err != nil {
		return fmt.Errorf("places: %w", err)
	}
	year := clock.In(time.Now()).Year()
	if _, err := pool.Exec(ctx, `INSERT INTO audit_region_population (region_code, year, population)
		SELECT code, y, 1000000 + length(code) * 1000 + y FROM regions, generate_series($1::int - 1, $1::int) y WHERE length(code) > 2`, year); err != nil {
		return fmt.Errorf("population: %w", err)
	}
	var userID int64
	if err := pool.QueryRow(ctx, `SELECT id FROM users WHERE username = 'bench.audit'`).Scan(&userID); err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, `WITH r AS (INSERT INTO audit_rounds (region_code, name, seed, target_count, per_inspection, input, input_digest, created_by)
			VALUES ('33', '基准轮次', 1, 0, 2, '{}', 'bench', $1) RETURNING id)
		INSERT INTO audit_inspections (round_id, organisation_id, status, passed, finished_at)
		SELECT r.id, o.id, 'finished', o.id % 3 <> 0, now() FROM r, organisations o WHERE o.kind = 'institution' AND o.id % 10 = 0`, userID); err != nil {
		return fmt.Errorf("inspections: %w", err)
	}
	_, err = pool.Exec(ctx, `ANALYZE`)
	return err
}
