package server

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
	"shanyu/exams"
	"shanyu/exams/bank"
	"shanyu/internal/clock"
	"shanyu/internal/failure"
)

// Setting up exams at a centre: blueprints (组卷规则) with their feasibility check and a preview with
// the key, and new exam sessions (考试批次). Every route is checked against the centre's own domain.

// blueprintRows is how many section rows the blueprint form offers (no script adds rows).
const blueprintRows = 4

var (
	examNum = map[string]any{"type": "number"}
	examBoo = map[string]any{"type": "boolean"}
	examTS  = map[string]any{"type": "string", "format": "date-time"}
)

func (s *Server) routesExamSetup() {
	bpRead, bpWrite := can("exams.blueprints", "read"), can("exams.blueprints", "write")
	section := object([]string{"part", "count", "points"}, map[string]any{"name": str, "part": str, "count": examInt, "points": examNum,
		"category_id": examInt, "tag": str, "type": str, "difficulty": examInt})
	s.api(apiRoute{Method: "POST", Path: "/api/v1/centres/:code/blueprints", Scope: byOrg("code"), Summary: "Create a blueprint (refused when the bank cannot fill it)", Tag: "exams", Perm: bpWrite,
		Request: object([]string{"name", "occupation", "level", "mode", "sections"}, map[string]any{"name": str, "occupation": str, "level": examInt,
			"mode":     map[string]any{"type": "string", "enum": []string{exams.Fixed, exams.Random}},
			"sections": map[string]any{"type": "array", "items": section}}), Response: schemaOf[exams.Blueprint](), Status: 201}, s.apiCreateBlueprint)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/centres/:code/blueprints", Scope: byOrg("code"), Summary: "A centre's blueprints", Tag: "exams", Perm: bpRead, Response: itemsOf[exams.Blueprint](nil)}, s.apiBlueprints)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/centres/:code/blueprints/:id/check", Scope: byOrg("code"), Summary: "Can the bank fill this blueprint now? (shortfall per section)", Tag: "exams", Perm: bpRead, Response: schemaOf[feasibility]()}, s.apiCheckBlueprint)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/centres/:code/blueprints/:id/preview", Scope: byOrg("code"), Summary: "A sample paper of a blueprint, with the key (centre staff only)", Tag: "exams", Perm: bpWrite, Response: props(map[string]any{"blueprint": schemaOf[exams.Blueprint](), "sections": schemaOf[[]exams.PreviewSection]()})}, s.apiPreviewBlueprint)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/centres/:code/exam-sessions", Scope: byOrg("code"), Summary: "Create an exam session from a blueprint", Tag: "exams", Perm: can("exams.sessions", "write"),
		Request: object([]string{"name", "blueprint_id", "opens_at", "closes_at", "latest_start_at", "duration_minutes"}, map[string]any{
			"name": str, "blueprint_id": examInt, "venue": str, "opens_at": examTS, "closes_at": examTS, "latest_start_at": examTS,
			"duration_minutes": examInt, "grace_seconds": examInt, "attempts_allowed": examInt, "theory_pass": examNum, "practical_pass": examNum,
			"min_hours": examNum, "double_marking": examBoo, "arbitration_gap": examNum, "require_verified_identity": examBoo}), Response: schemaOf[exams.Session](), Status: 201}, s.apiCreateSession)

	s.page("GET", "/centres/:code/exams/blueprints", bpRead, byOrg("code"), s.blueprintsPage)
	s.page("POST", "/centres/:code/exams/blueprints", bpWrite, byOrg("code"), s.blueprintSubmit)
	s.page("GET", "/centres/:code/exams/blueprints/:id", bpWrite, byOrg("code"), s.blueprintPage)
	s.page("GET", "/centres/:code/exams/new", can("exams.sessions", "write"), byOrg("code"), s.newSessionPage)
	s.page("POST", "/centres/:code/exams/new", can("exams.sessions", "write"), byOrg("code"), s.newSessionSubmit)
}

