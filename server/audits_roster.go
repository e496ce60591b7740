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
	s.page("POST", "/institutions/:code/assignments", write, byOrg("code"), s.rosterForm("assigned", "posts", s.assignmentAdd))
	s.page("POST", "/institutions/:code/assignments/:id", write, byOrg("code"), s.rosterForm("assignment_changed", "posts", s.assignmentChange))
	s.page("POST", "/institutions/:code/assignments/:id/delete", write, byOrg("code"), s.rosterForm("unassigned", "posts", s.assignmentRemove))
	s.page("POST", "/institutions/:code/classes", write, byOrg("code"), s.rosterForm("class_saved", "classes", s.classSave))
	s.page("POST", "/institutions/:code/classes/:id/delete", write, byOrg("code"), s.rosterForm("class_removed", "classes", s.classRemove))
}

// rosterFormFields are the fields of the roster forms (a class, a post), in the order they appear.
var rosterFormFields = []string{"name", "type", "children", "roster_id", "post", "class"}

// rosterEdit is one roster form's change, made by actor in the institution o.
type rosterEdit func(c *fiber.Ctx, o accounts.Organisation, actor int64) error

// rosterForm answers a roster form: it finds the institution and checks the admin's right in it, makes
// the change, then goes back to the compliance page with the notice (at anchor), or shows the page
// again with the translated error of a mistake the admin can fix (and its status).
func (s *Server) rosterForm(notice, anchor string, edit rosterEdit) fiber.Handler {
	return func(c *fiber.Ctx) error {
		o, err := s.institution(c, "institution.roster", "write")
		if err != nil {
			return err
		}
		err = edit(c, o, principalOf(c).User.ID)
		if err == nil {
			return c.Redirect("/institutions/"+o.Code+"/compliance?notice=audits.notice."+notice+"#"+anchor, fiber.StatusSeeOther)
		}
		f, err := s.failedForm(c, err, rosterFormFields...)
		if f == nil {
			return err
		}
		again := formAgain{Section: anchor}
		if c.FormValue("id") == "" && c.Params("id") == "" { // the form that adds a class or a post
			again.Values = map[string]string{}
			for _, k := range rosterFormFields {
				again.Values[k] = c.FormValue(k)
			}
		}
		return s.renderCompliance(c, o, "", f.First(), again)
	}
}

func (s *Server) assignmentAdd(c *fiber.Ctx, o accounts.Organisation, actor int64) error {
	rosterID, _ := strconv.ParseInt(c.FormValue("roster_id"), 10, 64)
	return s.domains.Audits.AssignPost(c.UserContext(), actor, o.ID, rosterID, c.FormValue("post"), c.FormValue("class"))
}

func (s *Server) assignmentChange(c *fiber.Ctx, o accounts.Organisation, actor int64) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return s.domains.Audits.ChangeAssignment(c.UserContext(), actor, o.ID, id, c.FormValue("post"), c.FormValue("class"))
}

func (s *Server) assignmentRemove(c *fiber.Ctx, o accounts.Organisation, actor int64) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return s.domains.Audits.RemoveAssignment(c.UserContext(), actor, o.ID, id)
}

func (s *Server) classSave(c *fiber.Ctx, o accounts.Organisation, actor int64) error {
	id, _ := strconv.ParseInt(c.FormValue("id"), 10, 64)
	children, err := strconv.Atoi(c.FormValue("children"))
	if err != nil {
		return failure.Field("children", "audits.children_invalid")
	}
	_, err = s.domains.Audits.EditClass(c.UserContext(), actor, audits.Class{ID: id, OrganisationID: o.ID,
		Name: c.FormValue("name"), Type: c.FormValue("type"), Children: children})
	return err
}

func (s *Server) classRemove(c *fiber.Ctx, o accounts.Organisation, actor int64) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return s.domains.Audits.RemoveClass(c.UserContext(), actor, o.ID, id)
}
