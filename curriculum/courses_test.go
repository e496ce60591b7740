package curriculum

import (
	"context"
	"errors"
	"strings"
	"testing"

	"shanyu/internal/failure"
)

func TestEditingAPublishedCourseMakesADraftAndLearnersKeepTheirVersion(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	c := f.published(t, "婴幼儿生活照料")
	v1 := c.PublishedVersionID
	e, err := f.svc.Enrol(ctx, f.learner.PersonID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e.VersionID != v1 {
		t.Fatalf("enrolled in version %d, want %d", e.VersionID, v1)
	}

	in := sampleCourse("婴幼儿生活照料（第二版）")
	in.Modules[0].Lessons = in.Modules[0].Lessons[:1]
	in.RequiredHours = 1 // the one lesson left gives 1 hour
	draft, err := f.svc.SaveDraft(ctx, f.trainer.ID, c.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if draft.ID == v1 || draft.Number != 2 || draft.Status != StatusDraft {
		t.Fatalf("editing a published course gave %+v, want a new draft version 2", draft)
	}
	// The published version is untouched.
	old, err := f.svc.Version(ctx, v1)
	if err != nil {
		t.Fatal(err)
	}
	if old.Title != "婴幼儿生活照料" || len(old.Lessons()) != 2 || old.Status != StatusPublished {
		t.Fatalf("published version changed: %+v", old)
	}
	// Saving again edits the same draft.
	in.Summary = "changed"
	again, err := f.svc.SaveDraft(ctx, f.trainer.ID, c.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != draft.ID || again.Summary != "changed" {
		t.Fatalf("second save made %+v, want the same draft %d updated", again, draft.ID)
	}
	if _, err := f.svc.Publish(ctx, f.trainer.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	c2, _ := f.svc.Course(ctx, c.ID)
	if c2.PublishedVersionID != draft.ID || c2.Title != "婴幼儿生活照料（第二版）" {
		t.Fatalf("catalogue shows version %d %q after publishing", c2.PublishedVersionID, c2.Title)
	}
	// The first learner keeps version 1, a new learner gets version 2.
	e1, err := f.svc.EnrolmentIn(ctx, f.learner.PersonID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	e2, err := f.svc.Enrol(ctx, f.learner2.PersonID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e1.VersionID != v1 || e1.LessonCount != 2 || e2.VersionID != draft.ID || e2.LessonCount != 1 {
		t.Fatalf("versions: first learner %d (%d lessons), second %d (%d lessons)", e1.VersionID, e1.LessonCount, e2.VersionID, e2.LessonCount)
	}
	// A learner of version 1 cannot open a lesson of version 2, and vice versa.
	v2, _ := f.svc.Version(ctx, draft.ID)
	if _, err := f.svc.OpenLesson(ctx, f.learner.PersonID, v2.Lessons()[0].ID); !errors.Is(err, ErrNotEnrolled) {
		t.Fatalf("opening a lesson of another version: %v, want ErrNotEnrolled", err)
	}
	if _, err := f.svc.OpenLesson(ctx, f.learner.PersonID, old.Lessons()[1].ID); err != nil {
		t.Fatalf("learner of version 1 opening its lesson: %v", err)
	}
	vs, err := f.svc.Versions(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || vs[0].Status != StatusPublished || vs[1].Status != StatusSuperseded {
		t.Fatalf("history: %+v", vs)
	}
}

func TestUnpublishKeepsLearnersAndHidesTheCourse(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	c := f.published(t, "安全防护与应急处置")
	if _, err := f.svc.Enrol(ctx, f.learner.PersonID, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Unpublish(ctx, f.trainer.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Unpublish(ctx, f.trainer.ID, c.ID); !errors.Is(err, ErrNotPublished) {
		t.Fatalf("second unpublish: %v", err)
	}
	list, total, err := f.svc.Courses(ctx, Filter{})
	if err != nil || total != 0 || len(list) != 0 {
		t.Fatalf("catalogue after unpublish: %d %v", total, err)
	}
	if _, err := f.svc.Enrol(ctx, f.learner2.PersonID, c.ID); !errors.Is(err, ErrNotPublished) {
		t.Fatalf("enrolling in an unpublished course: %v", err)
	}
	e, err := f.svc.EnrolmentIn(ctx, f.learner.PersonID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.OpenLesson(ctx, f.learner.PersonID, mustVersion(t, f, e.VersionID).Lessons()[0].ID); err != nil {
		t.Fatalf("existing learner lost access: %v", err)
	}
	// Publishing again without a draft relists the last published version.
	v, err := f.svc.Publish(ctx, f.trainer.ID, c.ID)
	if err != nil || v.ID != e.VersionID {
		t.Fatalf("republish: %v %d", err, v.ID)
	}
	if _, err := f.svc.Publish(ctx, f.trainer.ID, c.ID); !errors.Is(err, ErrNothingToPublish) {
		t.Fatalf("publishing with nothing new: %v", err)
	}
}

func mustVersion(t *testing.T, f fixture, id int64) Version {
	t.Helper()
	v, err := f.svc.Version(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestBadCourseInputIsRefusedAndNothingSaved(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	cases := map[string]struct {
		edit  func(*CourseInput)
		field string
	}{
		"empty title":            {func(in *CourseInput) { in.Title = " " }, "title"},
		"unknown occupation":     {func(in *CourseInput) { in.OccupationCode = "9-99" }, "occupation_code"},
		"level out of range":     {func(in *CourseInput) { in.Level = 7 }, "occupation_code"},
		"negative required":      {func(in *CourseInput) { in.RequiredHours = -1 }, "required_hours"},
		"required over lessons":  {func(in *CourseInput) { in.RequiredHours = 6 }, "required_hours"}, // the lessons give 1.5 h
		"no modules":             {func(in *CourseInput) { in.Modules = nil }, "modules"},
		"module without lessons": {func(in *CourseInput) { in.Modules[0].Lessons = nil }, "modules.0.lessons"},
		"lesson hours":           {func(in *CourseInput) { in.Modules[0].Lessons[1].Hours = 101 }, "modules.0.lessons.1.hours"},
		"min seconds":            {func(in *CourseInput) { in.Modules[0].Lessons[0].MinSeconds = -5 }, "modules.0.lessons.0.min_seconds"},
		"video not https":        {func(in *CourseInput) { in.Modules[0].Lessons[0].VideoURL = "javascript:alert(1)" }, "modules.0.lessons.0.video_url"},
		"body too long":          {func(in *CourseInput) { in.Modules[0].Lessons[0].Body = strings.Repeat("字", MaxBodyRunes+1) }, "modules.0.lessons.0.body"},
	}
	for name, tc := range cases {
		in := sampleCourse("卫生保健与疾病预防")
		tc.edit(&in)
		_, err := f.svc.CreateCourse(ctx, f.trainer.ID, f.hz.ID, in)
		e := failure.As(err)
		if e.Kind != failure.Invalid || e.Fields[tc.field].Key == "" {
			t.Errorf("%s: got %v, want invalid field %s", name, err, tc.field)
		}
	}
	_, total, err := f.svc.Courses(ctx, Filter{All: true})
	if err != nil || total != 0 {
		t.Fatalf("courses stored after bad input: %d %v", total, err)
	}
	// Editing with bad input leaves the stored draft as it was.
	c, err := f.svc.CreateCourse(ctx, f.trainer.ID, f.hz.ID, sampleCourse("卫生保健与疾病预防"))
	if err != nil {
		t.Fatal(err)
	}
	bad := sampleCourse("x")
	if _, err := f.svc.SaveDraft(ctx, f.trainer.ID, c.ID, bad); failure.As(err).Kind != failure.Invalid {
		t.Fatalf("bad edit: %v", err)
	}
	if v := mustVersion(t, f, c.DraftVersionID); v.Title != "卫生保健与疾病预防" || len(v.Lessons()) != 2 {
		t.Fatalf("draft changed by a refused edit: %+v", v)
	}
	if _, err := f.svc.CreateCourse(ctx, f.trainer.ID, 999999, sampleCourse("卫生保健与疾病预防")); failure.As(err).Kind != failure.Invalid {
		t.Fatalf("unknown organisation: %v", err)
	}
}

func TestCatalogueSearch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.published(t, "婴幼儿生活照料")
	f.published(t, "早期发展支持")
	nb, err := f.svc.CreateCourse(ctx, f.trainer.ID, f.nb.ID, sampleCourse("职业道德与心理健康"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Publish(ctx, f.trainer.ID, nb.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateCourse(ctx, f.trainer.ID, f.hz.ID, sampleCourse("未发布的草稿")); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		f    Filter
		want int
	}{
		"all published": {Filter{}, 3},
		"title":         {Filter{Query: "发展"}, 1},
		"centre":        {Filter{Centre: "nb001"}, 1},
		"region 3301":   {Filter{Region: "3301"}, 2},
		"occupation":    {Filter{Occupation: "4-10-01-02"}, 0},
		"level":         {Filter{Level: 4}, 3},
		"page":          {Filter{Limit: 2, Offset: 2}, 1},
		"like escaping": {Filter{Query: "%"}, 0},
	} {
		list, total, err := f.svc.Courses(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != tc.want {
			t.Errorf("%s: %d items (total %d), want %d", name, len(list), total, tc.want)
		}
	}
}

func TestMarkdownIsSanitised(t *testing.T) {
	t.Parallel()
	out := RenderMarkdown("# 标题\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) **粗体**\n\n<img src=x onerror=alert(1)>")
	for _, bad := range []string{"<script", "javascript:", "onerror"} {
		if strings.Contains(out, bad) {
			t.Errorf("rendered Markdown keeps %q: %s", bad, out)
		}
	}
	if !strings.Contains(out, "<h1") || !strings.Contains(out, "<strong>粗体</strong>") {
		t.Errorf("Markdown not rendered: %s", out)
	}
}
