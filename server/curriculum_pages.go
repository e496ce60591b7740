package server

import (
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
	"shanyu/certificates"
	"shanyu/curriculum"
	"shanyu/internal/failure"
)

func (s *Server) routesCurriculumPages() {
	s.page("GET", "/courses", public, scopePublic, s.coursesPage)
	s.page("GET", "/courses/:id", public, scopePublic, s.coursePage)
	s.page("POST", "/courses/:id/enrol", can("learning.enrol", "write"), byCourse("id"), s.enrolSubmit)
	s.page("GET", "/learn", signedIn, scopeOwn, s.learnPage)
	s.page("GET", "/learn/courses/:id", signedIn, byCourse("id"), s.learnCoursePage)
	s.page("GET", "/learn/lessons/:id", can("learning.study", "write"), byLesson("id"), s.lessonPage)
	s.page("POST", "/learn/lessons/:id/complete", can("learning.study", "write"), byLesson("id"), s.completeLessonSubmit)
	s.page("GET", "/hours", signedIn, scopeOwn, s.hoursPage)
	s.page("GET", "/hours.csv", signedIn, scopeOwn, s.hoursCSV)
	s.page("GET", "/hours.pdf", signedIn, scopeOwn, s.hoursPDF)

	s.page("GET", "/centre/courses", can("courses.edit", "read"), scopeHeld, s.centreCoursesPage)
	s.page("POST", "/centre/courses", can("courses.edit", "write"), scopeHeld, s.createCourseSubmit)
	s.page("GET", "/centre/courses/:id", can("courses.edit", "read"), byCourse("id"), s.editCoursePage)
	s.page("POST", "/centre/courses/:id", can("courses.edit", "write"), byCourse("id"), s.saveCourseSubmit)
	s.page("GET", "/centre/courses/:id/preview", can("courses.edit", "read"), byCourse("id"), s.previewCoursePage)
	s.page("POST", "/centre/courses/:id/publish", can("courses.edit", "write"), byCourse("id"), s.coursePublishSubmit)
	s.page("POST", "/centre/courses/:id/unpublish", can("courses.edit", "write"), byCourse("id"), s.courseUnpublishSubmit)
	s.page("POST", "/centre/markdown-preview", can("courses.edit", "write"), scopeHeld, s.markdownPreview)
}

// courseOccupation is one occupation and level offered in course forms and filters.
type courseOccupation struct {
	Value, Code string
	Level       int
	Label       string
}

// courseOccupations lists 保育师 and 育婴员 at every level they have, named in lang.
func courseOccupations(lang string) []courseOccupation {
	var out []courseOccupation
	for _, code := range []string{"4-10-01-03", "4-10-01-02"} {
		for level := 5; level >= 1; level-- {
			if _, err := certificates.LevelTitles(code, level); err == nil {
				out = append(out, courseOccupation{Value: code + ":" + strconv.Itoa(level), Code: code, Level: level, Label: courseLevelName(lang, code, level)})
			}
		}
	}
	return out
}

// courseOccupationName names an occupation without a level (every occupation has level 5).
func courseOccupationName(lang, code string) string {
	t, err := certificates.LevelTitles(code, 5)
	switch {
	case err != nil:
		return code
	case lang == "en":
		return t.OccupationEN
	}
	return t.OccupationZH
}

// courseLevelName names an occupation at a level, e.g. 保育师 四级/中级工.
func courseLevelName(lang, code string, level int) string {
	t, err := certificates.LevelTitles(code, level)
	if err != nil {
		return code + " / " + strconv.Itoa(level)
	}
	if lang == "en" {
		return t.OccupationEN + ", " + t.LevelEN
	}
	return t.OccupationZH + " " + t.LevelZH
}

type courseCardView struct {
	curriculum.Course
	LevelName string
	Hours     string
}

func (s *Server) cards(lang string, list []curriculum.Course) []courseCardView {
	out := make([]courseCardView, len(list))
	for i, c := range list {
		out[i] = courseCardView{Course: c, LevelName: courseLevelName(lang, c.OccupationCode, c.Level), Hours: fmtHours(c.TotalHours)}
	}
	return out
}

