package server

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

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
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "reason": "schema not current"})
	}
	return c.JSON(fiber.Map{"status": "ready", "schema_version": migrations.Latest()})
}
