package server

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/exams"
	"shanyu/internal/failure"
)

// routesExamPages registers the HTML pages of exams: the candidate's list, exam page and results, and
// the centre's sessions, registrations, live view and results.
func (s *Server) routesExamPages() {
	s.page("GET", "/exams", can("exams.take", "read"), scopeOwn, s.myExamsPage)
	s.page("POST", "/exams/sessions/:id/register", can("exams.take", "write"), byExamSession("id"), s.registerSubmit)
	s.page("GET", "/exams/sessions/:id/take", can("exams.take", "write"), byExamSession("id"), s.examPage)
	s.page("POST", "/exams/sessions/:id/take", can("exams.take", "write"), byExamSession("id"), s.examStartSubmit)
	s.page("GET", "/exams/results", can("exams.take", "read"), scopeOwn, s.myResultsPage)
	s.publicGet("/exams/sw.js", s.examServiceWorker) // public: static code, fetched by the browser to update the worker
	s.page("GET", "/exams/attempts/:id/images/:position/:name", can("exams.take", "read"), byAttempt("id"), s.attemptImage)

	s.page("GET", "/centres/:code/exams", signedIn, byOrg("code"), s.centreExamsPage)
	s.page("GET", "/exams/sessions/:id/registrations", can("exams.sessions", "read"), byExamSession("id"), s.registrationsPage)
	s.page("POST", "/exams/registrations/:id/decision", can("exams.sessions", "write"), byRegistration("id"), s.decideSubmit)
	s.page("POST", "/exams/registrations/:id/identity", can("people.identity", "write"), byRegistration("id"), s.verifyIdentitySubmit)
	s.page("GET", "/exams/sessions/:id/live", can("exams.sessions", "read"), byExamSession("id"), s.livePage)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/exam-sessions/:id/live", Scope: byExamSession("id"), Summary: "Live view: each candidate started, answering, idle or submitted", Tag: "exams",
		Perm: can("exams.sessions", "read"), Response: itemsOf[exams.LiveRow](nil)}, s.apiLive)
	s.page("GET", "/exams/sessions/:id/marking", can("exams.marking", "read"), byExamSession("id"), s.markingPage)
	s.page("POST", "/exams/attempts/:id/marks", can("exams.marking", "write"), byAttempt("id"), s.markSubmit)
	s.page("GET", "/exams/sessions/:id/results", can("exams.results", "read"), byExamSession("id"), s.sessionResultsPage)
	s.page("POST", "/exams/sessions/:id/publish", can("exams.results", "write"), byExamSession("id"), s.publishResultsSubmit)
	s.page("GET", "/exams/sessions/:id/results.xlsx", can("exams.results", "read"), byExamSession("id"), s.resultsXLSX)
	s.page("GET", "/exams/sessions/:id/regrade", can("exams.results", "write"), byExamSession("id"), s.regradePage)
	s.page("POST", "/exams/sessions/:id/regrade", can("exams.results", "write"), byExamSession("id"), s.regradeSubmit)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/exam-sessions/:id/item-stats", Scope: byExamSession("id"), Summary: "Item statistics: difficulty and discrimination", Tag: "exams",
		Perm: can("exams.results", "read"), Response: itemsOf[exams.ItemStat](nil)}, s.apiItemStats)
}

func (s *Server) myExamsPage(c *fiber.Ctx) error {
	list, err := s.domains.Exams.OpenSessions(c.UserContext(), personOf(c))
	if err != nil {
		return err
	}
	// A session that needs a verified identity can only be approved once the centre has checked the
	// ID card: tell the candidate before they find out from a refusal.
	verified, err := s.accounts.IdentityVerified(c.UserContext(), personOf(c))
	if err != nil {
		return err
	}
	// Each session shows the hours the candidate holds against what it asks, counted as registration
	// counts them.
	type row struct {
		exams.MySession
		Held, Need float64
		Percent    int
	}
	rows := make([]row, len(list))
	for i, m := range list {
		held, err := s.domains.Exams.HoursTowards(c.UserContext(), personOf(c), m.Session)
		if err != nil {
			return err
		}
		rows[i] = row{MySession: m, Held: held, Need: m.Session.MinHours, Percent: 100}
		if m.Session.MinHours > 0 {
			rows[i].Percent = min(100, int(held*100/m.Session.MinHours))
		}
	}
	return s.render(c, "exams_mine", page{Title: s.i18n.T(langOf(c), "exams.mine.title"), Data: fiber.Map{"Items": rows, "IdentityVerified": verified}})
}

