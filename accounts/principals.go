package accounts

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/pg"
)

// Authenticate runs on every signed-in request; on an exam day that is a few thousand a second for
// the same few thousand sessions. Its answer is therefore kept in memory, for at most PrincipalTTL,
// and dropped sooner by whatever can change it:
//
//   - on this replica, at once: every change of this package that revokes a session, disables a user,
//     changes a password, a language or an identity drops the whole cache when its transaction has
//     committed (sessionsTx), so that the next request reads the database;
//   - on the other replicas, by a NOTIFY on PrincipalsChannel sent with that COMMIT (ListenSessions),
//     and after every (re)connection of that listener, since notifications sent meanwhile were missed;
//   - a change of grants reloads the access policy, which drops the cache too (Access.onReload).
//
// What the TTL still bounds is a change made outside this package (SQL typed by an operator) and the
// delivery of a notification to another replica. The expiry and the idle timeout are checked against
// the clock on every request, cached or not.
const PrincipalTTL = 10 * time.Second

// PrincipalsChannel carries "sessions or users changed" between replicas.
const PrincipalsChannel = "shanyu_sessions"

// maxPrincipals bounds the cache; when it is full it starts again empty.
const maxPrincipals = 50_000

type principals struct {
	mu  sync.Mutex
	gen uint64 // bumped by every flush: an answer read before a flush is not stored after it
	m   map[string]cachedPrincipal
}

type cachedPrincipal struct {
	p  Principal
	at time.Time
}

func (c *principals) get(key string, now time.Time) (Principal, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || now.Sub(e.at) >= PrincipalTTL || now.Before(e.at) {
		return Principal{}, c.gen, false
	}
	p := e.p
	p.Grants = slices.Clone(p.Grants)
	return p, c.gen, true
}

func (c *principals) put(key string, p Principal, at time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) >= maxPrincipals {
		c.m = make(map[string]cachedPrincipal)
	}
	p.Grants = slices.Clone(p.Grants)
	c.m[key] = cachedPrincipal{p: p, at: at}
}

// touch records a refreshed idle clock in the cached copy.
func (c *principals) touch(key string, seen time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok {
		e.p.Session.LastSeenAt = seen
		c.m[key] = e
	}
}

func (c *principals) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.m = nil
}

// ForgetPrincipals drops every cached Authenticate answer (the access policy reloaded, or another
// replica announced a change).
func (s *Service) ForgetPrincipals() { s.principals.flush() }

// ListenSessions drops the cache whenever a replica announces a change of sessions or users, until
// ctx ends.
func (s *Service) ListenSessions(ctx context.Context, log *slog.Logger) {
	pg.Listen(ctx, s.db, PrincipalsChannel, func(context.Context) error { s.ForgetPrincipals(); return nil }, log)
}

// sessionsTx runs fn in a transaction that changes what Authenticate answers: its COMMIT carries the
// announcement to the other replicas, and this replica's cache is dropped once it has committed.
func (s *Service) sessionsTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return pg.Defer(ctx, tx, `SELECT pg_notify($1, '')`, PrincipalsChannel)
	})
	// Dropped whatever the outcome: a failed commit may still have committed.
	s.ForgetPrincipals()
	return err
}
