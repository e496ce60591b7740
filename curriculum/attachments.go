package curriculum

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"

	"shanyu/accounts"
	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// MaxAttachmentSize is the largest lesson attachment accepted (10 MB).
const MaxAttachmentSize = 10 << 20

// maxAttachmentsPerLesson keeps one lesson's downloads (and the database) within reason.
const maxAttachmentsPerLesson = 20

// attachmentTypes are the accepted types, as http.DetectContentType names them from the content.
var attachmentTypes = map[string]bool{"application/pdf": true, "image/png": true, "image/jpeg": true, "image/webp": true}

// attachmentExt is the extension of each accepted type.
var attachmentExt = map[string]string{"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}

// NameForType gives a file name the extension of the type detected from its content, whatever the
// uploaded name said: a PDF/HTML polyglot named "x.html" is stored and downloaded as "x.pdf", so that
// no program opens it as HTML. A matching extension (".jpeg" for a JPEG, any case) is kept.
func NameForType(name, contentType string) string {
	want, ok := attachmentExt[contentType]
	if !ok {
		return name
	}
	ext := strings.ToLower(path.Ext(name))
	if ext == want || (contentType == "image/jpeg" && ext == ".jpeg") {
		return name
	}
	base := strings.TrimSuffix(name, path.Ext(name))
	if base == "" {
		base = "file"
	}
	return base + want
}

// Attachment errors.
var (
	ErrAttachmentNotFound = failure.New(failure.NotFound, "curriculum.attachment_not_found")
	ErrAttachmentEmpty    = failure.New(failure.Invalid, "curriculum.attachment_empty")
	ErrAttachmentTooLarge = failure.New(failure.Invalid, "curriculum.attachment_too_large", MaxAttachmentSize>>20)
	ErrAttachmentType     = failure.New(failure.Invalid, "curriculum.attachment_type")
	ErrAttachmentTooMany  = failure.New(failure.Conflict, "curriculum.attachment_too_many", maxAttachmentsPerLesson)
	// ErrAttachmentOldVersion: only the draft, or the latest version when there is no draft, takes uploads.
	ErrAttachmentOldVersion = failure.New(failure.Conflict, "curriculum.attachment_old_version")
)

// Attachment describes a lesson's file (without its content).
type Attachment struct {
	ID, VersionID, CourseID        int64
	ModulePosition, LessonPosition int
	LessonID                       int64 // the lesson at those positions, 0 when there is none any more
	Filename, ContentType          string
	Size                           int
	CreatedAt                      time.Time
}

// Image reports whether the attachment is an image (shown inline; PDFs are downloaded).
func (a Attachment) Image() bool { return strings.HasPrefix(a.ContentType, "image/") }

// AttachmentFile is an attachment with its content.
type AttachmentFile struct {
	Attachment
	Data []byte
}

// DetectAttachmentType names the type of data from its content (never from the file name) and fails
// unless it is a PDF, PNG, JPEG or WebP within the size limit.
func DetectAttachmentType(data []byte) (string, error) {
	switch {
	case len(data) == 0:
		return "", ErrAttachmentEmpty
	case len(data) > MaxAttachmentSize:
		return "", ErrAttachmentTooLarge
	}
	ct := http.DetectContentType(data)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if !attachmentTypes[ct] {
		return "", ErrAttachmentType
	}
	return ct, nil
}

// cleanFilename keeps the base name without control characters, at most 200 bytes (for display and
// the download's name only; the type never comes from it).
func cleanFilename(name string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	name = path.Base(strings.TrimSpace(name))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, name)
	for len(name) > 200 {
		r := []rune(name)
		name = string(r[:len(r)-1])
	}
	if name == "" || name == "." || name == "/" {
		name = "file"
	}
	return name
}

