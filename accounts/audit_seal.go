package accounts

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"shanyu/internal/pg"
)

// Sealing the audit chain (#17). Writers append rows to audit_log without a hash (Audit); the sealer
// writes each row's prev_hash and hash into audit_chain, in id order, for the rows that no
// transaction still running can precede. That is the whole difficulty: ids are drawn at insert time,
// so a transaction may hold a lower id than a row that has already committed and commit after it.
// Sealing past it would leave it outside the chain.
//
// The rule. Each append takes its transaction's xid before its id (the id column's default,
// migration 0180), and the sequence hands out ids one at a time (no CACHE). A checkpoint is taken in
// two statements: first V, the sequence's last value, then X, a new xid (pg_current_xact_id() in a
// transaction of its own). Every id ≤ V was drawn before V was read, by a transaction whose xid was
// assigned earlier still, so below X. Once a later snapshot's xmin (the oldest xid still running,
// pg_snapshot_xmin) is ≥ X, all of those transactions have ended: the committed rows with ids ≤ V
// are all visible and no other row with an id ≤ V can ever appear. Those rows are sealed, in id
// order. A checkpoint whose X is not passed yet waits for a later round; rows above it wait too, so a
// row that commits late is sealed in its place, never skipped.
//
// Only one sealer works at a time, across replicas: each round holds sealLock (a transaction-level
// advisory lock, try-only) while it seals. It is the sealer's own lock; writers never take it.

// sealLock is the advisory lock key of the sealer.
const sealLock = 0x617564697453 // "auditS"

// maxSealPause bounds the pause between rounds while rows wait: a round is four small statements, so
// even a transaction holding the horizon back for minutes costs little, and a row is sealed at most
// this long after the horizon passes it.
const maxSealPause = 200 * time.Millisecond

// busySealPause is the pause between rounds while they find rows to seal: long enough that under a
// steady stream of appends each round seals many rows at once (a round costs about ten statements
// whatever it seals), short enough that a row waits well under a second.
const busySealPause = 50 * time.Millisecond

// sealBatch is how many rows one sealing transaction chains.
const sealBatch = 2000

// maxCheckpoints bounds the checkpoints kept while a long transaction holds the horizon back.
const maxCheckpoints = 64

type checkpoint struct {
	lastID int64  // V: every id up to this one was drawn before …
	xmax   uint64 // X: … by a transaction with an xid below this one
}

// Sealer chains the appended audit rows. Every replica runs one (Run); they take turns by sealLock.
type Sealer struct {
	db      *pgxpool.Pool
	log     *slog.Logger
	mu      sync.Mutex // one round at a time in this process
	pending []checkpoint
	wake    chan struct{}
}

// NewSealer makes the sealer of the audit chain in db.
func NewSealer(db *pgxpool.Pool, log *slog.Logger) *Sealer {
	if log == nil {
		log = slog.Default()
	}
	return &Sealer{db: db, log: log, wake: make(chan struct{}, 1)}
}

// SealResult is what one round did.
type SealResult struct {
	Sealed  int  // rows chained in this round
	Waiting int  // rows visible but not sealable yet (above a checkpoint not passed), or being sealed elsewhere
	Busy    bool // another sealer held the lock
}

// Seal runs one round: it takes a checkpoint and seals every row below the newest checkpoint that the
// visibility horizon has passed. Tests call it directly; Run calls it on every wake.
func (s *Sealer) Seal(ctx context.Context) (SealResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var res SealResult
	cp, err := takeCheckpoint(ctx, s.db)
	if err != nil {
		return res, err
	}
	s.pending = append(s.pending, cp)
	if len(s.pending) > maxCheckpoints { // keep the oldest (it passes first) and thin out the rest
		kept := s.pending[:1]
		for i := 2; i < len(s.pending); i += 2 {
			kept = append(kept, s.pending[i])
		}
		s.pending = append(kept, cp)
	}
	for {
		n, busy, err := s.sealBatch(ctx)
		res.Sealed += n
		if err != nil {
			return res, err
		}
		if busy {
			res.Busy = true
			break
		}
		if n < sealBatch {
			break
		}
	}
	res.Waiting, _, err = UnsealedAudit(ctx, s.db, 0)
	return res, err
}

