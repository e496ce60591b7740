package curriculum

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/accounts"
	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// Version states.
const (
	StatusDraft      = "draft"
	StatusPublished  = "published"
	StatusSuperseded = "superseded"
)

// LessonInput is one lesson as an author writes it.
type LessonInput struct {
	Title      string  `json:"title"`
	Body       string  `json:"body"` // Markdown
	VideoURL   string  `json:"video_url"`
	Hours      float64 `json:"hours"`
	MinSeconds int     `json:"min_seconds"`
}

// ModuleInput is one module with its lessons, in order.
type ModuleInput struct {
	Title   string        `json:"title"`
	Lessons []LessonInput `json:"lessons"`
}

// LessonHours sums the hours its lessons give.
func (in CourseInput) LessonHours() float64 {
	var h float64
	for _, m := range in.Modules {
		for _, l := range m.Lessons {
			h += l.Hours
		}
	}
	return h
}

// CourseInput is the whole content of a course version.
type CourseInput struct {
	Title          string        `json:"title"`
	Summary        string        `json:"summary"`
	OccupationCode string        `json:"occupation_code"`
	Level          int           `json:"level"`
	RequiredHours  float64       `json:"required_hours"`
	Modules        []ModuleInput `json:"modules"`
}

// Course is a course as a list shows it: its centre and the version on show (the published one, or the
// latest when none is published).
type Course struct {
	ID                 int64
	OrganisationID     int64
	OrgCode, OrgName   string
	RegionCode         string
	PublishedVersionID int64 // 0 when unpublished
	DraftVersionID     int64 // 0 when there is no draft
	VersionID          int64
	VersionNumber      int
	Title, Summary     string
	OccupationCode     string
	Level              int
	RequiredHours      float64
	TotalHours         float64 // sum of the lessons' hours
	LessonCount        int
}

// Published reports whether the course is in the catalogue.
func (c Course) Published() bool { return c.PublishedVersionID != 0 }

// Version is one version of a course with its content.
type Version struct {
	ID, CourseID   int64
	Number         int
	Status         string
	Title, Summary string
	OccupationCode string
	Level          int
	RequiredHours  float64
	CreatedAt      time.Time
	PublishedAt    *time.Time
	Modules        []Module
}

// TotalHours sums the lessons' hours.
func (v Version) TotalHours() float64 { return v.Input().LessonHours() }

// Lessons lists the lessons in order.
func (v Version) Lessons() []Lesson {
	var out []Lesson
	for _, m := range v.Modules {
		out = append(out, m.Lessons...)
	}
	return out
}

// Input turns the version back into an editable input.
func (v Version) Input() CourseInput {
	in := CourseInput{Title: v.Title, Summary: v.Summary, OccupationCode: v.OccupationCode, Level: v.Level, RequiredHours: v.RequiredHours}
	for _, m := range v.Modules {
		mi := ModuleInput{Title: m.Title}
		for _, l := range m.Lessons {
			mi.Lessons = append(mi.Lessons, LessonInput{Title: l.Title, Body: l.Body, VideoURL: l.VideoURL, Hours: l.Hours, MinSeconds: l.MinSeconds})
		}
		in.Modules = append(in.Modules, mi)
	}
	return in
}

// Module groups lessons.
type Module struct {
	ID       int64
	Position int
	Title    string
	Lessons  []Lesson
}

// Lesson is one unit of study; Hours are credited when it is completed, MinSeconds is the least time
// the learner must spend on it.
type Lesson struct {
	ID, ModuleID, VersionID int64
	Position                int
	Title, Body, VideoURL   string
	Hours                   float64
	MinSeconds              int
}

// Limits on what an author may enter; the editor form reads no more modules, lessons or body than these.
const (
	MaxModules        = 50
	MaxLessons        = 100
	MaxBodyRunes      = 50000
	maxSummaryRunes   = 2000
	maxLessonHours    = 100
	maxRequiredHours  = 1000
	maxMinSeconds     = 36000
	titleMinRunes     = 2
	titleMaxRunes     = 100
	maxVideoURLLength = 500
)

func validTitle(s string) bool {
	n := len([]rune(s))
	return n >= titleMinRunes && n <= titleMaxRunes
}

