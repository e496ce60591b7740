package pgtest

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/internal/pg"
)

// QueryCount counts the statements sent under one context (see CountQueries); it is safe for
// concurrent use.
type QueryCount struct {
	mu  sync.Mutex
	sql []string
}

// N is how many statements were sent.
func (q *QueryCount) N() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.sql)
}

// SQL lists the statements sent, in order (for a failing test's message).
func (q *QueryCount) SQL() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.sql...)
}

type countKey struct{}

// CountQueries returns a context under which every statement a counting pool (NewCounting,
// OpenCounting) sends is counted in the returned QueryCount; statements under other contexts (other
// tests, background work) are not.
func CountQueries(ctx context.Context) (context.Context, *QueryCount) {
	q := &QueryCount{}
	return context.WithValue(ctx, countKey{}, q), q
}

// countingTracer is a pgx v5 QueryTracer that counts statements for CountQueries and hands every
// event on to the pool's own tracer (internal/pg's acquire bound and checks keep working).
type countingTracer struct{ inner pgx.QueryTracer }

func (t countingTracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if q, ok := ctx.Value(countKey{}).(*QueryCount); ok {
		q.mu.Lock()
		q.sql = append(q.sql, data.SQL)
		q.mu.Unlock()
	}
	if t.inner == nil {
		return ctx
	}
	return t.inner.TraceQueryStart(ctx, conn, data)
}

func (t countingTracer) TraceQueryEnd(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryEndData) {
	if t.inner != nil {
		t.inner.TraceQueryEnd(ctx, conn, data)
	}
}

func (t countingTracer) TraceAcquireStart(ctx context.Context, pool *pgxpool.Pool, data pgxpool.TraceAcquireStartData) context.Context {
	if a, ok := t.inner.(pgxpool.AcquireTracer); ok {
		return a.TraceAcquireStart(ctx, pool, data)
	}
	return ctx
}

func (t countingTracer) TraceAcquireEnd(ctx context.Context, pool *pgxpool.Pool, data pgxpool.TraceAcquireEndData) {
	if a, ok := t.inner.(pgxpool.AcquireTracer); ok {
		a.TraceAcquireEnd(ctx, pool, data)
	}
}

// NewCounting is New with a pool whose statements CountQueries can count.
func NewCounting(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	return OpenCounting(tb, NewURL(tb))
}

// OpenCounting opens a pool on url, configured as pg.Open does, whose statements CountQueries can
// count; it is closed when the test ends.
func OpenCounting(tb testing.TB, url string) *pgxpool.Pool {
	tb.Helper()
	ctx := context.Background()
	probe, err := pg.Open(ctx, url)
	if err != nil {
		tb.Fatalf("pgtest: open: %v", err)
	}
	cfg := probe.Config() // pg's settings and tracer, copied
	probe.Close()
	cfg.ConnConfig.Tracer = countingTracer{inner: cfg.ConnConfig.Tracer}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		tb.Fatalf("pgtest: open counting pool: %v", err)
	}
	tb.Cleanup(pool.Close)
	return pool
}
