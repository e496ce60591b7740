package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
	"shanyu/audits"
	"shanyu/certificates"
	"shanyu/curriculum"
	"shanyu/exams"
	"shanyu/internal/failure"
)

// A route's scope says where the domain its permission is checked in comes from: the organisation
// code in its path, the person it acts on, the inspection, exam session, certificate … it names,
// the caller's own record, or nobody (public). Every route declares one where it is registered,
// beside its permission (apiRoute.Scope, the scope argument of page); registering a route without
// one panics, and TestEveryRouteDeclaresScope walks fiber's route table for any that escaped.
//
// The guard (s.guard) resolves every scope naming a target (scopeResolvers, placeResolvers,
// checkScope) and checks the route's permission in the target's domains before the handler runs;
// the handlers' own record-level checks stay as a second line.
type scope struct {
	Kind  scopeKind
	Param string // the path parameter naming the target; empty for public, own and held
}

type scopeKind string

const (
	// kindPublic: anyone, signed in or not.
	kindPublic scopeKind = "public"
	// kindOwn: the caller's own record only; the handler takes the principal, never an id from the request.
	kindOwn scopeKind = "own"
	// kindHeld: where the caller holds the permission. Lists are filtered to the caller's domains; a
	// domain named in the body (a new grant, organisation, round) is checked against them.
	kindHeld scopeKind = "held"
	// kindOrg: the organisation whose code is in the path (and the region it lies in).
	kindOrg scopeKind = "org"
	// kindPerson: the user named in the path; every grant they hold must lie inside a domain where
	// the caller holds the permission (see personDomains for a person holding none).
	kindPerson scopeKind = "person"
	// kindGrant: a grant: its domain and every grant of the user holding it.
	kindGrant scopeKind = "grant"
	// kindInspection: the inspection's assigned inspectors, its institution's admins and its region's regulator.
	kindInspection scopeKind = "inspection"
	// kindExamSession: the exam session's training centre.
	kindExamSession scopeKind = "exam_session"
	// kindRegistration: the centre of the session an exam registration belongs to.
	kindRegistration scopeKind = "registration"
	// kindAttempt: the candidate, with the attempt's current device token; staff: the session's centre.
	kindAttempt scopeKind = "attempt"
	// kindPracticeRun: a learner's practice run: the learner only.
	kindPracticeRun scopeKind = "practice_run"
	// kindCertificate: the holder, the issuing centre, the regulator of its region.
	kindCertificate scopeKind = "certificate"
	// kindPractical: the practical session's training centre.
	kindPractical scopeKind = "practical_session"
	// kindCourse: the course's training centre (learners: a published course or their enrolment).
	kindCourse scopeKind = "course"
	// kindLesson: the lesson's course's centre, for a learner enrolled in it.
	kindLesson scopeKind = "lesson"
	// kindAttachment: a lesson attachment's course, for a learner enrolled in it.
	kindAttachment scopeKind = "attachment"
	// kindEntry: the centre whose course or session earned a training-hours ledger entry.
	kindEntry scopeKind = "hours_entry"
	// kindRound: the region of an inspection round.
	kindRound scopeKind = "round"
	// kindRule: the region of a qualification rule.
	kindRule scopeKind = "rule"
	// kindRegion: the region whose code is in the path (it must exist): the caller holds the
	// permission in it or in a region containing it.
	kindRegion scopeKind = "region"
	// kindProvince: the whole province (its top-level regions): data that is the province's alone,
	// such as its township list and the plan's targets.
	kindProvince scopeKind = "province"
)

// Scopes, as routes declare them.
var (
	scopePublic = scope{Kind: kindPublic}
	scopeOwn    = scope{Kind: kindOwn}
	scopeHeld   = scope{Kind: kindHeld}
	// scopeProvince: the permission must hold in the whole province.
	scopeProvince = scope{Kind: kindProvince}
)

