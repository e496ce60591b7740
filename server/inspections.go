package server

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
	"shanyu/audits"
	"shanyu/certificates"
	"shanyu/internal/clock"
	"shanyu/internal/failure"
)

// routesInspections registers the inspectors' pages and endpoints (on site, on a phone) and the
// public results (一公开), which carry no personal data.
func (s *Server) routesInspections() {
	mine := can("inspections.assigned", "read")
	work := can("inspections.assigned", "write")
	s.api(apiRoute{Method: "GET", Path: "/api/v1/public/inspections", Scope: scopePublic, Summary: "Published inspection results: institution, date, result and counts; no personal data. Search by institution name or code (q, at most 40 characters) and district (a region code); paged (page 1–1000, limit 1–100, default 20)", Tag: "public",
		Query: []string{"q", "district", "page", "limit"}, Response: schemaOf[publicPage]()}, s.apiPublicInspections)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/inspections/mine", Scope: scopeOwn, Summary: "The inspections assigned to the signed-in inspector", Tag: "inspections", Perm: mine, Response: props(map[string]any{"inspections": arr(props(map[string]any{"id": integer, "round": str, "organisation_id": integer, "status": str}))})}, s.apiMyInspections)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/inspections/:id", Scope: byInspection("id"), Summary: "One inspection with its scans, head counts, findings and signatures", Tag: "inspections", Perm: mine, Response: inspectionSchema}, s.apiInspection)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/inspections/:id/scans", Scope: byInspection("id"), Summary: "Record a scanned or typed certificate code; a resend with the same client_id (an offline scan synchronised later) is stored once",
		Tag: "inspections", Perm: work, Request: object([]string{"client_id", "code"}, map[string]any{"client_id": str, "code": str, "scanned_at": str, "offline": map[string]any{"type": "boolean"}}), Response: scanSchema}, s.apiScan)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/inspections/:id/headcounts", Scope: byInspection("id"), Summary: "The day's head count of a class", Tag: "inspections", Perm: work,
		Request: object([]string{"class_id", "children", "caregivers"}, map[string]any{"class_id": integer, "children": integer, "caregivers": integer}), Response: ok}, s.apiHeadcount)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/inspections/:id/findings", Scope: byInspection("id"), Summary: "Add a finding", Tag: "inspections", Perm: work,
		Request: object([]string{"severity", "note"}, map[string]any{"severity": str, "note": str}), Response: props(map[string]any{"id": integer})}, s.apiFinding)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/inspections/:id/sign", Scope: byInspection("id"), Summary: "Sign the inspection; when every inspector has signed it is finished and published", Tag: "inspections", Perm: work, Response: inspectionSchema}, s.apiSign)

	s.page("GET", "/inspections/public", public, scopePublic, s.publicInspectionsPage)
	s.page("GET", "/inspections", mine, scopeOwn, s.myInspectionsPage)
	s.page("GET", "/inspections/:id", mine, byInspection("id"), s.inspectionPage)
	s.page("POST", "/inspections/:id/scan", work, byInspection("id"), s.inspectionScanSubmit)
	s.page("POST", "/inspections/:id/headcount", work, byInspection("id"), s.inspectionHeadcountSubmit)
	s.page("POST", "/inspections/:id/finding", work, byInspection("id"), s.inspectionFindingSubmit)
	s.page("POST", "/inspections/:id/findings/:finding/photos", work, byInspection("id"), s.inspectionPhotoSubmit)
	s.page("GET", "/inspections/:id/photos/:photo", mine, byInspection("id"), s.inspectionPhoto)
	s.page("POST", "/inspections/:id/sign", work, byInspection("id"), s.inspectionSignSubmit)
	s.routesInspectionReport()   // inspections_report.go
	s.routesInspectionWorkflow() // inspections_workflow.go
}

// myInspection loads an inspection the signed-in user inspects.
func (s *Server) myInspection(c *fiber.Ctx) (audits.Inspection, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return audits.Inspection{}, err
	}
	ok, err := s.domains.Audits.IsInspector(c.UserContext(), principalOf(c).User.ID, id)
	if err != nil {
		return audits.Inspection{}, err
	}
	if !ok {
		return audits.Inspection{}, audits.ErrNotAssigned
	}
	return s.domains.Audits.Inspection(c.UserContext(), id)
}

