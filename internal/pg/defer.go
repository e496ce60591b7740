package pg

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Tx is the transaction WithTx hands to fn. It is a pgx.Tx that can also hold statements back
// (Defer) and send them with its COMMIT, in one pipelined batch: a statement whose result nobody reads
// — the audit append — then costs no round trip of its own. The statements still run inside the
// transaction, before the COMMIT and in the order deferred, so they commit exactly when the rest of the
// transaction does, and a failure of any of them rolls the whole transaction back.
//
// On a pool, the BEGIN waits for the transaction's first statement and goes with it, in the same
// round trip (pgx's Batch.BeginTx): a transaction costs its statements' round trips and its commit's.
// One that sends nothing sends no BEGIN and no COMMIT.
//
// A savepoint (Begin, or WithTx on a Tx) keeps its own deferred statements: released, it hands them
// to its parent; rolled back, it drops them.
type Tx struct {
	// inner is the pgx transaction (or savepoint) underneath; nil on a pool until the first
	// statement has begun it.
	inner    pgx.Tx
	conn     *pgx.Conn // the connection, for the commit batch
	parent   *Tx       // for a savepoint, the transaction it belongs to
	release  func()    // gives a pool connection back, after the transaction has ended
	deferred []deferredStatement
	ended    bool // committed by the batch: the pgx.Tx underneath is not used again
}

type deferredStatement struct {
	sql  string
	args []any
}

// Defer runs sql in tx: just before tx commits, in the commit's round trip, when tx is WithTx's
// (Tx); at once otherwise. sql's result is not read, and its error is the commit's.
func Defer(ctx context.Context, tx pgx.Tx, sql string, args ...any) error {
	if t, ok := tx.(*Tx); ok && !t.ended {
		t.deferred = append(t.deferred, deferredStatement{sql: sql, args: args})
		return nil
	}
	_, err := tx.Exec(ctx, sql, args...)
	return err
}

// begin opens the transaction runTx runs fn in: on a pool, on a connection of its own acquired here
// (so that the commit batch can end the transaction without the pool's pgx.Tx sending a COMMIT of
// its own), begun by the first statement; in a Tx, a savepoint of it.
func begin(ctx context.Context, db DB) (*Tx, error) {
	switch d := db.(type) {
	case *Tx:
		if err := d.open(ctx); err != nil { // a transaction that begins with a savepoint
			return nil, err
		}
		sp, err := d.inner.Begin(ctx)
		if err != nil {
			return nil, err
		}
		return &Tx{inner: sp, conn: d.conn, parent: d}, nil
	case *pgxpool.Pool:
		c, err := d.Acquire(ctx)
		if err != nil {
			return nil, err
		}
		return &Tx{conn: c.Conn(), release: c.Release}, nil
	default:
		// A *pgx.Conn, or another's pgx.Tx (then a savepoint whose deferred statements are sent
		// one by one before it is released).
		tx, err := db.Begin(ctx)
		if err != nil {
			return nil, err
		}
		_, inTx := db.(pgx.Tx)
		t := &Tx{inner: tx, conn: tx.Conn()}
		if inTx {
			t.conn = nil
		}
		return t, nil
	}
}

// open begins the transaction on its own round trip, for a first statement that cannot carry the
// BEGIN.
func (tx *Tx) open(ctx context.Context) error {
	if tx.inner != nil {
		return nil
	}
	inner, err := tx.conn.Begin(ctx)
	if err != nil {
		return err
	}
	tx.inner = inner
	return nil
}

// send sends b on the transaction's connection, beginning the transaction in front of b's statements
// when none was begun yet; the results are those of b's own statements.
func (tx *Tx) send(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if tx.inner != nil {
		return tx.inner.SendBatch(ctx, b)
	}
	withBegin := &pgx.Batch{}
	withBegin.BeginTx(pgx.TxOptions{})
	withBegin.QueuedQueries = append(withBegin.QueuedQueries, b.QueuedQueries...)
	br := tx.conn.SendBatch(ctx, withBegin)
	tx.inner = br.Tx()
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return pgx.FailedBatchResults(b, err)
	}
	return br
}

// sendOne sends one statement with the transaction's BEGIN in front.
func (tx *Tx) sendOne(ctx context.Context, sql string, args []any) pgx.BatchResults {
	var b pgx.Batch
	b.Queue(sql, args...)
	return tx.send(ctx, &b)
}

