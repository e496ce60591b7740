package clock

import (
	"testing"
	"time"
)

// TestDatesAreChinaDates: near midnight the China date differs from the UTC date and from the
// process's; every conversion follows the product's zone.
func TestDatesAreChinaDates(t *testing.T) {
	t.Parallel()
	if Zone().String() != DefaultZone {
		t.Fatalf("zone %v", Zone())
	}
	sh := Zone()
	for _, x := range []struct {
		at   time.Time
		date string
	}{
		{time.Date(2026, 12, 1, 0, 30, 0, 0, sh), "2026-12-01"},  // 16:30 UTC on 30 November
		{time.Date(2026, 12, 1, 23, 30, 0, 0, sh), "2026-12-01"}, // 15:30 UTC
		{time.Date(2026, 11, 30, 16, 30, 0, 0, time.UTC), "2026-12-01"},
		{time.Date(2026, 11, 30, 15, 59, 0, 0, time.FixedZone("EST", -5*3600)), "2026-12-01"},
	} {
		if got := Date(x.at).Format(time.DateOnly); got != x.date {
			t.Errorf("Date(%v) = %s, want %s", x.at, got, x.date)
		}
		if d := Date(x.at); d.Location() != time.UTC || d.Hour() != 0 {
			t.Errorf("Date(%v) = %v, want UTC midnight", x.at, d)
		}
		if got := Day(x.at).Format(time.DateOnly); got != x.date {
			t.Errorf("Day(%v) = %s, want %s", x.at, got, x.date)
		}
	}
	civil := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if !Day(civil).Equal(civil) {
		t.Errorf("Day of a civil date moved it: %v", Day(civil))
	}
	if m := Midnight(civil); !m.Equal(time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("Midnight(1 Dec) = %v, want 16:00 UTC on 30 Nov", m.UTC())
	}
	if p, err := Parse("2006-01-02T15:04", "2026-12-01T19:00"); err != nil || !p.Equal(time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("a form's 19:00 = %v (%v), want 11:00 UTC", p.UTC(), err)
	}
}

func TestFormatterLayouts(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 10, 41, 0, 0, time.UTC)
	en := Formatter{DateTimeLayout: "2 Jan 2006, 15:04 MST", DateLayout: "2 Jan 2006", TimeLayout: "15:04"}
	if got := en.DateTime(at); got != "1 Dec 2026, 18:41 CST" {
		t.Errorf("en DateTime = %q", got)
	}
	if got := en.DateTime(time.Date(2026, 12, 1, 23, 30, 0, 0, time.UTC)); got != "2 Dec 2026, 07:30 CST" {
		t.Errorf("en DateTime after UTC's evening = %q", got)
	}
	if got := en.CivilDate(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)); got != "1 Dec 2026" {
		t.Errorf("en CivilDate = %q", got)
	}
	if got := en.TimeOfDay(at); got != "18:41" {
		t.Errorf("TimeOfDay = %q", got)
	}
}