// coursePagerURLs builds previous/next links that keep the other query parameters.
func coursePagerURLs(c *fiber.Ctx, path string, limit, offset, total int) (prev, next string) {
	q := url.Values{}
	c.Context().QueryArgs().VisitAll(func(k, v []byte) { q.Set(string(k), string(v)) })
	if offset > 0 {
		q.Set("offset", strconv.Itoa(max(offset-limit, 0)))
		prev = path + "?" + q.Encode()
	}
	if offset+limit < total {
		q.Set("offset", strconv.Itoa(offset+limit))
		next = path + "?" + q.Encode()
	}
	return prev, next
}

func (s *Server) coursesPage(c *fiber.Ctx) error {
	lang := langOf(c)
	f := s.curriculumFilter(c)
	if v := c.Query("occupation"); strings.Contains(v, ":") {
		code, lvl, _ := strings.Cut(v, ":")
		f.Occupation = code
		f.Level, _ = strconv.Atoi(lvl)
	}
	list, total, err := s.domains.Curriculum.Courses(c.UserContext(), f)
	if err != nil {
		return err
	}
	prev, next := coursePagerURLs(c, "/courses", f.Limit, f.Offset, total)
	return s.render(c, "courses", page{Title: s.i18n.T(lang, "curriculum.catalogue.title"), Data: fiber.Map{
		"Items": s.cards(lang, list), "Total": total, "Query": c.Queries(), "Occupations": courseOccupations(lang),
		"Selected": c.Query("occupation"), "PrevURL": prev, "NextURL": next,
	}})
}

func (s *Server) coursePage(c *fiber.Ctx) error {
	lang := langOf(c)
	co, err := s.visibleCourse(c)
	if err != nil {
		return err
	}
	v, err := s.domains.Curriculum.Version(c.UserContext(), co.VersionID)
	if err != nil {
		return err
	}
	data := fiber.Map{"Course": s.cards(lang, []curriculum.Course{co})[0], "Version": v, "Notice": curriculumNotice(s, c)}
	if who := principalOf(c); who != nil {
		if e, err := s.domains.Curriculum.EnrolmentIn(c.UserContext(), who.User.PersonID, co.ID); err == nil {
			data["Enrolment"] = e
		}
		data["CanEnrol"] = s.access.Allowed(*who, "learning.enrol", "write")
	}
	return s.render(c, "course", page{Title: co.Title, Data: data})
}

// curriculumNotice translates a ?notice= key from a redirect after a successful form, if it is one of ours.
func curriculumNotice(s *Server, c *fiber.Ctx) string {
	key := c.Query("notice")
	if !strings.HasPrefix(key, "curriculum.notice.") || !s.i18n.Has(key) {
		return ""
	}
	return s.i18n.T(langOf(c), key)
}

func (s *Server) enrolSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	_, err = s.domains.Curriculum.Enrol(c.UserContext(), principalOf(c).User.PersonID, id)
	if err != nil && !errors.Is(err, curriculum.ErrAlreadyEnrolled) {
		return err
	}
	return c.Redirect("/learn/courses/"+strconv.FormatInt(id, 10)+"?notice=curriculum.notice.enrolled", fiber.StatusSeeOther)
}

func (s *Server) learnPage(c *fiber.Ctx) error {
	lang := langOf(c)
	list, err := s.domains.Curriculum.Enrolments(c.UserContext(), principalOf(c).User.PersonID)
	if err != nil {
		return err
	}
	type row struct {
		curriculum.Enrolment
		LevelName, Hours, Required string
		Percent                    int
	}
	rows := make([]row, len(list))
	for i, e := range list {
		pct := 0
		if e.LessonCount > 0 {
			pct = e.LessonsDone * 100 / e.LessonCount
		}
		rows[i] = row{Enrolment: e, LevelName: courseLevelName(lang, e.OccupationCode, e.Level), Hours: fmtHours(e.HoursEarned), Required: fmtHours(e.RequiredHours), Percent: pct}
	}
	return s.render(c, "learn", page{Title: s.i18n.T(lang, "curriculum.learn.title"), Data: fiber.Map{"Items": rows}})
}

