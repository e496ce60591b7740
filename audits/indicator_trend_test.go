package audits

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"shanyu/internal/clock"
	"shanyu/internal/pgtest"
)

// TestSnapshotJobKeepsOneMonthPerRegionInTheProductsZone runs the periodic job's worker at 23:30 and
// 00:30 China time either side of month boundaries, each time several times at once: every region
// gets exactly one value per indicator for the month that ended in China time (at 00:30 on 1 February
// it is still January in UTC), and running again changes nothing.
func TestSnapshotJobKeepsOneMonthPerRegionInTheProductsZone(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if clock.Zone().String() != clock.DefaultZone {
		t.Fatalf("the product's zone is %s, the test is about %s", clock.Zone(), clock.DefaultZone)
	}
	var regions int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM regions`).Scan(&regions); err != nil {
		t.Fatal(err)
	}
	run := func(at string) {
		t.Helper()
		now, err := clock.Parse("2006-01-02 15:04", at)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 3)
		for i := 0; i < 3; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := &SnapshotWorker{Audits: f.svc, Now: func() time.Time { return now }}
				errs <- w.Work(ctx, &river.Job[SnapshotArgs]{})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("%s: %v", at, err)
			}
		}
	}
	kept := func(at string, want ...string) {
		t.Helper()
		rows, err := f.pool.Query(ctx, `SELECT to_char(month, 'YYYY-MM'), count(DISTINCT region_code), count(*),
			count(*) / count(DISTINCT region_code) FROM audit_indicator_snapshots GROUP BY month ORDER BY month`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var month string
			var nRegions, n, perRegion int
			if err := rows.Scan(&month, &nRegions, &n, &perRegion); err != nil {
				t.Fatal(err)
			}
			got = append(got, month)
			if nRegions != regions || perRegion != len(indicatorValues) || n != regions*len(indicatorValues) {
				t.Errorf("after %s, %s: %d regions (of %d), %d values, %d per region (want %d)", at, month, nRegions, regions, n, perRegion, len(indicatorValues))
			}
		}
		if len(got) != len(want) {
			t.Fatalf("after %s the kept months are %v, want %v", at, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("after %s the kept months are %v, want %v", at, got, want)
			}
		}
	}
	run("2026-01-31 23:30")
	run("2026-01-31 23:30")
	kept("31 Jan 23:30", "2025-12")
	run("2026-02-01 00:30") // 2026-01-31 16:30 UTC
	kept("1 Feb 00:30", "2025-12", "2026-01")
	run("2026-02-28 23:30")
	run("2026-02-01 00:30")
	kept("28 Feb 23:30", "2025-12", "2026-01")
	run("2026-03-01 00:30")
	run("2026-03-01 00:30")
	kept("1 Mar 00:30", "2025-12", "2026-01", "2026-02")
}

// TestTrendReadsKeptSnapshots: the trend's past months are the values kept then, whatever the data
// says now, read in one statement; the current month is the live row's value.
func TestTrendReadsKeptSnapshots(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now()
	last := monthOf(now).AddDate(0, -1, 0)
	if _, err := f.pool.Exec(ctx, `INSERT INTO audit_indicator_snapshots (month, region_code, indicator, value) VALUES ($1, '3301', 'puhui_share', 0.123)`, last); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetPlaces(ctx, f.admin, f.org.RegionCode, Places{OrganisationID: f.org.ID, Places: 10, Puhui: 5, Kind: "community"}); err != nil {
		t.Fatal(err)
	}
	table, err := f.svc.Indicators(ctx, "3301", 0)
	if err != nil {
		t.Fatal(err)
	}
	cctx, count := pgtest.CountQueries(ctx)
	points, err := f.svc.TrendOf(cctx, table.Region, "puhui_share", 12, table.AsOf)
	if err != nil {
		t.Fatal(err)
	}
	if count.N() != 1 {
		t.Errorf("the trend sent %d statements, want 1: %v", count.N(), count.SQL())
	}
	if len(points) != 12 {
		t.Fatalf("%d points", len(points))
	}
	if p := points[10]; p.Month != last.Format("2006-01") || p.Value == nil || *p.Value != 0.123 {
		t.Errorf("last month: %+v", p)
	}
	if p := points[11]; p.Value == nil || *p.Value != 0.5 {
		t.Errorf("this month (live, 5 of 10 places 普惠): %+v", p)
	}
	for _, p := range points[:10] {
		if p.Value != nil {
			t.Errorf("a month with no snapshot has a value: %+v", p)
		}
	}
}
