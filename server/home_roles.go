package server

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
	"shanyu/audits"
	"shanyu/certificates"
	"shanyu/curriculum"
	"shanyu/exams"
	"shanyu/internal/clock"
)

// The signed-in home (/home) is each role's to-do list: one section per role the user holds (per
// organisation or region the role is held in), every item a link to the page where it is done.
// Everything on it comes from the domains' exported reads; the counts are live.

// homeItem is one line of a section: a to-do (Todo) or a fact, with the page where it is handled.
type homeItem struct {
	Text string
	Href string
	Todo bool
	// Progress, when Max > 0, draws a bar (Value of Max) under the text.
	Value, Max float64
	Note       string // a second, quieter line
}

// homeSection is what one role has to do in one place.
type homeSection struct {
	Role  string // caregiver, centre, institution, inspector, regulator
	Title string
	Where string // the organisation or region, when the role is held in one
	Items []homeItem
	Empty string // shown when there is nothing
}

// Percent is the bar's fill in whole percent, at most 100.
func (i homeItem) Percent() int {
	if i.Max <= 0 {
		return 0
	}
	return min(100, int(i.Value*100/i.Max))
}

// homeTarget is where a user lands after signing in: their home when they hold a role, else their account.
func homeTarget(next string) string {
	if next == "" || next == "/" {
		return "/home"
	}
	return next
}

func (s *Server) myHomePage(c *fiber.Ctx) error {
	p := principalOf(c)
	lang := langOf(c)
	var sections []homeSection
	held := map[string]bool{}
	for _, r := range p.Roles() {
		held[r] = true
	}
	if held[accounts.RoleCaregiver] || len(p.Grants) == 0 {
		sec, err := s.learnerHome(c, lang, p.User.PersonID)
		if err != nil {
			return err
		}
		sections = append(sections, sec)
	}
	seen := map[string]bool{}
	for _, g := range p.Grants {
		code, isOrg := strings.CutPrefix(g.Domain, "org:")
		region, isRegion := strings.CutPrefix(g.Domain, "region:")
		var (
			sec  homeSection
			err  error
			part string
		)
		switch {
		case isOrg && (g.Role == accounts.RoleCentreAdmin || g.Role == accounts.RoleExaminer || g.Role == accounts.RoleTrainer):
			part = "centre:" + code
			if seen[part] {
				continue
			}
			sec, err = s.centreHome(c, lang, code)
		case isOrg && g.Role == accounts.RoleInstitutionAdmin:
			part = "institution:" + code
			if seen[part] {
				continue
			}
			sec, err = s.institutionHome(c, lang, code)
		case g.Role == accounts.RoleInspector:
			part = "inspector"
			if seen[part] {
				continue
			}
			sec, err = s.inspectorHome(c, lang, p.User.ID)
		case isRegion && g.Role == accounts.RoleRegulatorAdmin:
			part = "regulator:" + region
			if seen[part] {
				continue
			}
			sec, err = s.regulatorHome(c, lang, region)
		default:
			continue
		}
		if err != nil {
			return err
		}
		seen[part] = true
		sections = append(sections, sec)
	}
	return s.render(c, "home_mine", page{Title: s.i18n.T(lang, "home.mine.title"), Data: fiber.Map{
		"Name": p.User.Name, "Sections": sections, "Welcome": c.Query("welcome") == "1"}})
}

// today is the product's day [from, to) around now.
func today() (from, to time.Time) {
	from = clock.Midnight(clock.Today(time.Now()))
	return from, clock.Midnight(clock.Today(time.Now()).AddDate(0, 0, 1))
}

