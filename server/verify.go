package server

import (
	"errors"
	"io"
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/certificates"
	"shanyu/internal/failure"
	"strings"
)

// verificationSchema describes a verification's JSON for the API documentation.
var verificationSchema = object([]string{"status"}, map[string]any{
	"status": map[string]any{"type": "string", "enum": []string{"valid", "expired", "suspended", "revoked", "unknown"}},
	"number": str, "masked_name": str, "photo_url": str, "occupation_code": str, "occupation": str, "occupation_en": str,
	"level": map[string]any{"type": "integer"}, "level_name": str, "level_name_en": str, "hours": map[string]any{"type": "number"},
	"issuer": str, "issuer_en": str, "issued_on": str, "expires_on": str, "status_since": str, "version": map[string]any{"type": "integer"},
	"key_id": str, "pdf_sha256": str, "superseded": map[string]any{"type": "boolean"}, "verified_on": str, "verified_at": str,
	"file": map[string]any{"type": "string", "enum": []string{certificates.FileIssued, certificates.FileChangedAfterSigning},
		"description": "PDF check only: the upload is exactly the issued file, or begins with it and was changed after signing"},
})

// routesPublicAPI registers the public read-only JSON endpoints that phones and offline verifiers
// call the most: verification by QR code, the signing keys and the status lists. They run the basic
// middleware and the API's security headers only: no session cookie is read for them, no CSRF check,
// no compression of a few hundred bytes. New calls it before adding the rest of the middleware.
func (s *Server) routesPublicAPI() {
	s.publicAPI(apiRoute{Method: "GET", Path: "/api/v1/verify/:code", Scope: scopePublic, Summary: "Verify a certificate by the code in its QR link", Tag: "verify",
		Query: []string{"inspection"}, Response: verificationSchema}, s.apiVerify)
	s.publicAPI(apiRoute{Method: "GET", Path: "/api/v1/status-lists/:purpose", Scope: scopePublic, Summary: "W3C Bitstring Status List credential (VC-JWT), purpose revocation or suspension", Tag: "verify", Produces: "application/vc+jwt"}, s.apiStatusList)
	s.publicAPI(apiRoute{Method: "GET", Path: "/.well-known/jwks.json", Scope: scopePublic, Summary: "Every certificate signing public key, active or retired (JWK set)", Tag: "verify", Response: schemaOf[certificates.JWKSet]()}, s.jwks)
	s.routesPKI()
	s.routesIssuers()
}

// routesVerify registers the rest of the public verification of certificates: the verification page,
// manual look-up and PDF upload.
func (s *Server) routesVerify() {
	s.api(apiRoute{Method: "POST", Path: "/api/v1/verify/lookup", Scope: scopePublic, Summary: "Verify by number, full name and last 4 of the ID number (rate-limited)", Tag: "verify",
		Request: object([]string{"number", "name", "id_last4"}, map[string]any{"number": str, "name": str, "id_last4": str}), Response: verificationSchema}, s.apiVerifyLookup)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/verify/pdf", Scope: scopePublic, Summary: "Is this PDF (multipart field file, or the raw body) a genuine unmodified certificate?", Tag: "verify",
		Response: verificationSchema}, s.apiVerifyPDF)

	s.page("GET", "/v/:code", public, scopePublic, s.verifyPage)
	s.page("GET", "/v/:code/photo", public, scopePublic, s.verifyPhoto)
	s.page("GET", "/verify", public, scopePublic, s.verifyFormPage)
	s.page("POST", "/verify", public, scopePublic, s.verifyLookupSubmit)
	s.page("POST", "/verify/code", public, scopePublic, s.verifyCodeSubmit)
	s.page("POST", "/verify/pdf", public, scopePublic, s.verifyPDFSubmit)
}

