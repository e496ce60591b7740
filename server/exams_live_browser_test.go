package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/exams"
	"shanyu/exams/bank"
	"shanyu/internal/browsertest"
	"shanyu/internal/servertest"
)

// poll waits until js is true in the tab.
func examPoll(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	// A navigation that is still settling can destroy the execution context the poll runs in; that
	// is retried, a false condition is not.
	for try := 0; ; try++ {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(30*time.Second)))
		if err == nil {
			return
		}
		if try == 2 || !strings.Contains(err.Error(), "Cannot find context") {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// A caregiver on a phone answers a paper with a picture and an essay while the examiner watches the
// live view on a desktop; after she submits, the examiner marks the essay in the marking queue (no
// name shown), publishes, and the score appears for both.
func TestExamLiveViewAndMarkingInTheBrowser(t *testing.T) {
	t.Parallel()
	var sessionID int64
	srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Setup: func(pool *pgxpool.Pool) (err error) {
		items := []bank.Item{examItems()[6], examItems()[0], imageItems(t)[1]}
		sessionID, err = seedExam(pool, items, []exams.Section{
			{Name: "论述", Part: exams.Practical, Count: 1, Points: 100, Type: bank.Essay},
			{Name: "理论", Part: exams.Theory, Count: 2, Points: 50},
		}, time.Hour)
		return err
	}})
	sid := fmt.Sprint(sessionID)

	// The examiner opens the live view: the candidate has not started.
	desk := browsertest.New(t, browsertest.Desktop)
	signIn(t, desk, srv.URL, "/exams/sessions/"+sid+"/live", "examiner")
	examPoll(t, desk, "live view lists the candidate not started",
		`(function(){var r=document.querySelector("#live-rows tr");return !!r && r.textContent.indexOf("李小燕")>=0 && r.textContent.indexOf("未开始")>=0;})()`)

	// The candidate answers on her phone.
	vp := browsertest.Phone
	phone := browsertest.New(t, vp)
	signIn(t, phone, srv.URL, "/exams", "caregiver")
	if _, err := chromedp.Run(phone, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(".exam-card a.button")))); err != nil {
		t.Fatal(err)
	}
	clickAndLoad(t, phone, `#exam-start button[type=submit]`) // the instructions: 开始考试
	if err := chromedp.Do(phone, chromedp.WaitVisible(chromedp.CSS("#question .stem")), chromedp.WaitVisible(chromedp.CSS("#navigator li:nth-child(3) button"))); err != nil {
		t.Fatal(err)
	}
	sawImage := false
	for n := 1; n <= 3; n++ {
		if err := chromedp.Do(phone, chromedp.Click(chromedp.CSS(fmt.Sprintf("#navigator li:nth-child(%d) button", n)))); err != nil {
			t.Fatal(err)
		}
		examPoll(t, phone, "question opens", fmt.Sprintf(`document.querySelector("#navigator li:nth-child(%d) button").getAttribute("aria-current") === "step"`, n))
		stem, err := chromedp.Run(phone, chromedp.Text(chromedp.CSS("#question .stem")))
		if err != nil {
			t.Fatal(err)
		}
		pick := func(text string) {
			t.Helper()
			ok, err := chromedp.Run(phone, chromedp.Evaluate[bool](`(function(){var hit=false;document.querySelectorAll("#question label.option").forEach(function(l){if(l.textContent.indexOf(`+jsString(text)+`)>=0){l.click();hit=true;}});return hit;})()`))
			if err != nil || !ok {
				t.Fatalf("option %q not found (%v)", text, err)
			}
		}
		switch {
		case strings.Contains(stem, "睡眠"):
			pick("14 小时")
		case strings.Contains(stem, "奶瓶"):
			// The picture loads from the attempt's image URL.
			examPoll(t, phone, "question image loads", `(function(){var i=document.querySelector("#question img.q-image");return !!i && i.complete && i.naturalWidth === 40;})()`)
			sawImage = true
			browsertest.AssertFits(t, phone, vp)
			browsertest.Screenshot(t, phone, "exam-phone-image")
			pick("正确")
		case strings.Contains(stem, "安抚"):
			if err := chromedp.Do(phone, chromedp.SendKeys(chromedp.CSS("#question textarea"), "抱起婴儿，轻拍背部，温柔地说话，检查是否饥饿或尿湿。")); err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Do(phone, chromedp.Click(chromedp.CSS("#next"))); err != nil { // leaving the field saves it
				t.Fatal(err)
			}
		default:
			t.Fatalf("unexpected question %q", stem)
		}
		examPoll(t, phone, "answer saved", `document.getElementById("save-status").textContent === "已保存"`)
	}
	if !sawImage {
		t.Fatal("the paper had no question with a picture")
	}

	// The live view shows her answering, with three answers saved.
	examPoll(t, desk, "live view shows the candidate answering",
		`(function(){var r=document.querySelector("#live-rows tr");return !!r && r.textContent.indexOf("作答中")>=0 && r.textContent.indexOf("3 / 3")>=0;})()`)
	browsertest.Screenshot(t, desk, "exam-live-desktop")

	if _, err := chromedp.Run(phone, chromedp.Evaluate[bool](`window.confirm = function () { return true; }; true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(phone, chromedp.Click(chromedp.CSS("#submit"))); err != nil {
		t.Fatal(err)
	}
	examPoll(t, phone, "submitted message", `!document.getElementById("exam-message").hidden && document.getElementById("exam-message").textContent.indexOf("已交卷") >= 0`)
	examPoll(t, desk, "live view shows the candidate submitted",
		`(function(){var r=document.querySelector("#live-rows tr");return !!r && r.textContent.indexOf("已交卷")>=0;})()`)

	// The examiner marks the essay: the queue shows the answer but not her name.
	if err := chromedp.Do(desk, chromedp.Navigate(srv.URL+"/exams/sessions/"+sid+"/marking"), chromedp.WaitVisible(chromedp.CSS(`input[name="marks"]`))); err != nil {
		t.Fatal(err)
	}
	queue, err := chromedp.Run(desk, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(queue, "轻拍背部") || strings.Contains(queue, "李小燕") {
		t.Fatalf("marking queue shows the answer %v, the name %v", strings.Contains(queue, "轻拍背部"), strings.Contains(queue, "李小燕"))
	}
	browsertest.Screenshot(t, desk, "exam-marking-desktop")
	if err := chromedp.Do(desk, chromedp.SendKeys(chromedp.CSS(`input[name="marks"]`), "8")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(desk, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(`form[action$="/marks"] button[type=submit]`)))); err != nil {
		t.Fatal(err)
	}
	examPoll(t, desk, "marking queue empty", `document.querySelector("main").textContent.indexOf("没有待评的答卷") >= 0`)

	// Publish, and the score appears on the centre's results and on her phone.
	if err := chromedp.Do(desk, chromedp.Navigate(srv.URL+"/exams/sessions/"+sid+"/results"), chromedp.WaitVisible(chromedp.CSS(`form[action$="/publish"] button`))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(desk, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(`form[action$="/publish"] button`)))); err != nil {
		t.Fatal(err)
	}
	examPoll(t, desk, "results table shows the marked score",
		`(function(){var r=document.querySelector("main table tbody tr");return !!r && r.textContent.indexOf("李小燕")>=0 && r.textContent.indexOf("100.0")>=0 && r.textContent.indexOf("80.0")>=0 && r.textContent.indexOf("合格")>=0;})()`)
	browsertest.Screenshot(t, desk, "exam-results-desktop")
	if err := chromedp.Do(phone, chromedp.Navigate(srv.URL+"/exams/results"), chromedp.WaitVisible(chromedp.CSS(".exam-card"))); err != nil {
		t.Fatal(err)
	}
	card, err := chromedp.Run(phone, chromedp.Text(chromedp.CSS(".exam-card")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(card, "80.0") || !strings.Contains(card, "合格") {
		t.Fatalf("candidate's result card: %q", card)
	}
	browsertest.AssertFits(t, phone, vp)
	browsertest.Screenshot(t, phone, "exam-results-phone")
}

// The centre's regrade dry run and registrations pages hold at 360 px.
func TestExamRegradeAndRegistrationsPagesOnAPhone(t *testing.T) {
	t.Parallel()
	var sessionID, itemA int64
	srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Setup: func(pool *pgxpool.Pool) (err error) {
		sessionID, itemA, err = sitRegradeSession(pool)
		if err != nil {
			return err
		}
		// A third registrant whose ID card nobody checked yet.
		acc, err := demoAccounts(pool)
		if err != nil {
			return err
		}
		person, err := acc.EnsurePerson(context.Background(), "赵新", "", "330106199007159024")
		if err != nil {
			return err
		}
		_, err = pool.Exec(context.Background(), `INSERT INTO exam_registrations (session_id, person_id) VALUES ($1, $2)`, sessionID, person)
		return err
	}})
	vp := browsertest.Phone
	ctx := browsertest.New(t, vp)
	sid := fmt.Sprint(sessionID)
	signIn(t, ctx, srv.URL, "/", "centre")
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/exams/sessions/"+sid+"/regrade?item="+fmt.Sprint(itemA)),
		chromedp.WaitVisible(chromedp.CSS("table.regrade tr.flip-fail"))); err != nil {
		t.Fatal(err)
	}
	browsertest.AssertFits(t, ctx, vp)
	browsertest.Screenshot(t, ctx, "exam-regrade-phone")
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/exams/sessions/"+sid+"/registrations"),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/identity"] button`))); err != nil {
		t.Fatal(err)
	}
	browsertest.AssertFits(t, ctx, vp)
	browsertest.Screenshot(t, ctx, "exam-registrations-phone")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.confirm = function () { return true; }; true`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(`form[action$="/identity"] button`)))); err != nil {
		t.Fatal(err)
	}
	examPoll(t, ctx, "identity recorded", `document.querySelector(".notice") !== null && document.querySelectorAll('form[action$="/identity"]').length === 0`)
}
