package server

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"shanyu/certificates"
)

// routesPKI registers what the built-in CA publishes at the URLs its certificates name: its CRL
// (CRL distribution points) and its certificate (caIssuers), both DER. They are public and cheap, on
// the lean chain of the public verification API (routesPublicAPI calls this).
func (s *Server) routesPKI() {
	for path, h := range map[string]fiber.Handler{"/pki/crl/:file": s.pkiCRL, "/pki/ca/:file": s.pkiCA} {
		s.register(fiber.MethodGet, path, public, scopePublic, false)
		s.app.Get(path, append(append([]fiber.Handler{}, s.basic...), h)...)
	}
}

func (s *Server) pkiCRL(c *fiber.Ctx) error {
	name, ok := strings.CutSuffix(c.Params("file"), ".crl")
	if !ok {
		return certificates.ErrNotFound
	}
	der, err := s.domains.Certificates.CRL(c.UserContext(), name)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pkix-crl")
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.Send(der)
}

func (s *Server) pkiCA(c *fiber.Ctx) error {
	name, ok := strings.CutSuffix(c.Params("file"), ".cer")
	if !ok {
		return certificates.ErrNotFound
	}
	der, err := s.domains.Certificates.CACertificate(c.UserContext(), name)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pkix-cert")
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	return c.Send(der)
}
