package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/app"
	"shanyu/internal/config"
	"shanyu/server"
)

// services builds every domain service on pool as serve does (app.Build), without starting their
// background work, for a bench's set-up: what they enqueue waits for a server's workers. The caller
// closes it.
func services(ctx context.Context, cfg config.Config, pool *pgxpool.Pool) (*app.App, error) {
	o, err := server.AppOptions()
	if err != nil {
		return nil, err
	}
	return app.Build(ctx, cfg, pool, slog.New(slog.NewTextHandler(io.Discard, nil)), o)
}
