package curriculum

import (
	"context"
	"time"
)

// WeekStart is the Monday 00:00 (in loc) of the week holding t.
func WeekStart(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

// CalendarDay is one day of a week calendar with the sessions that start on it, in time order.
type CalendarDay struct {
	Date     time.Time
	Sessions []Session
}

// SessionWeek lists a centre's practical sessions starting in the week from monday (00:00 in loc) as
// seven days, Monday first; a session belongs to the day it starts on.
func (s *Service) SessionWeek(ctx context.Context, orgID int64, monday time.Time, loc *time.Location) ([]CalendarDay, error) {
	monday = WeekStart(monday, loc)
	end := monday.AddDate(0, 0, 7)
	list, err := s.sessions(ctx, sessionSelect+` WHERE ps.organisation_id = $1 AND ps.starts_at >= $2 AND ps.starts_at < $3 ORDER BY ps.starts_at, ps.id`,
		orgID, monday, end)
	if err != nil {
		return nil, err
	}
	days := make([]CalendarDay, 7)
	for i := range days {
		days[i].Date = monday.AddDate(0, 0, i)
	}
	for _, x := range list {
		st := x.StartsAt.In(loc)
		i := int(time.Date(st.Year(), st.Month(), st.Day(), 0, 0, 0, 0, loc).Sub(monday).Hours()+12) / 24
		if i >= 0 && i < 7 {
			days[i].Sessions = append(days[i].Sessions, x)
		}
	}
	return days, nil
}
