package server

import (
	"sort"
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

// barSize is how many links the phone's bottom bar holds besides 菜单 (the menu): at 360 px five
// cells of 72 px each are wide enough for a two-character label and a 44 px touch target.
const barSize = 4

// barRank orders a role's links for the phone's bottom bar: a role's main task first (lower
// first); links not named here come after, in navigation order.
var barRank = map[string]int{
	"nav.home":  0,
	"nav.learn": 1, "nav.centre_courses": 1, "nav.dashboard": 1, "nav.inspections": 1, "nav.compliance": 1,
	"nav.exams": 2, "nav.exam_sessions": 2, "nav.rounds": 2, "nav.staff": 2,
	"nav.certificates_mine": 3, "nav.certificates": 3, "nav.admin_users": 3, "nav.centre_sessions": 3,
}

// phoneNav splits a role's links into the bottom bar (barSize) and the menu (the rest), so that
// every destination is at most two taps away without sideways scrolling.
func phoneNav(links []navLink) (bar, menu []navLink) {
	ranked := append([]navLink(nil), links...)
	rank := func(l navLink) int {
		if r, ok := barRank[l.Key]; ok {
			return r
		}
		return 9
	}
	sort.SliceStable(ranked, func(i, j int) bool { return rank(ranked[i]) < rank(ranked[j]) })
	if len(ranked) <= barSize+1 {
		return ranked, nil // five fit without a menu
	}
	return ranked[:barSize], ranked[barSize:]
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
	{navLink: navLink{Key: "nav.audit_log", Href: "/audit-log"}, Roles: []string{accounts.RoleRegulatorAdmin}},
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
			if l.Key == "nav.home" && principalOf(c) != nil {
				l.Href = "/home" // a signed-in user's home is their to-do list
			}
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
