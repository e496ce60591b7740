package server

import (
	"archive/zip"
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
	"shanyu/certificates"
	"shanyu/internal/clock"
	"shanyu/internal/failure"
)

// routesCertificates registers the certificates pages and JSON endpoints (owned by the certificates work).
func (s *Server) routesCertificates() {
	s.routesVerify()
	s.api(apiRoute{Method: "GET", Path: "/api/v1/certificates", Scope: scopeHeld, Summary: "Certificates the caller may see: their own, their centre's or their region's", Tag: "certificates",
		Perm: signedIn, Query: []string{"limit", "offset", "status", "centre", "q", "expiring_days"},
		Response: itemsOf[certJSON](paging)}, s.apiListCertificates)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/certificates/archive", Scope: scopeHeld, Summary: "Signed PDFs of the listed certificates as a zip", Tag: "certificates",
		Perm: signedIn, Query: []string{"status", "centre", "q", "expiring_days"}, Produces: "application/zip"}, s.apiCertificateArchive)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/certificates/:number", Scope: byCertificate("number"), Summary: "One certificate", Tag: "certificates", Perm: signedIn, Response: schemaOf[certJSON]()}, s.apiGetCertificate)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/certificates/:number/pdf", Scope: byCertificate("number"), Summary: "The signed certificate PDF", Tag: "certificates", Perm: signedIn, Produces: "application/pdf"}, s.apiCertificatePDF)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/certificates/:number/ob3", Scope: byCertificate("number"), Summary: "The certificate as an Open Badges 3.0 credential (VC-JWT)", Tag: "certificates", Perm: signedIn, Produces: "application/vc+jwt"}, s.apiCertificateBadge)
	reason := object([]string{"reason"}, map[string]any{"reason": str})
	for _, action := range []string{certificates.ActionRevoke, certificates.ActionSuspend, certificates.ActionReinstate} {
		s.api(apiRoute{Method: "POST", Path: "/api/v1/certificates/:number/" + action, Scope: byCertificate("number"), Summary: "Certificate status: " + action + " (issuing centre or regulator)", Tag: "certificates",
			Perm: signedIn, Request: reason, Response: schemaOf[certJSON]()}, s.apiChangeStatus(action))
	}
	s.api(apiRoute{Method: "POST", Path: "/api/v1/certificates/:number/renew", Scope: byCertificate("number"), Summary: "Renew once the continuing-education hours are met", Tag: "certificates",
		Perm: signedIn, Response: schemaOf[certJSON]()}, s.apiRenew)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/centres/:code/certificate-progress", Scope: byOrg("code"), Summary: "Issuance requests of a centre by state", Tag: "certificates",
		Perm: signedIn, Response: props(map[string]any{"pending": integer, "issued": integer, "failed": integer})}, s.apiCentreProgress)

	s.page("GET", "/certificates/mine", signedIn, scopeOwn, s.myCertificatesPage)
	s.page("GET", "/certificates", signedIn, scopeHeld, s.certificatesPage)
	s.page("GET", "/certificates/:number", signedIn, byCertificate("number"), s.certificatePage)
	s.page("POST", "/certificates/:number/status", signedIn, byCertificate("number"), s.certificateStatusSubmit)
	s.page("POST", "/certificates/:number/renew", signedIn, byCertificate("number"), s.certificateRenewSubmit)
}

// certificateScope is what the caller may list: their own certificates, plus those of every centre
// or region where they hold certificate management.
func (s *Server) certificateScope(c *fiber.Ctx) certificates.Scope {
	p := principalOf(c)
	sc := certificates.Scope{PersonID: p.User.PersonID}
	for _, g := range p.Grants {
		if !s.access.Allowed(*p, "certificates.list", "read", g.Domain) {
			continue
		}
		switch {
		case g.Domain == "*":
			sc.All = true
		case strings.HasPrefix(g.Domain, "org:"):
			sc.Centres = append(sc.Centres, strings.TrimPrefix(g.Domain, "org:"))
		case strings.HasPrefix(g.Domain, "region:"):
			sc.Regions = append(sc.Regions, strings.TrimPrefix(g.Domain, "region:"))
		}
	}
	return sc
}

// manages reports whether the caller manages certificates anywhere (a centre, a region).
func managesAny(sc certificates.Scope) bool {
	return sc.All || len(sc.Centres) > 0 || len(sc.Regions) > 0
}