func (s *Service) validate(in *CourseInput) error {
	var f failure.Fields
	in.Title = strings.TrimSpace(in.Title)
	in.Summary = strings.TrimSpace(in.Summary)
	in.OccupationCode = strings.TrimSpace(in.OccupationCode)
	if !validTitle(in.Title) {
		f.Add("title", "curriculum.title_invalid", titleMinRunes, titleMaxRunes)
	}
	if len([]rune(in.Summary)) > maxSummaryRunes {
		f.Add("summary", "curriculum.summary_too_long", maxSummaryRunes)
	}
	if _, _, err := s.opts.Levels(in.OccupationCode, in.Level); err != nil {
		f.Add("occupation_code", "curriculum.occupation_invalid")
	}
	if in.RequiredHours < 0 || in.RequiredHours > maxRequiredHours {
		f.Add("required_hours", "curriculum.hours_invalid", maxRequiredHours)
	}
	if len(in.Modules) == 0 || len(in.Modules) > MaxModules {
		f.Add("modules", "curriculum.modules_invalid", MaxModules)
	}
	for i := range in.Modules {
		m := &in.Modules[i]
		m.Title = strings.TrimSpace(m.Title)
		p := fmt.Sprintf("modules.%d.", i)
		if !validTitle(m.Title) {
			f.Add(p+"title", "curriculum.title_invalid", titleMinRunes, titleMaxRunes)
		}
		if len(m.Lessons) == 0 || len(m.Lessons) > MaxLessons {
			f.Add(p+"lessons", "curriculum.lessons_invalid", MaxLessons)
		}
		for j := range m.Lessons {
			l := &m.Lessons[j]
			lp := fmt.Sprintf("%slessons.%d.", p, j)
			l.Title = strings.TrimSpace(l.Title)
			l.VideoURL = strings.TrimSpace(l.VideoURL)
			if !validTitle(l.Title) {
				f.Add(lp+"title", "curriculum.title_invalid", titleMinRunes, titleMaxRunes)
			}
			if len([]rune(l.Body)) > MaxBodyRunes {
				f.Add(lp+"body", "curriculum.body_too_long", MaxBodyRunes)
			}
			if l.VideoURL != "" && !validVideoURL(l.VideoURL) {
				f.Add(lp+"video_url", "curriculum.video_url_invalid")
			}
			// A lesson gives hours (at least the hundredth of an hour they are stored in).
			if math.Round(l.Hours*100) < 1 || l.Hours > maxLessonHours {
				f.Add(lp+"hours", "curriculum.lesson_hours_invalid", maxLessonHours)
			}
			if l.MinSeconds < 0 || l.MinSeconds > maxMinSeconds {
				f.Add(lp+"min_seconds", "curriculum.min_seconds_invalid", maxMinSeconds)
			}
		}
	}
	// A version cannot ask for more hours than studying all of it gives: a learner could never reach them.
	// Compared in hundredths of an hour, the precision hours are stored in.
	if total := in.LessonHours(); math.Round(in.RequiredHours*100) > math.Round(total*100) {
		f.Add("required_hours", "curriculum.required_exceeds_lessons", hoursString(in.RequiredHours), hoursString(total))
	}
	return f.Err()
}

func validVideoURL(raw string) bool {
	if len(raw) > maxVideoURLLength {
		return false
	}
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil
}

