package server

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
	"shanyu/audits"
	"shanyu/internal/clock"
	"shanyu/internal/failure"
)

// routesPlanningEdit registers the planning data's one-row edit pages: a region's population for a
// year (county level and above, in the regulator's region), an institution's places, 普惠 places,
// township and 5+X kind (scoped by the institution), and the province's township list (its upload
// is registered with the planning imports, ahead of theirs).
func (s *Server) routesPlanningEdit() {
	write := can("policy.planning", "write")
	s.page("GET", "/dashboard/planning/townships", write, scopeProvince, s.townshipsPage)
	s.page("GET", "/dashboard/planning/population/:region", write, byRegion("region"), s.populationEditPage)
	s.page("POST", "/dashboard/planning/population/:region", write, byRegion("region"), s.populationEdit)
	s.page("GET", "/institutions/:code/places", write, byOrg("code"), s.placesEditPage)
	s.page("POST", "/institutions/:code/places", write, byOrg("code"), s.placesEdit)
}

// populationRegion is the region in the path (the guard has checked that it exists and lies in the
// caller's region); population is kept at county level and above, so a township is not found.
func (s *Server) populationRegion(c *fiber.Ctx) (accounts.Region, error) {
	code := c.Params("region")
	if len(code) > 6 {
		return accounts.Region{}, failure.New(failure.NotFound, "error.not_found")
	}
	return accounts.RegionByCode(c.UserContext(), s.pool, code)
}

func (s *Server) populationEditPage(c *fiber.Ctx) error {
	r, err := s.populationRegion(c)
	if err != nil {
		return err
	}
	year, err := queryInt(c, "year", clock.In(time.Now()).Year(), audits.MinYear, audits.MaxYear, "audits.plan.year_invalid")
	if err != nil {
		return err
	}
	typed := map[string]string{"year": strconv.Itoa(year)}
	if p, err := s.domains.Audits.PopulationAt(c.UserContext(), r.Code, year); err == nil {
		typed["population"] = strconv.FormatInt(p.Population, 10)
	} else if !errors.Is(err, audits.ErrNotFound) {
		return err
	}
	return s.renderPopulationEdit(c, r, typed, nil, false)
}

func (s *Server) renderPopulationEdit(c *fiber.Ctx, r accounts.Region, typed map[string]string, errs map[string]string, saved bool) error {
	lang := langOf(c)
	return s.render(c, "planning_population", page{Title: s.i18n.T(lang, "planning.population.edit"), Data: fiber.Map{
		"Region": r, "Name": regionName(lang, r), "Typed": typed, "Errors": errs, "Saved": saved}})
}

// formNumber reads a whole number typed into a form: bounded in length, -1 when it is not one (the
// domain's check names the field).
func formNumber(c *fiber.Ctx, key string) int64 {
	v := strings.ReplaceAll(strings.TrimSpace(c.FormValue(key)), ",", "")
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || len(v) > 20 {
		return -1
	}
	return n
}

func (s *Server) populationEdit(c *fiber.Ctx) error {
	r, err := s.populationRegion(c)
	if err != nil {
		return err
	}
	typed := map[string]string{"year": c.FormValue("year"), "population": c.FormValue("population")}
	p := audits.Population{Region: r.Code, Year: int(formNumber(c, "year")), Population: formNumber(c, "population")}
	err = s.domains.Audits.SetPopulation(c.UserContext(), principalOf(c).User.ID, p)
	f, ferr := s.failedForm(c, err, "year", "population")
	if ferr != nil {
		return ferr
	}
	if f != nil {
		return s.renderPopulationEdit(c, r, typed, f.ByField(), false)
	}
	return s.renderPopulationEdit(c, r, typed, nil, true)
}

// placesInstitution is the institution in the path (the guard has checked the caller's scope).
func (s *Server) placesInstitution(c *fiber.Ctx) (accounts.Organisation, error) {
	return s.institution(c, "policy.planning", "write")
}

