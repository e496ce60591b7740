package pg

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Listen calls reload whenever a NOTIFY arrives on channel, until ctx ends. Every replica runs one
// per channel, so a change made on any replica reaches all of them. It reconnects after errors and
// calls reload after each (re)connection, since notifications sent meanwhile were missed.
func Listen(ctx context.Context, db *pgxpool.Pool, channel string, reload func(context.Context) error, log *slog.Logger) {
	for ctx.Err() == nil {
		err := listenOnce(ctx, db, channel, reload, log)
		if ctx.Err() != nil {
			return
		}
		log.Warn("listener stopped; reconnecting", slog.String("channel", channel), slog.Any("err", err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func listenOnce(ctx context.Context, db *pgxpool.Pool, channel string, reload func(context.Context) error, log *slog.Logger) error {
	// A connection of its own, not one of the pool's: a listener holds it for as long as the process
	// runs, and the pool's connections are for requests (a pool of 4 would otherwise lose half of
	// them to the two listeners).
	conn, err := pgx.ConnectConfig(ctx, db.Config().ConnConfig)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx)) //nolint:errcheck
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return err
	}
	if err := reload(ctx); err != nil {
		return err
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		if err := reload(ctx); err != nil {
			log.Error("reload after notification", slog.String("channel", channel), slog.Any("err", err))
		}
	}
}
