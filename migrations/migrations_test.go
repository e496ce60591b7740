package migrations_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"shanyu/internal/pgtest"
	"shanyu/migrations"
)

// schema lists every user table and column, so a round trip can be compared exactly.
const schema = `SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' ORDER BY table_name, column_name)
	FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'schema_migrations'`

func TestUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Open(t, pgtest.NewEmptyURL(t))
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	if err := migrations.CheckCurrent(ctx, pool); !errors.Is(err, migrations.ErrBehind) {
		t.Fatalf("empty database: CheckCurrent = %v, want ErrBehind", err)
	}
	applied, err := migrations.Up(ctx, pool)
	if err != nil || len(applied) != len(all) {
		t.Fatalf("up: applied %d of %d: %v", len(applied), len(all), err)
	}
	if err := migrations.CheckCurrent(ctx, pool); err != nil {
		t.Fatalf("after up: %v", err)
	}
	var first *string
	if err := pool.QueryRow(ctx, schema).Scan(&first); err != nil {
		t.Fatal(err)
	}
	again, err := migrations.Up(ctx, pool)
	if err != nil || len(again) != 0 {
		t.Fatalf("second up applied %d: %v", len(again), err)
	}
	reverted, err := migrations.Down(ctx, pool, len(all), migrations.DownOptions{DropData: true})
	if err != nil || len(reverted) != len(all) {
		t.Fatalf("down: reverted %d of %d: %v", len(reverted), len(all), err)
	}
	var empty *string
	if err := pool.QueryRow(ctx, schema).Scan(&empty); err != nil {
		t.Fatal(err)
	}
	if empty != nil {
		t.Fatalf("tables left after down: %s", *empty)
	}
	if _, err := migrations.Up(ctx, pool); err != nil {
		t.Fatalf("up again: %v", err)
	}
	var second *string
	if err := pool.QueryRow(ctx, schema).Scan(&second); err != nil {
		t.Fatal(err)
	}
	if first == nil || second == nil || *first != *second {
		t.Fatalf("schema differs after up/down/up")
	}
}

func TestFileNamesAreChecked(t *testing.T) {
	t.Parallel()
	if _, err := migrations.Load(fstest.MapFS{"0001_a.up.sql": {Data: []byte("SELECT 1")}}); err == nil {
		t.Error("an up without a down was accepted")
	}
	if _, err := migrations.Load(fstest.MapFS{"1_a.up.sql": {Data: []byte("SELECT 1")}}); err == nil {
		t.Error("a badly named file was accepted")
	}
}

// A migration numbered below the newest applied one (merged from parallel work) still counts as
// missing: the server must not start on such a schema.
func TestCheckCurrentSeesAGapBelowTheNewest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	if err := migrations.CheckCurrent(ctx, pool); err != nil {
		t.Fatalf("migrated database: %v", err)
	}
	middle := all[len(all)/2]
	if _, err := pool.Exec(ctx, `DELETE FROM schema_migrations WHERE version = $1`, middle.Version); err != nil {
		t.Fatal(err)
	}
	err = migrations.CheckCurrent(ctx, pool)
	if !errors.Is(err, migrations.ErrBehind) || !strings.Contains(err.Error(), fmt.Sprintf("%04d", middle.Version)) {
		t.Fatalf("gap at %04d: CheckCurrent = %v, want ErrBehind naming it", middle.Version, err)
	}
}