// certificateFor loads a certificate the caller may see (its holder, or staff of its centre or
// region); anyone else is told it does not exist.
func (s *Server) certificateFor(c *fiber.Ctx) (certificates.Certificate, error) {
	cert, err := s.domains.Certificates.ByNumber(c.UserContext(), c.Params("number"))
	if err != nil {
		return cert, err
	}
	if principalOf(c).User.PersonID == cert.PersonID || s.mayManage(c, cert, "read") {
		return cert, nil
	}
	return certificates.Certificate{}, certificates.ErrNotFound
}

// mayManage: centre staff of the issuing centre, or the regulator of its region.
func (s *Server) mayManage(c *fiber.Ctx, cert certificates.Certificate, act string) bool {
	p := principalOf(c)
	return p != nil && s.access.Allowed(*p, "certificates.status", act, accounts.OrgDomain(cert.CentreCode), accounts.RegionDomain(cert.CentreRegion))
}

func (s *Server) certFilter(c *fiber.Ctx) certificates.Filter {
	limit, offset := pageParams(c)
	f := certificates.Filter{Scope: s.certificateScope(c), State: c.Query("status"), Centre: c.Query("centre"), Query: c.Query("q"), Limit: limit, Offset: offset}
	if d, err := strconv.Atoi(c.Query("expiring_days")); err == nil && d > 0 && d <= 3660 {
		f.ExpiresUntil = clock.Today(time.Now()).AddDate(0, 0, d)
	}
	return f
}

type certJSON struct {
	Number         string  `json:"number"`
	Code           string  `json:"code"`
	Status         string  `json:"status"`
	HolderName     string  `json:"holder_name,omitempty"`
	OccupationCode string  `json:"occupation_code"`
	Level          int     `json:"level"`
	Hours          float64 `json:"hours"`
	Centre         string  `json:"centre"`
	CentreName     string  `json:"centre_name"`
	IssuedOn       string  `json:"issued_on"`
	ExpiresOn      string  `json:"expires_on"`
	Version        int     `json:"version"`
	StatusReason   string  `json:"status_reason,omitempty"`
	VerifyURL      string  `json:"verify_url"`
	PDFURL         string  `json:"pdf_url"`
	OB3URL         string  `json:"ob3_url"`
}

func (s *Server) toCertJSON(c certificates.Certificate, holder string) certJSON {
	return certJSON{Number: c.Number, Code: c.Code, Status: c.State, HolderName: holder, OccupationCode: c.OccupationCode, Level: c.Level,
		Hours: c.Hours, Centre: c.CentreCode, CentreName: c.CentreName, IssuedOn: c.IssuedOn.Format(time.DateOnly), ExpiresOn: c.ExpiresOn.Format(time.DateOnly),
		Version: c.Version, StatusReason: c.StatusReason, VerifyURL: s.cfg.BaseURL + "/v/" + c.Code,
		PDFURL: "/api/v1/certificates/" + c.Number + "/pdf", OB3URL: "/api/v1/certificates/" + c.Number + "/ob3"}
}

func (s *Server) apiListCertificates(c *fiber.Ctx) error {
	f := s.certFilter(c)
	items, total, err := s.domains.Certificates.List(c.UserContext(), f)
	if err != nil {
		return err
	}
	out := make([]certJSON, len(items))
	for i, l := range items {
		out[i] = s.toCertJSON(l.Certificate, l.HolderName)
	}
	return c.JSON(fiber.Map{"items": out, "total": total, "limit": f.Limit, "offset": f.Offset})
}

func (s *Server) apiGetCertificate(c *fiber.Ctx) error {
	cert, err := s.certificateFor(c)
	if err != nil {
		return err
	}
	return c.JSON(s.toCertJSON(cert, ""))
}

