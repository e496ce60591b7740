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
	{navLink: navLink{Key: "nav.courses", Href: "/courses"}},
	{navLink: navLink{Key: "nav.learn", Href: "/learn"}, Roles: []string{accounts.RoleCaregiver}},
	{navLink: navLink{Key: "nav.hours", Href: "/hours"}, Roles: []string{accounts.RoleCaregiver}},
	{navLink: navLink{Key: "nav.practical", Href: "/sessions"}, Roles: []string{accounts.RoleCaregiver}},
	{navLink: navLink{Key: "nav.centre_courses", Href: "/centre/courses"}, Roles: []string{accounts.RoleTrainer, accounts.RoleCentreAdmin}},
	{navLink: navLink{Key: "nav.centre_sessions", Href: "/centre/sessions"}, Roles: []string{accounts.RoleTrainer, accounts.RoleCentreAdmin}},
	{navLink: navLink{Key: "nav.admin_users", Href: "/admin/users"}, Roles: []string{accounts.RoleRegulatorAdmin}},
	{navLink: navLink{Key: "nav.admin_orgs", Href: "/admin/organisations"}, Roles: []string{accounts.RoleRegulatorAdmin}},
	{navLink: navLink{Key: "nav.dashboard", Href: "/dashboard"}, Roles: []string{accounts.RoleRegulatorAdmin}},
	{navLink: navLink{Key: "nav.rounds", Href: "/dashboard/rounds"}, Roles: []string{accounts.RoleRegulatorAdmin}},
	{navLink: navLink{Key: "nav.rules", Href: "/dashboard/rules"}, Roles: []string{accounts.RoleRegulatorAdmin}},
	{navLink: navLink{Key: "nav.inspections", Href: "/inspections"}, Roles: []string{accounts.RoleInspector}},
	{navLink: navLink{Key: "nav.certificates_mine", Href: "/certificates/mine"}, Roles: []string{accounts.RoleCaregiver}},
	{navLink: navLink{Key: "nav.certificates", Href: "/certificates"}, Roles: []string{accounts.RoleCentreAdmin, accounts.RoleRegulatorAdmin}},
	{navLink: navLink{Key: "nav.exams", Href: "/exams"}, Roles: []string{accounts.RoleCaregiver}},
	{navLink: navLink{Key: "nav.exam_results", Href: "/exams/results"}, Roles: []string{accounts.RoleCaregiver}},
	{navLink: navLink{Key: "nav.verify", Href: "/verify"}},
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
		// Institution administrators get their institution's compliance.
		for _, g := range p.Grants {
			if code, ok := strings.CutPrefix(g.Domain, "org:"); ok && g.Role == accounts.RoleInstitutionAdmin {
				href := "/institutions/" + code + "/compliance"
				out = append(out, navLink{Key: "nav.compliance", Href: href, Active: c.Path() == href})
			}
		}
		// Centre staff who write, mark or read questions get their centre's question bank.
		seen := map[string]bool{}
		for _, g := range p.Grants {
			code, ok := strings.CutPrefix(g.Domain, "org:")
			if ok && !seen[code] && (g.Role == accounts.RoleCentreAdmin || g.Role == accounts.RoleTrainer || g.Role == accounts.RoleExaminer) {
				seen[code] = true
				href := "/centres/" + code + "/bank"
				out = append(out, navLink{Key: "nav.bank", Href: href, Active: strings.HasPrefix(c.Path(), href)})
				if g.Role != accounts.RoleTrainer {
					href = "/centres/" + code + "/exams"
					out = append(out, navLink{Key: "nav.exam_sessions", Href: href, Active: c.Path() == href})
				}
			}
		}
	}
	return out
}