func scanJSON(sc audits.Scan) map[string]any {
	r := sc.Result
	var decisions []decisionJSON
	for _, d := range r.Decisions {
		decisions = append(decisions, toDecisionJSON(d))
	}
	out := map[string]any{"id": sc.ID, "client_id": sc.ClientID, "code": sc.Code, "known": r.Known, "verified": r.Verified, "on_roster": r.OnRoster,
		"roster_id": r.RosterID, "name": r.Name, "not_permitted": r.Barred, "decisions": decisions, "scanned_at": sc.ScannedAt, "offline": sc.Offline}
	if r.Certificate != nil {
		out["certificate"] = scanCertJSON(*r.Certificate, r.Verified)
	}
	if len(r.CheckIssues) > 0 {
		out["check_issues"] = checkIssuesJSON(r.CheckIssues)
	}
	return out
}

// checkIssuesJSON lists background-check issues: kind, reason (missing, outdated, record_found), the
// date of the check, whether a rule requires it for the person's post and whether it is a fault.
func checkIssuesJSON(cis []audits.CheckIssue) []map[string]any {
	issues := []map[string]any{}
	for _, ci := range cis {
		issue := map[string]any{"roster_id": ci.RosterID, "kind": ci.Kind, "reason": ci.Reason, "required": ci.Required, "fault": ci.Fault()}
		if !ci.On.IsZero() {
			issue["checked_on"] = ci.On.Format("2006-01-02")
		}
		issues = append(issues, issue)
	}
	return issues
}

// scanCertJSON is a certificate with its status, the reason and date of a suspension or revocation, and
// whether this platform issued it (genuine is not the same as valid).
func scanCertJSON(c audits.Cert, verified bool) map[string]any {
	out := map[string]any{"number": c.Number, "occupation": c.Occupation, "level": c.Level, "status": c.StateOn(time.Now()), "verified": verified,
		"issued_here": c.Verified}
	if c.StatusReason != "" {
		out["status_reason"] = c.StatusReason
	}
	if !c.StatusChangedAt.IsZero() {
		out["status_changed_at"] = c.StatusChangedAt
	}
	if !c.ExpiresOn.IsZero() {
		out["expires_on"] = c.ExpiresOn.Format("2006-01-02")
	}
	return out
}

func inspectionJSON(x audits.Inspection) map[string]any {
	scans := []map[string]any{}
	for _, sc := range x.Scans {
		scans = append(scans, scanJSON(sc))
	}
	findings := []map[string]any{}
	for _, f := range x.Findings {
		photos := []int64{}
		for _, p := range f.Photos {
			photos = append(photos, p.ID)
		}
		findings = append(findings, map[string]any{"id": f.ID, "severity": f.Severity, "note": f.Note, "photos": photos})
	}
	signed := []map[string]any{}
	for _, sg := range x.Inspectors {
		signed = append(signed, map[string]any{"user_id": sg.UserID, "signed_at": sg.SignedAt})
	}
	out := map[string]any{"id": x.ID, "round": x.RoundName, "organisation_id": x.OrganisationID, "status": x.Status, "passed": x.Passed,
		"scans": scans, "findings": findings, "inspectors": signed, "summary": x.Summary}
	absent := []map[string]any{}
	for _, a := range x.Absences {
		absent = append(absent, map[string]any{"roster_id": a.RosterID, "reason": a.Reason})
	}
	out["absences"] = absent
	return out
}

func (s *Server) apiMyInspections(c *fiber.Ctx) error {
	xs, err := s.domains.Audits.InspectionsFor(c.UserContext(), principalOf(c).User.ID)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, x := range xs {
		out = append(out, map[string]any{"id": x.ID, "round": x.RoundName, "organisation_id": x.OrganisationID, "status": x.Status})
	}
	return c.JSON(map[string]any{"inspections": out})
}

func (s *Server) apiInspection(c *fiber.Ctx) error {
	x, err := s.myInspection(c)
	if err != nil {
		return err
	}
	return c.JSON(inspectionJSON(x))
}