func (s *Server) apiCertificatePDF(c *fiber.Ctx) error {
	cert, err := s.certificateFor(c)
	if err != nil {
		return err
	}
	b, err := s.domains.Certificates.PDF(c.UserContext(), cert.Number)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+certificates.DownloadName(cert.Number, cert.Version)+`"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.Send(b)
}

func (s *Server) apiCertificateBadge(c *fiber.Ctx) error {
	cert, err := s.certificateFor(c)
	if err != nil {
		return err
	}
	jwt, err := s.domains.Certificates.OpenBadge(c.UserContext(), cert.Number)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/vc+jwt")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="openbadge-`+cert.Number+`.jwt"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.SendString(jwt)
}

// apiCertificateArchive zips the signed PDFs of up to 500 listed certificates; centre and region
// staff only (a caregiver downloads their own one by one).
func (s *Server) apiCertificateArchive(c *fiber.Ctx) error {
	f := s.certFilter(c)
	if !managesAny(f.Scope) {
		return failure.New(failure.Forbidden, "error.forbidden")
	}
	f.PersonID, f.Limit, f.Offset = 0, 500, 0
	items, _, err := s.domains.Certificates.List(c.UserContext(), f)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, l := range items {
		b, err := s.domains.Certificates.PDF(c.UserContext(), l.Number)
		if err != nil {
			return err
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: certificates.DownloadName(l.Number, l.Version), Method: zip.Store, Modified: l.IssuedOn})
		if err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="certificates-`+clock.Format(time.Now(), "20060102")+`.zip"`)
	return c.Send(buf.Bytes())
}

func (s *Server) changeStatus(c *fiber.Ctx, action, reason string) (certificates.Certificate, error) {
	cert, err := s.certificateFor(c)
	if err != nil {
		return cert, err
	}
	if !s.mayManage(c, cert, "write") {
		return cert, failure.New(failure.Forbidden, "error.forbidden")
	}
	return s.domains.Certificates.ChangeStatus(c.UserContext(), principalOf(c).User.ID, s.clientIP(c), cert.Number, action, reason)
}

func (s *Server) apiChangeStatus(action string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var b struct {
			Reason string `json:"reason"`
		}
		if err := bindJSON(c, &b); err != nil {
			return err
		}
		cert, err := s.changeStatus(c, action, b.Reason)
		if err != nil {
			return err
		}
		return c.JSON(s.toCertJSON(cert, ""))
	}
}

func (s *Server) renew(c *fiber.Ctx) (certificates.Certificate, error) {
	cert, err := s.certificateFor(c)
	if err != nil {
		return cert, err
	}
	return s.domains.Certificates.Renew(c.UserContext(), principalOf(c).User.ID, cert.Number)
}

func (s *Server) apiRenew(c *fiber.Ctx) error {
	cert, err := s.renew(c)
	if err != nil {
		return err
	}
	return c.JSON(s.toCertJSON(cert, ""))
}

func (s *Server) apiCentreProgress(c *fiber.Ctx) error {
	org, err := s.accounts.OrganisationByCode(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	if err := s.allowedIn(c, "certificates.list", "read", org.Domains()...); err != nil {
		return err
	}
	p, err := s.domains.Certificates.CentreProgress(c.UserContext(), org.ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"pending": p.Pending, "issued": p.Issued, "failed": p.Failed})
}

// certRow is a certificate as the pages show it.
type certRow struct {
	certificates.Certificate
	Holder   string
	Titles   certificates.Titles
	ShareURL string
	Soon     bool // valid, and expires within expiringSoon
}

// expiringSoon is how far ahead lists flag a valid certificate as expiring.
const expiringSoon = 90 * 24 * time.Hour

func (s *Server) certRows(items []certificates.Listed) []certRow {
	rows := make([]certRow, len(items))
	for i, l := range items {
		rows[i] = certRow{Certificate: l.Certificate, Holder: l.HolderName, Titles: l.Titles(), ShareURL: s.cfg.BaseURL + "/v/" + l.Code,
			Soon: l.State == certificates.StateValid && l.ExpiresOn.Before(clock.Today(time.Now()).Add(expiringSoon))}
	}
	return rows
}

func (s *Server) myCertificatesPage(c *fiber.Ctx) error {
	items, _, err := s.domains.Certificates.List(c.UserContext(), certificates.Filter{Scope: certificates.Scope{PersonID: principalOf(c).User.PersonID}, Limit: 100})
	if err != nil {
		return err
	}
	return s.render(c, "cert_mine", page{Title: s.i18n.T(langOf(c), "certificates.mine.title"), Data: fiber.Map{"Items": s.certRows(items)}})
}

type centreProgress struct {
	Code, Name string
	certificates.Progress
}