func byOrg(param string) scope          { return scope{kindOrg, param} }
func byPerson(param string) scope       { return scope{kindPerson, param} }
func byGrant(param string) scope        { return scope{kindGrant, param} }
func byInspection(param string) scope   { return scope{kindInspection, param} }
func byExamSession(param string) scope  { return scope{kindExamSession, param} }
func byRegistration(param string) scope { return scope{kindRegistration, param} }
func byAttempt(param string) scope      { return scope{kindAttempt, param} }
func byCertificate(param string) scope  { return scope{kindCertificate, param} }
func byPracticeRun(param string) scope  { return scope{kindPracticeRun, param} }
func byPractical(param string) scope    { return scope{kindPractical, param} }
func byCourse(param string) scope       { return scope{kindCourse, param} }
func byLesson(param string) scope       { return scope{kindLesson, param} }
func byAttachment(param string) scope   { return scope{kindAttachment, param} }
func byEntry(param string) scope        { return scope{kindEntry, param} }
func byRound(param string) scope        { return scope{kindRound, param} }
func byRule(param string) scope         { return scope{kindRule, param} }
func byRegion(param string) scope       { return scope{kindRegion, param} }

// route is one registered route with its permission and scope, as the guard and the tests see it.
type route struct {
	Method, Path string
	Perm         perm
	Scope        scope
	API          bool
}

// register records a route; a route without a scope, or whose scope names a parameter its path
// does not have, stops the start.
func (s *Server) register(method, path string, p perm, sc scope, api bool) *route {
	if sc.Kind == "" {
		panic(fmt.Sprintf("server: route %s %s declares no scope", method, path))
	}
	if sc.Param != "" && !strings.Contains(path+"/", "/:"+sc.Param+"/") && !strings.Contains(path, "/:"+sc.Param+".") {
		panic(fmt.Sprintf("server: route %s %s: scope parameter %q is not in the path", method, path, sc.Param))
	}
	if sc.Kind == kindPublic && p != public {
		panic(fmt.Sprintf("server: route %s %s is public in scope but requires a permission", method, path))
	}
	r := &route{Method: method, Path: path, Perm: p, Scope: sc, API: api}
	s.routeTable = append(s.routeTable, r)
	return r
}

// scopeResolvers turn a path parameter into the domains a route's permission is checked in; the
// kinds whose target may be the caller's own are in placeResolvers. Every kind but public, own,
// held, person and grant (checked in checkScope) is in one of the two (TestEveryScopeKindResolved);
// the handlers' record-level checks (the attempt's device token, an inspection's assignment before
// writing) stay as a second line.
var scopeResolvers = map[scopeKind]func(s *Server, c *fiber.Ctx, param string) ([]string, error){
	kindOrg: func(s *Server, c *fiber.Ctx, param string) ([]string, error) {
		o, err := s.accounts.OrganisationByCode(c.UserContext(), c.Params(param))
		if err != nil {
			return nil, err
		}
		return o.Domains(), nil
	},
	kindExamSession: func(s *Server, c *fiber.Ctx, param string) ([]string, error) {
		id, err := idParam(c, param)
		if err != nil {
			return nil, err
		}
		return s.examSessionDomains(c.UserContext(), id)
	},
	kindRegistration: func(s *Server, c *fiber.Ctx, param string) ([]string, error) {
		id, err := idParam(c, param)
		if err != nil {
			return nil, err
		}
		sid, err := s.domains.Exams.RegistrationSession(c.UserContext(), id)
		if err != nil {
			return nil, err
		}
		return s.examSessionDomains(c.UserContext(), sid)
	},
	kindPractical: func(s *Server, c *fiber.Ctx, param string) ([]string, error) {
		id, err := idParam(c, param)
		if err != nil {
			return nil, err
		}
		x, err := s.domains.Curriculum.Session(c.UserContext(), id)
		if err != nil {
			return nil, err
		}
		return []string{accounts.OrgDomain(x.OrgCode), accounts.RegionDomain(x.RegionCode)}, nil
	},
	kindEntry: func(s *Server, c *fiber.Ctx, param string) ([]string, error) {
		id, err := idParam(c, param)
		if err != nil {
			return nil, err
		}
		orgID, err := s.domains.Curriculum.EntryOrganisation(c.UserContext(), id)
		if err != nil {
			return nil, err
		}
		o, err := s.accounts.OrganisationByID(c.UserContext(), orgID)
		if err != nil {
			return nil, err
		}
		return o.Domains(), nil
	},
	kindRegion: func(s *Server, c *fiber.Ctx, param string) ([]string, error) {
		code := c.Params(param)
		if len(code) > maxRegionCode {
			return nil, failure.New(failure.NotFound, "error.not_found")
		}
		if _, err := accounts.RegionByCode(c.UserContext(), s.pool, code); errors.Is(err, accounts.ErrRegionNotFound) {
			return nil, failure.New(failure.NotFound, "error.not_found")
		} else if err != nil {
			return nil, err
		}
		return []string{accounts.RegionDomain(code)}, nil
	},
	kindProvince: func(s *Server, c *fiber.Ctx, _ string) ([]string, error) {
		return s.provinceDomains(c.UserContext())
	},
	kindRound: func(s *Server, c *fiber.Ctx, param string) ([]string, error) {
		id, err := idParam(c, param)
		if err != nil {
			return nil, err
		}
		r, err := s.domains.Audits.RoundByID(c.UserContext(), id)
		if err != nil {
			return nil, err
		}
		return []string{accounts.RegionDomain(r.RegionCode)}, nil
	},
}

