package server_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/internal/servertest"
	"shanyu/server"
)

// The access matrix: every route × {anonymous, each demo role, the Ningbo regulator and inspector,
// staff of the Ningbo centre and institution} × {an object inside the actor's scope, one outside},
// against a live server whose guard answers 204 instead of running handlers (so nothing changes and
// the cases do not depend on each other). The expected answer comes from the actor's grants, a copy
// of the role permissions written here, and — for the admin, certificate, exam and inspection routes —
// from handScoped below, written by hand, not from the routes' declarations; for the other routes
// from the declared kind. TestAccessMatrixTurnsRedWithoutAScope drops one declaration and expects
// the matrix to fail.

type matrixActor struct {
	username string
	role     string // its one grant
	domain   string // "*", "region:3302", "org:HZ001"
}

var matrixActors = []matrixActor{
	{"", "", ""}, // anonymous
	{"admin", "regulator_admin", "region:33"},
	{"centre", "centre_admin", "org:HZ001"},
	{"trainer", "trainer", "org:HZ001"},
	{"examiner", "examiner", "org:HZ001"},
	{"caregiver", "caregiver", "*"},
	{"institution", "institution_admin", "org:HZI001"},
	{"inspector", "inspector", "region:3301"},
	{"regulator.nb", "regulator_admin", "region:3302"},
	{"inspector.nb", "inspector", "region:3302"},
	{"trainer.nb", "trainer", "org:NB001"},
	{"institution.nb", "institution_admin", "org:NBI001"},
}

// rolePerms is accounts/access_policy.csv as this test expects it (role → resource:action).
var rolePerms = map[string][]string{
	"regulator_admin":   {"admin.*:*", "audit.*:*", "certificates.*:*", "policy.*:*", "dashboard.*:read", "inspections.*:*", "institution.*:read", "rounds.*:*", "conduct.*:*", "people.identity:*"},
	"centre_admin":      {"centre.*:*", "courses.*:*", "bank.*:*", "exams.*:*", "certificates.*:*", "sessions.*:*", "people.identity:*"},
	"trainer":           {"courses.*:*", "sessions.*:*", "bank.*:*"},
	"examiner":          {"exams.*:*", "bank.*:read", "people.identity:write"},
	"institution_admin": {"institution.*:*"},
	"inspector":         {"inspections.*:*", "certificates.verify:read"},
	"caregiver":         {"learning.*:*", "exams.take:*"},
}

func rolePermits(role, perm string) bool {
	obj, act, _ := strings.Cut(perm, ":")
	for _, p := range rolePerms[role] {
		pobj, pact, _ := strings.Cut(p, ":")
		if (pobj == obj || strings.HasSuffix(pobj, "*") && strings.HasPrefix(obj, strings.TrimSuffix(pobj, "*"))) && (pact == "*" || pact == act) {
			return true
		}
	}
	return false
}

// matrixObject is a target: the organisation it belongs to (or "") and its region.
type matrixObject struct {
	name        string
	org, region string
}

func (a matrixActor) covers(o matrixObject) bool {
	switch {
	case a.domain == "*":
		return true
	case strings.HasPrefix(a.domain, "region:"):
		return strings.HasPrefix(o.region, strings.TrimPrefix(a.domain, "region:"))
	default:
		return o.org != "" && a.domain == "org:"+o.org
	}
}

type scopedness int

const (
	anyObject     scopedness = iota // the guard does not look at the object (own record, held lists, or checked by the handler)
	outsideDenied                   // an object outside the actor's domain is refused by the guard
)

// handScoped: for the admin, certificate, exam and inspection routes, whether the guard refuses an
// object outside the caller's domains. Written by hand; a route missing here fails the test.
var handScoped = map[string]scopedness{}

