// Package pg is the PostgreSQL plumbing every domain shares: opening the pool, running a function in a
// transaction, and recognising driver errors. It holds no SQL of any domain and knows nothing of HTTP.
//
// The transaction rules it enforces are written in docs/architecture.md ("Transactions and locks"):
// a transaction never waits for a second connection (see Track), a starved acquire fails after a
// bound instead of hanging (Limits.AcquireTimeout), every session carries lock, statement and
// idle-in-transaction timeouts, and serialization failures and deadlocks are retried by WithTx.
package pg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/internal/clock"
)

// DB is what both *pgxpool.Pool and pgx.Tx offer, so helpers run on either. A function that takes a
// DB and is called inside a transaction must be given the transaction, never the pool.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Limits bound how long anything may wait on the database.
type Limits struct {
	MaxConns       int32         // pool size; 0 means 32 (a URL's pool_max_conns wins)
	AcquireTimeout time.Duration // a request waiting longer than this for a free connection gets ErrBusy; 0: no bound
	// Session settings (0 leaves PostgreSQL's default, no limit); a URL's own setting wins.
	LockTimeout                     time.Duration // lock_timeout
	StatementTimeout                time.Duration // statement_timeout
	IdleInTransactionSessionTimeout time.Duration // idle_in_transaction_session_timeout
}

// DefaultLimits are the server's: no request holds a lock, runs a statement or sits idle in a
// transaction for long, and a starved pool answers quickly instead of freezing.
var DefaultLimits = Limits{
	AcquireTimeout:                  5 * time.Second,
	LockTimeout:                     5 * time.Second,
	StatementTimeout:                30 * time.Second,
	IdleInTransactionSessionTimeout: 15 * time.Second,
}

// ErrBusy is returned (wrapped, with context.DeadlineExceeded) when no connection became free within
// Limits.AcquireTimeout; the server answers it with 503.
var ErrBusy = errors.New("database busy: no connection free")

// Open connects a pool with DefaultLimits and checks that the database answers.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	return OpenWith(ctx, url, DefaultLimits)
}

// OpenWith connects a pool with the given limits and checks that the database answers.
func OpenWith(ctx context.Context, url string, lim Limits) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	applyLimits(cfg, url, lim)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open pool: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return pool, nil
}

// applyLimits sets the pool size, the session's zone and timeouts and the tracer on cfg, leaving
// what the URL itself sets.
func applyLimits(cfg *pgxpool.Config, url string, lim Limits) {
	// pgxpool's default (4 on a small machine) starves a busy server; a URL's pool_max_conns wins.
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = 32
		if lim.MaxConns > 0 {
			cfg.MaxConns = lim.MaxConns
		}
	}
	// The session's zone is the product's, so that current_date and ::date casts in SQL count days
	// where the product does, whatever the server's TimeZone setting (a URL's timezone wins).
	if _, ok := cfg.ConnConfig.RuntimeParams["timezone"]; !ok {
		cfg.ConnConfig.RuntimeParams["timezone"] = clock.Zone().String()
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.HealthCheckPeriod = 10 * time.Second
	params := cfg.ConnConfig.RuntimeParams
	for name, d := range map[string]time.Duration{
		"lock_timeout":                        lim.LockTimeout,
		"statement_timeout":                   lim.StatementTimeout,
		"idle_in_transaction_session_timeout": lim.IdleInTransactionSessionTimeout,
	} {
		if _, set := params[name]; !set && d > 0 {
			params[name] = strconv.FormatInt(d.Milliseconds(), 10)
		}
	}
	cfg.ConnConfig.Tracer = &tracer{acquireTimeout: lim.AcquireTimeout}
	// A host that does not answer (a dead primary's address, of several listed for failover) is
	// given up after a bound, so that the next one is tried (a URL's connect_timeout wins).
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
}

