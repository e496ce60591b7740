package server

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/internal/pg"
)

// metricEvents names the routes whose answers are product events on the metrics endpoint.
var metricEvents = map[string]string{
	"POST /api/v1/exam-sessions/:id/start": "exam_start",
	"POST /api/v1/attempts/:id/answers":    "exam_save",
	"GET /api/v1/verify/:code":             "verification",
	"GET /v/:code":                         "verification",
	"POST /api/v1/auth/login":              "login",
	"POST /login":                          "login",
}

// observe feeds one answered request to the metrics (when they are on): its route pattern, never
// the raw path, so that the series stay as many as the routes.
func (s *Server) observe(c *fiber.Ctx, status int, took time.Duration) {
	if s.metrics == nil {
		return
	}
	// fiber's strings point into buffers it reuses; a label value is kept, so it gets its own copy.
	method, route := strings.Clone(c.Method()), strings.Clone(c.Route().Path)
	if status == fiber.StatusNotFound && (route == "/" || route == "*" || route == "/*") {
		route = "unmatched"
	}
	s.metrics.Request(route, method, status, took, pg.Statements(c.UserContext()))
	if ev, ok := metricEvents[method+" "+route]; ok {
		s.metrics.Event(ev, status)
	}
	if status == fiber.StatusTooManyRequests {
		s.metrics.Event("throttled", status)
	}
}