func init() {
	for _, r := range []struct {
		method, path string
		s            scopedness
	}{
		{"GET", "/api/v1/admin/users", anyObject},
		{"POST", "/api/v1/admin/users", anyObject},
		{"GET", "/api/v1/admin/users/:id", outsideDenied},
		{"POST", "/api/v1/admin/users/:id/grants", outsideDenied},
		{"DELETE", "/api/v1/admin/grants/:id", outsideDenied},
		{"POST", "/api/v1/admin/users/:id/password-reset", outsideDenied},
		{"POST", "/api/v1/admin/users/:id/disable", outsideDenied},
		{"POST", "/api/v1/admin/users/:id/enable", outsideDenied},
		{"GET", "/api/v1/admin/organisations", anyObject},
		{"POST", "/api/v1/admin/organisations", anyObject},
		{"GET", "/api/v1/organisations/:code/staff", outsideDenied},
		{"POST", "/api/v1/organisations/:code/staff", outsideDenied},
		{"GET", "/admin/users", anyObject},
		{"POST", "/admin/users", anyObject},
		{"GET", "/admin/users/:id", outsideDenied},
		{"POST", "/admin/users/:id/grants", outsideDenied},
		{"POST", "/admin/grants/:id/delete", outsideDenied},
		{"POST", "/admin/users/:id/password-reset", outsideDenied},
		{"POST", "/admin/users/:id/disable", outsideDenied},
		{"POST", "/admin/users/:id/enable", outsideDenied},
		{"GET", "/admin/organisations", anyObject},
		{"POST", "/admin/organisations", anyObject},
		{"GET", "/org/:code/staff", outsideDenied},
		{"POST", "/org/:code/staff", outsideDenied},
		{"POST", "/org/:code/staff/:grant/delete", outsideDenied},
		{"GET", "/api/v1/my/exams", anyObject},
		{"POST", "/api/v1/exam-sessions/:id/registrations", outsideDenied},
		{"POST", "/api/v1/exam-sessions/:id/start", outsideDenied},
		{"GET", "/api/v1/attempts/:id/paper", anyObject},
		{"GET", "/api/v1/attempts/:id/state", anyObject},
		{"POST", "/api/v1/attempts/:id/answers", anyObject},
		{"POST", "/api/v1/attempts/:id/submit", anyObject},
		{"POST", "/api/v1/attempts/:id/signals", anyObject},
		{"GET", "/api/v1/my/results", anyObject},
		{"GET", "/api/v1/exam-sessions/:id/registrations", outsideDenied},
		{"POST", "/api/v1/exam-registrations/:id/decision", outsideDenied},
		{"GET", "/api/v1/exam-sessions/:id/marking", outsideDenied},
		{"POST", "/api/v1/attempts/:id/marks", anyObject},
		{"POST", "/api/v1/exam-sessions/:id/publish", outsideDenied},
		{"POST", "/api/v1/exam-sessions/:id/regrade", outsideDenied},
		{"GET", "/api/v1/exam-sessions/:id/results", outsideDenied},
		{"GET", "/exams/sessions/:id/results.csv", outsideDenied},
		{"GET", "/exams", anyObject},
		{"POST", "/exams/sessions/:id/register", outsideDenied},
		{"GET", "/exams/sessions/:id/take", outsideDenied},
		{"GET", "/exams/results", anyObject},
		{"GET", "/exams/sw.js", anyObject},
		{"GET", "/exams/attempts/:id/images/:position/:name", anyObject},
		{"GET", "/centres/:code/exams", outsideDenied},
		{"GET", "/exams/sessions/:id/registrations", outsideDenied},
		{"POST", "/exams/registrations/:id/decision", outsideDenied},
		{"POST", "/exams/registrations/:id/identity", outsideDenied},
		{"GET", "/exams/sessions/:id/live", outsideDenied},
		{"GET", "/api/v1/exam-sessions/:id/live", outsideDenied},
		{"GET", "/exams/sessions/:id/marking", outsideDenied},
		{"POST", "/exams/attempts/:id/marks", anyObject},
		{"GET", "/exams/sessions/:id/results", outsideDenied},
		{"POST", "/exams/sessions/:id/publish", outsideDenied},
		{"GET", "/exams/sessions/:id/results.xlsx", outsideDenied},
		{"GET", "/exams/sessions/:id/regrade", outsideDenied},
		{"POST", "/exams/sessions/:id/regrade", outsideDenied},
		{"GET", "/api/v1/exam-sessions/:id/item-stats", outsideDenied},
		{"POST", "/api/v1/centres/:code/blueprints", outsideDenied},
		{"GET", "/api/v1/centres/:code/blueprints", outsideDenied},
		{"POST", "/api/v1/centres/:code/blueprints/:id/check", outsideDenied},
		{"GET", "/api/v1/centres/:code/blueprints/:id/preview", outsideDenied},
		{"POST", "/api/v1/centres/:code/exam-sessions", outsideDenied},
		{"GET", "/centres/:code/exams/blueprints", outsideDenied},
		{"POST", "/centres/:code/exams/blueprints", outsideDenied},
		{"GET", "/centres/:code/exams/blueprints/:id", outsideDenied},
		{"GET", "/centres/:code/exams/new", outsideDenied},
		{"POST", "/centres/:code/exams/new", outsideDenied},
		{"GET", "/api/v1/certificates", anyObject},
		{"GET", "/api/v1/certificates/archive", anyObject},
		{"GET", "/api/v1/certificates/:number", anyObject},
		{"GET", "/api/v1/certificates/:number/pdf", anyObject},
		{"GET", "/api/v1/certificates/:number/ob3", anyObject},
		{"POST", "/api/v1/certificates/:number/revoke", anyObject},
		{"POST", "/api/v1/certificates/:number/suspend", anyObject},
		{"POST", "/api/v1/certificates/:number/reinstate", anyObject},
		{"POST", "/api/v1/certificates/:number/renew", anyObject},
		{"GET", "/api/v1/centres/:code/certificate-progress", outsideDenied},
		{"GET", "/certificates/mine", anyObject},
		{"GET", "/certificates", anyObject},
		{"GET", "/certificates/:number", anyObject},
		{"POST", "/certificates/:number/status", anyObject},
		{"POST", "/certificates/:number/renew", anyObject},
		{"POST", "/api/v1/inspections/rounds", anyObject},
		{"GET", "/api/v1/inspections/rounds/:id", outsideDenied},
		{"GET", "/api/v1/public/inspections", anyObject},
		{"GET", "/api/v1/inspections/mine", anyObject},
		{"GET", "/api/v1/inspections/:id", anyObject},
		{"POST", "/api/v1/inspections/:id/scans", anyObject},
		{"POST", "/api/v1/inspections/:id/headcounts", anyObject},
		{"POST", "/api/v1/inspections/:id/findings", anyObject},
		{"POST", "/api/v1/inspections/:id/sign", anyObject},
		{"GET", "/inspections/public", anyObject},
		{"GET", "/inspections", anyObject},
		{"GET", "/inspections/:id", anyObject},
		{"POST", "/inspections/:id/scan", anyObject},
		{"POST", "/inspections/:id/headcount", anyObject},
		{"POST", "/inspections/:id/finding", anyObject},
		{"POST", "/inspections/:id/findings/:finding/photos", anyObject},
		{"GET", "/inspections/:id/photos/:photo", anyObject},
		{"POST", "/inspections/:id/sign", anyObject},
		{"GET", "/api/v1/inspections/:id/report.pdf", anyObject},
		{"POST", "/api/v1/inspections/:id/absences", anyObject},
		{"POST", "/api/v1/inspections/:id/withdraw", anyObject},
		{"POST", "/api/v1/inspections/:id/addenda", anyObject},
		{"POST", "/api/v1/inspections/:id/reassign", anyObject},
		{"POST", "/inspections/:id/absent", anyObject},
		{"POST", "/inspections/:id/withdraw", anyObject},
		{"POST", "/inspections/:id/addendum", anyObject},
		{"GET", "/inspections/:id/manage", anyObject},
		{"POST", "/inspections/:id/manage", anyObject},
	} {
		handScoped[r.method+" "+r.path] = r.s
	}
}

