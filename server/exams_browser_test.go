package server_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/exams"
	"shanyu/internal/browsertest"
	"shanyu/internal/servertest"
)

// setOffline cuts (or restores) the tab's network: requests fail and navigator.onLine follows.
func setOffline(ctx context.Context, offline bool) error {
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		return err
	}
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}},
	}); err != nil {
		return err
	}
	_, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1})
	return err
}

// A caregiver takes a short exam on a phone; the network drops for 10 s while she answers; the page
// says so, keeps the answers and sends them when the network returns; she submits and every answer is
// graded.
func TestCaregiverTakesAnExamOnAPhoneThroughANetworkCut(t *testing.T) {
	t.Parallel()
	var sessionID int64
	items := examItems()[:4] // single, multiple, true/false, fill in the blank
	srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Setup: func(pool *pgxpool.Pool) (err error) {
		sessionID, err = seedExam(pool, items, []exams.Section{{Name: "理论", Part: exams.Theory, Count: 4, Points: 25}}, time.Hour)
		return err
	}})
	vp := browsertest.Phone
	ctx := browsertest.New(t, vp)
	click := func(sel string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
			t.Fatalf("click %s: %v", sel, err)
		}
	}
	// goTo opens question n with the navigator and waits until it is on screen.
	goTo := func(n int) {
		t.Helper()
		// chromedp clicks at the button's coordinates; when the page moves between the measure and the
		// click (the offline notice appearing above it), the click hits something else, so a question
		// that did not open is clicked again, for at most 10 s in all.
		var err error
		for try := 0; try < 5; try++ {
			click(fmt.Sprintf("#navigator li:nth-child(%d) button", n))
			if _, err = chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`document.querySelector("#navigator li:nth-child(%d) button").getAttribute("aria-current") === "step"`, n),
				chromedp.WithPollingTimeout(2*time.Second))); err == nil {
				return
			}
		}
		t.Fatalf("question %d did not open: %v", n, err)
	}
	status := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#save-status")))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	waitStatus := func(want string) {
		t.Helper()
		js := `document.getElementById("save-status").textContent === ` + jsString(want)
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			t.Fatalf("save status never became %q (it is %q): %v", want, status(), err)
		}
	}
	waitStatusPrefix := func(want string) {
		t.Helper()
		js := `document.getElementById("save-status").textContent.indexOf(` + jsString(want) + `) === 0`
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			t.Fatalf("save status never began with %q (it is %q): %v", want, status(), err)
		}
	}
	// answer answers the question on screen by its stem, the way the candidate would.
	answer := func() {
		t.Helper()
		stem, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#question .stem")))
		if err != nil {
			t.Fatal(err)
		}
		pick := func(text string) {
			t.Helper()
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function(){var hit=false;document.querySelectorAll("#question label.option").forEach(function(l){if(l.textContent.indexOf(`+jsString(text)+`)>=0){l.click();hit=true;}});return hit;})()`))
			if err != nil || !ok {
				t.Fatalf("option %q not found (%v)", text, err)
			}
		}
		switch {
		case strings.Contains(stem, "睡眠"):
			pick("14 小时")
		case strings.Contains(stem, "洗手的时机"):
			pick("进餐前")
			pick("如厕后")
		case strings.Contains(stem, "奶瓶"):
			pick("正确")
		case strings.Contains(stem, "搓洗"):
			if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#question input[type=text]"), "KEYBLANKANSWER")); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("unexpected question %q", stem)
		}
	}

	signIn(t, ctx, srv.URL, "/exams", "caregiver")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(".exam-card a.button"))); err != nil {
		t.Fatal(err)
	}
	browsertest.AssertFits(t, ctx, vp)
	browsertest.Screenshot(t, ctx, "exams-mine-phone")
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(".exam-card a.button")))); err != nil {
		t.Fatal(err)
	}
	clickAndLoad(t, ctx, `#exam-start button[type=submit]`) // the instructions: 开始考试
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#question .stem")), chromedp.WaitVisible(chromedp.CSS("#navigator li:nth-child(4) button"))); err != nil {
		t.Fatal(err)
	}

	answer() // question 1, online
	waitStatus("已保存")
	browsertest.AssertFits(t, ctx, vp)
	browsertest.Screenshot(t, ctx, "exam-phone-online")

	if err := setOffline(ctx, true); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	goTo(2)
	answer()
	goTo(3)
	answer()
	waitStatusPrefix("离线：")
	pending, err := chromedp.Run(ctx, chromedp.Evaluate[int](`JSON.parse(localStorage.getItem("shanyu.exam.`+itoa(sessionID)+`")).pending.length`))
	if err != nil || pending == 0 {
		t.Fatalf("unsent answers kept in the browser: %d (%v)", pending, err)
	}
	browsertest.Screenshot(t, ctx, "exam-phone-offline")
	if rest := 10*time.Second - time.Since(cut); rest > 0 {
		if err := chromedp.Do(ctx, chromedp.Sleep(rest)); err != nil {
			t.Fatal(err)
		}
	}
	if err := setOffline(ctx, false); err != nil {
		t.Fatal(err)
	}
	waitStatus("已保存")

	goTo(4)
	answer()
	click("#next") // leaves the field: a typed answer is saved on blur
	waitStatus("已保存")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.confirm = function () { return true; }; true`)); err != nil {
		t.Fatal(err)
	}
	click("#submit")
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!document.getElementById("exam-message").hidden && document.getElementById("exam-message").textContent.indexOf("已交卷") >= 0`,
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#exam-message")))
		t.Fatalf("no submitted message (%q): %v", msg, err)
	}
	browsertest.AssertFits(t, ctx, vp)
	browsertest.Screenshot(t, ctx, "exam-phone-submitted")

	var status2 string
	var theory, possible float64
	var answered int
	if err := srv.Pool.QueryRow(context.Background(), `SELECT a.status, a.theory_earned::float8, a.theory_possible::float8,
		(SELECT count(DISTINCT position) FROM exam_answers e WHERE e.attempt_id = a.id)
		FROM exam_attempts a WHERE a.session_id = $1`, sessionID).Scan(&status2, &theory, &possible, &answered); err != nil {
		t.Fatal(err)
	}
	if status2 != exams.Graded || answered != 4 || theory != 100 || possible != 100 {
		t.Errorf("attempt after submit: %s, %d answered, theory %v/%v; want graded, 4, 100/100", status2, answered, theory, possible)
		rows, _ := srv.Pool.Query(context.Background(), `SELECT e.seq, e.position, e.response::text, i.earned::float8 FROM exam_answers e
			JOIN exam_attempt_items i ON i.attempt_id = e.attempt_id AND i.position = e.position ORDER BY e.seq`)
		for rows.Next() {
			var seq int64
			var pos int
			var resp string
			var earned float64
			_ = rows.Scan(&seq, &pos, &resp, &earned)
			t.Logf("seq %d position %d %s earned %v", seq, pos, resp, earned)
		}
		rows.Close()
	}
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