type courseLessonRow struct {
	curriculum.Lesson
	Done, Opened bool
	Hours        string
}

type courseModuleRows struct {
	Title   string
	Lessons []courseLessonRow
}

// enrolledContent is an enrolment's version with the learner's progress on each lesson.
func (s *Server) enrolledContent(c *fiber.Ctx, e curriculum.Enrolment) ([]courseModuleRows, []courseLessonRow, error) {
	v, err := s.domains.Curriculum.Version(c.UserContext(), e.VersionID)
	if err != nil {
		return nil, nil, err
	}
	prog, err := s.domains.Curriculum.ProgressOf(c.UserContext(), e.ID)
	if err != nil {
		return nil, nil, err
	}
	var mods []courseModuleRows
	var flat []courseLessonRow
	for _, m := range v.Modules {
		mr := courseModuleRows{Title: m.Title}
		for _, l := range m.Lessons {
			p, opened := prog[l.ID]
			r := courseLessonRow{Lesson: l, Done: p.Done(), Opened: opened, Hours: fmtHours(l.Hours)}
			mr.Lessons = append(mr.Lessons, r)
			flat = append(flat, r)
		}
		mods = append(mods, mr)
	}
	return mods, flat, nil
}

func (s *Server) learnCoursePage(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	e, err := s.domains.Curriculum.EnrolmentIn(c.UserContext(), principalOf(c).User.PersonID, id)
	if err != nil {
		return err
	}
	mods, _, err := s.enrolledContent(c, e)
	if err != nil {
		return err
	}
	return s.render(c, "learn_course", page{Title: e.Title, Data: fiber.Map{"Enrolment": e, "Modules": mods, "Hours": fmtHours(e.HoursEarned),
		"Required": fmtHours(e.RequiredHours), "LevelName": courseLevelName(langOf(c), e.OccupationCode, e.Level), "Notice": curriculumNotice(s, c)}})
}

func (s *Server) lessonPage(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	st, err := s.domains.Curriculum.OpenLesson(c.UserContext(), principalOf(c).User.PersonID, id)
	if err != nil {
		return err
	}
	return s.renderLesson(c, st, "")
}

func (s *Server) renderLesson(c *fiber.Ctx, st curriculum.LessonState, message string) error {
	_, flat, err := s.enrolledContent(c, st.Enrolment)
	if err != nil {
		return err
	}
	var next *courseLessonRow
	pos := 0
	for i, l := range flat {
		if l.ID == st.Lesson.ID {
			pos = i + 1
			if i+1 < len(flat) {
				next = &flat[i+1]
			}
		}
	}
	atts, err := s.domains.Curriculum.LessonAttachments(c.UserContext(), st.Lesson)
	if err != nil {
		return err
	}
	return s.render(c, "learn_lesson", page{Title: st.Lesson.Title, Data: fiber.Map{
		"State": st, "Attachments": atts, "Body": template.HTML(curriculum.RenderMarkdown(st.Lesson.Body)), //nolint:gosec // sanitised by bluemonday
		"Hours": fmtHours(st.Lesson.Hours), "Next": next, "Position": pos, "Count": len(flat), "Message": message,
		"Notice": curriculumNotice(s, c), "Course": st.Enrolment,
	}})
}

func (s *Server) completeLessonSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	who := principalOf(c)
	_, err = s.domains.Curriculum.CompleteLesson(c.UserContext(), who.User.PersonID, id)
	if err == nil {
		return c.Redirect("/learn/lessons/"+strconv.FormatInt(id, 10)+"?notice=curriculum.notice.completed", fiber.StatusSeeOther)
	}
	if failure.As(err).Kind != failure.Conflict { // only "not yet" (too early to complete) shows the lesson again
		return err
	}
	st, oerr := s.domains.Curriculum.OpenLesson(c.UserContext(), who.User.PersonID, id)
	if oerr != nil {
		return oerr
	}
	f, err := s.failedForm(c, err)
	if f == nil {
		return err
	}
	return s.renderLesson(c, st, f.Message)
}

