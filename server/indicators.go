package server

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
	"shanyu/audits"
	"shanyu/internal/failure"
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

func (s *Server) apiIndicators(c *fiber.Ctx) error {
	region, err := s.regionInScope(c)
	if err != nil {
		return err
	}
	year, err := queryInt(c, "year", 0, 2000, 2100, "audits.indicator_year_invalid")
	if err != nil {
		return err
	}
	t, err := s.domains.Audits.Indicators(c.UserContext(), region, year)
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
