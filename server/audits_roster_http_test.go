package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"shanyu/internal/servertest"
)

// The institution's admin keeps classes and posts from the compliance page: a class added and
// edited, a person given a caregiver post in it, the post changed, then removed, then the class
// removed; removal forms ask first; a bad post is refused with a translated message; every change
// is in the audit log; another organisation's admin cannot change the roster.
func TestRosterAndClassesEditedOnTheCompliancePage(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	inst := mustLogin(t, srv, "institution")
	page := func() string {
		t.Helper()
		r := inst.do("GET", "/institutions/HZI001/compliance", nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("compliance page: %d", r.Status)
		}
		return string(r.Body)
	}
	body := page()
	for _, want := range []string{`id="assign-add"`, `id="class-add"`, `data-confirm="确定删除班级`, `data-confirm="确定取消`} {
		if !strings.Contains(body, want) {
			t.Errorf("compliance page lacks %s", want)
		}
	}
	roster := inst.do("GET", "/api/v1/institutions/HZI001/roster", nil, nil).json(t)
	staff := roster["staff"].([]any)
	person := staff[0].(map[string]any)
	personID := int64(person["id"].(float64))
	classID := func(name string) int64 {
		for _, c := range inst.do("GET", "/api/v1/institutions/HZI001/roster", nil, nil).json(t)["classes"].([]any) {
			if m := c.(map[string]any); m["name"] == name {
				return int64(m["id"].(float64))
			}
		}
		return 0
	}
	assignment := func(post, class string) int64 {
		comp := inst.do("GET", "/api/v1/institutions/HZI001/compliance", nil, nil).json(t)
		for _, a := range comp["assignments"].([]any) {
			m := a.(map[string]any)
			if int64(m["roster_id"].(float64)) == personID && m["post"] == post && (class == "" || int64(m["class_id"].(float64)) == classID(class)) {
				return int64(m["assignment_id"].(float64))
			}
		}
		return 0
	}
	expect := func(r response, notice string) {
		t.Helper()
		if r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "notice=audits.notice."+notice) {
			t.Fatalf("%s: %d %q %s", notice, r.Status, r.Header.Get("Location"), r.Body)
		}
	}

	expect(inst.auditForm("/institutions/HZI001/classes", url.Values{"name": {"托小二班"}, "type": {"toddler_young"}, "children": {"8"}}), "class_saved")
	id := classID("托小二班")
	if id == 0 {
		t.Fatal("class not added")
	}
	expect(inst.auditForm("/institutions/HZI001/classes", url.Values{"id": {fmt.Sprint(id)}, "name": {"托小二班"}, "type": {"toddler_young"}, "children": {"9"}}), "class_saved")
	expect(inst.auditForm("/institutions/HZI001/assignments", url.Values{"roster_id": {fmt.Sprint(personID)}, "post": {"caregiver"}, "class": {"托小二班"}}), "assigned")
	a := assignment("caregiver", "托小二班")
	if a == 0 {
		t.Fatal("assignment not added")
	}
	expect(inst.auditForm(fmt.Sprintf("/institutions/HZI001/assignments/%d", a), url.Values{"post": {"health"}, "class": {""}}), "assignment_changed")
	if assignment("caregiver", "托小二班") != 0 {
		t.Error("the changed assignment is still a caregiver post in 托小二班")
	}
	b := assignment("health", "")
	if b == 0 {
		t.Fatal("changed assignment missing")
	}

	// A post the policy does not know: the page again, with the message in the admin's language.
	r := inst.auditForm("/institutions/HZI001/assignments", url.Values{"roster_id": {fmt.Sprint(personID)}, "post": {"astronaut"}})
	if r.Status != http.StatusBadRequest && r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "岗位名称“astronaut”无效") {
		t.Errorf("unknown post: %d", r.Status)
	}
	r = inst.auditForm("/institutions/HZI001/classes", url.Values{"name": {"托小二班"}, "type": {"toddler_young"}, "children": {"many"}})
	if r.Status < 400 || !strings.Contains(string(r.Body), `id="form-error"`) {
		t.Errorf("children not a number: %d", r.Status)
	}

	expect(inst.auditForm(fmt.Sprintf("/institutions/HZI001/assignments/%d/delete", b), url.Values{}), "unassigned")
	if assignment("health", "") != 0 {
		t.Error("assignment not removed")
	}
	expect(inst.auditForm(fmt.Sprintf("/institutions/HZI001/classes/%d/delete", id), url.Values{}), "class_removed")
	if classID("托小二班") != 0 {
		t.Error("class not removed")
	}
	if strings.Contains(page(), "托小二班") {
		t.Error("removed class still on the page")
	}

	var actions string
	if err := srv.Pool.QueryRow(context.Background(), `SELECT string_agg(DISTINCT action, ',' ORDER BY action) FROM audit_log
		WHERE action IN ('class.save', 'class.remove', 'roster.assign', 'roster.assignment_change', 'roster.unassign')`).Scan(&actions); err != nil {
		t.Fatal(err)
	}
	if actions != "class.remove,class.save,roster.assign,roster.assignment_change,roster.unassign" {
		t.Errorf("audit log actions: %q", actions)
	}

	// A training centre's admin may not touch the institution's roster.
	centre := mustLogin(t, srv, "centre")
	if r := centre.auditForm("/institutions/HZI001/classes", url.Values{"name": {"越权班"}, "type": {"toddler_young"}, "children": {"3"}}); r.Status != http.StatusForbidden {
		t.Errorf("centre admin edits the roster: %d", r.Status)
	}
	if classID("越权班") != 0 {
		t.Error("a class was added by another organisation's admin")
	}
}
