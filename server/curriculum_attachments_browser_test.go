package server_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"shanyu/internal/browsertest"
)

// A trainer's attachments page and a learner's hours ledger at the centre, and a caregiver's lesson
// with an image attachment, all on a 360-px phone.
func TestCurriculumAttachmentsAndCorrectionsOnAPhone(t *testing.T) {
	t.Parallel()
	srv := startCurriculum(t)
	trainer := mustLogin(t, srv, "trainer")
	id := createPublished(t, trainer, "HZ001", "婴幼儿生活照料")
	img := image.NewRGBA(image.Rect(0, 0, 600, 300))
	for x := 0; x < 600; x++ {
		for y := 0; y < 300; y++ {
			img.Set(x, y, color.RGBA{uint8(x / 3), 120, uint8(y / 2), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if r := trainer.upload(fmt.Sprintf("/centre/courses/%d/lessons/%d/attachments", id, firstLessonID(t, trainer, id)), "", "睡眠姿势示意图.png", b.Bytes(), ""); r.Status != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	if r := trainer.send("POST", fmt.Sprintf("/api/v1/courses/%d/publish", id), nil); r.Status != http.StatusOK {
		t.Fatalf("publish: %d", r.Status)
	}
	learner := mustLogin(t, srv, "caregiver")
	learner.send("POST", fmt.Sprintf("/api/v1/courses/%d/enrolments", id), nil)
	lesson := firstLessonID(t, trainer, id)
	learner.send("POST", fmt.Sprintf("/api/v1/lessons/%d/open", lesson), nil)
	learner.send("POST", fmt.Sprintf("/api/v1/lessons/%d/complete", lesson), nil)
	entryID := num(learner.do("GET", "/api/v1/me/hours", nil, nil).json(t)["entries"].([]any)[0].(map[string]any)["id"])
	r := trainer.postForm(fmt.Sprintf("/centre/hours/entries/%d/correct", entryID), url.Values{"_csrf": {trainer.csrf}, "hours": {"-0.25"}, "reason": {"签到记录与课时不符"}, "confirm": {"yes"}})
	ledger := r.Header.Get("Location")
	if r.Status != http.StatusSeeOther {
		t.Fatalf("correction: %d", r.Status)
	}

	phone := browsertest.New(t, browsertest.Phone)
	signIn(t, phone, srv.URL, fmt.Sprintf("/centre/courses/%d/attachments", id), "trainer")
	if body := mainText(t, phone); !strings.Contains(body, "课时附件") || !strings.Contains(body, "睡眠姿势示意图.png") {
		t.Fatalf("attachments page: %s", body)
	}
	browsertest.AssertFits(t, phone, browsertest.Phone)
	browsertest.Screenshot(t, phone, "curriculum-attachments-phone")

	if err := chromedp.Do(phone, chromedp.Navigate(srv.URL+ledger), chromedp.WaitVisible(chromedp.CSS("h1")),
		chromedp.Click(chromedp.CSS("details summary"))); err != nil {
		t.Fatal(err)
	}
	if body := mainText(t, phone); !strings.Contains(body, "签到记录与课时不符") || !strings.Contains(body, "0.75") {
		t.Fatalf("ledger page: %s", body)
	}
	browsertest.AssertFits(t, phone, browsertest.Phone)
	browsertest.Screenshot(t, phone, "curriculum-corrections-phone")

	learnerPhone := browsertest.New(t, browsertest.Phone)
	signIn(t, learnerPhone, srv.URL, fmt.Sprintf("/learn/lessons/%d", lesson), "caregiver")
	if err := chromedp.Do(learnerPhone, chromedp.WaitVisible(chromedp.CSS("img.attachment-image"))); err != nil {
		t.Fatal(err)
	}
	loaded, err := chromedp.Run(learnerPhone, chromedp.Evaluate[bool](`document.querySelector("img.attachment-image").naturalWidth === 600`))
	if err != nil || !loaded {
		t.Fatalf("attachment image did not load: %v", err)
	}
	browsertest.AssertFits(t, learnerPhone, browsertest.Phone)
	browsertest.Screenshot(t, learnerPhone, "curriculum-lesson-attachment-phone")
}
