package server

import (
	"time"

	"github.com/gofiber/fiber/v2"
)

// audience is one kind of visitor the home page speaks to.
type audience struct {
	Key  string // translation key prefix: home.<key>.title, home.<key>.body
	Icon string // a letter-free glyph class, see app.css
}

var audiences = []audience{
	{Key: "caregiver", Icon: "caregiver"},
	{Key: "centre", Icon: "centre"},
	{Key: "institution", Icon: "institution"},
	{Key: "inspector", Icon: "inspector"},
	{Key: "public", Icon: "public"},
}

func (s *Server) routesHome() {
	s.publicGet("/", s.homePage)
	s.page("GET", "/home", signedIn, scopeOwn, s.myHomePage) // home_roles.go
	s.publicGet("/lang/:code", s.switchLanguage)
}

func (s *Server) homePage(c *fiber.Ctx) error {
	return s.render(c, "home", page{Title: s.i18n.T(langOf(c), "home.title"), Data: audiences})
}

// switchLanguage remembers the chosen language in a cookie and goes back to where the user was.
func (s *Server) switchLanguage(c *fiber.Ctx) error {
	lang := normaliseLang(c.Params("code"))
	if lang == "" {
		return fiber.ErrNotFound
	}
	setLangCookie(c, lang)
	if p := principalOf(c); p != nil {
		if err := s.accounts.SetLanguage(c.UserContext(), p.User.ID, lang); err != nil {
			return err
		}
	}
	return c.Redirect(localPath(c.Query("next")), fiber.StatusSeeOther)
}

func setLangCookie(c *fiber.Ctx, lang string) {
	c.Cookie(&fiber.Cookie{
		Name:     langCookie,
		Value:    lang,
		Path:     "/",
		Expires:  time.Now().AddDate(1, 0, 0),
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
		Secure:   c.Protocol() == "https",
	})
}