func (s *Server) certificatesPage(c *fiber.Ctx) error {
	f := s.certFilter(c)
	if !managesAny(f.Scope) {
		return c.Redirect("/certificates/mine", fiber.StatusSeeOther)
	}
	f.PersonID = 0
	items, total, err := s.domains.Certificates.List(c.UserContext(), f)
	if err != nil {
		return err
	}
	var progress []centreProgress
	for _, code := range f.Centres {
		org, err := s.accounts.OrganisationByCode(c.UserContext(), code)
		if err != nil {
			continue
		}
		p, err := s.domains.Certificates.CentreProgress(c.UserContext(), org.ID)
		if err != nil {
			return err
		}
		progress = append(progress, centreProgress{Code: code, Name: org.Name, Progress: p})
	}
	q := c.Request().URI().QueryArgs()
	return s.render(c, "cert_list", page{Title: s.i18n.T(langOf(c), "certificates.list.title"), Data: fiber.Map{
		"Items": s.certRows(items), "Total": total, "Progress": progress, "Query": string(q.QueryString()),
		"Status": f.State, "Q": f.Query, "Expiring": c.Query("expiring_days"),
	}})
}

func (s *Server) certificatePage(c *fiber.Ctx) error {
	return s.renderCertificate(c, formPage{})
}

func (s *Server) renderCertificate(c *fiber.Ctx, fp formPage) error {
	cert, err := s.certificateFor(c)
	if err != nil {
		return err
	}
	own := principalOf(c).User.PersonID == cert.PersonID
	data := fiber.Map{"C": certRow{Certificate: cert, Titles: cert.Titles(), ShareURL: s.cfg.BaseURL + "/v/" + cert.Code},
		"Own": own, "Manage": s.mayManage(c, cert, "write"), "Form": fp}
	if rc, err := s.domains.Certificates.RenewalStatus(c.UserContext(), cert); err == nil {
		data["Renewal"] = rc
	}
	if n, err := s.domains.Certificates.VerificationCount(c.UserContext(), cert.ID); err == nil {
		data["Verifications"] = n
	}
	// Whose certificate it is, and every status change (who, when, why), before anyone acts on it.
	people, err := s.accounts.People(c.UserContext(), []int64{cert.PersonID}, false)
	if err != nil {
		return err
	}
	if p, ok := people[cert.PersonID]; ok {
		data["Holder"], data["HolderID"] = p.Name, accounts.MaskIDNumber(p.IDLast4)
	}
	events, _, err := s.accounts.ListAudit(c.UserContext(), accounts.AuditFilter{Subject: "certificate:" + cert.Number, Action: "certificate.", Limit: 100})
	if err != nil {
		return err
	}
	type historyRow struct{ At, Action, Actor, Reason string }
	history := make([]historyRow, 0, len(events))
	actors := map[int64]string{}
	for _, e := range events {
		h := historyRow{At: s.i18n.Times(langOf(c)).DateTime(e.At), Action: strings.TrimPrefix(e.Event.Action, "certificate.")}
		if id := e.Event.ActorID; id != 0 {
			if _, ok := actors[id]; !ok {
				if u, err := s.accounts.UserByID(c.UserContext(), id); err == nil {
					actors[id] = u.Name
				}
			}
			h.Actor = actors[id]
		}
		if r, ok := e.Event.Details["reason"].(string); ok {
			h.Reason = r
		}
		history = append(history, h)
	}
	data["History"] = history
	return s.render(c, "cert_detail", page{Title: cert.Number, Data: data})
}

func (s *Server) certificateStatusSubmit(c *fiber.Ctx) error {
	action := c.FormValue("action")
	if _, err := s.changeStatus(c, action, c.FormValue("reason")); err != nil {
		fp := formPage{Values: map[string]string{"reason": c.FormValue("reason")}}
		if ferr := s.formError(c, err, &fp); ferr != nil {
			return ferr
		}
		fp.Errors["reason"] = fp.Message
		return s.renderCertificate(c, fp)
	}
	return c.Redirect("/certificates/"+c.Params("number")+"?done="+action, fiber.StatusSeeOther)
}

func (s *Server) certificateRenewSubmit(c *fiber.Ctx) error {
	if _, err := s.renew(c); err != nil {
		fp := formPage{}
		if ferr := s.formError(c, err, &fp); ferr != nil {
			return ferr
		}
		return s.renderCertificate(c, fp)
	}
	return c.Redirect("/certificates/"+c.Params("number")+"?done=renew", fiber.StatusSeeOther)
}
