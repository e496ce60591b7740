// Command shanyu is the whole product in one binary: `serve`, `migrate`, `seed demo`, `version`.
// main only wires configuration, logging, the database and the server together; the work happens in
// the packages it calls.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/app"
	"shanyu/app/demo"
	"shanyu/internal/clock"
	"shanyu/internal/config"
	"shanyu/internal/logbuf"
	"shanyu/internal/metrics"
	"shanyu/internal/pg"
	"shanyu/migrations"
	"shanyu/server"
)

const usage = `usage: shanyu <command>

commands:
  serve                  run the web server (SHANYU_ADDR, default :8080)
  migrate up             apply pending database migrations
  migrate down [N] [--drop-data]
                         revert the last N migrations (default 1); refuses to drop
                         tables or columns holding rows unless --drop-data
  migrate status         list migrations and whether each is applied
  seed demo              create the demo province (refused when SHANYU_ENV=production)
  keys init|rotate|list  signing keys for certificates and PDFs
  tsa serve              a local RFC 3161 time-stamp authority for development (SHANYU_TSA_URL)
  bank import|export|template
                         question bank files (GIFT, Moodle XML, Excel); see shanyu bank
  audit verify [--unsealed-bound 60s]
                         check the sealed hash chain of the audit log, and that no row
                         has waited longer than the bound to be sealed
  audit seal             seal the audit rows that can be sealed now (a server does it itself)
  bench NAME [flags]     load and throughput measurements; last line is JSON
  version                print the version

configuration comes from the environment: DATABASE_URL, SHANYU_* (see README.md)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "shanyu:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("see `shanyu help`")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	if args[0] == "version" {
		fmt.Fprintln(stdout, "shanyu", version())
		return nil
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	clock.SetZone(cfg.Zone)
	if args[0] == "serve" {
		// The server logs a line per request: buffer them, flushing every 100 ms, at once for warnings
		// and errors, and when serve returns.
		out := logbuf.New(stderr, 100*time.Millisecond)
		defer out.Close()
		log := slog.New(logbuf.Handler(newHandler(cfg, out), out, slog.LevelWarn))
		slog.SetDefault(log)
		return serve(ctx, cfg, log)
	}
	log := slog.New(newHandler(cfg, stderr))
	slog.SetDefault(log)
	switch args[0] {
	case "migrate":
		return migrate(ctx, cfg, args[1:], stdout)
	case "bench":
		return benchCmd(ctx, cfg, args[1:], stdout)
	case "keys", "bank", "audit", "tsa":
		pool, err := openDB(ctx, cfg)
		if err != nil {
			return err
		}
		defer pool.Close()
		switch args[0] {
		case "keys":
			return keysCmd(ctx, cfg, pool, args[1:], stdout)
		case "bank":
			return bankCmd(ctx, cfg, pool, args[1:], stdout)
		case "tsa":
			return tsaCmd(ctx, cfg, pool, args[1:], stdout)
		}
		return auditCmd(ctx, pool, args[1:], stdout)
	case "seed":
		if len(args) != 2 || args[1] != "demo" {
			return fmt.Errorf("seed: only `seed demo` exists: %w", errUsage)
		}
		pool, err := openDB(ctx, cfg)
		if err != nil {
			return err
		}
		defer pool.Close()
		if err := migrations.CheckCurrent(ctx, pool); err != nil {
			return err
		}
		return demo.Seed(ctx, cfg, pool, stdout)
	}
	return fmt.Errorf("unknown command %q: %w", args[0], errUsage)
}

func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return info.Main.Version
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

func newHandler(cfg config.Config, w io.Writer) slog.Handler {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

func openDB(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	lim := pg.DefaultLimits
	lim.AcquireTimeout = cfg.DBAcquireTimeout
	return openDBWith(ctx, cfg, lim)
}

func openDBWith(ctx context.Context, cfg config.Config, lim pg.Limits) (*pgxpool.Pool, error) {
	if cfg.DatabaseURL == "" {
		return nil, errors.New("DATABASE_URL is not set (`make run` provides a local PostgreSQL when it is unset)")
	}
	return pg.OpenWith(ctx, cfg.DatabaseURL, lim)
}

func migrate(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("migrate needs up, down or status: %w", errUsage)
	}
	// A migration may rewrite a large table: no statement bound, but it still gives up waiting for a
	// lock that a running server holds rather than queueing every request behind it.
	lim := pg.DefaultLimits
	lim.StatementTimeout, lim.IdleInTransactionSessionTimeout = 0, 0
	pool, err := openDBWith(ctx, cfg, lim)
	if err != nil {
		return err
	}
	defer pool.Close()
	switch args[0] {
	case "up":
		done, err := migrations.Up(ctx, pool)
		for _, m := range done {
			fmt.Fprintf(out, "applied %04d_%s\n", m.Version, m.Name)
		}
		if err == nil && len(done) == 0 {
			fmt.Fprintf(out, "schema is current (version %d)\n", migrations.Latest())
		}
		return err
	case "down":
		steps, o := 1, migrations.DownOptions{}
		for _, a := range args[1:] {
			if a == "--drop-data" {
				o.DropData = true
				continue
			}
			if steps, err = strconv.Atoi(a); err != nil || steps < 1 {
				return fmt.Errorf("migrate down N: N must be a positive number: %w", errUsage)
			}
		}
		done, err := migrations.Down(ctx, pool, steps, o)
		for _, m := range done {
			fmt.Fprintf(out, "reverted %04d_%s\n", m.Version, m.Name)
		}
		return err
	case "status":
		list, err := migrations.List(ctx, pool)
		if err != nil {
			return err
		}
		for _, m := range list {
			state := "pending"
			if !m.AppliedAt.IsZero() {
				state = "applied " + m.AppliedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(out, "%04d_%-30s %s\n", m.Version, m.Name, state)
		}
		return nil
	}
	return fmt.Errorf("migrate %s: %w", args[0], errUsage)
}

func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	log.Info("starting", slog.String("version", version()), slog.Any("config", cfg))
	if cfg.TSAURL == "" {
		log.Warn("no TSA configured (SHANYU_TSA_URL is empty): certificate PDF signatures carry no RFC 3161 timestamp (PAdES B-B only); `shanyu tsa serve` runs a local one for development")
	}
	// The live heap is small (tens of MB) and nearly all garbage is short-lived request data:
	// collecting at 5× the live heap rather than Go's default 2× costs little memory and saves CPU
	// that a loaded 2-core machine needs for answering. A GOGC in the environment wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	// GOGC 400 alone lets the heap grow to five times what is live; the memory limit makes the
	// collector work harder as the process nears it instead (SHANYU_MEMORY_LIMIT_MB; a GOMEMLIMIT in
	// the environment wins).
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(cfg.MemoryLimit)
	}
	pool, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrations.CheckCurrent(ctx, pool); err != nil {
		return err
	}
	o, err := server.AppOptions()
	if err != nil {
		return err
	}
	a, err := app.Build(ctx, cfg, pool, log, o)
	if err != nil {
		return err
	}
	defer a.Close()
	var m *metrics.Metrics
	if cfg.MetricsAddr != "" {
		m = metrics.New(metrics.Pools{"main": pool, "public": a.PublicPool(), "standby": a.StandbyPool()}, a.Reads())
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("listen on %s (SHANYU_METRICS_ADDR): %w", cfg.MetricsAddr, err)
		}
		ms := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 5 * time.Second}
		go ms.Serve(mln) //nolint:errcheck // ends with ErrServerClosed at shutdown
		defer ms.Close()
		log.Info("metrics", slog.String("addr", mln.Addr().String()))
	}
	if cfg.PprofAddr != "" {
		stop, err := servePprof(cfg.PprofAddr)
		if err != nil {
			return err
		}
		defer stop()
		log.Warn("pprof served: unauthenticated, keep it on a loopback address", slog.String("addr", cfg.PprofAddr))
	}
	srv, err := server.New(server.Deps{Config: cfg, Pool: pool, Logger: log, App: a, Metrics: m})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	log.Info("serving", slog.String("addr", ln.Addr().String()), slog.String("base_url", cfg.BaseURL))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	if err := a.Start(bgCtx); err != nil {
		return err
	}
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	// A load balancer checking /readyz sees 503 for DrainDelay and stops sending new requests; only
	// then does the listener close (a second signal ends the wait at once).
	if cfg.DrainDelay > 0 {
		srv.Drain()
		log.Info("draining", slog.Duration("delay", cfg.DrainDelay))
		again := make(chan os.Signal, 1)
		signal.Notify(again, os.Interrupt, syscall.SIGTERM)
		select {
		case <-time.After(cfg.DrainDelay):
		case <-again:
		}
		signal.Stop(again)
	}
	// Shut down in order: stop taking requests and finish those in flight, then background work, then
	// the pool (deferred above).
	log.Info("shutting down", slog.Duration("timeout", cfg.ShutdownTimeout))
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("http shutdown", slog.Any("err", err))
	}
	<-served
	// Then background work: running jobs get the rest of the timeout to finish.
	if err := a.Stop(sctx); err != nil {
		log.Error("jobs shutdown", slog.Any("err", err))
	}
	stopBackground()
	log.Info("stopped")
	return nil
}