// maxRegionCode bounds a region code read from a path before it is looked up (a township's code,
// the longest, has 12 digits).
const maxRegionCode = 12

func (s *Server) examSessionDomains(ctx context.Context, id int64) ([]string, error) {
	centre, err := s.domains.Exams.SessionCentre(ctx, id)
	if err != nil {
		return nil, err
	}
	o, err := s.accounts.OrganisationByID(ctx, centre)
	if err != nil {
		return nil, err
	}
	return o.Domains(), nil
}

// guard is every route's first handler: the permission (anonymous callers are sent to sign in), then
// the scope: the permission must hold in the target's domains.
func (s *Server) guard(r *route) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := r.Perm
		if p == public {
			return s.passed(c)
		}
		who := principalOf(c)
		if who == nil {
			if !wantsJSON(c) && c.Method() == fiber.MethodGet {
				return c.Redirect("/login?next="+c.OriginalURL(), fiber.StatusSeeOther)
			}
			return failure.New(failure.Unauthenticated, "error.unauthenticated")
		}
		if who.User.MustChangePassword && !passwordChangeAllowed[r.Method+" "+r.Path] {
			return s.passwordChangeRequired(c)
		}
		if p.self {
			if resolve := placeResolvers[r.Scope.Kind]; resolve != nil {
				if err := s.checkPlace(c, who, r, resolve); err != nil {
					return err
				}
			}
			return s.passed(c)
		}
		if !s.access.Allowed(*who, p.Obj, p.Act) {
			return failure.New(failure.Forbidden, "error.forbidden")
		}
		if err := s.checkScope(c, who, r); err != nil {
			return err
		}
		return s.passed(c)
	}
}

// passed runs the handler of a request the guard let through; the access matrix test sets
// guardOnly to see the guard's decisions without the handlers' effects.
func (s *Server) passed(c *fiber.Ctx) error {
	if s.guardOnly.Load() {
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Next()
}

// checkScope checks the route's permission against the target its scope names.
func (s *Server) checkScope(c *fiber.Ctx, who *accounts.Principal, r *route) error {
	p := r.Perm
	switch r.Scope.Kind {
	case kindPerson, kindGrant:
		id, err := idParam(c, r.Scope.Param)
		if err != nil {
			return err
		}
		userID := id
		var extra []string
		if r.Scope.Kind == kindGrant {
			g, err := s.accounts.GrantByID(c.UserContext(), id)
			if err != nil {
				return err
			}
			userID = g.UserID
			if extra, err = s.targetDomains(c.UserContext(), g.Domain); err != nil {
				return err
			}
			if !s.access.Allowed(*who, p.Obj, p.Act, extra...) {
				return failure.New(failure.Forbidden, "error.forbidden")
			}
		}
		return s.personInScope(c.UserContext(), who, p.Obj, p.Act, userID)
	}
	if resolve := placeResolvers[r.Scope.Kind]; resolve != nil {
		return s.checkPlace(c, who, r, resolve)
	}
	resolve := scopeResolvers[r.Scope.Kind]
	if resolve == nil {
		return nil
	}
	domains, err := resolve(s, c, r.Scope.Param)
	if err != nil {
		return err
	}
	if !s.access.Allowed(*who, p.Obj, p.Act, domains...) {
		return failure.New(failure.Forbidden, "error.forbidden")
	}
	return nil
}

// personInScope reports (as a forbidden error) whether the caller may do obj/act to a user: every
// domain the user holds a grant in must lie inside one where the caller holds obj/act. A learner's
// caregiver grant everywhere ("*") gives no power over anyone but themselves and does not count; a
// person holding no other grant is in the scope of personDomains.
func (s *Server) personInScope(ctx context.Context, who *accounts.Principal, obj, act string, userID int64) error {
	u, err := s.accounts.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	grants, err := s.accounts.GrantsOf(ctx, userID)
	if err != nil {
		return err
	}
	counted := 0
	for _, g := range grants {
		if g.Role == accounts.RoleCaregiver && g.Domain == accounts.DomainAll {
			continue
		}
		counted++
		domains, err := s.targetDomains(ctx, g.Domain)
		if err != nil {
			return failure.New(failure.Forbidden, "error.forbidden")
		}
		if !s.access.Allowed(*who, obj, act, domains...) {
			return failure.New(failure.Forbidden, "error.forbidden")
		}
	}
	if counted > 0 {
		return nil
	}
	domains, err := s.personDomains(ctx, u.PersonID)
	if err != nil {
		return err
	}
	if !s.access.Allowed(*who, obj, act, domains...) {
		return failure.New(failure.Forbidden, "error.forbidden")
	}
	return nil
}

// personDomains are the domains a person holding no grant lies in: the province (every top-level
// region), and every organisation the person has a relationship with (an enrolment in one of its
// courses, a registration for one of its exam sessions, a place on its roster) with that
// organisation's region.
func (s *Server) personDomains(ctx context.Context, personID int64) ([]string, error) {
	domains, err := s.provinceDomains(ctx)
	if err != nil {
		return nil, err
	}
	ids, err := s.relatedOrganisations(ctx, personID)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		o, err := s.accounts.OrganisationByID(ctx, id)
		if err != nil {
			return nil, err
		}
		domains = append(domains, o.Domains()...)
	}
	return domains, nil
}

