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
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", fmt.Errorf("connect to test server: %w", err)
	}
	defer conn.Close(ctx)
	// Many test binaries start at once; one builds the template, the others wait for it.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(7431)`); err != nil {
		return "", err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7431)`) //nolint:errcheck
	var isTemplate *bool
	err = conn.QueryRow(ctx, `SELECT datistemplate FROM pg_database WHERE datname = $1`, name).Scan(&isTemplate)
	if err == nil && isTemplate != nil && *isTemplate {
		return name, nil
	}
	if err != nil && !pg.IsNoRows(err) {
		return "", err
	}
	if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()+` TEMPLATE template0`); err != nil {
		return "", err
	}
	tplURL, _ := withDatabase(server, name)
	pool, err := pg.Open(ctx, tplURL)
	if err != nil {
		return "", err
	}
	_, err = migrations.Up(ctx, pool)
	pool.Close()
	if err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	if _, err := conn.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{name}.Sanitize()+` WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`); err != nil {
		return "", err
	}
	// Templates of other migration sets are left alone: another test run (another checkout, or a
	// colleague's tree) may be cloning them right now.
	return name, nil
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
