package server

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
	"shanyu/audits"
	"shanyu/internal/clock"
	"shanyu/internal/failure"
)

// routesPlanning registers the planning data's pages (一张网): population and institutions' places
// imported from a workbook (template, preview, commit in one transaction), and the targets per year
// edited on a form. A regulator writes inside the region it acts for; targets are the province's.
func (s *Server) routesPlanning() {
	write := can("policy.planning", "write")
	s.page("GET", "/dashboard/planning", write, scopeHeld, s.planningPage)
	s.page("GET", "/dashboard/planning/:kind/template.xlsx", write, scopeHeld, s.planningTemplate)
	// The township list is the province's: its upload comes first, so that :kind/import never sees it.
	s.page("POST", "/dashboard/planning/townships/import", write, scopeProvince, s.townshipsImport)
	s.page("POST", "/dashboard/planning/:kind/import", write, scopeHeld, s.planningImport)
	s.page("POST", "/dashboard/planning/targets", write, scopeProvince, s.planningTargets)
}

// planningRegion is the region the regulator acts for (regionInScope), checked for writing.
func (s *Server) planningRegion(c *fiber.Ctx) (string, error) {
	region, err := s.regionInScope(c)
	if err != nil {
		return region, err
	}
	return region, s.allowedIn(c, "policy.planning", "write", accounts.RegionDomain(region))
}

func (s *Server) planningHeadings(lang string) map[string]string {
	out := map[string]string{}
	for _, cols := range audits.PlanColumns {
		for _, k := range cols {
			out[k] = s.i18n.T(lang, "planning.col."+k)
		}
	}
	return out
}