type verificationJSON struct {
	Status         string  `json:"status"`
	Number         string  `json:"number,omitempty"`
	MaskedName     string  `json:"masked_name,omitempty"`
	PhotoURL       string  `json:"photo_url,omitempty"`
	OccupationCode string  `json:"occupation_code,omitempty"`
	Occupation     string  `json:"occupation,omitempty"`
	OccupationEN   string  `json:"occupation_en,omitempty"`
	Level          int     `json:"level,omitempty"`
	LevelName      string  `json:"level_name,omitempty"`
	LevelNameEN    string  `json:"level_name_en,omitempty"`
	Hours          float64 `json:"hours,omitempty"`
	Issuer         string  `json:"issuer,omitempty"`
	IssuerEN       string  `json:"issuer_en,omitempty"`
	IssuedOn       string  `json:"issued_on,omitempty"`
	ExpiresOn      string  `json:"expires_on,omitempty"`
	StatusSince    string  `json:"status_since,omitempty"`
	Version        int     `json:"version,omitempty"`
	KeyID          string  `json:"key_id,omitempty"`
	PDFSHA256      string  `json:"pdf_sha256,omitempty"`
	Superseded     bool    `json:"superseded,omitempty"`
	File           string  `json:"file,omitempty"`
	VerifiedOn     string  `json:"verified_on"`
	VerifiedAt     string  `json:"verified_at"`
}

func (s *Server) toVerificationJSON(c *fiber.Ctx, v certificates.Verification) verificationJSON {
	j := verificationJSON{Status: v.State, VerifiedOn: c.Hostname(), VerifiedAt: time.Now().UTC().Format(time.RFC3339)}
	if v.State == certificates.StateUnknown {
		return j
	}
	j.Number, j.MaskedName, j.OccupationCode, j.Level, j.Hours = v.Number, v.MaskedName, v.OccupationCode, v.Level, v.Hours
	j.Occupation, j.OccupationEN, j.LevelName, j.LevelNameEN = v.Titles.OccupationZH, v.Titles.OccupationEN, v.Titles.LevelZH, v.Titles.LevelEN
	j.Issuer, j.IssuerEN = v.IssuerName, v.IssuerNameEN
	j.IssuedOn, j.ExpiresOn = v.IssuedOn.Format(time.DateOnly), v.ExpiresOn.Format(time.DateOnly)
	if v.StatusSince != nil {
		j.StatusSince = v.StatusSince.UTC().Format(time.RFC3339)
	}
	j.Version, j.KeyID, j.PDFSHA256, j.Superseded, j.File = v.Version, v.KeyID, v.PDFSHA256, v.Superseded, v.File
	if v.HasPhoto {
		j.PhotoURL = "/v/" + v.Code + "/photo"
	}
	return j
}

func (s *Server) how(c *fiber.Ctx, method string) certificates.How {
	return certificates.How{Method: method, IP: s.clientIP(c), InspectionRef: c.Query("inspection")}
}

func (s *Server) apiVerify(c *fiber.Ctx) error {
	v, err := s.domains.Certificates.Verify(c.UserContext(), c.Params("code"), s.how(c, certificates.MethodAPI))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(s.toVerificationJSON(c, v))
}

type lookupBody struct {
	Number  string `json:"number" form:"number"`
	Name    string `json:"name" form:"name"`
	IDLast4 string `json:"id_last4" form:"id_last4"`
}

func (s *Server) apiVerifyLookup(c *fiber.Ctx) error {
	var b lookupBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	v, err := s.domains.Certificates.Lookup(c.UserContext(), b.Number, b.Name, b.IDLast4, s.how(c, certificates.MethodLookup))
	if err != nil {
		return err
	}
	return c.JSON(s.toVerificationJSON(c, v))
}

// maxVerifyPDF bounds a PDF sent for verification: Shanyu's certificates are far smaller, and a
// larger file is refused rather than cut (a cut file would only ever be "not found").
const maxVerifyPDF = 4 << 20

