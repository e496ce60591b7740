package server_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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
	{"cand.liuf", "caregiver", "*"}, // a candidate of the Hangzhou session, for an attempt of one's own
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

// matrixObject is a target: the organisation it belongs to (or "") and its region, and the users
// it is personally theirs ("*": every signed-in user, e.g. a published course).
type matrixObject struct {
	name        string
	org, region string
	owners      []string
}

func (o matrixObject) ownedBy(username string) bool {
	for _, u := range o.owners {
		if u == username || u == "*" {
			return true
		}
	}
	return false
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
	ownOrInside                     // the record's own person (holder, assigned inspector, enrolled learner) or staff holding the permission in its domain
	ownOnly                         // the record's own person only (a candidate's attempt, a learner's lesson)
)

// handStaffPerm: what staff need in the record's domain on the routes that ask only for a signed-in
// caller (the record's own person needs nothing more). Written by hand.
var handStaffPerm = map[string]string{
	"GET /api/v1/certificates/:number":            "certificates.status:read",
	"GET /api/v1/certificates/:number/pdf":        "certificates.status:read",
	"GET /api/v1/certificates/:number/ob3":        "certificates.status:read",
	"POST /api/v1/certificates/:number/revoke":    "certificates.status:write",
	"POST /api/v1/certificates/:number/suspend":   "certificates.status:write",
	"POST /api/v1/certificates/:number/reinstate": "certificates.status:write",
	"POST /api/v1/certificates/:number/renew":     "certificates.status:write",
	"GET /certificates/:number":                   "certificates.status:read",
	"POST /certificates/:number/status":           "certificates.status:write",
	"POST /certificates/:number/renew":            "certificates.status:write",
	"GET /api/v1/inspections/:id/report.pdf":      "institution.inspection_report:read",
	"GET /learn/courses/:id":                      "courses.edit:read",
}

