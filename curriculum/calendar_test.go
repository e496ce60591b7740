package curriculum

import (
	"context"
	"testing"
	"time"
)

func TestSessionWeekPutsSessionsOnTheirLocalDay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	cst := time.FixedZone("CST", 8*3600)
	// The clock starts on Monday 2026-03-02 17:00 CST; f.session starts an hour after the clock.
	mon := f.session(t, 10) // Mon 18:00 CST
	f.clock.add(5 * 24 * time.Hour)
	sat := f.session(t, 10) // Sat 18:00 CST
	f.clock.add(29 * time.Hour)
	sun := f.session(t, 10) // Sun 23:00 CST (15:00 UTC)
	f.clock.add(time.Hour)
	next := f.session(t, 10) // Mon 2026-03-09 00:00 CST: next week

	if got := WeekStart(time.Date(2026, 3, 8, 15, 30, 0, 0, time.UTC), cst); !got.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, cst)) {
		t.Fatalf("WeekStart of Sunday 23:30 CST = %v", got)
	}
	days, err := f.svc.SessionWeek(ctx, f.hz.ID, time.Date(2026, 3, 4, 12, 0, 0, 0, cst), cst)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(d CalendarDay) []int64 {
		var out []int64
		for _, x := range d.Sessions {
			out = append(out, x.ID)
		}
		return out
	}
	if len(days) != 7 || !days[0].Date.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, cst)) {
		t.Fatalf("days: %d, first %v", len(days), days[0].Date)
	}
	want := map[int]int64{0: mon.ID, 5: sat.ID, 6: sun.ID}
	for i, d := range days {
		got := ids(d)
		if w, ok := want[i]; ok {
			if len(got) != 1 || got[0] != w {
				t.Errorf("day %d: %v, want [%d]", i, got, w)
			}
		} else if len(got) != 0 {
			t.Errorf("day %d: %v, want none", i, got)
		}
	}
	nextWeek, err := f.svc.SessionWeek(ctx, f.hz.ID, time.Date(2026, 3, 9, 0, 0, 0, 0, cst), cst)
	if err != nil || len(nextWeek[0].Sessions) != 1 || nextWeek[0].Sessions[0].ID != next.ID {
		t.Fatalf("next week: %+v, %v", nextWeek, err)
	}
	other, err := f.svc.SessionWeek(ctx, f.nb.ID, time.Date(2026, 3, 4, 0, 0, 0, 0, cst), cst)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range other {
		if len(d.Sessions) != 0 {
			t.Fatalf("another centre's week shows %v", ids(d))
		}
	}
}
