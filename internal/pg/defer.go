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
// A savepoint (Begin, or WithTx on a Tx) keeps its own deferred statements: released, it hands them
// to its parent; rolled back, it drops them.
type Tx struct {
	pgx.Tx
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
// its own); in a Tx, a savepoint of it.
func begin(ctx context.Context, db DB) (*Tx, error) {
	switch d := db.(type) {
	case *Tx:
		sp, err := d.Tx.Begin(ctx)
		if err != nil {
			return nil, err
		}
		return &Tx{Tx: sp, conn: d.conn, parent: d}, nil
	case *pgxpool.Pool:
		c, err := d.Acquire(ctx)
		if err != nil {
			return nil, err
		}
		tx, err := c.Conn().Begin(ctx)
		if err != nil {
			c.Release()
			return nil, err
		}
		return &Tx{Tx: tx, conn: c.Conn(), release: c.Release}, nil
	default:
		// A *pgx.Conn, or another's pgx.Tx (then a savepoint whose deferred statements are sent
		// one by one before it is released).
		tx, err := db.Begin(ctx)
		if err != nil {
			return nil, err
		}
		_, inTx := db.(pgx.Tx)
		t := &Tx{Tx: tx, conn: tx.Conn()}
		if inTx {
			t.conn = nil
		}
		return t, nil
	}
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
		if err := tx.Tx.Commit(ctx); err != nil {
			return err
		}
		tx.parent.deferred = append(tx.parent.deferred, tx.deferred...)
	case len(tx.deferred) == 0:
		return tx.Tx.Commit(ctx)
	case tx.conn == nil:
		for _, d := range tx.deferred {
			if _, err := tx.Tx.Exec(ctx, d.sql, d.args...); err != nil {
				return err
			}
		}
		if err := tx.Tx.Commit(ctx); err != nil {
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
	br := tx.conn.SendBatch(ctx, b)
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
	if !tx.ended {
		err = tx.Tx.Rollback(ctx)
	}
	if tx.release != nil {
		tx.release()
		tx.release = nil
	}
	return err
}
