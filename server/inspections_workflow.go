package server

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"shanyu/audits"
	"shanyu/certificates"
	"shanyu/internal/failure"
)

// occupationTitles gives audits the certificates domain's occupation catalogue.
func occupationTitles(code string, level int) (string, string, string, string, error) {
	t, err := certificates.LevelTitles(code, level)
	return t.OccupationZH, t.LevelZH, t.OccupationEN, t.LevelEN, err
}

// explainWords are the words a decision is explained with, in one language, from the locales.
func explainWords(c *catalog, lang string) audits.ExplainWords {
	t := func(k string) string { return c.T(lang, "audits.explain."+k) }
	w := audits.ExplainWords{Requires: t("requires"), Holds: t("holds"), Lacks: t("lacks"), And: t("and"), Or: t("or"),
		QualAny: t("qual_any"), QualAtLeast: t("qual_at_least"), QualHeld: t("qual_held"), Tokens: map[string]string{}, Lang: "zh", Titles: occupationTitles}
	if lang == "en" {
		w.Lang = "en"
	}
	for k, v := range c.texts[lang] {
		if tok, ok := strings.CutPrefix(k, "audits.token."); ok {
			w.Tokens[tok] = v
		}
	}
	return w
}

// explainDecision is a decision in words, in lang: what the post requires, what is held, what is
// missing and why. Policy lines never appear in it.
func explainDecision(c *catalog, lang string, d audits.Decision) string {
	reasons := map[string]string{}
	for k, v := range c.texts[lang] {
		if r, ok := strings.CutPrefix(k, "audits.reason."); ok {
			reasons[r] = v
		}
	}
	return explainWords(c, lang).Sentence(c.T(lang, "audits.post."+d.Post), d, reasons)
}

// routesInspectionWorkflow registers absence, withdrawal, addenda and the regulator's reassignment.
func (s *Server) routesInspectionWorkflow() {
	work := can("inspections.assigned", "write")
	reassign := can("rounds.reassign", "write")
	s.api(apiRoute{Method: "POST", Path: "/api/v1/inspections/:id/absences", Scope: byInspection("id"), Summary: "Mark a roster member absent, with the reason", Tag: "inspections", Perm: work,
		Request: object([]string{"roster_id", "reason"}, map[string]any{"roster_id": integer, "reason": str}), Response: ok}, s.apiAbsence)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/inspections/:id/withdraw", Scope: byInspection("id"), Summary: "Withdraw the signatures of a signed inspection so it can be changed (audited, with a reason)", Tag: "inspections", Perm: work,
		Request: object([]string{"reason"}, map[string]any{"reason": str}), Response: ok}, s.apiWithdraw)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/inspections/:id/addenda", Scope: byInspection("id"), Summary: "Add a correction to a finished inspection; it references the signed report", Tag: "inspections", Perm: work,
		Request: object([]string{"note"}, map[string]any{"note": str}), Response: props(map[string]any{"id": integer, "report_sha256": str})}, s.apiAddendum)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/inspections/:id/reassign", Scope: byInspection("id"), Summary: "Replace an inspector of an unfinished inspection (the regulator; audited, with a reason)", Tag: "inspections", Perm: reassign,
		Request: object([]string{"from_user_id", "to_user_id", "reason"}, map[string]any{"from_user_id": integer, "to_user_id": integer, "reason": str}), Response: ok}, s.apiReassign)
	s.page("POST", "/inspections/:id/absent", work, byInspection("id"), s.inspectionAbsentSubmit)
	s.page("POST", "/inspections/:id/withdraw", work, byInspection("id"), s.inspectionWithdrawSubmit)
	s.page("POST", "/inspections/:id/addendum", work, byInspection("id"), s.inspectionAddendumSubmit)
	s.page("GET", "/inspections/:id/manage", reassign, byInspection("id"), s.inspectionManagePage)
	s.page("POST", "/inspections/:id/manage", reassign, byInspection("id"), s.inspectionManageSubmit)
}

func (s *Server) apiAbsence(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		RosterID int64  `json:"roster_id"`
		Reason   string `json:"reason"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	if err := s.domains.Audits.MarkAbsent(c.UserContext(), principalOf(c).User.ID, id, b.RosterID, b.Reason); err != nil {
		return err
	}
	return c.JSON(map[string]any{"ok": true})
}

func (s *Server) apiWithdraw(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		Reason string `json:"reason"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	if err := s.domains.Audits.Withdraw(c.UserContext(), principalOf(c).User.ID, id, b.Reason); err != nil {
		return err
	}
	return c.JSON(map[string]any{"ok": true})
}

func (s *Server) apiAddendum(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		Note string `json:"note"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	ad, err := s.domains.Audits.AddAddendum(c.UserContext(), principalOf(c).User.ID, id, b.Note)
	if err != nil {
		return err
	}
	return c.JSON(map[string]any{"id": ad.ID, "report_sha256": hexOrEmpty(ad.ReportSHA256)})
}

func hexOrEmpty(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, x := range b {
		out = append(out, digits[x>>4], digits[x&15])
	}
	return string(out)
}

// reassignAllowed checks that the regulator acts in the inspected institution's region.
func (s *Server) reassignAllowed(c *fiber.Ctx, id int64) (audits.Inspection, error) {
	x, err := s.domains.Audits.Inspection(c.UserContext(), id)
	if err != nil {
		return x, err
	}
	o, err := s.accounts.OrganisationByID(c.UserContext(), x.OrganisationID)
	if err != nil {
		return x, err
	}
	return x, s.allowedIn(c, "rounds.reassign", "write", o.Domains()...)
}

func (s *Server) apiReassign(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.reassignAllowed(c, id); err != nil {
		return err
	}
	var b struct {
		From   int64  `json:"from_user_id"`
		To     int64  `json:"to_user_id"`
		Reason string `json:"reason"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	if err := s.domains.Audits.Reassign(c.UserContext(), principalOf(c).User.ID, id, b.From, b.To, b.Reason); err != nil {
		return err
	}
	return c.JSON(map[string]any{"ok": true})
}

