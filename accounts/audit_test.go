package accounts

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/internal/pg"
	"shanyu/internal/pgtest"
)

// sealAll seals until no row is left unsealed, within a deadline: the horizon depends on every
// transaction of the cluster (other tests' too), so a round may have to wait for some.
func sealAll(t *testing.T, db *pgxpool.Pool) {
	t.Helper()
	if _, waiting, err := NewSealer(db, nil).SealWaiting(context.Background(), 30*time.Second); err != nil || waiting > 0 {
		t.Fatalf("%d audit rows still unsealed after 30 s (%v)", waiting, err)
	}
}

func unsealedCount(t *testing.T, db pg.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log a WHERE NOT EXISTS (SELECT FROM audit_chain c WHERE c.id = a.id)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// 32 writers append in their own transactions, a fifth of which roll back, while two sealers (two
// replicas) seal concurrently: the result is one unbroken chain holding every committed row once and
// no rolled-back one.
func TestAuditSealConcurrentWritersOneChain(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	const writers, each = 32, 15
	stop := make(chan struct{})
	var sealers sync.WaitGroup
	for range 2 {
		sealers.Add(1)
		go func() {
			defer sealers.Done()
			s := NewSealer(db, nil)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Seal(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				rollback := (w+i)%5 == 0
				err := pg.WithTx(ctx, db, func(tx pgx.Tx) error {
					if err := Audit(ctx, tx, Event{ActorID: int64(w), Action: "test.concurrent", Subject: fmt.Sprintf("w%d:%d", w, i),
						Details: map[string]any{"rollback": rollback, "名": "张三"}}); err != nil {
						return err
					}
					if rollback {
						return errRollback
					}
					return nil
				})
				if err != nil && !errors.Is(err, errRollback) {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	sealers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	sealAll(t, db)
	committed := 0
	for w := range writers {
		for i := range each {
			if (w+i)%5 != 0 {
				committed++
			}
		}
	}
	c, err := CheckAudit(ctx, db, time.Minute)
	if err != nil || c.Sealed != committed || c.Unsealed != 0 {
		t.Fatalf("check = %+v, %v; want %d sealed rows, none unsealed, an intact chain", c, err, committed)
	}
	var rows, subjects, rolledBack int
	if err := db.QueryRow(ctx, `SELECT count(*), count(DISTINCT subject), count(*) FILTER (WHERE details->>'rollback' = 'true')
		FROM audit_log WHERE action = 'test.concurrent'`).Scan(&rows, &subjects, &rolledBack); err != nil {
		t.Fatal(err)
	}
	if rows != committed || subjects != committed || rolledBack != 0 {
		t.Fatalf("%d rows, %d subjects, %d rolled back; want %d, %d, 0", rows, subjects, rolledBack, committed, committed)
	}
	// Sealed once: a sealed row cannot be sealed again, not even with the same hash, and a seal
	// cannot change.
	if _, err := db.Exec(ctx, `INSERT INTO audit_chain SELECT * FROM audit_chain ORDER BY id LIMIT 1`); err == nil {
		t.Fatal("a sealed row was sealed again")
	}
	if _, err := db.Exec(ctx, `UPDATE audit_chain SET hash = hash WHERE id = (SELECT min(id) FROM audit_chain)`); err == nil {
		t.Fatal("a seal was changed")
	}
}

var errRollback = errors.New("rolled back on purpose")

// A transaction that appended early (lower id) and commits late is not skipped: the rows after it wait
// for it, and the chain takes it in its place. The harder case comes second: a transaction with an
// older xid appends after the open one and commits, so its row's xid is below the horizon while a
// lower id is still in flight (sealing every row whose xid is below the horizon would skip the open
// one).
//
// Without later rows (after = 0) nothing newer than the open transaction has completed when the
// sealer checks, which is where a snapshot's xmax (one past the newest completed xid) would let it
// seal c: the checkpoint takes a fresh xid instead.
func TestAuditSealWaitsForALateCommit(t *testing.T) {
	t.Parallel()
	for _, after := range []int{0, 3} {
		t.Run(fmt.Sprint(after, " after"), func(t *testing.T) {
			t.Parallel()
			testLateCommit(t, after)
		})
	}
}

func testLateCommit(t *testing.T, after int) {
	db := pgtest.New(t)
	ctx := context.Background()
	if err := AuditNow(ctx, db, Event{Action: "test.before", Subject: "a"}); err != nil {
		t.Fatal(err)
	}
	sealAll(t, db)
	older, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer older.Rollback(ctx)                                                 //nolint:errcheck
	if _, err := older.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil { // its xid, before late's
		t.Fatal(err)
	}
	late, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Rollback(ctx) //nolint:errcheck
	if err := Audit(ctx, late, Event{Action: "test.late", Subject: "b"}); err != nil {
		t.Fatal(err)
	}
	if err := Audit(ctx, older, Event{Action: "test.older", Subject: "c"}); err != nil {
		t.Fatal(err)
	}
	if err := older.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range after {
		if err := AuditNow(ctx, db, Event{Action: "test.after", Subject: fmt.Sprint("d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	// The premise: c's xid is older than b's, so once b is the oldest transaction running, c is below
	// the horizon while b, with the lower id, is in flight.
	var olderXID bool
	if err := late.QueryRow(ctx, `SELECT (SELECT xid FROM audit_log WHERE subject = 'c') < (SELECT xid FROM audit_log WHERE subject = 'b')`).Scan(&olderXID); err != nil || !olderXID {
		t.Fatalf("row c's xid is not older than row b's (%v): the test shows nothing", err)
	}
	s := NewSealer(db, nil)
	for range 5 {
		res, err := s.Seal(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Sealed != 0 || res.Waiting != 1+after {
			t.Fatalf("sealed past an open transaction: %+v", res)
		}
	}
	if c, err := CheckAudit(ctx, db, 0); err != nil || c.Sealed != 1 || c.Unsealed != 1+after {
		t.Fatalf("while the late one is open: %+v, %v", c, err)
	}
	if err := late.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	sealAll(t, db)
	c, err := CheckAudit(ctx, db, 0)
	if err != nil || c.Sealed != 3+after || c.Unsealed != 0 {
		t.Fatalf("after the late commit: %+v, %v", c, err)
	}
	var order string
	want := "a,b,c"
	for i := range after {
		want += fmt.Sprint(",d", i)
	}
	if err := db.QueryRow(ctx, `SELECT string_agg(subject, ',' ORDER BY id) FROM audit_log`).Scan(&order); err != nil || order != want {
		t.Fatalf("chain order %q, %v", order, err)
	}
}

// Rows appended before a sealer starts (by another process, or before a restart: their NOTIFY went
// to nobody) are sealed when it starts, with no append and no periodic job to wake it.
func TestAuditSealerRunSealsWhatWaitsAtStart(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	for i := range 3 {
		if err := AuditNow(ctx, db, Event{Action: "test.before_start", Subject: fmt.Sprint("s", i)}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() { NewSealer(db, nil).Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(20 * time.Second)
	for unsealedCount(t, db) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d rows appended before the sealer started are still unsealed after 20 s", unsealedCount(t, db))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if c, err := CheckAudit(ctx, db, 0); err != nil || c.Sealed != 3 {
		t.Fatalf("after the first round: %+v, %v", c, err)
	}
}

// A sealed row changed, removed or unsealed behind the triggers' back is found; so are a forged seal
// and the removal of the last sealed row (no later row's link names it).
func TestAuditSealTamperingDetected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name, sql string
		table     string // the table whose trigger the sql needs off ("": none, the trigger allows it)
		at        int    // which row (0-based) the sql changes; -1: none
		want      int    // which row verify must name
		reason    string
	}{
		{"content", `UPDATE audit_log SET subject = 'forged' WHERE id = $1`, "audit_log", 2, 2, "content does not match its hash"},
		{"removed", `DELETE FROM audit_log WHERE id = $1`, "audit_log", 2, 2, "the row was removed after it was sealed"},
		{"last removed", `DELETE FROM audit_log WHERE id = $1`, "audit_log", 4, 4, "the row was removed after it was sealed"},
		{"unsealed", `DELETE FROM audit_chain WHERE id = $1`, "audit_chain", 2, 3, "sealed after an unsealed row: a row was skipped"},
		{"forged seal", `INSERT INTO audit_chain VALUES ($1, sha256('y'), sha256('x'))`, "", 5, 5, "prev_hash does not match the previous row"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := pgtest.New(t)
			for i := range 5 {
				if err := AuditNow(ctx, db, Event{ActorID: int64(i), Action: "test", Subject: "x", Details: map[string]any{"i": i}}); err != nil {
					t.Fatal(err)
				}
			}
			sealAll(t, db)
			if err := AuditNow(ctx, db, Event{Action: "test.unsealed", Subject: "y"}); err != nil { // row 5, left unsealed
				t.Fatal(err)
			}
			rows, _ := db.Query(ctx, `SELECT id FROM audit_log ORDER BY id`)
			ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil || len(ids) != 6 {
				t.Fatalf("ids %v, %v", ids, err)
			}
			if c, err := CheckAudit(ctx, db, 0); err != nil || c.Sealed != 5 || c.Unsealed != 1 {
				t.Fatalf("before: %+v, %v", c, err)
			}
			sqls := []string{tc.sql}
			if tc.table != "" {
				sqls = []string{`ALTER TABLE ` + tc.table + ` DISABLE TRIGGER ` + tc.table + `_no_update`, tc.sql,
					`ALTER TABLE ` + tc.table + ` ENABLE TRIGGER ` + tc.table + `_no_update`}
			}
			for _, sql := range sqls {
				var args []any
				if sql == tc.sql {
					args = append(args, ids[tc.at])
				}
				if _, err := db.Exec(ctx, sql, args...); err != nil {
					t.Fatal(err)
				}
			}
			_, err = VerifyAudit(ctx, db)
			var broken *ErrChainBroken
			if !errors.As(err, &broken) || broken.ID != ids[tc.want] || broken.Reason() != tc.reason {
				t.Fatalf("want row %d broken (%s), got %v", ids[tc.want], tc.reason, err)
			}
		})
	}
}

// Unsealed rows older than the bound are reported as overdue; the trigger lets no row change, sealed
// or not (sealing writes audit_chain).
func TestAuditUnsealedOverdueAndAppendOnly(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	if err := AuditNow(ctx, db, Event{Action: "test", Subject: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `UPDATE audit_log SET subject = 'y'`); err == nil {
		t.Fatal("an unsealed row's content was changed")
	}
	time.Sleep(20 * time.Millisecond)
	c, err := CheckAudit(ctx, db, 10*time.Millisecond)
	if err != nil || c.Unsealed != 1 || c.Overdue != 1 || c.OldestUnsealed.IsZero() {
		t.Fatalf("check = %+v, %v; want one overdue row", c, err)
	}
	if c, err := CheckAudit(ctx, db, time.Hour); err != nil || c.Overdue != 0 {
		t.Fatalf("check (1 h) = %+v, %v", c, err)
	}
	sealAll(t, db)
	if c, err := CheckAudit(ctx, db, 10*time.Millisecond); err != nil || c.Unsealed != 0 || c.Overdue != 0 || c.Sealed != 1 {
		t.Fatalf("after sealing: %+v, %v", c, err)
	}
	if unsealedCount(t, db) != 0 {
		t.Fatal("unsealed rows left")
	}
}
