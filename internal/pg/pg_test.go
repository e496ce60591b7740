package pg_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/internal/pg"
	"shanyu/internal/pgtest"
)

// A starved pool answers an acquire with ErrBusy after the bound instead of waiting for ever.
func TestAcquireTimeoutAnswersBusy(t *testing.T) {
	t.Parallel()
	pool := pgtest.OpenWith(t, pgtest.NewURL(t), pg.Limits{MaxConns: 1, AcquireTimeout: 200 * time.Millisecond})
	ctx := context.Background()
	held, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	start := time.Now()
	_, err = pool.Exec(ctx, `SELECT 1`)
	if !errors.Is(err, pg.ErrBusy) || !pg.IsBusy(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire on a full pool: %v, want ErrBusy", err)
	}
	if took := time.Since(start); took < 150*time.Millisecond || took > 2*time.Second {
		t.Fatalf("busy after %v, want about 200ms", took)
	}
	// The caller's own deadline still reads as the caller's, not as busy.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := pool.Exec(cctx, `SELECT 1`); errors.Is(err, pg.ErrBusy) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("caller deadline: %v", err)
	}
}

// Sessions carry the timeouts, and a URL's own setting wins.
func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	url := pgtest.NewURL(t)
	pool := pgtest.OpenWith(t, url, pg.DefaultLimits)
	ctx := context.Background()
	for name, want := range map[string]string{"lock_timeout": "5s", "statement_timeout": "30s", "idle_in_transaction_session_timeout": "15s"} {
		var got string
		if err := pool.QueryRow(ctx, `SELECT current_setting($1)`, name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	own := pgtest.OpenWith(t, url+"&statement_timeout=1234", pg.DefaultLimits)
	var got string
	if err := own.QueryRow(ctx, `SHOW statement_timeout`).Scan(&got); err != nil || got != "1234ms" {
		t.Fatalf("URL's statement_timeout: %q %v", got, err)
	}
}

// A transaction that asks for a second connection of the same request is counted.
func TestNestedAcquireCounted(t *testing.T) {
	t.Parallel()
	pool := pgtest.OpenWith(t, pgtest.NewURL(t), pg.Limits{MaxConns: 4, AcquireTimeout: time.Second})
	ctx := pg.Track(context.Background())
	before := pg.Stats().NestedAcquires
	err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1`); err != nil { // the transaction itself: fine
			return err
		}
		return pg.WithTx(ctx, tx, func(sp pgx.Tx) error { // a savepoint: fine
			_, err := sp.Exec(ctx, `SELECT 1`)
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := pg.Stats().NestedAcquires - before; n != 0 {
		t.Fatalf("%d nested acquires counted for a transaction that used only itself", n)
	}
	err = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := pool.Exec(ctx, `SELECT 1`) // a second connection while the transaction is open
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Other tests of this package run in parallel and count nothing (they use no tracker).
	if n := pg.Stats().NestedAcquires - before; n != 1 {
		t.Fatalf("nested acquires counted: %d, want 1", n)
	}
	// After the transaction, the pool is free to use again.
	if _, err := pool.Exec(ctx, `SELECT 1`); err != nil || pg.Stats().NestedAcquires-before != 1 {
		t.Fatalf("after the transaction: %v, %d", err, pg.Stats().NestedAcquires-before)
	}
}

// Serialization failures and deadlocks are retried with the whole transaction; other errors are not.
func TestWithTxRetries(t *testing.T) {
	t.Parallel()
	pool := pgtest.OpenWith(t, pgtest.NewURL(t), pg.DefaultLimits)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE pgtest_retry (n int)`); err != nil {
		t.Fatal(err)
	}
	before := pg.Stats().Retries
	runs := 0
	err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		runs++
		if _, err := tx.Exec(ctx, `INSERT INTO pgtest_retry VALUES ($1)`, runs); err != nil {
			return err
		}
		if runs < 3 {
			_, err := tx.Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'collided' USING ERRCODE = 'serialization_failure'; END $$`)
			return err
		}
		return nil
	})
	if err != nil || runs != 3 {
		t.Fatalf("retried transaction: %v after %d runs", err, runs)
	}
	var rows []int
	r, _ := pool.Query(ctx, `SELECT n FROM pgtest_retry`)
	rows, err = pgx.CollectRows(r, pgx.RowTo[int])
	if err != nil || len(rows) != 1 || rows[0] != 3 {
		t.Fatalf("rows after retries: %v %v (the failed runs must have rolled back)", rows, err)
	}
	if pg.Stats().Retries-before < 2 {
		t.Fatalf("retries counted: %d, want at least 2", pg.Stats().Retries-before)
	}
	// Bounded: a transaction that always collides is given up after MaxAttempts runs.
	runs = 0
	err = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		runs++
		_, err := tx.Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'deadlock' USING ERRCODE = 'deadlock_detected'; END $$`)
		return err
	})
	if _, ok := pg.HasCode(err, pg.CodeDeadlock); !ok || runs != pg.MaxAttempts {
		t.Fatalf("always colliding: %v after %d runs", err, runs)
	}
	// Other errors are not retried.
	runs = 0
	_ = pg.WithTx(ctx, pool, func(tx pgx.Tx) error { runs++; return errors.New("no") })
	if runs != 1 {
		t.Fatalf("a plain error ran %d times", runs)
	}
}

