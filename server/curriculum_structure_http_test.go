package server_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// structureValues is a course form with its structure as fields: two modules, the second with three
// lessons, whose last lesson gives hours.
func structureValues(csrf, lastHours string) url.Values {
	return url.Values{"_csrf": {csrf}, "org": {"HZ001"}, "title": {"结构表单课程"}, "summary": {"表单搭建"}, "occupation": {"4-10-01-03:4"}, "required_hours": {"2"},
		"modules.0.title":           {"日常照料"},
		"modules.0.lessons.0.title": {"安全睡眠"}, "modules.0.lessons.0.hours": {"1"}, "modules.0.lessons.0.min_seconds": {"60"}, "modules.0.lessons.0.body": {"## 要点\n\n**仰卧**入睡"},
		"modules.1.title":           {"进餐与饮水"},
		"modules.1.lessons.0.title": {"进餐看护"}, "modules.1.lessons.0.hours": {"0.5"}, "modules.1.lessons.0.min_seconds": {"60"},
		"modules.1.lessons.1.title": {"饮水安排"}, "modules.1.lessons.1.hours": {"0.5"}, "modules.1.lessons.1.min_seconds": {"60"},
		"modules.1.lessons.2.title": {"过敏应对"}, "modules.1.lessons.2.hours": {lastHours}, "modules.1.lessons.2.min_seconds": {"60"}, "modules.1.lessons.2.body": {"食物过敏的第一步"},
	}
}

