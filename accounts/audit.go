package accounts

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/pg"
)

// Event is one security-relevant fact for the audit log.
type Event struct {
	ActorID int64          // 0 when nobody is signed in (e.g. a failed login)
	Action  string         // e.g. "login", "login.failed", "grant", "certificate.revoke"
	Subject string         // what it was done to, e.g. "user:12"
	Details map[string]any // small, no secrets, no raw ID numbers
	IP      string
}

// AuditEntry is a stored event. Its place in the chain (audit_chain) is for the chain's checks
// (CheckAudit), not for listings.
type AuditEntry struct {
	ID    int64
	At    time.Time
	Event Event
}

// AuditChannel is the NOTIFY channel that wakes the sealer (audit_seal.go).
const AuditChannel = "audit_log_append"

// auditAppend inserts one unchained row. Its id and xid come from the columns' defaults (migration
// 0180): the id's draws the transaction's xid first, so that it exists before the id is drawn, which
// the sealer relies on ("a row's transaction had its xid before the row had its id", see Sealer).
// Nothing is locked and no other row is read; audit_log has no constraint but its primary key, so
// the insert is as cheap as a row into a table can be (`shanyu bench auditlog`).
const auditAppend = `INSERT INTO audit_log (at, actor_id, action, subject, details, ip)
	VALUES ($1, nullif($2::bigint, 0), $3, $4, $5::jsonb, $6)`

// auditAppendNotify is auditAppend that also wakes the sealer when the transaction commits.
const auditAppendNotify = `WITH ins AS (` + auditAppend + ` RETURNING id)
	SELECT pg_notify('` + AuditChannel + `', '') FROM ins`

// notifyEvery is how often one process's appends wake the sealer at most. PostgreSQL serialises the
// commits of transactions that NOTIFY (one lock on the notification queue, held through the commit's
// WAL flush), so a NOTIFY in every append would be the global lock again under another name
// (measured: 936 audited writes/s with it against 1,453 without, `shanyu bench auditlog`). Appends
// in between rely on the sealer, which keeps sealing for a while after each wake (Sealer.Run), and
// on the periodic job.
const notifyEvery = 100 * time.Millisecond

// lastNotify is when this process last appended with a NOTIFY (unix nanoseconds).
var lastNotify atomic.Int64

// Audit appends an event to the audit log inside tx. Other domains call it in their own
// transactions, so the event exists exactly when the change it records does. In a transaction of
// pg.WithTx the row is inserted just before the COMMIT, in the same batch (pg.Defer); in any other it
// is inserted at once. The row is written unchained and takes no lock: the sealer chains it after commit (Sealer, audit_seal.go), so audited
// writes do not queue behind one another.
func Audit(ctx context.Context, tx pgx.Tx, e Event) error {
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	detailsJSON, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("audit details: %w", err)
	}
	at := time.Now().UTC().Truncate(time.Microsecond)
	q := auditAppend
	if last := lastNotify.Load(); at.UnixNano()-last >= int64(notifyEvery) && lastNotify.CompareAndSwap(last, at.UnixNano()) {
		q = auditAppendNotify
	}
	// Deferred: in a WithTx transaction the append travels with the COMMIT, in its round trip, and
	// costs the write no statement round trip of its own (`shanyu bench auditlog`).
	if err := pg.Defer(ctx, tx, q, at, e.ActorID, e.Action, e.Subject, string(detailsJSON), e.IP); err != nil {
		return fmt.Errorf("audit append: %w", err)
	}
	return nil
}

// AuditNow appends an event in a transaction of its own.
func AuditNow(ctx context.Context, db pg.DB, e Event) error {
	return pg.WithTx(ctx, db, func(tx pgx.Tx) error { return Audit(ctx, tx, e) })
}

func chainHash(prev []byte, id int64, at time.Time, actor int64, action, subject string, details []byte, ip string) []byte {
	h := sha256.New()
	h.Write(prev)
	var n [8]byte
	for _, v := range []int64{id, at.UnixMicro(), actor} {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	for _, s := range [][]byte{[]byte(action), []byte(subject), details, []byte(ip)} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write(s)
	}
	return h.Sum(nil)
}

