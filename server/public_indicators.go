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

// The public page of the plan's headline indicators (一公开): the province's and each city's, or a
// city's and each of its counties', as tables only. Every figure is a count or a ratio over a region;
// nothing names a person, and the boundary map stays with the signed-in regulators (server/geo/LICENSE).

func (s *Server) routesPublicIndicators() {
	s.page("GET", "/public/indicators", public, scopePublic, s.publicIndicatorsPage)
}

// publicYearFirst is the first year a query may ask for: the plan's (十四五) first.
const publicYearFirst = 2021

type publicIndicatorsQuery struct {
	Region string
	Year   int // 0: the latest
}

type publicIndicatorsView struct {
	Query      publicIndicatorsQuery
	Errors     map[string]string
	Table      audits.IndicatorTable
	Indicators []indicatorView
	Regions    []accounts.Region // the province and its cities, for the picker
	YearLast   int
}

// readPublicIndicatorsQuery bounds what a stranger may ask: the province or one of its cities, and a
// year from the plan's first to next year.
func (s *Server) readPublicIndicatorsQuery(c *fiber.Ctx, last int) (publicIndicatorsQuery, error) {
	q := publicIndicatorsQuery{Region: strings.TrimSpace(c.Query("region", "33"))}
	var f failure.Fields
	if len(q.Region) != 2 && len(q.Region) != 4 || !regionCode.MatchString(q.Region) || !strings.HasPrefix(q.Region, "33") {
		f.Add("region", "public.indicators.region_invalid")
	} else if _, err := accounts.RegionByCode(c.UserContext(), s.pool, q.Region); err != nil {
		if !errors.Is(err, accounts.ErrRegionNotFound) {
			return q, err
		}
		f.Add("region", "public.indicators.region_invalid")
	}
	if v := c.Query("year"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < publicYearFirst || n > last {
			f.Add("year", "public.indicators.year_invalid", publicYearFirst, last)
		} else {
			q.Year = n
		}
	}
	return q, f.Err()
}

func (s *Server) publicIndicatorsPage(c *fiber.Ctx) error {
	ctx, lang := c.UserContext(), langOf(c)
	title := s.i18n.T(lang, "public.indicators.title")
	v := publicIndicatorsView{Indicators: headlineViews, YearLast: time.Now().In(clock.Zone()).Year() + 1}
	regions, err := accounts.Regions(ctx, s.pool)
	if err != nil {
		return err
	}
	for _, r := range regions {
		if r.Code == "33" || len(r.Code) == 4 && strings.HasPrefix(r.Code, "33") {
			v.Regions = append(v.Regions, r)
		}
	}
	q, err := s.readPublicIndicatorsQuery(c, v.YearLast)
	v.Query = q
	if err != nil {
		fp := formPage{}
		if ferr := s.formError(c, err, &fp); ferr != nil {
			return ferr
		}
		v.Errors = fp.Errors
		return s.render(c, "public_indicators", page{Title: title, Data: v})
	}
	if v.Table, err = s.domains.Audits.Indicators(ctx, q.Region, q.Year); err != nil {
		return err
	}
	return s.render(c, "public_indicators", page{Title: title, Data: v})
}
