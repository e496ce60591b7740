package server

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
	"shanyu/curriculum"
	"shanyu/internal/clock"
	"shanyu/internal/failure"
)

// routesCurriculum registers the curriculum pages and JSON endpoints.
func (s *Server) routesCurriculum() {
	integer := map[string]any{"type": "integer"}
	number := map[string]any{"type": "number"}
	lessonInput := object([]string{"title", "hours"}, map[string]any{"title": str, "body": str, "video_url": str, "hours": number, "min_seconds": integer})
	courseInput := object([]string{"title", "occupation_code", "level", "modules"}, map[string]any{
		"title": str, "summary": str, "occupation_code": str, "level": integer, "required_hours": number,
		"modules": map[string]any{"type": "array", "items": object([]string{"title", "lessons"}, map[string]any{
			"title": str, "lessons": map[string]any{"type": "array", "items": lessonInput}})},
	})
	s.api(apiRoute{Method: "GET", Path: "/api/v1/courses", Scope: scopePublic, Summary: "Course catalogue (published courses)", Tag: "curriculum",
		Query:    []string{"q", "occupation", "level", "centre", "region", "limit", "offset"},
		Response: itemsOf[courseJSON](paging)}, s.apiCourses)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/courses/:id", Scope: scopePublic, Summary: "A published course with its modules and lessons", Tag: "curriculum", Response: schemaOf[courseJSON]()}, s.apiCourse)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/courses/:id/enrolments", Scope: byCourse("id"), Summary: "Enrol in a course", Tag: "curriculum", Perm: can("learning.enrol", "write"), Response: schemaOf[enrolmentJSON](), Status: 201}, s.apiEnrol)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/me/courses", Scope: scopeOwn, Summary: "My enrolments with progress", Tag: "curriculum", Perm: signedIn, Response: itemsOf[enrolmentJSON](map[string]any{"total": integer})}, s.apiMyCourses)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/lessons/:id/open", Scope: byLesson("id"), Summary: "Open a lesson (starts the server-measured study time)", Tag: "curriculum", Perm: can("learning.study", "write"), Response: schemaOf[lessonStateJSON]()}, s.apiOpenLesson)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/lessons/:id/complete", Scope: byLesson("id"), Summary: "Complete a lesson (after its minimum time) and credit its hours", Tag: "curriculum", Perm: can("learning.study", "write"), Response: schemaOf[lessonStateJSON]()}, s.apiCompleteLesson)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/me/hours", Scope: scopeOwn, Summary: "My training hours by course, occupation and month", Tag: "curriculum", Perm: signedIn,
		Query: []string{"from", "to"}, Response: props(map[string]any{"total_hours": map[string]any{"type": "number"}, "by_course": schemaOf[[]hoursGroupJSON](), "by_occupation": schemaOf[[]hoursGroupJSON](), "by_month": schemaOf[[]hoursGroupJSON](), "entries": schemaOf[[]hoursEntryJSON]()})}, s.apiMyHours)

	s.api(apiRoute{Method: "GET", Path: "/api/v1/centres/:code/courses", Scope: byOrg("code"), Summary: "A centre's courses, published or not", Tag: "curriculum", Perm: can("courses.edit", "read"),
		Query: []string{"limit", "offset"}, Response: itemsOf[courseJSON](paging)}, s.apiCentreCourses)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/centres/:code/courses", Scope: byOrg("code"), Summary: "Create a course (first draft version)", Tag: "curriculum", Perm: can("courses.edit", "write"),
		Request: courseInput, Response: schemaOf[courseJSON](), Status: 201}, s.apiCreateCourse)
	s.api(apiRoute{Method: "PUT", Path: "/api/v1/courses/:id/draft", Scope: byCourse("id"), Summary: "Save the draft (a new version when the course is published)", Tag: "curriculum", Perm: can("courses.edit", "write"),
		Request: courseInput, Response: schemaOf[courseVersionJSON]()}, s.apiSaveDraft)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/courses/:id/versions", Scope: byCourse("id"), Summary: "Version history of a course", Tag: "curriculum", Perm: can("courses.edit", "read"), Response: itemsOf[courseVersionJSON](map[string]any{"total": integer})}, s.apiCourseVersions)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/courses/:id/publish", Scope: byCourse("id"), Summary: "Publish the draft", Tag: "curriculum", Perm: can("courses.edit", "write"), Response: schemaOf[courseVersionJSON]()}, s.apiCoursePublish)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/courses/:id/unpublish", Scope: byCourse("id"), Summary: "Take a course out of the catalogue", Tag: "curriculum", Perm: can("courses.edit", "write"), Response: props(map[string]any{"id": integer, "published": boolean})}, s.apiCourseUnpublish)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/hours/:id/corrections", Scope: byEntry("id"), Summary: "Correct a ledger entry (a new entry with a reason)", Tag: "curriculum", Perm: can("courses.hours", "write"),
		Request: object([]string{"hours", "reason"}, map[string]any{"hours": number, "reason": str}), Response: schemaOf[hoursEntryJSON](), Status: 201}, s.apiCorrectHours)

	s.routesCurriculumPages()
	s.routesCurriculumAttachments()
	s.routesCurriculumCorrections()
	s.routesCurriculumCalendar()
	s.routesPracticalSessions()
}

