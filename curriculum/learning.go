package curriculum

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/pg"
)

// Enrolment is a person's place in a course, pinned to the version they enrolled in.
type Enrolment struct {
	ID, CourseID, VersionID, PersonID int64
	EnrolledAt                        time.Time
	Title                             string // of the enrolled version
	OrgName                           string
	OccupationCode                    string
	Level                             int
	RequiredHours                     float64
	LessonsDone, LessonCount          int
	HoursEarned                       float64
}

// Enrol puts a person in the published version of a course.
func (s *Service) Enrol(ctx context.Context, personID, courseID int64) (Enrolment, error) {
	var id int64
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		var published int64
		err := tx.QueryRow(ctx, `SELECT coalesce(published_version_id, 0) FROM courses WHERE id = $1 FOR SHARE`, courseID).Scan(&published)
		if pg.IsNoRows(err) {
			return ErrCourseNotFound
		}
		if err != nil {
			return err
		}
		if published == 0 {
			return ErrNotPublished
		}
		err = tx.QueryRow(ctx, `INSERT INTO enrolments (course_id, version_id, person_id, enrolled_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			courseID, published, personID, s.now()).Scan(&id)
		if _, dup := pg.HasCode(err, pg.CodeUniqueViolation); dup {
			return ErrAlreadyEnrolled
		}
		return err
	})
	if err != nil {
		return Enrolment{}, err
	}
	return s.enrolment(ctx, `e.id = $1`, id)
}

// enrolmentSelect reads enrolments with their course's organisation id (last); withCentres fills the
// centre's name from the accounts domain.
const enrolmentSelect = `SELECT e.id, e.course_id, e.version_id, e.person_id, e.enrolled_at, v.title, v.occupation_code, v.level, v.required_hours::float8,
	(SELECT count(*) FROM lesson_progress p WHERE p.enrolment_id = e.id AND p.completed_at IS NOT NULL),
	(SELECT count(*) FROM lessons l JOIN course_modules m ON m.id = l.module_id WHERE m.version_id = e.version_id),
	coalesce((SELECT sum(h.hours) FROM hours_ledger h WHERE h.person_id = e.person_id AND (h.course_id = e.course_id
		OR h.corrects_id IN (SELECT x.id FROM hours_ledger x WHERE x.course_id = e.course_id AND x.person_id = e.person_id))), 0)::float8,
	c.organisation_id
	FROM enrolments e JOIN course_versions v ON v.id = e.version_id JOIN courses c ON c.id = e.course_id`

// enrolmentRow is an enrolment with the organisation whose name withCentres fills in.
type enrolmentRow struct {
	Enrolment
	orgID int64
}

func scanEnrolment(r pgx.Row) (enrolmentRow, error) {
	var e enrolmentRow
	err := r.Scan(&e.ID, &e.CourseID, &e.VersionID, &e.PersonID, &e.EnrolledAt, &e.Title, &e.OccupationCode, &e.Level, &e.RequiredHours,
		&e.LessonsDone, &e.LessonCount, &e.HoursEarned, &e.orgID)
	if pg.IsNoRows(err) {
		return e, ErrNotEnrolled
	}
	return e, err
}

// enrolments completes the rows with their centres' names, in one call.
func (s *Service) enrolments(ctx context.Context, rows []enrolmentRow) ([]Enrolment, error) {
	list := make([]Enrolment, len(rows))
	orgs := make([]int64, len(rows))
	for i, r := range rows {
		list[i], orgs[i] = r.Enrolment, r.orgID
	}
	return list, s.withCentres(ctx, list, orgs)
}

func (s *Service) enrolment(ctx context.Context, cond string, args ...any) (Enrolment, error) {
	e, err := scanEnrolment(s.db.QueryRow(ctx, enrolmentSelect+` WHERE `+cond, args...))
	if err != nil {
		return e.Enrolment, err
	}
	list, err := s.enrolments(ctx, []enrolmentRow{e})
	return list[0], err
}

// EnrolmentIn returns the person's enrolment in a course, or ErrNotEnrolled.
func (s *Service) EnrolmentIn(ctx context.Context, personID, courseID int64) (Enrolment, error) {
	return s.enrolment(ctx, `e.person_id = $1 AND e.course_id = $2`, personID, courseID)
}

// Enrolments lists a person's courses, newest first.
func (s *Service) Enrolments(ctx context.Context, personID int64) ([]Enrolment, error) {
	rows, err := s.db.Query(ctx, enrolmentSelect+` WHERE e.person_id = $1 ORDER BY e.enrolled_at DESC, e.id DESC`, personID)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (enrolmentRow, error) { return scanEnrolment(r) })
	if err != nil {
		return nil, err
	}
	return s.enrolments(ctx, list)
}

// Progress is where a learner stands on one lesson.
type Progress struct {
	LessonID    int64
	OpenedAt    time.Time
	CompletedAt *time.Time
}

// Done reports whether the lesson is completed.
func (p Progress) Done() bool { return p.CompletedAt != nil }

// ProgressOf returns the learner's progress per lesson of an enrolment.
func (s *Service) ProgressOf(ctx context.Context, enrolmentID int64) (map[int64]Progress, error) {
	rows, err := s.db.Query(ctx, `SELECT lesson_id, opened_at, completed_at FROM lesson_progress WHERE enrolment_id = $1`, enrolmentID)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Progress, error) {
		var p Progress
		err := r.Scan(&p.LessonID, &p.OpenedAt, &p.CompletedAt)
		return p, err
	})
	out := make(map[int64]Progress, len(list))
	for _, p := range list {
		out[p.LessonID] = p
	}
	return out, err
}

// LessonState is a lesson as its learner sees it.
type LessonState struct {
	Lesson       Lesson
	Enrolment    Enrolment
	Progress     Progress
	RemainingSec int  // seconds of study still needed before completing, 0 when it may be completed
	Credited     bool // hours were credited by this call
}

// enrolmentForLesson finds the person's enrolment in the version the lesson belongs to. A lesson of
// another version of the same course is not theirs: learners keep the version they enrolled in.
func (s *Service) enrolmentForLesson(ctx context.Context, personID int64, l Lesson) (Enrolment, error) {
	return s.enrolment(ctx, `e.person_id = $1 AND e.version_id = $2`, personID, l.VersionID)
}

func (s *Service) remaining(l Lesson, opened time.Time) int {
	left := float64(l.MinSeconds) - s.now().Sub(opened).Seconds()
	if left <= 0 {
		return 0
	}
	return int(math.Ceil(left))
}

// OpenLesson records, the first time only, when the learner opened the lesson: the minimum study time
// is measured from then, by the server's clock.
func (s *Service) OpenLesson(ctx context.Context, personID, lessonID int64) (LessonState, error) {
	l, err := s.Lesson(ctx, lessonID)
	if err != nil {
		return LessonState{}, err
	}
	e, err := s.enrolmentForLesson(ctx, personID, l)
	if err != nil {
		return LessonState{}, err
	}
	var p Progress
	// Most opens are of a lesson opened before: read it. Otherwise insert-or-return in one statement:
	// the no-op DO UPDATE returns the row that a concurrent first open (another device of the same
	// learner) inserted, where DO NOTHING returned no row and a second SELECT in the same statement
	// could not see it (docs/architecture.md, Transactions and locks).
	err = s.db.QueryRow(ctx, `SELECT lesson_id, opened_at, completed_at FROM lesson_progress WHERE enrolment_id = $1 AND lesson_id = $2`,
		e.ID, l.ID).Scan(&p.LessonID, &p.OpenedAt, &p.CompletedAt)
	if pg.IsNoRows(err) {
		err = s.db.QueryRow(ctx, `INSERT INTO lesson_progress (enrolment_id, lesson_id, opened_at) VALUES ($1, $2, $3)
			ON CONFLICT (enrolment_id, lesson_id) DO UPDATE SET opened_at = lesson_progress.opened_at
			RETURNING lesson_id, opened_at, completed_at`, e.ID, l.ID, s.now()).Scan(&p.LessonID, &p.OpenedAt, &p.CompletedAt)
	}
	if err != nil {
		return LessonState{}, err
	}
	st := LessonState{Lesson: l, Enrolment: e, Progress: p}
	if !p.Done() {
		st.RemainingSec = s.remaining(l, p.OpenedAt)
	}
	return st, nil
}

// CompleteLesson marks the lesson completed and credits its hours, but only once the lesson's minimum
// time has passed since it was opened. Completing a completed lesson changes nothing.
func (s *Service) CompleteLesson(ctx context.Context, personID, lessonID int64) (LessonState, error) {
	l, err := s.Lesson(ctx, lessonID)
	if err != nil {
		return LessonState{}, err
	}
	e, err := s.enrolmentForLesson(ctx, personID, l)
	if err != nil {
		return LessonState{}, err
	}
	st := LessonState{Lesson: l, Enrolment: e}
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		p := &st.Progress
		err := tx.QueryRow(ctx, `SELECT lesson_id, opened_at, completed_at FROM lesson_progress WHERE enrolment_id = $1 AND lesson_id = $2 FOR UPDATE`,
			e.ID, l.ID).Scan(&p.LessonID, &p.OpenedAt, &p.CompletedAt)
		if pg.IsNoRows(err) {
			return ErrLessonNotOpened
		}
		if err != nil || p.Done() {
			return err
		}
		if left := s.remaining(l, p.OpenedAt); left > 0 {
			return tooSoon(left)
		}
		now := s.now()
		if _, err := tx.Exec(ctx, `UPDATE lesson_progress SET completed_at = $3 WHERE enrolment_id = $1 AND lesson_id = $2`, e.ID, l.ID, now); err != nil {
			return err
		}
		p.CompletedAt = &now
		if l.Hours > 0 {
			if _, err := credit(ctx, tx, Entry{PersonID: personID, Kind: KindLesson, OccupationCode: e.OccupationCode, Level: e.Level,
				CourseID: e.CourseID, LessonID: l.ID, Hours: l.Hours, EarnedAt: now}); err != nil {
				return fmt.Errorf("credit lesson: %w", err)
			}
			st.Credited = true
		}
		return nil
	})
	return st, err
}
