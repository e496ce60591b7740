package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"shanyu/internal/browsertest"
)

func TestCurriculumWeekCalendar(t *testing.T) {
	t.Parallel()
	srv := startCurriculum(t)
	trainer := mustLogin(t, srv, "trainer")
	bases, err := srv.App.Accounts.TrainingBases(context.Background(), orgID(t, srv, "HZ001"))
	if err != nil || len(bases) == 0 {
		t.Fatalf("bases: %v", err)
	}
	cst := time.FixedZone("CST", 8*3600)
	for _, s := range []struct {
		title string
		start time.Time
	}{
		{"婴幼儿急救实训", time.Date(2027, 1, 6, 9, 0, 0, 0, cst)},
		{"睡眠照护实操", time.Date(2027, 1, 10, 20, 0, 0, 0, cst)},
		{"下周的实训", time.Date(2027, 1, 11, 0, 30, 0, 0, cst)},
	} {
		r := trainer.send("POST", "/api/v1/centres/HZ001/sessions", map[string]any{"base_id": bases[0].ID, "title": s.title, "occupation_code": "4-10-01-03", "level": 4,
			"starts_at": s.start.Format(time.RFC3339), "ends_at": s.start.Add(3 * time.Hour).Format(time.RFC3339), "capacity": 20, "hours": 3})
		if r.Status != http.StatusCreated {
			t.Fatalf("create session: %d %s", r.Status, r.Body)
		}
	}
	r := trainer.do("GET", "/centre/calendar?org=HZ001&week=2027-01-07", nil, nil)
	body := string(r.Body)
	if r.Status != 200 || !strings.Contains(body, "2027-01-04 – 2027-01-10") || !strings.Contains(body, "婴幼儿急救实训") ||
		!strings.Contains(body, "睡眠照护实操") || strings.Contains(body, "下周的实训") || !strings.Contains(body, "09:00–12:00") {
		t.Fatalf("week page: %d %s", r.Status, body)
	}
	// Wednesday's column holds the Wednesday session.
	wed := body[strings.Index(body, `datetime="2027-01-06"`):strings.Index(body, `datetime="2027-01-07"`)]
	if !strings.Contains(wed, "婴幼儿急救实训") {
		t.Fatalf("Wednesday: %s", wed)
	}
	if r := trainer.do("GET", "/centre/calendar?org=HZ001&week=2027-01-11", nil, nil); !strings.Contains(string(r.Body), "下周的实训") {
		t.Fatalf("next week: %d", r.Status)
	}
	if r := trainer.do("GET", "/centre/calendar?org=HZ001&week=nope", nil, nil); r.Status != http.StatusNotFound {
		t.Fatalf("bad week: %d", r.Status)
	}
	if r := mustLogin(t, srv, "trainer.nb").do("GET", "/centre/calendar?org=HZ001", nil, nil); r.Status != http.StatusForbidden {
		t.Fatalf("another centre's calendar: %d", r.Status)
	}
	if r := mustLogin(t, srv, "caregiver").do("GET", "/centre/calendar", nil, nil); r.Status != http.StatusForbidden {
		t.Fatalf("caregiver: %d", r.Status)
	}

	for _, size := range []struct {
		name string
		dev  browsertest.Viewport
	}{{"phone", browsertest.Phone}, {"desktop", browsertest.Desktop}} {
		ctx := browsertest.New(t, size.dev)
		signIn(t, ctx, srv.URL, "/centre/calendar?org=HZ001&week=2027-01-07", "trainer")
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(".week-grid"))); err != nil {
			t.Fatal(err)
		}
		if size.name == "phone" {
			browsertest.AssertFits(t, ctx, browsertest.Phone)
		}
		browsertest.Screenshot(t, ctx, "curriculum-calendar-"+size.name)
	}
}
