package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
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

// TestPracticeAndReviewOnAPhone: on a 360 px phone the caregiver practises a cloze item of a
// category the centre opened (gaps inline, as in the exam), checks the answer and sees that it was
// not right with the right answer drawn in the same player, then opens the review of a published
// session's wrong answer; axe finds nothing serious on either page.
func TestPracticeAndReviewOnAPhone(t *testing.T) {
	t.Parallel()
	srv, _ := startPractice(t)
	p := &phone{t: t, ctx: browsertest.New(t, browsertest.Phone), name: "practice", typed: map[int]int{}}
	signIn(t, p.ctx, srv.URL, "/exams/practice", "caregiver")
	clickAndLoad(t, p.ctx, `.exam-card form button[type=submit]`)
	p.wait(`document.querySelectorAll("#question .stem .gap").length === 2`, 30*time.Second)
	// The first choice is the right one (no shuffle): pick the second, type a right number.
	p.eval(`(function(){var s=document.querySelector("#question .gap select");s.value="1";s.dispatchEvent(new Event("change"));return "";})()`)
	p.run(chromedp.SendKeys(chromedp.CSS(`#question .stem .gap:nth-of-type(2) input`), "37.5"))
	p.run(chromedp.Click(chromedp.CSS(`#check`)))
	p.wait(`!document.getElementById("feedback").hidden`, 30*time.Second)
	if got := p.eval(`document.getElementById("feedback-verdict").textContent`); got != "回答不正确" {
		t.Errorf("verdict %q, want 回答不正确", got)
	}
	if got := p.eval(`document.querySelector("#solution .gap select").value + "|" + document.querySelector("#solution .gap input").value`); got != "0|37.5" {
		t.Errorf("the right answer shows %q, want 0|37.5", got)
	}
	// Gap by gap: the text chosen (not its index), the key, the share earned.
	if got := p.eval(`Array.prototype.map.call(document.querySelectorAll("#solution .gap-results tbody tr"), function (r) { return Array.prototype.map.call(r.cells, function (c) { return c.textContent; }).join(","); }).join("|")`); got != "1,4个月,6个月,0%|2,37.5,37.5 ± 0.2,100%" {
		t.Errorf("gap results %q", got)
	}
	if got := p.eval(`document.getElementById("feedback-explanation").textContent`); got != "六个月起添加辅食。" {
		t.Errorf("explanation %q", got)
	}
	if got := p.eval(`document.getElementById("practice-done").textContent`); got != "练习完成：答对 0 题，共 1 题。" {
		t.Errorf("end of the run %q", got)
	}
	if p.eval(`String(document.activeElement && document.activeElement.id)`) != "feedback" {
		t.Errorf("focus is not on the feedback after checking")
	}
	browsertest.AssertFits(t, p.ctx, browsertest.Phone)
	if v := browsertest.Axe(t, p.ctx); len(v) > 0 {
		t.Errorf("axe on practice: %v", v)
	}
	p.screenshot("practice-feedback-phone")

	p.run(chromedp.Navigate(srv.URL + "/exams/results"))
	clickAndLoad(t, p.ctx, `a[href$="/review"]`)
	p.wait(`document.querySelectorAll("#review-items .review-item").length === 1`, 30*time.Second)
	if got := p.eval(`(function(){var r=document.querySelectorAll("#review-items .review-item .options");return r[0].querySelector("input:checked").nextSibling.textContent+"|"+r[1].querySelector("input:checked").nextSibling.textContent;})()`); got != "B. 错误|A. 正确" {
		t.Errorf("review shows %q, want the candidate's 错 and the right 对", got)
	}
	browsertest.AssertFits(t, p.ctx, browsertest.Phone)
	if v := browsertest.Axe(t, p.ctx); len(v) > 0 {
		t.Errorf("axe on review: %v", v)
	}
	p.screenshot("review-phone")
}

