package server

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"shanyu/audits"
)

// routesInspectionReport serves the signed PDF report of a finished inspection to the inspection's
// inspectors, the institution's admins and the regulator of its region. It carries names, so it is
// never on the public pages.
func (s *Server) routesInspectionReport() {
	s.api(apiRoute{Method: "GET", Path: "/api/v1/inspections/:id/report.pdf", Scope: byInspection("id"), Summary: "The signed PDF report of a finished inspection (its inspectors, the institution's admins, the regulator of the region)",
		Tag: "inspections", Perm: signedIn, Produces: "application/pdf"}, s.apiInspectionReport)
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

// inspectionReportLabels gives the report its words in Chinese and English from the locales.
// ReportLabels are the inspection report's words from the server's locales, for the wiring
// (app.Options) to give the audits domain when it is built.
func ReportLabels() (*audits.ReportLabels, error) {
	c, err := loadCatalog()
	if err != nil {
		return nil, err
	}
	l := inspectionReportLabels(c)
	return &l, nil
}

func inspectionReportLabels(c *catalog) audits.ReportLabels {
	words := func(lang string) audits.ReportWords {
		t := func(k string) string { return c.T(lang, "audits.report."+k) }
		prefixed := func(prefix string) map[string]string {
			m := map[string]string{}
			for k, v := range c.texts[lang] {
				if code, ok := strings.CutPrefix(k, prefix); ok {
					m[code] = v
				}
			}
			return m
		}
		return audits.ReportWords{
			Title: t("title"), InspectionNo: t("inspection_no"), Institution: t("institution"), Code: t("code"), Date: t("date"), Inspectors: t("inspectors"),
			Posts: t("posts"), None: t("none"), UnknownCodes: t("unknown_codes"),
			Classes: t("classes"), WithinRatio: t("within_ratio"), Children: t("children"), Caregivers: t("caregivers"),
			OverSize: t("over_size"), UnderStaffed: t("under_staffed"),
			Findings: t("findings"), Photos: t("photos"), PhotoNotPrinted: t("photo_not_printed"),
			Result: t("result"), Passed: t("passed"), NotPassed: t("not_passed"),
			StaffChecked: t("staff_checked"), PostsQualified: t("posts_qualified"), ClassesCounted: t("classes_counted"),
			Qualified: t("qualified"), NotQualified: t("not_qualified"), Footer: t("footer"),
			PostNames: prefixed("audits.post."), Groups: prefixed("audits.group."), Reasons: prefixed("audits.reason."), Severities: prefixed("audits.severity."),
			Explain: explainWords(c, lang), Absent: t("absent"), NotScanned: t("not_scanned"), Snapshot: t("snapshot"),
			Observed: t("observed"), Rule: t("rule"), CertStates: prefixed("audits.cert.state."), CertProblems: t("cert_problems"),
			NotIssuedHere: t("not_issued_here"), Faults: prefixed("audits.fault."), MissingPosts: t("missing_posts"),
			HomePoint: t("home_point"), CheckKinds: prefixed("audits.check.kind."), CheckIssues: prefixed("audits.check.issue."),
			Times: c.Times(lang),
		}
	}
	return audits.ReportLabels{ZH: words("zh-CN"), EN: words("en")}
}