type courseJSON struct {
	ID             int64               `json:"id"`
	Title          string              `json:"title"`
	Summary        string              `json:"summary"`
	OccupationCode string              `json:"occupation_code"`
	Level          int                 `json:"level"`
	CentreCode     string              `json:"centre_code"`
	CentreName     string              `json:"centre_name"`
	RegionCode     string              `json:"region_code"`
	RequiredHours  float64             `json:"required_hours"`
	TotalHours     float64             `json:"total_hours"`
	Lessons        int                 `json:"lessons"`
	Version        int                 `json:"version"`
	Published      bool                `json:"published"`
	HasDraft       bool                `json:"has_draft,omitempty"`
	Modules        []courseModuleJSON  `json:"modules,omitempty"`
	Enrolment      *courseEnrolmentRef `json:"enrolment,omitempty"`
}

type courseModuleJSON struct {
	Title   string             `json:"title"`
	Lessons []courseLessonJSON `json:"lessons"`
}

type courseLessonJSON struct {
	ID         int64   `json:"id"`
	Title      string  `json:"title"`
	Hours      float64 `json:"hours"`
	MinSeconds int     `json:"min_seconds"`
	VideoURL   string  `json:"video_url,omitempty"`
	BodyHTML   string  `json:"body_html,omitempty"`
}

type courseEnrolmentRef struct {
	ID        int64 `json:"id"`
	VersionID int64 `json:"version_id"`
}

func toCourseJSON(c curriculum.Course) courseJSON {
	return courseJSON{ID: c.ID, Title: c.Title, Summary: c.Summary, OccupationCode: c.OccupationCode, Level: c.Level, CentreCode: c.OrgCode,
		CentreName: c.OrgName, RegionCode: c.RegionCode, RequiredHours: c.RequiredHours, TotalHours: roundHours(c.TotalHours), Lessons: c.LessonCount,
		Version: c.VersionNumber, Published: c.Published(), HasDraft: c.DraftVersionID != 0}
}

func toCourseModulesJSON(v curriculum.Version, withBody bool) []courseModuleJSON {
	out := []courseModuleJSON{}
	for _, m := range v.Modules {
		mj := courseModuleJSON{Title: m.Title}
		for _, l := range m.Lessons {
			lj := courseLessonJSON{ID: l.ID, Title: l.Title, Hours: l.Hours, MinSeconds: l.MinSeconds}
			if withBody {
				lj.VideoURL, lj.BodyHTML = l.VideoURL, curriculum.RenderMarkdown(l.Body)
			}
			mj.Lessons = append(mj.Lessons, lj)
		}
		out = append(out, mj)
	}
	return out
}

func roundHours(f float64) float64 { return math.Round(f*100) / 100 }

func (s *Server) curriculumFilter(c *fiber.Ctx) curriculum.Filter {
	limit, offset := pageParams(c)
	level, _ := strconv.Atoi(c.Query("level"))
	return curriculum.Filter{Query: c.Query("q"), Occupation: c.Query("occupation"), Level: level, Centre: c.Query("centre"),
		Region: c.Query("region"), Limit: limit, Offset: offset}
}

func (s *Server) apiCourses(c *fiber.Ctx) error {
	f := s.curriculumFilter(c)
	list, total, err := s.domains.Curriculum.Courses(c.UserContext(), f)
	if err != nil {
		return err
	}
	items := make([]courseJSON, len(list))
	for i, co := range list {
		items[i] = toCourseJSON(co)
	}
	return c.JSON(fiber.Map{"items": items, "total": total, "limit": f.Limit, "offset": f.Offset})
}

