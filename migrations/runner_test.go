package migrations_test

import (
	"context"
	"testing"

	"shanyu/internal/pgtest"
	"shanyu/migrations"
)

func TestFailedMigrationLeavesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Open(t, pgtest.NewEmptyURL(t))
	steps := []migrations.Migration{
		{Version: 1, Name: "good", Up: `CREATE TABLE good (x int)`, Down: `DROP TABLE good`},
		{Version: 2, Name: "bad", Up: `CREATE TABLE half_done (x int); SELECT 1/0`, Down: `DROP TABLE half_done`},
	}
	done, err := migrations.UpWith(ctx, pool, steps)
	if err == nil || len(done) != 1 {
		t.Fatalf("up = %d applied, err %v; want the second to fail", len(done), err)
	}
	var half, good bool
	var version int
	if err := pool.QueryRow(ctx, `SELECT to_regclass('half_done') IS NOT NULL, to_regclass('good') IS NOT NULL,
		(SELECT max(version) FROM schema_migrations)`).Scan(&half, &good, &version); err != nil {
		t.Fatal(err)
	}
	if half || !good || version != 1 {
		t.Fatalf("half_done=%v good=%v version=%d; want false true 1", half, good, version)
	}
}