// Side opens a second, small pool to the same database as main, for a path that must not compete
// with everything else for main's connections: a bulkhead. Public certificate verification uses one,
// so that a flood of QR scans cannot take the connections exams save answers with, and so that the
// scans' own concurrency inside PostgreSQL stays near what the machine's cores can run (32 busy
// backends on 2 cores spend their time switching, not answering). It connects on first use, and
// shares main's limits and checks.
func Side(ctx context.Context, main *pgxpool.Pool, maxConns int32) (*pgxpool.Pool, error) {
	cfg := main.Config()
	cfg.MaxConns = maxConns
	cfg.MinConns = 0
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open side pool: %w", err)
	}
	return pool, nil
}

// MaxAttempts is how many times WithTx runs a transaction that PostgreSQL aborted with a
// serialization failure or a deadlock before it gives the error up.
const MaxAttempts = 4

// WithTx runs fn in a transaction on db (a pool, or a transaction, in which case a savepoint is used).
// It commits when fn returns nil and rolls back otherwise, also when ctx is cancelled mid-way.
//
// On a pool, a transaction that fails with a serialization failure (40001) or a deadlock (40P01) is
// run again from the start, up to MaxAttempts times in all, after a short random pause; each retry
// is logged and counted (Stats). fn may therefore run more than once: it must change nothing outside
// the transaction (memory, files, other services) before WithTx has returned. Inside a transaction
// (db is a pgx.Tx) nothing is retried here: the outermost WithTx retries the whole transaction.
//
// fn is given a *Tx, whose Defer'd statements (the audit append) travel with the COMMIT.
func WithTx(ctx context.Context, db DB, fn func(tx pgx.Tx) error) error {
	_, nested := db.(pgx.Tx)
	for attempt := 1; ; attempt++ {
		err := runTx(ctx, db, nested, fn)
		code := retryable(err)
		if code == "" || nested || attempt >= MaxAttempts || ctx.Err() != nil {
			return err
		}
		stats.retries.Add(1)
		// Full jitter over a doubling window: the transactions that collided start again apart.
		pause := time.Duration(rand.Int64N(int64(5*time.Millisecond) << attempt))
		slog.WarnContext(ctx, "pg: transaction retried", slog.String("sqlstate", code),
			slog.Int("attempt", attempt), slog.Duration("pause", pause), slog.String("caller", caller(2)))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
	}
}

func runTx(ctx context.Context, db DB, nested bool, fn func(tx pgx.Tx) error) error {
	tx, err := begin(ctx, db)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if t := tracked(ctx); t != nil && !nested {
		t.open.Add(1)
		defer t.open.Add(-1)
	}
	defer func() {
		// A cancelled ctx must not stop the rollback, or the connection goes back dirty.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = tx.Rollback(rctx)
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// retryable returns the SQLSTATE of an error that WithTx retries, or "".
func retryable(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == CodeSerialization || pgErr.Code == CodeDeadlock) {
		return pgErr.Code
	}
	return ""
}

// SQLSTATE codes the domains translate into their own errors.
const (
	CodeUniqueViolation     = "23505"
	CodeForeignKeyViolation = "23503"
	CodeCheckViolation      = "23514"
	CodeSerialization       = "40001"
	CodeDeadlock            = "40P01"
	CodeLockNotAvailable    = "55P03" // lock_timeout
	CodeQueryCanceled       = "57014" // statement_timeout
)

// HasCode reports whether err is a PostgreSQL error with the given SQLSTATE, and which constraint it names.
func HasCode(err error, code string) (constraint string, ok bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == code {
		return pgErr.ConstraintName, true
	}
	return "", false
}

// IsDataException reports whether PostgreSQL refused a value itself (SQLSTATE class 22: a number out
// of range, a string too long or with a NUL, a bad date): the input was wrong, not the server.
func IsDataException(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22")
}

// IsNoRows reports whether err says a query found no row.
func IsNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// IsBusy reports whether err says the database could not serve in time: no connection free within
// the acquire bound, or a lock or statement timeout. Such a request may be tried again later.
func IsBusy(err error) bool {
	if errors.Is(err, ErrBusy) {
		return true
	}
	_, lock := HasCode(err, CodeLockNotAvailable)
	_, stmt := HasCode(err, CodeQueryCanceled)
	return lock || stmt
}