func (s *Server) renderPlanning(c *fiber.Ctx, region string, d fiber.Map) error {
	targets, err := s.domains.Audits.AllTargets(c.UserContext())
	if err != nil {
		return err
	}
	var shown [][]string
	for _, t := range targets {
		pct := func(v float64) string { return strconv.FormatFloat(v*100, 'f', 0, 64) + "%" }
		shown = append(shown, []string{strconv.Itoa(t.Year), strconv.FormatFloat(t.PlacesPer1000, 'f', 2, 64), pct(t.PuhuiShare), pct(t.TownshipCoverage), pct(t.QualifiedRatio)})
	}
	d["Region"], d["Targets"], d["Kinds"] = region, shown, strings.Join(audits.PlanKinds, ", ")
	if err := s.planningTables(c, region, d); err != nil {
		return err
	}
	if _, bad := d["Failed"]; bad && c.Response().StatusCode() == fiber.StatusOK {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return s.render(c, "planning", page{Title: s.i18n.T(langOf(c), "planning.title"), Data: d})
}

func (s *Server) planningPage(c *fiber.Ctx) error {
	region, err := s.planningRegion(c)
	if err != nil {
		return err
	}
	return s.renderPlanning(c, region, fiber.Map{})
}

func (s *Server) planningTemplate(c *fiber.Ctx) error {
	if _, err := s.planningRegion(c); err != nil {
		return err
	}
	b, err := audits.PlanTemplate(c.Params("kind"), s.planningHeadings(langOf(c)))
	if err != nil {
		return err
	}
	attachment(c, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "planning-"+c.Params("kind")+".xlsx")
	return c.Send(b)
}

// planLine is one line of a planning preview: what it says and, for a bad line, every bad cell.
type planLine struct {
	Line     int
	Summary  string
	Messages []string
}

func (s *Server) planLines(lang string, rows []audits.PlanRow) (lines []planLine, good int) {
	for _, r := range rows {
		l := planLine{Line: r.Line}
		if r.Kind == audits.PlanTownships {
			l.Summary = r.Township.Code + " · " + r.Township.Name + " · " + r.Township.County
		} else if r.Code != "" {
			l.Summary = r.Code + " · " + strconv.Itoa(r.Places.Places) + " / " + strconv.Itoa(r.Places.Puhui) + " · " + r.Places.Township
		} else {
			l.Summary = r.Population.Region + " · " + strconv.Itoa(r.Population.Year) + " · " + strconv.FormatInt(r.Population.Population, 10)
		}
		for _, p := range r.Problems {
			l.Messages = append(l.Messages, s.i18n.T(lang, "planning.cell", p.Line, p.Column, s.i18n.T(lang, "planning.col."+p.Field), s.i18n.T(lang, p.Key, p.Args...)))
		}
		if len(l.Messages) == 0 {
			good++
		}
		if len(lines) < previewPage || len(l.Messages) > 0 {
			lines = append(lines, l)
		}
	}
	return lines, good
}

func (s *Server) planningImport(c *fiber.Ctx) error {
	region, err := s.planningRegion(c)
	if err != nil {
		return err
	}
	kind := c.Params("kind")
	if _, ok := audits.PlanColumns[kind]; !ok || kind == audits.PlanTownships { // townships: townshipsImport's own route
		return failure.New(failure.NotFound, "error.not_found")
	}
	d := fiber.Map{"Kind": kind}
	format, data, err := rosterFile(c)
	var rows []audits.PlanRow
	imported := 0
	commit := c.FormValue("commit") == "true"
	if err == nil {
		if commit {
			rows, imported, err = s.domains.Audits.ImportPlanning(c.UserContext(), principalOf(c).User.ID, kind, region, format, data)
		} else {
			rows, err = s.domains.Audits.ParsePlanning(c.UserContext(), kind, region, format, data)
		}
	}
	d["Imported"] = imported
	if err := s.planPreview(c, d, rows, commit, format, data, err); err != nil {
		return err
	}
	return s.renderPlanning(c, region, d)
}

// planPreview adds what a planning import (population, places, townships) previewed or committed
// to its page's data: the lines with their problems, the counts, the file to send again for the
// commit, and whether the form failed: a refused file (its message), or a preview with bad lines
// (422, the lines named). Any other error is returned, for handleError.
func (s *Server) planPreview(c *fiber.Ctx, d fiber.Map, rows []audits.PlanRow, commit bool, format string, data []byte, err error) error {
	lines, good := s.planLines(langOf(c), rows)
	d["Lines"], d["Good"], d["Bad"], d["Committed"] = lines, good, len(rows)-good, commit && err == nil
	d["Format"], d["Data"] = format, base64.StdEncoding.EncodeToString(data)
	if f, ferr := s.failedForm(c, err); ferr != nil {
		return ferr
	} else if f != nil {
		d["Failed"], d["Message"] = true, f.All("；")
	} else if len(rows) > good {
		d["Failed"] = true
	}
	return nil
}

// planningTargets sets a year's targets, which are the province's (scopeProvince); the page shown
// again is that of the region the regulator was looking at.
func (s *Server) planningTargets(c *fiber.Ctx) error {
	region, err := s.planningRegion(c)
	if err != nil {
		return err
	}
	num := func(k string) float64 {
		v, err := strconv.ParseFloat(strings.TrimSpace(c.FormValue(k)), 64)
		if err != nil || len(c.FormValue(k)) > 20 {
			return -1
		}
		return v
	}
	year, _ := strconv.Atoi(strings.TrimSpace(c.FormValue("year")))
	t := audits.IndicatorTargets{Year: year, PlacesPer1000: num("places_per_1000"), PuhuiShare: num("puhui_share") / 100,
		TownshipCoverage: num("township_coverage") / 100, QualifiedRatio: num("qualified_ratio") / 100}
	err = s.domains.Audits.SetTargets(c.UserContext(), principalOf(c).User.ID, t)
	d := fiber.Map{"Typed": fiber.Map{"year": c.FormValue("year"), "places_per_1000": c.FormValue("places_per_1000"), "puhui_share": c.FormValue("puhui_share"),
		"township_coverage": c.FormValue("township_coverage"), "qualified_ratio": c.FormValue("qualified_ratio")}}
	if f, ferr := s.failedForm(c, err, "year", "places_per_1000", "puhui_share", "township_coverage", "qualified_ratio"); ferr != nil {
		return ferr
	} else if f != nil {
		d["Failed"], d["TargetErrors"] = true, f.ByField()
	} else {
		d["TargetsSaved"] = true
	}
	return s.renderPlanning(c, region, d)
}

// planningRow is a line of the planning page's tables, with the link that edits it.
type planningRow struct {
	Code, Name, Year, Value, Puhui, Township, Kind, Edit string
	Demo                                                 bool
}

// planningTables adds the region's population figures (each region at county level and above, its
// latest year) and a page of its institutions' places to the planning page, each row with its edit link.
func (s *Server) planningTables(c *fiber.Ctx, region string, d fiber.Map) error {
	ctx, lang := c.UserContext(), langOf(c)
	regions, err := accounts.Regions(ctx, s.pool)
	if err != nil {
		return err
	}
	figures, err := s.domains.Audits.PopulationOf(ctx, region)
	if err != nil {
		return err
	}
	latest := map[string]audits.Population{}
	for _, p := range figures {
		if _, ok := latest[p.Region]; !ok {
			latest[p.Region] = p
		}
	}
	year := strconv.Itoa(clock.In(time.Now()).Year())
	var pop []planningRow
	for _, r := range regions {
		if len(r.Code) > 6 || !accounts.Contains(region, r.Code) {
			continue
		}
		row := planningRow{Code: r.Code, Name: regionName(lang, r), Value: s.i18n.T(lang, "planning.none"), Edit: "/dashboard/planning/population/" + r.Code + "?year=" + year}
		if p, ok := latest[r.Code]; ok {
			row.Year, row.Value, row.Demo = strconv.Itoa(p.Year), strconv.FormatInt(p.Population, 10), p.Demo
			row.Edit = "/dashboard/planning/population/" + r.Code + "?year=" + row.Year
		}
		pop = append(pop, row)
	}
	offset, err := queryInt(c, "offset", 0, 0, 1_000_000, "error.bad_request")
	if err != nil {
		return err
	}
	orgs, total, err := s.accounts.ListOrganisations(ctx, accounts.OrgFilter{Kind: accounts.KindInstitution, Region: region, Limit: planningPage, Offset: offset})
	if err != nil {
		return err
	}
	ids := make([]int64, len(orgs))
	for i, o := range orgs {
		ids[i] = o.ID
	}
	places, err := s.domains.Audits.PlacesOfMany(ctx, ids)
	if err != nil {
		return err
	}
	var inst []planningRow
	for _, o := range orgs {
		row := planningRow{Code: o.Code, Name: o.Name, Value: s.i18n.T(lang, "planning.none"), Edit: "/institutions/" + o.Code + "/places"}
		if p, ok := places[o.ID]; ok {
			row.Value, row.Puhui, row.Township, row.Demo = strconv.Itoa(p.Places), strconv.Itoa(p.Puhui), p.Township, p.Demo
			row.Kind = s.i18n.T(lang, "org.type."+p.Kind)
		}
		inst = append(inst, row)
	}
	d["PopulationRows"], d["PlacesRows"] = pop, inst
	if offset+planningPage < total {
		d["Next"] = offset + planningPage
	}
	province, err := s.provinceDomains(ctx)
	if err != nil {
		return err
	}
	d["Province"] = s.allowedIn(c, "policy.planning", "write", province...) == nil // offers the township upload
	return nil
}

// planningPage is how many institutions a page of the planning table shows.
const planningPage = 50