// centreFor loads the centre named in the path and checks obj/act in its domain (or its region's).
func (s *Server) centreFor(c *fiber.Ctx, obj, act string) (accounts.Organisation, error) {
	org, err := s.accounts.OrganisationByCode(c.UserContext(), c.Params("code"))
	if err != nil {
		return org, err
	}
	return org, s.allowedIn(c, obj, act, org.Domains()...)
}

// blueprintOf loads a blueprint of the centre in the path; another centre's blueprint is not found.
func (s *Server) blueprintOf(c *fiber.Ctx, obj, act string) (accounts.Organisation, exams.Blueprint, error) {
	org, err := s.centreFor(c, obj, act)
	if err != nil {
		return org, exams.Blueprint{}, err
	}
	id, err := idParam(c, "id")
	if err != nil {
		return org, exams.Blueprint{}, err
	}
	b, err := s.domains.Exams.GetBlueprint(c.UserContext(), id)
	if err == nil && b.CentreID != org.ID {
		err = exams.ErrNotFound
	}
	return org, b, err
}

func (s *Server) apiCreateBlueprint(c *fiber.Ctx) error {
	org, err := s.centreFor(c, "exams.blueprints", "write")
	if err != nil {
		return err
	}
	var b exams.Blueprint
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	b.ID, b.CentreID = 0, org.ID
	b, err = s.domains.Exams.CreateBlueprint(c.UserContext(), principalOf(c).User.ID, b)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(b)
}

func (s *Server) apiBlueprints(c *fiber.Ctx) error {
	org, err := s.centreFor(c, "exams.blueprints", "read")
	if err != nil {
		return err
	}
	list, err := s.domains.Exams.Blueprints(c.UserContext(), org.ID)
	if err != nil {
		return err
	}
	if list == nil {
		list = []exams.Blueprint{}
	}
	return c.JSON(fiber.Map{"items": list})
}

// feasibility is the answer of a check: the sections the bank cannot fill now.
type feasibility struct {
	Feasible   bool              `json:"feasible"`
	Shortfalls []exams.Shortfall `json:"shortfalls"`
}

func (s *Server) checkBlueprint(c *fiber.Ctx, b exams.Blueprint) (feasibility, error) {
	short, err := s.domains.Exams.CheckBlueprint(c.UserContext(), b.CentreID, b.Sections)
	if short == nil {
		short = []exams.Shortfall{}
	}
	return feasibility{Feasible: len(short) == 0, Shortfalls: short}, err
}

func (s *Server) apiCheckBlueprint(c *fiber.Ctx) error {
	_, b, err := s.blueprintOf(c, "exams.blueprints", "read")
	if err != nil {
		return err
	}
	f, err := s.checkBlueprint(c, b)
	if err != nil {
		return err
	}
	return c.JSON(f)
}

func (s *Server) apiPreviewBlueprint(c *fiber.Ctx) error {
	_, b, err := s.blueprintOf(c, "exams.blueprints", "write")
	if err != nil {
		return err
	}
	p, err := s.domains.Exams.PreviewBlueprint(c.UserContext(), b)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"blueprint": b, "sections": p})
}

// sessionBody is the JSON of a new session; occupation and level come from the blueprint.
type sessionBody struct {
	Name            string    `json:"name"`
	BlueprintID     int64     `json:"blueprint_id"`
	Venue           string    `json:"venue"`
	OpensAt         time.Time `json:"opens_at"`
	ClosesAt        time.Time `json:"closes_at"`
	LatestStartAt   time.Time `json:"latest_start_at"`
	DurationMinutes int       `json:"duration_minutes"`
	GraceSeconds    int       `json:"grace_seconds"`
	AttemptsAllowed int       `json:"attempts_allowed"`
	TheoryPass      *float64  `json:"theory_pass"`
	PracticalPass   *float64  `json:"practical_pass"`
	MinHours        float64   `json:"min_hours"`
	DoubleMarking   bool      `json:"double_marking"`
	ArbitrationGap  float64   `json:"arbitration_gap"`
	// RequireVerifiedIdentity defaults to true when absent.
	RequireVerifiedIdentity *bool `json:"require_verified_identity"`
}