func (s *Server) apiScan(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		ClientID  string    `json:"client_id"`
		Code      string    `json:"code"`
		ScannedAt time.Time `json:"scanned_at"`
		Offline   bool      `json:"offline"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	sc, created, err := s.domains.Audits.RecordScan(c.UserContext(), principalOf(c).User.ID, id, audits.ScanInput{ClientID: b.ClientID, Code: b.Code, ScannedAt: b.ScannedAt, Offline: b.Offline})
	if err != nil {
		return err
	}
	out := scanJSON(sc)
	out["created"] = created
	return c.JSON(out)
}

func (s *Server) apiHeadcount(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		ClassID    int64 `json:"class_id"`
		Children   int   `json:"children"`
		Caregivers int   `json:"caregivers"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	if err := s.domains.Audits.SetHeadcount(c.UserContext(), principalOf(c).User.ID, id, audits.Headcount{ClassID: b.ClassID, Children: b.Children, Caregivers: b.Caregivers}); err != nil {
		return err
	}
	return c.JSON(map[string]any{"ok": true})
}

func (s *Server) apiFinding(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		Severity string `json:"severity"`
		Note     string `json:"note"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	f, err := s.domains.Audits.AddFinding(c.UserContext(), principalOf(c).User.ID, id, b.Severity, b.Note)
	if err != nil {
		return err
	}
	return c.JSON(map[string]any{"id": f.ID})
}

func (s *Server) apiSign(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	x, err := s.domains.Audits.Sign(c.UserContext(), principalOf(c).User.ID, id)
	if err != nil {
		return err
	}
	out := inspectionJSON(x)
	if x.Snapshot != nil {
		out["snapshot_passed"] = x.Snapshot.Passed
		out["snapshot_faults"] = nonNil(x.Snapshot.Faults)
	}
	return c.JSON(out)
}

// publicResult is one published result: the institution (a public register entry) and counts only.
type publicResult struct {
	InspectionID int64          `json:"inspection_id"`
	Round        string         `json:"round"`
	Institution  string         `json:"institution"`
	CreditCode   string         `json:"credit_code"`
	RegionCode   string         `json:"region_code"`
	FinishedOn   string         `json:"finished_on"` // the date in the product's zone
	FinishedAt   time.Time      `json:"-"`
	Passed       bool           `json:"passed"`
	Summary      audits.Summary `json:"summary"`
}

// publicQuery is a search of the published results, read from the query string and bounded: the
// institution's name (or code) in q, a district (any region code: 33, 3301, 330106), a page.
type publicQuery struct {
	Q, District string
	Page, Size  int
}

// Bounds of the public search.
const (
	publicQueryMaxRunes   = 40
	publicPageSizeDefault = 20
	publicPageSizeMax     = 100
	publicPageMax         = 1000
	publicMatchMax        = 1000 // institutions a name or district may match
)

func (s *Server) readPublicQuery(c *fiber.Ctx) (publicQuery, error) {
	q := publicQuery{Q: strings.TrimSpace(strings.Clone(c.Query("q"))), District: strings.TrimSpace(strings.Clone(c.Query("district"))), Page: 1, Size: publicPageSizeDefault}
	var f failure.Fields
	if utf8.RuneCountInString(q.Q) > publicQueryMaxRunes || strings.IndexFunc(q.Q, unicode.IsControl) >= 0 {
		f.Add("q", "audits.public.q_invalid", publicQueryMaxRunes)
	}
	if q.District != "" {
		if !regionCode.MatchString(q.District) {
			f.Add("district", "audits.public.district_invalid")
		} else if _, err := accounts.RegionByCode(c.UserContext(), s.pool, q.District); err != nil {
			if !errors.Is(err, accounts.ErrRegionNotFound) {
				return q, err
			}
			f.Add("district", "audits.public.district_invalid")
		}
	}
	number := func(name string, lo, hi int, into *int) {
		v := c.Query(name)
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			f.Add(name, "audits.public."+name+"_invalid", lo, hi)
			return
		}
		*into = n
	}
	number("page", 1, publicPageMax, &q.Page)
	number("limit", 1, publicPageSizeMax, &q.Size)
	return q, f.Err()
}

// regionCode is a region's short code: the province's two digits, then pairs (33, 3301, 330106).
var regionCode = regexp.MustCompile(`^[0-9]{2}(?:[0-9]{2}){0,2}$`)

// publicPage is one page of the search, with what was asked.
type publicPage struct {
	Results []publicResult `json:"results"`
	Total   int            `json:"total"`
	Page    int            `json:"page"`
	Pages   int            `json:"pages"`
	Limit   int            `json:"limit"`
}

func (s *Server) publicResults(c *fiber.Ctx, q publicQuery) (publicPage, error) {
	ctx := c.UserContext()
	var ids []int64 // nil: every institution
	if q.Q != "" || q.District != "" {
		ids = []int64{}
		for off := 0; off < publicMatchMax; off += 200 {
			orgs, total, err := s.accounts.ListOrganisations(ctx, accounts.OrgFilter{Kind: accounts.KindInstitution, Region: q.District, Query: q.Q, Limit: 200, Offset: off})
			if err != nil {
				return publicPage{}, err
			}
			for _, o := range orgs {
				ids = append(ids, o.ID)
			}
			if off+200 >= total || len(orgs) == 0 {
				break
			}
		}
	}
	rs, total, err := s.domains.Audits.PublicSearch(ctx, audits.PublicFilter{Institutions: ids, Limit: q.Size, Offset: (q.Page - 1) * q.Size})
	if err != nil {
		return publicPage{}, err
	}
	out := publicPage{Results: []publicResult{}, Total: total, Page: q.Page, Limit: q.Size, Pages: (total + q.Size - 1) / q.Size}
	for _, r := range rs {
		o, err := s.accounts.OrganisationByID(ctx, r.OrganisationID)
		if err != nil {
			return publicPage{}, err
		}
		out.Results = append(out.Results, publicResult{InspectionID: r.InspectionID, Round: r.RoundName, Institution: o.Name, CreditCode: o.CreditCode,
			RegionCode: o.RegionCode, FinishedOn: clock.Format(r.FinishedAt, time.DateOnly), FinishedAt: r.FinishedAt, Passed: r.Passed, Summary: r.Summary})
	}
	return out, nil
}

func (s *Server) apiPublicInspections(c *fiber.Ctx) error {
	q, err := s.readPublicQuery(c)
	if err != nil {
		return err
	}
	p, err := s.publicResults(c, q)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) publicInspectionsPage(c *fiber.Ctx) error {
	lang := langOf(c)
	regions, err := accounts.Regions(c.UserContext(), s.pool)
	if err != nil {
		return err
	}
	data := fiber.Map{"Regions": regions, "Page": publicPage{Results: []publicResult{}}}
	q, err := s.readPublicQuery(c)
	data["Query"] = q
	if err != nil {
		fp := formPage{}
		if ferr := s.formError(c, err, &fp); ferr != nil {
			return ferr
		}
		data["Errors"] = fp.Errors
		return s.render(c, "public_inspections", page{Title: s.i18n.T(lang, "audits.public.title"), Data: data})
	}
	p, err := s.publicResults(c, q)
	if err != nil {
		return err
	}
	data["Page"] = p
	link := func(n int) string {
		v := url.Values{}
		if q.Q != "" {
			v.Set("q", q.Q)
		}
		if q.District != "" {
			v.Set("district", q.District)
		}
		if q.Size != publicPageSizeDefault {
			v.Set("limit", strconv.Itoa(q.Size))
		}
		v.Set("page", strconv.Itoa(n))
		return "/inspections/public?" + v.Encode()
	}
	if p.Page > 1 {
		data["Prev"] = link(p.Page - 1)
	}
	if p.Page < p.Pages {
		data["Next"] = link(p.Page + 1)
	}
	return s.render(c, "public_inspections", page{Title: s.i18n.T(lang, "audits.public.title"), Data: data})
}

type inspectionRow struct {
	audits.Inspection
	Org accounts.Organisation
}

func (s *Server) myInspectionsPage(c *fiber.Ctx) error {
	xs, err := s.domains.Audits.InspectionsFor(c.UserContext(), principalOf(c).User.ID)
	if err != nil {
		return err
	}
	rows := make([]inspectionRow, 0, len(xs))
	for _, x := range xs {
		o, err := s.accounts.OrganisationByID(c.UserContext(), x.OrganisationID)
		if err != nil {
			return err
		}
		rows = append(rows, inspectionRow{Inspection: x, Org: o})
	}
	return s.render(c, "inspections", page{Title: s.i18n.T(langOf(c), "audits.inspections.title"), Data: rows})
}

type signer struct {
	Name     string
	Me       bool
	SignedAt *time.Time
}

func (s *Server) inspectionPage(c *fiber.Ctx) error {
	return s.renderInspection(c, formPage{})
}

// renderInspection draws the inspection page; finding is the finding form as typed, with its
// messages, when adding it was refused.
func (s *Server) renderInspection(c *fiber.Ctx, finding formPage) error {
	x, err := s.myInspection(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	lang := langOf(c)
	o, err := s.accounts.OrganisationByID(ctx, x.OrganisationID)
	if err != nil {
		return err
	}
	// Before the first signature the page judges everything now (certificates by their live status);
	// afterwards it shows the frozen snapshot the report is printed from.
	a, err := s.domains.Audits.View(ctx, x, time.Now())
	if err != nil {
		return err
	}
	me := principalOf(c).User.ID
	var signers []signer
	mySigned := false
	for _, sg := range x.Inspectors {
		u, err := s.accounts.UserByID(ctx, sg.UserID)
		if err != nil {
			return err
		}
		signers = append(signers, signer{Name: u.Name, Me: sg.UserID == me, SignedAt: sg.SignedAt})
		mySigned = mySigned || (sg.UserID == me && sg.SignedAt != nil)
	}
	var last *audits.Scan
	var lastCert *audits.Cert
	if sid, _ := strconv.ParseInt(c.Query("scan"), 10, 64); sid != 0 {
		for i := range x.Scans {
			if x.Scans[i].ID == sid {
				last = &x.Scans[i]
			}
		}
	}
	if last != nil && last.Result.Certificate != nil {
		cur := *last.Result.Certificate
		for _, p := range a.People {
			for _, pc := range p.Presented {
				if p.RosterID == last.RosterID && strings.EqualFold(pc.Number, cur.Number) {
					cur = pc // its status now
				}
			}
		}
		lastCert = &cur
	}
	var lastPosts []audits.PostCheck
	var lastPerson *audits.PersonCheck
	if last != nil {
		for i, p := range a.People {
			if p.RosterID == last.RosterID && last.RosterID != 0 {
				lastPosts, lastPerson = p.Posts, &a.People[i]
			}
		}
	}
	// The certificates' public keys travel with the page, so the phone can check a QR code's signed
	// token when the network is gone.
	jwks, err := certificates.JWKS(ctx, s.pool)
	if err != nil {
		return err
	}
	keys, err := json.Marshal(jwks)
	if err != nil {
		return err
	}
	// And so does what the platform said of the roster's certificates when the page was loaded, so
	// that an offline check can still tell a revoked or suspended certificate.
	statuses, err := s.domains.Audits.RosterCertificateStatuses(ctx, o.ID)
	if err != nil {
		return err
	}
	listed, err := json.Marshal(statuses)
	if err != nil {
		return err
	}
	regulator := s.allowedIn(c, "policy.qualification", "read", o.Domains()...) == nil
	return s.render(c, "inspection", page{Title: o.Name, Data: map[string]any{"X": x, "Org": o, "A": a, "Signers": signers,
		"Last": last, "LastCert": lastCert, "LastPosts": lastPosts, "LastPerson": lastPerson, "JWKS": string(keys), "Listed": string(listed), "ListedAt": time.Now(),
		"ClientID": newClientID(), "Severities": audits.Severities, "Error": s.errorText(lang, c.Query("error"), c.Context().QueryArgs().PeekMulti("arg")),
		"Open": x.Status == audits.StatusOpen, "Signed": x.Status == audits.StatusSigned, "Finished": x.Status == audits.StatusFinished,
		"MySigned": mySigned, "Regulator": regulator, "Passed": a.Passed, "Now": time.Now(), "Finding": finding}})
}

func newClientID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "srv-" + hex.EncodeToString(b[:])
}

func (s *Server) inspectionRedirect(c *fiber.Ctx, id int64, query string) error {
	return c.Redirect("/inspections/"+strconv.FormatInt(id, 10)+query, fiber.StatusSeeOther)
}

// formFailure sends a form back to the inspection page with the translated message of a domain
// error the inspector can fix; other errors (not assigned, not found, internal) go to the error
// handler, so an inspector of another inspection gets 403.
func (s *Server) formFailure(c *fiber.Ctx, id int64, err error) error {
	f, err := s.failedFormBack(langOf(c), err)
	if f == nil {
		return err
	}
	return s.inspectionRedirect(c, id, errorQuery(f.FirstMsg())+"#scan")
}

func (s *Server) inspectionScanSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	clientID := c.FormValue("client_id")
	if clientID == "" {
		clientID = newClientID()
	}
	sc, _, err := s.domains.Audits.RecordScan(c.UserContext(), principalOf(c).User.ID, id, audits.ScanInput{ClientID: clientID, Code: c.FormValue("code")})
	if err != nil {
		return s.formFailure(c, id, err)
	}
	return s.inspectionRedirect(c, id, "?scan="+strconv.FormatInt(sc.ID, 10)+"#result")
}

func (s *Server) inspectionHeadcountSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	classID, _ := strconv.ParseInt(c.FormValue("class_id"), 10, 64)
	children, err1 := strconv.Atoi(c.FormValue("children"))
	caregivers, err2 := strconv.Atoi(c.FormValue("caregivers"))
	if err1 != nil || err2 != nil {
		return s.formFailure(c, id, failure.Field("children", "audits.children_invalid"))
	}
	if err := s.domains.Audits.SetHeadcount(c.UserContext(), principalOf(c).User.ID, id, audits.Headcount{ClassID: classID, Children: children, Caregivers: caregivers}); err != nil {
		return s.formFailure(c, id, err)
	}
	return s.inspectionRedirect(c, id, "#classes")
}

func (s *Server) inspectionFindingSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	photos, err := formPhotos(c)
	if err == nil {
		_, err = s.domains.Audits.AddFinding(c.UserContext(), principalOf(c).User.ID, id, c.FormValue("severity"), c.FormValue("note"), photos...)
	}
	if err == nil {
		return s.inspectionRedirect(c, id, "#findings")
	}
	// A refused finding comes back on the page as typed, its message beside the field (an empty
	// note, a photo of the wrong kind), not at the top of a long page.
	f, pass := s.failedForm(c, err, "severity", "note", "photo")
	if f == nil {
		return pass
	}
	status := c.Response().StatusCode()
	fp := formPage{Values: map[string]string{"severity": c.FormValue("severity"), "note": c.FormValue("note")}, Errors: f.ByField(), Message: f.Message}
	if len(fp.Errors) == 0 {
		fp.Errors = map[string]string{"photo": f.Message} // a photo refused as a whole (too large, not an image)
	}
	if rerr := s.renderInspection(c, fp); rerr != nil {
		return rerr
	}
	c.Status(status)
	return nil
}

// formPhotos reads the photos of a finding form (field "photo", taken with the phone's camera or
// chosen); an empty field gives none. The type is judged from the content by the audits domain.
func formPhotos(c *fiber.Ctx) ([][]byte, error) {
	form, err := c.MultipartForm()
	if err != nil {
		return nil, nil // a form without a file part
	}
	var out [][]byte
	for _, fh := range form.File["photo"] {
		if fh.Size == 0 {
			continue
		}
		if fh.Size > audits.MaxPhotoSize {
			return nil, audits.ErrPhotoTooLarge
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(f, audits.MaxPhotoSize+1))
		_ = f.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func (s *Server) inspectionPhotoSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	findingID, err := idParam(c, "finding")
	if err != nil {
		return err
	}
	photos, err := formPhotos(c)
	if err == nil && len(photos) == 0 {
		err = audits.ErrPhotoEmpty
	}
	if err == nil {
		_, err = s.domains.Audits.AddFindingPhotos(c.UserContext(), principalOf(c).User.ID, id, findingID, photos...)
	}
	if err != nil {
		return s.formFailure(c, id, err)
	}
	return s.inspectionRedirect(c, id, "#finding-"+strconv.FormatInt(findingID, 10))
}

// inspectionPhoto serves a finding's photo to the inspection's inspectors only, with the type
// detected at upload; nosniff stops browsers guessing another.
func (s *Server) inspectionPhoto(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	photoID, err := idParam(c, "photo")
	if err != nil {
		return err
	}
	p, err := s.domains.Audits.FindingPhoto(c.UserContext(), principalOf(c).User.ID, photoID)
	if err != nil {
		return err
	}
	if p.InspectionID != id {
		return audits.ErrNotFound
	}
	c.Set(fiber.HeaderContentType, p.ContentType)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set(fiber.HeaderContentDisposition, "inline")
	return c.Send(p.Data)
}

func (s *Server) inspectionSignSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.domains.Audits.Sign(c.UserContext(), principalOf(c).User.ID, id); err != nil {
		return s.formFailure(c, id, err)
	}
	return s.inspectionRedirect(c, id, "#sign")
}
