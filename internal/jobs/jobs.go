// Package jobs is the background-work plumbing: a River client (a PostgreSQL-backed queue, so jobs
// live in the same database and can be enqueued in the same transaction as the change that causes
// them). Domains define their workers and register them on a Registry; `shanyu serve` starts the
// client after the HTTP server and stops it (softly, letting running jobs finish) after HTTP on
// shutdown. It knows no domain and no HTTP.
package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// Client is the River client the product uses.
type Client = river.Client[pgx.Tx]

// Inserter is what a domain needs to enqueue a job inside its own transaction.
type Inserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Registry collects workers and periodic jobs from the domains before the client is built.
type Registry struct {
	Workers  *river.Workers
	Periodic []*river.PeriodicJob
	count    int
}

// NewRegistry makes an empty registry.
func NewRegistry() *Registry { return &Registry{Workers: river.NewWorkers()} }

// Add registers a worker for its job kind.
func Add[T river.JobArgs](r *Registry, w river.Worker[T]) {
	river.AddWorker(r.Workers, w)
	r.count++
}

// Timing bounds a job's run: River cancels a job running longer than Timeout, and its leader runs
// again a job left running longer than RescueAfter (its node died mid-job). Zero fields take the
// defaults, 5 minutes and 1 hour.
type Timing struct {
	Timeout, RescueAfter time.Duration
}

// New builds the client. With workers registered it also works jobs (MaxWorkers per queue);
// without, it can only insert.
func New(pool *pgxpool.Pool, r *Registry, log *slog.Logger, maxWorkers int, t Timing) (*Client, error) {
	if t.Timeout <= 0 {
		t.Timeout = 5 * time.Minute
	}
	if t.RescueAfter <= 0 {
		t.RescueAfter = time.Hour
	}
	cfg := &river.Config{Logger: quiet(log), JobTimeout: t.Timeout, RescueStuckJobsAfter: t.RescueAfter, FetchPollInterval: 200 * time.Millisecond}
	if r != nil && r.count > 0 {
		if maxWorkers <= 0 {
			maxWorkers = 8
		}
		cfg.Workers = r.Workers
		cfg.PeriodicJobs = r.Periodic
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: maxWorkers}}
	}
	return river.NewClient(riverpgxv5.New(pool), cfg)
}

// NewInserter builds a client that only inserts jobs (River's insert-only client): the domains that
// enqueue get it in their constructors, before the workers that need those domains exist, so no
// service is wired after it is built. The working client (New) then runs what they enqueue.
func NewInserter(pool *pgxpool.Pool, log *slog.Logger) (Inserter, error) {
	return river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: quiet(log)})
}

// Works reports whether the registry has any worker, i.e. whether Start has anything to do.
func (r *Registry) Works() bool { return r != nil && r.count > 0 }

// quiet passes on River's warnings and errors only: at info it reports its producer's job counts
// every ten seconds, which drowns the product's own log.
func quiet(log *slog.Logger) *slog.Logger {
	if log == nil {
		log = slog.Default()
	}
	return slog.New(warnOnly{log.Handler()})
}

type warnOnly struct{ slog.Handler }

func (h warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h warnOnly) WithAttrs(a []slog.Attr) slog.Handler { return warnOnly{h.Handler.WithAttrs(a)} }
func (h warnOnly) WithGroup(n string) slog.Handler      { return warnOnly{h.Handler.WithGroup(n)} }

// Every is a periodic job inserting args every interval with at most attempts runs each, also once
// when the client starts (so work that fell due while no worker ran is done at once).
func Every(interval time.Duration, args river.JobArgs, attempts int) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return args, &river.InsertOpts{MaxAttempts: attempts} },
		&river.PeriodicJobOpts{RunOnStart: true})
}