// AddAttachment stores a file on a lesson of a course. Published versions are never changed: a lesson
// of the latest published version, when the course has no draft, gets a new draft version (with copies
// of that version's attachments) and the file goes on the draft's lesson. A lesson of an older version
// while a draft exists is refused. A bad type or size saves nothing.
func (s *Service) AddAttachment(ctx context.Context, actorID, courseID, lessonID int64, filename string, data []byte) (Attachment, error) {
	ct, err := DetectAttachmentType(data)
	if err != nil {
		return Attachment{}, err
	}
	filename = NameForType(cleanFilename(filename), ct)
	var id int64
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := lockCourse(ctx, tx, courseID); err != nil {
			return err
		}
		var versionID int64
		var status string
		var modPos, lessonPos int
		err := tx.QueryRow(ctx, `SELECT v.id, v.status, m.position, l.position FROM lessons l
			JOIN course_modules m ON m.id = l.module_id JOIN course_versions v ON v.id = m.version_id
			WHERE l.id = $1 AND v.course_id = $2`, lessonID, courseID).Scan(&versionID, &status, &modPos, &lessonPos)
		if pg.IsNoRows(err) {
			return ErrLessonNotFound
		}
		if err != nil {
			return err
		}
		if status != StatusDraft {
			var latest int64
			var draft bool
			if err := tx.QueryRow(ctx, `SELECT id, status = 'draft' FROM course_versions WHERE course_id = $1 ORDER BY number DESC LIMIT 1`, courseID).
				Scan(&latest, &draft); err != nil {
				return err
			}
			if draft || latest != versionID {
				return ErrAttachmentOldVersion
			}
			if versionID, err = newDraftFrom(ctx, tx, courseID, versionID, actorID); err != nil {
				return err
			}
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM lesson_attachments WHERE version_id = $1 AND module_position = $2 AND lesson_position = $3`,
			versionID, modPos, lessonPos).Scan(&n); err != nil {
			return err
		}
		if n >= maxAttachmentsPerLesson {
			return ErrAttachmentTooMany
		}
		if err := tx.QueryRow(ctx, `INSERT INTO lesson_attachments (version_id, module_position, lesson_position, filename, content_type, size_bytes, data, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, nullif($8, 0), $9) RETURNING id`,
			versionID, modPos, lessonPos, filename, ct, len(data), data, actorID, s.now()).Scan(&id); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "course.attachment_add", Subject: fmt.Sprintf("course:%d", courseID),
			Details: map[string]any{"version_id": versionID, "attachment_id": id, "content_type": ct, "size": len(data), "filename": filename}})
	})
	if err != nil {
		return Attachment{}, err
	}
	return s.Attachment(ctx, id)
}

// newDraftFrom makes the next version of a course as a draft copy of version from, attachments included.
func newDraftFrom(ctx context.Context, tx pgx.Tx, courseID, from, actorID int64) (int64, error) {
	v, err := loadVersion(ctx, tx, from)
	if err != nil {
		return 0, err
	}
	var next int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(number), 0) + 1 FROM course_versions WHERE course_id = $1`, courseID).Scan(&next); err != nil {
		return 0, err
	}
	vid, err := insertVersion(ctx, tx, courseID, next, actorID, v.Input())
	if err != nil {
		return 0, err
	}
	return vid, copyAttachments(ctx, tx, from, vid)
}

