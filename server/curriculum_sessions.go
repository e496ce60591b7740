package server

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	qrcode "github.com/piglig/go-qr"

	"shanyu/accounts"
	"shanyu/curriculum"
	"shanyu/internal/clock"
	"shanyu/internal/failure"
)

func (s *Server) routesPracticalSessions() {
	integer := map[string]any{"type": "integer"}
	s.api(apiRoute{Method: "GET", Path: "/api/v1/sessions", Scope: scopePublic, Summary: "Upcoming practical sessions", Tag: "curriculum", Query: []string{"centre"}, Response: itemsOf[practicalJSON](map[string]any{"total": integer})}, s.apiPracticalSessions)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/sessions/:id/signups", Scope: byPractical("id"), Summary: "Sign up for a practical session (waiting list when full)", Tag: "curriculum", Perm: can("learning.sessions", "write"), Response: schemaOf[practicalSignupJSON](), Status: 201}, s.apiPracticalSignUp)
	s.api(apiRoute{Method: "DELETE", Path: "/api/v1/sessions/:id/signups/me", Scope: byPractical("id"), Summary: "Withdraw from a practical session", Tag: "curriculum", Perm: can("learning.sessions", "write"), Response: props(map[string]any{"session_id": integer, "status": str})}, s.apiPracticalCancel)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/sessions/:id/checkin", Scope: byPractical("id"), Summary: "Check in or out with the code shown by the trainer", Tag: "curriculum", Perm: can("learning.sessions", "write"),
		Request: object([]string{"code"}, map[string]any{"code": str}), Response: schemaOf[practicalAttendanceJSON]()}, s.apiPracticalCheckin)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/me/sessions", Scope: scopeOwn, Summary: "My practical sessions", Tag: "curriculum", Perm: signedIn, Response: itemsOf[practicalJSON](map[string]any{"total": integer})}, s.apiMyPractical)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/centres/:code/sessions", Scope: byOrg("code"), Summary: "Schedule a practical session", Tag: "curriculum", Perm: can("sessions.manage", "write"),
		Request: object([]string{"base_id", "title", "occupation_code", "level", "starts_at", "ends_at", "capacity", "hours"}, map[string]any{
			"base_id": integer, "course_id": integer, "title": str, "occupation_code": str, "level": integer, "starts_at": str, "ends_at": str,
			"capacity": integer, "trainer_id": integer, "hours": map[string]any{"type": "number"}}), Response: schemaOf[practicalJSON](), Status: 201}, s.apiCreatePractical)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/sessions/:id/signups", Scope: byPractical("id"), Summary: "Attendance sheet of a session", Tag: "curriculum", Perm: can("sessions.manage", "read"), Response: itemsOf[practicalSignupJSON](map[string]any{"total": integer})}, s.apiPracticalSignups)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/sessions/:id/code", Scope: byPractical("id"), Summary: "A fresh signed check-in code (trainer screen)", Tag: "curriculum", Perm: can("sessions.manage", "read"), Response: props(map[string]any{"code": str, "url": str, "expires_at": dateTime})}, s.apiPracticalCode)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/sessions/:id/attendance", Scope: byPractical("id"), Summary: "Mark attendance by hand (audit-logged)", Tag: "curriculum", Perm: can("sessions.manage", "write"),
		Request: object([]string{"person_id", "action"}, map[string]any{"person_id": integer, "action": str}), Response: schemaOf[practicalAttendanceJSON]()}, s.apiPracticalAttendance)

	s.page("GET", "/sessions", public, scopePublic, s.practicalPage)
	s.page("POST", "/sessions/:id/signup", can("learning.sessions", "write"), byPractical("id"), s.practicalSignUpSubmit)
	s.page("POST", "/sessions/:id/cancel", can("learning.sessions", "write"), byPractical("id"), s.practicalCancelSubmit)
	s.page("GET", "/sessions/:id/checkin", can("learning.sessions", "write"), byPractical("id"), s.practicalCheckinPage)
	s.page("POST", "/sessions/:id/checkin", can("learning.sessions", "write"), byPractical("id"), s.practicalCheckinSubmit)
	s.page("GET", "/centre/sessions", can("sessions.manage", "read"), scopeHeld, s.centrePracticalPage)
	s.page("POST", "/centre/sessions", can("sessions.manage", "write"), scopeHeld, s.createPracticalSubmit)
	s.page("GET", "/centre/sessions/:id", can("sessions.manage", "read"), byPractical("id"), s.practicalSheetPage)
	s.page("GET", "/centre/sessions/:id/qr.png", can("sessions.manage", "read"), byPractical("id"), s.practicalQR)
	s.page("POST", "/centre/sessions/:id/attendance", can("sessions.manage", "write"), byPractical("id"), s.practicalAttendanceSubmit)
}