// visibleCourse loads a course that the caller may see: published ones for everyone; unpublished
// ones for their centre's staff and for learners enrolled in them.
func (s *Server) visibleCourse(c *fiber.Ctx) (curriculum.Course, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return curriculum.Course{}, err
	}
	co, err := s.domains.Curriculum.Course(c.UserContext(), id)
	if err != nil || co.Published() {
		return co, err
	}
	if who := principalOf(c); who != nil {
		if s.access.Allowed(*who, "courses.edit", "read", s.courseDomains(co)...) {
			return co, nil
		}
		if _, err := s.domains.Curriculum.EnrolmentIn(c.UserContext(), who.User.PersonID, co.ID); err == nil {
			return co, nil
		}
	}
	return co, curriculum.ErrCourseNotFound
}

func (s *Server) courseDomains(co curriculum.Course) []string {
	return []string{accounts.OrgDomain(co.OrgCode), accounts.RegionDomain(co.RegionCode)}
}

func (s *Server) apiCourse(c *fiber.Ctx) error {
	co, err := s.visibleCourse(c)
	if err != nil {
		return err
	}
	v, err := s.domains.Curriculum.Version(c.UserContext(), co.VersionID)
	if err != nil {
		return err
	}
	j := toCourseJSON(co)
	j.Modules = toCourseModulesJSON(v, false)
	if who := principalOf(c); who != nil {
		if e, err := s.domains.Curriculum.EnrolmentIn(c.UserContext(), who.User.PersonID, co.ID); err == nil {
			j.Enrolment = &courseEnrolmentRef{ID: e.ID, VersionID: e.VersionID}
		}
	}
	return c.JSON(j)
}

type enrolmentJSON struct {
	ID             int64     `json:"id"`
	CourseID       int64     `json:"course_id"`
	VersionID      int64     `json:"version_id"`
	Title          string    `json:"title"`
	CentreName     string    `json:"centre_name"`
	OccupationCode string    `json:"occupation_code"`
	Level          int       `json:"level"`
	RequiredHours  float64   `json:"required_hours"`
	HoursEarned    float64   `json:"hours_earned"`
	LessonsDone    int       `json:"lessons_done"`
	Lessons        int       `json:"lessons"`
	EnrolledAt     time.Time `json:"enrolled_at"`
}

func toEnrolmentJSON(e curriculum.Enrolment) enrolmentJSON {
	return enrolmentJSON{ID: e.ID, CourseID: e.CourseID, VersionID: e.VersionID, Title: e.Title, CentreName: e.OrgName, OccupationCode: e.OccupationCode,
		Level: e.Level, RequiredHours: e.RequiredHours, HoursEarned: roundHours(e.HoursEarned), LessonsDone: e.LessonsDone, Lessons: e.LessonCount, EnrolledAt: e.EnrolledAt}
}

func (s *Server) apiEnrol(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	e, err := s.domains.Curriculum.Enrol(c.UserContext(), principalOf(c).User.PersonID, id)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toEnrolmentJSON(e))
}

func (s *Server) apiMyCourses(c *fiber.Ctx) error {
	list, err := s.domains.Curriculum.Enrolments(c.UserContext(), principalOf(c).User.PersonID)
	if err != nil {
		return err
	}
	items := make([]enrolmentJSON, len(list))
	for i, e := range list {
		items[i] = toEnrolmentJSON(e)
	}
	return c.JSON(fiber.Map{"items": items, "total": len(items)})
}

type lessonStateJSON struct {
	Lesson           courseLessonJSON `json:"lesson"`
	CourseID         int64            `json:"course_id"`
	OpenedAt         time.Time        `json:"opened_at"`
	CompletedAt      *time.Time       `json:"completed_at"`
	RemainingSeconds int              `json:"remaining_seconds"`
	Credited         bool             `json:"credited"`
}

func toLessonStateJSON(st curriculum.LessonState) lessonStateJSON {
	l := st.Lesson
	return lessonStateJSON{Lesson: courseLessonJSON{ID: l.ID, Title: l.Title, Hours: l.Hours, MinSeconds: l.MinSeconds, VideoURL: l.VideoURL, BodyHTML: curriculum.RenderMarkdown(l.Body)},
		CourseID: st.Enrolment.CourseID, OpenedAt: st.Progress.OpenedAt, CompletedAt: st.Progress.CompletedAt, RemainingSeconds: st.RemainingSec, Credited: st.Credited}
}

func (s *Server) apiOpenLesson(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	st, err := s.domains.Curriculum.OpenLesson(c.UserContext(), principalOf(c).User.PersonID, id)
	if err != nil {
		return err
	}
	return c.JSON(toLessonStateJSON(st))
}

func (s *Server) apiCompleteLesson(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	st, err := s.domains.Curriculum.CompleteLesson(c.UserContext(), principalOf(c).User.PersonID, id)
	if err != nil {
		return err
	}
	return c.JSON(toLessonStateJSON(st))
}

