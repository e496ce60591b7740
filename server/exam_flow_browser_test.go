package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"shanyu/internal/browsertest"
)

// Going to an exam not yet begun shows its instructions and starts no clock; 开始考试 starts the
// attempt and the paper opens; going back to the exam then opens the paper straight away.
func TestExamInstructionsBeforeTheClockStarts(t *testing.T) {
	t.Parallel()
	srv, sessionID := startDayExam(t)
	ctx := browsertest.New(t, browsertest.Phone)
	take := fmt.Sprintf("/exams/sessions/%d/take", sessionID)
	signIn(t, ctx, srv.URL, take, "caregiver")
	attempts := func() int {
		var n int
		if err := srv.Pool.QueryRow(context.Background(), `SELECT count(*) FROM exam_attempts WHERE session_id = $1`, sessionID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"60 分钟", "共 6 题", "最多作答", "还可以作答", "在本设备继续作答", "自动交卷", "报名以后的考试场次", "开始考试"} {
		if !strings.Contains(text, want) {
			t.Errorf("instructions lack %q:\n%s", want, text)
		}
	}
	if n := attempts(); n != 0 {
		t.Fatalf("%d attempts before 开始考试, want 0", n)
	}
	for _, v := range browsertest.Axe(t, ctx) {
		t.Errorf("the instructions page (360 px): %s", v)
	}
	if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.getElementById("exam") && !!document.querySelector('#exam-start input[name=_csrf]')`)); err != nil || !ok {
		t.Fatalf("the instructions page holds the exam, or its form no CSRF token (%v)", err)
	}
	clickAndLoad(t, ctx, `#exam-start button[type=submit]`)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!document.querySelector("#question input")`, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("the paper did not open after 开始考试: %v", err)
	}
	if n := attempts(); n != 1 {
		t.Fatalf("%d attempts after 开始考试, want 1", n)
	}
	// Back to the exam: the attempt in progress opens on the paper, on the same device (no take-over).
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+take)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!document.querySelector("#question input") && !document.querySelector("#exam-start")`, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("reopening the exam in progress: %v", err)
	}
	if held, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.getElementById("take-over").hidden`)); held {
		t.Error("reopening on the same device asks to take over")
	}
	if n := attempts(); n != 1 {
		t.Errorf("%d attempts after reopening, want 1", n)
	}
}
