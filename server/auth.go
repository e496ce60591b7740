package server

import (
	"crypto/subtle"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
	"shanyu/internal/failure"
)

const sessionCookie = "shanyu_session"

// perm is what a route requires. The zero value means "public"; self means "any signed-in user".
type perm struct {
	Obj, Act string
	self     bool
}

var (
	public   = perm{}
	signedIn = perm{self: true}
)

func can(obj, act string) perm { return perm{Obj: obj, Act: act} }

// authenticate resolves the session cookie (if any) into a principal for the rest of the request.
func (s *Server) authenticate(c *fiber.Ctx) error {
	token := c.Cookies(sessionCookie)
	if token == "" {
		return c.Next()
	}
	p, err := s.accounts.Authenticate(c.UserContext(), token)
	switch {
	case errors.Is(err, accounts.ErrNoSession):
		s.clearSessionCookie(c)
	case err != nil:
		return err
	default:
		c.Locals("principal", &p)
		c.Locals("roles", p.Roles())
		if c.Cookies(langCookie) == "" {
			c.Locals("lang", p.User.Language)
		}
	}
	return c.Next()
}

// principalOf returns the signed-in principal, or nil.
func principalOf(c *fiber.Ctx) *accounts.Principal {
	p, _ := c.Locals("principal").(*accounts.Principal)
	return p
}

// csrf makes every state-changing request that a session cookie authenticates carry the session's
// token, in the X-CSRF-Token header (JSON API) or the _csrf form field (pages).
func (s *Server) csrf(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	p := principalOf(c)
	if p == nil {
		return c.Next()
	}
	sent := c.Get("X-CSRF-Token")
	if sent == "" {
		sent = c.FormValue("_csrf")
	}
	if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(p.Session.CSRFToken)) != 1 {
		return failure.New(failure.Forbidden, "error.csrf")
	}
	return c.Next()
}

// allowedIn checks a permission in specific domains (e.g. an organisation and its region), for
// handlers whose target is only known from the path.
func (s *Server) allowedIn(c *fiber.Ctx, obj, act string, domains ...string) error {
	who := principalOf(c)
	if who == nil {
		return failure.New(failure.Unauthenticated, "error.unauthenticated")
	}
	if !s.access.Allowed(*who, obj, act, domains...) {
		return failure.New(failure.Forbidden, "error.forbidden")
	}
	return nil
}

func (s *Server) setSessionCookie(c *fiber.Ctx, sess accounts.Session) {
	c.Cookie(&fiber.Cookie{
		Name:     sessionCookie,
		Value:    sess.Token,
		Path:     "/",
		Expires:  sess.ExpiresAt,
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
		Secure:   c.Protocol() == "https",
	})
}

func (s *Server) clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: c.Protocol() == "https"})
}
