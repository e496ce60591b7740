package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// Session errors.
var (
	ErrNoSession     = failure.New(failure.Unauthenticated, "accounts.session_expired")
	ErrAccountLocked = failure.New(failure.Unauthenticated, "accounts.account_disabled")
)

// Session is a signed-in browser or client. Token is only known at creation; the database keeps its hash.
type Session struct {
	ID         int64
	Token      string
	CSRFToken  string
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	IP         string
	UserAgent  string
}

// Principal is who a request acts as: the user, their grants and their session.
type Principal struct {
	User    User
	Grants  []Grant
	Session Session
}

// Roles lists the distinct roles the principal holds anywhere.
func (p Principal) Roles() []string {
	seen := map[string]bool{}
	var out []string
	for _, g := range p.Grants {
		if !seen[g.Role] {
			seen[g.Role] = true
			out = append(out, g.Role)
		}
	}
	return out
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// LoginInput is a sign-in attempt.
type LoginInput struct {
	Username  string
	Password  string
	IP        string
	UserAgent string
}

// Login checks the password and opens a new session with a fresh token (never reusing one the browser
// had). Failures are throttled as checkThrottle says; too soon, it answers TooMany with RetryAfter. "No such user" and "wrong password" give the same
// error and take the same time.
func (s *Service) Login(ctx context.Context, in LoginInput) (Session, User, error) {
	username := strings.ToLower(strings.TrimSpace(in.Username))
	if username == "" || in.Password == "" {
		var f failure.Fields
		if username == "" {
			f.Add("username", "accounts.username_required")
		}
		if in.Password == "" {
			f.Add("password", "accounts.password_required")
		}
		return Session{}, User{}, f.Err()
	}
	keys := keysFor(username, in.IP)
	if err := s.checkThrottle(ctx, keys); err != nil {
		return Session{}, User{}, err
	}
	var (
		userID   int64
		hash     string
		disabled bool
	)
	err := s.db.QueryRow(ctx, `SELECT id, password_hash, disabled_at IS NOT NULL FROM users WHERE username = $1`, username).
		Scan(&userID, &hash, &disabled)
	if err != nil && !pg.IsNoRows(err) {
		return Session{}, User{}, err
	}
	found := err == nil
	if !found {
		hash = dummyHash
	}
	ok, err := s.hasher.compare(ctx, in.Password, hash)
	if err != nil {
		return Session{}, User{}, err
	}
	if !ok || !found || disabled {
		if err := s.recordFailure(ctx, keys); err != nil {
			return Session{}, User{}, err
		}
		_ = AuditNow(ctx, s.db, Event{ActorID: userID, Action: "login.failed", Subject: "username:" + username, IP: in.IP})
		return Session{}, User{}, ErrBadCredentials
	}
	sess := Session{Token: randomToken(32), CSRFToken: randomToken(24), UserID: userID, IP: in.IP, UserAgent: truncate(in.UserAgent, 300)}
	now := s.now()
	sess.ExpiresAt = now.Add(s.policy.SessionAbsolute)
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent)
			VALUES ($1, $2, $3, $4, $4, $5, $6, $7) RETURNING id, created_at, last_seen_at`,
			tokenHash(sess.Token), userID, sess.CSRFToken, now, sess.ExpiresAt, sess.IP, sess.UserAgent).
			Scan(&sess.ID, &sess.CreatedAt, &sess.LastSeenAt)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM login_failures WHERE key = ANY($1)`, []string{keys.pair, keys.account}); err != nil {
			return err
		}
		return Audit(ctx, tx, Event{ActorID: userID, Action: "login", Subject: userSubject(userID), IP: in.IP})
	})
	if err != nil {
		return Session{}, User{}, err
	}
	u, err := s.UserByID(ctx, userID)
	return sess, u, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Authenticate resolves a session token into a principal. Sessions past their idle or absolute expiry,