func (s *Server) registerSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.domains.Exams.Register(c.UserContext(), id, personOf(c)); err != nil {
		return err
	}
	return c.Redirect("/exams", fiber.StatusSeeOther)
}

func (s *Server) examPage(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	x, err := s.domains.Exams.GetSession(c.UserContext(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	// Before the first attempt the instructions come first and the clock starts only when the
	// candidate presses 开始考试. Once an attempt exists the page opens on it: in progress, or
	// submitted (a reload after 交卷 keeps showing what was counted).
	used, active, err := s.domains.Exams.MyAttempts(c.UserContext(), x.ID, personOf(c))
	if err != nil {
		return err
	}
	if !active && used == 0 {
		return s.examInstructions(c, x, used, nil)
	}
	return s.render(c, "exam", page{Title: x.Name, Focus: true, Data: fiber.Map{"SessionID": x.ID, "Name": x.Name}})
}

// examInstructions shows what the candidate should know before the clock starts: duration, number
// of questions, the rules, another device, the deadline and the retake policy, with 开始考试.
func (s *Server) examInstructions(c *fiber.Ctx, x exams.Session, used int, refused *failure.Error) error {
	data := fiber.Map{"Session": x, "Minutes": int(x.Duration / time.Minute), "Items": x.ItemCount(), "Used": used,
		"Left": max(0, x.AttemptsAllowed-used), "Practical": x.PracticalPass}
	if refused != nil {
		data["Error"] = s.i18n.T(langOf(c), refused.Msg.Key, refused.Msg.Args...)
		c.Status(kindStatus[refused.Kind])
	}
	return s.render(c, "exam_start", page{Title: x.Name, Focus: true, Data: data})
}

// examStartSubmit starts the attempt (the candidate pressed 开始考试) and opens the exam page holding
// this device's token, so that the paper loads without a second start. A start the domain refuses
// comes back on the instructions with the reason; an attempt already in progress (a form sent twice,
// or another device) opens the exam page, which asks before taking it over.
func (s *Server) examStartSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	x, err := s.domains.Exams.GetSession(c.UserContext(), id)
	if err != nil {
		return err
	}
	st, err := s.domains.Exams.Start(c.UserContext(), id, personOf(c))
	if errors.Is(err, exams.ErrHeldElsewhere) {
		return c.Redirect(fmt.Sprintf("/exams/sessions/%d/take", id), fiber.StatusSeeOther)
	}
	if f := failure.As(err); err != nil && f.Kind != failure.Internal {
		used, _, uerr := s.domains.Exams.MyAttempts(c.UserContext(), id, personOf(c))
		if uerr != nil {
			return uerr
		}
		return s.examInstructions(c, x, used, f)
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.render(c, "exam", page{Title: x.Name, Focus: true, Data: fiber.Map{"SessionID": x.ID, "Name": x.Name,
		"AttemptID": st.Attempt.ID, "Device": st.DeviceToken, "DeviceNo": st.Attempt.Device}})
}

// examServiceWorker serves the exam page's service worker under /exams/, so that its scope covers
// the exam pages; it is revalidated on every update check.
func (s *Server) examServiceWorker(c *fiber.Ctx) error {
	a := s.views.assets[s.views.hashed["exam_sw.js"]]
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderContentType, "text/javascript; charset=utf-8")
	return c.Send(a.body)
}

// attemptImage serves a picture of a question on the candidate's own paper; another candidate's
// attempt answers 404.
func (s *Server) attemptImage(c *fiber.Ctx) error {
	return questionImage(c, s.domains.Exams.AttemptImage)
}

func (s *Server) myResultsPage(c *fiber.Ctx) error {
	rs, err := s.domains.Exams.PersonResults(c.UserContext(), personOf(c))
	if err != nil {
		return err
	}
	return s.render(c, "exam_results", page{Title: s.i18n.T(langOf(c), "exams.results.title"), Data: fiber.Map{"Items": rs}})
}

func (s *Server) centreExamsPage(c *fiber.Ctx) error {
	org, err := s.accounts.OrganisationByCode(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	if err := s.allowedIn(c, "exams.sessions", "read", org.Domains()...); err != nil {
		return err
	}
	list, err := s.domains.Exams.Sessions(c.UserContext(), org.ID)
	if err != nil {
		return err
	}
	practice, err := s.practiceCategories(c, org.ID)
	if err != nil {
		return err
	}
	return s.render(c, "exams_centre", page{Title: s.i18n.T(langOf(c), "exams.centre.title"),
		Data: fiber.Map{"Centre": org, "Sessions": list, "Message": c.Query("done"), "Practice": practice}})
}

func (s *Server) registrationsPage(c *fiber.Ctx) error {
	x, err := s.sessionParam(c, "exams.sessions", "read")
	if err != nil {
		return err
	}
	return s.renderRegistrations(c, x, nil)
}

// refusedDecision is an approval or rejection refused, shown in its registration's row.
type refusedDecision struct {
	ID           int64
	Message      string
	ExtraMinutes string
}

func (s *Server) renderRegistrations(c *fiber.Ctx, x exams.Session, refused *refusedDecision) error {
	rs, err := s.domains.Exams.Registrations(c.UserContext(), x.ID)
	if err != nil {
		return err
	}
	return s.render(c, "exam_registrations", page{Title: x.Name, Data: fiber.Map{"Session": x, "Items": rs, "Message": c.Query("done"), "Refused": refused}})
}

// verifyIdentitySubmit records that the signed-in staff member checked a registrant's ID card; only
// staff of the session's centre (or its region's regulator) may.
func (s *Server) verifyIdentitySubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	personID, sessionID, err := s.domains.Exams.RegistrationPerson(c.UserContext(), id)
	if err != nil {
		return err
	}
	if _, err := s.sessionInCentre(c, sessionID, "people.identity", "write"); err != nil {
		return err
	}
	if err := s.accounts.VerifyIdentity(c.UserContext(), personID, principalOf(c).User.ID); err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/exams/sessions/%d/registrations?done=exams.identity.verified_done", sessionID), fiber.StatusSeeOther)
}

func (s *Server) decideSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	sessionID, err := s.domains.Exams.RegistrationSession(c.UserContext(), id)
	if err != nil {
		return err
	}
	x, err := s.sessionInCentre(c, sessionID, "exams.sessions", "write")
	if err != nil {
		return err
	}
	minutes, _ := strconv.Atoi(c.FormValue("extra_minutes"))
	if err := s.domains.Exams.Decide(c.UserContext(), principalOf(c).User.ID, id, c.FormValue("approve") == "true",
		time.Duration(minutes)*time.Minute); err != nil {
		// A refusal the centre can act on (an identity to check first, hours missing) comes back in
		// the registration's row, with the minutes typed, instead of an error page.
		// The centre's own permission was checked above, so a refusal here is the registration's
		// (forbidden: the identity is not checked yet), still answered 403.
		var msg string
		if f, pass := s.failedForm(c, err); f != nil {
			msg = f.All("；")
		} else if e := failure.As(err); e.Kind == failure.Forbidden && e.Msg.Key != "" {
			msg = s.i18n.T(langOf(c), e.Msg.Key, e.Msg.Args...)
			c.Status(fiber.StatusForbidden)
		} else {
			return pass
		}
		status := c.Response().StatusCode()
		if rerr := s.renderRegistrations(c, x, &refusedDecision{ID: id, Message: msg, ExtraMinutes: c.FormValue("extra_minutes")}); rerr != nil {
			return rerr
		}
		c.Status(status)
		return nil
	}
	return c.Redirect(fmt.Sprintf("/exams/sessions/%d/registrations", sessionID), fiber.StatusSeeOther)
}