// createSession checks that the blueprint is the centre's own, then lets the domain validate and store.
func (s *Server) createSession(c *fiber.Ctx, org accounts.Organisation, x exams.Session, f failure.Fields) (exams.Session, error) {
	x.CentreID = org.ID
	if x.BlueprintID <= 0 {
		f.Add("blueprint_id", "exams.blueprint_required")
	} else if b, err := s.domains.Exams.GetBlueprint(c.UserContext(), x.BlueprintID); err != nil || b.CentreID != org.ID {
		if err != nil && failure.As(err).Kind != failure.NotFound {
			return x, err
		}
		f.Add("blueprint_id", "exams.blueprint_required")
	}
	if err := f.Err(); err != nil {
		e := *exams.ErrSessionInvalid
		e.Fields = failure.As(err).Fields
		return x, &e
	}
	return s.domains.Exams.CreateSession(c.UserContext(), principalOf(c).User.ID, x)
}

func (s *Server) apiCreateSession(c *fiber.Ctx) error {
	org, err := s.centreFor(c, "exams.sessions", "write")
	if err != nil {
		return err
	}
	var b sessionBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	x := exams.Session{Name: b.Name, BlueprintID: b.BlueprintID, Venue: strings.TrimSpace(b.Venue), OpensAt: b.OpensAt, ClosesAt: b.ClosesAt,
		LatestStartAt: b.LatestStartAt, Duration: time.Duration(b.DurationMinutes) * time.Minute, Grace: time.Duration(b.GraceSeconds) * time.Second,
		AttemptsAllowed: b.AttemptsAllowed, TheoryPass: exams.DefaultTheoryPass, PracticalPass: exams.DefaultPracticalPass,
		MinHours: b.MinHours, DoubleMarking: b.DoubleMarking, ArbitrationGap: b.ArbitrationGap, RequireVerifiedIdentity: b.RequireVerifiedIdentity}
	if b.TheoryPass != nil {
		x.TheoryPass = *b.TheoryPass
	}
	if b.PracticalPass != nil {
		x.PracticalPass = *b.PracticalPass
	}
	x, err = s.createSession(c, org, x, failure.Fields{})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(x)
}

// Pages.

// blueprintRow is one section row of the blueprint form.
type blueprintRow struct {
	Index  int
	Values map[string]string
	Error  string
}

func (s *Server) renderBlueprints(c *fiber.Ctx, org accounts.Organisation, fp formPage, rows []blueprintRow) error {
	lang := langOf(c)
	list, err := s.domains.Exams.Blueprints(c.UserContext(), org.ID)
	if err != nil {
		return err
	}
	cats, err := bank.Categories(c.UserContext(), s.pool, org.ID)
	if err != nil {
		return err
	}
	if rows == nil {
		for i := range blueprintRows {
			rows = append(rows, blueprintRow{Index: i, Values: map[string]string{"part": exams.Theory}})
		}
	}
	if fp.Values == nil {
		fp.Values = map[string]string{"mode": exams.Random}
	}
	fp.Extra = fiber.Map{"Centre": org, "Blueprints": list, "Rows": rows, "Categories": cats, "Types": bank.Types,
		"Occupations": courseOccupations(lang)}
	return s.render(c, "exam_blueprints", page{Title: s.i18n.T(lang, "exams.setup.blueprints"), Data: fp})
}

func (s *Server) blueprintsPage(c *fiber.Ctx) error {
	org, err := s.centreFor(c, "exams.blueprints", "read")
	if err != nil {
		return err
	}
	return s.renderBlueprints(c, org, formPage{Notice: c.Query("done")}, nil)
}

