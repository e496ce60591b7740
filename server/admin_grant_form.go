package server

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
)

// regionOption is a region in the grant form's tree: indented by its depth (33 → 3301 → 330106).
type regionOption struct {
	Code, Label string
}

// orgOption is an organisation the grant form's search offers (by name or code).
type orgOption struct {
	Code, Name string
}

// grantChoices are the regions, as a tree, and the organisations a grant may be made in.
func (s *Server) grantChoices(c *fiber.Ctx, lang string) ([]regionOption, []orgOption, error) {
	regions, err := accounts.Regions(c.UserContext(), s.pool)
	if err != nil {
		return nil, nil, err
	}
	var tree []regionOption
	for _, r := range regions {
		name := r.Name
		if lang == "en" && r.NameEN != "" {
			name = r.NameEN
		}
		depth := (len(r.Code) - 2) / 2
		if depth < 0 {
			depth = 0
		}
		tree = append(tree, regionOption{Code: r.Code, Label: strings.Repeat("　", depth) + name})
	}
	var orgs []orgOption
	page, _, err := s.accounts.ListOrganisations(c.UserContext(), accounts.OrgFilter{Limit: 500})
	if err != nil {
		return nil, nil, err
	}
	for _, o := range page {
		orgs = append(orgs, orgOption{Code: o.Code, Name: o.Name})
	}
	return tree, orgs, nil
}

// grantDomain is the domain the grant form chose: an organisation found by its code or name, a region
// from the tree, or everywhere; a typed domain (the API's way) is kept as it is.
func (s *Server) grantDomain(c *fiber.Ctx) string {
	if d := strings.TrimSpace(c.FormValue("domain")); d != "" {
		return d
	}
	switch c.FormValue("where") {
	case "org":
		v := strings.TrimSpace(c.FormValue("org"))
		if v == "" {
			return ""
		}
		if o, err := s.accounts.OrganisationByCode(c.UserContext(), v); err == nil {
			return "org:" + o.Code
		}
		if page, _, err := s.accounts.ListOrganisations(c.UserContext(), accounts.OrgFilter{Query: v, Limit: 2}); err == nil && len(page) == 1 {
			return "org:" + page[0].Code
		}
		return "org:" + v // unknown: refused by the grant, naming the field
	case "region":
		if v := strings.TrimSpace(c.FormValue("region")); v != "" {
			return "region:" + v
		}
	case "all":
		return "*"
	}
	return ""
}