type practicalJSON struct {
	ID             int64     `json:"id"`
	Title          string    `json:"title"`
	CentreCode     string    `json:"centre_code"`
	Base           string    `json:"base"`
	Address        string    `json:"address"`
	OccupationCode string    `json:"occupation_code"`
	Level          int       `json:"level"`
	StartsAt       time.Time `json:"starts_at"`
	EndsAt         time.Time `json:"ends_at"`
	Capacity       int       `json:"capacity"`
	Confirmed      int       `json:"confirmed"`
	Waiting        int       `json:"waiting"`
	Trainer        string    `json:"trainer"`
	Hours          float64   `json:"hours"`
	Status         string    `json:"status,omitempty"` // the caller's sign-up
}

func toPracticalJSON(x curriculum.Session) practicalJSON {
	return practicalJSON{ID: x.ID, Title: x.Title, CentreCode: x.OrgCode, Base: x.BaseName, Address: x.BaseAddress, OccupationCode: x.OccupationCode, Level: x.Level,
		StartsAt: x.StartsAt, EndsAt: x.EndsAt, Capacity: x.Capacity, Confirmed: x.Confirmed, Waiting: x.Waiting, Trainer: x.TrainerName, Hours: x.Hours}
}

type practicalSignupJSON struct {
	PersonID     int64      `json:"person_id"`
	Name         string     `json:"name"`
	Status       string     `json:"status"`
	CheckedInAt  *time.Time `json:"checked_in_at"`
	CheckedOutAt *time.Time `json:"checked_out_at"`
}

func toPracticalSignupJSON(x curriculum.Signup) practicalSignupJSON {
	return practicalSignupJSON{PersonID: x.PersonID, Name: x.Name, Status: x.Status, CheckedInAt: x.CheckedInAt, CheckedOutAt: x.CheckedOutAt}
}

func (s *Server) upcomingPractical(c *fiber.Ctx) ([]curriculum.Session, error) {
	f := curriculum.SessionFilter{From: time.Now()}
	if code := c.Query("centre"); code != "" {
		o, err := s.accounts.OrganisationByCode(c.UserContext(), code)
		if err != nil {
			return nil, err
		}
		f.OrgID = o.ID
	}
	return s.domains.Curriculum.Sessions(c.UserContext(), f)
}

func (s *Server) apiPracticalSessions(c *fiber.Ctx) error {
	list, err := s.upcomingPractical(c)
	if err != nil {
		return err
	}
	items := make([]practicalJSON, len(list))
	for i, x := range list {
		items[i] = toPracticalJSON(x)
	}
	return c.JSON(fiber.Map{"items": items, "total": len(items)})
}

func (s *Server) apiPracticalSignUp(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	su, err := s.domains.Curriculum.SignUp(c.UserContext(), principalOf(c).User.PersonID, id)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toPracticalSignupJSON(su))
}

func (s *Server) apiPracticalCancel(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.domains.Curriculum.CancelSignUp(c.UserContext(), principalOf(c).User.PersonID, id); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"session_id": id, "status": curriculum.SignupCancelled})
}

type practicalAttendanceJSON struct {
	SessionID int64     `json:"session_id"`
	Title     string    `json:"title"`
	Action    string    `json:"action"`
	At        time.Time `json:"at"`
	Credited  float64   `json:"credited_hours"`
}

func toPracticalAttendanceJSON(a curriculum.Attendance) practicalAttendanceJSON {
	return practicalAttendanceJSON{SessionID: a.Session.ID, Title: a.Session.Title, Action: a.Action, At: a.At, Credited: a.Credited}
}