func (s *Server) transcriptLabels(lang string) curriculum.TranscriptLabels {
	t := func(k string) string { return s.i18n.T(lang, "curriculum.transcript."+k) }
	return curriculum.TranscriptLabels{Title: t("title"), Holder: t("holder"), Period: t("period"), Generated: t("generated"), Total: t("total"),
		Date: t("date"), Kind: t("kind"), Source: t("source"), Occupation: t("occupation"), Hours: t("hours"), Note: t("note"), Footer: t("footer"),
		Kinds: map[string]string{curriculum.KindLesson: s.i18n.T(lang, "curriculum.kind.lesson"), curriculum.KindSession: s.i18n.T(lang, "curriculum.kind.session"),
			curriculum.KindCorrection: s.i18n.T(lang, "curriculum.kind.correction")}, Times: s.i18n.Times(lang)}
}

func (s *Server) hoursPage(c *fiber.Ctx) error {
	lang := langOf(c)
	r, err := s.myHoursReport(c)
	data := fiber.Map{"From": c.Query("from"), "To": c.Query("to"), "Query": c.Context().QueryArgs().String()}
	if err != nil {
		fp := formPage{}
		if ferr := s.formError(c, err, &fp); ferr != nil {
			return ferr
		}
		data["Form"] = fp
		return s.render(c, "hours", page{Title: s.i18n.T(lang, "curriculum.hours.title"), Data: data})
	}
	type entry struct {
		curriculum.Entry
		LevelName, Hours, Date string
	}
	entries := make([]entry, len(r.Entries))
	for i, e := range r.Entries {
		entries[i] = entry{Entry: e, LevelName: courseLevelName(lang, e.OccupationCode, e.Level), Hours: fmtHours(e.Hours), Date: s.i18n.Times(lang).DateTime(e.EarnedAt)}
	}
	type group struct{ Label, Hours string }
	conv := func(gs []curriculum.HoursGroup, occupation bool) []group {
		out := make([]group, len(gs))
		for i, g := range gs {
			out[i] = group{Label: g.Label, Hours: fmtHours(g.Hours)}
			if occupation {
				out[i].Label = courseOccupationName(lang, g.Key)
			}
		}
		return out
	}
	data["Total"] = fmtHours(r.Total)
	data["ByCourse"], data["ByOccupation"], data["ByMonth"] = conv(r.ByCourse, false), conv(r.ByOccupation, true), conv(r.ByMonth, false)
	data["Entries"] = entries
	return s.render(c, "hours", page{Title: s.i18n.T(lang, "curriculum.hours.title"), Data: data})
}

func (s *Server) hoursCSV(c *fiber.Ctx) error {
	r, err := s.myHoursReport(c)
	if err != nil {
		return err
	}
	b, err := s.domains.Curriculum.TranscriptCSV(r, s.transcriptLabels(langOf(c)))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="hours.csv"`)
	return c.Send(b)
}

func (s *Server) hoursPDF(c *fiber.Ctx) error {
	r, err := s.myHoursReport(c)
	if err != nil {
		return err
	}
	b, err := s.domains.Curriculum.TranscriptPDF(principalOf(c).User.Name, r, s.transcriptLabels(langOf(c)))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="transcript.pdf"`)
	return c.Send(b)
}

// myTrainingCentres lists the training centres where the signed-in user may act on obj.
func (s *Server) myTrainingCentres(c *fiber.Ctx, obj, act string) ([]accounts.Organisation, error) {
	who := principalOf(c)
	var out []accounts.Organisation
	seen := map[string]bool{}
	for _, g := range who.Grants {
		code, ok := strings.CutPrefix(g.Domain, "org:")
		if !ok || seen[code] {
			continue
		}
		seen[code] = true
		o, err := s.accounts.OrganisationByCode(c.UserContext(), code)
		if err != nil {
			return nil, err
		}
		if o.Kind == accounts.KindTrainingCentre && s.access.Allowed(*who, obj, act, o.Domains()...) {
			out = append(out, o)
		}
	}
	return out, nil
}

