package server

import (
	"fmt"

	"github.com/gofiber/fiber/v2"
)

// routesInspectionReport serves the signed PDF report of a finished inspection to the inspection's
// inspectors, the institution's admins and the regulator of its region. It carries names, so it is
// never on the public pages.
func (s *Server) routesInspectionReport() {
	s.api(apiRoute{Method: "GET", Path: "/api/v1/inspections/:id/report.pdf", Summary: "The signed PDF report of a finished inspection (its inspectors, the institution's admins, the regulator of the region)",
		Tag: "inspections", Perm: signedIn}, s.apiInspectionReport)
}

func (s *Server) apiInspectionReport(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	x, err := s.domains.Audits.Inspection(ctx, id)
	if err != nil {
		return err
	}
	mine, err := s.domains.Audits.IsInspector(ctx, principalOf(c).User.ID, id)
	if err != nil {
		return err
	}
	if !mine {
		o, err := s.accounts.OrganisationByID(ctx, x.OrganisationID)
		if err != nil {
			return err
		}
		if err := s.allowedIn(c, "institution.inspection_report", "read", o.Domains()...); err != nil {
			return err
		}
	}
	rep, err := s.domains.Audits.InspectionReportPDF(ctx, id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="inspection-%d.pdf"`, id))
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set("X-Content-SHA256", fmt.Sprintf("%x", rep.SHA256))
	return c.Send(rep.PDF)
}