func (s *Server) inspectionAbsentSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	rid, _ := strconv.ParseInt(c.FormValue("roster_id"), 10, 64)
	if err := s.domains.Audits.MarkAbsent(c.UserContext(), principalOf(c).User.ID, id, rid, c.FormValue("reason")); err != nil {
		return s.formFailure(c, id, err)
	}
	return s.inspectionRedirect(c, id, "#roster")
}

func (s *Server) inspectionWithdrawSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.domains.Audits.Withdraw(c.UserContext(), principalOf(c).User.ID, id, c.FormValue("reason")); err != nil {
		return s.formFailure(c, id, err)
	}
	return s.inspectionRedirect(c, id, "#sign")
}

func (s *Server) inspectionAddendumSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.domains.Audits.AddAddendum(c.UserContext(), principalOf(c).User.ID, id, c.FormValue("note")); err != nil {
		return s.formFailure(c, id, err)
	}
	return s.inspectionRedirect(c, id, "#addenda")
}

type inspectorOption struct {
	ID     int64
	Name   string
	Signed bool
}

func (s *Server) inspectionManagePage(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	x, err := s.reassignAllowed(c, id)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	o, err := s.accounts.OrganisationByID(ctx, x.OrganisationID)
	if err != nil {
		return err
	}
	var current []inspectorOption
	for _, sg := range x.Inspectors {
		u, err := s.accounts.UserByID(ctx, sg.UserID)
		if err != nil {
			return err
		}
		current = append(current, inspectorOption{ID: u.ID, Name: u.Name + " (" + u.Username + ")", Signed: sg.SignedAt != nil})
	}
	pool, err := s.domains.Audits.InspectorPool(ctx, o.RegionCode)
	if err != nil {
		return err
	}
	var others []inspectorOption
	for _, u := range pool {
		if !x.HasInspector(u.ID) {
			others = append(others, inspectorOption{ID: u.ID, Name: u.Name + " (" + u.Username + ")"})
		}
	}
	lang := langOf(c)
	msg := ""
	if c.Query("done") != "" {
		msg = s.i18n.T(lang, "audits.reassign.done")
	}
	return s.render(c, "inspection_manage", page{Title: s.i18n.T(lang, "audits.reassign.title"), Data: map[string]any{"X": x, "Org": o,
		"Current": current, "Others": others, "Notice": msg, "Error": s.errorText(lang, c.Query("error"), c.Context().QueryArgs().PeekMulti("arg"))}})
}

func (s *Server) inspectionManageSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.reassignAllowed(c, id); err != nil {
		return err
	}
	from, _ := strconv.ParseInt(c.FormValue("from"), 10, 64)
	to, _ := strconv.ParseInt(c.FormValue("to"), 10, 64)
	back := "/inspections/" + strconv.FormatInt(id, 10) + "/manage"
	if err := s.domains.Audits.Reassign(c.UserContext(), principalOf(c).User.ID, id, from, to, c.FormValue("reason")); err != nil {
		f, err := s.failedFormBack(langOf(c), err, "to", "reason")
		if f == nil {
			return err
		}
		return c.Redirect(back+errorQuery(f.FirstMsg()), fiber.StatusSeeOther)
	}
	return c.Redirect(back+"?done=1", fiber.StatusSeeOther)
}

// errorQuery carries a message key and its arguments back to a page.
func errorQuery(m failure.Msg) string {
	q := "?error=" + url.QueryEscape(m.Key)
	for _, a := range m.Args {
		q += "&arg=" + url.QueryEscape(fmt.Sprint(a))
	}
	return q
}

// errorText translates a message key with the arguments a redirect carried, using them only when
// they fit the message's placeholders (so no message ever shows "%!").
func (s *Server) errorText(lang, key string, args [][]byte) string {
	if key == "" {
		return ""
	}
	text := s.i18n.T(lang, key)
	verbs := fmtVerb.FindAllString(strings.ReplaceAll(text, "%%", ""), -1)
	if len(verbs) == 0 {
		return text
	}
	if len(verbs) != len(args) {
		return s.i18n.T(lang, "error.invalid")
	}
	vals := make([]any, len(args))
	for i, a := range args {
		vals[i] = string(a)
		if strings.HasSuffix(verbs[i], "d") {
			n, err := strconv.Atoi(string(a))
			if err != nil {
				return s.i18n.T(lang, "error.invalid")
			}
			vals[i] = n
		}
	}
	return s.i18n.T(lang, key, vals...)
}

var fmtVerb = regexp.MustCompile(`%[-+# 0]*[0-9]*(?:\.[0-9]+)?[a-zA-Z]`)