// hoursPeriod reads from/to (YYYY-MM-DD, dates in the product's zone; to inclusive); the default is everything.
func hoursPeriod(c *fiber.Ctx) (from, to time.Time, err error) {
	from, to = time.Date(2000, 1, 1, 0, 0, 0, 0, clock.Zone()), time.Date(2100, 1, 1, 0, 0, 0, 0, clock.Zone())
	var f failure.Fields
	if v := c.Query("from"); v != "" {
		if from, err = clock.Parse(time.DateOnly, v); err != nil {
			f.Add("from", "curriculum.date_invalid")
		}
	}
	if v := c.Query("to"); v != "" {
		t, perr := clock.Parse(time.DateOnly, v)
		if perr != nil {
			f.Add("to", "curriculum.date_invalid")
		} else {
			to = t.AddDate(0, 0, 1)
		}
	}
	if f == nil && !to.After(from) {
		f.Add("to", "curriculum.period_invalid")
	}
	return from, to, f.Err()
}

type hoursGroupJSON struct {
	Key   string  `json:"key"`
	Label string  `json:"label"`
	Hours float64 `json:"hours"`
}

type hoursEntryJSON struct {
	ID             int64     `json:"id"`
	Kind           string    `json:"kind"`
	Title          string    `json:"title"`
	Version        int       `json:"version,omitempty"` // the course version studied, for lesson hours
	OccupationCode string    `json:"occupation_code"`
	Level          int       `json:"level"`
	Hours          float64   `json:"hours"`
	EarnedAt       time.Time `json:"earned_at"`
	CorrectsID     int64     `json:"corrects_id,omitempty"`
	Reason         string    `json:"reason,omitempty"`
}

func hoursGroupsJSON(g []curriculum.HoursGroup) []hoursGroupJSON {
	out := make([]hoursGroupJSON, len(g))
	for i, x := range g {
		out[i] = hoursGroupJSON{Key: x.Key, Label: x.Label, Hours: roundHours(x.Hours)}
	}
	return out
}

func (s *Server) myHoursReport(c *fiber.Ctx) (curriculum.HoursReport, error) {
	from, to, err := hoursPeriod(c)
	if err != nil {
		return curriculum.HoursReport{}, err
	}
	return s.domains.Curriculum.Hours(c.UserContext(), principalOf(c).User.PersonID, from, to)
}

func (s *Server) apiMyHours(c *fiber.Ctx) error {
	r, err := s.myHoursReport(c)
	if err != nil {
		return err
	}
	entries := make([]hoursEntryJSON, len(r.Entries))
	for i, e := range r.Entries {
		entries[i] = hoursEntryJSON{ID: e.ID, Kind: e.Kind, Title: e.Title, Version: e.VersionNumber, OccupationCode: e.OccupationCode, Level: e.Level, Hours: e.Hours,
			EarnedAt: e.EarnedAt, CorrectsID: e.CorrectsID, Reason: e.Reason}
	}
	return c.JSON(fiber.Map{"total_hours": roundHours(r.Total), "by_course": hoursGroupsJSON(r.ByCourse), "by_occupation": hoursGroupsJSON(r.ByOccupation),
		"by_month": hoursGroupsJSON(r.ByMonth), "entries": entries})
}

// courseCentreFor loads the training centre named in the path and checks the caller's permission there.
func (s *Server) courseCentreFor(c *fiber.Ctx, act string) (accounts.Organisation, error) {
	o, err := s.accounts.OrganisationByCode(c.UserContext(), c.Params("code"))
	if err != nil {
		return o, err
	}
	if err := s.allowedIn(c, "courses.edit", act, o.Domains()...); err != nil {
		return o, err
	}
	if o.Kind != accounts.KindTrainingCentre {
		return o, failure.Field("centre", "curriculum.not_a_centre")
	}
	return o, nil
}

// editableCourse loads a course and checks that the caller may edit courses of its centre: a trainer
// of another centre gets 403.
func (s *Server) editableCourse(c *fiber.Ctx, act string) (curriculum.Course, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return curriculum.Course{}, err
	}
	co, err := s.domains.Curriculum.Course(c.UserContext(), id)
	if err != nil {
		return co, err
	}
	return co, s.allowedIn(c, "courses.edit", act, s.courseDomains(co)...)
}