// pickTrainingCentre picks the centre named by ?org= (or the form's org) among the user's, else the first.
func pickTrainingCentre(centres []accounts.Organisation, code string) (accounts.Organisation, bool) {
	for _, o := range centres {
		if strings.EqualFold(o.Code, code) {
			return o, true
		}
	}
	if len(centres) > 0 && code == "" {
		return centres[0], true
	}
	return accounts.Organisation{}, false
}

func (s *Server) centreCoursesPage(c *fiber.Ctx) error {
	return s.renderCentreCourses(c, c.Query("org"), courseEditor{Form: formPage{Values: map[string]string{"occupation": "4-10-01-03:4"}}, Structure: structureOf(nil)})
}

func (s *Server) renderCentreCourses(c *fiber.Ctx, orgCode string, ed courseEditor) error {
	lang := langOf(c)
	centres, err := s.myTrainingCentres(c, "courses.edit", "read")
	if err != nil {
		return err
	}
	o, ok := pickTrainingCentre(centres, orgCode)
	if !ok {
		return failure.New(failure.Forbidden, "error.forbidden")
	}
	list, total, err := s.domains.Curriculum.Courses(c.UserContext(), curriculum.Filter{OrgID: o.ID, All: true, Limit: 200})
	if err != nil {
		return err
	}
	ed.Lang, ed.Occupations, ed.Submit = lang, courseOccupations(lang), "create-course"
	ed.Previews = lessonPreviews(ed.Structure)
	return s.render(c, "course_admin", page{Title: s.i18n.T(lang, "curriculum.centre.title"), Data: fiber.Map{
		"Centre": o, "Centres": centres, "Items": s.cards(lang, list), "Total": total, "Notice": curriculumNotice(s, c),
		"Editor": ed}})
}

// courseEditor is what the shared "course-fields" template needs.
type courseEditor struct {
	Lang        string
	Submit      string // the id of the form's save button
	Form        formPage
	Occupations []courseOccupation
	Structure   structureForm
	Previews    map[string]template.HTML // lesson bodies rendered, by "module.lesson"
	Summary     []editorProblem          // every problem of a refused save, in the form's order
	ImportOpen  bool
}

// editorProblem is one message of a refused save, linked to its field.
type editorProblem struct{ ID, Message string }

// courseSubmission is what the editor form sent.
type courseSubmission struct {
	Input      curriculum.CourseInput
	Editor     courseEditor
	Rearranged bool // an add, remove, move or import button: show the form again, save nothing
}

// courseForm reads the editor form: the course's fields, its structure fields (or, from a client
// that sends only the === / --- text, that text) and the button pressed.
func courseForm(c *fiber.Ctx) (courseSubmission, error) {
	values := map[string]string{}
	for _, k := range []string{"title", "summary", "occupation", "required_hours", "outline"} {
		values[k] = c.FormValue(k)
	}
	sf, hasFields := readStructure(c)
	sub := courseSubmission{Editor: courseEditor{Form: formPage{Values: values}, Structure: sf}}
	sub.Input = curriculum.CourseInput{Title: values["title"], Summary: values["summary"]}
	code, lvl, _ := strings.Cut(values["occupation"], ":")
	sub.Input.OccupationCode = code
	sub.Input.Level, _ = strconv.Atoi(lvl)
	op := c.FormValue("op")
	if op == "import" || !hasFields {
		sub.Editor.ImportOpen = true
		mods, err := curriculum.ParseOutline(values["outline"])
		if err != nil {
			if !hasFields {
				sub.Editor.Structure = structureOf(nil)
			}
			return sub, err
		}
		sub.Editor.Structure = structureOf(mods)
		if op == "import" {
			sub.Editor.ImportOpen, sub.Rearranged = false, true
			sub.Editor.Form.Values["outline"] = ""
			return sub, nil
		}
	}
	if sub.Editor.Structure.rearrange(op) {
		sub.Rearranged = true
		return sub, nil
	}
	mods, f := sub.Editor.Structure.inputs()
	sub.Input.Modules = mods
	if h, err := strconv.ParseFloat(strings.TrimSpace(values["required_hours"]), 64); err == nil {
		sub.Input.RequiredHours = h
	} else {
		f.Add("required_hours", "curriculum.number_invalid")
	}
	return sub, f.Err()
}

