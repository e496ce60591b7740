package server_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"shanyu/internal/servertest"
)

// Every form that fails goes through one path (failedForm, errors.go): never 200 for an error, the
// message beside the field it is about, and the same message however often the same bad submission
// is sent (no map iteration picks it). Forbidden stays 403.
func TestFormFailuresShowOneMessageWithTheirStatus(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	users := map[string]*client{"": newClient(t, srv)}
	for _, u := range []string{"admin", "regulator.nb", "caregiver", "centre", "trainer", "institution", "inspector"} {
		users[u] = mustLogin(t, srv, u)
	}
	mine := decodeJSON[struct {
		Inspections []struct {
			ID int64 `json:"id"`
		} `json:"inspections"`
	}](t, users["inspector"].do("GET", "/api/v1/inspections/mine", nil, nil))
	if len(mine.Inspections) == 0 {
		t.Fatal("the demo inspector has no inspection")
	}
	inspection := mine.Inspections[0].ID

	type formCase struct {
		name   string
		user   string
		path   string
		values url.Values
		file   []byte // sent as the multipart field "file" when set
		status int
		field  string // the message is the field-error beside this input (name="field")…
		alert  string // …or the text of the page's alert with this id or class
		back   string // …or, for a form that goes back by redirect, the error key in Location
		kept   string // a typed value the page shows again
		tries  int    // 20 unless the route throttles sooner
	}
	cases := []formCase{
		{name: "signup, bad ID number", path: "/signup", values: url.Values{"name": {"王测试"}, "phone": {"13900001111"}, "id_number": {"12345"},
			"password": {"Shanyu-demo-2026"}, "password_confirm": {"Shanyu-demo-2026"}}, status: 422, field: "id_number", kept: "13900001111",
			tries: 10}, // signups are throttled per address after 10 tries
		{name: "password change, too short", user: "caregiver", path: "/account/password", values: url.Values{"current_password": {"shanyu-demo"}, "new_password": {"abc"}},
			status: 422, field: "new_password"},
		{name: "new user, bad ID number", user: "admin", path: "/admin/users", values: url.Values{"username": {"form.test"}, "name": {"表单测试"}, "phone": {"13900002222"},
			"id_number": {"1"}, "password": {"Shanyu-demo-2026"}, "role": {"trainer"}, "domain": {"org:HZ001"}}, status: 422, field: "id_number", kept: "form.test"},
		{name: "new organisation, unknown kind", user: "admin", path: "/admin/organisations", values: url.Values{"kind": {"spaceport"}, "code": {"!!"}, "name": {"测试机构"},
			"region_code": {"3301"}}, status: 422, field: "code", kept: "测试机构"},
		{name: "new course, hours not a number", user: "trainer", path: "/centre/courses", values: url.Values{"org": {"HZ001"}, "title": {"表单测试课程"}, "occupation": {"4-10-01-02:4"},
			"required_hours": {"many"}, "outline": {"# 模块一\n- 第一课 | 1"}}, status: 422, field: "outline", kept: "表单测试课程"},
		{name: "new exam session, no name", user: "centre", path: "/centres/HZ001/exams/new", values: url.Values{"name": {""}, "capacity": {"lots"}},
			status: 422, field: "opens_at"}, // the first of the fields in error, in the form's order
		{name: "class, children not a number", user: "institution", path: "/institutions/HZI001/classes", values: url.Values{"name": {"表单小班"}, "type": {"toddler_young"}, "children": {"many"}},
			status: 422, alert: "form-error", kept: "表单小班"},
		{name: "class, every field wrong", user: "institution", path: "/institutions/HZI001/classes", values: url.Values{"name": {""}, "type": {"dragons"}, "children": {"-3"}},
			status: 422, alert: "form-error"},
		{name: "post, unknown", user: "institution", path: "/institutions/HZI001/assignments", values: url.Values{"roster_id": {"1"}, "post": {"astronaut"}},
			status: 422, alert: "form-error"},
		{name: "background check, no date", user: "institution", path: "/institutions/HZI001/checks", values: url.Values{"roster_id": {"1"}, "kind": {"employment_ban"}, "checked_on": {"never"}, "result": {"clear"}},
			status: 422, alert: "form-error"},
		{name: "policy rule, not a rule", user: "admin", path: "/dashboard/rules", values: url.Values{"action": {"add"}, "line": {"p, nonsense"}},
			status: 422, alert: "notice error"},
		{name: "round, no count", user: "admin", path: "/dashboard/rounds", values: url.Values{"region_code": {"3301"}, "name": {"表单轮次"}, "count": {"0"}, "share_percent": {"0"}, "per_inspection": {"0"}},
			status: 422, alert: "notice error"},
		{name: "round, every number wrong", user: "admin", path: "/dashboard/rounds", values: url.Values{"region_code": {"3301"}, "name": {""}, "count": {"-1"}, "share_percent": {"-5"}, "per_inspection": {"-1"}},
			status: 422, alert: "notice error"},
		{name: "round, region out of reach", user: "regulator.nb", path: "/dashboard/rounds", values: url.Values{"region_code": {"3301"}, "name": {"越权轮次"}, "count": {"1"}, "per_inspection": {"2"}},
			status: 403},
		{name: "roster import, not a roster", user: "institution", path: "/institutions/HZI001/roster/import", file: []byte("not a spreadsheet"),
			status: 422, alert: "notice error"},
		{name: "head count, not a number", user: "inspector", path: fmt.Sprintf("/inspections/%d/headcount", inspection), values: url.Values{"class_id": {"1"}, "children": {"x"}, "caregivers": {"1"}},
			status: http.StatusSeeOther, back: "audits.children_invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := users[tc.user]
			send := func() response {
				if tc.file != nil {
					return c.multipart(tc.path, map[string]string{"_csrf": c.csrf}, "file", "roster.xlsx", tc.file, map[string]string{"Accept": "text/html"})
				}
				v := url.Values{}
				for k, vs := range tc.values {
					v[k] = vs
				}
				v.Set("_csrf", c.csrf)
				return c.postForm(tc.path, v)
			}
			var first string
			tries := tc.tries
			if tries == 0 {
				tries = 20
			}
			for i := range tries {
				r := send()
				if r.Status == http.StatusOK || r.Status != tc.status {
					t.Fatalf("try %d: %d, want %d: %.400s", i+1, r.Status, tc.status, r.Body)
				}
				msg := formMessage(t, r, tc.field, tc.alert, tc.back)
				if tc.status == http.StatusForbidden {
					return
				}
				if msg == "" {
					t.Fatalf("try %d: no message (field %q, alert %q, back %q): %.2000s", i+1, tc.field, tc.alert, tc.back, r.Body)
				}
				if i == 0 {
					first = msg
					if tc.kept != "" && !strings.Contains(string(r.Body), tc.kept) {
						t.Errorf("what was typed (%q) is not shown again", tc.kept)
					}
					continue
				}
				if msg != first {
					t.Fatalf("try %d says %q, the first said %q", i+1, msg, first)
				}
			}
		})
	}
}