// handScoped: for the admin, certificate, exam, inspection and planning routes, whether the guard refuses an
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
		{"GET", "/api/v1/attempts/:id/paper", ownOnly},
		{"GET", "/api/v1/attempts/:id/state", ownOnly},
		{"POST", "/api/v1/attempts/:id/answers", ownOnly},
		{"POST", "/api/v1/attempts/:id/submit", ownOnly},
		{"POST", "/api/v1/attempts/:id/signals", ownOnly},
		{"GET", "/api/v1/my/results", anyObject},
		{"GET", "/api/v1/exam-sessions/:id/registrations", outsideDenied},
		{"POST", "/api/v1/exam-registrations/:id/decision", outsideDenied},
		{"GET", "/api/v1/exam-sessions/:id/marking", outsideDenied},
		{"POST", "/api/v1/attempts/:id/marks", outsideDenied},
		{"POST", "/api/v1/exam-sessions/:id/publish", outsideDenied},
		{"POST", "/api/v1/exam-sessions/:id/regrade", outsideDenied},
		{"GET", "/api/v1/exam-sessions/:id/results", outsideDenied},
		{"GET", "/exams/sessions/:id/results.csv", outsideDenied},
		{"GET", "/exams", anyObject},
		{"POST", "/exams/sessions/:id/register", outsideDenied},
		{"GET", "/exams/sessions/:id/take", outsideDenied},
		{"POST", "/exams/sessions/:id/take", outsideDenied},
		{"GET", "/exams/results", anyObject},
		{"GET", "/exams/sw.js", anyObject},
		{"GET", "/exams/attempts/:id/images/:position/:name", ownOnly},
		{"GET", "/exams/attempts/:id/review", ownOnly},
		{"GET", "/api/v1/attempts/:id/review", ownOnly},
		{"GET", "/exams/practice", anyObject},
		{"POST", "/exams/practice", anyObject},
		{"GET", "/exams/practice/:id", ownOnly},
		{"GET", "/exams/practice/:id/images/:position/:name", ownOnly},
		{"POST", "/centres/:code/exams/practice", outsideDenied},
		{"POST", "/exams/sessions/:id/review", outsideDenied},
		{"GET", "/centres/:code/exams", outsideDenied},
		{"GET", "/exams/sessions/:id/registrations", outsideDenied},
		{"POST", "/exams/registrations/:id/decision", outsideDenied},
		{"POST", "/exams/registrations/:id/identity", outsideDenied},
		{"GET", "/exams/sessions/:id/live", outsideDenied},
		{"GET", "/api/v1/exam-sessions/:id/live", outsideDenied},
		{"GET", "/exams/sessions/:id/marking", outsideDenied},
		{"POST", "/exams/attempts/:id/marks", outsideDenied},
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
		{"GET", "/api/v1/certificates/:number", ownOrInside},
		{"GET", "/api/v1/certificates/:number/pdf", ownOrInside},
		{"GET", "/api/v1/certificates/:number/ob3", ownOrInside},
		{"POST", "/api/v1/certificates/:number/revoke", ownOrInside},
		{"POST", "/api/v1/certificates/:number/suspend", ownOrInside},
		{"POST", "/api/v1/certificates/:number/reinstate", ownOrInside},
		{"POST", "/api/v1/certificates/:number/renew", ownOrInside},
		{"GET", "/api/v1/centres/:code/certificate-progress", outsideDenied},
		{"GET", "/certificates/mine", anyObject},
		{"GET", "/certificates", anyObject},
		{"GET", "/certificates/:number", ownOrInside},
		{"POST", "/certificates/:number/status", ownOrInside},
		{"POST", "/certificates/:number/renew", ownOrInside},
		{"POST", "/api/v1/inspections/rounds", anyObject},
		{"GET", "/api/v1/inspections/rounds/:id", outsideDenied},
		{"GET", "/api/v1/public/inspections", anyObject},
		{"GET", "/api/v1/inspections/mine", anyObject},
		{"GET", "/api/v1/inspections/:id", ownOrInside},
		{"POST", "/api/v1/inspections/:id/scans", ownOrInside},
		{"POST", "/api/v1/inspections/:id/headcounts", ownOrInside},
		{"POST", "/api/v1/inspections/:id/findings", ownOrInside},
		{"POST", "/api/v1/inspections/:id/sign", ownOrInside},
		{"GET", "/inspections/public", anyObject},
		{"GET", "/inspections", anyObject},
		{"GET", "/inspections/:id", ownOrInside},
		{"POST", "/inspections/:id/scan", ownOrInside},
		{"POST", "/inspections/:id/headcount", ownOrInside},
		{"POST", "/inspections/:id/finding", ownOrInside},
		{"POST", "/inspections/:id/findings/:finding/photos", ownOrInside},
		{"GET", "/inspections/:id/photos/:photo", ownOrInside},
		{"POST", "/inspections/:id/sign", ownOrInside},
		{"GET", "/api/v1/inspections/:id/report.pdf", ownOrInside},
		{"POST", "/api/v1/inspections/:id/absences", ownOrInside},
		{"POST", "/api/v1/inspections/:id/withdraw", ownOrInside},
		{"POST", "/api/v1/inspections/:id/addenda", ownOrInside},
		{"POST", "/api/v1/inspections/:id/reassign", ownOrInside},
		{"POST", "/inspections/:id/absent", ownOrInside},
		{"POST", "/inspections/:id/withdraw", ownOrInside},
		{"POST", "/inspections/:id/addendum", ownOrInside},
		{"GET", "/inspections/:id/manage", ownOrInside},
		{"POST", "/inspections/:id/manage", ownOrInside},
		{"GET", "/dashboard/planning", anyObject},
		{"GET", "/dashboard/planning/:kind/template.xlsx", anyObject},
		{"POST", "/dashboard/planning/:kind/import", anyObject},
		{"POST", "/dashboard/planning/targets", outsideDenied},
		{"GET", "/dashboard/planning/townships", outsideDenied},
		{"POST", "/dashboard/planning/townships/import", outsideDenied},
		{"GET", "/dashboard/planning/population/:region", outsideDenied},
		{"POST", "/dashboard/planning/population/:region", outsideDenied},
		{"GET", "/dashboard/geo/:region.json", outsideDenied},
	} {
		handScoped[r.method+" "+r.path] = r.s
	}
}