// editorFieldOrder is the editor's fields as they appear on it, for the order of its messages.
func editorFieldOrder(sf structureForm) []string {
	order := []string{"title", "summary", "occupation_code", "required_hours", "outline", "modules"}
	for i, m := range sf.Modules {
		p := fmt.Sprintf("modules.%d.", i)
		order = append(order, p+"title")
		for j := range m.Lessons {
			lp := fmt.Sprintf("%slessons.%d.", p, j)
			order = append(order, lp+"title", lp+"hours", lp+"min_seconds", lp+"video_url", lp+"body")
		}
		order = append(order, p+"lessons")
	}
	return order
}

// editorFieldID is the id of the control a field's message belongs to.
func editorFieldID(field string) string {
	switch field {
	case "title", "summary", "outline":
		return "c-" + field
	case "occupation_code":
		return "c-occupation"
	case "required_hours":
		return "c-required"
	case "modules":
		return "structure"
	}
	parts := strings.Split(field, ".")
	switch {
	case len(parts) == 3 && parts[2] == "title":
		return "m" + parts[1] + "-title"
	case len(parts) == 3:
		return "m" + parts[1] + "-lessons"
	case len(parts) == 5:
		return "m" + parts[1] + "-l" + parts[3] + "-" + strings.ReplaceAll(parts[4], "_", "-")
	}
	return "structure"
}

// editorErrors shows a refused save on the editor: each message beside its field, naming the module
// and lesson, and all of them listed above the form with links to their fields.
func (s *Server) editorErrors(c *fiber.Ctx, err error, ed *courseEditor) error {
	f, pass := s.failedForm(c, err, editorFieldOrder(ed.Structure)...)
	if f == nil {
		return pass
	}
	ed.Form.Errors, ed.Form.Message = f.ByField(), f.Message
	s.placeMessages(langOf(c), &ed.Form)
	for _, fm := range f.Fields {
		ed.Summary = append(ed.Summary, editorProblem{ID: editorFieldID(fm.Field), Message: ed.Form.Errors[fm.Field]})
		if fm.Field == "outline" {
			ed.ImportOpen = true
		}
	}
	return nil
}

func (s *Server) createCourseSubmit(c *fiber.Ctx) error {
	centres, err := s.myTrainingCentres(c, "courses.edit", "write")
	if err != nil {
		return err
	}
	o, ok := pickTrainingCentre(centres, c.FormValue("org"))
	if !ok {
		return failure.New(failure.Forbidden, "error.forbidden")
	}
	sub, err := courseForm(c)
	if sub.Rearranged {
		return s.renderCentreCourses(c, o.Code, sub.Editor)
	}
	if err == nil {
		var co curriculum.Course
		co, err = s.domains.Curriculum.CreateCourse(c.UserContext(), principalOf(c).User.ID, o.ID, sub.Input)
		if err == nil {
			return c.Redirect("/centre/courses/"+strconv.FormatInt(co.ID, 10)+"?notice=curriculum.notice.saved", fiber.StatusSeeOther)
		}
	}
	if ferr := s.editorErrors(c, err, &sub.Editor); ferr != nil {
		return ferr
	}
	status := c.Response().StatusCode()
	if rerr := s.renderCentreCourses(c, o.Code, sub.Editor); rerr != nil {
		return rerr
	}
	c.Status(status)
	return nil
}

func (s *Server) renderEditor(c *fiber.Ctx, co curriculum.Course, ed courseEditor) error {
	lang := langOf(c)
	versions, err := s.domains.Curriculum.Versions(c.UserContext(), co.ID)
	if err != nil {
		return err
	}
	if ed.Form.Values == nil {
		// Edit the draft when there is one, else start from the latest version.
		v, err := s.domains.Curriculum.Version(c.UserContext(), versions[0].ID)
		if err != nil {
			return err
		}
		in := v.Input()
		ed.Form.Values = map[string]string{"title": in.Title, "summary": in.Summary, "occupation": in.OccupationCode + ":" + strconv.Itoa(in.Level),
			"required_hours": fmtHours(in.RequiredHours)}
		ed.Structure = structureOf(in.Modules)
	}
	ed.Lang, ed.Occupations, ed.Submit = lang, courseOccupations(lang), "save-draft"
	ed.Previews = lessonPreviews(ed.Structure)
	return s.render(c, "course_edit", page{Title: co.Title, Data: fiber.Map{"Course": s.cards(lang, []curriculum.Course{co})[0], "Versions": versions,
		"Notice": curriculumNotice(s, c), "Editor": ed}})
}