// relatedOrganisations asks each domain which organisations the person has a relationship with.
func (s *Server) relatedOrganisations(ctx context.Context, personID int64) ([]int64, error) {
	var all []int64
	for _, related := range []func(context.Context, int64) ([]int64, error){
		s.domains.Curriculum.RelatedOrganisations, s.domains.Exams.RelatedOrganisations, s.domains.Audits.RelatedOrganisations,
	} {
		ids, err := related(ctx, personID)
		if err != nil {
			return nil, err
		}
		all = append(all, ids...)
	}
	return all, nil
}

// passwordChangeAllowed are the routes a user with a temporary password may use before changing it:
// changing it, reading who they are, signing out.
var passwordChangeAllowed = map[string]bool{
	"POST /api/v1/me/password": true,
	"GET /api/v1/me":           true,
	"POST /api/v1/auth/logout": true,
	"GET /account":             true,
	"POST /account/password":   true,
	"POST /logout":             true,
}

// passwordChangeRequired refuses a request of a user who must change their temporary password: the
// API answers 403 with the code password_change_required, pages send them to the change form.
func (s *Server) passwordChangeRequired(c *fiber.Ctx) error {
	if !wantsJSON(c) && c.Method() == fiber.MethodGet {
		return c.Redirect("/account#password", fiber.StatusSeeOther)
	}
	const key = "error.password_change_required"
	d := errorDetail{Code: "password_change_required", Key: key, Message: s.i18n.T(langOf(c), key), RequestID: requestID(c)}
	if wantsJSON(c) {
		return c.Status(fiber.StatusForbidden).JSON(errorBody{Error: d})
	}
	return s.render(c.Status(fiber.StatusForbidden), "error", page{Title: s.i18n.T(langOf(c), "error.title"), Data: d})
}

// heldWithin is where the caller holds obj/act, as a list filter: nil when it holds it everywhere or
// at the province level (nothing to filter), otherwise the regions and organisations of its grants.
func (s *Server) heldWithin(ctx context.Context, who *accounts.Principal, obj, act string) (*accounts.Within, error) {
	regions, err := accounts.Regions(ctx, s.pool)
	if err != nil {
		return nil, err
	}
	top := map[string]bool{}
	for _, r := range regions {
		if r.Parent == "" {
			top[r.Code] = true
		}
	}
	w := &accounts.Within{Regions: []string{}, Orgs: []string{}}
	for _, g := range who.Grants {
		if !s.access.Allowed(*who, obj, act, g.Domain) {
			continue
		}
		switch {
		case g.Domain == accounts.DomainAll:
			return nil, nil
		case strings.HasPrefix(g.Domain, "region:"):
			code := strings.TrimPrefix(g.Domain, "region:")
			if top[code] {
				return nil, nil
			}
			w.Regions = append(w.Regions, code)
		case strings.HasPrefix(g.Domain, "org:"):
			w.Orgs = append(w.Orgs, strings.TrimPrefix(g.Domain, "org:"))
		}
	}
	return w, nil
}

