package curriculum

import (
	"context"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/pg"
)

// RelatedOrganisations lists the organisations a person has a relationship with in this domain
// (an enrolment in one of its courses): the server decides from them whose administrators may act on a person
// who holds no grant.
func (s *Service) RelatedOrganisations(ctx context.Context, personID int64) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT DISTINCT c.organisation_id FROM enrolments e JOIN courses c ON c.id = e.course_id WHERE e.person_id = $1`, personID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// Place is where a course, lesson or attachment belongs, as the server's scope guard needs it: the
// organisation of its course and whether the asking person may study it (enrolled in the version it
// belongs to; for a course, enrolled in any version) and, for a course, whether it is published.
type Place struct {
	OrganisationID int64
	Published      bool
	Enrolled       bool
}

// CoursePlace finds a course's organisation, whether it is published and whether personID is enrolled in it.
func (s *Service) CoursePlace(ctx context.Context, courseID, personID int64) (Place, error) {
	var p Place
	err := s.db.QueryRow(ctx, `SELECT c.organisation_id, c.published_version_id IS NOT NULL,
		EXISTS (SELECT 1 FROM enrolments e WHERE e.course_id = c.id AND e.person_id = $2)
		FROM courses c WHERE c.id = $1`, courseID, personID).Scan(&p.OrganisationID, &p.Published, &p.Enrolled)
	if pg.IsNoRows(err) {
		return p, ErrCourseNotFound
	}
	return p, err
}

// LessonPlace finds a lesson's organisation and whether personID is enrolled in the version it belongs to.
func (s *Service) LessonPlace(ctx context.Context, lessonID, personID int64) (Place, error) {
	var p Place
	err := s.db.QueryRow(ctx, `SELECT c.organisation_id, v.status = 'published',
		EXISTS (SELECT 1 FROM enrolments e WHERE e.version_id = v.id AND e.person_id = $2)
		FROM lessons l JOIN course_modules m ON m.id = l.module_id JOIN course_versions v ON v.id = m.version_id
		JOIN courses c ON c.id = v.course_id WHERE l.id = $1`, lessonID, personID).Scan(&p.OrganisationID, &p.Published, &p.Enrolled)
	if pg.IsNoRows(err) {
		return p, ErrLessonNotFound
	}
	return p, err
}

// AttachmentPlace finds a lesson attachment's organisation and whether personID is enrolled in its version.
func (s *Service) AttachmentPlace(ctx context.Context, attachmentID, personID int64) (Place, error) {
	var p Place
	err := s.db.QueryRow(ctx, `SELECT c.organisation_id, v.status = 'published',
		EXISTS (SELECT 1 FROM enrolments e WHERE e.version_id = v.id AND e.person_id = $2)
		FROM lesson_attachments a JOIN course_versions v ON v.id = a.version_id
		JOIN courses c ON c.id = v.course_id WHERE a.id = $1`, attachmentID, personID).Scan(&p.OrganisationID, &p.Published, &p.Enrolled)
	if pg.IsNoRows(err) {
		return p, ErrAttachmentNotFound
	}
	return p, err
}

// RelatedPeople lists the people with a relationship in this domain (a enrolment in one of their courses) with any of the
// organisations: the server lists them, holding no grant, to those organisations' administrators.
func (s *Service) RelatedPeople(ctx context.Context, orgIDs []int64) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT DISTINCT e.person_id FROM enrolments e JOIN courses c ON c.id = e.course_id WHERE c.organisation_id = ANY($1::bigint[])`, orgIDs)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
