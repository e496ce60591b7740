package server

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// accessLog logs one line per request, after the error handler has set the final status.
func (s *Server) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	if err := c.Next(); err != nil {
		if herr := s.handleError(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	status := c.Response().StatusCode()
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	// Health probes come every few seconds; they would drown everything else.
	if c.Path() == "/healthz" || c.Path() == "/readyz" {
		level = slog.LevelDebug
	}
	s.log.Log(c.UserContext(), level, "http",
		slog.String("method", c.Method()),
		slog.String("path", c.Path()),
		slog.Int("status", status),
		slog.Duration("took", time.Since(start)),
		slog.String("ip", c.IP()),
		slog.String("request_id", requestID(c)))
	return nil
}

func (s *Server) logPanic(c *fiber.Ctx, v any) {
	s.log.Error("panic", slog.String("request_id", requestID(c)), slog.String("panic", fmt.Sprint(v)),
		slog.String("stack", string(debug.Stack())))
}

// contentSecurityPolicy allows nothing inline and nothing from elsewhere.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"font-src 'self'; connect-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'self'; " +
	"form-action 'self'; frame-ancestors 'none'"

func securityHeaders(c *fiber.Ctx) error {
	h := &c.Response().Header
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
	if c.Protocol() == "https" {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	return c.Next()
}

// Languages the interface speaks; the first is the default.
var languages = []string{"zh-CN", "en"}

const langCookie = "lang"

// language picks the request's language: the cookie set by the switcher, else Accept-Language.
func (s *Server) language(c *fiber.Ctx) error {
	c.Locals("lang", pickLanguage(c.Cookies(langCookie), c.Get(fiber.HeaderAcceptLanguage)))
	return c.Next()
}

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
	return languages[0]
}
