package audits

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"shanyu/internal/clock"
	"shanyu/internal/pg"
)

// MaxTrendMonths bounds a trend: five years of months.
const MaxTrendMonths = 60

// monthOf is the first day of t's month in the product's zone, as a civil date (UTC midnight).
func monthOf(t time.Time) time.Time {
	l := clock.In(t)
	return time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// IndicatorTrend gives an indicator of region over the last months months, oldest first: the kept
// monthly snapshots, and the current month computed live. A month without a snapshot has no value.
func (s *Service) IndicatorTrend(ctx context.Context, region, indicator string, months int) ([]TrendPoint, error) {
	if _, ok := indicatorValues[indicator]; !ok {
		return nil, ErrIndicatorUnknown
	}
	now := time.Now()
	all, err := s.indicatorRows(ctx, clock.In(now).Year(), now)
	if err != nil {
		return nil, err
	}
	live, ok := all[region]
	if !ok {
		return nil, ErrNotFound
	}
	return s.TrendOf(ctx, *live, indicator, months, now)
}

// TrendOf is IndicatorTrend for a region whose live row the caller has already computed (the
// dashboard's table): past months are read from the kept snapshots, one query, and nothing is
// computed again; the current month (of now, in the product's zone) is live's value.
func (s *Service) TrendOf(ctx context.Context, live IndicatorRow, indicator string, months int, now time.Time) ([]TrendPoint, error) {
	value, ok := indicatorValues[indicator]
	if !ok {
		return nil, ErrIndicatorUnknown
	}
	months = min(max(months, 1), MaxTrendMonths)
	current := monthOf(now)
	first := current.AddDate(0, 1-months, 0)
	rows, err := s.db.Query(ctx, `SELECT month, value FROM audit_indicator_snapshots
		WHERE region_code = $1 AND indicator = $2 AND month >= $3 AND month < $4`, live.Code, indicator, first, current)
	if err != nil {
		return nil, err
	}
	kept := map[string]*float64{}
	var m time.Time
	var v *float64
	if _, err := pgx.ForEachRow(rows, []any{&m, &v}, func() error { kept[m.Format("2006-01")] = v; return nil }); err != nil {
		return nil, fmt.Errorf("snapshots: %w", err)
	}
	out := make([]TrendPoint, 0, months)
	for d := first; d.Before(current); d = d.AddDate(0, 1, 0) {
		key := d.Format("2006-01")
		out = append(out, TrendPoint{Month: key, Value: kept[key]})
	}
	return append(out, TrendPoint{Month: current.Format("2006-01"), Value: value(live)}), nil
}

// TargetOf is the plan's target for an indicator, or nil when the plan sets none.
func (t IndicatorTargets) TargetOf(indicator string) *float64 {
	var v float64
	switch indicator {
	case "places_per_1000":
		v = t.PlacesPer1000
	case "puhui_share":
		v = t.PuhuiShare
	case "township_coverage":
		v = t.TownshipCoverage
	case "qualified_ratio":
		v = t.QualifiedRatio
	default:
		return nil
	}
	return &v
}

// SnapshotIndicators keeps every indicator of every region for month (its first day) as they are
// now, once: the month is decided under a transaction-scoped advisory lock, so two workers (or two
// replicas) at once write it once. It reports whether this call wrote it.
func (s *Service) SnapshotIndicators(ctx context.Context, month time.Time) (bool, error) {
	month = time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, time.UTC)
	now := time.Now()
	// Computed before the transaction opens: it must not wait for a second pool connection.
	all, err := s.indicatorRows(ctx, month.Year(), now)
	if err != nil {
		return false, err
	}
	wrote := false
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('audit_indicator_snapshots'))`); err != nil {
			return err
		}
		var done bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM audit_indicator_snapshots WHERE month = $1)`, month).Scan(&done); err != nil || done {
			return err
		}
		wrote = true
		return s.writeSnapshot(ctx, tx, month, all, false)
	})
	return wrote, err
}

// writeSnapshot stores one month's values of every region in one statement.
func (s *Service) writeSnapshot(ctx context.Context, tx pgx.Tx, month time.Time, all map[string]*IndicatorRow, demo bool) error {
	var regions, names []string
	var values []*float64
	for _, r := range all {
		for name, value := range indicatorValues {
			regions, names, values = append(regions, r.Code), append(names, name), append(values, value(*r))
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO audit_indicator_snapshots (month, region_code, indicator, value, demo)
		SELECT $1, r, i, v, $5 FROM unnest($2::text[], $3::text[], $4::float8[]) AS x (r, i, v)
		ON CONFLICT DO NOTHING`, month, regions, names, values, demo)
	return err
}

// SnapshotArgs is the periodic job that keeps last month's indicators.
type SnapshotArgs struct{}

// Kind names the job for River.
func (SnapshotArgs) Kind() string { return "audits.indicator_snapshot" }

// SnapshotWorker works SnapshotArgs.
type SnapshotWorker struct {
	river.WorkerDefaults[SnapshotArgs]
	Audits *Service
	Now    func() time.Time // the clock (nil: time.Now); tests set it to a month's edge
}

// Work keeps the month that ended last (in the product's zone), if it is not kept yet: the figures
// are those at the first run after the month ended, which is within SnapshotPeriod of its end while
// a worker runs.
func (w *SnapshotWorker) Work(ctx context.Context, _ *river.Job[SnapshotArgs]) error {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	_, err := w.Audits.SnapshotIndicators(ctx, monthOf(now()).AddDate(0, -1, 0))
	return err
}

// SnapshotPeriod is how often the snapshot job looks whether last month is kept.
const SnapshotPeriod = time.Hour

// PeriodicSnapshot is the snapshot's schedule, for the job registry; it also runs when a worker
// process starts.
func PeriodicSnapshot() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(SnapshotPeriod),
		func() (river.JobArgs, *river.InsertOpts) { return SnapshotArgs{}, &river.InsertOpts{MaxAttempts: 3} },
		&river.PeriodicJobOpts{RunOnStart: true})
}