// placeResolvers resolve the kinds whose target may also be the caller's own (a certificate's
// holder, an attempt's candidate, a learner enrolled in a course, an inspection's inspector): they
// give the target's domains, whether the caller is personally entitled to it, and the permission
// staff need on it when the route itself asks only for a signed-in caller. Each costs a constant
// number of queries (one for the record, one for its organisation).
var placeResolvers = map[scopeKind]func(s *Server, c *fiber.Ctx, r *route, who *accounts.Principal) (place, error){
	kindCertificate: func(s *Server, c *fiber.Ctx, r *route, who *accounts.Principal) (place, error) {
		cert, err := s.domains.Certificates.ByNumber(c.UserContext(), c.Params(r.Scope.Param))
		if err != nil {
			return place{}, err
		}
		act := "write"
		if r.Method == fiber.MethodGet {
			act = "read"
		}
		return place{domains: []string{accounts.OrgDomain(cert.CentreCode), accounts.RegionDomain(cert.CentreRegion)},
			personal: cert.PersonID == who.User.PersonID, staff: can("certificates.status", act), denied: certificates.ErrNotFound}, nil
	},
	kindAttempt: func(s *Server, c *fiber.Ctx, r *route, who *accounts.Principal) (place, error) {
		id, err := idParam(c, r.Scope.Param)
		if err != nil {
			return place{}, err
		}
		personID, centreID, err := s.domains.Exams.AttemptPlace(c.UserContext(), id)
		if err != nil {
			return place{}, err
		}
		personal := personID == who.User.PersonID
		if learnerPerm(r.Perm) {
			// Only the candidate may (checkPlace): the centre's domains would not be read. This is the
			// path of every save and poll of an exam day.
			return place{personal: personal, denied: exams.ErrNotFound}, nil
		}
		domains, err := s.orgDomains(c.UserContext(), centreID)
		return place{domains: domains, personal: personal, denied: exams.ErrNotFound}, err
	},
	kindPracticeRun: func(s *Server, c *fiber.Ctx, r *route, who *accounts.Principal) (place, error) {
		id, err := idParam(c, r.Scope.Param)
		if err != nil {
			return place{}, err
		}
		personID, centreID, err := s.domains.Exams.PracticeRunPlace(c.UserContext(), id)
		if err != nil {
			return place{}, err
		}
		domains, err := s.orgDomains(c.UserContext(), centreID)
		return place{domains: domains, personal: personID == who.User.PersonID, denied: exams.ErrNotFound}, err
	},
	kindCourse: func(s *Server, c *fiber.Ctx, r *route, who *accounts.Principal) (place, error) {
		id, err := idParam(c, r.Scope.Param)
		if err != nil {
			return place{}, err
		}
		p, err := s.domains.Curriculum.CoursePlace(c.UserContext(), id, who.User.PersonID)
		if err != nil {
			return place{}, err
		}
		domains, err := s.orgDomains(c.UserContext(), p.OrganisationID)
		return place{domains: domains, personal: p.Published || p.Enrolled, staff: can("courses.edit", "read"), denied: curriculum.ErrCourseNotFound}, err
	},
	kindLesson: func(s *Server, c *fiber.Ctx, r *route, who *accounts.Principal) (place, error) {
		id, err := idParam(c, r.Scope.Param)
		if err != nil {
			return place{}, err
		}
		p, err := s.domains.Curriculum.LessonPlace(c.UserContext(), id, who.User.PersonID)
		if err != nil {
			return place{}, err
		}
		domains, err := s.orgDomains(c.UserContext(), p.OrganisationID)
		return place{domains: domains, personal: p.Enrolled, staff: can("courses.edit", "read"), denied: curriculum.ErrNotEnrolled}, err
	},
	kindAttachment: func(s *Server, c *fiber.Ctx, r *route, who *accounts.Principal) (place, error) {
		id, err := idParam(c, r.Scope.Param)
		if err != nil {
			return place{}, err
		}
		p, err := s.domains.Curriculum.AttachmentPlace(c.UserContext(), id, who.User.PersonID)
		if err != nil {
			return place{}, err
		}
		domains, err := s.orgDomains(c.UserContext(), p.OrganisationID)
		return place{domains: domains, personal: p.Enrolled, staff: can("courses.edit", "read"), denied: curriculum.ErrNotEnrolled}, err
	},
	kindInspection: func(s *Server, c *fiber.Ctx, r *route, who *accounts.Principal) (place, error) {
		id, err := idParam(c, r.Scope.Param)
		if err != nil {
			return place{}, err
		}
		orgID, assigned, err := s.domains.Audits.InspectionPlace(c.UserContext(), id, who.User.ID)
		if err != nil {
			return place{}, err
		}
		domains, err := s.orgDomains(c.UserContext(), orgID)
		return place{domains: domains, personal: assigned, staff: can("institution.inspection_report", "read"), assignee: true, denied: audits.ErrNotAssigned}, err
	},
	kindRule: func(s *Server, c *fiber.Ctx, r *route, who *accounts.Principal) (place, error) {
		// A qualification rule applies in the whole province: only the province level may remove one.
		domains, err := s.provinceDomains(c.UserContext())
		return place{domains: domains}, err
	},
}

