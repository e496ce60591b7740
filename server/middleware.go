package server

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/internal/pg"
)

// accessLog logs one line per request, after the error handler has set the final status.
func (s *Server) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	// The transaction rules are checked per request (pg.Track): a transaction that waits for a
	// second connection is logged and counted.
	c.SetUserContext(pg.Track(c.UserContext()))
	if s.cfg.PprofAddr != "" {
		// While the profiler is served, CPU samples carry the request's route (`go tool pprof -tags`
		// gives CPU time per route), at the cost of a label set per request.
		defer pprof.SetGoroutineLabels(c.Context())
		pprof.SetGoroutineLabels(pprof.WithLabels(c.Context(), pprof.Labels("route", c.Method()+" "+routeOfPath(c.Path()))))
	}
	if err := c.Next(); err != nil {
		if herr := s.handleError(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	status := c.Response().StatusCode()
	s.observe(c, status, time.Since(start))
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	// Health probes come every few seconds; they would drown everything else.
	if c.Path() == "/healthz" || c.Path() == "/readyz" {
		level = slog.LevelDebug
	}
	s.log.LogAttrs(c.UserContext(), level, "http",
		slog.String("method", c.Method()),
		slog.String("path", c.Path()),
		slog.Int("status", status),
		slog.Duration("took", time.Since(start)),
		slog.String("ip", s.clientIP(c)),
		slog.String("request_id", requestID(c)))
	return nil
}

// routeOfPath is path with its numeric segments as :id, a route pattern good enough for a profile's
// labels (the matched route is known only once the handler runs).
func routeOfPath(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			parts[i] = ":id"
		}
	}
	return strings.Join(parts, "/")
}

func (s *Server) logPanic(c *fiber.Ctx, v any) {
	s.log.Error("panic", slog.String("request_id", requestID(c)), slog.String("panic", fmt.Sprint(v)),
		slog.String("stack", string(debug.Stack())))
}

// contentSecurityPolicy allows nothing inline and nothing from elsewhere.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"font-src 'self'; connect-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'self'; " +
	"form-action 'self'; frame-ancestors 'none'"

// securityHeaders are the pages' (and the session API's) security headers.
var securityHeaders = headers(
	"Content-Security-Policy", contentSecurityPolicy,
	"X-Content-Type-Options", "nosniff",
	"Referrer-Policy", "strict-origin-when-cross-origin",
	"X-Frame-Options", "DENY",
	"Cross-Origin-Opener-Policy", "same-origin",
	"Permissions-Policy", "camera=(self), microphone=(), geolocation=()",
)

// apiSecurityHeaders are the public JSON endpoints' (routesPublicAPI): a JSON document loads nothing
// and is framed by nobody, and anyone may read it from a script (it carries no cookie and only what
// the public may see), so that other systems, an institution's HR page say, can verify certificates.
var apiSecurityHeaders = headers(
	"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'",
	"X-Content-Type-Options", "nosniff",
	"Referrer-Policy", "no-referrer",
	"Access-Control-Allow-Origin", "*",
)

// headers is a middleware setting the given name, value pairs, and HSTS over HTTPS.
func headers(pairs ...string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		h := &c.Response().Header
		for i := 0; i+1 < len(pairs); i += 2 {
			h.Set(pairs[i], pairs[i+1])
		}
		if c.Protocol() == "https" {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		return c.Next()
	}
}

// Languages the interface speaks; the first is the default.
var languages = []string{"zh-CN", "en"}

const langCookie = "lang"

func pickLanguage(cookie, accept string) string {
	if l := normaliseLang(cookie); l != "" {
		return l
	}
	for _, part := range strings.Split(accept, ",") {
		tag := strings.TrimSpace(strings.SplitN(part, ";", 2)[0])
		if l := normaliseLang(tag); l != "" {
			return l
		}
	}
	return languages[0]
}

func normaliseLang(tag string) string {
	tag = strings.ToLower(tag)
	switch {
	case tag == "":
		return ""
	case strings.HasPrefix(tag, "zh"):
		return "zh-CN"
	case strings.HasPrefix(tag, "en"):
		return "en"
	}
	return ""
}

func langOf(c *fiber.Ctx) string {
	if l, ok := c.Locals("lang").(string); ok {
		return l
	}
	return pickLanguage(c.Cookies(langCookie), c.Get(fiber.HeaderAcceptLanguage))
}
