// Package servertest starts a real Shanyu server for tests: a fresh migrated database (pgtest), the
// real fiber app, listening on a random loopback port. It is for tests only.
package servertest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/app"
	"shanyu/internal/config"
	"shanyu/internal/pg"
	"shanyu/internal/pgtest"
	"shanyu/server"
)

// Instance is a running server.
type Instance struct {
	URL    string // e.g. http://127.0.0.1:41234
	DBURL  string
	Pool   *pgxpool.Pool
	Server *server.Server
	Config config.Config
	App    *app.App
}

// Options adjust the server; the zero value is fine.
type Options struct {
	DBURL string                    // use this database instead of a fresh one
	Env   map[string]string         // extra configuration variables
	Setup func(*pgxpool.Pool) error // runs before the server starts (e.g. seeding)
	// Seeded, when set (and DBURL is not), gives the server a clone of a template holding that seed,
	// built once per test binary (pgtest.NewSeededURL); Setup still runs after it.
	Seeded *Seeded
	Logger *slog.Logger       // defaults to discarding
	Deps   func(*server.Deps) // last-minute changes to the dependencies
	// Limits, when set, open the server's pool with these limits instead of pg.DefaultLimits (the
	// race suite runs on a pool of 4 with a 2 s acquire bound).
	Limits *pg.Limits
	// Server runs on the built server before it starts serving, e.g. to add a test route: fiber
	// builds its routing tree when it starts listening, so routes added later race with it.
	Server func(*server.Server)
}

// Seeded is a fixture seeded once per test binary into a template database: every server started
// with it gets its own clone. Name identifies it; Setup must not depend on the test that first asks.
// Every user Setup makes must have accounts.DemoPassword: once Setup is done, their hashes are
// replaced by hashes of it at the test cost (pgtest.UseTestHashes), so that signing a fixture user in
// costs milliseconds, not a product-cost argon2id hash (0.37 s of CPU under -race). Users a test
// makes itself, through the product, keep the product's cost.
type Seeded struct {
	Name  string
	Setup func(*pgxpool.Pool) error
}

// URL returns a fresh clone of the seeded template.
func (s *Seeded) URL(tb testing.TB) string {
	tb.Helper()
	return pgtest.NewSeededURL(tb, s.Name, func(ctx context.Context, url string) error {
		pool, err := pg.Open(ctx, url)
		if err != nil {
			return err
		}
		defer pool.Close()
		if err := s.Setup(pool); err != nil {
			return err
		}
		if _, err = pgtest.UseTestHashes(ctx, pool, accounts.DemoPassword); err != nil {
			return err
		}
		// The audit rows Setup appended are sealed in the template, as the demo seed seals its own:
		// a test may clone it minutes later, and rows unsealed that long are reported overdue
		// until the server's sealer first goes round.
		return sealAudit(ctx, pool)
	})
}

// SealAudit chains every audit row of the instance's database now (taking turns with the server's
// own sealer), so that a test sees the chain complete.
func (i *Instance) SealAudit(tb testing.TB) {
	tb.Helper()
	if err := sealAudit(context.Background(), i.Pool); err != nil {
		tb.Fatal(err)
	}
}

// sealAudit chains every audit row in pool's database and fails if some still wait after 30 s
// (behind a transaction that does not end).
func sealAudit(ctx context.Context, pool *pgxpool.Pool) error {
	_, waiting, err := accounts.NewSealer(pool, nil).SealWaiting(ctx, 30*time.Second)
	if err == nil && waiting > 0 {
		err = fmt.Errorf("%d audit rows still unsealed after 30 s", waiting)
	}
	return err
}

// Services builds the full set of domain services on pool as `shanyu serve` does (app.Build, with
// the default configuration and the server's words), without starting their background work: the
// jobs they enqueue wait in the database for a server's workers. It is for test set-up that runs
// before a server starts (Options.Setup) or beside one; close it when done.
func Services(ctx context.Context, pool *pgxpool.Pool) (*app.App, error) {
	cfg, err := config.Parse(func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	o, err := server.AppOptions()
	if err != nil {
		return nil, err
	}
	return app.Build(ctx, cfg, pool, slog.New(slog.NewTextHandler(io.Discard, nil)), o)
}

// Start runs a server until the test ends.
func Start(tb testing.TB, opts Options) *Instance {
	tb.Helper()
	dbURL := opts.DBURL
	switch {
	case dbURL != "":
	case opts.Seeded != nil:
		dbURL = opts.Seeded.URL(tb)
	default:
		dbURL = pgtest.NewURL(tb)
	}
	var pool *pgxpool.Pool
	if opts.Limits != nil {
		pool = pgtest.OpenWith(tb, dbURL, *opts.Limits)
	} else {
		pool = pgtest.Open(tb, dbURL)
	}
	if opts.Setup != nil {
		if err := opts.Setup(pool); err != nil {
			tb.Fatalf("servertest: setup: %v", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	env := map[string]string{"DATABASE_URL": dbURL, "SHANYU_ADDR": ln.Addr().String(), "SHANYU_BASE_URL": base}
	for k, v := range opts.Env {
		env[k] = v
	}
	cfg, err := config.Parse(func(k string) string { return env[k] })
	if err != nil {
		tb.Fatal(err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	o, err := server.AppOptions()
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	a, err := app.Build(ctx, cfg, pool, log, o)
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		cancel()
		tb.Fatal(err)
	}
	deps := server.Deps{Config: cfg, Pool: pool, Logger: log, App: a}
	if opts.Deps != nil {
		opts.Deps(&deps)
	}
	srv, err := server.New(deps)
	if err != nil {
		tb.Fatal(err)
	}
	// Every JSON answer the test receives is checked against its route's schema in
	// /api/openapi.json; the mismatches fail the test when it ends.
	var mu sync.Mutex
	var violations []string
	if err := srv.CheckResponses(func(v string) {
		mu.Lock()
		defer mu.Unlock()
		if len(violations) < 20 {
			violations = append(violations, v)
		}
	}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, v := range violations {
			tb.Errorf("servertest: a response does not match /api/openapi.json: %s", v)
		}
	})
	if opts.Server != nil {
		opts.Server(srv)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
		select {
		case <-done:
		case <-sctx.Done():
			tb.Logf("servertest: server did not stop within 10 s")
		}
		_ = a.Stop(sctx)
		a.Close()
		cancel()
	})
	return &Instance{URL: base, DBURL: dbURL, Pool: pool, Server: srv, Config: cfg, App: a}
}