// revoked, or of a disabled account, are refused with ErrNoSession.
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, ErrNoSession
	}
	key := string(tokenHash(token))
	cached, gen, ok := s.principals.get(key, s.now())
	if ok {
		return s.stillValid(ctx, key, cached)
	}
	var p Principal
	var grants []grantRow
	sess, u := &p.Session, &p.User
	// One round trip for session, user and grants: this runs on every signed-in request that the
	// cache (principals.go) does not answer.
	err := s.db.QueryRow(ctx, `SELECT s.id, s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, s.ip, s.user_agent,
			`+userColumns+`,
			coalesce((SELECT json_agg(json_build_object('id', g.id, 'role', g.role, 'domain', g.domain,
				'granted_by', coalesce(g.granted_by, 0), 'granted_at', g.granted_at) ORDER BY g.id)
				FROM role_grants g WHERE g.user_id = u.id), '[]')
		FROM sessions s JOIN users u ON u.id = s.user_id JOIN people p ON p.id = u.person_id
		WHERE s.token_hash = $1 AND s.revoked_at IS NULL`, tokenHash(token)).
		Scan(&sess.ID, &sess.UserID, &sess.CSRFToken, &sess.CreatedAt, &sess.LastSeenAt, &sess.ExpiresAt, &sess.IP, &sess.UserAgent,
			&u.ID, &u.PersonID, &u.Username, &u.Name, &u.Phone, &u.IDLast4, &u.Language, &u.Disabled, &u.MustChangePassword, &u.CreatedAt,
			&grants)
	if pg.IsNoRows(err) {
		return Principal{}, ErrNoSession
	}
	if err != nil {
		return Principal{}, err
	}
	for _, g := range grants {
		p.Grants = append(p.Grants, Grant{ID: g.ID, UserID: u.ID, Role: g.Role, Domain: g.Domain, GrantedBy: g.GrantedBy, GrantedAt: g.GrantedAt})
	}
	if u.Disabled {
		return Principal{}, ErrNoSession
	}
	s.principals.put(key, p, s.now(), gen)
	return s.stillValid(ctx, key, p)
}

// stillValid checks a session against the clock (expired, idle too long), cached or just read, and
// refreshes its idle clock at most once a minute, so that reads do not all become writes.
func (s *Service) stillValid(ctx context.Context, key string, p Principal) (Principal, error) {
	now, sess := s.now(), &p.Session
	if now.After(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) > s.policy.SessionIdle {
		return Principal{}, ErrNoSession
	}
	if now.Sub(sess.LastSeenAt) > time.Minute {
		if _, err := s.db.Exec(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE id = $1`, sess.ID, now); err != nil {
			return Principal{}, err
		}
		sess.LastSeenAt = now
		s.principals.touch(key, now)
	}
	return p, nil
}

// grantRow is a grant as Authenticate's JSON aggregate spells it.
type grantRow struct {
	ID        int64     `json:"id"`
	Role      string    `json:"role"`
	Domain    string    `json:"domain"`
	GrantedBy int64     `json:"granted_by"`
	GrantedAt time.Time `json:"granted_at"`
}

// Logout ends one session.
func (s *Service) Logout(ctx context.Context, sessionID, userID int64, ip string) error {
	return s.sessionsTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`, sessionID, userID); err != nil {
			return err
		}
		return Audit(ctx, tx, Event{ActorID: userID, Action: "logout", Subject: userSubject(userID), IP: ip})
	})
}

// Sessions lists a user's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, userID int64) ([]Session, error) {
	rows, err := s.db.Query(ctx, `SELECT id, user_id, created_at, last_seen_at, expires_at, ip, user_agent FROM sessions
		WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND last_seen_at > $3 ORDER BY last_seen_at DESC`,
		userID, s.now(), s.now().Add(-s.policy.SessionIdle))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Session, error) {
		var x Session
		err := r.Scan(&x.ID, &x.UserID, &x.CreatedAt, &x.LastSeenAt, &x.ExpiresAt, &x.IP, &x.UserAgent)
		return x, err
	})
}

