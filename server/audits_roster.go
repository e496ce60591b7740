package server

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
	"shanyu/audits"
	"shanyu/internal/failure"
)

// routesRosterEdit registers the forms of the compliance page that an institution's admins use to
// keep their roster's posts and their classes; every change is audit-logged by the audits domain.
func (s *Server) routesRosterEdit() {
	write := can("institution.roster", "write")
	s.page("POST", "/institutions/:code/assignments", write, s.assignmentAddSubmit)
	s.page("POST", "/institutions/:code/assignments/:id", write, s.assignmentChangeSubmit)
	s.page("POST", "/institutions/:code/assignments/:id/delete", write, s.assignmentRemoveSubmit)
	s.page("POST", "/institutions/:code/classes", write, s.classSaveSubmit)
	s.page("POST", "/institutions/:code/classes/:id/delete", write, s.classRemoveSubmit)
}

// rosterEdited answers a roster form: back to the compliance page with a notice, or the page again
// with the translated error of a mistake the admin can fix (and its status).
func (s *Server) rosterEdited(c *fiber.Ctx, o accounts.Organisation, err error, notice, anchor string) error {
	if err == nil {
		return c.Redirect("/institutions/"+o.Code+"/compliance?notice=audits.notice."+notice+"#"+anchor, fiber.StatusSeeOther)
	}
	e := failure.As(err)
	if e == nil || (e.Kind != failure.Invalid && e.Kind != failure.Conflict) {
		return err
	}
	msg := s.i18n.T(langOf(c), e.Msg.Key, e.Msg.Args...)
	for _, f := range e.Fields {
		msg = s.i18n.T(langOf(c), f.Key, f.Args...)
	}
	c.Status(kindStatus[e.Kind])
	return s.renderCompliance(c, o, "", msg)
}

func (s *Server) assignmentAddSubmit(c *fiber.Ctx) error {
	o, err := s.institution(c, "institution.roster", "write")
	if err != nil {
		return err
	}
	rosterID, _ := strconv.ParseInt(c.FormValue("roster_id"), 10, 64)
	err = s.domains.Audits.AssignPost(c.UserContext(), principalOf(c).User.ID, o.ID, rosterID, c.FormValue("post"), c.FormValue("class"))
	return s.rosterEdited(c, o, err, "assigned", "posts")
}

func (s *Server) assignmentChangeSubmit(c *fiber.Ctx) error {
	o, err := s.institution(c, "institution.roster", "write")
	if err != nil {
		return err
	}
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	err = s.domains.Audits.ChangeAssignment(c.UserContext(), principalOf(c).User.ID, o.ID, id, c.FormValue("post"), c.FormValue("class"))
	return s.rosterEdited(c, o, err, "assignment_changed", "posts")
}

func (s *Server) assignmentRemoveSubmit(c *fiber.Ctx) error {
	o, err := s.institution(c, "institution.roster", "write")
	if err != nil {
		return err
	}
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	err = s.domains.Audits.RemoveAssignment(c.UserContext(), principalOf(c).User.ID, o.ID, id)
	return s.rosterEdited(c, o, err, "unassigned", "posts")
}

func (s *Server) classSaveSubmit(c *fiber.Ctx) error {
	o, err := s.institution(c, "institution.roster", "write")
	if err != nil {
		return err
	}
	id, _ := strconv.ParseInt(c.FormValue("id"), 10, 64)
	children, cerr := strconv.Atoi(c.FormValue("children"))
	if cerr != nil {
		return s.rosterEdited(c, o, failure.Field("children", "audits.children_invalid"), "", "")
	}
	_, err = s.domains.Audits.EditClass(c.UserContext(), principalOf(c).User.ID, audits.Class{ID: id, OrganisationID: o.ID,
		Name: c.FormValue("name"), Type: c.FormValue("type"), Children: children})
	return s.rosterEdited(c, o, err, "class_saved", "classes")
}

func (s *Server) classRemoveSubmit(c *fiber.Ctx) error {
	o, err := s.institution(c, "institution.roster", "write")
	if err != nil {
		return err
	}
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	err = s.domains.Audits.RemoveClass(c.UserContext(), principalOf(c).User.ID, o.ID, id)
	return s.rosterEdited(c, o, err, "class_removed", "classes")
}