// ErrChainBroken is returned by VerifyAudit with the first row that does not fit the chain.
type ErrChainBroken struct {
	ID   int64
	Kind string // BrokenLink, BrokenContent or BrokenSkipped; pages translate it, Reason says it in English
}

// What an ErrChainBroken found.
const (
	BrokenLink    = "link"    // the row does not name the previous row's hash
	BrokenContent = "content" // the row's content does not hash to its stored hash
	BrokenSkipped = "skipped" // a sealed row follows an unsealed one
	BrokenRemoved = "removed" // the chain seals a row the log no longer holds
)

var brokenReasons = map[string]string{
	BrokenLink:    "prev_hash does not match the previous row",
	BrokenContent: "content does not match its hash",
	BrokenSkipped: "sealed after an unsealed row: a row was skipped",
	BrokenRemoved: "the row was removed after it was sealed",
}

// Reason says what was found, in English, for logs and the CLI.
func (e *ErrChainBroken) Reason() string { return brokenReasons[e.Kind] }

func (e *ErrChainBroken) Error() string {
	return fmt.Sprintf("audit log broken at row %d: %s", e.ID, e.Reason())
}

// VerifyAudit walks the sealed chain and returns the number of sealed rows checked, or
// *ErrChainBroken naming the first row whose hash or link is wrong, an unsealed row below a sealed
// one (the sealer never leaves one behind, so it was skipped or its seal removed), or a sealed row
// the log no longer holds. Rows not sealed yet are not counted; CheckAudit reports them.
func VerifyAudit(ctx context.Context, db pg.DB) (int, error) {
	c, err := CheckAudit(ctx, db, 0)
	return c.Sealed, err
}

// checkLink checks one sealed row: it names the previous row's hash, and its own hash is that of
// its content.
func checkLink(prev []byte, id int64, at time.Time, actor int64, action, subject string, details []byte, ip string, prevHash, storedHash []byte) error {
	if string(prevHash) != string(prev) {
		return &ErrChainBroken{ID: id, Kind: BrokenLink}
	}
	if string(chainHash(prevHash, id, at, actor, action, subject, details, ip)) != string(storedHash) {
		return &ErrChainBroken{ID: id, Kind: BrokenContent}
	}
	return nil
}

// UnsealedBound is how long a row may wait to be sealed before `shanyu audit verify` and the
// audit-log viewer report it: a running sealer takes well under a second.
const UnsealedBound = 60 * time.Second

// AuditCheck is what CheckAudit found.
type AuditCheck struct {
	Sealed   int // rows whose chain was verified
	Unsealed int // rows appended but not chained yet (all after the sealed ones)
	// Overdue are the unsealed rows appended longer than the bound ago; OldestUnsealed is when the
	// oldest unsealed row was appended (zero when every row is sealed).
	Overdue        int
	OldestUnsealed time.Time
}

// CheckAudit verifies the sealed chain like VerifyAudit and counts the rows still unsealed, and of
// those the ones appended more than bound ago (bound 0: none is counted overdue). The rows are walked
// in one statement, so in one snapshot, in which the sealed rows are always a prefix of the log
// (walkChain; the seals whose row was removed are looked for in a statement before it).
func CheckAudit(ctx context.Context, db pg.DB, bound time.Duration) (AuditCheck, error) {
	w, err := walkChain(ctx, db, 0, nil, bound)
	return AuditCheck{Sealed: w.sealed, Unsealed: w.unsealed, Overdue: w.overdue, OldestUnsealed: w.oldest}, err
}

// VerifyAuditAfter checks the sealed rows after row afterID, whose stored hash is prevHash (nil: from
// the start of the chain), and returns how many it checked and the last sealed row's id and hash,
// from which a later call continues (the audit-log viewer's incremental check). Unsealed rows end
// the sealed prefix; a sealed row after one is a skipped row, reported as a break.
func VerifyAuditAfter(ctx context.Context, db pg.DB, afterID int64, prevHash []byte) (n int, lastID int64, lastHash []byte, err error) {
	w, err := walkChain(ctx, db, afterID, prevHash, 0)
	return w.sealed, w.lastID, w.lastHash, err
}

