package server

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
	"shanyu/curriculum"
	"shanyu/internal/failure"
)

func (s *Server) routesCurriculumCorrections() {
	s.page("GET", "/centre/hours/people/:person", can("courses.hours", "read"), scopeHeld, s.centreLedgerPage)
	s.page("POST", "/centre/hours/entries/:id/correct", can("courses.hours", "write"), byEntry("id"), s.correctHoursSubmit)
}

// ledgerCentre is the centre named by ?org= (or the form's org) among the caller's.
func (s *Server) ledgerCentre(c *fiber.Ctx, act, code string) (accounts.Organisation, error) {
	centres, err := s.myTrainingCentres(c, "courses.hours", act)
	if err != nil {
		return accounts.Organisation{}, err
	}
	o, ok := pickTrainingCentre(centres, code)
	if !ok {
		return o, failure.New(failure.Forbidden, "error.forbidden")
	}
	return o, nil
}

func (s *Server) centreLedgerPage(c *fiber.Ctx) error {
	person, err := idParam(c, "person")
	if err != nil {
		return err
	}
	o, err := s.ledgerCentre(c, "read", c.Query("org"))
	if err != nil {
		return err
	}
	return s.renderCentreLedger(c, o, person, 0, formPage{})
}

func (s *Server) renderCentreLedger(c *fiber.Ctx, o accounts.Organisation, person, formEntry int64, fp formPage) error {
	lang := langOf(c)
	l, err := s.domains.Curriculum.LedgerForCentre(c.UserContext(), o.ID, person)
	if err != nil {
		return err
	}
	type entryView struct {
		curriculum.Entry
		LevelName, Hours, Date string
		Original               bool
		Form                   formPage // the submitted form, on the entry it was for
	}
	entries := make([]entryView, len(l.Entries))
	for i, e := range l.Entries {
		entries[i] = entryView{Entry: e, LevelName: courseLevelName(lang, e.OccupationCode, e.Level), Hours: fmtHours(e.Hours),
			Date: s.i18n.Times(lang).DateTime(e.EarnedAt), Original: e.Kind != curriculum.KindCorrection}
		if e.ID == formEntry {
			entries[i].Form = fp
		}
	}
	return s.render(c, "centre_ledger", page{Title: s.i18n.T(lang, "curriculum.correction.title"), Data: fiber.Map{
		"Centre": o, "Ledger": l, "Total": fmtHours(l.Total), "Entries": entries, "Notice": curriculumNotice(s, c), "Message": fp.Message,
		"CanWrite": s.allowedIn(c, "courses.hours", "write", o.Domains()...) == nil,
	}})
}

func (s *Server) correctHoursSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	entry, err := s.domains.Curriculum.Entry(c.UserContext(), id)
	if err != nil {
		return err
	}
	o, err := s.entryCentre(c, id)
	if err != nil {
		return err
	}
	values := map[string]string{"hours": c.FormValue("hours"), "reason": c.FormValue("reason")}
	var f failure.Fields
	delta, perr := strconv.ParseFloat(strings.TrimSpace(strings.Replace(values["hours"], "＋", "+", 1)), 64)
	if perr != nil {
		f.Add("hours", "curriculum.number_invalid")
	}
	if c.FormValue("confirm") != "yes" {
		f.Add("confirm", "curriculum.correction.confirm_required")
	}
	err = f.Err()
	if err == nil {
		_, err = s.domains.Curriculum.Correct(c.UserContext(), principalOf(c).User.ID, id, delta, values["reason"])
	}
	if err == nil {
		return c.Redirect("/centre/hours/people/"+strconv.FormatInt(entry.PersonID, 10)+"?org="+o.Code+"&notice=curriculum.notice.corrected", fiber.StatusSeeOther)
	}
	fp := formPage{Values: values}
	if ferr := s.formError(c, err, &fp); ferr != nil {
		return ferr
	}
	status := c.Response().StatusCode()
	if rerr := s.renderCentreLedger(c, o, entry.PersonID, id, fp); rerr != nil {
		return rerr
	}
	c.Status(status)
	return nil
}
