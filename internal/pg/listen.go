package pg

import (
	"context"
	"log/slog"
	"time"

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
	conn, err := db.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "UNLISTEN "+channel) //nolint:errcheck
	if err := reload(ctx); err != nil {
		return err
	}
	for {
		if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
			return err
		}
		if err := reload(ctx); err != nil {
			log.Error("reload after notification", slog.String("channel", channel), slog.Any("err", err))
		}
	}
}
