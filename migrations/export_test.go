package migrations

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// UpWith applies a given list of migrations, for tests of the runner itself.
var UpWith = up

// DownWith reverts the last steps of a given list of migrations, for tests of the runner itself.
func DownWith(ctx context.Context, db *pgxpool.Pool, all []Migration, steps int, o DownOptions) ([]Migration, error) {
	return runWith(ctx, db, all, o, func(all []Migration, applied map[int]bool) []Migration {
		var todo []Migration
		for i := len(all) - 1; i >= 0 && len(todo) < steps; i-- {
			if applied[all[i].Version] {
				todo = append(todo, all[i])
			}
		}
		return todo
	}, false)
}