// CreateCourse makes a course of a training centre with a first draft version.
func (s *Service) CreateCourse(ctx context.Context, actorID, orgID int64, in CourseInput) (Course, error) {
	if err := s.validate(&in); err != nil {
		return Course{}, err
	}
	var id int64
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO courses (organisation_id, created_by) VALUES ($1, nullif($2, 0)) RETURNING id`, orgID, actorID).Scan(&id)
		if _, fk := pg.HasCode(err, pg.CodeForeignKeyViolation); fk {
			return failure.Field("organisation", "curriculum.organisation_invalid")
		}
		if err != nil {
			return err
		}
		if _, err := insertVersion(ctx, tx, id, 1, actorID, in); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "course.create", Subject: fmt.Sprintf("course:%d", id)})
	})
	if err != nil {
		return Course{}, err
	}
	return s.Course(ctx, id)
}

func insertVersion(ctx context.Context, tx pgx.Tx, courseID int64, number int, actorID int64, in CourseInput) (int64, error) {
	var vid int64
	err := tx.QueryRow(ctx, `INSERT INTO course_versions (course_id, number, status, title, summary, occupation_code, level, required_hours, created_by)
		VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, nullif($8, 0)) RETURNING id`,
		courseID, number, in.Title, in.Summary, in.OccupationCode, in.Level, in.RequiredHours, actorID).Scan(&vid)
	if err != nil {
		return 0, err
	}
	return vid, insertContent(ctx, tx, vid, in)
}

func insertContent(ctx context.Context, tx pgx.Tx, versionID int64, in CourseInput) error {
	for i, m := range in.Modules {
		var mid int64
		if err := tx.QueryRow(ctx, `INSERT INTO course_modules (version_id, position, title) VALUES ($1, $2, $3) RETURNING id`, versionID, i+1, m.Title).Scan(&mid); err != nil {
			return err
		}
		for j, l := range m.Lessons {
			if _, err := tx.Exec(ctx, `INSERT INTO lessons (module_id, position, title, body_md, video_url, hours, min_seconds) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				mid, j+1, l.Title, l.Body, l.VideoURL, l.Hours, l.MinSeconds); err != nil {
				return err
			}
		}
	}
	return nil
}

// lockCourse locks the course row for the rest of the transaction and returns its published version.
func lockCourse(ctx context.Context, tx pgx.Tx, courseID int64) (published int64, err error) {
	err = tx.QueryRow(ctx, `SELECT coalesce(published_version_id, 0) FROM courses WHERE id = $1 FOR UPDATE`, courseID).Scan(&published)
	if pg.IsNoRows(err) {
		return 0, ErrCourseNotFound
	}
	return published, err
}

// SaveDraft stores new content for a course. A published version is never changed: when the course has
// no draft, a new draft version is made, and learners keep the version they enrolled in.
func (s *Service) SaveDraft(ctx context.Context, actorID, courseID int64, in CourseInput) (Version, error) {
	if err := s.validate(&in); err != nil {
		return Version{}, err
	}
	var vid int64
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := lockCourse(ctx, tx, courseID); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT id FROM course_versions WHERE course_id = $1 AND status = 'draft'`, courseID).Scan(&vid)
		switch {
		case pg.IsNoRows(err):
			var next int
			if err := tx.QueryRow(ctx, `SELECT coalesce(max(number), 0) + 1 FROM course_versions WHERE course_id = $1`, courseID).Scan(&next); err != nil {
				return err
			}
			if vid, err = insertVersion(ctx, tx, courseID, next, actorID, in); err != nil {
				return err
			}
			// The new draft keeps the latest version's attachments, lesson by position.
			var prev int64
			if err := tx.QueryRow(ctx, `SELECT id FROM course_versions WHERE course_id = $1 AND number = $2`, courseID, next-1).Scan(&prev); err != nil {
				return err
			}
			if err := copyAttachments(ctx, tx, prev, vid); err != nil {
				return err
			}
			if err := pruneAttachments(ctx, tx, vid); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			// Nobody can be enrolled in a draft, so its content can be replaced whole.
			if _, err := tx.Exec(ctx, `DELETE FROM course_modules WHERE version_id = $1`, vid); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE course_versions SET title = $2, summary = $3, occupation_code = $4, level = $5, required_hours = $6 WHERE id = $1`,
				vid, in.Title, in.Summary, in.OccupationCode, in.Level, in.RequiredHours); err != nil {
				return err
			}
			if err := insertContent(ctx, tx, vid, in); err != nil {
				return err
			}
			if err := pruneAttachments(ctx, tx, vid); err != nil {
				return err
			}
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "course.edit", Subject: fmt.Sprintf("course:%d", courseID), Details: map[string]any{"version_id": vid}})
	})
	if err != nil {
		return Version{}, err
	}
	return s.Version(ctx, vid)
}

