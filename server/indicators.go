package server

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
	"shanyu/audits"
	"shanyu/internal/failure"
	"shanyu/internal/safecsv"
)

// routesIndicators registers the plan's indicators (一张网) per region as JSON: the table of a
// region and the regions below it, and one indicator's monthly trend towards its target.
func (s *Server) routesIndicators() {
	read := can("dashboard.overview", "read")
	s.api(apiRoute{Method: "GET", Path: "/api/v1/indicators", Scope: scopeHeld, Tag: "audits", Perm: read,
		Summary: "The plan's indicators of a region and of each region directly below it, with the year's targets",
		Query:   []string{"region", "year"}, Response: schemaOf[audits.IndicatorTable]()}, s.apiIndicators)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/indicators/trend", Scope: scopeHeld, Tag: "audits", Perm: read,
		Summary: "One indicator of a region month by month (kept snapshots and the live current month), with its target",
		Query:   []string{"region", "indicator", "months"},
		Response: object([]string{"region", "indicator", "target", "points"}, map[string]any{
			"region": str, "indicator": str, "target": nullable(map[string]any{"type": "number"}),
			"points": arrayOf[audits.TrendPoint]()})}, s.apiIndicatorTrend)
	s.page("GET", "/dashboard/indicators.csv", read, scopeHeld, s.indicatorsCSV)
	s.page("GET", "/dashboard/indicators.xlsx", read, scopeHeld, s.indicatorsXLSX)
	s.page("GET", "/dashboard/indicators.pdf", read, scopeHeld, s.indicatorsPDF)
}

// regionInScope is the region asked for (by default that of the caller's first regulator grant,
// else the province), checked against the caller's grants.
func (s *Server) regionInScope(c *fiber.Ctx) (string, error) {
	region := strings.TrimSpace(c.Query("region"))
	if region == "" {
		for _, g := range principalOf(c).Grants {
			if r, ok := strings.CutPrefix(g.Domain, "region:"); ok && g.Role == accounts.RoleRegulatorAdmin {
				region = r
				break
			}
		}
	}
	if region == "" {
		region = "33"
	}
	if len(region) > 6 {
		return "", failure.Field("region", "audits.region_unknown")
	}
	return region, s.allowedIn(c, "dashboard.overview", "read", accounts.RegionDomain(region))
}

// queryInt reads a bounded whole-number query parameter; def when it is absent.
func queryInt(c *fiber.Ctx, name string, def, lo, hi int, key string) (int, error) {
	v := strings.TrimSpace(c.Query(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, failure.Field(name, key)
	}
	return n, nil
}

// indicatorTable is the indicator table of the region asked for (in scope) and the year asked for.
func (s *Server) indicatorTable(c *fiber.Ctx) (audits.IndicatorTable, error) {
	region, err := s.regionInScope(c)
	if err != nil {
		return audits.IndicatorTable{}, err
	}
	year, err := queryInt(c, "year", 0, audits.MinYear, audits.MaxYear, "audits.indicator_year_invalid")
	if err != nil {
		return audits.IndicatorTable{}, err
	}
	return s.domains.Audits.Indicators(c.UserContext(), region, year)
}

func (s *Server) apiIndicators(c *fiber.Ctx) error {
	t, err := s.indicatorTable(c)
	if err != nil {
		return err
	}
	return c.JSON(t)
}

func (s *Server) apiIndicatorTrend(c *fiber.Ctx) error {
	region, err := s.regionInScope(c)
	if err != nil {
		return err
	}
	months, err := queryInt(c, "months", 12, 1, audits.MaxTrendMonths, "audits.indicator_months_invalid")
	if err != nil {
		return err
	}
	indicator := c.Query("indicator", "places_per_1000")
	points, err := s.domains.Audits.IndicatorTrend(c.UserContext(), region, indicator, months)
	if err != nil {
		return err
	}
	targets, err := s.domains.Audits.Targets(c.UserContext(), 0)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"region": region, "indicator": indicator, "target": targets.TargetOf(indicator), "points": points})
}

// indicatorsBelow is the region asked for (in scope) and every region below it, for the exports.
func (s *Server) indicatorsBelow(c *fiber.Ctx) (string, []audits.IndicatorRow, error) {
	region, err := s.regionInScope(c)
	if err != nil {
		return region, nil, err
	}
	year, err := queryInt(c, "year", 0, audits.MinYear, audits.MaxYear, "audits.indicator_year_invalid")
	if err != nil {
		return region, nil, err
	}
	rows, err := s.domains.Audits.IndicatorsBelow(c.UserContext(), region, year)
	return region, rows, err
}

func attachment(c *fiber.Ctx, contentType, name string) {
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"`, name))
}

// indicatorsCSV is one line per region (the region asked for and every one below it) with every
// indicator, headed by the JSON names; shares as fractions, empty where there is no denominator.
func (s *Server) indicatorsCSV(c *fiber.Ctx) error {
	region, rows, err := s.indicatorsBelow(c)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("\xef\xbb\xbf") // so that Excel reads UTF-8
	w := safecsv.NewWriter(&b)
	head := []string{"code", "name", "level", "population_demo"}
	for _, col := range audits.IndicatorColumns {
		head = append(head, col.Key)
	}
	_ = w.Write(head)
	for _, r := range rows {
		line := []string{r.Code, r.Name, r.Level, strconv.FormatBool(r.PopulationDemo)}
		for _, col := range audits.IndicatorColumns {
			line = append(line, col.Cell(r))
		}
		_ = w.Write(line)
	}
	w.Flush()
	attachment(c, "text/csv; charset=utf-8", "indicators-"+region+".csv")
	return c.SendString(b.String())
}

// indicatorHeadings are the column headings of the exports in lang.
func (s *Server) indicatorHeadings(lang string) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"code", "name", "level", "level.province", "level.city", "level.county", "title", "region", "year", "as_of", "target", "demo"} {
		out[k] = s.i18n.T(lang, "indicators."+k)
	}
	for _, col := range audits.IndicatorColumns {
		out[col.Key] = s.i18n.T(lang, "indicators.col."+col.Key)
	}
	return out
}

func (s *Server) indicatorsXLSX(c *fiber.Ctx) error {
	region, rows, err := s.indicatorsBelow(c)
	if err != nil {
		return err
	}
	b, err := audits.IndicatorsXLSX(rows, s.indicatorHeadings(langOf(c)))
	if err != nil {
		return err
	}
	attachment(c, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "indicators-"+region+".xlsx")
	return c.Send(b)
}

// indicatorsPDF is the printable one-page summary of a region.
func (s *Server) indicatorsPDF(c *fiber.Ctx) error {
	t, err := s.indicatorTable(c)
	if err != nil {
		return err
	}
	font, err := s.domains.Certificates.ReportFont()
	if err != nil {
		return err
	}
	lang := langOf(c)
	b, err := audits.RenderIndicatorSummary(font, t, audits.SummaryLabels{Words: s.indicatorHeadings(lang), Times: s.i18n.Times(lang)})
	if err != nil {
		return err
	}
	attachment(c, "application/pdf", "indicators-"+t.Region.Code+".pdf")
	return c.Send(b)
}
