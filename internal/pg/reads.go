package pg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Reads routes the reads of paths that may be a little stale (public verification, dashboards) to a
// streaming standby while the standby provably holds everything the primary had written at most
// MaxLag ago, and to the primary otherwise: standby behind, down, promoted, or not configured.
//
// How stale the standby is, is measured and not guessed from timestamps (an idle primary writes
// nothing, so pg_last_xact_replay_timestamp grows old on a standby that is fully caught up). Every
// Every (100 ms) at most, on a read, Reads asks the primary for its WAL write position, then the
// standby for the position it has replayed, and keeps the primary's recent positions with the time
// each was read. The newest primary position the standby has replayed was read at some instant t:
// every transaction committed before t is visible on the standby (a commit flushes its WAL first).
// The standby is used while now − t, plus the time until the next measurement, stays within MaxLag;
// so a revocation committed on the primary is seen by every verification at most MaxLag (plus one
// query) later.
//
// A standby read that fails for any reason but "no rows" is run again on the primary and the
// standby is set aside until the next measurement. Writes (Exec, Begin) always go to the primary.
type Reads struct {
	primary *pgxpool.Pool // the fallback and where writes go
	standby *pgxpool.Pool // nil: every read goes to the primary
	lsn     *pgxpool.Pool // where the primary's WAL position is asked (the main pool)
	maxLag  time.Duration
	every   time.Duration
	log     *slog.Logger

	mu         sync.Mutex
	checked    time.Time
	useStandby bool
	lag        time.Duration // the last measured bound on the standby's staleness; -1 when unknown
	samples    []lsnSample   // the primary's positions seen recently, oldest first

	standbyReads, primaryReads atomic.Int64
}

type lsnSample struct {
	at  time.Time
	lsn uint64
}

// ReadsOptions set up Reads. Standby nil makes it a plain router to Primary.
type ReadsOptions struct {
	Primary *pgxpool.Pool // reads when the standby may not be used, and every write
	Standby *pgxpool.Pool
	LSN     *pgxpool.Pool // a pool on the primary to ask its WAL position (Primary when nil)
	MaxLag  time.Duration // the staleness bound (SHANYU_READ_MAX_LAG); 500 ms when 0
	Every   time.Duration // how long a measurement is used; 100 ms when 0
	Log     *slog.Logger
}

// NewReads builds the router; it measures nothing until the first read.
func NewReads(o ReadsOptions) *Reads {
	r := &Reads{primary: o.Primary, standby: o.Standby, lsn: o.LSN, maxLag: o.MaxLag, every: o.Every, log: o.Log, lag: -1}
	if r.lsn == nil {
		r.lsn = r.primary
	}
	if r.maxLag <= 0 {
		r.maxLag = 500 * time.Millisecond
	}
	if r.every <= 0 {
		r.every = 100 * time.Millisecond
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	return r
}

// Primary is the pool reads fall back to.
func (r *Reads) Primary() *pgxpool.Pool { return r.primary }

// Standby is the standby's pool, nil when none is configured.
func (r *Reads) Standby() *pgxpool.Pool { return r.standby }

// Counts reports how many reads went to the standby and to the primary.
func (r *Reads) Counts() (standby, primary int64) {
	return r.standbyReads.Load(), r.primaryReads.Load()
}

// Lag is the last measured bound on the standby's staleness, and whether it was known (false: no
// standby, not measured yet, down, or further behind than the positions kept).
func (r *Reads) Lag() (time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lag, r.lag >= 0
}

// pick returns the pool to read from now, measuring the standby first when the last measurement
// is older than Every.
func (r *Reads) pick(ctx context.Context) (*pgxpool.Pool, bool) {
	if r.standby == nil {
		r.primaryReads.Add(1)
		return r.primary, false
	}
	r.mu.Lock()
	if time.Since(r.checked) >= r.every {
		r.measure(ctx)
	}
	use := r.useStandby
	r.mu.Unlock()
	if use {
		r.standbyReads.Add(1)
		return r.standby, true
	}
	r.primaryReads.Add(1)
	return r.primary, false
}

// measure compares the primary's WAL position with what the standby replayed; r.mu is held.
func (r *Reads) measure(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 250*time.Millisecond)
	defer cancel()
	r.checked = time.Now()
	was := r.useStandby
	r.useStandby, r.lag = false, -1
	defer func() {
		if was != r.useStandby {
			r.log.Info("pg: standby reads", slog.Bool("standby", r.useStandby), slog.Duration("lag", r.lag))
		}
	}()
	// The primary first: whatever the standby has replayed is then compared with a position read
	// before it, never after.
	var primary, replayed uint64
	var recovering bool
	at := time.Now()
	if err := r.lsn.QueryRow(ctx, `SELECT (pg_current_wal_lsn() - '0/0')::int8`).Scan(&primary); err != nil {
		return
	}
	var rep *uint64
	if err := r.standby.QueryRow(ctx, `SELECT pg_is_in_recovery(), (pg_last_wal_replay_lsn() - '0/0')::int8`).Scan(&recovering, &rep); err != nil {
		return
	}
	// A promoted standby is no standby: it may be the primary itself, or an old one cut off.
	if !recovering || rep == nil {
		return
	}
	replayed = *rep
	r.samples = append(r.samples, lsnSample{at: at, lsn: primary})
	// Keep what can still decide: positions newer than twice the bound, and the newest older one.
	keep := 0
	for keep < len(r.samples)-1 && r.samples[keep+1].at.Before(at.Add(-2*r.maxLag)) {
		keep++
	}
	r.samples = r.samples[keep:]
	for i := len(r.samples) - 1; i >= 0; i-- {
		if r.samples[i].lsn <= replayed {
			r.lag = time.Since(r.samples[i].at)
			r.useStandby = r.lag+r.every <= r.maxLag
			return
		}
	}
}