// learnerHome: the next lesson, every course's progress, hours held against each open exam, the
// registrations and their state, certificates expiring.
func (s *Server) learnerHome(c *fiber.Ctx, lang string, personID int64) (homeSection, error) {
	ctx := c.UserContext()
	sec := homeSection{Role: "caregiver", Title: s.i18n.T(lang, "home.mine.caregiver"), Empty: s.i18n.T(lang, "home.mine.caregiver_empty")}
	enrolments, err := s.domains.Curriculum.Enrolments(ctx, personID)
	if err != nil {
		return sec, err
	}
	next := false
	for _, e := range enrolments {
		if !next && e.LessonsDone < e.LessonCount {
			if l, ok, err := s.nextLesson(c, e); err != nil {
				return sec, err
			} else if ok {
				next = true
				sec.Items = append(sec.Items, homeItem{Todo: true, Href: fmt.Sprintf("/learn/lessons/%d", l.ID),
					Text: s.i18n.T(lang, "home.mine.next_lesson", l.Title), Note: e.Title})
			}
		}
	}
	for _, e := range enrolments {
		sec.Items = append(sec.Items, homeItem{Href: fmt.Sprintf("/learn/courses/%d", e.CourseID), Text: e.Title,
			Note:  s.i18n.T(lang, "curriculum.lessons_done", e.LessonCount, e.LessonsDone) + " · " + s.i18n.T(lang, "curriculum.hours_of", Number(e.RequiredHours), Number(e.HoursEarned)),
			Value: e.HoursEarned, Max: e.RequiredHours})
	}
	if len(enrolments) == 0 {
		sec.Items = append(sec.Items, homeItem{Todo: true, Href: "/courses", Text: s.i18n.T(lang, "home.mine.find_course")})
	}
	sessions, err := s.domains.Exams.OpenSessions(ctx, personID)
	if err != nil {
		return sec, err
	}
	for _, m := range sessions {
		if m.Submitted {
			continue
		}
		held, err := s.domains.Exams.HoursTowards(ctx, personID, m.Session)
		if err != nil {
			return sec, err
		}
		item := homeItem{Href: "/exams", Text: m.Session.Name, Value: held, Max: m.Session.MinHours,
			Note: s.examHoursNote(lang, held, m.Session.MinHours)}
		switch {
		case m.Registration == "" && held >= m.Session.MinHours:
			item.Todo, item.Text = true, s.i18n.T(lang, "home.mine.can_register", m.Session.Name)
		case m.Registration != "":
			item.Note = s.i18n.T(lang, "exams.registration") + s.i18n.T(lang, "home.mine.colon") + s.i18n.T(lang, "exams.reg."+m.Registration) + " · " + item.Note
			if m.Registration == exams.Approved && m.Open {
				item.Todo, item.Href = true, fmt.Sprintf("/exams/sessions/%d/take", m.Session.ID)
				item.Text = s.i18n.T(lang, "home.mine.exam_open", m.Session.Name)
			}
		}
		sec.Items = append(sec.Items, item)
	}
	soon := clock.Today(time.Now()).Add(expiringSoon)
	certs, _, err := s.domains.Certificates.List(ctx, certificates.Filter{Scope: certificates.Scope{PersonID: personID}, State: certificates.StateValid, ExpiresUntil: soon, Limit: 20})
	if err != nil {
		return sec, err
	}
	for _, l := range certs {
		sec.Items = append(sec.Items, homeItem{Todo: true, Href: "/certificates/mine",
			Text: s.i18n.T(lang, "home.mine.cert_expiring", l.Number, s.i18n.Times(lang).CivilDate(l.ExpiresOn))})
	}
	return sec, nil
}

// examHoursNote says the hours a learner holds against what a session asks.
func (s *Server) examHoursNote(lang string, held, need float64) string {
	if need <= 0 {
		return s.i18n.T(lang, "home.mine.no_hours_needed")
	}
	return s.i18n.T(lang, "exams.hours_held", Number(need), Number(held))
}

// nextLesson is the first lesson of an enrolment not completed yet.
func (s *Server) nextLesson(c *fiber.Ctx, e curriculum.Enrolment) (curriculum.Lesson, bool, error) {
	_, flat, err := s.enrolledContent(c, e)
	if err != nil {
		return curriculum.Lesson{}, false, err
	}
	for _, l := range flat {
		if !l.Done {
			return l.Lesson, true, nil
		}
	}
	return curriculum.Lesson{}, false, nil
}

