package server

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
)

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
	{navLink: navLink{Key: "nav.admin_users", Href: "/admin/users"}, Roles: []string{accounts.RoleRegulatorAdmin}},
	{navLink: navLink{Key: "nav.admin_orgs", Href: "/admin/organisations"}, Roles: []string{accounts.RoleRegulatorAdmin}},
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
	// Organisation administrators get a link to their own organisation's staff.
	if p := principalOf(c); p != nil {
		for _, g := range p.Grants {
			if code, ok := strings.CutPrefix(g.Domain, "org:"); ok && (g.Role == accounts.RoleCentreAdmin || g.Role == accounts.RoleInstitutionAdmin) {
				href := "/org/" + code + "/staff"
				out = append(out, navLink{Key: "nav.staff", Href: href, Active: c.Path() == href})
			}
		}
	}
	return out
}
