package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/exams"
	"shanyu/exams/bank"
	"shanyu/internal/browsertest"
	"shanyu/internal/servertest"
)

// TestCaregiverAnswersAClozeInTheSentence: a cloze item on a 360 px phone shows its gaps inside the
// sentence (a list, radio buttons, a text box, a number box, check boxes), each named for screen readers, with no
// sideways scrolling and no axe violation; the answers are saved through the usual save and the
// submitted attempt earns the weighted sum of the gaps.
func TestCaregiverAnswersAClozeInTheSentence(t *testing.T) {
	t.Parallel()
	stem, gaps, err := bank.ParseCloze("婴儿满 {2:MC:=6个月~4个月~1岁} 起添加辅食；拍嗝时宜 {1:MCV:=竖抱~平躺} ；" +
		"补液首选 {1:SA:=ORS~=口服补液盐} ；腋温 {1:NM:=37.5:0.2} ℃ 以上为发热；晨检看 {1:MRH:=体温~=精神~身高}。")
	if err != nil {
		t.Fatal(err)
	}
	item := bank.Item{Type: bank.Cloze, Stem: stem, Format: bank.Plain, Points: 6, Gaps: gaps}
	var sessionID int64
	srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Setup: func(pool *pgxpool.Pool) (err error) {
		sessionID, err = seedExam(pool, []bank.Item{item}, []exams.Section{
			{Name: "完形填空", Part: exams.Theory, Count: 1, Points: 100, Type: bank.Cloze},
		}, time.Hour)
		return err
	}})
	p := newPhone(t, srv.URL, sessionID, "cloze")
	p.wait(`document.querySelectorAll("#question .stem .gap").length === 5`, 30*time.Second)
	if got := p.eval(`Array.prototype.map.call(document.querySelectorAll("#question .gap select, #question .gap [role=radiogroup], #question .gap [role=group], #question .gap input[type=text]"), function (e) { return e.getAttribute("aria-label"); }).join("|")`); got != "第 1 空|第 2 空|第 3 空|第 4 空|第 5 空" {
		t.Errorf("gap labels %q", got)
	}
	if w := p.eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`); w != "true" {
		t.Errorf("the cloze scrolls sideways at 360 px")
	}
	if v := browsertest.Axe(t, p.ctx); len(v) > 0 {
		t.Errorf("axe: %v", v)
	}
	// A list, a radio button and two boxes, as a candidate fills them.
	p.eval(`(function(){var s=document.querySelector("#question .gap select");s.value=s.options[1].value;s.dispatchEvent(new Event("change"));return "";})()`)
	p.run(chromedp.Click(chromedp.CSS(`#question .gap-radios input[value="0"]`)))
	p.run(chromedp.SendKeys(chromedp.CSS(`#question .stem .gap:nth-of-type(3) input`), "ors"),
		chromedp.SendKeys(chromedp.CSS(`#question .stem .gap:nth-of-type(4) input`), "37,6"))
	p.eval(`document.activeElement.blur(); ""`)
	// The check boxes of the fifth gap: both right ones.
	p.run(chromedp.Click(chromedp.CSS(`#question .gap [role=group] input[value="0"]`)), chromedp.Click(chromedp.CSS(`#question .gap [role=group] input[value="1"]`)))
	p.wait(`document.getElementById("save-status").textContent.indexOf("已保存") === 0 && document.querySelector("#navigator li button").classList.contains("answered")`, 30*time.Second)
	p.screenshot("exam-cloze-phone")
	// The same page on a desktop screen: the gaps stay in the sentence.
	p.run(browsertest.SetViewport(browsertest.Desktop))
	browsertest.AssertFits(t, p.ctx, browsertest.Desktop)
	browsertest.Screenshot(t, p.ctx, "exam-cloze-desktop")
	p.run(browsertest.SetViewport(browsertest.Phone))
	p.run(chromedp.Click(chromedp.CSS(`#submit`)))
	p.waitStatus("已交卷")
	// The options are not shuffled (no _S gap), so the first choice of each list is the right one.
	var earned float64
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := srv.Pool.QueryRow(context.Background(), `SELECT coalesce(sum(earned), -1) FROM exam_attempt_items i
			JOIN exam_attempts a ON a.id = i.attempt_id WHERE a.session_id = $1`, sessionID).Scan(&earned)
		if err != nil {
			t.Fatal(err)
		}
		if earned >= 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if earned != 100 {
		t.Errorf("the cloze earned %v of 100", earned)
	}
}