// centreHome: registrations to approve, identities to check, answers to mark, today's exam and
// practical sessions, each shown only to staff allowed to act on it.
func (s *Server) centreHome(c *fiber.Ctx, lang, code string) (homeSection, error) {
	ctx := c.UserContext()
	sec := homeSection{Role: "centre", Title: s.i18n.T(lang, "home.mine.centre"), Empty: s.i18n.T(lang, "home.mine.nothing")}
	o, err := s.accounts.OrganisationByCode(ctx, code)
	if err != nil {
		return sec, err
	}
	sec.Where = o.Name
	domain := accounts.OrgDomain(code)
	from, to := today()
	canSessions := s.allowedIn(c, "exams.sessions", "read", domain) == nil
	canMark := s.allowedIn(c, "exams.marking", "read", domain) == nil
	if canSessions || canMark {
		todo, err := s.domains.Exams.CentreTodo(ctx, o.ID, from, to)
		if err != nil {
			return sec, err
		}
		for _, x := range todo {
			regs := fmt.Sprintf("/exams/sessions/%d/registrations", x.SessionID)
			if canSessions && x.Pending > x.Unverified {
				sec.Items = append(sec.Items, homeItem{Todo: true, Href: regs, Text: s.i18n.T(lang, "home.mine.to_approve", x.Pending-x.Unverified), Note: x.Name})
			}
			if canSessions && x.Unverified > 0 {
				sec.Items = append(sec.Items, homeItem{Todo: true, Href: regs, Text: s.i18n.T(lang, "home.mine.to_verify", x.Unverified), Note: x.Name})
			}
			if canMark && x.ToMark > 0 {
				sec.Items = append(sec.Items, homeItem{Todo: true, Href: fmt.Sprintf("/exams/sessions/%d/marking", x.SessionID), Text: s.i18n.T(lang, "home.mine.to_mark", x.ToMark), Note: x.Name})
			}
			if canSessions && x.Today(from, to) {
				sec.Items = append(sec.Items, homeItem{Href: fmt.Sprintf("/exams/sessions/%d/live", x.SessionID),
					Text: s.i18n.T(lang, "home.mine.exam_today", x.Name), Note: s.i18n.Times(lang).TimeOfDay(x.OpensAt) + " – " + s.i18n.Times(lang).TimeOfDay(x.ClosesAt)})
			}
		}
	}
	if s.allowedIn(c, "sessions.manage", "read", domain) == nil {
		list, err := s.domains.Curriculum.Sessions(ctx, curriculum.SessionFilter{OrgID: o.ID, From: from, Limit: 50})
		if err != nil {
			return sec, err
		}
		for _, x := range list {
			if !x.StartsAt.Before(to) {
				break
			}
			sec.Items = append(sec.Items, homeItem{Href: fmt.Sprintf("/centre/sessions/%d", x.ID),
				Text: s.i18n.T(lang, "home.mine.practical_today", x.Title), Note: s.i18n.Times(lang).TimeOfDay(x.StartsAt) + " · " + x.BaseName})
		}
	}
	return sec, nil
}

// institutionHome: what the compliance check finds wrong today, and the checks and documents falling due.
func (s *Server) institutionHome(c *fiber.Ctx, lang, code string) (homeSection, error) {
	ctx := c.UserContext()
	sec := homeSection{Role: "institution", Title: s.i18n.T(lang, "home.mine.institution"), Empty: s.i18n.T(lang, "home.mine.compliant")}
	o, err := s.accounts.OrganisationByCode(ctx, code)
	if err != nil {
		return sec, err
	}
	sec.Where = o.Name
	r, err := s.domains.Audits.Compliance(ctx, o.ID, time.Now())
	if err != nil {
		return sec, err
	}
	page := "/institutions/" + code + "/compliance"
	add := func(n int, key, anchor string) {
		if n > 0 {
			sec.Items = append(sec.Items, homeItem{Todo: true, Href: page + "#" + anchor, Text: s.i18n.T(lang, key, n)})
		}
	}
	add(r.Unqualified, "home.mine.unqualified", "posts")
	add(len(r.MissingPosts), "home.mine.missing_posts", "posts")
	add(len(r.BarredOnRoster), "home.mine.barred", "posts")
	add(len(r.CertProblems), "home.mine.cert_problems", "cert-problems")
	add(classProblems(r.Classes), "home.mine.class_problems", "classes")
	add(len(r.CheckIssues), "home.mine.checks_due", "checks")
	add(len(r.Expiring), "home.mine.expiring", "expiring")
	if len(sec.Items) == 0 {
		sec.Items = append(sec.Items, homeItem{Href: page, Text: sec.Empty})
	}
	return sec, nil
}