var handPattern = regexp.MustCompile(`^(/api/v1/admin|/admin|/api/v1/organisations|/org/|/certificates|/api/v1/certificates|/api/v1/centres/:code/certificate-progress|/exams|/api/v1/exam-|/api/v1/attempts|/api/v1/my/|/centres/:code/exams|/api/v1/centres/:code/blueprints|/api/v1/centres/:code/exam-sessions|/inspections|/api/v1/inspections|/api/v1/public/inspections)`)

// guardedKinds are the declared kinds the guard resolves itself (server/scope.go).
var guardedKinds = map[string]bool{"org": true, "exam_session": true, "registration": true, "practical_session": true, "hours_entry": true, "round": true, "person": true, "grant": true}

// matrixTargets finds, for each scope kind the guard resolves, a Hangzhou and a Ningbo object of
// the demo (a kind without a Ningbo object is tested with the Hangzhou one only).
type matrixTargets map[string][]struct {
	value string
	obj   matrixObject
}

func loadTargets(tb testing.TB, pool *pgxpool.Pool) matrixTargets {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t := matrixTargets{}
	add := func(kind, q, org, region string, args ...any) {
		var v string
		if err := pool.QueryRow(ctx, q, args...).Scan(&v); err == nil {
			t[kind] = append(t[kind], struct {
				value string
				obj   matrixObject
			}{v, matrixObject{kind + ":" + org, org, region}})
		}
	}
	for _, o := range []struct{ centre, institution, region, staff string }{{"HZ001", "HZI001", "330106", "trainer"}, {"NB001", "NBI001", "3302", "trainer.nb"}} {
		t["centre"] = append(t["centre"], struct {
			value string
			obj   matrixObject
		}{o.centre, matrixObject{o.centre, o.centre, o.region}})
		t["institution"] = append(t["institution"], struct {
			value string
			obj   matrixObject
		}{o.institution, matrixObject{o.institution, o.institution, o.region}})
		add("person", `SELECT id::text FROM users WHERE username = $1`, o.centre, o.region, o.staff)
		add("grant", `SELECT g.id::text FROM role_grants g JOIN users u ON u.id = g.user_id WHERE u.username = $1`, o.centre, o.region, o.staff)
		add("exam_session", `SELECT x.id::text FROM exam_sessions x JOIN organisations o ON o.id = x.organisation_id WHERE o.code = $1 ORDER BY x.id LIMIT 1`, o.centre, o.region, o.centre)
		add("registration", `SELECT r.id::text FROM exam_registrations r JOIN exam_sessions x ON x.id = r.session_id JOIN organisations o ON o.id = x.organisation_id WHERE o.code = $1 ORDER BY r.id LIMIT 1`, o.centre, o.region, o.centre)
		add("practical_session", `SELECT x.id::text FROM practical_sessions x JOIN organisations o ON o.id = x.organisation_id WHERE o.code = $1 ORDER BY x.id LIMIT 1`, o.centre, o.region, o.centre)
		add("hours_entry", `SELECT h.id::text FROM hours_ledger h JOIN courses c ON c.id = h.course_id JOIN organisations o ON o.id = c.organisation_id WHERE o.code = $1 ORDER BY h.id LIMIT 1`, o.centre, o.region, o.centre)
	}
	add("round", `SELECT id::text FROM audit_rounds WHERE region_code LIKE '3301%' ORDER BY id LIMIT 1`, "", "330106")
	for _, k := range []string{"centre", "institution", "person", "grant", "exam_session", "registration", "practical_session"} {
		if len(t[k]) == 0 {
			tb.Fatalf("the demo has no %s to test with", k)
		}
	}
	return t
}

var pathParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// handKind says what an admin, certificate, exam or inspection route acts on, from its path.
func handKind(path string) (kind, param string) {
	switch {
	case strings.Contains(path, "/admin/users/:id"):
		return "person", "id"
	case strings.Contains(path, "/admin/grants/:id"):
		return "grant", "id"
	case strings.Contains(path, ":code"):
		return "org", "code"
	case strings.Contains(path, "/exam-sessions/:id"), strings.Contains(path, "/exams/sessions/:id"):
		return "exam_session", "id"
	case strings.Contains(path, "registrations/:id"):
		return "registration", "id"
	case strings.Contains(path, "/inspections/rounds/:id"):
		return "round", "id"
	}
	return "", ""
}

type matrixResult struct {
	cases, mismatches int
	failures          []string
}

// runMatrix sends every case and compares the guard's answer with the expectation.
func runMatrix(tb testing.TB, srv *servertest.Instance, clients map[string]*client, targets matrixTargets) matrixResult {
	tb.Helper()
	var res matrixResult
	for _, rt := range srv.Server.RouteScopes() {
		if rt.Method == "HEAD" {
			continue
		}
		key := rt.Method + " " + rt.Path
		scoped := anyObject
		if handPattern.MatchString(rt.Path) {
			s, ok := handScoped[key]
			if !ok {
				tb.Errorf("%s: an admin, certificate, exam or inspection route missing from handScoped", key)
				continue
			}
			scoped = s
		} else if guardedKinds[rt.Kind] {
			scoped = outsideDenied
		}
		// The objects to try: the scope's targets, or one placeholder when the guard ignores them.
		type target struct {
			value string
			obj   *matrixObject
		}
		var objs []target
		kind, param := rt.Kind, rt.Param
		if scoped == outsideDenied && handPattern.MatchString(rt.Path) {
			kind, param = handKind(rt.Path) // what the route acts on, read from its path, not its declaration
		}
		if kind == "org" {
			kind = "centre"
			if strings.Contains(rt.Path, "/institutions/") {
				kind = "institution"
			}
		}
		if (scoped == outsideDenied || guardedKinds[kind]) && param != "" {
			for _, t := range targets[kind] {
				o := t.obj
				objs = append(objs, target{t.value, &o})
			}
			if len(objs) == 0 {
				tb.Errorf("%s: no demo object of kind %s", key, kind)
				continue
			}
		} else {
			objs = []target{{"", nil}}
		}
		for _, a := range matrixActors {
			for _, o := range objs {
				path := pathParam.ReplaceAllStringFunc(rt.Path, func(m string) string {
					if m[1:] == param && o.value != "" {
						return o.value
					}
					return "1"
				})
				want := rt.Perm == "public" || a.username != "" && (rt.Perm == "signed-in" || rolePermits(a.role, rt.Perm) &&
					(scoped == anyObject || o.obj == nil || a.covers(*o.obj)))
				c := clients[a.username]
				h := map[string]string{"Accept": "application/json", "X-CSRF-Token": c.csrf}
				r := c.do(rt.Method, path, nil, h)
				denied := r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden ||
					r.Status == http.StatusSeeOther && strings.HasPrefix(r.Header.Get("Location"), "/login")
				res.cases++
				if denied == want {
					res.mismatches++
					where := "—"
					if o.obj != nil {
						where = o.obj.name
					}
					res.failures = append(res.failures, fmt.Sprintf("%s %s as %q on %s: %d, want allowed=%v", rt.Method, path, a.username, where, r.Status, want))
				}
			}
		}
	}
	return res
}