// setAside stops standby reads until the next measurement, after a standby read failed.
func (r *Reads) setAside(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.useStandby {
		r.log.Warn("pg: standby read failed; reading from the primary", slog.Any("err", err))
	}
	r.useStandby, r.lag = false, -1
	r.checked = time.Now()
}

// QueryRow runs a one-row read on the standby or the primary (see Reads).
func (r *Reads) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	pool, standby := r.pick(ctx)
	row := pool.QueryRow(ctx, sql, args...)
	if !standby {
		return row
	}
	return &fallbackRow{row: row, again: func() pgx.Row {
		r.primaryReads.Add(1)
		return r.primary.QueryRow(ctx, sql, args...)
	}, aside: r.setAside}
}

// Query runs a read on the standby or the primary; a standby that fails to answer is replaced by
// the primary. Errors met while the rows are read are the caller's.
func (r *Reads) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	pool, standby := r.pick(ctx)
	rows, err := pool.Query(ctx, sql, args...)
	if err == nil || !standby {
		return rows, err
	}
	r.setAside(err)
	r.primaryReads.Add(1)
	return r.primary.Query(ctx, sql, args...)
}

// SendBatch sends a batch of reads to the standby or the primary. A standby that fails is set aside
// for the next read, but this batch's error is the caller's.
func (r *Reads) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	pool, _ := r.pick(ctx)
	return pool.SendBatch(ctx, b)
}

// Exec runs on the primary: Reads does not write to a standby.
func (r *Reads) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return r.primary.Exec(ctx, sql, args...)
}

// Begin opens a transaction on the primary.
func (r *Reads) Begin(ctx context.Context) (pgx.Tx, error) { return r.primary.Begin(ctx) }

type fallbackRow struct {
	row   pgx.Row
	again func() pgx.Row
	aside func(error)
}

func (f *fallbackRow) Scan(dest ...any) error {
	err := f.row.Scan(dest...)
	if err == nil || errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	f.aside(err)
	if err2 := f.again().Scan(dest...); err2 != nil {
		return fmt.Errorf("%w (the standby failed first: %v)", err2, err)
	}
	return nil
}

// Standby opens a pool on a standby for Reads, with the main pool's limits. It connects on first
// use, so that a standby down at start-up only sends the reads to the primary. It must be a
// standby or a copy of the primary's data: Reads checks pg_is_in_recovery before each use.
func Standby(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	applyLimits(cfg, url, DefaultLimits)
	cfg.MaxConns, cfg.MinConns = maxConns, 0
	return pgxpool.NewWithConfig(ctx, cfg)
}
