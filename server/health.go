package server

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/internal/failure"
	"shanyu/migrations"
)

func (s *Server) routesHealth() {
	s.publicGet("/healthz", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"status": "ok"})
	})
	s.publicGet("/readyz", s.ready)
}

// ready answers 200 only when the database answers and its schema is current. The pool reconnects by
// itself, so readiness comes back without a restart once the database does.
func (s *Server) ready(c *fiber.Ctx) error {
	if s.draining.Load() {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "reason": "draining"})
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	// A pooled connection that died with a database restart fails once and is discarded; try again
	// before declaring the database unreachable.
	err := s.pool.Ping(ctx)
	if err != nil && ctx.Err() == nil {
		err = s.pool.Ping(ctx)
	}
	if err != nil {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "reason": "database unreachable"})
	}
	if err := migrations.CheckCurrent(ctx, s.pool); err != nil {
		reason := "schema behind this binary"
		if errors.Is(err, migrations.ErrAhead) {
			reason = "schema ahead of this binary"
		}
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "reason": reason})
	}
	return c.JSON(fiber.Map{"status": "ready", "schema_version": migrations.Latest()})
}

// schemaCheckEvery is how long a schema check stands before a request triggers the next one.
const schemaCheckEvery = 5 * time.Second

// schemaState is the last schema check: when it ran and whether the schema matched this binary.
type schemaState struct {
	at time.Time
	ok bool
}

// schemaGate refuses work, clearly and in the user's language, while the database's schema is not
// the one this binary was built for (someone migrated down, or a newer binary migrated up): the
// alternative is 500s from statements naming columns that are not there. The check runs at most
// every schemaCheckEvery, by whichever request finds the last one stale; the others use it.
func (s *Server) schemaGate(c *fiber.Ctx) error {
	if p := c.Path(); p == "/healthz" || p == "/readyz" {
		return c.Next() // they say so themselves
	}
	st := s.schema.Load()
	if st == nil || time.Since(st.at) > schemaCheckEvery {
		if s.schemaChecking.CompareAndSwap(false, true) {
			ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
			err := migrations.CheckCurrent(ctx, s.pool)
			cancel()
			s.schemaChecking.Store(false)
			// An unreachable database is not a schema mismatch: the requests find that out themselves.
			if err == nil || errors.Is(err, migrations.ErrBehind) || errors.Is(err, migrations.ErrAhead) {
				st = &schemaState{at: time.Now(), ok: err == nil}
				s.schema.Store(st)
				if err != nil {
					s.log.Error("schema does not match this binary; refusing work", "err", err)
				}
			}
		}
	}
	if st != nil && !st.ok {
		return &failure.Error{Kind: failure.Unavailable, Msg: failure.Msg{Key: "error.schema"}, RetryAfter: 30}
	}
	return c.Next()
}
