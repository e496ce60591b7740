// Package pgtest gives tests real PostgreSQL databases: a template database is migrated once per code
// version, and each call to New clones it into a fresh database that is dropped when the test ends.
// It is for tests only and must not be imported by production code.
//
// The server is found through SHANYU_TEST_DATABASE_URL, then DATABASE_URL, then the project's private
// cluster (scripts/localpg, which `make test` starts).
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/internal/pg"
	"shanyu/migrations"
)

var (
	baseOnce sync.Once
	baseURL  string
	baseErr  error

	tplOnce sync.Once
	tplName string
	tplErr  error

	seeded sync.Map // key → *seededTemplate

	exeOnce sync.Once
	exeHash string
	exeErr  error
)

// ServerURL returns the URL of the test server's maintenance database, failing the test when there is none.
func ServerURL(tb testing.TB) string {
	tb.Helper()
	baseOnce.Do(func() { baseURL, baseErr = findServer() })
	if baseErr != nil {
		tb.Fatalf("pgtest: %v", baseErr)
	}
	return baseURL
}

func findServer() (string, error) {
	for _, key := range []string{"SHANYU_TEST_DATABASE_URL", "DATABASE_URL"} {
		if v := os.Getenv(key); v != "" {
			return withDatabase(v, "postgres")
		}
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	out, err := exec.Command(filepath.Join(root, "scripts", "localpg"), "url").Output()
	if err != nil {
		return "", fmt.Errorf("no PostgreSQL for tests: set SHANYU_TEST_DATABASE_URL, or run `make test` (or `scripts/localpg start`)")
	}
	return withDatabase(strings.TrimSpace(string(out)), "postgres")
}

// RepoRoot finds the directory holding go.mod, walking up from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above the working directory")
		}
		dir = parent
	}
}

func withDatabase(raw, db string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("bad database url: %w", err)
	}
	u.Path = "/" + db
	return u.String(), nil
}

// templateName is derived from the migrations' contents, so changed migrations get a new template.
func templateName() (string, error) {
	all, err := migrations.All()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, m := range all {
		fmt.Fprintf(h, "%d\x00%s\x00%s\x00%s\x00", m.Version, m.Name, m.Up, m.Down)
	}
	return "shanyu_tpl_" + hex.EncodeToString(h.Sum(nil))[:16], nil
}

func ensureTemplate(ctx context.Context, server string) (string, error) {
	name, err := templateName()
	if err != nil {
		return "", err
	}
	// Templates of other migration sets are left alone: another test run (another checkout, or a
	// colleague's tree) may be cloning them right now.
	return name, buildTemplate(ctx, server, name, 7431, "template0", nil, func(ctx context.Context, url string) error {
		pool, err := pg.Open(ctx, url)
		if err != nil {
			return err
		}
		defer pool.Close()
		if _, err := migrations.Up(ctx, pool); err != nil {
			return fmt.Errorf("migrate template: %w", err)
		}
		return nil
	})
}

// buildTemplate makes the template database name, unless it exists: a copy of from, filled by fill
// (given its URL), then marked a template nobody connects to. Many test binaries start at once; one
// builds it under the advisory lock lockKey, the others wait and find it built. before, when set,
// runs under the lock before a new template is built.
func buildTemplate(ctx context.Context, server, name string, lockKey int64, from string, before func(*pgx.Conn), fill func(ctx context.Context, url string) error) error {
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return fmt.Errorf("connect to test server: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockKey); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockKey) //nolint:errcheck
	var isTemplate *bool
	err = conn.QueryRow(ctx, `SELECT datistemplate FROM pg_database WHERE datname = $1`, name).Scan(&isTemplate)
	if err == nil && isTemplate != nil && *isTemplate {
		return nil
	}
	if err != nil && !pg.IsNoRows(err) {
		return err
	}
	if before != nil {
		before(conn)
	}
	quoted := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+quoted+` WITH (FORCE)`); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+quoted+` TEMPLATE `+pgx.Identifier{from}.Sanitize()); err != nil {
		return err
	}
	u, _ := withDatabase(server, name)
	if err := fill(ctx, u); err != nil {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `DROP DATABASE IF EXISTS `+quoted+` WITH (FORCE)`)
		return err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf(`COMMENT ON DATABASE %s IS '%d'`, quoted, time.Now().Unix())); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, `ALTER DATABASE `+quoted+` WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`)
	return err
}

