package server

import (
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"shanyu/curriculum"
)

func (s *Server) routesCurriculumAttachments() {
	s.page("GET", "/centre/courses/:id/attachments", can("courses.edit", "read"), byCourse("id"), s.courseAttachmentsPage)
	s.page("POST", "/centre/courses/:id/lessons/:lesson/attachments", can("courses.edit", "write"), byCourse("id"), s.attachmentUploadSubmit)
	s.page("POST", "/centre/courses/:id/attachments/:att/delete", can("courses.edit", "write"), byCourse("id"), s.attachmentDeleteSubmit)
	s.page("GET", "/centre/courses/:id/attachments/:att", can("courses.edit", "read"), byCourse("id"), s.centreAttachmentDownload)
	s.page("GET", "/learn/attachments/:id", can("learning.study", "write"), byAttachment("id"), s.learnerAttachmentDownload)
}

type attachmentLessonView struct {
	curriculum.Lesson
	Module      string
	Attachments []curriculum.Attachment
}

// courseAttachmentsPage lists the lessons of the draft (or, without a draft, of the latest version)
// with their files and an upload form on each.
func (s *Server) courseAttachmentsPage(c *fiber.Ctx) error {
	return s.renderCourseAttachments(c, "", "")
}

func (s *Server) renderCourseAttachments(c *fiber.Ctx, message string, lessonErr string) error {
	co, err := s.editableCourse(c, "read")
	if err != nil {
		return err
	}
	versions, err := s.domains.Curriculum.Versions(c.UserContext(), co.ID)
	if err != nil {
		return err
	}
	v, err := s.domains.Curriculum.Version(c.UserContext(), versions[0].ID)
	if err != nil {
		return err
	}
	atts, err := s.domains.Curriculum.VersionAttachments(c.UserContext(), v.ID)
	if err != nil {
		return err
	}
	var lessons []attachmentLessonView
	for _, m := range v.Modules {
		for _, l := range m.Lessons {
			lessons = append(lessons, attachmentLessonView{Lesson: l, Module: m.Title, Attachments: atts[l.ID]})
		}
	}
	return s.render(c, "course_attachments", page{Title: s.i18n.T(langOf(c), "curriculum.attachments.title"), Data: fiber.Map{
		"Course": co, "Version": v, "Lessons": lessons, "Notice": curriculumNotice(s, c), "Message": message, "ErrorLesson": lessonErr,
		"MaxMB": curriculum.MaxAttachmentSize >> 20, "Draft": v.Status == curriculum.StatusDraft,
	}})
}

func (s *Server) attachmentUploadSubmit(c *fiber.Ctx) error {
	co, err := s.editableCourse(c, "write")
	if err != nil {
		return err
	}
	lessonID, err := idParam(c, "lesson")
	if err != nil {
		return err
	}
	var name string
	var data []byte
	fh, ferr := c.FormFile("file")
	if ferr == nil {
		name = fh.Filename
		if fh.Size > curriculum.MaxAttachmentSize {
			err = curriculum.ErrAttachmentTooLarge
		} else {
			f, oerr := fh.Open()
			if oerr != nil {
				return oerr
			}
			data, err = io.ReadAll(io.LimitReader(f, curriculum.MaxAttachmentSize+1))
			_ = f.Close()
			if err != nil {
				return err
			}
		}
	}
	if err == nil {
		_, err = s.domains.Curriculum.AddAttachment(c.UserContext(), principalOf(c).User.ID, co.ID, lessonID, name, data)
	}
	if err == nil {
		return c.Redirect("/centre/courses/"+strconv.FormatInt(co.ID, 10)+"/attachments?notice=curriculum.notice.attachment_added", fiber.StatusSeeOther)
	}
	f, err := s.failedForm(c, err)
	if f == nil {
		return err
	}
	return s.renderCourseAttachments(c, f.Message, strconv.FormatInt(lessonID, 10))
}

func (s *Server) attachmentDeleteSubmit(c *fiber.Ctx) error {
	co, err := s.editableCourse(c, "write")
	if err != nil {
		return err
	}
	id, err := idParam(c, "att")
	if err != nil {
		return err
	}
	if err := s.domains.Curriculum.RemoveAttachment(c.UserContext(), principalOf(c).User.ID, co.ID, id); err != nil {
		return err
	}
	return c.Redirect("/centre/courses/"+strconv.FormatInt(co.ID, 10)+"/attachments?notice=curriculum.notice.attachment_removed", fiber.StatusSeeOther)
}

func (s *Server) centreAttachmentDownload(c *fiber.Ctx) error {
	co, err := s.editableCourse(c, "read")
	if err != nil {
		return err
	}
	id, err := idParam(c, "att")
	if err != nil {
		return err
	}
	f, err := s.domains.Curriculum.AttachmentFile(c.UserContext(), id)
	if err != nil {
		return err
	}
	if f.CourseID != co.ID {
		return curriculum.ErrAttachmentNotFound
	}
	return sendAttachment(c, f)
}

func (s *Server) learnerAttachmentDownload(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	f, err := s.domains.Curriculum.LearnerAttachment(c.UserContext(), principalOf(c).User.PersonID, id)
	if err != nil {
		return err
	}
	return sendAttachment(c, f)
}

// sendAttachment serves a stored file with the type detected at upload; images open inline, PDFs are
// downloaded, and nosniff stops browsers guessing another type.
func sendAttachment(c *fiber.Ctx, f curriculum.AttachmentFile) error {
	disp := "attachment"
	if f.Image() {
		disp = "inline"
	}
	c.Set(fiber.HeaderContentType, f.ContentType)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set(fiber.HeaderContentDisposition, contentDisposition(disp, curriculum.NameForType(f.Filename, f.ContentType)))
	return c.Send(f.Data)
}

// contentDisposition names the file with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987).
func contentDisposition(disp, name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == ';' {
			return '_'
		}
		return r
	}, name)
	return disp + `; filename="` + ascii + `"; filename*=UTF-8''` + url.PathEscape(name)
}
