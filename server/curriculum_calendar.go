package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/curriculum"
	"shanyu/internal/clock"
	"shanyu/internal/failure"
)

func (s *Server) routesCurriculumCalendar() {
	s.page("GET", "/centre/calendar", can("sessions.manage", "read"), scopeHeld, s.practicalWeekPage)
}

// practicalWeekPage shows a centre's practical sessions for one week (?week=any date in it), Monday
// first: a seven-column grid on wide screens, a list of days on phones.
func (s *Server) practicalWeekPage(c *fiber.Ctx) error {
	lang := langOf(c)
	centres, err := s.myTrainingCentres(c, "sessions.manage", "read")
	if err != nil {
		return err
	}
	o, ok := pickTrainingCentre(centres, c.Query("org"))
	if !ok {
		return failure.New(failure.Forbidden, "error.forbidden")
	}
	day := time.Now()
	if q := c.Query("week"); q != "" {
		d, err := clock.Parse(time.DateOnly, q)
		if err != nil {
			return failure.New(failure.NotFound, "error.not_found")
		}
		day = d
	}
	monday := curriculum.WeekStart(day, clock.Zone())
	days, err := s.domains.Curriculum.SessionWeek(c.UserContext(), o.ID, monday, clock.Zone())
	if err != nil {
		return err
	}
	type dayView struct {
		Label, Date string
		Today       bool
		Sessions    []practicalView
		Times       []string
	}
	today := clock.Format(time.Now(), time.DateOnly)
	views := make([]dayView, len(days))
	for i, d := range days {
		v := dayView{Label: s.i18n.T(lang, "curriculum.weekday."+d.Date.Weekday().String()), Date: d.Date.Format(time.DateOnly),
			Today: d.Date.Format(time.DateOnly) == today, Sessions: s.practicalViews(lang, d.Sessions)}
		for _, x := range d.Sessions {
			v.Times = append(v.Times, s.i18n.Times(lang).TimeOfDay(x.StartsAt)+"–"+s.i18n.Times(lang).TimeOfDay(x.EndsAt))
		}
		views[i] = v
	}
	return s.render(c, "sessions_week", page{Title: s.i18n.T(lang, "curriculum.calendar.title"), Data: fiber.Map{
		"Centre": o, "Days": views, "From": monday.Format(time.DateOnly), "To": monday.AddDate(0, 0, 6).Format(time.DateOnly),
		"Prev": monday.AddDate(0, 0, -7).Format(time.DateOnly), "Next": monday.AddDate(0, 0, 7).Format(time.DateOnly),
	}})
}
