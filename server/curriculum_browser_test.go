package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"shanyu/internal/browsertest"
	"shanyu/internal/clock"
)

func mainText(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A trainer writes and publishes a course in the centre's editor (desktop); a caregiver on a phone
// finds it in the catalogue, enrols, studies a lesson for its server-measured minimum time (2 s here),
// completes it and sees the hours.
func TestCurriculumTrainerPublishesCaregiverLearnsOnAPhone(t *testing.T) {
	t.Parallel()
	srv := startCurriculum(t)

	desk := browsertest.New(t, browsertest.Desktop)
	signIn(t, desk, srv.URL, "/centre/courses", "trainer")
	outline := "=== 日常照料\n--- 安全睡眠 | 1 | 2\n## 要点\n\n- 婴儿**仰卧**入睡\n- 每 15 分钟巡视一次\n\n--- 进餐看护 | 0.5 | 2\n进餐时全程看护。\n"
	if err := chromedp.Do(desk,
		chromedp.WaitVisible(chromedp.CSS("#c-title")),
		chromedp.SendKeys(chromedp.CSS("#c-title"), "婴幼儿睡眠照护"),
		chromedp.SendKeys(chromedp.CSS("#c-summary"), "午睡照护要点"),
		chromedp.SetValue(chromedp.CSS("#c-required"), "1.5"),
		chromedp.Click(chromedp.CSS("details.import summary")),
		chromedp.SetValue(chromedp.CSS("#c-outline"), outline),
	); err != nil {
		t.Fatal(err)
	}
	// The === / --- text imports into the structure fields, which are then saved.
	clickAndLoad(t, desk, "#import-outline")
	clickAndLoad(t, desk, "#create-course")
	if body := mainText(t, desk); !strings.Contains(body, "草稿已保存") || !strings.Contains(body, "版本历史") {
		t.Fatalf("after saving the draft: %s", body)
	}
	browsertest.Screenshot(t, desk, "curriculum-editor")
	clickAndLoad(t, desk, "#publish")
	if body := mainText(t, desk); !strings.Contains(body, "课程已发布") {
		t.Fatalf("after publishing: %s", body)
	}

	phone := browsertest.New(t, browsertest.Phone)
	if err := chromedp.Do(phone, chromedp.Navigate(srv.URL+"/courses"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	if body := mainText(t, phone); !strings.Contains(body, "课程目录") || !strings.Contains(body, "婴幼儿睡眠照护") {
		t.Fatalf("catalogue: %s", body)
	}
	browsertest.AssertFits(t, phone, browsertest.Phone)
	browsertest.Screenshot(t, phone, "curriculum-catalogue-phone")

	signIn(t, phone, srv.URL, "/courses", "caregiver")
	clickAndLoad(t, phone, ".course-item h2 a")
	browsertest.AssertFits(t, phone, browsertest.Phone)
	browsertest.Screenshot(t, phone, "curriculum-course-phone")
	clickAndLoad(t, phone, "#enrol")
	if body := mainText(t, phone); !strings.Contains(body, "报名成功") || !strings.Contains(body, "安全睡眠") {
		t.Fatalf("after enrolling: %s", body)
	}
	clickAndLoad(t, phone, ".lessons li a")
	// The button waits for the minimum time the server measures; the script only mirrors it.
	if err := chromedp.Do(phone, chromedp.WaitVisible(chromedp.CSS(".lesson-body h2"))); err != nil {
		t.Fatal(err)
	}
	browsertest.AssertFits(t, phone, browsertest.Phone)
	browsertest.Screenshot(t, phone, "curriculum-lesson-phone")
	if err := chromedp.Do(phone, chromedp.WaitEnabled(chromedp.CSS("#complete"))); err != nil {
		t.Fatal(err)
	}
	clickAndLoad(t, phone, "#complete")
	if err := chromedp.Do(phone, chromedp.WaitVisible(chromedp.CSS("#lesson-done"))); err != nil {
		t.Fatalf("lesson not completed: %s (%v)", mainText(t, phone), err)
	}
	browsertest.Screenshot(t, phone, "curriculum-lesson-done-phone")

	if err := chromedp.Do(phone, chromedp.Navigate(srv.URL+"/hours"), chromedp.WaitVisible(chromedp.CSS("#total-hours"))); err != nil {
		t.Fatal(err)
	}
	total, err := chromedp.Run(phone, chromedp.Text(chromedp.CSS("#total-hours")))
	if err != nil || total != "1" {
		t.Fatalf("total hours shown: %q %v", total, err)
	}
	if body := mainText(t, phone); !strings.Contains(body, "婴幼儿睡眠照护") || !strings.Contains(body, "保育师") {
		t.Fatalf("hours page: %s", body)
	}
	browsertest.AssertFits(t, phone, browsertest.Phone)
	browsertest.Screenshot(t, phone, "curriculum-hours-phone")

	// The trainer schedules a practical session; its sheet shows the check-in QR code.
	if err := chromedp.Do(desk, chromedp.Navigate(srv.URL+"/centre/sessions"), chromedp.WaitVisible(chromedp.CSS("#s-title")),
		chromedp.SendKeys(chromedp.CSS("#s-title"), "睡眠照护实操"),
		// Today, all day (China time), so that scanning is open whenever the test runs.
		chromedp.SetValue(chromedp.CSS("#s-date"), clock.Format(time.Now(), time.DateOnly)),
		chromedp.SetValue(chromedp.CSS("#s-start"), "00:00"),
		chromedp.SetValue(chromedp.CSS("#s-end"), "23:59")); err != nil {
		t.Fatal(err)
	}
	clickAndLoad(t, desk, "form[action='/centre/sessions'] button[type=submit]")
	if err := chromedp.Do(desk, chromedp.WaitVisible(chromedp.CSS("#checkin-qr"))); err != nil {
		t.Fatalf("session sheet: %s (%v)", mainText(t, desk), err)
	}
	sheetURL, err := chromedp.Run(desk, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	sessionID := sheetURL[strings.LastIndex(sheetURL, "/")+1:]
	qrLoaded, err := chromedp.Run(desk, chromedp.Evaluate[bool]("document.getElementById('checkin-qr').naturalWidth > 0"))
	if err != nil || !qrLoaded {
		t.Fatalf("QR image did not load: %v", err)
	}

	// The caregiver signs up on the phone, then opens the link the QR code holds and checks in.
	if err := chromedp.Do(phone, chromedp.Navigate(srv.URL+"/sessions"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	clickAndLoad(t, phone, "form[action='/sessions/"+sessionID+"/signup'] button")
	if body := mainText(t, phone); !strings.Contains(body, "报名成功") {
		t.Fatalf("after signing up: %s", body)
	}
	browsertest.AssertFits(t, phone, browsertest.Phone)
	browsertest.Screenshot(t, phone, "curriculum-sessions-phone")
	link := mustLogin(t, srv, "trainer").do("GET", "/api/v1/sessions/"+sessionID+"/code", nil, nil).json(t)["url"].(string)
	if err := chromedp.Do(phone, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#confirm-checkin"))); err != nil {
		t.Fatal(err)
	}
	clickAndLoad(t, phone, "#confirm-checkin")
	if err := chromedp.Do(phone, chromedp.WaitVisible(chromedp.CSS("#checkin-result"))); err != nil {
		t.Fatalf("check-in: %s (%v)", mainText(t, phone), err)
	}
	browsertest.AssertFits(t, phone, browsertest.Phone)
	browsertest.Screenshot(t, phone, "curriculum-checkin-phone")
	// The same link again is a replay and says so.
	if err := chromedp.Do(phone, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#confirm-checkin"))); err != nil {
		t.Fatal(err)
	}
	clickAndLoad(t, phone, "#confirm-checkin")
	if msg, err := chromedp.Run(phone, chromedp.Text(chromedp.CSS("#checkin-error"))); err != nil || !strings.Contains(msg, "已使用过") {
		t.Fatalf("replayed link: %q %v", msg, err)
	}
	if err := chromedp.Do(desk, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("table.sheet"))); err != nil {
		t.Fatal(err)
	}
	if body := mainText(t, desk); !strings.Contains(body, "李小燕") || !strings.Contains(body, "登记签退") {
		t.Fatalf("attendance sheet after check-in: %s", body)
	}
	browsertest.Screenshot(t, desk, "curriculum-session-sheet")
}