func (s *Server) editCoursePage(c *fiber.Ctx) error {
	co, err := s.editableCourse(c, "read")
	if err != nil {
		return err
	}
	return s.renderEditor(c, co, courseEditor{})
}

func (s *Server) saveCourseSubmit(c *fiber.Ctx) error {
	co, err := s.editableCourse(c, "write")
	if err != nil {
		return err
	}
	sub, err := courseForm(c)
	if sub.Rearranged {
		return s.renderEditor(c, co, sub.Editor)
	}
	if err == nil {
		if _, err = s.domains.Curriculum.SaveDraft(c.UserContext(), principalOf(c).User.ID, co.ID, sub.Input); err == nil {
			return c.Redirect("/centre/courses/"+strconv.FormatInt(co.ID, 10)+"?notice=curriculum.notice.saved", fiber.StatusSeeOther)
		}
	}
	if ferr := s.editorErrors(c, err, &sub.Editor); ferr != nil {
		return ferr
	}
	status := c.Response().StatusCode()
	if rerr := s.renderEditor(c, co, sub.Editor); rerr != nil {
		return rerr
	}
	c.Status(status)
	return nil
}

func (s *Server) previewCoursePage(c *fiber.Ctx) error {
	co, err := s.editableCourse(c, "read")
	if err != nil {
		return err
	}
	vid := co.DraftVersionID
	if q, err := strconv.ParseInt(c.Query("version"), 10, 64); err == nil {
		vid = q
	}
	if vid == 0 {
		vid = co.VersionID
	}
	v, err := s.domains.Curriculum.Version(c.UserContext(), vid)
	if err != nil || v.CourseID != co.ID {
		return curriculum.ErrVersionNotFound
	}
	type lessonView struct {
		curriculum.Lesson
		HTML  template.HTML
		Hours string
	}
	type moduleView struct {
		Title   string
		Lessons []lessonView
	}
	var mods []moduleView
	for _, m := range v.Modules {
		mv := moduleView{Title: m.Title}
		for _, l := range m.Lessons {
			mv.Lessons = append(mv.Lessons, lessonView{Lesson: l, HTML: template.HTML(curriculum.RenderMarkdown(l.Body)), Hours: fmtHours(l.Hours)}) //nolint:gosec // sanitised
		}
		mods = append(mods, mv)
	}
	return s.render(c, "course_preview", page{Title: v.Title, Data: fiber.Map{"Course": co, "Version": v, "Modules": mods,
		"LevelName": courseLevelName(langOf(c), v.OccupationCode, v.Level), "Hours": fmtHours(v.TotalHours())}})
}

func (s *Server) coursePublishSubmit(c *fiber.Ctx) error {
	co, err := s.editableCourse(c, "write")
	if err != nil {
		return err
	}
	if _, err := s.domains.Curriculum.Publish(c.UserContext(), principalOf(c).User.ID, co.ID); err != nil {
		return err
	}
	return c.Redirect("/centre/courses/"+strconv.FormatInt(co.ID, 10)+"?notice=curriculum.notice.published", fiber.StatusSeeOther)
}

func (s *Server) courseUnpublishSubmit(c *fiber.Ctx) error {
	co, err := s.editableCourse(c, "write")
	if err != nil {
		return err
	}
	if err := s.domains.Curriculum.Unpublish(c.UserContext(), principalOf(c).User.ID, co.ID); err != nil {
		return err
	}
	return c.Redirect("/centre/courses/"+strconv.FormatInt(co.ID, 10)+"?notice=curriculum.notice.unpublished", fiber.StatusSeeOther)
}
