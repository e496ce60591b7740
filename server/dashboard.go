package server

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/audits"
	"shanyu/internal/safecsv"
)

// routesDashboard registers the regulator's dashboard (一张网): per region with drill-down, as a
// page (dashboard_view.go) with the plan's indicators on a map and charts, the compliance figures
// below them, JSON and CSV; and the boundaries the map is drawn from (dashboard_geo.go).
func (s *Server) routesDashboard() {
	read := can("dashboard.overview", "read")
	s.api(apiRoute{Method: "GET", Path: "/api/v1/dashboard", Scope: scopeHeld, Summary: "Institutions, places, staff, qualified share, compliance and inspections per sub-region", Tag: "audits", Perm: read,
		Query: []string{"region"}, Response: props(map[string]any{"region": str, "rows": arr(object([]string{"key", "name"}, map[string]any{"key": str, "name": str}))})}, s.apiDashboard)
	s.page("GET", "/dashboard", read, scopeHeld, s.dashboardPage)
	s.page("GET", "/dashboard.csv", read, scopeHeld, s.dashboardCSV)
	s.page("GET", "/dashboard/geo/:region.json", read, byRegion("region"), s.dashboardGeo)
}

// dashboardRegion is the region asked for, in the caller's scope (regionInScope), and its rows.
func (s *Server) dashboardRegion(c *fiber.Ctx) (string, []audits.DashboardRow, error) {
	region, err := s.regionInScope(c)
	if err != nil {
		return region, nil, err
	}
	rows, err := s.domains.Audits.Dashboard(c.UserContext(), region, time.Now())
	return region, rows, err
}

func (s *Server) apiDashboard(c *fiber.Ctx) error {
	region, rows, err := s.dashboardRegion(c)
	if err != nil {
		return err
	}
	out := []fiber.Map{}
	for _, r := range rows {
		out = append(out, fiber.Map{"key": r.Key, "name": r.Name, "institutions": r.Institutions, "places": r.Places, "children": r.Children,
			"staff": r.Staff, "posts": r.Posts, "qualified_posts": r.QualifiedPosts, "qualified_percent": r.QualifiedPercent(),
			"compliant": r.Compliant, "not_permitted": r.NotPermitted, "expiring": r.Expiring, "inspected": r.Inspected, "passed": r.Passed})
	}
	return c.JSON(fiber.Map{"region": region, "rows": out})
}

func (s *Server) dashboardCSV(c *fiber.Ctx) error {
	region, rows, err := s.dashboardRegion(c)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("\xef\xbb\xbf") // so that Excel reads UTF-8
	w := safecsv.NewWriter(&b)
	_ = w.Write([]string{"key", "name", "institutions", "places", "children", "staff", "posts", "qualified_posts", "qualified_percent", "compliant", "not_permitted", "expiring", "inspected", "passed"})
	for _, r := range rows {
		_ = w.Write([]string{r.Key, r.Name, strconv.Itoa(r.Institutions), strconv.Itoa(r.Places), strconv.Itoa(r.Children), strconv.Itoa(r.Staff),
			strconv.Itoa(r.Posts), strconv.Itoa(r.QualifiedPosts), strconv.Itoa(r.QualifiedPercent()), strconv.Itoa(r.Compliant),
			strconv.Itoa(r.NotPermitted), strconv.Itoa(r.Expiring), strconv.Itoa(r.Inspected), strconv.Itoa(r.Passed)})
	}
	w.Flush()
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="dashboard-%s.csv"`, region))
	return c.SendString(b.String())
}
