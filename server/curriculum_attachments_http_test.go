package server_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func firstLessonID(t *testing.T, c *client, courseID int64) int64 {
	t.Helper()
	r := c.do("GET", fmt.Sprintf("/api/v1/courses/%d", courseID), nil, nil)
	lessons := r.json(t)["modules"].([]any)[0].(map[string]any)["lessons"].([]any)
	return num(lessons[0].(map[string]any)["id"])
}

func TestCurriculumLessonAttachmentsUploadAndDownload(t *testing.T) {
	t.Parallel()
	srv := startCurriculum(t)
	trainer := mustLogin(t, srv, "trainer")
	id := createPublished(t, trainer, "HZ001", "婴幼儿生活照料")
	v1Lesson := firstLessonID(t, trainer, id)
	uploadPath := func(lesson int64) string { return fmt.Sprintf("/centre/courses/%d/lessons/%d/attachments", id, lesson) }
	pagePath := fmt.Sprintf("/centre/courses/%d/attachments", id)
	links := regexp.MustCompile(fmt.Sprintf(`/centre/courses/%d/attachments/(\d+)"`, id))

	// HTML named .png is refused with a translated message, and nothing is saved.
	r := trainer.upload(uploadPath(v1Lesson), "", "photo.png", []byte("<html><script>alert(1)</script></html>"), "")
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "只接受 PDF、PNG、JPEG 或 WebP") {
		t.Fatalf("html upload: %d %s", r.Status, r.Body)
	}
	if r := trainer.do("GET", pagePath, nil, nil); r.Status != 200 || links.Match(r.Body) {
		t.Fatalf("after a refused upload: %d, links %q", r.Status, links.FindAll(r.Body, -1))
	}
	big := append([]byte("%PDF-1.4\n"), make([]byte, 10<<20)...)
	if r := trainer.upload(uploadPath(v1Lesson), "", "big.pdf", big, ""); r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "10 MB") {
		t.Fatalf("oversized upload: %d", r.Status)
	}
	// Another centre's trainer may not upload.
	if r := mustLogin(t, srv, "trainer.nb").upload(uploadPath(v1Lesson), "", "a.pdf", []byte("%PDF-1.4\n"), ""); r.Status != http.StatusForbidden {
		t.Fatalf("other centre's upload: %d", r.Status)
	}

	var img bytes.Buffer
	if err := png.Encode(&img, image.NewRGBA(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	// Uploading to the published version makes a draft; publish it so learners get the file.
	if r := trainer.upload(uploadPath(v1Lesson), "", "图示.png", img.Bytes(), ""); r.Status != http.StatusSeeOther {
		t.Fatalf("png upload: %d %s", r.Status, r.Body)
	}
	m := links.FindSubmatch(trainer.do("GET", pagePath, nil, nil).Body)
	if m == nil {
		t.Fatal("uploaded attachment not listed")
	}
	pngID := string(m[1])
	if r := trainer.send("POST", fmt.Sprintf("/api/v1/courses/%d/publish", id), nil); r.Status != http.StatusOK {
		t.Fatalf("publish: %d %s", r.Status, r.Body)
	}

	learner := mustLogin(t, srv, "caregiver")
	if r := learner.send("POST", fmt.Sprintf("/api/v1/courses/%d/enrolments", id), nil); r.Status != http.StatusCreated {
		t.Fatalf("enrol: %d %s", r.Status, r.Body)
	}
	v2Lesson := firstLessonID(t, trainer, id)
	if r := learner.do("GET", fmt.Sprintf("/learn/lessons/%d", v2Lesson), nil, nil); r.Status != 200 || !strings.Contains(string(r.Body), "/learn/attachments/"+pngID) {
		t.Fatalf("lesson page does not list the attachment: %d", r.Status)
	}
	r = learner.do("GET", "/learn/attachments/"+pngID, nil, nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "image/png" || r.Header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.HasPrefix(r.Header.Get("Content-Disposition"), "inline;") || !strings.Contains(r.Header.Get("Content-Disposition"), "filename*=UTF-8''%E5%9B%BE%E7%A4%BA.png") ||
		!bytes.Equal(r.Body, img.Bytes()) {
		t.Fatalf("learner download: %d %v", r.Status, r.Header)
	}

	// A PDF/HTML polyglot named .html on the published v2 makes draft v3; its file is a PDF, stored and
	// served as notes.pdf (the type detected from its content), and v2's learner cannot have it.
	if r := trainer.upload(uploadPath(v2Lesson), "", "notes.html", []byte("%PDF-1.4\n1 0 obj\n<html><script>alert(1)</script></html>\n"), ""); r.Status != http.StatusSeeOther {
		t.Fatalf("pdf upload: %d %s", r.Status, r.Body)
	}
	all := links.FindAllSubmatch(trainer.do("GET", pagePath, nil, nil).Body, -1)
	if len(all) != 2 {
		t.Fatalf("draft v3 lists %d attachments, want 2 (a copy of v2's and the new one)", len(all))
	}
	var pdfID string
	for _, l := range all {
		r := trainer.do("GET", fmt.Sprintf("/centre/courses/%d/attachments/%s", id, l[1]), nil, nil)
		if r.Header.Get("Content-Type") == "application/pdf" {
			pdfID = string(l[1])
			if !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment;") || r.Header.Get("X-Content-Type-Options") != "nosniff" ||
				!strings.Contains(r.Header.Get("Content-Disposition"), "notes.pdf") || strings.Contains(r.Header.Get("Content-Disposition"), ".html") {
				t.Fatalf("pdf headers: %v", r.Header)
			}
		}
	}
	if pdfID == "" {
		t.Fatal("the PDF named .html was not stored as application/pdf")
	}
	if r := learner.do("GET", "/learn/attachments/"+pdfID, nil, nil); r.Status != http.StatusForbidden {
		t.Fatalf("learner of v2 fetching a v3 draft attachment: %d", r.Status)
	}
	if r := mustLogin(t, srv, "trainer.nb").do("GET", pagePath, nil, nil); r.Status != http.StatusForbidden {
		t.Fatalf("other centre's attachments page: %d", r.Status)
	}
}