// Exec runs sql in the transaction, with its BEGIN when it is the first statement.
func (tx *Tx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if tx.inner == nil && len(args) == 0 {
		// Sent as a simple query, which may hold several statements and cannot be pipelined.
		if err := tx.open(ctx); err != nil {
			return pgconn.CommandTag{}, err
		}
	}
	if tx.inner != nil {
		return tx.inner.Exec(ctx, sql, args...)
	}
	br := tx.sendOne(ctx, sql, args)
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// Query runs sql in the transaction, with its BEGIN when it is the first statement.
func (tx *Tx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if tx.inner != nil {
		return tx.inner.Query(ctx, sql, args...)
	}
	br := tx.sendOne(ctx, sql, args)
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return rows, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// QueryRow runs sql in the transaction, with its BEGIN when it is the first statement.
func (tx *Tx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if tx.inner != nil {
		return tx.inner.QueryRow(ctx, sql, args...)
	}
	rows, err := tx.Query(ctx, sql, args...)
	return firstRow{rows: rows, err: err}
}

// SendBatch runs b in the transaction, with its BEGIN in front when b is the first statement.
func (tx *Tx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return tx.send(ctx, b)
}

// CopyFrom copies rows into a table in the transaction.
func (tx *Tx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if err := tx.open(ctx); err != nil {
		return 0, err
	}
	return tx.inner.CopyFrom(ctx, table, columns, src)
}

// Prepare prepares a statement on the transaction's connection.
func (tx *Tx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if err := tx.open(ctx); err != nil {
		return nil, err
	}
	return tx.inner.Prepare(ctx, name, sql)
}

// LargeObjects offers the transaction's large objects (begun first).
func (tx *Tx) LargeObjects() pgx.LargeObjects {
	if err := tx.open(context.Background()); err != nil {
		panic(fmt.Sprintf("pg.Tx: begin for large objects: %v", err))
	}
	return tx.inner.LargeObjects()
}

// Conn is the transaction's connection, the transaction begun first (so that what runs on it runs
// inside the transaction).
func (tx *Tx) Conn() *pgx.Conn {
	if err := tx.open(context.Background()); err != nil {
		panic(fmt.Sprintf("pg.Tx: begin for Conn: %v", err))
	}
	return tx.inner.Conn()
}

// Begin opens a savepoint whose deferred statements go to tx when it is released.
func (tx *Tx) Begin(ctx context.Context) (pgx.Tx, error) {
	return begin(ctx, tx)
}

// Commit sends the deferred statements and the COMMIT in one batch (or hands them to the parent,
// for a savepoint).
func (tx *Tx) Commit(ctx context.Context) error {
	if tx.ended {
		return pgx.ErrTxClosed
	}
	switch {
	case tx.parent != nil:
		if err := tx.inner.Commit(ctx); err != nil {
			return err
		}
		tx.parent.deferred = append(tx.parent.deferred, tx.deferred...)
	case tx.inner == nil && len(tx.deferred) == 0:
		tx.ended = true // nothing was sent: there is no transaction to end
	case len(tx.deferred) == 0:
		return tx.inner.Commit(ctx)
	case tx.conn == nil:
		for _, d := range tx.deferred {
			if _, err := tx.inner.Exec(ctx, d.sql, d.args...); err != nil {
				return err
			}
		}
		if err := tx.inner.Commit(ctx); err != nil {
			return err
		}
	default:
		if err := tx.commitBatch(ctx); err != nil {
			return err
		}
	}
	tx.deferred = nil
	return nil
}

// commitBatch sends the deferred statements and COMMIT as one pipelined batch. In an explicit
// transaction a pipeline's statements run in it, and after a failed one PostgreSQL skips the rest
// (the COMMIT too) up to the batch's end, leaving the transaction aborted for Rollback to end.
func (tx *Tx) commitBatch(ctx context.Context) error {
	b := &pgx.Batch{}
	for _, d := range tx.deferred {
		b.Queue(d.sql, d.args...)
	}
	b.Queue("commit")
	br := tx.send(ctx, b) // with the BEGIN too when nothing was sent yet: one round trip in all
	var err error
	for range tx.deferred {
		if _, err = br.Exec(); err != nil {
			break
		}
	}
	if err == nil {
		var tag pgconn.CommandTag
		tag, err = br.Exec()
		if err == nil && tag.String() == "ROLLBACK" {
			err = pgx.ErrTxCommitRollback
		}
	}
	if cerr := br.Close(); err == nil && cerr != nil {
		err = cerr
	}
	// The transaction is over when the connection is idle again: committed, or the COMMIT failed
	// (a deferred constraint, a serialization failure). Otherwise Rollback ends it.
	if !tx.conn.IsClosed() && tx.conn.PgConn().TxStatus() == 'I' {
		tx.ended = true
	}
	if err != nil {
		return fmt.Errorf("deferred statements and commit: %w", err)
	}
	if !tx.ended {
		return errors.New("deferred statements and commit: the connection is still in a transaction")
	}
	return nil
}

// Rollback drops the deferred statements and rolls back (a no-op after the commit batch), then gives
// a pool connection back.
func (tx *Tx) Rollback(ctx context.Context) error {
	tx.deferred = nil
	err := pgx.ErrTxClosed
	if !tx.ended && tx.inner != nil {
		err = tx.inner.Rollback(ctx)
	}
	if tx.release != nil {
		tx.release()
		tx.release = nil
	}
	return err
}

// batchRows are a query's rows read from the batch that carried their BEGIN: when they are closed
// (or read to the end), so is the batch, and the connection is free for the transaction's next
// statement.
type batchRows struct {
	pgx.Rows
	br       pgx.BatchResults
	closeErr error
}

func (r *batchRows) Close() {
	r.Rows.Close()
	if err := r.br.Close(); err != nil && r.closeErr == nil {
		r.closeErr = err
	}
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.closeErr
}

// firstRow is QueryRow over Query's rows, as pgx's own is: the first row, or pgx.ErrNoRows.
type firstRow struct {
	rows pgx.Rows
	err  error
}

func (r firstRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}
