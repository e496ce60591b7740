package pg_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/pg"
	"shanyu/internal/pgtest"
)

// Each way a real database goes away reads as unreachable (the server answers it 503), and errors
// that only look alike do not: a constraint, the caller's own cancellation, a truncated upload's
// unexpected EOF.
func TestUnreachableErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewURL(t)

	// Nothing listens on the port: connection refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	_, refused := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/x?sslmode=disable&connect_timeout=2", addr.Port))

	// The server ends the session (57P01), then the connection is gone.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var pid int
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	admin := pgtest.Open(t, url)
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	var terminated error
	for i := 0; i < 50 && terminated == nil; i++ {
		_, terminated = conn.Exec(ctx, `SELECT 1`)
		time.Sleep(20 * time.Millisecond)
	}
	_, afterwards := conn.Exec(ctx, `SELECT 1`)

	// A closed pool.
	closed := pgtest.Open(t, url)
	closed.Close()
	_, poolClosed := closed.Exec(ctx, `SELECT 1`)

	for name, err := range map[string]error{"refused": refused, "terminated": terminated, "after termination": afterwards, "closed pool": poolClosed} {
		if err == nil || !pg.IsUnreachable(err) {
			t.Errorf("%s: %v, want unreachable", name, err)
		}
		t.Logf("%s: %v", name, err)
		if pg.IsUnreachable(fmt.Errorf("save: %w", err)) != (err != nil) {
			t.Errorf("%s, wrapped: not unreachable", name)
		}
	}

	_, unique := admin.Exec(ctx, `CREATE TEMP TABLE u (x int PRIMARY KEY); INSERT INTO u VALUES (1), (1)`)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, cancelled := admin.Exec(cctx, `SELECT 1`)
	_, truncated := zip.NewReader(bytes.NewReader([]byte("PK\x03\x04 not a whole archive")), 30)
	for name, err := range map[string]error{"unique violation": unique, "cancelled by the caller": cancelled, "truncated upload": truncated,
		"unexpected EOF": io.ErrUnexpectedEOF, "nil": nil} {
		if pg.IsUnreachable(err) {
			t.Errorf("%s: %v reads as unreachable", name, err)
		}
	}
	if unique == nil || cancelled == nil {
		t.Fatalf("the look-alikes did not fail: %v, %v", unique, cancelled)
	}
}
