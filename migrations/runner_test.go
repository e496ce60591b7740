package migrations_test

import (
	"context"
	"errors"
	"slices"
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

// A down migration that would drop a table or column holding rows is refused, naming them, and
// changes nothing; --drop-data (DropData) lets it through; an empty table goes without a word.
func TestDownRefusesToDropData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Open(t, pgtest.NewEmptyURL(t))
	steps := []migrations.Migration{
		{Version: 1, Name: "photos", Up: `CREATE TABLE photos (id int, caption text); CREATE TABLE empty_one (x int)`, Down: `DROP TABLE photos; DROP TABLE empty_one`},
		{Version: 2, Name: "notes", Up: `ALTER TABLE photos ADD COLUMN note text`, Down: `ALTER TABLE photos DROP COLUMN note`},
	}
	if _, err := migrations.UpWith(ctx, pool, steps); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO photos VALUES (1, 'kitchen', 'seen by both inspectors'), (2, NULL, NULL)`); err != nil {
		t.Fatal(err)
	}
	_, err := migrations.DownWith(ctx, pool, steps, 1, migrations.DownOptions{})
	var loss *migrations.DataLossError
	if !errors.As(err, &loss) || !slices.Equal(loss.Columns, []string{"photos.note"}) || len(loss.Tables) != 0 {
		t.Fatalf("down 1 = %v; want refused naming photos.note", err)
	}
	if done, err := migrations.DownWith(ctx, pool, steps, 2, migrations.DownOptions{}); !errors.As(err, &loss) || len(done) != 0 {
		t.Fatalf("down 2 = %d reverted, %v; want the first step refused and nothing reverted", len(done), err)
	}
	var version int
	var note bool
	if err := pool.QueryRow(ctx, `SELECT (SELECT max(version) FROM schema_migrations),
		EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'photos' AND column_name = 'note')`).Scan(&version, &note); err != nil {
		t.Fatal(err)
	}
	if version != 2 || !note {
		t.Fatalf("after refusals: version %d, note column %v; want 2, true", version, note)
	}
	if _, err := pool.Exec(ctx, `UPDATE photos SET note = NULL`); err != nil {
		t.Fatal(err)
	}
	if done, err := migrations.DownWith(ctx, pool, steps, 1, migrations.DownOptions{}); err != nil || len(done) != 1 {
		t.Fatalf("down of an empty column = %d, %v; want it to go through", len(done), err)
	}
	_, err = migrations.DownWith(ctx, pool, steps, 1, migrations.DownOptions{})
	if !errors.As(err, &loss) || !slices.Equal(loss.Tables, []string{"photos (2 rows)"}) {
		t.Fatalf("down of photos = %v; want refused naming photos (2 rows) and not empty_one", err)
	}
	if done, err := migrations.DownWith(ctx, pool, steps, 1, migrations.DownOptions{DropData: true}); err != nil || len(done) != 1 {
		t.Fatalf("down with DropData = %d, %v", len(done), err)
	}
}
