package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestExamTakenWithTheKeyboardAlone answers all six questions and submits using only Tab, Space and
// Enter (WCAG 2.1.1): every option and button is reachable in order, focus never falls back to the
// top of the page (on the last question, where 下一题 is disabled, it moves to 交卷), and the
// server holds the six answers.
func TestExamTakenWithTheKeyboardAlone(t *testing.T) {
	t.Parallel()
	srv, sessionID := startDayExam(t)
	p := newPhone(t, srv.URL, sessionID, "keyboard")
	p.waitPaper()
	focused := func() string {
		return p.eval(`(function(){var e=document.activeElement;if(!e||e===document.body)return "body";return e.id?"#"+e.id:e.tagName.toLowerCase()+(e.name?"[name="+e.name+"]":"");})()`)
	}
	// tabTo presses Tab until the focused element matches css, at most 40 times.
	tabTo := func(css string) {
		t.Helper()
		for i := 0; i < 40; i++ {
			if p.eval(fmt.Sprintf(`String(!!document.activeElement && document.activeElement.matches(%s))`, jsString(css))) == "true" {
				return
			}
			p.run(chromedp.KeyEvent(kb.Tab))
		}
		t.Fatalf("40 Tabs never reached %s (focus on %s)", css, focused())
	}
	for n := 1; n <= 6; n++ {
		tabTo(`#question input`)
		p.run(chromedp.KeyEvent(" "))
		p.wait(`!!document.querySelector("#question input:checked")`, 5*time.Second)
		p.waitStatus("已保存")
		if n < 6 {
			tabTo(`#next`)
			p.run(chromedp.KeyEvent(kb.Enter))
			p.wait(fmt.Sprintf(`document.querySelector("#navigator li:nth-child(%d) button").getAttribute("aria-current") === "step"`, n+1), 10*time.Second)
			if f := focused(); f == "body" {
				t.Fatalf("after 下一题 on question %d, focus fell back to the page", n)
			}
		}
	}
	// On the last question 下一题 is disabled: focus is where the keyboard can go on, not the top.
	if f := focused(); f == "body" {
		t.Errorf("on the last question focus is on the page itself")
	}
	tabTo(`#submit`)
	p.run(chromedp.KeyEvent(kb.Enter))
	p.waitStatus("已交卷")
	var answered int
	if err := srv.Pool.QueryRow(context.Background(), `SELECT count(DISTINCT position) FROM exam_answers a JOIN exam_attempts t ON t.id = a.attempt_id
		WHERE t.session_id = $1 AND t.submitted_at IS NOT NULL`, sessionID).Scan(&answered); err != nil {
		t.Fatal(err)
	}
	if answered != 6 {
		t.Errorf("the server holds answers to %d questions, want 6", answered)
	}
}

// TestExamTimerIsAnnouncedAtThresholdsOnly: the countdown itself is not live (a screen reader would
// read it every second); a polite status says 还剩 15 分钟, 还剩 5 分钟 and 还剩 1 分钟 once each as the
// time left crosses them. The page's clock is moved forward rather than waiting an hour.
func TestExamTimerIsAnnouncedAtThresholdsOnly(t *testing.T) {
	t.Parallel()
	srv, sessionID := startDayExam(t)
	p := newPhone(t, srv.URL, sessionID, "timer")
	p.waitPaper()
	if live := p.eval(`document.getElementById("countdown").getAttribute("aria-live")`); live != "off" {
		t.Errorf("the countdown is aria-live=%q", live)
	}
	alert := func() string { return p.eval(`document.getElementById("countdown-alert").textContent`) }
	time.Sleep(1500 * time.Millisecond)
	if a := alert(); a != "" {
		t.Fatalf("with an hour left the status already says %q", a)
	}
	// Move the page's clock so that `left` seconds remain.
	p.eval(`(function(){ if (!window.__realNow) { window.__realNow = Date.now; } window.__shift = 0; Date.now = function () { return window.__realNow() + window.__shift; }; return "ok"; })()`)
	for _, c := range []struct {
		left int
		want string
	}{{899, "还剩 15 分钟"}, {299, "还剩 5 分钟"}, {59, "还剩 1 分钟"}} {
		p.eval(fmt.Sprintf(`(function(){ var d = document.getElementById("countdown"); var txt = d.textContent.split(":").map(Number);
			var left = txt.length === 3 ? txt[0]*3600+txt[1]*60+txt[2] : txt[0]*60+txt[1];
			window.__shift += (left - %d) * 1000; return "ok"; })()`, c.left))
		p.wait(`document.getElementById("countdown-alert").textContent === `+jsString(c.want), 5*time.Second)
		before := alert()
		time.Sleep(2 * time.Second)
		if a := alert(); a != before {
			t.Errorf("the status changed from %q to %q between thresholds", before, a)
		}
	}
}
