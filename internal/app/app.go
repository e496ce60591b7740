// Package app wires the domains together once, for both the web server and the background workers:
// it builds each domain's service from the pool and configuration, registers the domains' job workers
// and owns the River client. It is wiring only: no SQL, no HTTP, no business rules.
package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/internal/config"
	"shanyu/internal/jobs"
)

// App holds the domain services and the background machinery of one process.
type App struct {
	Config   config.Config
	Pool     *pgxpool.Pool
	Log      *slog.Logger
	Accounts *accounts.Service
	Access   *accounts.Access
	Jobs     *jobs.Client
	registry *jobs.Registry
}

// Build makes the services. Nothing runs in the background until Start.
func Build(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, log *slog.Logger) (*App, error) {
	if log == nil {
		log = slog.Default()
	}
	a := &App{Config: cfg, Pool: pool, Log: log, registry: jobs.NewRegistry()}
	var err error
	if a.Accounts, err = accounts.New(pool, cfg.SecretKey, accounts.DefaultPolicy); err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	if a.Access, err = accounts.NewAccess(ctx, pool, log); err != nil {
		return nil, fmt.Errorf("access policy: %w", err)
	}
	// Each domain registers its workers on a.registry here, before the client is built.
	if a.Jobs, err = jobs.New(pool, a.registry, log, 8); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return a, nil
}

// Start runs the background work (job workers, the access-policy listener) until ctx ends or Stop.
func (a *App) Start(ctx context.Context) error {
	go a.Access.Listen(ctx)
	if a.registry.Works() {
		if err := a.Jobs.Start(ctx); err != nil {
			return fmt.Errorf("start jobs: %w", err)
		}
	}
	return nil
}

// Stop lets running jobs finish (until ctx ends), then returns.
func (a *App) Stop(ctx context.Context) error {
	if !a.registry.Works() {
		return nil
	}
	return a.Jobs.Stop(ctx)
}
