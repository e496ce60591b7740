package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestCurriculumHoursCorrectionPage(t *testing.T) {
	t.Parallel()
	srv := startCurriculum(t)
	trainer := mustLogin(t, srv, "trainer")
	id := createPublished(t, trainer, "HZ001", "婴幼儿生活照料")
	learner := mustLogin(t, srv, "caregiver")
	if r := learner.send("POST", fmt.Sprintf("/api/v1/courses/%d/enrolments", id), nil); r.Status != http.StatusCreated {
		t.Fatalf("enrol: %d %s", r.Status, r.Body)
	}
	lesson := firstLessonID(t, trainer, id)
	learner.send("POST", fmt.Sprintf("/api/v1/lessons/%d/open", lesson), nil)
	if r := learner.send("POST", fmt.Sprintf("/api/v1/lessons/%d/complete", lesson), nil); r.Status != 200 {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	hours := func() any { return learner.do("GET", "/api/v1/me/hours", nil, nil).json(t)["total_hours"] }
	entryID := num(learner.do("GET", "/api/v1/me/hours", nil, nil).json(t)["entries"].([]any)[0].(map[string]any)["id"])
	path := fmt.Sprintf("/centre/hours/entries/%d/correct", entryID)

	nb := mustLogin(t, srv, "trainer.nb")
	if r := nb.postForm(path, url.Values{"_csrf": {nb.csrf}, "hours": {"-1"}, "reason": {"越权更正"}, "confirm": {"yes"}}); r.Status != http.StatusForbidden {
		t.Fatalf("another centre's correction: %d", r.Status)
	}
	// Without the confirmation box, or with a bad number, nothing is recorded and the form says why.
	r := trainer.postForm(path, url.Values{"_csrf": {trainer.csrf}, "hours": {"-0.5"}, "reason": {"课时录入有误"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "请勾选确认") || !strings.Contains(string(r.Body), "课时录入有误") {
		t.Fatalf("unconfirmed correction: %d %s", r.Status, r.Body)
	}
	r = trainer.postForm(path, url.Values{"_csrf": {trainer.csrf}, "hours": {"abc"}, "reason": {"x"}, "confirm": {"yes"}})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad delta: %d", r.Status)
	}
	if r := trainer.postForm(path, url.Values{"_csrf": {trainer.csrf}, "hours": {"-5"}, "reason": {"扣减过多"}, "confirm": {"yes"}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("correction below zero: %d", r.Status)
	}
	if h := hours(); h != 1.0 {
		t.Fatalf("hours after refused corrections: %v, want 1", h)
	}

	r = trainer.postForm(path, url.Values{"_csrf": {trainer.csrf}, "hours": {"-0.5"}, "reason": {"课时录入有误"}, "confirm": {"yes"}})
	loc := r.Header.Get("Location")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/centre/hours/people/") || !strings.Contains(loc, "org=HZ001") {
		t.Fatalf("correction: %d %q %s", r.Status, loc, r.Body)
	}
	if h := hours(); h != 0.5 {
		t.Fatalf("hours after the correction: %v, want 0.5", h)
	}
	page := trainer.do("GET", loc, nil, nil)
	if page.Status != 200 || !strings.Contains(string(page.Body), "课时录入有误") || !strings.Contains(string(page.Body), `id="ledger-total">0.5<`) ||
		!strings.Contains(string(page.Body), "更正已记录") {
		t.Fatalf("ledger page: %d %s", page.Status, page.Body)
	}
	// Another centre sees neither this centre's view nor the learner's entries under its own.
	if r := nb.do("GET", loc, nil, nil); r.Status != http.StatusForbidden {
		t.Fatalf("other centre on HZ001's ledger: %d", r.Status)
	}
	if r := nb.do("GET", strings.Replace(loc, "org=HZ001", "org=NB001", 1), nil, nil); r.Status != http.StatusNotFound {
		t.Fatalf("other centre's own view of a stranger: %d", r.Status)
	}
	if r := learner.do("GET", loc, nil, nil); r.Status != http.StatusForbidden {
		t.Fatalf("learner on the centre ledger: %d", r.Status)
	}
}