// Publish makes the draft the public version (the previous one is superseded; its learners keep it).
// Without a draft, it puts an unpublished course's last published version back in the catalogue.
func (s *Service) Publish(ctx context.Context, actorID, courseID int64) (Version, error) {
	var vid int64
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		published, err := lockCourse(ctx, tx, courseID)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `SELECT id FROM course_versions WHERE course_id = $1 AND status = 'draft'`, courseID).Scan(&vid)
		switch {
		case pg.IsNoRows(err):
			if published != 0 {
				return ErrNothingToPublish
			}
			err = tx.QueryRow(ctx, `SELECT id FROM course_versions WHERE course_id = $1 AND status = 'published' ORDER BY number DESC LIMIT 1`, courseID).Scan(&vid)
			if pg.IsNoRows(err) {
				return ErrNothingToPublish
			}
			if err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if _, err := tx.Exec(ctx, `UPDATE course_versions SET status = 'superseded' WHERE course_id = $1 AND status = 'published'`, courseID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE course_versions SET status = 'published', published_at = $2 WHERE id = $1`, vid, s.now()); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE courses SET published_version_id = $2 WHERE id = $1`, courseID, vid); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "course.publish", Subject: fmt.Sprintf("course:%d", courseID), Details: map[string]any{"version_id": vid}})
	})
	if err != nil {
		return Version{}, err
	}
	return s.Version(ctx, vid)
}

// Unpublish takes a course out of the catalogue; enrolled learners keep their access.
func (s *Service) Unpublish(ctx context.Context, actorID, courseID int64) error {
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		published, err := lockCourse(ctx, tx, courseID)
		if err != nil {
			return err
		}
		if published == 0 {
			return ErrNotPublished
		}
		if _, err := tx.Exec(ctx, `UPDATE courses SET published_version_id = NULL WHERE id = $1`, courseID); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "course.unpublish", Subject: fmt.Sprintf("course:%d", courseID)})
	})
}

// courseSelect reads courses without their organisation's code, name and region, which withOrgs
// fills from the accounts domain.
const courseSelect = `SELECT c.id, c.organisation_id, coalesce(c.published_version_id, 0),
	coalesce((SELECT d.id FROM course_versions d WHERE d.course_id = c.id AND d.status = 'draft'), 0),
	v.id, v.number, v.title, v.summary, v.occupation_code, v.level, v.required_hours::float8,
	coalesce((SELECT sum(l.hours) FROM lessons l JOIN course_modules m ON m.id = l.module_id WHERE m.version_id = v.id), 0)::float8,
	(SELECT count(*) FROM lessons l JOIN course_modules m ON m.id = l.module_id WHERE m.version_id = v.id)
	FROM courses c
	JOIN course_versions v ON v.id = coalesce(c.published_version_id, (SELECT max(x.id) FROM course_versions x WHERE x.course_id = c.id))`

func scanCourse(row pgx.Row) (Course, error) {
	var c Course
	err := row.Scan(&c.ID, &c.OrganisationID, &c.PublishedVersionID, &c.DraftVersionID,
		&c.VersionID, &c.VersionNumber, &c.Title, &c.Summary, &c.OccupationCode, &c.Level, &c.RequiredHours, &c.TotalHours, &c.LessonCount)
	if pg.IsNoRows(err) {
		return c, ErrCourseNotFound
	}
	return c, err
}

// Course loads one course (published or not; callers decide who may see an unpublished one).
func (s *Service) Course(ctx context.Context, id int64) (Course, error) {
	c, err := scanCourse(s.db.QueryRow(ctx, courseSelect+` WHERE c.id = $1`, id))
	if err != nil {
		return c, err
	}
	list := []Course{c}
	err = s.withOrgs(ctx, list)
	return list[0], err
}

// Filter narrows the catalogue.
type Filter struct {
	Query      string // in the title or summary
	Occupation string // occupation code
	Level      int
	Centre     string // organisation code
	Region     string // region code prefix
	OrgID      int64  // a centre's own list, published or not
	All        bool   // include unpublished courses (centre lists only)
	Limit      int
	Offset     int
}