func (s *Server) blueprintSubmit(c *fiber.Ctx) error {
	org, err := s.centreFor(c, "exams.blueprints", "write")
	if err != nil {
		return err
	}
	fp := formPage{Values: map[string]string{"name": c.FormValue("name"), "occupation": c.FormValue("occupation"), "mode": c.FormValue("mode")}}
	b := exams.Blueprint{CentreID: org.ID, Name: c.FormValue("name"), Mode: c.FormValue("mode")}
	if code, level, ok := strings.Cut(c.FormValue("occupation"), ":"); ok {
		b.Occupation = code
		b.Level, _ = strconv.Atoi(level)
	}
	var rows []blueprintRow
	var rowOf []int // section index → form row
	var f failure.Fields
	for i := range blueprintRows {
		get := func(k string) string { return strings.TrimSpace(c.FormValue(fmt.Sprintf("s%d_%s", i, k))) }
		r := blueprintRow{Index: i, Values: map[string]string{}}
		for _, k := range []string{"name", "part", "count", "points", "category", "tag", "type", "difficulty"} {
			r.Values[k] = get(k)
		}
		rows = append(rows, r)
		if r.Values["count"] == "" {
			continue
		}
		sec := exams.Section{Name: r.Values["name"], Part: r.Values["part"], Tag: r.Values["tag"], Type: bank.Type(r.Values["type"])}
		var e1, e2, e3, e4 error
		sec.Count, e1 = strconv.Atoi(r.Values["count"])
		sec.Points, e2 = strconv.ParseFloat(r.Values["points"], 64)
		if v := r.Values["category"]; v != "" {
			sec.CategoryID, e3 = strconv.ParseInt(v, 10, 64)
		}
		if v := r.Values["difficulty"]; v != "" {
			sec.Difficulty, e4 = strconv.Atoi(v)
		}
		switch {
		case e1 != nil:
			f.Add(fmt.Sprintf("sections.%d", len(b.Sections)), "exams.count_invalid")
		case e2 != nil:
			f.Add(fmt.Sprintf("sections.%d", len(b.Sections)), "exams.points_invalid")
		case e3 != nil || e4 != nil:
			f.Add(fmt.Sprintf("sections.%d", len(b.Sections)), "exams.filter_invalid")
		}
		b.Sections = append(b.Sections, sec)
		rowOf = append(rowOf, i)
	}
	err = f.Err()
	if err != nil {
		e := *exams.ErrBlueprintInvalid
		e.Fields = failure.As(err).Fields
		err = &e
	} else {
		_, err = s.domains.Exams.CreateBlueprint(c.UserContext(), principalOf(c).User.ID, b)
	}
	if err == nil {
		return c.Redirect("/centres/"+org.Code+"/exams/blueprints?done=exams.setup.blueprint_created", fiber.StatusSeeOther)
	}
	if err := s.formError(c, err, &fp); err != nil {
		return err
	}
	for k, msg := range fp.Errors {
		if n, ok := strings.CutPrefix(k, "sections."); ok {
			if i, err := strconv.Atoi(n); err == nil && i < len(rowOf) {
				rows[rowOf[i]].Error = msg
			}
		}
	}
	if msg, ok := fp.Errors["sections"]; ok {
		rows[0].Error = msg
	}
	return s.renderBlueprints(c, org, fp, rows)
}

func (s *Server) blueprintPage(c *fiber.Ctx) error {
	org, b, err := s.blueprintOf(c, "exams.blueprints", "write")
	if err != nil {
		return err
	}
	feas, err := s.checkBlueprint(c, b)
	if err != nil {
		return err
	}
	p, err := s.domains.Exams.PreviewBlueprint(c.UserContext(), b)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.render(c, "exam_blueprint", page{Title: b.Name, Data: fiber.Map{"Centre": org, "Blueprint": b, "Check": feas, "Preview": p,
		"Occupation": courseLevelName(langOf(c), b.Occupation, b.Level)}})
}

// sessionFields are the text inputs of the new-session form, in order.
var sessionFields = []string{"name", "blueprint_id", "venue", "opens_at", "closes_at", "latest_start_at", "duration_minutes",
	"grace_minutes", "attempts_allowed", "theory_pass", "practical_pass", "min_hours", "arbitration_gap", "double_marking", "require_verified_identity"}

