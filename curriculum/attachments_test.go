package curriculum

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"testing"
)

func pngBytes(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDetectAttachmentTypeFromContentNotName(t *testing.T) {
	t.Parallel()
	webp := append([]byte("RIFF\x10\x00\x00\x00WEBPVP8 "), make([]byte, 16)...)
	for _, tc := range []struct {
		name string
		data []byte
		want string
		err  error
	}{
		{"png", pngBytes(t), "image/png", nil},
		{"pdf", []byte("%PDF-1.4\n1 0 obj\n"), "application/pdf", nil},
		{"jpeg", []byte("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"), "image/jpeg", nil},
		{"webp", webp, "image/webp", nil},
		{"html", []byte("<html><script>alert(1)</script>"), "", ErrAttachmentType},
		{"text", []byte("just text"), "", ErrAttachmentType},
		{"empty", nil, "", ErrAttachmentEmpty},
		{"too large", append([]byte("%PDF-1.4\n"), make([]byte, MaxAttachmentSize)...), "", ErrAttachmentTooLarge},
	} {
		got, err := DetectAttachmentType(tc.data)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("%s: got %q, %v; want %q, %v", tc.name, got, err, tc.want, tc.err)
		}
	}
	if n := cleanFilename("..\\..\\etc/\"pa\x00ss\".pdf"); n != "pass.pdf" {
		t.Errorf("cleanFilename = %q", n)
	}
}

func TestAttachmentsFollowVersionsAndOnlyEnrolledLearnersGetThem(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	c := f.published(t, "婴幼儿生活照料")
	v1, err := f.svc.Version(ctx, c.PublishedVersionID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Enrol(ctx, f.learner.PersonID, c.ID); err != nil {
		t.Fatal(err)
	}
	lesson1 := v1.Lessons()[0]

	// A wrong type named .png, and an oversized file, save nothing (not even a draft).
	if _, err := f.svc.AddAttachment(ctx, f.trainer.ID, c.ID, lesson1.ID, "photo.png", []byte("<html>not an image</html>")); !errors.Is(err, ErrAttachmentType) {
		t.Fatalf("html named .png: %v, want ErrAttachmentType", err)
	}
	if _, err := f.svc.AddAttachment(ctx, f.trainer.ID, c.ID, lesson1.ID, "big.pdf", append([]byte("%PDF-1.4\n"), make([]byte, MaxAttachmentSize)...)); !errors.Is(err, ErrAttachmentTooLarge) {
		t.Fatalf("oversized: %v, want ErrAttachmentTooLarge", err)
	}
	if co, _ := f.svc.Course(ctx, c.ID); co.DraftVersionID != 0 {
		t.Fatalf("a rejected upload made draft %d", co.DraftVersionID)
	}

	// Uploading to a lesson of the published version makes a draft; the published version is unchanged.
	a, err := f.svc.AddAttachment(ctx, f.trainer.ID, c.ID, lesson1.ID, "图示.png", pngBytes(t))
	if err != nil {
		t.Fatal(err)
	}
	co, _ := f.svc.Course(ctx, c.ID)
	if co.DraftVersionID == 0 || a.VersionID != co.DraftVersionID || a.ContentType != "image/png" || a.Filename != "图示.png" || a.LessonID == 0 {
		t.Fatalf("attachment %+v, draft %d", a, co.DraftVersionID)
	}
	if m, _ := f.svc.VersionAttachments(ctx, v1.ID); len(m) != 0 {
		t.Fatalf("published version got attachments: %+v", m)
	}
	// The learner of version 1 may not have the draft's file.
	if _, err := f.svc.LearnerAttachment(ctx, f.learner.PersonID, a.ID); !errors.Is(err, ErrNotEnrolled) {
		t.Fatalf("learner of v1 fetching a v2 attachment: %v, want ErrNotEnrolled", err)
	}

	// Saving the draft replaces its lessons; the attachment stays on the lesson at the same place.
	if _, err := f.svc.SaveDraft(ctx, f.trainer.ID, c.ID, sampleCourse("婴幼儿生活照料（第二版）")); err != nil {
		t.Fatal(err)
	}
	draft, _ := f.svc.Version(ctx, co.DraftVersionID)
	list, err := f.svc.LessonAttachments(ctx, draft.Lessons()[0])
	if err != nil || len(list) != 1 || list[0].ID != a.ID {
		t.Fatalf("after saving the draft: %+v, %v", list, err)
	}
	if _, err := f.svc.Publish(ctx, f.trainer.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Enrol(ctx, f.learner2.PersonID, c.ID); err != nil {
		t.Fatal(err)
	}
	file, err := f.svc.LearnerAttachment(ctx, f.learner2.PersonID, a.ID)
	if err != nil || !bytes.Equal(file.Data, pngBytes(t)) || !file.Image() {
		t.Fatalf("learner of v2: %+v, %v", file.Attachment, err)
	}
	if _, err := f.svc.LearnerAttachment(ctx, f.learner.PersonID, a.ID); !errors.Is(err, ErrNotEnrolled) {
		t.Fatalf("learner of v1 after publishing v2: %v", err)
	}

	// A lesson of the superseded version 1 no longer takes uploads.
	if _, err := f.svc.AddAttachment(ctx, f.trainer.ID, c.ID, lesson1.ID, "a.pdf", []byte("%PDF-1.4\n")); !errors.Is(err, ErrAttachmentOldVersion) {
		t.Fatalf("upload to superseded version: %v, want ErrAttachmentOldVersion", err)
	}
	// Another upload to published v2 makes draft v3 with a copy of v2's attachment plus the new one.
	b, err := f.svc.AddAttachment(ctx, f.trainer.ID, c.ID, draft.Lessons()[1].ID, "讲义.pdf", []byte("%PDF-1.4\nx"))
	if err != nil {
		t.Fatal(err)
	}
	m3, _ := f.svc.VersionAttachments(ctx, b.VersionID)
	m2, _ := f.svc.VersionAttachments(ctx, draft.ID)
	if b.VersionID == draft.ID || len(m3) != 2 || len(m2) != 1 || b.ContentType != "application/pdf" {
		t.Fatalf("v3 %d attachments %v, v2 attachments %v", b.VersionID, m3, m2)
	}
	// A draft's attachment can be removed; a published one cannot.
	if err := f.svc.RemoveAttachment(ctx, f.trainer.ID, c.ID, a.ID); !errors.Is(err, ErrAttachmentOldVersion) {
		t.Fatalf("removing a published attachment: %v", err)
	}
	if err := f.svc.RemoveAttachment(ctx, f.trainer.ID, c.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Attachment(ctx, b.ID); !errors.Is(err, ErrAttachmentNotFound) {
		t.Fatalf("removed attachment: %v", err)
	}
}