// A real deadlock between two transactions locking two rows in opposite orders: the one PostgreSQL
// aborts is run again and both commit.
func TestWithTxRetriesRealDeadlock(t *testing.T) {
	t.Parallel()
	pool := pgtest.OpenWith(t, pgtest.NewURL(t), pg.DefaultLimits)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE pgtest_dl (id int PRIMARY KEY, n int); INSERT INTO pgtest_dl VALUES (1, 0), (2, 0);
		ALTER DATABASE `+pgx.Identifier{pool.Config().ConnConfig.Database}.Sanitize()+` SET deadlock_timeout = '50ms'`); err != nil {
		t.Fatal(err)
	}
	pool.Reset() // new sessions pick up the database's deadlock_timeout
	var both sync.WaitGroup
	var ready sync.WaitGroup
	ready.Add(2)
	errs := make([]error, 2)
	for i, order := range [][2]int{{1, 2}, {2, 1}} {
		both.Add(1)
		go func() {
			defer both.Done()
			first := true
			errs[i] = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `UPDATE pgtest_dl SET n = n + 1 WHERE id = $1`, order[0]); err != nil {
					return err
				}
				if first {
					first = false
					ready.Done()
					ready.Wait() // both hold their first row
				}
				_, err := tx.Exec(ctx, `UPDATE pgtest_dl SET n = n + 1 WHERE id = $1`, order[1])
				return err
			})
		}()
	}
	both.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("deadlocked transactions: %v, %v", errs[0], errs[1])
	}
	var sum int
	if err := pool.QueryRow(ctx, `SELECT sum(n) FROM pgtest_dl`).Scan(&sum); err != nil || sum != 4 {
		t.Fatalf("sum after both committed: %d %v", sum, err)
	}
}

// A deferred statement runs in the transaction, after fn and with the COMMIT: not before fn ends, not
// at all when fn fails or its savepoint is rolled back, and a failing one fails the commit and leaves
// nothing of the transaction behind.
func TestDeferRunsWithTheCommit(t *testing.T) {
	t.Parallel()
	pool := pgtest.OpenWith(t, pgtest.NewURL(t), pg.DefaultLimits)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE deferred (k text PRIMARY KEY CHECK (k <> 'bad'))`); err != nil {
		t.Fatal(err)
	}
	count := func(k string) int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM deferred WHERE k = $1`, k).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		if err := pg.Defer(ctx, tx, `INSERT INTO deferred VALUES ($1)`, "kept"); err != nil {
			return err
		}
		var seen int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM deferred`).Scan(&seen); err != nil || seen != 0 {
			t.Errorf("before the commit the transaction sees %d rows (%v), want 0", seen, err)
		}
		// A released savepoint hands its statement on; a rolled-back one drops it.
		if err := pg.WithTx(ctx, tx, func(sp pgx.Tx) error { return pg.Defer(ctx, sp, `INSERT INTO deferred VALUES ($1)`, "released") }); err != nil {
			return err
		}
		_ = pg.WithTx(ctx, tx, func(sp pgx.Tx) error {
			_ = pg.Defer(ctx, sp, `INSERT INTO deferred VALUES ($1)`, "dropped")
			return errors.New("roll the savepoint back")
		})
		_, err := tx.Exec(ctx, `INSERT INTO deferred VALUES ('direct')`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]int{"kept": 1, "released": 1, "dropped": 0, "direct": 1} {
		if got := count(k); got != want {
			t.Errorf("%s: %d rows, want %d", k, got, want)
		}
	}
	// fn fails: the deferred statement never runs.
	_ = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		_ = pg.Defer(ctx, tx, `INSERT INTO deferred VALUES ($1)`, "failed-fn")
		return errors.New("fail")
	})
	// The deferred statement fails: the commit fails, and the transaction's other row is gone too.
	err = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO deferred VALUES ('before-bad')`); err != nil {
			return err
		}
		return pg.Defer(ctx, tx, `INSERT INTO deferred VALUES ($1)`, "bad")
	})
	if _, ok := pg.HasCode(err, pg.CodeCheckViolation); !ok {
		t.Fatalf("commit with a failing deferred statement: %v, want a check violation", err)
	}
	for _, k := range []string{"failed-fn", "before-bad"} {
		if got := count(k); got != 0 {
			t.Errorf("%s: %d rows, want 0", k, got)
		}
	}
	// The connection went back clean: the pool still serves.
	if err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error { return pg.Defer(ctx, tx, `INSERT INTO deferred VALUES ('after')`) }); err != nil || count("after") != 1 {
		t.Fatalf("after a failed commit batch: %v", err)
	}
}

// countingConn counts the writes a client makes: each is one trip to the server (pgx writes a
// statement, or a whole pipelined batch, with one write, and then waits for the answer).
type countingConn struct {
	net.Conn
	writes *atomic.Int32
}

func (c countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// A transaction on a pool sends its BEGIN with its first statement, whatever kind it is, and
// sends nothing at all when fn sends nothing; what it ran is still one transaction (rolled back
// together, committed together), and the connection serves the next statement after each kind.
func TestBeginTravelsWithTheFirstStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	var writes atomic.Int32
	cfg.MaxConns = 1
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: c, writes: &writes}, nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE begun (k text PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	firsts := map[string]func(tx pgx.Tx, k string) error{
		"exec": func(tx pgx.Tx, k string) error {
			_, err := tx.Exec(ctx, `INSERT INTO begun VALUES ($1)`, k)
			return err
		},
		"query row": func(tx pgx.Tx, k string) error {
			var got string
			return tx.QueryRow(ctx, `INSERT INTO begun VALUES ($1) RETURNING k`, k).Scan(&got)
		},
		"query": func(tx pgx.Tx, k string) error {
			rows, err := tx.Query(ctx, `INSERT INTO begun VALUES ($1) RETURNING k`, k)
			if err != nil {
				return err
			}
			ks, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err == nil && (len(ks) != 1 || ks[0] != k) {
				err = fmt.Errorf("rows %q", ks)
			}
			return err
		},
		"batch": func(tx pgx.Tx, k string) error {
			var b pgx.Batch
			b.Queue(`INSERT INTO begun VALUES ($1)`, k)
			b.Queue(`SELECT 1`)
			return tx.SendBatch(ctx, &b).Close()
		},
	}
	count := func(k string) int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM begun WHERE k = $1`, k).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for name, first := range firsts {
		for round := 0; round < 2; round++ { // the first round prepares the statements
			k := fmt.Sprintf("%s %d", name, round)
			writes.Store(0)
			err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
				if err := first(tx, k); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `INSERT INTO begun VALUES ($1)`, k+" second")
				return err
			})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			// The first statement with BEGIN, the second, COMMIT.
			if n := writes.Load(); round == 1 && n != 3 {
				t.Errorf("%s: %d trips to the server, want 3", name, n)
			}
			if count(k) != 1 || count(k+" second") != 1 {
				t.Errorf("%s: not committed", name)
			}
			// The same, rolled back: neither row stays, so the first was inside the transaction.
			k += " rolled back"
			_ = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
				if err := first(tx, k); err != nil {
					return err
				}
				_, _ = tx.Exec(ctx, `INSERT INTO begun VALUES ($1)`, k+" second")
				return errors.New("roll back")
			})
			if count(k) != 0 || count(k+" second") != 0 {
				t.Errorf("%s: rows of a rolled-back transaction stayed", name)
			}
		}
	}
	// Nothing sent, nothing deferred: no trip at all. Only a deferred statement: one, with BEGIN and COMMIT.
	writes.Store(0)
	if err := pg.WithTx(ctx, pool, func(pgx.Tx) error { return nil }); err != nil || writes.Load() != 0 {
		t.Errorf("empty transaction: %v, %d trips", err, writes.Load())
	}
	for round := 0; round < 2; round++ {
		writes.Store(0)
		k := fmt.Sprintf("deferred %d", round)
		if err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error { return pg.Defer(ctx, tx, `INSERT INTO begun VALUES ($1)`, k) }); err != nil {
			t.Fatal(err)
		}
		if n := writes.Load(); round == 1 && n != 1 {
			t.Errorf("deferred only: %d trips, want 1", n)
		}
		if count(k) != 1 {
			t.Errorf("deferred only: not committed")
		}
	}
	// A first statement that fails leaves the pool serving.
	err = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO begun VALUES ($1)`, "exec 1")
		return err
	})
	if _, ok := pg.HasCode(err, pg.CodeUniqueViolation); !ok {
		t.Fatalf("duplicate first statement: %v", err)
	}
	if err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO begun VALUES ('after')`)
		return err
	}); err != nil || count("after") != 1 {
		t.Fatalf("after a failed first statement: %v", err)
	}
}