func (s *Server) apiPracticalCheckin(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		Code string `json:"code"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	a, err := s.domains.Curriculum.Scan(c.UserContext(), principalOf(c).User.PersonID, id, b.Code)
	if err != nil {
		return err
	}
	return c.JSON(toPracticalAttendanceJSON(a))
}

func (s *Server) apiMyPractical(c *fiber.Ctx) error {
	list, err := s.domains.Curriculum.SessionsOf(c.UserContext(), principalOf(c).User.PersonID)
	if err != nil {
		return err
	}
	items := make([]practicalJSON, len(list))
	for i, m := range list {
		items[i] = toPracticalJSON(m.Session)
		items[i].Status = m.Signup.Status
	}
	return c.JSON(fiber.Map{"items": items, "total": len(items)})
}

// managedPractical loads a session and checks that the caller manages sessions of its centre.
func (s *Server) managedPractical(c *fiber.Ctx, act string) (curriculum.Session, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return curriculum.Session{}, err
	}
	x, err := s.domains.Curriculum.Session(c.UserContext(), id)
	if err != nil {
		return x, err
	}
	return x, s.allowedIn(c, "sessions.manage", act, accounts.OrgDomain(x.OrgCode), accounts.RegionDomain(x.RegionCode))
}

// sessionInput checks that the base belongs to the centre; the trainer defaults to the caller.
func (s *Server) checkPracticalRefs(c *fiber.Ctx, o accounts.Organisation, in *curriculum.SessionInput) error {
	if in.TrainerID == 0 {
		in.TrainerID = principalOf(c).User.ID
	}
	bases, err := s.accounts.TrainingBases(c.UserContext(), o.ID)
	if err != nil {
		return err
	}
	for _, b := range bases {
		if b.ID == in.BaseID {
			return nil
		}
	}
	return failure.Field("base_id", "curriculum.base_invalid")
}

func (s *Server) apiCreatePractical(c *fiber.Ctx) error {
	o, err := s.accounts.OrganisationByCode(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	if err := s.allowedIn(c, "sessions.manage", "write", o.Domains()...); err != nil {
		return err
	}
	var in curriculum.SessionInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if err := s.checkPracticalRefs(c, o, &in); err != nil {
		return err
	}
	x, err := s.domains.Curriculum.CreateSession(c.UserContext(), principalOf(c).User.ID, o.ID, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toPracticalJSON(x))
}

func (s *Server) apiPracticalSignups(c *fiber.Ctx) error {
	x, err := s.managedPractical(c, "read")
	if err != nil {
		return err
	}
	list, err := s.domains.Curriculum.Signups(c.UserContext(), x.ID)
	if err != nil {
		return err
	}
	items := make([]practicalSignupJSON, len(list))
	for i, su := range list {
		items[i] = toPracticalSignupJSON(su)
	}
	return c.JSON(fiber.Map{"items": items, "total": len(items)})
}

// practicalCheckinURL is what the trainer's QR code holds: the check-in page of the session with a fresh code.
func (s *Server) practicalCheckinURL(sessionID int64) (string, time.Time) {
	code, exp := s.domains.Curriculum.IssueCode(sessionID)
	return s.cfg.BaseURL + "/sessions/" + strconv.FormatInt(sessionID, 10) + "/checkin?code=" + code, exp
}

func (s *Server) apiPracticalCode(c *fiber.Ctx) error {
	x, err := s.managedPractical(c, "read")
	if err != nil {
		return err
	}
	u, exp := s.practicalCheckinURL(x.ID)
	code := u[strings.Index(u, "code=")+5:]
	return c.JSON(fiber.Map{"code": code, "url": u, "expires_at": exp})
}

func (s *Server) practicalQR(c *fiber.Ctx) error {
	x, err := s.managedPractical(c, "read")
	if err != nil {
		return err
	}
	u, _ := s.practicalCheckinURL(x.ID)
	q, err := qrcode.EncodeText(u, qrcode.Medium)
	if err != nil {
		return err
	}
	// About 360 px wide with the standard 4-module quiet zone.
	png, err := q.ToPNGBytes(qrcode.NewQrCodeImgConfig(max(1, 360/(q.Size()+8)), 4))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, "image/png")
	return c.Send(png)
}

type practicalAttendanceBody struct {
	PersonID int64  `json:"person_id" form:"person_id"`
	Action   string `json:"action" form:"action"`
}

func (s *Server) apiPracticalAttendance(c *fiber.Ctx) error {
	x, err := s.managedPractical(c, "write")
	if err != nil {
		return err
	}
	var b practicalAttendanceBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	a, err := s.domains.Curriculum.MarkAttendance(c.UserContext(), principalOf(c).User.ID, x.ID, b.PersonID, b.Action)
	if err != nil {
		return err
	}
	return c.JSON(toPracticalAttendanceJSON(a))
}

// Pages.

type practicalView struct {
	curriculum.Session
	LevelName, Hours, When string
	Status                 string
}

func (s *Server) practicalViews(lang string, list []curriculum.Session) []practicalView {
	out := make([]practicalView, len(list))
	for i, x := range list {
		out[i] = practicalView{Session: x, LevelName: courseLevelName(lang, x.OccupationCode, x.Level), Hours: fmtHours(x.Hours),
			When: s.i18n.Times(lang).DateTime(x.StartsAt) + "–" + s.i18n.Times(lang).TimeOfDay(x.EndsAt)}
	}
	return out
}

func (s *Server) practicalPage(c *fiber.Ctx) error {
	lang := langOf(c)
	list, err := s.upcomingPractical(c)
	if err != nil {
		return err
	}
	views := s.practicalViews(lang, list)
	data := fiber.Map{"Items": views, "Notice": curriculumNotice(s, c)}
	if who := principalOf(c); who != nil {
		mine, err := s.domains.Curriculum.SessionsOf(c.UserContext(), who.User.PersonID)
		if err != nil {
			return err
		}
		status := map[int64]string{}
		var my []practicalView
		for _, m := range mine {
			status[m.Session.ID] = m.Signup.Status
			v := s.practicalViews(lang, []curriculum.Session{m.Session})[0]
			v.Status = m.Signup.Status
			if m.Signup.CheckedOutAt != nil {
				v.Status = "attended"
			} else if m.Signup.CheckedInAt != nil {
				v.Status = "checked_in"
			}
			my = append(my, v)
		}
		for i := range views {
			views[i].Status = status[views[i].ID]
		}
		data["Mine"] = my
		data["CanSignUp"] = s.access.Allowed(*who, "learning.sessions", "write")
	}
	return s.render(c, "sessions", page{Title: s.i18n.T(lang, "curriculum.sessions.title"), Data: data})
}

func (s *Server) practicalSignUpSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	su, err := s.domains.Curriculum.SignUp(c.UserContext(), principalOf(c).User.PersonID, id)
	if err != nil {
		return err
	}
	notice := "curriculum.notice.signed_up"
	if su.Status == curriculum.SignupWaiting {
		notice = "curriculum.notice.waiting"
	}
	return c.Redirect("/sessions?notice="+notice, fiber.StatusSeeOther)
}

func (s *Server) practicalCancelSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.domains.Curriculum.CancelSignUp(c.UserContext(), principalOf(c).User.PersonID, id); err != nil {
		return err
	}
	return c.Redirect("/sessions?notice=curriculum.notice.cancelled", fiber.StatusSeeOther)
}

func (s *Server) practicalCheckinPage(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	x, err := s.domains.Curriculum.Session(c.UserContext(), id)
	if err != nil {
		return err
	}
	return s.render(c, "sessions_checkin", page{Title: s.i18n.T(langOf(c), "curriculum.checkin.title"), Data: fiber.Map{
		"Session": s.practicalViews(langOf(c), []curriculum.Session{x})[0], "Code": c.Query("code")}})
}

func (s *Server) practicalCheckinSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	lang := langOf(c)
	x, err := s.domains.Curriculum.Session(c.UserContext(), id)
	if err != nil {
		return err
	}
	data := fiber.Map{"Session": s.practicalViews(lang, []curriculum.Session{x})[0]}
	a, err := s.domains.Curriculum.Scan(c.UserContext(), principalOf(c).User.PersonID, id, c.FormValue("code"))
	if err != nil {
		f, err := s.failedForm(c, err, "code")
		if f == nil {
			return err
		}
		data["Error"] = f.Message
	} else {
		data["Result"] = a
		data["Credited"] = fmtHours(a.Credited)
		data["At"] = s.i18n.Times(lang).TimeOfDay(a.At)
	}
	return s.render(c, "sessions_checkin", page{Title: s.i18n.T(lang, "curriculum.checkin.title"), Data: data})
}

func (s *Server) centrePracticalPage(c *fiber.Ctx) error {
	start := clock.Today(time.Now()).AddDate(0, 0, 1) // tomorrow, in the product's zone
	return s.renderCentrePractical(c, c.Query("org"), formPage{Values: map[string]string{"occupation": "4-10-01-03:4", "capacity": "20", "hours": "3",
		"date": start.Format(time.DateOnly), "start": "09:00", "end": "12:00"}})
}

func (s *Server) renderCentrePractical(c *fiber.Ctx, orgCode string, fp formPage) error {
	lang := langOf(c)
	centres, err := s.myTrainingCentres(c, "sessions.manage", "read")
	if err != nil {
		return err
	}
	o, ok := pickTrainingCentre(centres, orgCode)
	if !ok {
		return failure.New(failure.Forbidden, "error.forbidden")
	}
	list, err := s.domains.Curriculum.Sessions(c.UserContext(), curriculum.SessionFilter{OrgID: o.ID, From: time.Now().Add(-7 * 24 * time.Hour)})
	if err != nil {
		return err
	}
	bases, err := s.accounts.TrainingBases(c.UserContext(), o.ID)
	if err != nil {
		return err
	}
	return s.render(c, "sessions_centre", page{Title: s.i18n.T(lang, "curriculum.centre_sessions.title"), Data: fiber.Map{
		"Centre": o, "Centres": centres, "Items": s.practicalViews(lang, list), "Bases": bases, "Form": fp, "Occupations": courseOccupations(lang)}})
}

func (s *Server) createPracticalSubmit(c *fiber.Ctx) error {
	centres, err := s.myTrainingCentres(c, "sessions.manage", "write")
	if err != nil {
		return err
	}
	o, ok := pickTrainingCentre(centres, c.FormValue("org"))
	if !ok {
		return failure.New(failure.Forbidden, "error.forbidden")
	}
	values := map[string]string{}
	for _, k := range []string{"title", "base_id", "occupation", "date", "start", "end", "capacity", "hours"} {
		values[k] = c.FormValue(k)
	}
	in := curriculum.SessionInput{Title: values["title"]}
	code, lvl, _ := strings.Cut(values["occupation"], ":")
	in.OccupationCode, in.Level = code, practicalAtoi(lvl)
	in.BaseID = int64(practicalAtoi(values["base_id"]))
	in.Capacity = practicalAtoi(values["capacity"])
	in.Hours, _ = strconv.ParseFloat(values["hours"], 64)
	var f failure.Fields
	starts, err1 := clock.Parse("2006-01-02 15:04", values["date"]+" "+values["start"])
	ends, err2 := clock.Parse("2006-01-02 15:04", values["date"]+" "+values["end"])
	if err1 != nil || err2 != nil {
		f.Add("date", "curriculum.times_invalid")
	}
	in.StartsAt, in.EndsAt = starts, ends
	err = f.Err()
	if err == nil {
		err = s.checkPracticalRefs(c, o, &in)
	}
	if err == nil {
		var x curriculum.Session
		if x, err = s.domains.Curriculum.CreateSession(c.UserContext(), principalOf(c).User.ID, o.ID, in); err == nil {
			return c.Redirect("/centre/sessions/"+strconv.FormatInt(x.ID, 10), fiber.StatusSeeOther)
		}
	}
	fp := formPage{Values: values}
	if ferr := s.formError(c, err, &fp); ferr != nil {
		return ferr
	}
	if fp.Errors["ends_at"] != "" {
		fp.Errors["date"] = fp.Errors["ends_at"]
	}
	status := c.Response().StatusCode()
	if rerr := s.renderCentrePractical(c, o.Code, fp); rerr != nil {
		return rerr
	}
	c.Status(status)
	return nil
}

func practicalAtoi(v string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(v))
	return n
}

func (s *Server) practicalSheetPage(c *fiber.Ctx) error {
	x, err := s.managedPractical(c, "read")
	if err != nil {
		return err
	}
	return s.renderPracticalSheet(c, x, "")
}

func (s *Server) renderPracticalSheet(c *fiber.Ctx, x curriculum.Session, message string) error {
	lang := langOf(c)
	list, err := s.domains.Curriculum.Signups(c.UserContext(), x.ID)
	if err != nil {
		return err
	}
	type row struct {
		curriculum.Signup
		In, Out string
	}
	rows := make([]row, len(list))
	for i, su := range list {
		rows[i] = row{Signup: su}
		if su.CheckedInAt != nil {
			rows[i].In = s.i18n.Times(lang).TimeOfDay(*su.CheckedInAt)
		}
		if su.CheckedOutAt != nil {
			rows[i].Out = s.i18n.Times(lang).TimeOfDay(*su.CheckedOutAt)
		}
	}
	return s.render(c, "sessions_sheet", page{Title: x.Title, Data: fiber.Map{"Session": s.practicalViews(lang, []curriculum.Session{x})[0], "Rows": rows,
		"Message": message, "CanWrite": s.allowedIn(c, "sessions.manage", "write", accounts.OrgDomain(x.OrgCode)) == nil}})
}

func (s *Server) practicalAttendanceSubmit(c *fiber.Ctx) error {
	x, err := s.managedPractical(c, "write")
	if err != nil {
		return err
	}
	person, _ := strconv.ParseInt(c.FormValue("person_id"), 10, 64)
	if _, err := s.domains.Curriculum.MarkAttendance(c.UserContext(), principalOf(c).User.ID, x.ID, person, c.FormValue("action")); err != nil {
		f, err := s.failedForm(c, err, "person_id", "action")
		if f == nil {
			return err
		}
		return s.renderPracticalSheet(c, x, f.Message)
	}
	return c.Redirect("/centre/sessions/"+strconv.FormatInt(x.ID, 10), fiber.StatusSeeOther)
}
