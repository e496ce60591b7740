// Package migrations holds the database schema as numbered SQL files embedded in the binary, and the
// small runner that applies them: NNNN_name.up.sql and NNNN_name.down.sql, each applied in one
// transaction together with its row in schema_migrations. It knows no domain and no HTTP.
//
// Numbers are grouped by owner so that work on different domains does not collide:
// 0001–0099 platform, 0100 accounts, 0200 curriculum, 0300 question bank, 0400 exams,
// 0500 certificates, 0600 audits. A domain only ever adds files in its own range, after its last one.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed *.sql
var files embed.FS

// Migration is one numbered step of the schema: SQL text, or (for schemas owned by a library, such
// as the job queue's) Go functions that run inside the same transaction.
type Migration struct {
	Version int
	Name    string
	Up      string
	Down    string

	upFunc, downFunc func(ctx context.Context, tx pgx.Tx) error
}

// Status is a migration and when it was applied (zero when it is pending).
type Status struct {
	Migration
	AppliedAt time.Time
}

var fileName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$`)

// lockKey serialises migrators across processes ("shanyu" in ASCII).
const lockKey = 0x7368616e7975

// All returns the embedded migrations and the Go ones, in order. Every up has a down and numbers are
// unique.
func All() ([]Migration, error) {
	sqlSteps, err := Load(files)
	if err != nil {
		return nil, err
	}
	all := append(sqlSteps, goMigrations...)
	sort.Slice(all, func(i, j int) bool { return all[i].Version < all[j].Version })
	for i := 1; i < len(all); i++ {
		if all[i].Version == all[i-1].Version {
			return nil, fmt.Errorf("migration %04d is defined twice", all[i].Version)
		}
	}
	return all, nil
}

// Load reads migrations from fsys; All uses the embedded files.
func Load(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	byVersion := map[int]*Migration{}
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q is not named NNNN_name.up.sql or NNNN_name.down.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		body, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		mig := byVersion[v]
		if mig == nil {
			mig = &Migration{Version: v, Name: m[2]}
			byVersion[v] = mig
		}
		if mig.Name != m[2] {
			return nil, fmt.Errorf("migration %04d has two names: %s and %s", v, mig.Name, m[2])
		}
		if m[3] == "up" {
			mig.Up = string(body)
		} else {
			mig.Down = string(body)
		}
	}
	out := make([]Migration, 0, len(byVersion))
	for _, m := range byVersion {
		if m.Up == "" || m.Down == "" {
			return nil, fmt.Errorf("migration %04d_%s needs both an up and a down file", m.Version, m.Name)
		}
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Latest is the version the code expects the schema to be at.
func Latest() int {
	all, err := All()
	if err != nil || len(all) == 0 {
		return 0
	}
	return all[len(all)-1].Version
}

const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// Current returns the highest applied version, 0 when none is (or the table does not exist yet).
func Current(ctx context.Context, db *pgxpool.Pool) (int, error) {
	var exists bool
	if err := db.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, err
	}
	if !exists {
		return 0, nil
	}
	var v int
	err := db.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// ErrBehind says the schema is older than the code.
var ErrBehind = errors.New("database schema is behind: run `shanyu migrate up`")

// ErrAhead says the schema has migrations this binary does not know (a newer binary migrated it).
var ErrAhead = errors.New("database schema is ahead of this binary: run the binary that migrated it")

// CheckCurrent returns ErrBehind (wrapped with the first missing version) unless every migration the
// code embeds has been applied, and ErrAhead when one is applied that the code does not embed. A migration numbered below the newest applied one (merged from a branch
// written in parallel) counts too, which comparing the highest versions alone would miss.
func CheckCurrent(ctx context.Context, db *pgxpool.Pool) error {
	all, err := All()
	if err != nil {
		return err
	}
	cur, err := Current(ctx, db)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if cur == 0 {
		if len(all) > 0 {
			return fmt.Errorf("%w (schema is empty, code needs %d)", ErrBehind, all[len(all)-1].Version)
		}
		return nil
	}
	rows, err := db.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("read schema versions: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return fmt.Errorf("read schema versions: %w", err)
	}
	applied := make(map[int]bool, len(versions))
	for _, v := range versions {
		applied[v] = true
	}
	known := make(map[int]bool, len(all))
	for _, m := range all {
		known[m.Version] = true
		if !applied[m.Version] {
			return fmt.Errorf("%w (migration %04d_%s is not applied)", ErrBehind, m.Version, m.Name)
		}
	}
	for _, v := range versions {
		if !known[v] {
			return fmt.Errorf("%w (migration %04d is unknown here)", ErrAhead, v)
		}
	}
	return nil
}

// Up applies every pending migration, each in its own transaction, and returns those it applied.
func Up(ctx context.Context, db *pgxpool.Pool) ([]Migration, error) {
	all, err := All()
	if err != nil {
		return nil, err
	}
	return up(ctx, db, all)
}

func up(ctx context.Context, db *pgxpool.Pool, all []Migration) ([]Migration, error) {
	return run(ctx, db, all, func(all []Migration, applied map[int]bool) []Migration {
		var todo []Migration
		for _, m := range all {
			if !applied[m.Version] {
				todo = append(todo, m)
			}
		}
		return todo
	}, true)
}

// DownOptions say how far Down may go.
type DownOptions struct {
	// DropData lets a down migration drop tables or columns that hold rows. Without it Down refuses,
	// naming them: a table dropped on a live database may be evidence the audit log still points at.
	DropData bool
}

// DataLossError names the tables and columns holding data that a down migration would drop.
type DataLossError struct {
	Migration string
	Tables    []string // "name (N rows)"
	Columns   []string // "table.column"
}

func (e *DataLossError) Error() string {
	var parts []string
	if len(e.Tables) > 0 {
		parts = append(parts, "tables "+strings.Join(e.Tables, ", "))
	}
	if len(e.Columns) > 0 {
		parts = append(parts, "columns "+strings.Join(e.Columns, ", "))
	}
	return fmt.Sprintf("reverting %s would drop %s that hold data; refused (pass --drop-data to drop them anyway)", e.Migration, strings.Join(parts, " and "))
}

// Down reverts the last `steps` applied migrations, newest first. It refuses, before changing
// anything, a migration whose down would drop tables or columns that hold rows, unless o.DropData.
func Down(ctx context.Context, db *pgxpool.Pool, steps int, o DownOptions) ([]Migration, error) {
	all, err := All()
	if err != nil {
		return nil, err
	}
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

func run(ctx context.Context, db *pgxpool.Pool, all []Migration, pick func([]Migration, map[int]bool) []Migration, up bool) ([]Migration, error) {
	return runWith(ctx, db, all, DownOptions{DropData: true}, pick, up)
}

func runWith(ctx context.Context, db *pgxpool.Pool, all []Migration, o DownOptions, pick func([]Migration, map[int]bool) []Migration, up bool) ([]Migration, error) {
	conn, err := db.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(lockKey)); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(lockKey)) //nolint:errcheck
	if _, err := conn.Exec(ctx, createTable); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, err
	}
	for _, v := range versions {
		applied[v] = true
	}
	var done []Migration
	for _, m := range pick(all, applied) {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if up {
				if err := m.apply(ctx, tx, true); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
				return err
			}
			if !o.DropData {
				if err := checkDataLoss(ctx, tx, m); err != nil {
					return err
				}
			}
			if err := m.apply(ctx, tx, false); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `DELETE FROM schema_migrations WHERE version = $1`, m.Version)
			return err
		})
		if err != nil {
			return done, fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
		done = append(done, m)
	}
	return done, nil
}

func (m Migration) apply(ctx context.Context, tx pgx.Tx, up bool) error {
	switch {
	case up && m.upFunc != nil:
		return m.upFunc(ctx, tx)
	case !up && m.downFunc != nil:
		return m.downFunc(ctx, tx)
	case up:
		_, err := tx.Exec(ctx, m.Up)
		return err
	default:
		_, err := tx.Exec(ctx, m.Down)
		return err
	}
}

// List returns every migration with when it was applied.
func List(ctx context.Context, db *pgxpool.Pool) ([]Status, error) {
	all, err := All()
	if err != nil {
		return nil, err
	}
	applied := map[int]time.Time{}
	var exists bool
	if err := db.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, err
	}
	if exists {
		rows, err := db.Query(ctx, `SELECT version, applied_at FROM schema_migrations`)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var v int
			var at time.Time
			if err := rows.Scan(&v, &at); err != nil {
				return nil, err
			}
			applied[v] = at
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := make([]Status, len(all))
	for i, m := range all {
		out[i] = Status{Migration: m, AppliedAt: applied[m.Version]}
	}
	return out, nil
}

// checkDataLoss tries m's down inside a savepoint to learn which tables and columns it drops,
// rolls it back, and then looks whether those held data.
func checkDataLoss(ctx context.Context, tx pgx.Tx, m Migration) error {
	before, err := columnsOf(ctx, tx)
	if err != nil {
		return err
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	if err := m.apply(ctx, sp, false); err != nil {
		_ = sp.Rollback(ctx)
		return err
	}
	after, err := columnsOf(ctx, sp)
	if err != nil {
		_ = sp.Rollback(ctx)
		return err
	}
	if err := sp.Rollback(ctx); err != nil {
		return err
	}
	loss := &DataLossError{Migration: fmt.Sprintf("%04d_%s", m.Version, m.Name)}
	for table, cols := range before {
		kept, tableKept := after[table]
		if !tableKept {
			var n int64
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
				return fmt.Errorf("count %s: %w", table, err)
			}
			if n > 0 {
				loss.Tables = append(loss.Tables, fmt.Sprintf("%s (%d rows)", table, n))
			}
			continue
		}
		for _, c := range cols {
			if slices.Contains(kept, c) {
				continue
			}
			var held bool
			q := fmt.Sprintf(`SELECT EXISTS (SELECT 1 FROM %s WHERE %s IS NOT NULL)`, pgx.Identifier{table}.Sanitize(), pgx.Identifier{c}.Sanitize())
			if err := tx.QueryRow(ctx, q).Scan(&held); err != nil {
				return fmt.Errorf("look at %s.%s: %w", table, c, err)
			}
			if held {
				loss.Columns = append(loss.Columns, table+"."+c)
			}
		}
	}
	if len(loss.Tables) == 0 && len(loss.Columns) == 0 {
		return nil
	}
	slices.Sort(loss.Tables)
	slices.Sort(loss.Columns)
	return loss
}

// columnsOf lists the ordinary tables of the current schema with their columns.
func columnsOf(ctx context.Context, tx pgx.Tx) (map[string][]string, error) {
	rows, err := tx.Query(ctx, `SELECT c.relname, a.attname FROM pg_class c
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')`)
	if err != nil {
		return nil, fmt.Errorf("list columns: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return nil, err
		}
		out[t] = append(out[t], c)
	}
	return out, rows.Err()
}