var handPattern = regexp.MustCompile(`^(/api/v1/admin|/admin|/api/v1/organisations|/org/|/certificates|/api/v1/certificates|/api/v1/centres/:code/certificate-progress|/exams|/api/v1/exam-|/api/v1/attempts|/api/v1/my/|/centres/:code/exams|/api/v1/centres/:code/blueprints|/api/v1/centres/:code/exam-sessions|/inspections|/api/v1/inspections|/api/v1/public/inspections|/dashboard/planning|/dashboard/geo/)`)

// guardedKinds are the declared kinds the guard resolves itself (server/scope.go); placeKinds are
// those whose record may also be the caller's own.
var guardedKinds = map[string]bool{"org": true, "exam_session": true, "registration": true, "practical_session": true, "hours_entry": true, "round": true, "person": true, "grant": true,
	"rule": true, "certificate": true, "attempt": true, "inspection": true, "course": true, "lesson": true, "attachment": true, "practice_run": true,
	"region": true, "province": true}

var placeKinds = map[string]bool{"practice_run": true, "certificate": true, "attempt": true, "inspection": true, "course": true, "lesson": true, "attachment": true}

// learnerPerm: held by every learner everywhere, so it gives power over one's own records only.
func learnerPerm(p string) bool {
	return strings.HasPrefix(p, "learning.") || strings.HasPrefix(p, "exams.take")
}

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
	put := func(kind, value string, o matrixObject) {
		t[kind] = append(t[kind], struct {
			value string
			obj   matrixObject
		}{value, o})
	}
	// add finds one object with a query returning its value and the usernames it is personally theirs.
	add := func(kind, q, org, region string, args ...any) {
		var v string
		var owners []string
		row := pool.QueryRow(ctx, q, args...)
		var err error
		if strings.Contains(q, "AS owners") {
			err = row.Scan(&v, &owners)
		} else {
			err = row.Scan(&v)
		}
		if err == nil {
			put(kind, v, matrixObject{kind + ":" + org, org, region, owners})
		} else if err != pgx.ErrNoRows {
			tb.Fatalf("%s: %v", kind, err)
		}
	}
	const owners = `ARRAY(SELECT u.username FROM users u WHERE u.person_id = %s ORDER BY u.username) AS owners`
	for _, o := range []struct{ centre, institution, region, staff string }{{"HZ001", "HZI001", "330106", "trainer"}, {"NB001", "NBI001", "3302", "trainer.nb"}} {
		put("centre", o.centre, matrixObject{o.centre, o.centre, o.region, nil})
		put("institution", o.institution, matrixObject{o.institution, o.institution, o.region, nil})
		add("person", `SELECT id::text FROM users WHERE username = $1`, o.centre, o.region, o.staff)
		add("grant", `SELECT g.id::text FROM role_grants g JOIN users u ON u.id = g.user_id WHERE u.username = $1`, o.centre, o.region, o.staff)
		add("exam_session", `SELECT x.id::text FROM exam_sessions x JOIN organisations o ON o.id = x.organisation_id WHERE o.code = $1 ORDER BY x.id LIMIT 1`, o.centre, o.region, o.centre)
		add("registration", `SELECT r.id::text FROM exam_registrations r JOIN exam_sessions x ON x.id = r.session_id JOIN organisations o ON o.id = x.organisation_id WHERE o.code = $1 ORDER BY r.id LIMIT 1`, o.centre, o.region, o.centre)
		add("practical_session", `SELECT x.id::text FROM practical_sessions x JOIN organisations o ON o.id = x.organisation_id WHERE o.code = $1 ORDER BY x.id LIMIT 1`, o.centre, o.region, o.centre)
		add("hours_entry", `SELECT h.id::text FROM hours_ledger h JOIN courses c ON c.id = h.course_id JOIN organisations o ON o.id = c.organisation_id WHERE o.code = $1 ORDER BY h.id LIMIT 1`, o.centre, o.region, o.centre)
		// The demo caregiver's own records first, so that the holder's personal access is tried.
		add("certificate", `SELECT c.number, `+fmt.Sprintf(owners, "c.person_id")+` FROM certificates c JOIN organisations o ON o.id = c.centre_id
			WHERE o.code = $1 ORDER BY EXISTS (SELECT 1 FROM users u WHERE u.person_id = c.person_id AND u.username = 'caregiver') DESC, c.id LIMIT 1`, o.centre, o.region, o.centre)
		add("attempt", `SELECT a.id::text, `+fmt.Sprintf(owners, "a.person_id")+` FROM exam_attempts a JOIN exam_sessions x ON x.id = a.session_id JOIN organisations o ON o.id = x.organisation_id
			WHERE o.code = $1 ORDER BY EXISTS (SELECT 1 FROM users u WHERE u.person_id = a.person_id AND u.username = 'caregiver') DESC, a.id LIMIT 1`, o.centre, o.region, o.centre)
		add("inspection", `SELECT i.id::text, ARRAY(SELECT u.username FROM audit_inspection_inspectors ai JOIN users u ON u.id = ai.user_id WHERE ai.inspection_id = i.id ORDER BY 1) AS owners
			FROM audit_inspections i JOIN organisations o ON o.id = i.organisation_id WHERE o.code = $1 ORDER BY i.id LIMIT 1`, o.institution, o.region, o.institution)
		add("course", `SELECT c.id::text, ARRAY['*'] AS owners FROM courses c JOIN organisations o ON o.id = c.organisation_id
			WHERE o.code = $1 AND c.published_version_id IS NOT NULL ORDER BY c.id LIMIT 1`, o.centre, o.region, o.centre)
		add("lesson", `SELECT l.id::text, ARRAY(SELECT u.username FROM enrolments e JOIN users u ON u.person_id = e.person_id WHERE e.version_id = c.published_version_id ORDER BY 1) AS owners
			FROM courses c JOIN organisations o ON o.id = c.organisation_id JOIN course_modules m ON m.version_id = c.published_version_id JOIN lessons l ON l.module_id = m.id
			WHERE o.code = $1 ORDER BY EXISTS (SELECT 1 FROM enrolments e JOIN users u ON u.person_id = e.person_id WHERE e.version_id = c.published_version_id AND u.username = 'caregiver') DESC, l.id LIMIT 1`, o.centre, o.region, o.centre)
	}
	add("round", `SELECT id::text FROM audit_rounds WHERE region_code LIKE '3301%' ORDER BY id LIMIT 1`, "", "330106")
	// What the demo lacks is made here: a Ningbo inspection assigned to the Ningbo inspector, and a
	// lesson attachment in each centre's published course.
	add("inspection", `WITH r AS (INSERT INTO audit_rounds (region_code, name, seed, target_count, per_inspection, input, input_digest, created_by)
			SELECT '3302', 'matrix', 1, 1, 2, '{}', 'matrix', id FROM users WHERE username = 'regulator.nb' RETURNING id),
		i AS (INSERT INTO audit_inspections (round_id, organisation_id) SELECT r.id, o.id FROM r, organisations o WHERE o.code = 'NBI001' RETURNING id),
		a AS (INSERT INTO audit_inspection_inspectors (inspection_id, user_id) SELECT i.id, u.id FROM i, users u WHERE u.username = 'inspector.nb')
		SELECT id::text, ARRAY['inspector.nb'] AS owners FROM i`, "NBI001", "3302")
	for _, o := range []struct{ centre, region string }{{"HZ001", "330106"}, {"NB001", "3302"}} {
		add("attachment", `WITH a AS (INSERT INTO lesson_attachments (version_id, module_position, lesson_position, filename, content_type, size_bytes, data)
			SELECT c.published_version_id, m.position, l.position, 'matrix.pdf', 'application/pdf', 4, '%PDF'::bytea
			FROM courses c JOIN organisations o ON o.id = c.organisation_id JOIN course_modules m ON m.version_id = c.published_version_id JOIN lessons l ON l.module_id = m.id
			WHERE o.code = $1 ORDER BY c.id, m.position, l.position LIMIT 1 RETURNING id, version_id)
			SELECT a.id::text, ARRAY(SELECT u.username FROM enrolments e JOIN users u ON u.person_id = e.person_id WHERE e.version_id = a.version_id ORDER BY 1) AS owners FROM a`,
			o.centre, o.region, o.centre)
	}
	// A practice run of the demo caregiver in each centre.
	for _, o := range []struct{ centre, region string }{{"HZ001", "330106"}, {"NB001", "3302"}} {
		add("practice_run", `WITH c AS (INSERT INTO bank_categories (organisation_id, name, path) SELECT id, 'matrix', ARRAY['matrix'] FROM organisations WHERE code = $1
				ON CONFLICT (organisation_id, path) DO UPDATE SET name = excluded.name RETURNING id, organisation_id),
			r AS (INSERT INTO exam_practice_runs (person_id, organisation_id, category_id, item_count, started_at)
				SELECT u.person_id, c.organisation_id, c.id, 1, now() FROM c, users u WHERE u.username = 'caregiver' RETURNING id, person_id)
			SELECT r.id::text, `+fmt.Sprintf(owners, "r.person_id")+` FROM r`, o.centre, o.region, o.centre)
	}
	// A region named in the path (Hangzhou, Ningbo), and the province as a whole, which no path names.
	put("region", "3301", matrixObject{"region:3301", "", "3301", nil})
	put("region", "3302", matrixObject{"region:3302", "", "3302", nil})
	put("province", "", matrixObject{"province", "", "33", nil})
	// A qualification rule applies in the whole province.
	add("rule", `INSERT INTO audit_qualification_rules (line, note, created_by) SELECT 'p, doc:matrix, post:caregiver, health, allow', 'matrix', id FROM users WHERE username = 'admin' RETURNING id::text`, "", "33")
	for _, k := range []string{"centre", "institution", "person", "grant", "exam_session", "registration", "practical_session", "certificate", "attempt", "inspection", "course", "lesson", "attachment", "rule", "practice_run", "region", "province"} {
		if len(t[k]) == 0 {
			tb.Fatalf("the demo has no %s to test with", k)
		}
	}
	return t
}

var pathParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// handKind says what an admin, certificate, exam, inspection or planning route acts on, from its path.
func handKind(path string) (kind, param string) {
	switch {
	case strings.Contains(path, "/population/:region"), strings.Contains(path, "/geo/:region"):
		return "region", "region"
	case strings.HasPrefix(path, "/dashboard/planning/townships"), path == "/dashboard/planning/targets":
		return "province", "" // the province's own data: no path names it
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
	case strings.Contains(path, "/inspections/:id"):
		return "inspection", "id"
	case strings.Contains(path, "/certificates/:number"):
		return "certificate", "number"
	case strings.Contains(path, "/attempts/:id"):
		return "attempt", "id"
	case strings.Contains(path, "/practice/:id"):
		return "practice_run", "id"
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
		} else if placeKinds[rt.Kind] && learnerPerm(rt.Perm) {
			scoped = ownOnly
		} else if placeKinds[rt.Kind] {
			scoped = ownOrInside
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
		if scoped != anyObject && handPattern.MatchString(rt.Path) {
			kind, param = handKind(rt.Path) // what the route acts on, read from its path, not its declaration
		}
		if kind == "org" {
			kind = "centre"
			if strings.Contains(rt.Path, "/institutions/") {
				kind = "institution"
			}
		}
		if (scoped != anyObject || guardedKinds[kind]) && (param != "" || kind == "province") {
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
				want := matrixWant(rt.Perm, scoped, kind, handStaffPerm[key], a, o.obj)
				c := clients[a.username]
				h := map[string]string{"Accept": "application/json", "X-CSRF-Token": c.csrf}
				r := c.do(rt.Method, path, nil, h)
				// A record outside the caller's scope may be answered "not found", as its handler would.
				denied := r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden ||
					r.Status == http.StatusSeeOther && strings.HasPrefix(r.Header.Get("Location"), "/login") ||
					rt.Perm != "public" && r.Status == http.StatusNotFound
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

// matrixWant is whether an actor may pass the guard of a route on an object.
func matrixWant(perm string, scoped scopedness, kind, staffPerm string, a matrixActor, o *matrixObject) bool {
	if perm == "public" {
		return true
	}
	if a.username == "" {
		return false
	}
	signedIn := perm == "signed-in"
	permitted := signedIn || rolePermits(a.role, perm)
	switch {
	case scoped == anyObject || o == nil:
		return permitted
	case scoped == outsideDenied:
		return signedIn || permitted && a.covers(*o)
	case scoped == ownOnly:
		return permitted && o.ownedBy(a.username)
	case signedIn: // ownOrInside
		return o.ownedBy(a.username) || staffPerm != "" && rolePermits(a.role, staffPerm) && a.covers(*o)
	default:
		return permitted && (a.covers(*o) || kind == "inspection" && o.ownedBy(a.username))
	}
}

func startMatrix(tb testing.TB, opts servertest.Options) (*servertest.Instance, map[string]*client, matrixTargets) {
	tb.Helper()
	inner := opts.Server
	opts.Seeded = demoSeeded
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

// Deleting one route's declared scope (here: reading a person, reading a certificate, editing a
// region's population, the province's township page) lets the Ningbo regulator read a Hangzhou
// trainer and a Hangzhou certificate, edit Hangzhou's population and open the province's townships:
// the matrix must turn red on exactly those routes.
func TestAccessMatrixTurnsRedWithoutAScope(t *testing.T) {
	t.Parallel()
	dropped := []string{"GET /api/v1/admin/users/:id", "GET /api/v1/certificates/:number", "POST /dashboard/planning/population/:region", "GET /dashboard/planning/townships"}
	srv, clients, targets := startMatrix(t, servertest.Options{Server: func(s *server.Server) {
		for _, d := range dropped {
			method, path, _ := strings.Cut(d, " ")
			if !s.DropScope(method, path) {
				t.Fatalf("no route %s", d)
			}
		}
	}})
	res := runMatrix(t, srv, clients, targets)
	if res.mismatches == 0 {
		t.Fatal("the matrix stayed green with two routes' scopes deleted")
	}
	red := map[string]int{}
	for _, f := range res.failures {
		switch {
		case strings.HasPrefix(f, "GET /api/v1/admin/users/"):
			red[dropped[0]]++
		case strings.HasPrefix(f, "GET /api/v1/certificates/") && !strings.Contains(strings.Fields(f)[1], "/pdf") && !strings.Contains(strings.Fields(f)[1], "/ob3"):
			red[dropped[1]]++
		case strings.HasPrefix(f, "POST /dashboard/planning/population/3301 as \"regulator.nb\""):
			red[dropped[2]]++
		case strings.HasPrefix(f, "GET /dashboard/planning/townships as \"regulator.nb\""):
			red[dropped[3]]++
		default:
			t.Errorf("unexpected mismatch: %s", f)
		}
	}
	for _, d := range dropped {
		if red[d] == 0 {
			t.Errorf("%s: its scope deleted, the matrix stayed green on it", d)
		}
	}
	t.Logf("with the scopes of %v deleted: %d of %d cases red (%v), e.g. %s", dropped, res.mismatches, res.cases, red, res.failures[0])
}
