package server

import (
	"strconv"
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
		s.register(fiber.MethodHead, path, public, scopePublic, false) // app.Get answers HEAD too
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

// routesIssuers registers what makes an Open Badges credential resolvable by a stranger from the
// credential alone: the issuer's Profile at issuer.id, the public key at the JWT's kid, and the
// achievement at its id. Public JSON on the lean chain (routesPublicAPI calls this).
func (s *Server) routesIssuers() {
	// Outside /api, so not in the OpenAPI document (docs/certificates.md describes them).
	for path, h := range map[string]fiber.Handler{"/issuers/:code": s.issuerProfile, "/keys/:kid": s.publicKey, "/achievements/:occupation/:level": s.achievement} {
		s.register(fiber.MethodGet, path, public, scopePublic, false)
		s.app.Get(path, append(append([]fiber.Handler{}, s.basic...), apiSecurityHeaders, h)...)
	}
}

func (s *Server) issuerProfile(c *fiber.Ctx) error {
	p, err := s.domains.Certificates.IssuerProfile(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.JSON(p)
}

func (s *Server) publicKey(c *fiber.Ctx) error {
	k, err := s.domains.Certificates.PublicKey(c.UserContext(), c.Params("kid"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	c.Set(fiber.HeaderContentType, "application/jwk+json")
	return c.JSON(k, "application/jwk+json")
}

func (s *Server) achievement(c *fiber.Ctx) error {
	level, err := strconv.Atoi(c.Params("level"))
	if err != nil {
		return certificates.ErrNotFound
	}
	a, err := s.domains.Certificates.AchievementJSON(c.Params("occupation"), level)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.JSON(a)
}