// NewURL creates a fresh, migrated database for this test and returns its URL. It is dropped at the end.
func NewURL(tb testing.TB) string {
	tb.Helper()
	server := ServerURL(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tplOnce.Do(func() { tplName, tplErr = ensureTemplate(ctx, server) })
	if tplErr != nil {
		tb.Fatalf("pgtest: template: %v", tplErr)
	}
	return create(ctx, tb, server, tplName)
}

// seededTemplate is one seeded template database of this test binary.
type seededTemplate struct {
	once sync.Once
	name string
	err  error
}

// NewSeededURL creates a fresh database for this test holding the migrations and what seed wrote, and
// returns its URL; it is dropped at the end. seed runs once per test binary and key, into a template
// database that every later call clones, so that a suite of tests on the same fixture pays for it once
// (the demo seed hashes a dozen passwords and signs certificates). The template's name carries a hash
// of the test binary, so changed seed code never meets a stale template; seed gets the URL of a
// database nobody else uses and must close its connections before it returns.
func NewSeededURL(tb testing.TB, key string, seed func(ctx context.Context, url string) error) string {
	tb.Helper()
	server := ServerURL(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tplOnce.Do(func() { tplName, tplErr = ensureTemplate(ctx, server) })
	if tplErr != nil {
		tb.Fatalf("pgtest: template: %v", tplErr)
	}
	v, _ := seeded.LoadOrStore(key, &seededTemplate{})
	st := v.(*seededTemplate)
	st.once.Do(func() { st.name, st.err = ensureSeeded(ctx, server, key, seed) })
	if st.err != nil {
		tb.Fatalf("pgtest: seeded template %q: %v", key, st.err)
	}
	return create(ctx, tb, server, st.name)
}

// binaryHash identifies the running test binary's contents.
func binaryHash() (string, error) {
	exeOnce.Do(func() {
		exe, err := os.Executable()
		if err != nil {
			exeErr = err
			return
		}
		f, err := os.Open(exe)
		if err != nil {
			exeErr = err
			return
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			exeErr = err
			return
		}
		exeHash = hex.EncodeToString(h.Sum(nil))[:12]
	})
	return exeHash, exeErr
}

// seededPrefix names seeded templates; those older than seededMaxAge are dropped by the next binary
// that builds one (a test binary runs for minutes, not hours).
const (
	seededPrefix = "shanyu_seed_"
	seededMaxAge = 6 * time.Hour
)

func ensureSeeded(ctx context.Context, server, key string, seed func(ctx context.Context, url string) error) (string, error) {
	bin, err := binaryHash()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(tplName + "\x00" + bin + "\x00" + key))
	name := seededPrefix + hex.EncodeToString(sum[:])[:16]
	before := func(conn *pgx.Conn) { dropSeeded(ctx, conn) }
	return name, buildTemplate(ctx, server, name, 7432, tplName, before, func(ctx context.Context, url string) error {
		if err := seed(ctx, url); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		return nil
	})
}

// dropSeeded drops seeded templates older than seededMaxAge, best effort.
func dropSeeded(ctx context.Context, conn *pgx.Conn) {
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database
		WHERE datname LIKE $1 AND COALESCE(shobj_description(oid, 'pg_database'), '') ~ '^[0-9]+$'
		  AND shobj_description(oid, 'pg_database')::bigint < $2`, seededPrefix+"%", time.Now().Add(-seededMaxAge).Unix())
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, n := range names {
		q := pgx.Identifier{n}.Sanitize()
		_, _ = conn.Exec(ctx, `ALTER DATABASE `+q+` WITH IS_TEMPLATE false`)
		_, _ = conn.Exec(ctx, `DROP DATABASE IF EXISTS `+q+` WITH (FORCE)`)
	}
}

// NewEmptyURL creates an empty database (no migrations applied) for this test and returns its URL.
func NewEmptyURL(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return create(ctx, tb, ServerURL(tb), "template0")
}

func create(ctx context.Context, tb testing.TB, server, template string) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "shanyu_test_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		tb.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()+` TEMPLATE `+pgx.Identifier{template}.Sanitize()); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			tb.Logf("pgtest: drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
			tb.Logf("pgtest: drop %s: %v", name, err)
		}
	})
	u, _ := withDatabase(server, name)
	return u
}

// New returns a pool on a fresh, migrated database for this test, closed and dropped at the end.
func New(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	return Open(tb, NewURL(tb))
}

// Open opens a pool on url and closes it when the test ends (before the database is dropped).
func Open(tb testing.TB, url string) *pgxpool.Pool {
	tb.Helper()
	pool, err := pg.Open(context.Background(), url)
	if err != nil {
		tb.Fatalf("pgtest: open: %v", err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// OpenWith opens a pool on url with the given limits (pool size, acquire bound, session timeouts)
// and closes it when the test ends.
func OpenWith(tb testing.TB, url string, lim pg.Limits) *pgxpool.Pool {
	tb.Helper()
	pool, err := pg.OpenWith(context.Background(), url, lim)
	if err != nil {
		tb.Fatalf("pgtest: open: %v", err)
	}
	tb.Cleanup(pool.Close)
	return pool
}