// place is a resolved target of placeResolvers.
type place struct {
	domains  []string
	personal bool  // the caller is the record's holder, candidate, enrolled learner or assigned inspector
	staff    perm  // what staff need in domains when the route asks only for a signed-in caller
	assignee bool  // personal entitlement also stands for the route's staff permission (an inspection's inspectors)
	denied   error // what a caller outside the scope is told (the handlers' answer: often "not found")
}

// learnerPerm: permissions every learner holds everywhere (the caregiver role in "*"): they give
// power over one's own records only, so on a place they count only when the caller is personally entitled.
func learnerPerm(p perm) bool {
	return strings.HasPrefix(p.Obj, "learning.") || strings.HasPrefix(p.Obj, "exams.take")
}

// checkPlace checks a route whose scope kind is in placeResolvers.
func (s *Server) checkPlace(c *fiber.Ctx, who *accounts.Principal, r *route, resolve func(*Server, *fiber.Ctx, *route, *accounts.Principal) (place, error)) error {
	pl, err := resolve(s, c, r, who)
	if err != nil {
		return err
	}
	var ok bool
	denied := pl.denied // a learner or holder is told what the handler would tell them
	switch p := r.Perm; {
	case learnerPerm(p):
		ok = pl.personal
	case p.self:
		ok = pl.personal || pl.staff.Obj != "" && s.access.Allowed(*who, pl.staff.Obj, pl.staff.Act, pl.domains...)
	default: // staff, who know the record exists, are told they may not act on it
		ok = pl.assignee && pl.personal || s.access.Allowed(*who, p.Obj, p.Act, pl.domains...)
		if !pl.assignee {
			denied = nil
		}
	}
	if ok {
		return nil
	}
	if denied != nil {
		return denied
	}
	return failure.New(failure.Forbidden, "error.forbidden")
}

func (s *Server) orgDomains(ctx context.Context, id int64) ([]string, error) {
	o, err := s.accounts.OrganisationByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return o.Domains(), nil
}

// provinceDomains are the top-level regions.
func (s *Server) provinceDomains(ctx context.Context) ([]string, error) {
	regions, err := accounts.Regions(ctx, s.pool)
	if err != nil {
		return nil, err
	}
	var domains []string
	for _, r := range regions {
		if r.Parent == "" {
			domains = append(domains, accounts.RegionDomain(r.Code))
		}
	}
	return domains, nil
}

// usersWithin is heldWithin for lists of people: besides the staff whose every grant lies in the
// caller's domains, it lets through the learners (people holding no grant) related to an
// organisation inside them (an enrolment, an exam registration, a roster place), the rule
// personDomains applies to one person. A constant number of queries: the organisations, then
// one per domain owning a relationship.
func (s *Server) usersWithin(ctx context.Context, who *accounts.Principal, obj, act string) (*accounts.Within, error) {
	w, err := s.heldWithin(ctx, who, obj, act)
	if err != nil || w == nil {
		return w, err
	}
	orgs, err := s.accounts.OrganisationIDsWithin(ctx, *w)
	if err != nil || len(orgs) == 0 {
		return w, err
	}
	for _, related := range []func(context.Context, []int64) ([]int64, error){
		s.domains.Curriculum.RelatedPeople, s.domains.Exams.RelatedPeople, s.domains.Audits.RelatedPeople,
	} {
		people, err := related(ctx, orgs)
		if err != nil {
			return nil, err
		}
		w.Learners = append(w.Learners, people...)
	}
	return w, nil
}