func (s *Server) livePage(c *fiber.Ctx) error {
	x, err := s.sessionParam(c, "exams.sessions", "read")
	if err != nil {
		return err
	}
	return s.render(c, "exam_live", page{Title: x.Name, Data: fiber.Map{"Session": x}})
}

func (s *Server) apiLive(c *fiber.Ctx) error {
	x, err := s.sessionParam(c, "exams.sessions", "read")
	if err != nil {
		return err
	}
	id := x.ID
	rows, err := s.domains.Exams.Live(c.UserContext(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": rows})
}

func (s *Server) sessionResultsPage(c *fiber.Ctx) error {
	x, err := s.sessionParam(c, "exams.results", "read")
	if err != nil {
		return err
	}
	id := x.ID
	rs, err := s.domains.Exams.Results(c.UserContext(), id)
	if err != nil {
		return err
	}
	stats, err := s.domains.Exams.ItemStats(c.UserContext(), id)
	if err != nil {
		return err
	}
	var sitting []exams.Sitter
	// Before publishing, staff see the marks so far (provisional) and what publishing will create.
	var provisional []exams.Provisional
	var toPublish, toCertify, marking int
	if x.PublishedAt == nil {
		if sitting, err = s.domains.Exams.Sitting(c.UserContext(), id); err != nil {
			return err
		}
		if provisional, toPublish, toCertify, err = s.domains.Exams.ProvisionalResults(c.UserContext(), id); err != nil {
			return err
		}
		marking = len(provisional) - toPublish
	}
	review, err := s.domains.Exams.ReviewAllowed(c.UserContext(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.render(c, "exam_session_results", page{Title: x.Name, Data: fiber.Map{"Session": x, "Items": rs, "Stats": stats, "Review": review,
		"Sitting": sitting, "Message": c.Query("done"), "Provisional": provisional, "ToPublish": toPublish, "ToCertify": toCertify,
		"Marking": marking}})
}

func (s *Server) publishResultsSubmit(c *fiber.Ctx) error {
	x, err := s.sessionParam(c, "exams.results", "write")
	if err != nil {
		return err
	}
	id := x.ID
	if _, err := s.domains.Exams.Publish(c.UserContext(), principalOf(c).User.ID, id); err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/exams/sessions/%d/results", id), fiber.StatusSeeOther)
}

// regradePage lists the session's items corrected since delivery; with ?item= it shows the dry run
// of regrading that item (who changes, and whose pass or fail flips) and a button to apply it.
func (s *Server) regradePage(c *fiber.Ctx) error {
	x, err := s.sessionParam(c, "exams.results", "write")
	if err != nil {
		return err
	}
	list, err := s.domains.Exams.Corrections(c.UserContext(), x.ID)
	if err != nil {
		return err
	}
	data := fiber.Map{"Session": x, "Corrections": list}
	if item, _ := strconv.ParseInt(c.Query("item"), 10, 64); item > 0 {
		var picked *exams.Correction
		for i := range list {
			if list[i].ItemID == item && list[i].Eligible {
				picked = &list[i]
			}
		}
		if picked == nil {
			return exams.ErrNotFound
		}
		changes, err := s.domains.Exams.RegradeItem(c.UserContext(), principalOf(c).User.ID, x.ID, item, true)
		if err != nil {
			return err
		}
		data["Picked"], data["Changes"] = picked, changes
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.render(c, "exam_regrade", page{Title: s.i18n.T(langOf(c), "exams.regrade.title"), Data: data})
}

func (s *Server) regradeSubmit(c *fiber.Ctx) error {
	x, err := s.sessionParam(c, "exams.results", "write")
	if err != nil {
		return err
	}
	item, err := strconv.ParseInt(c.FormValue("item"), 10, 64)
	if err != nil || item <= 0 {
		return failure.Field("item", "exams.regrade.item_required")
	}
	if _, err := s.domains.Exams.RegradeItem(c.UserContext(), principalOf(c).User.ID, x.ID, item, false); err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/exams/sessions/%d/results?done=exams.regrade.applied", x.ID), fiber.StatusSeeOther)
}

// resultsXLSX is the CSV export as an Excel workbook, with headers in the reader's language.
func (s *Server) resultsXLSX(c *fiber.Ctx) error {
	x, err := s.sessionParam(c, "exams.results", "read")
	if err != nil {
		return err
	}
	lang := langOf(c)
	t := func(k string) string { return s.i18n.T(lang, k) }
	l := exams.SheetLabels{Sheet: t("exams.xlsx.sheet"), Passed: t("exams.results.passed"), Failed: t("exams.results.failed"),
		Headers: [5]string{t("exams.xlsx.result_id"), t("exams.xlsx.name"), t("exams.xlsx.theory"), t("exams.xlsx.practical"), t("exams.xlsx.passed")}}
	var buf bytes.Buffer
	if err := s.domains.Exams.WriteResultsXLSX(c.UserContext(), x.ID, &buf, l); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="results-%d.xlsx"`, x.ID))
	return c.Send(buf.Bytes())
}

func (s *Server) apiItemStats(c *fiber.Ctx) error {
	x, err := s.sessionParam(c, "exams.results", "read")
	if err != nil {
		return err
	}
	id := x.ID
	stats, err := s.domains.Exams.ItemStats(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": stats})
}

func (s *Server) markingPage(c *fiber.Ctx) error {
	x, err := s.sessionParam(c, "exams.marking", "read")
	if err != nil {
		return err
	}
	id := x.ID
	tasks, err := s.domains.Exams.MarkingQueue(c.UserContext(), id, principalOf(c).User.ID)
	if err != nil {
		return err
	}
	evidence, err := s.domains.Exams.SessionEvidence(c.UserContext(), id)
	if err != nil {
		return err
	}
	gaps, err := s.domains.Exams.EvidenceGaps(c.UserContext(), evidence)
	if err != nil {
		return err
	}
	lang := langOf(c)
	rows := make([]evidenceRow, len(evidence))
	for i, e := range evidence {
		rows[i] = evidenceRow{SessionEvidence: e, Arrived: s.i18n.Times(lang).Precise(e.ArrivedAt),
			Reason: s.i18n.T(lang, "exams.evidence."+e.Reason), Response: answerText(s.i18n.T(lang, "exams.page.true"), s.i18n.T(lang, "exams.page.false"), e.Response)}
		if gaps[i] != nil {
			// A cloze answer by the texts chosen, with the key and the share of each gap earned.
			var parts []string
			for gi, g := range gaps[i] {
				given := g.Given
				if given == "" {
					given = s.i18n.T(lang, "exams.cloze.none")
				}
				parts = append(parts, s.i18n.T(lang, "exams.cloze.result", gi+1, given, g.Key, Number(g.Fraction*100)))
			}
			rows[i].Response = strings.Join(parts, " / ")
		}
		if e.TypedAt != nil {
			rows[i].Typed = s.i18n.Times(lang).Precise(*e.TypedAt)
		}
	}
	return s.render(c, "exam_marking", page{Title: x.Name, Data: fiber.Map{"Session": x, "Tasks": tasks, "Evidence": rows}})
}

// evidenceRow is a line of the marking page's list of answers received but not counted.
type evidenceRow struct {
	exams.SessionEvidence
	Arrived, Typed, Reason, Response string
}

// answerText writes a response the way staff read it: options by the letters the candidate saw.
func answerText(yes, no string, a exams.Answer) string {
	var parts []string
	for _, c := range a.Choices {
		parts = append(parts, string(rune('A'+c)))
	}
	if a.Truth != nil {
		parts = append(parts, map[bool]string{true: yes, false: no}[*a.Truth])
	}
	parts = append(parts, a.Blanks...)
	if a.Number != nil {
		parts = append(parts, strconv.FormatFloat(*a.Number, 'g', -1, 64))
	}
	parts = append(parts, a.Matches...)
	if len(a.Order) > 0 {
		var rows []string
		for _, k := range a.Order {
			rows = append(rows, string(rune('A'+k)))
		}
		parts = append(parts, strings.Join(rows, "→"))
	}
	for i, g := range a.Gaps {
		parts = append(parts, "("+strconv.Itoa(i+1)+") "+g)
	}
	if a.Text != "" {
		parts = append(parts, a.Text)
	}
	return strings.Join(parts, " / ")
}

func (s *Server) markSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	sessionID, err := s.domains.Exams.AttemptSession(c.UserContext(), id)
	if err != nil {
		return err
	}
	if _, err := s.sessionInCentre(c, sessionID, "exams.marking", "write"); err != nil {
		return err
	}
	position, err := strconv.Atoi(c.FormValue("position"))
	if err != nil {
		return failure.Field("position", "exams.mark_invalid")
	}
	var marks []float64
	for _, v := range c.Request().PostArgs().PeekMulti("marks") {
		m, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return failure.Field("marks", "exams.mark_invalid")
		}
		marks = append(marks, m)
	}
	if err := s.domains.Exams.Mark(c.UserContext(), principalOf(c).User.ID, id, position, marks); err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/exams/sessions/%d/marking", sessionID), fiber.StatusSeeOther)
}