var fieldErrorRe = regexp.MustCompile(`(?s)^.*?<p class="field-error" role="alert">(.*?)</p>`)

// formMessage finds the message a failed form shows: beside the input named field (before the next
// input), in the alert with that id or class, or in the redirect's error parameter.
func formMessage(t *testing.T, r response, field, alert, back string) string {
	t.Helper()
	body := string(r.Body)
	switch {
	case back != "":
		loc, err := url.Parse(r.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		if got := loc.Query().Get("error"); got != back {
			t.Fatalf("redirect to %s, want error=%s", loc, back)
		}
		return loc.String()
	case field != "":
		// The input of that name marked invalid (a page may have a filter of the same name above
		// the form), and the field-error after it, before the next input.
		for at := 0; ; {
			i := strings.Index(body[at:], `name="`+field+`"`)
			if i < 0 {
				t.Fatalf("no input %q marked invalid on the page; invalid ones: %v", field, invalidInputs(body))
			}
			i += at
			end := i + len(field) + 7
			tag := body[max(0, strings.LastIndex(body[:i], "<")):]
			tag = tag[:strings.Index(tag, ">")+1]
			rest := body[end:]
			if j := strings.Index(rest, ` name="`); j >= 0 {
				rest = rest[:j]
			}
			at = end
			if !strings.Contains(tag, `aria-invalid="true"`) {
				continue
			}
			if m := fieldErrorRe.FindStringSubmatch(rest); m != nil {
				return html.UnescapeString(m[1])
			}
			return ""
		}
	case alert != "":
		re := regexp.MustCompile(`(?s)<p class="notice error" role="alert"[^>]*>(.*?)</p>`)
		if !strings.Contains(alert, " ") {
			re = regexp.MustCompile(`(?s)<p [^>]*id="` + alert + `"[^>]*>(.*?)</p>`)
		}
		if m := re.FindStringSubmatch(body); m != nil {
			return html.UnescapeString(m[1])
		}
	}
	return ""
}

var invalidRe = regexp.MustCompile(`<(?:input|select|textarea)[^>]*name="([^"]+)"[^>]*aria-invalid="true"`)

func invalidInputs(body string) []string {
	var names []string
	for _, m := range invalidRe.FindAllStringSubmatch(body, -1) {
		names = append(names, m[1])
	}
	return names
}
