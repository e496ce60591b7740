package server

import "github.com/gofiber/fiber/v2"

// navLink is one entry of the header navigation.
type navLink struct {
	Key    string // translation key of the label
	Href   string
	Active bool
}

// navEntry says who sees a link: everyone when Roles is empty, else holders of any of the roles.
type navEntry struct {
	navLink
	Roles []string
}

// navigation lists the header links in order. Each feature adds its pages here with the roles that use them.
var navigation = []navEntry{
	{navLink: navLink{Key: "nav.home", Href: "/"}},
}

// rolesOf returns the roles of the signed-in user (set by the authentication middleware), or none.
func rolesOf(c *fiber.Ctx) []string {
	r, _ := c.Locals("roles").([]string)
	return r
}

func (s *Server) navFor(c *fiber.Ctx) []navLink {
	held := map[string]bool{}
	for _, r := range rolesOf(c) {
		held[r] = true
	}
	var out []navLink
	for _, e := range navigation {
		visible := len(e.Roles) == 0
		for _, r := range e.Roles {
			visible = visible || held[r]
		}
		if visible {
			l := e.navLink
			l.Active = c.Path() == l.Href
			out = append(out, l)
		}
	}
	return out
}
