package migrations

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// River's schema comes in versions; a new enum value cannot be used in the transaction that adds it,
// so River's versions are split over two of our steps. Upgrading River to a version with new schema
// migrations means adding a step here that moves to the new target, so that the schema never changes
// behind the version table's back.
var goMigrations = []Migration{
	riverStep(2, "river_job_queue", 5, -1),
	riverStep(3, "river_job_queue_v8", 8, 5),
}

// riverStep migrates River's schema up to version `to`, and back down to version `from` (-1: none).
func riverStep(version int, name string, to, from int) Migration {
	migrate := func(ctx context.Context, tx pgx.Tx, dir rivermigrate.Direction, target int) error {
		m, err := rivermigrate.New(riverpgxv5.New(nil), nil)
		if err != nil {
			return err
		}
		// MigrateTx is deprecated because some River versions cannot share one transaction; the steps
		// above are split exactly where that matters, so each runs in our migration's transaction.
		//lint:ignore SA1019 split into transaction-safe steps on purpose, see above
		_, err = m.MigrateTx(ctx, tx, dir, &rivermigrate.MigrateOpts{TargetVersion: target})
		return err
	}
	return Migration{
		Version: version, Name: name,
		Up:       fmt.Sprintf("-- River job queue schema up to version %d, applied by rivermigrate", to),
		Down:     fmt.Sprintf("-- River job queue schema back to version %d, applied by rivermigrate", from),
		upFunc:   func(ctx context.Context, tx pgx.Tx) error { return migrate(ctx, tx, rivermigrate.DirectionUp, to) },
		downFunc: func(ctx context.Context, tx pgx.Tx) error { return migrate(ctx, tx, rivermigrate.DirectionDown, from) },
	}
}