func startMatrix(tb testing.TB, opts servertest.Options) (*servertest.Instance, map[string]*client, matrixTargets) {
	tb.Helper()
	inner := opts.Server
	opts.Setup = seedFullDemo
	opts.Server = inner
	srv := servertest.Start(tb, opts)
	clients := map[string]*client{"": newClient(tb, srv)}
	for _, a := range matrixActors[1:] {
		clients[a.username] = mustLogin(tb, srv, a.username)
	}
	srv.Server.GuardOnly(true)
	return srv, clients, loadTargets(tb, srv.Pool)
}

func TestAccessMatrix(t *testing.T) {
	t.Parallel()
	start := time.Now()
	srv, clients, targets := startMatrix(t, servertest.Options{})
	res := runMatrix(t, srv, clients, targets)
	for i, f := range res.failures {
		if i == 40 {
			t.Errorf("… and %d more", len(res.failures)-40)
			break
		}
		t.Error(f)
	}
	if res.cases < 2000 {
		t.Errorf("only %d cases", res.cases)
	}
	t.Logf("access matrix: %d route × actor × object cases checked, %d mismatches, in %s", res.cases, res.mismatches, time.Since(start).Round(time.Millisecond))
}

// Deleting one route's declared scope (here: reading a person) lets the Ningbo regulator read a
// Hangzhou trainer: the matrix must turn red on exactly that.
func TestAccessMatrixTurnsRedWithoutAScope(t *testing.T) {
	t.Parallel()
	srv, clients, targets := startMatrix(t, servertest.Options{Server: func(s *server.Server) {
		if !s.DropScope("GET", "/api/v1/admin/users/:id") {
			t.Fatal("no such route")
		}
	}})
	res := runMatrix(t, srv, clients, targets)
	if res.mismatches == 0 {
		t.Fatal("the matrix stayed green with a route's scope deleted")
	}
	for _, f := range res.failures {
		if !strings.HasPrefix(f, "GET /api/v1/admin/users/") {
			t.Errorf("unexpected mismatch: %s", f)
		}
	}
	t.Logf("with the scope of GET /api/v1/admin/users/:id deleted: %d of %d cases red, e.g. %s", res.mismatches, res.cases, res.failures[0])
}
