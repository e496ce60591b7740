// Package clock is the product's one clock: the zone every time is shown in and every date rule is
// counted in (SHANYU_TIMEZONE, default Asia/Shanghai), whatever zone the process or the database
// runs in. Instants stay instants (time.Time, compared and stored as such); only showing a time and
// turning an instant into a civil date ("today", an expiry day, a transcript period) go through here.
//
// Civil dates (a DATE column, an expiry day) are held as UTC midnight, the form pgx scans them into;
// Date, Today and Midnight convert between the two forms.
package clock

import (
	"sync/atomic"
	"time"
	_ "time/tzdata" // the zone database is embedded, so a host without tzdata still knows Asia/Shanghai
)

// DefaultZone is the zone used when SHANYU_TIMEZONE is unset.
const DefaultZone = "Asia/Shanghai"

var zone atomic.Pointer[time.Location]

func init() {
	loc, err := time.LoadLocation(DefaultZone)
	if err != nil {
		panic(err) // the zone database is embedded: cannot happen
	}
	zone.Store(loc)
}

// Zone is the product's zone.
func Zone() *time.Location { return zone.Load() }

// SetZone sets the product's zone; the wiring calls it once at start-up from the configuration.
func SetZone(loc *time.Location) {
	if loc != nil {
		zone.Store(loc)
	}
}

// In is t in the product's zone.
func In(t time.Time) time.Time { return t.In(Zone()) }

// Date is the civil date of instant t in the product's zone, as UTC midnight.
func Date(t time.Time) time.Time {
	y, m, d := t.In(Zone()).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Day is the civil date of t: t itself when it already is one (midnight in time.UTC, the form DATE
// columns scan into and this package returns), otherwise the date of instant t in the product's zone.
// It suits code that is handed either ("the day of the check").
func Day(t time.Time) time.Time {
	if t.Location() == time.UTC && t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t
	}
	return Date(t)
}

// Today is the civil date of now in the product's zone, as UTC midnight.
func Today(now time.Time) time.Time { return Date(now) }

// Midnight is the instant civil date d begins in the product's zone (d's zone is ignored: only its
// year, month and day count).
func Midnight(d time.Time) time.Time {
	y, m, day := d.Date()
	return time.Date(y, m, day, 0, 0, 0, 0, Zone())
}

// Parse reads a wall-clock time in the product's zone (a form's date or datetime-local input).
func Parse(layout, value string) (time.Time, error) {
	return time.ParseInLocation(layout, value, Zone())
}

// Format shows instant t in the product's zone with layout.
func Format(t time.Time, layout string) string { return t.In(Zone()).Format(layout) }

// Formatter is one language's way of showing times; the translation layer provides the layouts
// (time.Format layouts: the zh-CN date time is 2006年1月2日 15:04, the English 2 Jan 2006, 15:04 MST).
type Formatter struct {
	DateTimeLayout string // an instant with its date
	DateLayout     string // a date
	TimeLayout     string // a time of day
	SecondsLayout  string // an instant to the second (when a page was produced, for people comparing)
}

// DateTime shows instant t in the product's zone.
func (l Formatter) DateTime(t time.Time) string { return Format(t, l.DateTimeLayout) }

// Day shows the civil date of instant t in the product's zone.
func (l Formatter) Day(t time.Time) string { return Format(t, l.DateLayout) }

// CivilDate shows a civil date held as UTC midnight (a DATE column) without moving it to another day.
func (l Formatter) CivilDate(d time.Time) string {
	y, m, day := d.Date()
	return time.Date(y, m, day, 0, 0, 0, 0, time.UTC).Format(l.DateLayout)
}

// Precise shows instant t to the second in the product's zone.
func (l Formatter) Precise(t time.Time) string { return Format(t, l.SecondsLayout) }

// TimeOfDay shows the time of day of instant t in the product's zone.
func (l Formatter) TimeOfDay(t time.Time) string { return Format(t, l.TimeLayout) }