// SealWaiting seals until no row waits, going round every 20 ms while rows wait behind
// transactions still running, for at most patience. It returns how many rows it sealed and how many
// still wait (behind a transaction that outlasted patience).
func (s *Sealer) SealWaiting(ctx context.Context, patience time.Duration) (sealed, waiting int, err error) {
	deadline := time.Now().Add(patience)
	for {
		res, err := s.Seal(ctx)
		sealed += res.Sealed
		if err != nil || res.Waiting == 0 || time.Now().After(deadline) {
			return sealed, res.Waiting, err
		}
		select {
		case <-ctx.Done():
			return sealed, res.Waiting, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// takeCheckpoint reads V and then X, in two statements (two snapshots), in that order.
func takeCheckpoint(ctx context.Context, db pg.DB) (checkpoint, error) {
	var cp checkpoint
	if err := db.QueryRow(ctx, `SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('audit_log', 'id')::regclass), 0)`).Scan(&cp.lastID); err != nil {
		return cp, fmt.Errorf("audit checkpoint: %w", err)
	}
	// Not a snapshot's xmax: that is one past the newest *completed* xid, and a transaction still
	// running may hold a larger one. A fresh xid of its own (this statement's implicit transaction)
	// is larger than every xid assigned before it.
	xmax, err := xid8(ctx, db, `SELECT pg_current_xact_id()::text`)
	cp.xmax = xmax
	return cp, err
}

func xid8(ctx context.Context, db pg.DB, sql string) (uint64, error) {
	var s string
	if err := db.QueryRow(ctx, sql).Scan(&s); err != nil {
		return 0, fmt.Errorf("audit horizon: %w", err)
	}
	return strconv.ParseUint(s, 10, 64)
}

// sealBatch chains up to sealBatch rows in one transaction under sealLock; busy when another sealer
// holds it.
func (s *Sealer) sealBatch(ctx context.Context) (n int, busy bool, err error) {
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		var got bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, int64(sealLock)).Scan(&got); err != nil {
			return err
		}
		if !got {
			busy = true
			return nil
		}
		horizon, err := xid8(ctx, tx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text`)
		if err != nil {
			return err
		}
		// The newest checkpoint the horizon has passed bounds this round; the older ones are spent.
		var bound int64 = -1
		keep := s.pending[:0]
		for _, cp := range s.pending {
			if cp.xmax <= horizon {
				bound = max(bound, cp.lastID)
			} else {
				keep = append(keep, cp)
			}
		}
		s.pending = keep
		if bound < 0 {
			return nil
		}
		// Re-offer the bound to later batches of this round (it stays valid for ever).
		s.pending = append([]checkpoint{{lastID: bound, xmax: 0}}, s.pending...)
		// The tail: the sealed rows are a prefix of the log, so the chain's last seal ends it and the
		// unsealed rows are the ones after it.
		prev := make([]byte, sha256.Size)
		var tailID int64
		var tail []byte
		err = tx.QueryRow(ctx, lastSealed).Scan(&tailID, &tail)
		switch {
		case pg.IsNoRows(err):
		case err != nil:
			return err
		default:
			prev = tail
		}
		rows, err := tx.Query(ctx, `SELECT id, at, coalesce(actor_id, 0), action, subject, details::text, ip, xid::text
			FROM audit_log WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3`, tailID, bound, sealBatch)
		if err != nil {
			return err
		}
		type row struct {
			id, actor                   int64
			at                          time.Time
			action, subject, ip, xidStr string
			details                     []byte
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.id, &x.at, &x.actor, &x.action, &x.subject, &x.details, &x.ip, &x.xidStr)
		})
		if err != nil || len(list) == 0 {
			if len(list) == 0 {
				s.pending = s.pending[1:] // nothing left below the bound
			}
			return err
		}
		ids := make([]int64, 0, len(list))
		prevs := make([][]byte, 0, len(list))
		hashes := make([][]byte, 0, len(list))
		for _, r := range list {
			// Below a passed checkpoint every transaction has ended; a row whose xid is not below the
			// horizon would contradict that, so sealing stops there rather than trust it.
			if x, err := strconv.ParseUint(r.xidStr, 10, 64); err != nil || x >= horizon {
				s.log.Error("audit seal: row's transaction is not below the horizon; stopping", slog.Int64("id", r.id), slog.String("xid", r.xidStr))
				break
			}
			h := chainHash(prev, r.id, r.at, r.actor, r.action, r.subject, r.details, r.ip)
			ids, prevs, hashes = append(ids, r.id), append(prevs, prev), append(hashes, h)
			prev = h
		}
		if len(ids) == 0 {
			return nil
		}
		// One statement for the batch; the primary key refuses a second seal of a row.
		tag, err := tx.Exec(ctx, `INSERT INTO audit_chain (id, prev_hash, hash)
			SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[])`, ids, prevs, hashes)
		if err != nil {
			return fmt.Errorf("audit seal: %w", err)
		}
		if int(tag.RowsAffected()) != len(ids) {
			return fmt.Errorf("audit seal: %d of %d rows sealed", tag.RowsAffected(), len(ids))
		}
		n = len(ids)
		return nil
	})
	return n, busy, err
}

// Run seals once as it starts listening, then whenever an append announces itself (LISTEN on AuditChannel)
// and when the periodic job asks (Wake), until ctx ends. While it finds rows to seal it goes round
// every busySealPause; otherwise it looks again after 5, 10, … 200 ms, and then, while rows still
// wait behind a transaction running, every 200 ms; when none waits it stops until the next wake (the
// last half second of looking catches the appends that did not NOTIFY, see notifyEvery).
func (s *Sealer) Run(ctx context.Context) {
	// pg.Listen calls back as it connects too: that first round seals the rows appended before this
	// process started (by another process, or before a restart), with no append or job to wake it.
	go pg.Listen(ctx, s.db, AuditChannel, func(context.Context) error { s.Wake(); return nil }, s.log)
	pause := time.Duration(0)
	for {
		var retry <-chan time.Time
		if pause > 0 {
			retry = time.After(pause)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-retry:
		}
		res, err := s.Seal(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.log.Error("audit seal", slog.Any("err", err))
			pause = time.Second
		case res.Sealed > 0:
			pause = busySealPause
		case pause == 0:
			pause = 5 * time.Millisecond
		case pause < maxSealPause:
			// Rows wait behind a transaction still running, or none waits but appends that did not
			// NOTIFY (notifyEvery) may still commit: look again, further apart each time.
			pause = min(2*pause, maxSealPause)
		case res.Waiting == 0 && !res.Busy:
			pause = 0 // until the next wake
		}
	}
}

// Wake asks Run for a round soon; wakes that arrive during a round are merged into one.
func (s *Sealer) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// SealPeriod is how often the periodic job wakes the sealer, in case a notification was missed.
const SealPeriod = 5 * time.Second

// SealArgs is the periodic job that seals the audit chain.
type SealArgs struct{}

// Kind names the job for River.
func (SealArgs) Kind() string { return "accounts.audit_seal" }

// SealWorker works SealArgs: one sealing round, in the process that picked the job up.
type SealWorker struct {
	river.WorkerDefaults[SealArgs]
	Sealer *Sealer
}

// Work seals what can be sealed now.
func (w *SealWorker) Work(ctx context.Context, _ *river.Job[SealArgs]) error {
	_, err := w.Sealer.Seal(ctx)
	return err
}

// PeriodicSeal is the sealer's fallback schedule, for the job registry: River's leader enqueues it
// every SealPeriod (and when a client starts), so rows are sealed even if no notification arrives.
func PeriodicSeal() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(SealPeriod),
		func() (river.JobArgs, *river.InsertOpts) { return SealArgs{}, &river.InsertOpts{MaxAttempts: 1} },
		&river.PeriodicJobOpts{RunOnStart: true})
}
