package server_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/internal/browsertest"
	"shanyu/internal/servertest"
)

// refusal is what a refused form shows of one field: its message, found inside the field's own box
// (.field, else the table cell, else the form: a look-up that matched nothing is about all its fields), and the value the field holds.
type refusal struct {
	Err   string `json:"err"`
	Msg   string `json:"msg"`
	Value string `json:"value"`
}

// refusedBeside finds the message beside the field css names and fails unless it is the element
// drawn at its own place in the viewport (in view, not under the phone's bottom bar).
func refusedBeside(t *testing.T, ctx context.Context, css string) refusal {
	t.Helper()
	r, err := chromedp.Run(ctx, chromedp.Evaluate[refusal](`(() => {
		const f = document.querySelector(`+strconv.Quote(css)+`);
		if (!f) return {err: "no field"};
		const e = [f.closest(".field"), f.closest("td"), f.form].filter(Boolean)
			.map(b => b.querySelector(".field-error:not([hidden]), .notice.error:not([hidden])")).find(Boolean);
		if (!e) return {err: "no message beside the field"};
		const r = e.getBoundingClientRect();
		const at = document.elementFromPoint(Math.min(r.left + 8, innerWidth - 1), r.top + r.height / 2);
		if (!at || !(at === e || e.contains(at))) return {err: "message not in view: top " + Math.round(r.top) + " of " + innerHeight + ", covered by " + (at ? at.tagName + "." + at.className : "nothing")};
		return {msg: e.textContent.trim(), value: f.value || ""};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Err != "" {
		t.Fatalf("%s: %s", css, r.Err)
	}
	return r
}

// Every refused form of item 6 at 360 px: the message is beside its field, in view, and what was
// typed is still there — approving a registration whose identity nobody checked, an empty finding,
// /verify by 核验码 and by number + name + last 4, and a question bank import of a file that is no
// question file.
func TestRefusedFormsOnAPhone(t *testing.T) {
	t.Parallel()
	t.Run("approval", func(t *testing.T) {
		t.Parallel()
		var sessionID int64
		srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Setup: func(pool *pgxpool.Pool) error {
			var err error
			sessionID, err = seedOpenSession(pool, "手机卷", "手机核验批次", nil)
			return err
		}})
		cg := mustLogin(t, srv, "caregiver")
		if r := cg.do("POST", "/api/v1/exam-sessions/"+strconv.FormatInt(sessionID, 10)+"/registrations", nil, map[string]string{"X-CSRF-Token": cg.csrf}); r.Status != http.StatusCreated && r.Status != http.StatusOK {
			t.Fatalf("register: %d %s", r.Status, r.Body)
		}
		phone := browsertest.New(t, browsertest.Phone)
		signIn(t, phone, srv.URL, "/exams/sessions/"+strconv.FormatInt(sessionID, 10)+"/registrations", "centre")
		if err := chromedp.Do(phone, chromedp.SetValue(chromedp.CSS("form.decide input[name=extra_minutes]"), "15")); err != nil {
			t.Fatal(err)
		}
		clickAndLoad(t, phone, `form.decide button[value="true"]`)
		r := refusedBeside(t, phone, "form.decide input[name=extra_minutes]")
		if r.Msg == "" || r.Value != "15" {
			t.Errorf("approval refused: message %q, extra minutes %q (want 15 kept)", r.Msg, r.Value)
		}
		browsertest.AssertFits(t, phone, browsertest.Phone)
		browsertest.Screenshot(t, phone, "refused-approval-phone")
	})

	t.Run("demo", func(t *testing.T) {
		t.Parallel()
		srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
		inspector := mustLogin(t, srv, "inspector")
		mine := decodeJSON[struct {
			Inspections []struct {
				ID     int64  `json:"id"`
				Status string `json:"status"`
			} `json:"inspections"`
		}](t, inspector.do("GET", "/api/v1/inspections/mine", nil, nil))
		var open int64
		for _, x := range mine.Inspections {
			if x.Status == "open" && open == 0 {
				open = x.ID
			}
		}
		if open == 0 {
			t.Fatal("the demo inspector has no open inspection")
		}

		anon := browsertest.New(t, browsertest.Phone)
		if err := chromedp.Do(anon, chromedp.Navigate(srv.URL+"/verify"), chromedp.WaitVisible(chromedp.CSS("#code")),
			chromedp.SendKeys(chromedp.CSS("#code"), "ABCD-EFGH")); err != nil {
			t.Fatal(err)
		}
		clickAndLoad(t, anon, "#by-code button[type=submit]")
		if r := refusedBeside(t, anon, "#code"); r.Msg == "" || r.Value != "ABCD-EFGH" {
			t.Errorf("/verify by 核验码: message %q, code %q", r.Msg, r.Value)
		}
		browsertest.Screenshot(t, anon, "refused-verify-code-phone")
		if err := chromedp.Do(anon, chromedp.SendKeys(chromedp.CSS("#number"), "330100202600000001"), chromedp.SendKeys(chromedp.CSS("#name"), "王小明"),
			chromedp.SendKeys(chromedp.CSS("#id_last4"), "1234")); err != nil {
			t.Fatal(err)
		}
		clickAndLoad(t, anon, "#by-number button[type=submit]")
		if r := refusedBeside(t, anon, "#name"); r.Msg == "" || r.Value != "王小明" {
			t.Errorf("/verify by number: message %q, name %q", r.Msg, r.Value)
		}
		if kept, _ := chromedp.Run(anon, chromedp.Evaluate[string](`[number.value, id_last4.value].join(" ")`)); kept != "330100202600000001 1234" {
			t.Errorf("/verify by number: kept %q", kept)
		}
		browsertest.AssertFits(t, anon, browsertest.Phone)
		browsertest.Screenshot(t, anon, "refused-verify-number-phone")

		insp := browsertest.New(t, browsertest.Phone)
		signIn(t, insp, srv.URL, "/inspections/"+strconv.FormatInt(open, 10), "inspector")
		if err := chromedp.Do(insp, chromedp.SetValue(chromedp.CSS("#severity"), "major")); err != nil {
			t.Fatal(err)
		}
		clickAndLoad(t, insp, "#finding-form button[type=submit]")
		if r := refusedBeside(t, insp, "#note"); r.Msg == "" {
			t.Error("empty finding: no message beside the note")
		}
		if sev, _ := chromedp.Run(insp, chromedp.Evaluate[string](`severity.value`)); sev != "major" {
			t.Errorf("empty finding: severity %q, want major kept", sev)
		}
		browsertest.AssertFits(t, insp, browsertest.Phone)
		browsertest.Screenshot(t, insp, "refused-finding-phone")

		notQuestions := filepath.Join(t.TempDir(), "photo.png")
		if err := os.WriteFile(notQuestions, pngPhoto(t), 0o644); err != nil {
			t.Fatal(err)
		}
		centre := browsertest.New(t, browsertest.Phone)
		signIn(t, centre, srv.URL, "/centres/HZ001/bank/import", "trainer")
		if err := chromedp.Do(centre, chromedp.SetValue(chromedp.CSS("#import-format"), "xlsx"),
			chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{notQuestions}),
			chromedp.Click(chromedp.CSS("#import-preview-btn")), chromedp.WaitVisible(chromedp.CSS("#import-file-error"))); err != nil {
			t.Fatal(err)
		}
		r := refusedBeside(t, centre, "#import-file")
		if r.Msg == "" {
			t.Error("bank import of a picture: no message beside the file")
		}
		if kept, _ := chromedp.Run(centre, chromedp.Evaluate[string](`document.querySelector("#import-file").files[0].name + " " + document.querySelector("#import-format").value`)); kept != "photo.png xlsx" {
			t.Errorf("bank import: kept %q", kept)
		}
		browsertest.Screenshot(t, centre, "refused-bank-import-phone")
	})
}

// A trainer builds a course's structure on a 360 px phone with the keyboard: the add button (Enter)
// brings a new lesson whose title takes the cursor, the Markdown preview follows the typing through
// the server's renderer, and a lesson of 0 hours is refused beside its field, in view, with every
// value kept. axe-core finds nothing serious on the form (360 and 1280 px), /inbox, /password/forgot
// and /password/reset.
func TestCourseStructureFormOnAPhone(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	audit := func(ctx context.Context, where string) {
		t.Helper()
		for _, v := range browsertest.Axe(t, ctx) {
			t.Errorf("%s: %s", where, v)
		}
	}
	phone := browsertest.New(t, browsertest.Phone)
	signIn(t, phone, srv.URL, "/centre/courses", "trainer")
	if err := chromedp.Do(phone,
		chromedp.WaitVisible(chromedp.CSS("#m0-title")),
		chromedp.SendKeys(chromedp.CSS("#c-title"), "手机搭建的课程"),
		chromedp.SetValue(chromedp.CSS("#c-required"), "1"),
		chromedp.SendKeys(chromedp.CSS("#m0-title"), "日常照料"),
		chromedp.SendKeys(chromedp.CSS("#m0-l0-title"), "安全睡眠"),
		chromedp.SendKeys(chromedp.CSS("#m0-l0-hours"), "1"),
		chromedp.SendKeys(chromedp.CSS("#m0-l0-min-seconds"), "60"),
		chromedp.SendKeys(chromedp.CSS("#m0-l0-body"), "## 要点\n\n婴儿**仰卧**入睡"),
	); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(phone, chromedp.Poll[bool](`!!document.querySelector("#m0-l0-preview strong") && document.querySelector("#m0-l0-preview h2").textContent === "要点"`)); err != nil {
		t.Fatalf("the live preview does not show the rendered Markdown: %v", err)
	}
	audit(phone, "course structure form (360 px)")
	// The keyboard: focus the add button and press Enter; the new lesson's title has the cursor.
	if err := chromedp.Do(phone, chromedp.Focus(chromedp.CSS(`[id="add-lesson.0"]`))); err != nil {
		t.Fatal(err)
	}
	clickAndLoad(t, phone, `[id="add-lesson.0"]`)
	if focused, _ := chromedp.Run(phone, chromedp.Evaluate[string](`document.activeElement.id`)); focused != "m0-l1-title" {
		t.Errorf("after adding a lesson the cursor is on %q, want m0-l1-title", focused)
	}
	if err := chromedp.Do(phone,
		chromedp.SendKeys(chromedp.CSS("#m0-l1-title"), "进餐看护"),
		chromedp.SendKeys(chromedp.CSS("#m0-l1-hours"), "0"),
		chromedp.SendKeys(chromedp.CSS("#m0-l1-min-seconds"), "60"),
	); err != nil {
		t.Fatal(err)
	}
	clickAndLoad(t, phone, "#create-course")
	r := refusedBeside(t, phone, "#m0-l1-hours")
	if r.Msg != "第 1 单元第 2 课：学时必须大于 0 且不超过 100" || r.Value != "0" {
		t.Errorf("lesson of 0 hours: %q, value %q", r.Msg, r.Value)
	}
	if kept, _ := chromedp.Run(phone, chromedp.Evaluate[string](`[document.querySelector("#c-title").value, document.querySelector("#m0-l0-body").value, document.querySelector("#m0-l1-title").value].join("|")`)); kept != "手机搭建的课程|## 要点\n\n婴儿**仰卧**入睡|进餐看护" {
		t.Errorf("values after the refusal: %q", kept)
	}
	browsertest.AssertFits(t, phone, browsertest.Phone)
	audit(phone, "refused course structure form (360 px)")
	browsertest.Screenshot(t, phone, "course-structure-refused-phone")

	desk := browsertest.New(t, browsertest.Desktop)
	signIn(t, desk, srv.URL, "/centre/courses", "trainer")
	if err := chromedp.Do(desk, chromedp.WaitVisible(chromedp.CSS("#m0-title")), chromedp.SendKeys(chromedp.CSS("#m0-l0-body"), "- 第一条\n- **第二条**")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(desk, chromedp.Poll[bool](`document.querySelectorAll("#m0-l0-preview li").length === 2`)); err != nil {
		t.Fatalf("desktop preview: %v", err)
	}
	audit(desk, "course structure form (1280 px)")
	browsertest.Screenshot(t, desk, "course-structure-desktop")
	for _, path := range []string{"/inbox"} {
		if err := chromedp.Do(desk, chromedp.Navigate(srv.URL+path), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
			t.Fatal(err)
		}
		audit(desk, path+" (1280 px)")
	}
	anon := browsertest.New(t, browsertest.Phone)
	for _, path := range []string{"/password/forgot", "/password/reset"} {
		if err := chromedp.Do(anon, chromedp.Navigate(srv.URL+path), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
			t.Fatal(err)
		}
		audit(anon, path+" (360 px)")
	}
	if err := chromedp.Do(phone, chromedp.Navigate(srv.URL+"/inbox"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	audit(phone, "/inbox (360 px)")
}