// Courses lists courses ordered by newest first, with the total.
func (s *Service) Courses(ctx context.Context, f Filter) ([]Course, int, error) {
	conds := []string{"true"}
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if !f.All {
		conds = append(conds, "c.published_version_id IS NOT NULL")
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		p := arg("%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%")
		conds = append(conds, fmt.Sprintf("(v.title ILIKE %s OR v.summary ILIKE %s)", p, p))
	}
	if f.Occupation != "" {
		conds = append(conds, "v.occupation_code = "+arg(f.Occupation))
	}
	if f.Level != 0 {
		conds = append(conds, "v.level = "+arg(f.Level))
	}
	if f.Centre != "" || f.Region != "" {
		orgs, err := s.opts.Directory.OrganisationIDs(ctx, strings.ToUpper(f.Centre), f.Region)
		if err != nil {
			return nil, 0, err
		}
		conds = append(conds, "c.organisation_id = ANY("+arg(orgs)+")")
	}
	if f.OrgID != 0 {
		conds = append(conds, "c.organisation_id = "+arg(f.OrgID))
	}
	where := " WHERE " + strings.Join(conds, " AND ")
	var total int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM (`+courseSelect+where+`) t`, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	limit := f.Limit
	if limit <= 0 || limit > 200 {
		limit = 20
	}
	rows, err := s.db.Query(ctx, courseSelect+where+` ORDER BY c.id DESC LIMIT `+arg(limit)+` OFFSET `+arg(max(f.Offset, 0)), args...)
	if err != nil {
		return nil, 0, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Course, error) { return scanCourse(r) })
	if err != nil {
		return nil, 0, err
	}
	return list, total, s.withOrgs(ctx, list)
}

// Version loads one version with its modules and lessons.
func (s *Service) Version(ctx context.Context, id int64) (Version, error) {
	return loadVersion(ctx, s.db, id)
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func loadVersion(ctx context.Context, db querier, id int64) (Version, error) {
	var v Version
	err := db.QueryRow(ctx, `SELECT id, course_id, number, status, title, summary, occupation_code, level, required_hours::float8, created_at, published_at
		FROM course_versions WHERE id = $1`, id).Scan(&v.ID, &v.CourseID, &v.Number, &v.Status, &v.Title, &v.Summary, &v.OccupationCode, &v.Level, &v.RequiredHours, &v.CreatedAt, &v.PublishedAt)
	if pg.IsNoRows(err) {
		return v, ErrVersionNotFound
	}
	if err != nil {
		return v, err
	}
	rows, err := db.Query(ctx, `SELECT m.id, m.position, m.title, l.id, l.position, l.title, l.body_md, l.video_url, l.hours::float8, l.min_seconds
		FROM course_modules m JOIN lessons l ON l.module_id = m.id WHERE m.version_id = $1 ORDER BY m.position, l.position`, id)
	if err != nil {
		return v, err
	}
	defer rows.Close()
	for rows.Next() {
		var m Module
		var l Lesson
		if err := rows.Scan(&m.ID, &m.Position, &m.Title, &l.ID, &l.Position, &l.Title, &l.Body, &l.VideoURL, &l.Hours, &l.MinSeconds); err != nil {
			return v, err
		}
		l.ModuleID, l.VersionID = m.ID, id
		if n := len(v.Modules); n == 0 || v.Modules[n-1].ID != m.ID {
			v.Modules = append(v.Modules, m)
		}
		last := &v.Modules[len(v.Modules)-1]
		last.Lessons = append(last.Lessons, l)
	}
	return v, rows.Err()
}

// Versions lists a course's versions, newest first, without content.
func (s *Service) Versions(ctx context.Context, courseID int64) ([]Version, error) {
	rows, err := s.db.Query(ctx, `SELECT id, course_id, number, status, title, summary, occupation_code, level, required_hours::float8, created_at, published_at
		FROM course_versions WHERE course_id = $1 ORDER BY number DESC`, courseID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Version, error) {
		var v Version
		err := r.Scan(&v.ID, &v.CourseID, &v.Number, &v.Status, &v.Title, &v.Summary, &v.OccupationCode, &v.Level, &v.RequiredHours, &v.CreatedAt, &v.PublishedAt)
		return v, err
	})
}

// Lesson loads one lesson.
func (s *Service) Lesson(ctx context.Context, id int64) (Lesson, error) {
	var l Lesson
	err := s.db.QueryRow(ctx, `SELECT l.id, l.module_id, m.version_id, l.position, l.title, l.body_md, l.video_url, l.hours::float8, l.min_seconds
		FROM lessons l JOIN course_modules m ON m.id = l.module_id WHERE l.id = $1`, id).
		Scan(&l.ID, &l.ModuleID, &l.VersionID, &l.Position, &l.Title, &l.Body, &l.VideoURL, &l.Hours, &l.MinSeconds)
	if pg.IsNoRows(err) {
		return l, ErrLessonNotFound
	}
	return l, err
}
