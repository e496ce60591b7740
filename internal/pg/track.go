package pg

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The rule "no transaction waits for a second connection" is checked at run time: a request (or a
// job) carries a tracker in its context (Track); WithTx counts the transactions it has open on a
// pool; and an acquire from any pool while one is open is a violation, logged at error level with the
// caller and counted (Stats().NestedAcquires). Such a wait is how the whole server froze: the holder
// of a row lock waited for a connection that the requests queued behind its lock were holding.

type tracker struct {
	open atomic.Int32
	// statements counts the SQL statements sent under the context (queries and batch entries), so
	// that the server can report how many each route costs (Statements).
	statements atomic.Int32
}

type trackKey struct{}

// Track returns ctx carrying a tracker of the transactions opened under it. The server calls it once
// per request; code that starts work of its own (a job) may too.
func Track(ctx context.Context) context.Context {
	if tracked(ctx) != nil {
		return ctx
	}
	return context.WithValue(ctx, trackKey{}, &tracker{})
}

// Statements returns how many SQL statements were sent under ctx since Track (0 when untracked).
func Statements(ctx context.Context) int {
	if t := tracked(ctx); t != nil {
		return int(t.statements.Load())
	}
	return 0
}

func tracked(ctx context.Context) *tracker {
	t, _ := ctx.Value(trackKey{}).(*tracker)
	return t
}

var stats struct {
	retries, nestedAcquires, busy atomic.Int64
}

// Counters of the transaction rules, since the process started.
type Counters struct {
	Retries        int64 // transactions run again after 40001 or 40P01
	NestedAcquires int64 // connections asked for while the same request held a transaction
	Busy           int64 // acquires that found no connection free within the bound
}

// Stats returns the counters.
func Stats() Counters {
	return Counters{Retries: stats.retries.Load(), NestedAcquires: stats.nestedAcquires.Load(), Busy: stats.busy.Load()}
}

// tracer bounds acquires and checks the rule above; it is the pool's connection tracer.
type tracer struct{ acquireTimeout time.Duration }

type cancelKey struct{}

func (t *tracer) TraceAcquireStart(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireStartData) context.Context {
	if tr := tracked(ctx); tr != nil && tr.open.Load() > 0 {
		stats.nestedAcquires.Add(1)
		slog.ErrorContext(ctx, "pg: a transaction waits for a second connection (see docs/architecture.md, Transactions and locks)",
			slog.String("caller", caller(4)))
	}
	if t.acquireTimeout <= 0 {
		return ctx
	}
	tctx, cancel := context.WithTimeout(ctx, t.acquireTimeout)
	return context.WithValue(acquireCtx{Context: tctx, parent: ctx, bound: t.acquireTimeout}, cancelKey{}, cancel)
}

func (t *tracer) TraceAcquireEnd(ctx context.Context, _ *pgxpool.Pool, data pgxpool.TraceAcquireEndData) {
	if cancel, ok := ctx.Value(cancelKey{}).(context.CancelFunc); ok {
		cancel()
	}
	if data.Err != nil && IsBusy(data.Err) {
		stats.busy.Add(1)
	}
}

func (t *tracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	if tr := tracked(ctx); tr != nil {
		tr.statements.Add(1)
	}
	return ctx
}

func (t *tracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// A batch's statements go in one round trip but each is a statement of its own to PostgreSQL.
func (t *tracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (t *tracer) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchQueryData) {
	if tr := tracked(ctx); tr != nil {
		tr.statements.Add(1)
	}
}

func (t *tracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// acquireCtx is the context a bounded acquire waits with: when its own bound passes (and not the
// caller's context), its error says the database is busy rather than that the request timed out.
type acquireCtx struct {
	context.Context
	parent context.Context
	bound  time.Duration
}

func (c acquireCtx) Err() error {
	err := c.Context.Err()
	if err != nil && c.parent.Err() == nil {
		return busyError{bound: c.bound}
	}
	return err
}

type busyError struct{ bound time.Duration }

func (e busyError) Error() string { return fmt.Sprintf("%v within %v", ErrBusy, e.bound) }

func (e busyError) Is(target error) bool {
	return target == ErrBusy || target == context.DeadlineExceeded
}

// caller names the first three functions outside this package and pgx, from skip frames up.
func caller(skip int) string {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(skip, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	var out []string
	for len(out) < 3 {
		f, more := frames.Next()
		if !strings.Contains(f.Function, "jackc/") && !strings.HasPrefix(f.Function, "shanyu/internal/pg.") {
			out = append(out, fmt.Sprintf("%s (%s:%d)", f.Function, f.File, f.Line))
		}
		if !more {
			break
		}
	}
	return strings.Join(out, " <- ")
}