// copyAttachments gives version to copies of version from's attachments, lesson by lesson position.
func copyAttachments(ctx context.Context, tx pgx.Tx, from, to int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO lesson_attachments (version_id, module_position, lesson_position, filename, content_type, size_bytes, data, created_by, created_at)
		SELECT $2, module_position, lesson_position, filename, content_type, size_bytes, data, created_by, created_at
		FROM lesson_attachments WHERE version_id = $1 ORDER BY id`, from, to)
	return err
}

// pruneAttachments drops a draft's attachments whose lesson position no longer exists.
func pruneAttachments(ctx context.Context, tx pgx.Tx, versionID int64) error {
	_, err := tx.Exec(ctx, `DELETE FROM lesson_attachments a WHERE a.version_id = $1 AND NOT EXISTS (
		SELECT 1 FROM lessons l JOIN course_modules m ON m.id = l.module_id
		WHERE m.version_id = a.version_id AND m.position = a.module_position AND l.position = a.lesson_position)`, versionID)
	return err
}

// RemoveAttachment deletes an attachment of the course's draft; published versions keep theirs.
func (s *Service) RemoveAttachment(ctx context.Context, actorID, courseID, attachmentID int64) error {
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := lockCourse(ctx, tx, courseID); err != nil {
			return err
		}
		var status string
		err := tx.QueryRow(ctx, `SELECT v.status FROM lesson_attachments a JOIN course_versions v ON v.id = a.version_id
			WHERE a.id = $1 AND v.course_id = $2`, attachmentID, courseID).Scan(&status)
		if pg.IsNoRows(err) {
			return ErrAttachmentNotFound
		}
		if err != nil {
			return err
		}
		if status != StatusDraft {
			return ErrAttachmentOldVersion
		}
		if _, err := tx.Exec(ctx, `DELETE FROM lesson_attachments WHERE id = $1`, attachmentID); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "course.attachment_remove", Subject: fmt.Sprintf("course:%d", courseID),
			Details: map[string]any{"attachment_id": attachmentID}})
	})
}

const attachmentSelect = `SELECT a.id, a.version_id, v.course_id, a.module_position, a.lesson_position,
	coalesce((SELECT l.id FROM lessons l JOIN course_modules m ON m.id = l.module_id
		WHERE m.version_id = a.version_id AND m.position = a.module_position AND l.position = a.lesson_position), 0),
	a.filename, a.content_type, a.size_bytes, a.created_at`

func scanAttachment(r pgx.Row, extra ...any) (Attachment, error) {
	var a Attachment
	err := r.Scan(append([]any{&a.ID, &a.VersionID, &a.CourseID, &a.ModulePosition, &a.LessonPosition, &a.LessonID, &a.Filename, &a.ContentType, &a.Size, &a.CreatedAt}, extra...)...)
	if pg.IsNoRows(err) {
		return a, ErrAttachmentNotFound
	}
	return a, err
}

// Attachment loads an attachment's description.
func (s *Service) Attachment(ctx context.Context, id int64) (Attachment, error) {
	return scanAttachment(s.db.QueryRow(ctx, attachmentSelect+` FROM lesson_attachments a JOIN course_versions v ON v.id = a.version_id WHERE a.id = $1`, id))
}

// AttachmentFile loads an attachment with its content (callers check who may have it).
func (s *Service) AttachmentFile(ctx context.Context, id int64) (AttachmentFile, error) {
	var f AttachmentFile
	a, err := scanAttachment(s.db.QueryRow(ctx, attachmentSelect+`, a.data FROM lesson_attachments a JOIN course_versions v ON v.id = a.version_id WHERE a.id = $1`, id), &f.Data)
	f.Attachment = a
	return f, err
}

// LearnerAttachment gives an attachment to a learner enrolled in its version only (ErrNotEnrolled
// otherwise): learners of another version of the course do not see it.
func (s *Service) LearnerAttachment(ctx context.Context, personID, id int64) (AttachmentFile, error) {
	f, err := s.AttachmentFile(ctx, id)
	if err != nil {
		return f, err
	}
	if _, err := s.enrolment(ctx, `e.person_id = $1 AND e.version_id = $2`, personID, f.VersionID); err != nil {
		return AttachmentFile{}, err
	}
	return f, nil
}

// VersionAttachments lists a version's attachments by lesson position, keyed by the current lesson id.
func (s *Service) VersionAttachments(ctx context.Context, versionID int64) (map[int64][]Attachment, error) {
	rows, err := s.db.Query(ctx, attachmentSelect+` FROM lesson_attachments a JOIN course_versions v ON v.id = a.version_id
		WHERE a.version_id = $1 ORDER BY a.module_position, a.lesson_position, a.id`, versionID)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Attachment, error) { return scanAttachment(r) })
	if err != nil {
		return nil, err
	}
	out := map[int64][]Attachment{}
	for _, a := range list {
		if a.LessonID != 0 {
			out[a.LessonID] = append(out[a.LessonID], a)
		}
	}
	return out, nil
}

// LessonAttachments lists one lesson's attachments.
func (s *Service) LessonAttachments(ctx context.Context, lesson Lesson) ([]Attachment, error) {
	m, err := s.VersionAttachments(ctx, lesson.VersionID)
	return m[lesson.ID], err
}
