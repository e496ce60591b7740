package server

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
	"shanyu/audits"
	"shanyu/internal/failure"
)

// routesAudits registers the institution, qualification-policy, conduct and inspection-round
// endpoints and pages; on-site inspections and public results live in inspections.go.
func (s *Server) routesAudits() {
	read, write := can("institution.roster", "read"), can("institution.roster", "write")
	base := "/api/v1/institutions/:code"
	s.api(apiRoute{Method: "GET", Path: base + "/compliance", Scope: byOrg("code"), Summary: "An institution's compliance today: every assignment decided by the qualification policy with its explanation, classes against their ratio and size, required posts, expiring documents, barred persons", Tag: "audits", Perm: read,
		Query: []string{"on"}, Response: complianceSchema}, s.apiCompliance)
	s.api(apiRoute{Method: "GET", Path: base + "/roster", Scope: byOrg("code"), Summary: "An institution's roster and classes", Tag: "audits", Perm: read, Response: props(map[string]any{"staff": arr(anyObject), "classes": arr(anyObject)})}, s.apiRoster)
	s.api(apiRoute{Method: "POST", Path: base + "/roster", Scope: byOrg("code"), Summary: "Add a staff member (recorded by ID number) with documents and posts", Tag: "audits", Perm: write,
		Request: object([]string{"name", "id_number"}, map[string]any{"name": str, "phone": str, "id_number": str, "health_valid_until": str, "no_criminal_record_on": str,
			"posts": map[string]any{"type": "array", "items": str}, "class": str}), Response: props(map[string]any{"id": integer, "name": str, "id_number": str})}, s.apiRosterAdd)
	s.api(apiRoute{Method: "POST", Path: base + "/classes", Scope: byOrg("code"), Summary: "Create or update a class (by name)", Tag: "audits", Perm: write,
		Request: object([]string{"name", "type", "children"}, map[string]any{"name": str, "type": str, "children": integer}), Response: props(map[string]any{"id": integer, "name": str, "type": str, "children": integer})}, s.apiSaveClass)
	s.api(apiRoute{Method: "POST", Path: base + "/certificates", Scope: byOrg("code"), Summary: "Record a certificate from elsewhere with its evidence (unverified)", Tag: "audits", Perm: write,
		Request: object([]string{"roster_id", "number", "occupation", "level", "evidence"}, map[string]any{"roster_id": integer, "number": str, "occupation": str,
			"level": integer, "expires_on": str, "evidence": str}), Response: props(map[string]any{"id": integer, "number": str, "verified": boolean})}, s.apiExternalCert)

	rules := can("policy.qualification", "write")
	s.api(apiRoute{Method: "GET", Path: "/api/v1/policy/qualification/rules", Scope: scopeHeld, Summary: "Regional qualification rules", Tag: "audits", Perm: can("policy.qualification", "read"), Response: props(map[string]any{"rules": arr(props(map[string]any{"id": integer, "line": str, "note": str, "created_at": dateTime}))})}, s.apiRules)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/policy/qualification/preview", Scope: scopeHeld, Summary: "Which current assignments a proposed rule would change", Tag: "audits", Perm: rules,
		Request: object([]string{"line"}, map[string]any{"line": str}), Response: props(map[string]any{"changes": arr(object([]string{"organisation_id", "name"}, map[string]any{"organisation_id": integer, "assignment_id": integer, "name": str}))})}, s.apiRulePreview)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/policy/qualification/rules", Scope: scopeHeld, Summary: "Add a regional rule; every replica reloads", Tag: "audits", Perm: rules,
		Request: object([]string{"line"}, map[string]any{"line": str, "note": str}), Response: props(map[string]any{"id": integer, "line": str})}, s.apiAddRule)
	s.api(apiRoute{Method: "DELETE", Path: "/api/v1/policy/qualification/rules/:id", Scope: byRule("id"), Summary: "Remove a regional rule", Tag: "audits", Perm: rules, Response: props(map[string]any{"removed": integer})}, s.apiRemoveRule)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/policy/class-types", Scope: scopeHeld, Summary: "Class types with their size limits and caregiver ratios", Tag: "audits", Perm: signedIn, Response: classTypesSchema}, s.apiClassTypes)
	s.api(apiRoute{Method: "PUT", Path: "/api/v1/policy/class-types/:code", Scope: scopeHeld, Summary: "Edit a class type's ages, size limit and ratio", Tag: "audits", Perm: rules,
		Request: object([]string{"max_children", "children_per_caregiver"}, map[string]any{"min_months": integer, "max_months": integer, "max_children": integer, "children_per_caregiver": integer}), Response: classTypesSchema}, s.apiSetClassType)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/conduct/bars", Scope: scopeHeld, Summary: "Bar records in full (the regulator only)", Tag: "audits", Perm: can("conduct.bars", "read"), Response: props(map[string]any{"bars": arr(object([]string{"id", "person_id"}, map[string]any{"id": integer, "person_id": integer, "legal_basis": str, "authority": str}))})}, s.apiBars)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/conduct/bars", Scope: scopeHeld, Summary: "Record a person barred from childcare work (从业禁止)", Tag: "audits", Perm: can("conduct.bars", "write"),
		Request: object([]string{"id_number", "legal_basis", "authority", "starts_on", "evidence"}, map[string]any{"id_number": str, "name": str,
			"legal_basis": str, "authority": str, "starts_on": str, "ends_on": str, "evidence": str}), Response: props(map[string]any{"id": integer})}, s.apiBar)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/inspections/rounds", Scope: scopeHeld, Summary: "Define a round and draw it (双随机): seed and inputs recorded, audit-logged", Tag: "audits", Perm: can("rounds.draw", "write"),
		Request: object([]string{"region_code", "name", "per_inspection"}, map[string]any{"region_code": str, "name": str, "count": integer,
			"share": map[string]any{"type": "number"}, "per_inspection": integer, "risk_weighted": map[string]any{"type": "boolean"}, "seed": integer}), Response: roundSchema}, s.apiCreateRound)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/inspections/rounds/:id", Scope: byRound("id"), Summary: "A round and its draw, with a replay check", Tag: "audits", Perm: can("rounds.draw", "read"), Response: roundSchema}, s.apiRound)

	s.api(apiRoute{Method: "PUT", Path: base + "/kind", Scope: byOrg("code"), Summary: "Record whether the institution is a childcare centre or a home childcare point (家庭托育点), as filed with the health commission; audited", Tag: "audits",
		Perm: can("policy.institution_kind", "write"), Request: object([]string{"kind"}, map[string]any{"kind": map[string]any{"type": "string", "enum": []string{"centre", "home_point"}}}), Response: props(map[string]any{"institution": str, "kind": str})}, s.apiInstitutionKind)
	s.page("POST", "/institutions/:code/checks", write, byOrg("code"), s.checkSubmit)
	s.page("GET", "/institutions/:code/checks/:check/document", read, byOrg("code"), s.checkDocument)
	s.page("POST", "/institutions/:code/kind", can("policy.institution_kind", "write"), byOrg("code"), s.institutionKindSubmit)
	s.page("GET", "/institutions/:code/compliance", read, byOrg("code"), s.compliancePage)
	s.routesRosterEdit() // audits_roster.go
	s.routesRosterImport()
	s.routesInspections()
	s.routesDashboard()
	s.routesIndicators()
	s.routesPlanning()
	s.routesPlanningEdit()
	s.routesPublicIndicators() // public_indicators.go
	s.routesAuditsAdmin()
}

