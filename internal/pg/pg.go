// Package pg is the PostgreSQL plumbing every domain shares: opening the pool, running a function in a
// transaction, and recognising driver errors. It holds no SQL of any domain and knows nothing of HTTP.
package pg

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is what both *pgxpool.Pool and pgx.Tx offer, so helpers run on either.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Open connects a pool and checks that the database answers.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	// pgxpool's default (4 on a small machine) starves a busy server; a URL's pool_max_conns wins.
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = 32
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.HealthCheckPeriod = 10 * time.Second
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

// Side opens a second, small pool to the same database as main, for a path that must not compete
// with everything else for main's connections: a bulkhead. Public certificate verification uses one,
// so that a flood of QR scans cannot take the connections exams save answers with, and so that the
// scans' own concurrency inside PostgreSQL stays near what the machine's cores can run (32 busy
// backends on 2 cores spend their time switching, not answering). It connects on first use.
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

// WithTx runs fn in a transaction on db (a pool, or a transaction, in which case a savepoint is used).
// It commits when fn returns nil and rolls back otherwise, also when ctx is cancelled mid-way.
func WithTx(ctx context.Context, db DB, fn func(tx pgx.Tx) error) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
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

// SQLSTATE codes the domains translate into their own errors.
const (
	CodeUniqueViolation     = "23505"
	CodeForeignKeyViolation = "23503"
	CodeCheckViolation      = "23514"
	CodeSerialization       = "40001"
)

// HasCode reports whether err is a PostgreSQL error with the given SQLSTATE, and which constraint it names.
func HasCode(err error, code string) (constraint string, ok bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == code {
		return pgErr.ConstraintName, true
	}
	return "", false
}

// IsNoRows reports whether err says a query found no row.
func IsNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