// uploadedPDF reads a PDF from the multipart field "file" or, failing that, the raw body.
func uploadedPDF(c *fiber.Ctx) ([]byte, error) {
	tooLarge := failure.Field("file", "certificates.pdf_too_large")
	if fh, err := c.FormFile("file"); err == nil {
		if fh.Size > maxVerifyPDF {
			return nil, tooLarge
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxVerifyPDF+1))
		if err == nil && len(b) > maxVerifyPDF {
			return nil, tooLarge
		}
		return b, err
	}
	if body := c.Body(); len(body) > maxVerifyPDF {
		return nil, tooLarge
	} else if len(body) > 0 {
		return append([]byte(nil), body...), nil
	}
	return nil, failure.Field("file", "certificates.pdf_missing")
}

func (s *Server) apiVerifyPDF(c *fiber.Ctx) error {
	b, err := uploadedPDF(c)
	if err != nil {
		return err
	}
	v, err := s.domains.Certificates.CheckPDF(c.UserContext(), b, s.how(c, certificates.MethodPDF))
	if err != nil {
		return err
	}
	return c.JSON(s.toVerificationJSON(c, v))
}

func (s *Server) apiStatusList(c *fiber.Ctx) error {
	jwt, err := s.domains.Certificates.StatusListCredential(c.UserContext(), c.Params("purpose"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/vc+jwt")
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.SendString(jwt)
}

func (s *Server) jwks(c *fiber.Ctx) error {
	set, err := certificates.JWKS(c.UserContext(), s.pool)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	c.Set(fiber.HeaderContentType, "application/jwk-set+json")
	return c.JSON(set)
}

// verifyView is what the verification page shows.
type verifyView struct {
	V           verificationJSON
	Host        string
	Method      string
	At          string // when, as people read it
	StatusSince string
	IssuedOn    string
	ExpiresOn   string
}

func (s *Server) renderVerification(c *fiber.Ctx, v certificates.Verification, method string) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	j := s.toVerificationJSON(c, v)
	times := s.i18n.Times(langOf(c))
	view := verifyView{V: j, Host: c.Hostname(), Method: method, At: times.Precise(time.Now())}
	if v.State != certificates.StateUnknown {
		view.IssuedOn, view.ExpiresOn = times.CivilDate(v.IssuedOn), times.CivilDate(v.ExpiresOn)
	}
	if v.StatusSince != nil {
		view.StatusSince = times.DateTime(*v.StatusSince)
	}
	return s.render(c, "verify", page{Title: s.i18n.T(langOf(c), "verify.state."+v.State), Data: view})
}

func (s *Server) verifyPage(c *fiber.Ctx) error {
	v, err := s.domains.Certificates.Verify(c.UserContext(), c.Params("code"), s.how(c, certificates.MethodPage))
	if err != nil {
		return err
	}
	if v.State == certificates.StateUnknown {
		c.Status(fiber.StatusNotFound)
	}
	return s.renderVerification(c, v, certificates.MethodPage)
}

func (s *Server) verifyPhoto(c *fiber.Ctx) error {
	b, ct, err := s.domains.Certificates.Photo(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderCacheControl, "private, max-age=300")
	return c.Send(b)
}

func (s *Server) verifyFormPage(c *fiber.Ctx) error {
	return s.render(c, "verify_lookup", page{Title: s.i18n.T(langOf(c), "verify.lookup.title"), Data: formPage{}})
}

func (s *Server) verifyLookupSubmit(c *fiber.Ctx) error {
	var b lookupBody
	if err := c.BodyParser(&b); err != nil {
		return failure.New(failure.Invalid, "error.bad_request").Wrap(err)
	}
	v, err := s.domains.Certificates.Lookup(c.UserContext(), b.Number, b.Name, b.IDLast4, s.how(c, certificates.MethodLookup))
	if err != nil {
		fp := formPage{Values: map[string]string{"number": b.Number, "name": b.Name, "id_last4": b.IDLast4}}
		if ferr := s.verifyFormError(c, err, &fp); ferr != nil {
			return ferr
		}
		return s.render(c, "verify_lookup", page{Title: s.i18n.T(langOf(c), "verify.lookup.title"), Data: fp})
	}
	return s.renderVerification(c, v, certificates.MethodLookup)
}

// verificationCode reads what someone typed or pasted as a 核验码: the code itself (in any case, with
// spaces or dashes), or the whole verification link (…/v/{code}#token).
func verificationCode(raw string) string {
	v := strings.TrimSpace(raw)
	if i := strings.LastIndex(v, "/v/"); i >= 0 {
		v = v[i+3:]
	}
	if i := strings.IndexAny(v, "#?/"); i >= 0 {
		v = v[:i]
	}
	return strings.ToLower(strings.NewReplacer(" ", "", "-", "", "\u3000", "").Replace(v))
}

// verifyCodeSubmit checks a certificate by the 核验码 printed under its QR code. A code of the wrong
// shape or one that matches nothing comes back on the form, as typed, with the message beside it.
func (s *Server) verifyCodeSubmit(c *fiber.Ctx) error {
	lang := langOf(c)
	raw := c.FormValue("code")
	code := verificationCode(raw)
	fp := formPage{Values: map[string]string{"code": raw}}
	if len(code) != certificates.CodeLength || strings.Trim(code, "abcdefghijklmnopqrstuvwxyz234567") != "" {
		fp.Errors = map[string]string{"code": s.i18n.T(lang, "verify.code.invalid", certificates.CodeLength)}
		c.Status(fiber.StatusUnprocessableEntity)
		return s.render(c, "verify_lookup", page{Title: s.i18n.T(lang, "verify.lookup.title"), Data: fp})
	}
	v, err := s.domains.Certificates.Verify(c.UserContext(), code, s.how(c, certificates.MethodLookup))
	if err != nil {
		return err
	}
	if v.State == certificates.StateUnknown {
		fp.Errors = map[string]string{"code": s.i18n.T(lang, "verify.code.unknown")}
		c.Status(fiber.StatusNotFound)
		return s.render(c, "verify_lookup", page{Title: s.i18n.T(lang, "verify.lookup.title"), Data: fp})
	}
	return s.renderVerification(c, v, certificates.MethodLookup)
}

func (s *Server) verifyPDFSubmit(c *fiber.Ctx) error {
	b, err := uploadedPDF(c)
	if err == nil {
		var v certificates.Verification
		if v, err = s.domains.Certificates.CheckPDF(c.UserContext(), b, s.how(c, certificates.MethodPDF)); err == nil {
			return s.renderVerification(c, v, certificates.MethodPDF)
		}
	}
	// The file's refusal belongs beside the file field, not above the look-up by number.
	fp := formPage{}
	if ferr := s.verifyFormError(c, err, &fp); ferr != nil {
		return ferr
	}
	if fp.Errors["file"] == "" {
		fp.Errors = map[string]string{"file": fp.Message}
	}
	fp.Message = ""
	return s.render(c, "verify_lookup", page{Title: s.i18n.T(langOf(c), "verify.lookup.title"), Data: fp})
}

// verifyFormError puts a refused look-up or upload into fp; "no match" is a message, not an error
// page, and reads the same whatever did not match. Other errors pass.
func (s *Server) verifyFormError(c *fiber.Ctx, err error, fp *formPage) error {
	switch {
	case errors.Is(err, certificates.ErrPDFUnknown):
		fp.Message = s.i18n.T(langOf(c), "certificates.pdf_unknown")
		c.Status(fiber.StatusNotFound)
	case errors.Is(err, certificates.ErrNoMatch):
		fp.Message = s.i18n.T(langOf(c), "certificates.no_match")
		c.Status(fiber.StatusNotFound)
	default:
		return s.formError(c, err, fp)
	}
	return nil
}