// formTime is the layout of a datetime-local input, read and written in the product's zone.
const formTime = "2006-01-02T15:04"

func (s *Server) renderNewSession(c *fiber.Ctx, org accounts.Organisation, fp formPage) error {
	list, err := s.domains.Exams.Blueprints(c.UserContext(), org.ID)
	if err != nil {
		return err
	}
	if fp.Values == nil {
		now := clock.In(time.Now().Add(time.Hour).Truncate(time.Hour))
		fp.Values = map[string]string{"opens_at": now.Format(formTime), "closes_at": now.Add(3 * time.Hour).Format(formTime),
			"latest_start_at": now.Add(2 * time.Hour).Format(formTime), "duration_minutes": "90", "grace_minutes": "2",
			"attempts_allowed": "1", "theory_pass": "60", "practical_pass": "60", "min_hours": "0", "arbitration_gap": "0",
			"require_verified_identity": "on"}
	}
	fp.Extra = fiber.Map{"Centre": org, "Blueprints": list}
	return s.render(c, "exam_session_new", page{Title: s.i18n.T(langOf(c), "exams.setup.new_session"), Data: fp})
}

func (s *Server) newSessionPage(c *fiber.Ctx) error {
	org, err := s.centreFor(c, "exams.sessions", "write")
	if err != nil {
		return err
	}
	return s.renderNewSession(c, org, formPage{})
}

func (s *Server) newSessionSubmit(c *fiber.Ctx) error {
	org, err := s.centreFor(c, "exams.sessions", "write")
	if err != nil {
		return err
	}
	fp := formPage{Values: map[string]string{}}
	for _, k := range sessionFields {
		fp.Values[k] = strings.TrimSpace(c.FormValue(k))
	}
	v := fp.Values
	var f failure.Fields
	num := func(k, key string) float64 {
		n, err := strconv.ParseFloat(v[k], 64)
		if err != nil {
			f.Add(k, key)
		}
		return n
	}
	at := func(k, key string) time.Time {
		t, err := clock.Parse(formTime, v[k])
		if err != nil {
			f.Add(k, key)
		}
		return t
	}
	requireID := v["require_verified_identity"] != "off" // absent: the safe default
	x := exams.Session{Name: v["name"], Venue: v["venue"], DoubleMarking: v["double_marking"] != "", RequireVerifiedIdentity: &requireID}
	x.BlueprintID, _ = strconv.ParseInt(v["blueprint_id"], 10, 64)
	x.OpensAt = at("opens_at", "exams.time_invalid")
	x.ClosesAt = at("closes_at", "exams.time_invalid")
	x.LatestStartAt = at("latest_start_at", "exams.time_invalid")
	x.Duration = time.Duration(num("duration_minutes", "exams.duration_invalid") * float64(time.Minute))
	x.Grace = time.Duration(num("grace_minutes", "exams.grace_invalid") * float64(time.Minute))
	x.AttemptsAllowed = int(num("attempts_allowed", "exams.attempts_invalid"))
	x.TheoryPass = num("theory_pass", "exams.pass_invalid")
	x.PracticalPass = num("practical_pass", "exams.pass_invalid")
	x.MinHours = num("min_hours", "exams.hours_invalid")
	x.ArbitrationGap = num("arbitration_gap", "exams.gap_invalid")
	if len(f) > 0 {
		err = f.Err()
		e := *exams.ErrSessionInvalid
		e.Fields = failure.As(err).Fields
		err = &e
	} else {
		_, err = s.createSession(c, org, x, failure.Fields{})
	}
	if err == nil {
		return c.Redirect("/centres/"+org.Code+"/exams?done=exams.setup.session_created", fiber.StatusSeeOther)
	}
	if err := s.formError(c, err, &fp); err != nil {
		return err
	}
	return s.renderNewSession(c, org, fp)
}
