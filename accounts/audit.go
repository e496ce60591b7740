package accounts

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
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

// AuditEntry is a stored event with its place in the chain.
type AuditEntry struct {
	ID       int64
	At       time.Time
	Event    Event
	PrevHash []byte
	Hash     []byte
}

// auditLock serialises appends so that each row's prev_hash is the hash of the row before it.
const auditLock = 0x617564697400 // "audit"

// Audit appends an event to the hash-chained audit log inside tx. Other domains call it in their own
// transactions, so the event exists exactly when the change it records does.
func Audit(ctx context.Context, tx pgx.Tx, e Event) error {
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	detailsJSON, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("audit details: %w", err)
	}
	// Normalise through jsonb so that the hash is computed over what the database will return. This
	// happens before the lock: the lock serialises every audited change in the product, so only what
	// must see the chain's tail runs while holding it.
	var canonical []byte
	if err := tx.QueryRow(ctx, `SELECT $1::jsonb::text`, string(detailsJSON)).Scan(&canonical); err != nil {
		return err
	}
	// Every audited write queues here, one after another, until the chain is sealed off the write
	// path (#17): under a burst of sign-ins the wait is a queue, not a deadlock, so it gets longer
	// than the sessions' 5 s lock_timeout (SET LOCAL: for the rest of this transaction only).
	if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '30s'`); err != nil {
		return fmt.Errorf("audit lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(auditLock)); err != nil {
		return fmt.Errorf("audit lock: %w", err)
	}
	// The tail is read by a statement that starts after the lock is held, so it sees the previous
	// holder's committed row; the id is drawn under the lock too, so ids follow the chain's order.
	prev := make([]byte, sha256.Size)
	var id int64
	err = tx.QueryRow(ctx, `SELECT (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), nextval(pg_get_serial_sequence('audit_log', 'id'))`).Scan(&prev, &id)
	if err != nil {
		return fmt.Errorf("audit tail: %w", err)
	}
	if prev == nil {
		prev = make([]byte, sha256.Size)
	}
	at := time.Now().UTC().Truncate(time.Microsecond)
	hash := chainHash(prev, id, at, e.ActorID, e.Action, e.Subject, canonical, e.IP)
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (id, at, actor_id, action, subject, details, ip, prev_hash, hash)
		OVERRIDING SYSTEM VALUE VALUES ($1, $2, nullif($3, 0), $4, $5, $6::jsonb, $7, $8, $9)`,
		id, at, e.ActorID, e.Action, e.Subject, string(canonical), e.IP, prev, hash)
	if err != nil {
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
	ID     int64
	Reason string
}

func (e *ErrChainBroken) Error() string {
	return fmt.Sprintf("audit log broken at row %d: %s", e.ID, e.Reason)
}

// VerifyAudit walks the whole chain and returns the number of rows checked, or *ErrChainBroken naming
// the first row whose hash or link is wrong.
func VerifyAudit(ctx context.Context, db pg.DB) (int, error) {
	n, _, _, err := VerifyAuditAfter(ctx, db, 0, nil)
	return n, err
}

// VerifyAuditAfter checks the rows after row afterID, whose stored hash is prevHash (nil: from the
// start of the chain), and returns how many it checked and the last row's id and hash, from which a
// later call continues.
func VerifyAuditAfter(ctx context.Context, db pg.DB, afterID int64, prevHash []byte) (n int, lastID int64, lastHash []byte, err error) {
	rows, err := db.Query(ctx, `SELECT id, at, coalesce(actor_id, 0), action, subject, details::text, ip, prev_hash, hash
		FROM audit_log WHERE id > $1 ORDER BY id`, afterID)
	if err != nil {
		return 0, afterID, prevHash, err
	}
	defer rows.Close()
	prev := prevHash
	if prev == nil {
		prev = make([]byte, sha256.Size)
	}
	lastID = afterID
	for rows.Next() {
		var (
			id, actor            int64
			at                   time.Time
			action, subject, ip  string
			details              []byte
			prevHash, storedHash []byte
		)
		if err := rows.Scan(&id, &at, &actor, &action, &subject, &details, &ip, &prevHash, &storedHash); err != nil {
			return n, lastID, prev, err
		}
		if string(prevHash) != string(prev) {
			return n, lastID, prev, &ErrChainBroken{ID: id, Reason: "prev_hash does not match the previous row"}
		}
		if string(chainHash(prevHash, id, at, actor, action, subject, details, ip)) != string(storedHash) {
			return n, lastID, prev, &ErrChainBroken{ID: id, Reason: "content does not match its hash"}
		}
		prev, lastID = storedHash, id
		n++
	}
	return n, lastID, prev, rows.Err()
}