// TestPracticeRefusedOnAPhone: a learner who started 20 practice runs in the last hour (here 50
// minutes ago) is refused the next on the practice page itself, 429 with Retry-After, in zh-CN and,
// after switching language, in English, readable at 360 px.
func TestPracticeRefusedOnAPhone(t *testing.T) {
	t.Parallel()
	srv, _ := startPractice(t)
	ctx := context.Background()
	var cat int64
	if err := srv.Pool.QueryRow(ctx, `SELECT category_id FROM exam_practice_categories`).Scan(&cat); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Pool.Exec(ctx, `INSERT INTO exam_practice_runs (person_id, organisation_id, category_id, item_count, answered, started_at)
		SELECT u.person_id, c.organisation_id, c.category_id, 1, 1, now() - interval '50 minutes'
		FROM users u, exam_practice_categories c, generate_series(1, 20) WHERE u.username = 'caregiver' AND c.category_id = $1`, cat); err != nil {
		t.Fatal(err)
	}
	r := mustLogin(t, srv, "caregiver").auditForm("/exams/practice", url.Values{"category": {strconv.FormatInt(cat, 10)}})
	if retry, _ := strconv.Atoi(r.Header.Get("Retry-After")); r.Status != http.StatusTooManyRequests || retry < 500 || retry > 600 {
		t.Errorf("the 21st start in the hour: %d, Retry-After %q; want 429 and about 600 s", r.Status, r.Header.Get("Retry-After"))
	}

	p := &phone{t: t, ctx: browsertest.New(t, browsertest.Phone), name: "practice-refused", typed: map[int]int{}}
	signIn(t, p.ctx, srv.URL, "/exams/practice", "caregiver")
	for _, c := range []struct{ lang, want string }{
		{"zh-CN", "一小时内最多开始 20 次练习，请 10 分钟后再试。"},
		{"en", "You can start at most 20 practice runs in an hour; please try again in 10 min."},
	} {
		if c.lang == "en" {
			if _, err := chromedp.Run(p.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS("a.lang")))); err != nil {
				t.Fatal(err)
			}
		}
		clickAndLoad(t, p.ctx, `.exam-card form button[type=submit]`)
		if got := p.eval(`(document.getElementById("practice-refused") || {}).textContent || ""`); got != c.want {
			t.Errorf("%s: the refusal reads %q, want %q", c.lang, got, c.want)
		}
		if got := p.eval(`String(document.querySelectorAll(".exam-card form button").length)`); got != "1" {
			t.Errorf("%s: the category is no longer offered with the refusal (%s buttons)", c.lang, got)
		}
		browsertest.AssertFits(t, p.ctx, browsertest.Phone)
		if v := browsertest.Axe(t, p.ctx); len(v) > 0 {
			t.Errorf("axe on the refusal (%s): %v", c.lang, v)
		}
		p.screenshot("practice-refused-phone-" + c.lang)
	}
}

// startPractice starts a server whose demo caregiver has a published, reviewable attempt answered
// wrong (its id is returned) and whose centre HZ001 opened a category holding one cloze item.
func startPractice(t *testing.T) (*servertest.Instance, int64) {
	t.Helper()
	var attempt int64
	stem, gaps, err := bank.ParseCloze("婴儿满 {1:MC:=6个月~4个月} 起添加辅食；腋温 {1:NM:=37.5:0.2} ℃ 以上为发热。")
	if err != nil {
		t.Fatal(err)
	}
	truth := bank.Item{Type: bank.TrueFalse, Stem: "婴儿睡眠宜仰卧。", Format: bank.Plain, Points: 1, Truth: true, Explanation: "仰卧可降低猝死风险。"}
	srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Setup: func(pool *pgxpool.Pool) error {
		ctx := context.Background()
		sessionID, err := seedExam(pool, []bank.Item{truth}, []exams.Section{{Name: "判断", Part: exams.Theory, Count: 1, Points: 100, Type: bank.TrueFalse}}, time.Hour)
		if err != nil {
			return err
		}
		var centre, person int64
		if err := pool.QueryRow(ctx, `SELECT o.id, u.person_id FROM organisations o, users u WHERE o.code = 'HZ001' AND u.username = 'caregiver'`).Scan(&centre, &person); err != nil {
			return err
		}
		if _, err := bank.Create(ctx, pool, centre, bank.Item{Type: bank.Cloze, Stem: stem, Format: bank.Plain, Points: 2, Gaps: gaps,
			Explanation: "六个月起添加辅食。", Category: []string{"练习"}}); err != nil {
			return err
		}
		if _, err := verifyIdentityOf(pool, "caregiver"); err != nil {
			return err
		}
		svc, done, err := testExams(pool)
		if err != nil {
			return err
		}
		defer done()
		var cat int64
		if err := pool.QueryRow(ctx, `SELECT id FROM bank_categories WHERE organisation_id = $1 AND path = ARRAY['练习']`, centre).Scan(&cat); err != nil {
			return err
		}
		if err := svc.OpenPractice(ctx, 0, centre, cat, true); err != nil {
			return err
		}
		// A sat, published session that allows the review, answered wrong.
		st, err := svc.Start(ctx, sessionID, person)
		if err != nil {
			return err
		}
		no := false
		if _, err := svc.Save(ctx, st.Attempt.ID, person, st.DeviceToken, 1, 0, exams.Answer{Truth: &no}, nil); err != nil {
			return err
		}
		if _, err := svc.Submit(ctx, st.Attempt.ID, person, st.DeviceToken, exams.ByCandidate); err != nil {
			return err
		}
		if _, err := svc.Publish(ctx, 0, sessionID); err != nil {
			return err
		}
		attempt = st.Attempt.ID
		return svc.AllowReview(ctx, 0, sessionID, true)
	}})
	return srv, attempt
}
