package pg_test

import (
	"context"
	"net/url"
	"testing"

	"shanyu/internal/pg"
	"shanyu/internal/pgtest"
)

// Reads never use a standby they cannot prove caught up: one that is down, and one that is not in
// recovery (a promoted standby, or a URL pointing at a primary), both leave every read on the
// primary, and the reads are answered.
func TestReadsFallBackToThePrimary(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := pgtest.NewURL(t)
	primary := pgtest.OpenWith(t, dbURL, pg.DefaultLimits)
	down, err := pg.Standby(ctx, "postgres://postgres@127.0.0.1:1/shanyu?sslmode=disable&connect_timeout=1", 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(down.Close)
	notStandby, err := pg.Standby(ctx, dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(notStandby.Close)
	for name, standby := range map[string]*pg.Reads{
		"down":          pg.NewReads(pg.ReadsOptions{Primary: primary, Standby: down}),
		"not a standby": pg.NewReads(pg.ReadsOptions{Primary: primary, Standby: notStandby}),
		"none":          pg.NewReads(pg.ReadsOptions{Primary: primary}),
	} {
		for i := 0; i < 3; i++ {
			var n int
			if err := standby.QueryRow(ctx, `SELECT 42`).Scan(&n); err != nil || n != 42 {
				t.Fatalf("%s: QueryRow = %d, %v", name, n, err)
			}
			rows, err := standby.Query(ctx, `SELECT generate_series(1, 3)`)
			if err != nil {
				t.Fatalf("%s: Query: %v", name, err)
			}
			rows.Close()
		}
		s, p := standby.Counts()
		if s != 0 || p != 6 {
			t.Errorf("%s: reads on the standby %d, on the primary %d; want 0 and 6", name, s, p)
		}
		if lag, known := standby.Lag(); known {
			t.Errorf("%s: lag %v reported as known", name, lag)
		}
	}
}

// A DATABASE_URL listing a host that is gone before the live one, with
// target_session_attrs=read-write, connects to the live primary (as after a failover).
func TestFailoverURLConnectsToTheWritableHost(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	live := u.Port()
	u.Host = "127.0.0.1:1," + u.Host
	q := u.Query()
	q.Set("target_session_attrs", "read-write")
	u.RawQuery = q.Encode()
	pool, err := pg.Open(context.Background(), u.String())
	if err != nil {
		t.Fatalf("open %s: %v", u.Redacted(), err)
	}
	defer pool.Close()
	var port string
	var recovering bool
	if err := pool.QueryRow(context.Background(), `SELECT inet_server_port()::text, pg_is_in_recovery()`).Scan(&port, &recovering); err != nil {
		t.Fatal(err)
	}
	if port != live || recovering {
		t.Fatalf("connected to port %s (in recovery: %v), want the writable %s", port, recovering, live)
	}
}
