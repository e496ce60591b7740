package server

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
	"shanyu/audits"
	"shanyu/internal/failure"
)

// The regulator's dashboard (一张网) draws the plan's indicators (audits.Indicators) for a region's
// children: a map coloured against the target, a bar chart and the trend towards the target, each
// beside a table of the same figures, which is all a browser without JavaScript shows.

// indicatorView is an indicator the dashboard can colour its map by.
type indicatorView struct {
	Key     string // the field of the indicator JSON and the trend API's indicator
	Percent bool   // a share (a fraction), shown as a percentage
}

var indicatorViews = []indicatorView{
	{Key: "places_per_1000"},
	{Key: "puhui_share", Percent: true},
	{Key: "township_coverage", Percent: true},
	{Key: "qualified_ratio", Percent: true},
	{Key: "inspection_pass_rate", Percent: true},
	{Key: "exam_pass_rate", Percent: true},
}

// headlineViews are the five indicators of the public page (一公开).
var headlineViews = indicatorViews[:5]

func indicatorByKey(key string) (indicatorView, bool) {
	for _, v := range indicatorViews {
		if v.Key == key {
			return v, true
		}
	}
	return indicatorView{}, false
}

// Target is the plan's target for the year, or nil where it sets none.
func (v indicatorView) Target(t audits.IndicatorTargets) *float64 {
	x := t.TargetOf(v.Key)
	if x == nil || *x <= 0 {
		return nil
	}
	return x
}

// Value is the indicator of a row, or nil where its denominator is 0.
func (v indicatorView) Value(r audits.IndicatorRow) *float64 { return r.Value(v.Key) }

// Show writes a value as the tables show it: 4.52, 61.3%, or – where there is none.
func (v indicatorView) Show(x *float64) string {
	if x == nil {
		return "–"
	}
	if v.Percent {
		return Number(roundTo(*x*100, 1)) + "%"
	}
	return Number(*x)
}

// Status compares a value with the target: met, near (within a fifth of it), below, or none (no
// value or no target).
func (v indicatorView) Status(x *float64, t audits.IndicatorTargets) string {
	target := v.Target(t)
	switch {
	case x == nil || target == nil:
		return "none"
	case *x >= *target:
		return "met"
	case *x >= 0.8**target:
		return "near"
	}
	return "below"
}

// crumb is one region on the way from the highest the user may read to the one shown.
type crumb struct {
	Code, Name string
	Link       bool
}

// chartRow and chartData are what dashboard.js draws, as JSON in the page.
type chartRow struct {
	Code   string   `json:"code"`
	Name   string   `json:"name"`
	Value  *float64 `json:"value"`
	Status string   `json:"status"`
	Drill  bool     `json:"drill"`
}

type chartData struct {
	Region    string              `json:"region"`
	Indicator string              `json:"indicator"`
	Label     string              `json:"label"`
	Percent   bool                `json:"percent"`
	Target    *float64            `json:"target"`
	Geo       string              `json:"geo"` // the boundaries' URL, empty below a city
	Rows      []chartRow          `json:"rows"`
	Trend     []audits.TrendPoint `json:"trend"`
	Words     map[string]string   `json:"words"`
}

type dashboardView struct {
	Table        audits.IndicatorTable
	Indicator    indicatorView
	Indicators   []indicatorView
	Target       *float64
	Crumbs       []crumb
	Trend        []audits.TrendPoint
	Map          bool
	Chart        chartData
	Compliance   []audits.DashboardRow
	Region       string
	Forbidden    string   // the region asked for and refused
	Exports      []string // the extensions of the exports, and their labels
	ExportLabels []string
}

// dashboardMonths is how far back the trend line goes.
const dashboardMonths = 12

func (s *Server) dashboardPage(c *fiber.Ctx) error {
	ctx, lang := c.UserContext(), langOf(c)
	title := s.i18n.T(lang, "audits.dashboard.title")
	ind, ok := indicatorByKey(c.Query("indicator", indicatorViews[0].Key))
	if !ok {
		return failure.Field("indicator", "error.bad_request")
	}
	region, err := s.regionInScope(c)
	if failure.As(err).Kind == failure.Forbidden {
		// The page says whose figures these would be, and leads back to the user's own region.
		name := region
		if r, err := accounts.RegionByCode(ctx, s.pool, region); err == nil {
			name = regionName(lang, r)
		}
		c.Status(fiber.StatusForbidden)
		return s.render(c, "dashboard", page{Title: title, Data: dashboardView{Forbidden: name, Indicator: ind}})
	}
	if err != nil {
		return err
	}
	table, err := s.domains.Audits.Indicators(ctx, region, 0)
	if err != nil {
		return err
	}
	// The line is the kept monthly snapshots and, for this month, the table's own live row.
	trend, err := s.domains.Audits.TrendOf(ctx, table.Region, ind.Key, dashboardMonths, table.AsOf)
	if err != nil {
		return err
	}
	if trend == nil {
		trend = []audits.TrendPoint{} // for the script, a list even when empty
	}
	compliance, err := s.domains.Audits.Dashboard(ctx, region, time.Now())
	if err != nil {
		return err
	}
	v := dashboardView{Table: table, Indicator: ind, Indicators: indicatorViews, Target: ind.Target(table.Targets), Trend: trend,
		Compliance: compliance, Region: region, Crumbs: s.dashboardCrumbs(c, ctx, lang, region)}
	_, v.Map = s.geo[region]
	v.Chart = chartData{Region: region, Indicator: ind.Key, Label: s.i18n.T(lang, "dashboard.ind."+ind.Key), Percent: ind.Percent,
		Target: v.Target, Rows: []chartRow{}, Trend: trend, Words: map[string]string{}}
	if v.Map {
		v.Chart.Geo = "/dashboard/geo/" + region + ".json"
	}
	for _, r := range table.Rows {
		v.Chart.Rows = append(v.Chart.Rows, chartRow{Code: r.Code, Name: r.Name, Value: ind.Value(r), Status: ind.Status(ind.Value(r), table.Targets), Drill: r.HasChildren})
	}
	for _, w := range []string{"target", "met", "near", "below", "none", "no_data"} {
		v.Chart.Words[w] = s.i18n.T(lang, "dashboard."+w)
	}
	v.Exports, v.ExportLabels = []string{"csv", "xlsx", "pdf"}, []string{"CSV", "Excel", "PDF"}
	return s.render(c, "dashboard", page{Title: title, Data: v})
}

// dashboardCrumbs is the way down to region, from the province; a region the user may not read is
// named without a link (the Ningbo regulator sees 浙江省 › 宁波市, neither a link), and so is the
// region shown.
func (s *Server) dashboardCrumbs(c *fiber.Ctx, ctx context.Context, lang, region string) []crumb {
	var out []crumb
	for n := 2; n <= len(region); n += 2 {
		code := region[:n]
		r, err := accounts.RegionByCode(ctx, s.pool, code)
		name := code
		if err == nil {
			name = regionName(lang, r)
		} else if !errors.Is(err, accounts.ErrRegionNotFound) {
			continue
		}
		out = append(out, crumb{Code: code, Name: name, Link: n < len(region) && s.allowedIn(c, "dashboard.overview", "read", accounts.RegionDomain(code)) == nil})
	}
	return out
}

func regionName(lang string, r accounts.Region) string {
	if lang == "en" && r.NameEN != "" {
		return r.NameEN
	}
	return r.Name
}