// chainWalk is what walkChain found.
type chainWalk struct {
	sealed   int
	lastID   int64  // the last sealed row checked (afterID when none)
	lastHash []byte // its hash
	unsealed int
	overdue  int
	oldest   time.Time
}

// walkChain checks the log's rows after afterID against their seals (audit_chain), in id order, in
// one statement: the rows are joined to their seals by the primary keys, so the walk streams however
// long the log. The seals of rows the log no longer holds are looked for first, in a statement of
// their own (no seal is ever written for a row that does not exist, so no snapshot can show one); the
// lowest-numbered of what either finds is the break reported.
func walkChain(ctx context.Context, db pg.DB, afterID int64, prevHash []byte, bound time.Duration) (chainWalk, error) {
	w := chainWalk{lastID: afterID, lastHash: prevHash}
	var removed int64
	if err := db.QueryRow(ctx, `SELECT coalesce(min(c.id), 0) FROM audit_chain c
		WHERE c.id > $1 AND NOT EXISTS (SELECT FROM audit_log a WHERE a.id = c.id)`, afterID).Scan(&removed); err != nil {
		return w, err
	}
	rows, err := db.Query(ctx, `SELECT a.id, a.at, coalesce(a.actor_id, 0), a.action, a.subject, a.details::text, a.ip, c.prev_hash, c.hash,
			$2::bigint > 0 AND a.at < now() - make_interval(secs => $2::bigint / 1e6)
		FROM audit_log a LEFT JOIN audit_chain c ON c.id = a.id WHERE a.id > $1 ORDER BY a.id`, afterID, bound.Microseconds())
	if err != nil {
		return w, err
	}
	defer rows.Close()
	prev := prevHash
	if prev == nil {
		prev = make([]byte, sha256.Size)
	}
	for rows.Next() {
		var (
			id, actor            int64
			at                   time.Time
			action, subject, ip  string
			details              []byte
			prevHash, storedHash []byte
			overdue              bool
		)
		if err := rows.Scan(&id, &at, &actor, &action, &subject, &details, &ip, &prevHash, &storedHash, &overdue); err != nil {
			return w, err
		}
		if removed != 0 && removed < id {
			return w, &ErrChainBroken{ID: removed, Kind: BrokenRemoved}
		}
		if storedHash == nil {
			if w.unsealed == 0 || at.Before(w.oldest) {
				w.oldest = at
			}
			w.unsealed++
			if overdue {
				w.overdue++
			}
			continue
		}
		if w.unsealed > 0 {
			return w, &ErrChainBroken{ID: id, Kind: BrokenSkipped}
		}
		if err := checkLink(prev, id, at, actor, action, subject, details, ip, prevHash, storedHash); err != nil {
			return w, err
		}
		prev = storedHash
		w.sealed, w.lastID, w.lastHash = w.sealed+1, id, storedHash
	}
	if err := rows.Err(); err != nil {
		return w, err
	}
	if removed != 0 {
		return w, &ErrChainBroken{ID: removed, Kind: BrokenRemoved}
	}
	return w, nil
}

// lastSealed finds the last sealed row, its id and hash: the sealed rows are a prefix of the log, so
// it is the chain's last seal.
const lastSealed = `SELECT id, hash FROM audit_chain ORDER BY id DESC LIMIT 1`

// UnsealedAudit counts the rows the sealer has not chained yet, and of those the ones appended more
// than bound ago. They are the rows after the last sealed one (the sealed rows are a prefix of the
// log; CheckAudit reports a row skipped below it), so this reads only them however long the log.
func UnsealedAudit(ctx context.Context, db pg.DB, bound time.Duration) (unsealed, overdue int, err error) {
	err = db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE at < now() - make_interval(secs => $1::bigint / 1e6))
		FROM audit_log WHERE id > coalesce((SELECT max(id) FROM audit_chain), 0)`, bound.Microseconds()).Scan(&unsealed, &overdue)
	return unsealed, overdue, err
}