// institution loads the institution of the path and checks act there (its organisation or region).
func (s *Server) institution(c *fiber.Ctx, obj, act string) (accounts.Organisation, error) {
	o, err := s.accounts.OrganisationByCode(c.UserContext(), c.Params("code"))
	if err != nil {
		return o, err
	}
	if err := s.allowedIn(c, obj, act, o.Domains()...); err != nil {
		return o, err
	}
	if o.Kind != accounts.KindInstitution {
		return o, audits.ErrNotFound
	}
	return o, nil
}

func parseDate(v string) (time.Time, bool) {
	if v = strings.TrimSpace(v); v == "" {
		return time.Time{}, true
	}
	t, err := time.Parse("2006-01-02", v)
	return t, err == nil
}

func dateOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format("2006-01-02")
}

type gapJSON struct {
	Group  string `json:"group"`
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

type decisionJSON struct {
	Post      string    `json:"post"`
	Qualified bool      `json:"qualified"`
	Matched   []string  `json:"matched"`
	Gaps      []gapJSON `json:"gaps"`
}

func toDecisionJSON(d audits.Decision) decisionJSON {
	out := decisionJSON{Post: d.Post, Qualified: d.Qualified, Matched: nonNil(d.Matched), Gaps: []gapJSON{}}
	for _, g := range d.Gaps {
		out.Gaps = append(out.Gaps, gapJSON{Group: g.Group, Reason: g.Reason, Detail: g.Detail})
	}
	return out
}

// complianceJSON is the report as JSON. A barred person shows as "not permitted"; the record itself
// stays with the regulator.
func complianceJSON(o accounts.Organisation, r audits.Report) map[string]any {
	var assignments, classes, expiring []map[string]any
	for _, a := range r.Assignments {
		assignments = append(assignments, map[string]any{"assignment_id": a.AssignmentID, "roster_id": a.RosterID, "name": a.Name,
			"id_number": accounts.MaskIDNumber(a.IDLast4), "post": a.Post, "class_id": a.ClassID, "not_permitted": a.Barred, "decision": toDecisionJSON(a.Decision)})
	}
	for _, c := range r.Classes {
		classes = append(classes, map[string]any{"id": c.Class.ID, "name": c.Class.Name, "type": c.Class.Type, "children": c.Children, "max_children": c.MaxSize,
			"children_per_caregiver": c.Ratio, "qualified_caregivers": c.Caregivers, "needed_caregivers": c.NeededCaregivers,
			"over_size": c.OverSize, "under_staffed": c.UnderStaffed})
	}
	for _, e := range r.Expiring {
		expiring = append(expiring, map[string]any{"roster_id": e.RosterID, "name": e.Name, "what": e.What, "on": e.On.Format("2006-01-02")})
	}
	return map[string]any{"institution": o.Code, "name": o.Name, "on": r.On.Format("2006-01-02"), "compliant": r.Compliant(), "issues": r.Issues(),
		"children": r.Children, "staff": r.Staff, "qualified_share": r.QualifiedShare(), "assignments": nonNilMaps(assignments),
		"classes": nonNilMaps(classes), "missing_posts": nonNil(r.MissingPosts), "expiring": nonNilMaps(expiring),
		"not_permitted_roster_ids": nonNilIDs(r.BarredOnRoster), "kind": r.Kind, "over_capacity": r.OverCapacity, "capacity": r.Capacity,
		"certificates_not_valid": certProblemsJSON(r.CertProblems), "background_check_issues": checkIssuesJSON(r.CheckIssues)}
}

func nonNilMaps(m []map[string]any) []map[string]any {
	if m == nil {
		return []map[string]any{}
	}
	return m
}

func nonNilIDs(v []int64) []int64 {
	if v == nil {
		return []int64{}
	}
	return v
}

func (s *Server) apiCompliance(c *fiber.Ctx) error {
	o, err := s.institution(c, "institution.roster", "read")
	if err != nil {
		return err
	}
	on, ok := parseDate(c.Query("on"))
	if !ok {
		return failure.Field("on", "audits.date_invalid")
	}
	if on.IsZero() {
		on = time.Now()
	}
	r, err := s.domains.Audits.Compliance(c.UserContext(), o.ID, on)
	if err != nil {
		return err
	}
	return c.JSON(complianceJSON(o, r))
}

func (s *Server) apiRoster(c *fiber.Ctx) error {
	o, err := s.institution(c, "institution.roster", "read")
	if err != nil {
		return err
	}
	ms, err := s.domains.Audits.Roster(c.UserContext(), o.ID)
	if err != nil {
		return err
	}
	cls, err := s.domains.Audits.Classes(c.UserContext(), o.ID)
	if err != nil {
		return err
	}
	staff := []map[string]any{}
	for _, m := range ms {
		staff = append(staff, map[string]any{"id": m.ID, "name": m.Name, "id_number": accounts.MaskIDNumber(m.IDLast4),
			"health_valid_until": dateOrNil(m.HealthValidUntil), "no_criminal_record_on": dateOrNil(m.NoCriminalRecordOn)})
	}
	classes := []map[string]any{}
	for _, x := range cls {
		classes = append(classes, map[string]any{"id": x.ID, "name": x.Name, "type": x.Type, "children": x.Children})
	}
	return c.JSON(map[string]any{"staff": staff, "classes": classes})
}

type staffBody struct {
	Name               string   `json:"name"`
	Phone              string   `json:"phone"`
	IDNumber           string   `json:"id_number"`
	HealthValidUntil   string   `json:"health_valid_until"`
	NoCriminalRecordOn string   `json:"no_criminal_record_on"`
	Posts              []string `json:"posts"`
	Class              string   `json:"class"`
}

func (b staffBody) input() (audits.StaffInput, error) {
	in := audits.StaffInput{Name: b.Name, Phone: b.Phone, IDNumber: b.IDNumber, Posts: b.Posts, Class: b.Class}
	var ok1, ok2 bool
	in.HealthValidUntil, ok1 = parseDate(b.HealthValidUntil)
	in.NoCriminalRecordOn, ok2 = parseDate(b.NoCriminalRecordOn)
	var f failure.Fields
	if !ok1 {
		f.Add("health_valid_until", "audits.date_invalid")
	}
	if !ok2 {
		f.Add("no_criminal_record_on", "audits.date_invalid")
	}
	return in, f.Err()
}

func (s *Server) apiRosterAdd(c *fiber.Ctx) error {
	o, err := s.institution(c, "institution.roster", "write")
	if err != nil {
		return err
	}
	var b staffBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	in, err := b.input()
	if err != nil {
		return err
	}
	m, err := s.domains.Audits.AddStaff(c.UserContext(), o.ID, in)
	if err != nil {
		return err
	}
	return c.JSON(map[string]any{"id": m.ID, "name": m.Name, "id_number": accounts.MaskIDNumber(m.IDLast4)})
}

func (s *Server) apiSaveClass(c *fiber.Ctx) error {
	o, err := s.institution(c, "institution.roster", "write")
	if err != nil {
		return err
	}
	var b struct {
		Name     string `json:"name"`
		Type     string `json:"type"`
		Children int    `json:"children"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	x, err := s.domains.Audits.SaveClass(c.UserContext(), audits.Class{OrganisationID: o.ID, Name: b.Name, Type: b.Type, Children: b.Children})
	if err != nil {
		return err
	}
	return c.JSON(map[string]any{"id": x.ID, "name": x.Name, "type": x.Type, "children": x.Children})
}

func (s *Server) apiExternalCert(c *fiber.Ctx) error {
	o, err := s.institution(c, "institution.roster", "write")
	if err != nil {
		return err
	}
	var b struct {
		RosterID   int64  `json:"roster_id"`
		Number     string `json:"number"`
		Occupation string `json:"occupation"`
		Level      int    `json:"level"`
		ExpiresOn  string `json:"expires_on"`
		Evidence   string `json:"evidence"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	exp, ok := parseDate(b.ExpiresOn)
	if !ok {
		return failure.Field("expires_on", "audits.date_invalid")
	}
	ms, err := s.domains.Audits.Roster(c.UserContext(), o.ID)
	if err != nil {
		return err
	}
	var person int64
	for _, m := range ms {
		if m.ID == b.RosterID {
			person = m.PersonID
		}
	}
	if person == 0 {
		return audits.ErrNotFound
	}
	x, err := s.domains.Audits.RecordExternalCertificate(c.UserContext(), principalOf(c).User.ID, audits.ExternalCert{OrganisationID: o.ID, PersonID: person,
		Number: b.Number, Occupation: b.Occupation, Level: b.Level, ExpiresOn: exp, Evidence: b.Evidence})
	if err != nil {
		return err
	}
	return c.JSON(map[string]any{"id": x.ID, "number": x.Number, "verified": false})
}

func (s *Server) apiClassTypes(c *fiber.Ctx) error {
	ts, err := s.domains.Audits.ClassTypes(c.UserContext())
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, t := range ts {
		out = append(out, map[string]any{"code": t.Code, "name": t.Name, "name_en": t.NameEN, "min_months": t.MinMonths, "max_months": t.MaxMonths,
			"max_children": t.MaxChildren, "children_per_caregiver": t.ChildrenPerCaregiver})
	}
	return c.JSON(map[string]any{"class_types": out})
}

func (s *Server) apiSetClassType(c *fiber.Ctx) error {
	var b struct {
		MinMonths            int `json:"min_months"`
		MaxMonths            int `json:"max_months"`
		MaxChildren          int `json:"max_children"`
		ChildrenPerCaregiver int `json:"children_per_caregiver"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	ct := audits.ClassType{Code: c.Params("code"), MinMonths: b.MinMonths, MaxMonths: b.MaxMonths, MaxChildren: b.MaxChildren, ChildrenPerCaregiver: b.ChildrenPerCaregiver}
	if err := s.domains.Audits.SetClassType(c.UserContext(), principalOf(c).User.ID, ct); err != nil {
		return err
	}
	return s.apiClassTypes(c)
}

func (s *Server) apiRules(c *fiber.Ctx) error {
	rs, err := s.domains.Audits.Rules(c.UserContext())
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, r := range rs {
		out = append(out, map[string]any{"id": r.ID, "line": r.Line, "note": r.Note, "created_at": r.CreatedAt})
	}
	return c.JSON(map[string]any{"rules": out})
}

func (s *Server) apiRulePreview(c *fiber.Ctx) error {
	var b struct {
		Line string `json:"line"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	if err := s.ruleLineScope(c, b.Line); err != nil {
		return err
	}
	changes, err := s.domains.Audits.PreviewRule(c.UserContext(), b.Line, time.Now())
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, ch := range changes {
		out = append(out, map[string]any{"organisation_id": ch.OrganisationID, "assignment_id": ch.AssignmentID, "name": accounts.MaskName(ch.Name),
			"post": ch.Post, "before": ch.Before, "after": ch.After})
	}
	return c.JSON(map[string]any{"changes": out})
}

func (s *Server) apiAddRule(c *fiber.Ctx) error {
	var b struct {
		Line string `json:"line"`
		Note string `json:"note"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	if err := s.ruleLineScope(c, b.Line); err != nil {
		return err
	}
	r, err := s.domains.Audits.AddRule(c.UserContext(), principalOf(c).User.ID, b.Line, b.Note)
	if err != nil {
		return err
	}
	return c.JSON(map[string]any{"id": r.ID, "line": r.Line})
}

func (s *Server) apiRemoveRule(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.ruleIDScope(c, id); err != nil {
		return err
	}
	if err := s.domains.Audits.RemoveRule(c.UserContext(), principalOf(c).User.ID, id); err != nil {
		return err
	}
	return c.JSON(map[string]any{"removed": id})
}

func (s *Server) apiBars(c *fiber.Ctx) error {
	bars, err := s.domains.Audits.Bars(c.UserContext())
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, b := range bars {
		out = append(out, map[string]any{"id": b.ID, "person_id": b.PersonID, "legal_basis": b.LegalBasis, "authority": b.Authority,
			"starts_on": b.StartsOn.Format("2006-01-02"), "ends_on": dateOrNil(b.EndsOn), "evidence": b.Evidence, "created_at": b.CreatedAt})
	}
	return c.JSON(map[string]any{"bars": out})
}

func (s *Server) apiBar(c *fiber.Ctx) error {
	var b struct {
		IDNumber   string `json:"id_number"`
		Name       string `json:"name"`
		LegalBasis string `json:"legal_basis"`
		Authority  string `json:"authority"`
		StartsOn   string `json:"starts_on"`
		EndsOn     string `json:"ends_on"`
		Evidence   string `json:"evidence"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	starts, ok1 := parseDate(b.StartsOn)
	ends, ok2 := parseDate(b.EndsOn)
	if !ok1 || !ok2 {
		return failure.Field("starts_on", "audits.date_invalid")
	}
	person, err := s.accounts.PersonByIDNumber(c.UserContext(), b.IDNumber)
	if err != nil && b.Name != "" {
		person, err = s.accounts.EnsurePerson(c.UserContext(), b.Name, "", b.IDNumber)
	}
	if err != nil {
		return err
	}
	bar, err := s.domains.Audits.RecordBar(c.UserContext(), principalOf(c).User.ID, audits.Bar{PersonID: person, LegalBasis: b.LegalBasis,
		Authority: b.Authority, StartsOn: starts, EndsOn: ends, Evidence: b.Evidence})
	if err != nil {
		return err
	}
	return c.JSON(map[string]any{"id": bar.ID})
}

func (s *Server) apiCreateRound(c *fiber.Ctx) error {
	var b struct {
		RegionCode    string  `json:"region_code"`
		Name          string  `json:"name"`
		Count         int     `json:"count"`
		Share         float64 `json:"share"`
		PerInspection int     `json:"per_inspection"`
		RiskWeighted  bool    `json:"risk_weighted"`
		Seed          int64   `json:"seed"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	if err := s.allowedIn(c, "rounds.draw", "write", accounts.RegionDomain(b.RegionCode)); err != nil {
		return err
	}
	r, err := s.domains.Audits.CreateRound(c.UserContext(), principalOf(c).User.ID, audits.RoundInput{RegionCode: b.RegionCode, Name: b.Name,
		Count: b.Count, Share: b.Share, PerInspection: b.PerInspection, RiskWeighted: b.RiskWeighted, Seed: uint64(max(b.Seed, 0))})
	if err != nil {
		return err
	}
	return c.JSON(roundJSON(r, true))
}

func roundJSON(r audits.Round, replayed bool) map[string]any {
	drawn := []map[string]any{}
	for _, a := range r.Assignments {
		drawn = append(drawn, map[string]any{"organisation_id": a.TargetID, "inspectors": a.Inspectors})
	}
	return map[string]any{"id": r.ID, "region_code": r.RegionCode, "name": r.Name, "seed": strconv.FormatUint(r.Seed, 10), "count": r.Count,
		"per_inspection": r.PerInspection, "risk_weighted": r.RiskWeighted, "input_digest": r.InputDigest, "drawn": drawn, "replay_matches": replayed}
}

func (s *Server) apiRound(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	r, err := s.domains.Audits.RoundByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	if err := s.allowedIn(c, "rounds.draw", "read", accounts.RegionDomain(r.RegionCode)); err != nil {
		return err
	}
	ok, err := s.domains.Audits.ReplayRound(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(roundJSON(r, ok))
}

// compliancePage shows an institution its compliance (and the regulator of its region).
func (s *Server) compliancePage(c *fiber.Ctx) error {
	o, err := s.institution(c, "institution.roster", "read")
	if err != nil {
		return err
	}
	msg := ""
	if k := c.Query("notice"); strings.HasPrefix(k, "audits.notice.") {
		msg = s.i18n.T(langOf(c), k)
	}
	return s.renderCompliance(c, o, msg, "", formAgain{})
}

// formAgain is a roster form that failed, shown again: the section to open (the anchor it returns to,
// "classes" or "posts") and what the admin had typed into the form that adds a class or a post.
type formAgain struct {
	Section string
	Values  map[string]string
}

// renderCompliance renders the compliance page with a notice or an error; an institution's admins
// get the forms that edit the roster and the classes.
func (s *Server) renderCompliance(c *fiber.Ctx, o accounts.Organisation, notice, errMsg string, again formAgain) error {
	ctx := c.UserContext()
	r, err := s.domains.Audits.Compliance(ctx, o.ID, time.Now())
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, x := range r.Classes {
		names[x.Class.ID] = x.Class.Name
	}
	data := map[string]any{"Org": o, "Report": r, "ClassNames": names,
		"Missing": r.MissingPosts, "Compliant": r.Compliant(), "Issues": r.Issues(), "Share": int(r.QualifiedShare()*100 + 0.5),
		"CanWrite": s.allowedIn(c, "institution.roster", "write", o.Domains()...) == nil, "Notice": notice, "Error": errMsg, "Again": again,
		"Regulator":  s.allowedIn(c, "policy.qualification", "read", o.Domains()...) == nil,
		"CanSetKind": s.allowedIn(c, "policy.institution_kind", "write", o.Domains()...) == nil,
		"CanPlan":    s.allowedIn(c, "policy.planning", "write", o.Domains()...) == nil}
	if data["CanWrite"].(bool) {
		roster, err := s.domains.Audits.Roster(ctx, o.ID)
		if err != nil {
			return err
		}
		types, err := s.domains.Audits.ClassTypes(ctx)
		if err != nil {
			return err
		}
		data["Roster"], data["ClassTypes"], data["Posts"] = roster, types, s.domains.Audits.Policy().Posts()
	}
	// Background checks per person: the latest of each kind, and what is missing or outdated.
	checks, err := s.domains.Audits.Checks(ctx, o.ID)
	if err != nil {
		return err
	}
	roster, err := s.domains.Audits.Roster(ctx, o.ID)
	if err != nil {
		return err
	}
	issues := map[int64][]audits.CheckIssue{}
	for _, ci := range r.CheckIssues {
		issues[ci.RosterID] = append(issues[ci.RosterID], ci)
	}
	var rows []checkRow
	for _, m := range roster {
		row := checkRow{RosterID: m.ID, Name: m.Name, Issues: issues[m.ID]}
		seen := map[string]bool{}
		for _, c := range checks[m.ID] {
			if !seen[c.Kind] {
				seen[c.Kind] = true
				row.Latest = append(row.Latest, c)
			}
		}
		rows = append(rows, row)
	}
	data["Checks"], data["CheckKinds"], data["CheckRoster"] = rows, audits.CheckKinds, roster
	return s.render(c, "institution_compliance", page{Title: o.Name, Data: data})
}

func (s *Server) apiInstitutionKind(c *fiber.Ctx) error {
	o, err := s.institution(c, "policy.institution_kind", "write")
	if err != nil {
		return err
	}
	var b struct {
		Kind string `json:"kind"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	if err := s.domains.Audits.SetInstitutionKind(c.UserContext(), principalOf(c).User.ID, o.ID, b.Kind); err != nil {
		return err
	}
	return c.JSON(map[string]any{"institution": o.Code, "kind": b.Kind})
}

func (s *Server) institutionKindSubmit(c *fiber.Ctx) error {
	o, err := s.institution(c, "policy.institution_kind", "write")
	if err != nil {
		return err
	}
	if err := s.domains.Audits.SetInstitutionKind(c.UserContext(), principalOf(c).User.ID, o.ID, c.FormValue("kind")); err != nil {
		return err
	}
	return s.renderCompliance(c, o, s.i18n.T(langOf(c), "audits.kind.saved"), "", formAgain{})
}

// certProblemsJSON lists the roster's certificates that are not valid now, with reason and date.
func certProblemsJSON(ps []audits.CertProblem) []map[string]any {
	out := []map[string]any{}
	for _, p := range ps {
		m := scanCertJSON(p.Cert, p.Cert.Verified)
		m["roster_id"], m["name"], m["status"] = p.RosterID, p.Name, p.State
		out = append(out, m)
	}
	return out
}

// checkRow is a staff member's background checks on the compliance page.
type checkRow struct {
	RosterID int64
	Name     string
	Latest   []audits.Check
	Issues   []audits.CheckIssue
}

// checkSubmit records a background check with its document (a photo or a PDF, typed by content).
func (s *Server) checkSubmit(c *fiber.Ctx) error {
	o, err := s.institution(c, "institution.roster", "write")
	if err != nil {
		return err
	}
	lang := langOf(c)
	rid, _ := strconv.ParseInt(c.FormValue("roster_id"), 10, 64)
	on, ok := parseDate(c.FormValue("checked_on"))
	var doc []byte
	if fh, ferr := c.FormFile("document"); ferr == nil {
		if fh.Size > audits.MaxPhotoSize {
			f, _ := s.failedForm(c, failure.Field("document", "audits.photo_too_large"))
			return s.renderCompliance(c, o, "", f.First(), formAgain{})
		}
		f, err := fh.Open()
		if err != nil {
			return err
		}
		doc, err = io.ReadAll(io.LimitReader(f, audits.MaxPhotoSize+1))
		_ = f.Close()
		if err != nil {
			return err
		}
	}
	if !ok {
		on = time.Time{}
	}
	if _, err := s.domains.Audits.RecordCheck(c.UserContext(), principalOf(c).User.ID, o.ID, rid, c.FormValue("kind"), on, c.FormValue("result"), doc); err != nil {
		f, err := s.failedForm(c, err, "roster_id", "kind", "checked_on", "result", "document")
		if f == nil {
			return err
		}
		return s.renderCompliance(c, o, "", f.First(), formAgain{})
	}
	return s.renderCompliance(c, o, s.i18n.T(lang, "audits.check.saved"), "", formAgain{})
}

// checkDocument serves a check's document to the institution's staff and its region's regulator,
// with the type detected on upload.
func (s *Server) checkDocument(c *fiber.Ctx) error {
	o, err := s.institution(c, "institution.roster", "read")
	if err != nil {
		return err
	}
	id, err := idParam(c, "check")
	if err != nil {
		return err
	}
	b, ct, err := s.domains.Audits.CheckDocument(c.UserContext(), o.ID, id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.Send(b)
}