// RevokeOtherSessions ends every session of the user except keep ("sign out everywhere else").
func (s *Service) RevokeOtherSessions(ctx context.Context, userID, keep int64) (int64, error) {
	var n int64
	err := s.sessionsTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL`, userID, keep)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		return Audit(ctx, tx, Event{ActorID: userID, Action: "sessions.revoke_others", Subject: userSubject(userID), Details: map[string]any{"count": n}})
	})
	return n, err
}

// Throttling follows OWASP ASVS 5.0 V6.3.1 (brute force and credential stuffing are slowed) without
// letting anyone lock someone else out (V6.1.1 asks that the controls prevent malicious lockout).
// Failures are counted in PostgreSQL, so that every replica agrees, under three keys:
//   - the pair (account, address): after PairFree failures each further attempt from that address
//     for that account waits a delay that doubles with every failure (never a lock);
//   - the address: past AddressFailures in the window the address is refused for every account;
//   - the account, from anywhere: past AccountFailures the growing delay applies to every address
//     that has failed before, which slows an attack spread over many addresses.
//
// An address with no failures is never delayed, so the owner's correct password from a clean
// address always passes, whatever strangers did elsewhere.
type throttleKeys struct{ pair, address, account string }

func keysFor(username, ip string) throttleKeys {
	return throttleKeys{pair: "pair:" + username + "|" + ip, address: "ip:" + ip, account: "user:" + username}
}

// delayAfter is how long to wait after the latest failure once free failures are used up.
func delayAfter(failures, free int) time.Duration {
	if failures < free {
		return 0
	}
	d := throttleBaseDelay << min(failures-free, 16)
	return min(d, throttleMaxDelay)
}

const (
	throttleBaseDelay = 2 * time.Second
	throttleMaxDelay  = 15 * time.Minute
)

// checkThrottle refuses an attempt that comes too soon, with RetryAfter.
func (s *Service) checkThrottle(ctx context.Context, k throttleKeys) error {
	since := s.now().Add(-s.policy.ThrottleWindow)
	rows, err := s.db.Query(ctx, `SELECT key, sum(failures), max(last_at), min(window_start) FROM login_failures
		WHERE key = ANY($1) AND window_start > $2 GROUP BY key`, []string{k.pair, k.address, k.account}, since)
	if err != nil {
		return err
	}
	type count struct {
		n            int
		last, oldest time.Time
	}
	counts := map[string]count{}
	for rows.Next() {
		var key string
		var c count
		if err := rows.Scan(&key, &c.n, &c.last, &c.oldest); err != nil {
			rows.Close()
			return err
		}
		counts[key] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	addr, pair, acct := counts[k.address], counts[k.pair], counts[k.account]
	if addr.n == 0 {
		return nil // a clean address always gets its attempt
	}
	now := s.now()
	var wait time.Duration
	if addr.n >= s.policy.AddressFailures {
		wait = addr.oldest.Add(s.policy.ThrottleWindow).Sub(now)
	}
	if pair.n > 0 {
		wait = max(wait, pair.last.Add(delayAfter(pair.n, s.policy.PairFree)).Sub(now))
	}
	if acct.n > 0 {
		wait = max(wait, acct.last.Add(delayAfter(acct.n, s.policy.AccountFailures)).Sub(now))
	}
	if wait > 0 {
		return &failure.Error{Kind: failure.TooMany, Msg: failure.Msg{Key: "accounts.too_many_logins"}, RetryAfter: int(wait.Seconds()) + 1}
	}
	return nil
}

// recordFailure counts a failed attempt in one-minute buckets; old buckets are pruned as it goes.
func (s *Service) recordFailure(ctx context.Context, k throttleKeys) error {
	now := s.now()
	bucket := now.Truncate(time.Minute)
	if _, err := s.db.Exec(ctx, `INSERT INTO login_failures (key, window_start, failures, last_at)
		SELECT unnest($1::text[]), $2, 1, $3
		ON CONFLICT (key, window_start) DO UPDATE SET failures = login_failures.failures + 1, last_at = excluded.last_at`,
		[]string{k.pair, k.address, k.account}, bucket, now); err != nil {
		return fmt.Errorf("record failed login: %w", err)
	}
	_, err := s.db.Exec(ctx, `DELETE FROM login_failures WHERE window_start < $1`, now.Add(-2*s.policy.ThrottleWindow))
	return err
}

// throttleSignup counts a sign-up attempt from an address and refuses it past SignupsPerAddress in
// the throttle window, in the same PostgreSQL counters as sign-in failures.
func (s *Service) throttleSignup(ctx context.Context, ip string) error {
	return s.throttleCount(ctx, "signup:"+ip, s.policy.SignupsPerAddress, "accounts.too_many_signups")
}

// throttleCount counts an attempt under key and refuses it, with msgKey, once limit attempts were
// counted in the throttle window.
func (s *Service) throttleCount(ctx context.Context, key string, limit int, msgKey string) error {
	now := s.now()
	var n int
	var oldest time.Time
	if err := s.db.QueryRow(ctx, `SELECT coalesce(sum(failures), 0), coalesce(min(window_start), $3) FROM login_failures
		WHERE key = $1 AND window_start > $2`, key, now.Add(-s.policy.ThrottleWindow), now).Scan(&n, &oldest); err != nil {
		return err
	}
	if n >= limit {
		retry := int(oldest.Add(s.policy.ThrottleWindow).Sub(now).Seconds()) + 1
		return &failure.Error{Kind: failure.TooMany, Msg: failure.Msg{Key: msgKey}, RetryAfter: max(retry, 1)}
	}
	_, err := s.db.Exec(ctx, `INSERT INTO login_failures (key, window_start, failures, last_at) VALUES ($1, $2, 1, $3)
		ON CONFLICT (key, window_start) DO UPDATE SET failures = login_failures.failures + 1, last_at = excluded.last_at`,
		key, now.Truncate(time.Minute), now)
	return err
}