// A centre builds a course's structure with fields: a refused save names the module, the lesson and
// the field beside it and keeps every value typed, saving nothing; the add, remove and move buttons
// come back rearranged without saving; the === / --- text imports into the fields; a valid save is one
// draft, and editing a published course makes a new draft while the published version stays.
func TestCourseStructureForm(t *testing.T) {
	t.Parallel()
	srv := startCurriculum(t)
	trainer := mustLogin(t, srv, "trainer")
	courses := func() int64 {
		t.Helper()
		return num(trainer.do("GET", "/api/v1/centres/HZ001/courses", nil, nil).json(t)["total"])
	}
	before := courses()

	r := trainer.postForm("/centre/courses", structureValues(trainer.csrf, "0"))
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("lesson of 0 hours: %d, want 422", r.Status)
	}
	if msg := formMessage(t, r, "modules.1.lessons.2.hours", "", ""); msg != "第 2 单元第 3 课：学时必须大于 0 且不超过 100" {
		t.Errorf("message beside the hours: %q", msg)
	}
	body := html.UnescapeString(string(r.Body))
	for _, kept := range []string{"结构表单课程", "进餐与饮水", "过敏应对", "食物过敏的第一步", "**仰卧**入睡"} {
		if !strings.Contains(body, kept) {
			t.Errorf("typed value %q not shown again", kept)
		}
	}
	if !strings.Contains(body, `href="#m1-l2-hours"`) {
		t.Error("the summary above the form does not link to the hours field")
	}
	// The required hours cannot exceed what the lessons give (1 + 0.5 + 0.5 + 0.25 = 2.25).
	v := structureValues(trainer.csrf, "0.25")
	v.Set("required_hours", "3")
	r = trainer.postForm("/centre/courses", v)
	if msg := formMessage(t, r, "required_hours", "", ""); r.Status != http.StatusUnprocessableEntity || !strings.Contains(msg, "2.25") {
		t.Errorf("required hours over the lessons: %d %q", r.Status, msg)
	}
	// Hours that are not a number are named too, and nothing was saved by any refusal.
	v = structureValues(trainer.csrf, "一")
	r = trainer.postForm("/centre/courses", v)
	if msg := formMessage(t, r, "modules.1.lessons.2.hours", "", ""); r.Status != http.StatusUnprocessableEntity || msg != "第 2 单元第 3 课：请输入数字" {
		t.Errorf("hours not a number: %d %q", r.Status, msg)
	}
	if n := courses(); n != before {
		t.Fatalf("refused forms saved courses: %d, then %d", before, n)
	}

	// The buttons rearrange and save nothing.
	rearranged := func(op string) string {
		t.Helper()
		v := structureValues(trainer.csrf, "0.25")
		v.Set("op", op)
		r := trainer.postForm("/centre/courses", v)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d", op, r.Status)
		}
		return html.UnescapeString(string(r.Body))
	}
	fieldValue := func(body, name string) string {
		t.Helper()
		i := strings.Index(body, `name="`+name+`"`)
		if i < 0 {
			return "<none>"
		}
		rest := body[i:]
		j := strings.Index(rest, `value="`)
		if j < 0 || j > strings.Index(rest, ">") {
			return ""
		}
		rest = rest[j+7:]
		return rest[:strings.Index(rest, `"`)]
	}
	b := rearranged("add-lesson.0")
	if got := fieldValue(b, "modules.0.lessons.1.title"); got != "" {
		t.Errorf("add a lesson to module 1: its new title field holds %q", got)
	}
	if !strings.Contains(b, `id="m0-l1-title" name="modules.0.lessons.1.title" value="" maxlength="100" required autofocus`) {
		t.Error("the new lesson's title does not take the cursor")
	}
	b = rearranged("up-lesson.1.0") // the first lesson of module 2 goes to the end of module 1
	if got := fieldValue(b, "modules.0.lessons.1.title"); got != "进餐看护" {
		t.Errorf("lesson moved up into module 1: %q", got)
	}
	if got := fieldValue(b, "modules.1.lessons.0.title"); got != "饮水安排" {
		t.Errorf("module 2 after its first lesson left: %q", got)
	}
	b = rearranged("down-module.0")
	if fieldValue(b, "modules.0.title") != "进餐与饮水" || fieldValue(b, "modules.1.title") != "日常照料" || fieldValue(b, "modules.1.lessons.0.title") != "安全睡眠" {
		t.Error("module 1 moved down: the modules and their lessons are not swapped")
	}
	b = rearranged("del-lesson.1.1")
	if fieldValue(b, "modules.1.lessons.1.title") != "过敏应对" || fieldValue(b, "modules.1.lessons.2.title") != "<none>" {
		t.Error("lesson 2 of module 2 removed: the next one did not take its place")
	}
	b = rearranged("del-module.0")
	if fieldValue(b, "modules.0.title") != "进餐与饮水" || fieldValue(b, "modules.1.title") != "<none>" {
		t.Error("module 1 removed: module 2 did not take its place")
	}
	v = structureValues(trainer.csrf, "0.25")
	v.Set("op", "import")
	v.Set("outline", "=== 导入单元\n--- 导入课时 | 1.5 | 120\n导入的正文\n")
	r = trainer.postForm("/centre/courses", v)
	b = html.UnescapeString(string(r.Body))
	if r.Status != http.StatusOK || fieldValue(b, "modules.0.title") != "导入单元" || fieldValue(b, "modules.0.lessons.0.hours") != "1.5" ||
		fieldValue(b, "modules.1.title") != "<none>" || !strings.Contains(b, "导入的正文") {
		t.Errorf("import of the text: %d", r.Status)
	}
	if n := courses(); n != before {
		t.Fatalf("buttons saved courses: %d, then %d", before, n)
	}

	// A valid save is one draft with the structure as typed.
	r = trainer.postForm("/centre/courses", structureValues(trainer.csrf, "0.25"))
	if r.Status != http.StatusSeeOther {
		t.Fatalf("valid course: %d %.500s", r.Status, r.Body)
	}
	editor := r.Header.Get("Location")
	path := editor[:strings.Index(editor, "?")]
	page := trainer.do("GET", path, nil, map[string]string{"Accept": "text/html"})
	b = html.UnescapeString(string(page.Body))
	if fieldValue(b, "modules.1.lessons.2.title") != "过敏应对" || fieldValue(b, "modules.1.lessons.2.hours") != "0.25" || !strings.Contains(b, "<strong>仰卧</strong>") {
		t.Fatalf("the editor does not show the saved structure with its preview")
	}
	if r := trainer.postForm(path+"/publish", url.Values{"_csrf": {trainer.csrf}}); r.Status != http.StatusSeeOther {
		t.Fatalf("publish: %d", r.Status)
	}
	// Editing the published course makes version 2; version 1 keeps its lessons.
	v = structureValues(trainer.csrf, "0.25")
	v.Set("modules.0.lessons.0.title", "安全睡眠（修订）")
	if r := trainer.postForm(path, v); r.Status != http.StatusSeeOther {
		t.Fatalf("edit the published course: %d", r.Status)
	}
	id := strings.TrimPrefix(path, "/centre/courses/")
	if pub := string(trainer.do("GET", "/api/v1/courses/"+id, nil, nil).Body); !strings.Contains(pub, `"安全睡眠"`) || strings.Contains(pub, "修订") {
		t.Errorf("the published version changed in place: %s", pub)
	}
	page = trainer.do("GET", path, nil, map[string]string{"Accept": "text/html"})
	if b := html.UnescapeString(string(page.Body)); fieldValue(b, "modules.0.lessons.0.title") != "安全睡眠（修订）" || !strings.Contains(b, "v2") {
		t.Error("the editor does not show the new draft, version 2")
	}
}

// The live preview renders a lesson body with the lesson page's renderer: Markdown to HTML, scripts
// removed; it is bounded, and only for those who edit courses.
func TestMarkdownPreview(t *testing.T) {
	t.Parallel()
	srv := startCurriculum(t)
	trainer := mustLogin(t, srv, "trainer")
	preview := func(c *client, body string) response {
		t.Helper()
		return c.postForm("/centre/markdown-preview", url.Values{"_csrf": {c.csrf}, "body": {body}})
	}
	r := preview(trainer, "## 要点\n\n<script>alert(1)</script>\n\n**重要** [链接](javascript:alert(1))")
	b := string(r.Body)
	if r.Status != http.StatusOK || !strings.Contains(b, "<h2") || !strings.Contains(b, "<strong>重要</strong>") || strings.Contains(b, "<script") || strings.Contains(b, "javascript:") {
		t.Fatalf("preview: %d %s", r.Status, b)
	}
	if r := preview(trainer, strings.Repeat("字", 50001)); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("a body over 50,000 characters: %d, want 422", r.Status)
	}
	if r := preview(mustLogin(t, srv, "caregiver"), "x"); r.Status != http.StatusForbidden {
		t.Errorf("a caregiver's preview: %d, want 403", r.Status)
	}
}