func (s *Server) apiCentreCourses(c *fiber.Ctx) error {
	o, err := s.courseCentreFor(c, "read")
	if err != nil {
		return err
	}
	limit, offset := pageParams(c)
	list, total, err := s.domains.Curriculum.Courses(c.UserContext(), curriculum.Filter{OrgID: o.ID, All: true, Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	items := make([]courseJSON, len(list))
	for i, co := range list {
		items[i] = toCourseJSON(co)
	}
	return c.JSON(fiber.Map{"items": items, "total": total, "limit": limit, "offset": offset})
}

func (s *Server) apiCreateCourse(c *fiber.Ctx) error {
	o, err := s.courseCentreFor(c, "write")
	if err != nil {
		return err
	}
	var in curriculum.CourseInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	co, err := s.domains.Curriculum.CreateCourse(c.UserContext(), principalOf(c).User.ID, o.ID, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toCourseJSON(co))
}

type courseVersionJSON struct {
	ID            int64              `json:"id"`
	Number        int                `json:"number"`
	Status        string             `json:"status"`
	Title         string             `json:"title"`
	CreatedAt     time.Time          `json:"created_at"`
	PublishedAt   *time.Time         `json:"published_at,omitempty"`
	RequiredHours float64            `json:"required_hours"`
	Modules       []courseModuleJSON `json:"modules,omitempty"`
}

func toCourseVersionJSON(v curriculum.Version) courseVersionJSON {
	j := courseVersionJSON{ID: v.ID, Number: v.Number, Status: v.Status, Title: v.Title, CreatedAt: v.CreatedAt, PublishedAt: v.PublishedAt, RequiredHours: v.RequiredHours}
	if len(v.Modules) > 0 {
		j.Modules = toCourseModulesJSON(v, true)
	}
	return j
}

func (s *Server) apiSaveDraft(c *fiber.Ctx) error {
	co, err := s.editableCourse(c, "write")
	if err != nil {
		return err
	}
	var in curriculum.CourseInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	v, err := s.domains.Curriculum.SaveDraft(c.UserContext(), principalOf(c).User.ID, co.ID, in)
	if err != nil {
		return err
	}
	return c.JSON(toCourseVersionJSON(v))
}

func (s *Server) apiCourseVersions(c *fiber.Ctx) error {
	co, err := s.editableCourse(c, "read")
	if err != nil {
		return err
	}
	vs, err := s.domains.Curriculum.Versions(c.UserContext(), co.ID)
	if err != nil {
		return err
	}
	items := make([]courseVersionJSON, len(vs))
	for i, v := range vs {
		items[i] = toCourseVersionJSON(v)
	}
	return c.JSON(fiber.Map{"items": items, "total": len(items)})
}

func (s *Server) apiCoursePublish(c *fiber.Ctx) error {
	co, err := s.editableCourse(c, "write")
	if err != nil {
		return err
	}
	v, err := s.domains.Curriculum.Publish(c.UserContext(), principalOf(c).User.ID, co.ID)
	if err != nil {
		return err
	}
	return c.JSON(toCourseVersionJSON(v))
}

func (s *Server) apiCourseUnpublish(c *fiber.Ctx) error {
	co, err := s.editableCourse(c, "write")
	if err != nil {
		return err
	}
	if err := s.domains.Curriculum.Unpublish(c.UserContext(), principalOf(c).User.ID, co.ID); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"id": co.ID, "published": false})
}

type correctionBody struct {
	Hours  float64 `json:"hours" form:"hours"`
	Reason string  `json:"reason" form:"reason"`
}

// entryCentre loads the centre whose course or session earned a ledger entry, and checks that the
// caller may correct that centre's hours.
func (s *Server) entryCentre(c *fiber.Ctx, entryID int64) (accounts.Organisation, error) {
	orgID, err := s.domains.Curriculum.EntryOrganisation(c.UserContext(), entryID)
	if err != nil {
		return accounts.Organisation{}, err
	}
	o, err := s.accounts.OrganisationByID(c.UserContext(), orgID)
	if errors.Is(err, accounts.ErrOrganisationNotFound) {
		return o, failure.New(failure.Forbidden, "error.forbidden")
	}
	if err != nil {
		return o, err
	}
	return o, s.allowedIn(c, "courses.hours", "write", o.Domains()...)
}

func (s *Server) apiCorrectHours(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.entryCentre(c, id); err != nil {
		return err
	}
	var b correctionBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	e, err := s.domains.Curriculum.Correct(c.UserContext(), principalOf(c).User.ID, id, b.Hours, b.Reason)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(hoursEntryJSON{ID: e.ID, Kind: e.Kind, Title: e.Title, Version: e.VersionNumber, OccupationCode: e.OccupationCode, Level: e.Level,
		Hours: e.Hours, EarnedAt: e.EarnedAt, CorrectsID: e.CorrectsID, Reason: e.Reason})
}

// fmtHours formats hours for people: at most two decimals, no trailing zeros.
func fmtHours(h float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", h), "0"), ".")
}