func classProblems(cs []audits.ClassReport) int {
	n := 0
	for _, c := range cs {
		if c.OverSize || c.UnderStaffed {
			n++
		}
	}
	return n
}

// inspectorHome: the inspections still to do (open, or waiting for this inspector's signature).
func (s *Server) inspectorHome(c *fiber.Ctx, lang string, userID int64) (homeSection, error) {
	ctx := c.UserContext()
	sec := homeSection{Role: "inspector", Title: s.i18n.T(lang, "home.mine.inspector"), Empty: s.i18n.T(lang, "home.mine.no_inspections")}
	xs, err := s.domains.Audits.InspectionsFor(ctx, userID)
	if err != nil {
		return sec, err
	}
	for _, x := range xs {
		if x.Status == "finished" {
			continue
		}
		mine := false
		for _, sig := range x.Inspectors {
			mine = mine || (sig.UserID == userID && sig.SignedAt != nil)
		}
		if mine {
			continue // signed: the other inspector's turn
		}
		o, err := s.accounts.OrganisationByID(ctx, x.OrganisationID)
		if err != nil {
			return sec, err
		}
		key := "home.mine.inspect"
		if x.Status == "signed" {
			key = "home.mine.countersign"
		}
		sec.Items = append(sec.Items, homeItem{Todo: true, Href: fmt.Sprintf("/inspections/%d", x.ID), Text: s.i18n.T(lang, key, o.Name), Note: x.RoundName})
	}
	return sec, nil
}

// regulatorHome: the region's rounds and their open inspections, and alerts from the dashboard.
func (s *Server) regulatorHome(c *fiber.Ctx, lang, region string) (homeSection, error) {
	ctx := c.UserContext()
	sec := homeSection{Role: "regulator", Title: s.i18n.T(lang, "home.mine.regulator"), Empty: s.i18n.T(lang, "home.mine.no_alerts")}
	if r, err := accounts.RegionByCode(ctx, s.pool, region); err == nil {
		sec.Where = r.Name
		if lang == "en" && r.NameEN != "" {
			sec.Where = r.NameEN
		}
	}
	rows, err := s.domains.Audits.Dashboard(ctx, region, time.Now())
	if err != nil {
		return sec, err
	}
	dash := "/dashboard?region=" + region
	if len(rows) > 0 {
		t := rows[0]
		if n := t.Institutions - t.Compliant; n > 0 {
			sec.Items = append(sec.Items, homeItem{Todo: true, Href: dash, Text: s.i18n.T(lang, "home.mine.noncompliant", n)})
		}
		if t.NotPermitted > 0 {
			sec.Items = append(sec.Items, homeItem{Todo: true, Href: dash, Text: s.i18n.T(lang, "home.mine.barred_found", t.NotPermitted)})
		}
		if t.Expiring > 0 {
			sec.Items = append(sec.Items, homeItem{Href: dash, Text: s.i18n.T(lang, "home.mine.region_expiring", t.Expiring)})
		}
	}
	rounds, err := s.domains.Audits.Rounds(ctx, region)
	if err != nil {
		return sec, err
	}
	sort.SliceStable(rounds, func(i, j int) bool { return rounds[i].CreatedAt.After(rounds[j].CreatedAt) })
	for i, r := range rounds {
		if i == 3 {
			break
		}
		sec.Items = append(sec.Items, homeItem{Href: "/dashboard/rounds", Text: r.Name,
			Note: s.i18n.T(lang, "home.mine.round_note", len(r.Assignments), s.i18n.Times(lang).Day(r.CreatedAt))})
	}
	if len(rounds) == 0 {
		sec.Items = append(sec.Items, homeItem{Todo: true, Href: "/dashboard/rounds", Text: s.i18n.T(lang, "home.mine.draw_round")})
	}
	return sec, nil
}