func (s *Server) placesEditPage(c *fiber.Ctx) error {
	o, err := s.placesInstitution(c)
	if err != nil {
		return err
	}
	p, err := s.domains.Audits.PlacesOf(c.UserContext(), o.ID)
	if errors.Is(err, audits.ErrNotFound) {
		p.Kind = o.InstitutionType
	} else if err != nil {
		return err
	}
	typed := map[string]string{"places": "", "puhui_places": "", "township_code": p.Township, "kind": p.Kind}
	if err == nil {
		typed["places"], typed["puhui_places"] = strconv.Itoa(p.Places), strconv.Itoa(p.Puhui)
	}
	return s.renderPlacesEdit(c, o, typed, nil, false)
}

func (s *Server) renderPlacesEdit(c *fiber.Ctx, o accounts.Organisation, typed map[string]string, errs map[string]string, saved bool) error {
	lang := langOf(c)
	towns, err := s.domains.Audits.Townships(c.UserContext(), o.RegionCode)
	if err != nil {
		return err
	}
	return s.render(c, "planning_places", page{Title: s.i18n.T(lang, "planning.places.edit"), Data: fiber.Map{
		"Org": o, "Typed": typed, "Errors": errs, "Saved": saved, "Townships": towns, "Kinds": audits.PlanKinds}})
}

func (s *Server) placesEdit(c *fiber.Ctx) error {
	o, err := s.placesInstitution(c)
	if err != nil {
		return err
	}
	typed := map[string]string{"places": c.FormValue("places"), "puhui_places": c.FormValue("puhui_places"),
		"township_code": c.FormValue("township_code"), "kind": c.FormValue("kind")}
	p := audits.Places{OrganisationID: o.ID, Places: int(min(formNumber(c, "places"), audits.MaxPlaces+1)),
		Puhui: int(min(formNumber(c, "puhui_places"), audits.MaxPlaces+1)), Township: strings.TrimSpace(typed["township_code"]), Kind: typed["kind"]}
	if p.Places < 0 || p.Puhui < 0 {
		p.Places, p.Puhui = max(p.Places, -1), max(p.Puhui, -1)
	}
	if len(p.Township) > 12 {
		p.Township = "x" // refused by the check, naming the field
	}
	err = s.domains.Audits.SetPlaces(c.UserContext(), principalOf(c).User.ID, o.RegionCode, p)
	f, ferr := s.failedForm(c, err, "places", "puhui_places", "township_code", "kind")
	if ferr != nil {
		return ferr
	}
	if f != nil {
		return s.renderPlacesEdit(c, o, typed, f.ByField(), false)
	}
	return s.renderPlacesEdit(c, o, typed, nil, true)
}

// townshipsPage is the province's township list (scopeProvince: the guard has checked the caller
// writes planning data for the whole province).
func (s *Server) townshipsPage(c *fiber.Ctx) error {
	return s.renderTownships(c, fiber.Map{})
}

func (s *Server) renderTownships(c *fiber.Ctx, d fiber.Map) error {
	counts, err := s.domains.Audits.TownshipCount(c.UserContext(), "33")
	if err != nil {
		return err
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	d["Total"], d["Counties"] = total, len(counts)
	if _, bad := d["Failed"]; bad && c.Response().StatusCode() == fiber.StatusOK {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return s.render(c, "planning_townships", page{Title: s.i18n.T(langOf(c), "planning.townships"), Data: d})
}

// townshipsImport previews or commits a township file.
func (s *Server) townshipsImport(c *fiber.Ctx) error {
	replace := c.FormValue("replace") == "true"
	commit := c.FormValue("commit") == "true"
	d := fiber.Map{"Replace": replace}
	format, data, err := rosterFile(c)
	var plan audits.TownshipPlan
	if err == nil {
		if commit {
			plan, err = s.domains.Audits.ImportTownships(c.UserContext(), principalOf(c).User.ID, format, data, replace)
		} else {
			plan, err = s.domains.Audits.ParseTownships(c.UserContext(), format, data, replace)
		}
	}
	d["Plan"] = plan
	if err := s.planPreview(c, d, plan.Rows, commit, format, data, err); err != nil {
		return err
	}
	return s.renderTownships(c, d)
}
