package server_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/exams"
	"shanyu/exams/bank"
	"shanyu/internal/browsertest"
	"shanyu/internal/servertest"
)

// orderingSteps is the right order of the ordering item of these tests.
var orderingSteps = []string{"洗手并准备用品", "解开脏尿布，由前向后清洁", "涂护臀霜并换上干净尿布", "整理用品，洗手并记录"}

func orderingExamItem() bank.Item {
	return bank.Item{Type: bank.Ordering, Stem: "按正确顺序排列为婴儿更换尿布的步骤。", Format: bank.Plain, Points: 4,
		Scoring: bank.AllOrNothing, Sequence: orderingSteps, Explanation: "先准备后操作。"}
}

// TestCaregiverOrdersStepsWithTheKeyboardOnAPhone: an ordering item on a 360 px phone is a numbered
// list with a move-up and a move-down button on each row, each labelled with its step; no dragging,
// no sideways scrolling, no axe violation. The paper never shows the right order. The candidate sorts
// the list with Enter alone (the focus follows the step that moved, and the new place is announced),
// the order is saved through the usual save, survives a reload, and the submitted attempt earns full
// marks.
func TestCaregiverOrdersStepsWithTheKeyboardOnAPhone(t *testing.T) {
	t.Parallel()
	var sessionID int64
	srv := servertest.Start(t, servertest.Options{Setup: func(pool *pgxpool.Pool) (err error) {
		sessionID, err = seedExam(pool, []bank.Item{orderingExamItem()}, []exams.Section{
			{Name: "排序题", Part: exams.Theory, Count: 1, Points: 100, Type: bank.Ordering},
		}, time.Hour)
		return err
	}})
	p := newPhone(t, srv.URL, sessionID, "ordering")
	p.wait(`document.querySelectorAll("#question .order-list .order-row").length === 4`, 30*time.Second)
	rows := func() []string {
		var out []string
		if err := json.Unmarshal([]byte(p.eval(`JSON.stringify(Array.prototype.map.call(document.querySelectorAll("#question .order-row .order-text"), function (e) { return e.textContent; }))`)), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := rows()
	if strings.Join(first, "|") == strings.Join(orderingSteps, "|") {
		t.Fatalf("the paper shows the right order: %v", first)
	}
	if got := p.eval(`document.querySelector("#question .order-row .order-down").getAttribute("aria-label")`); got != "下移："+first[0] {
		t.Errorf("the first row's move-down button is labelled %q", got)
	}
	if got := p.eval(`String(document.querySelector("#question .order-row .order-up").disabled) + document.querySelector("#question .order-list").getAttribute("aria-label")`); got != "true排序（用上移、下移按钮调整）" {
		t.Errorf("first row's move-up and the list's label: %q", got)
	}
	if w := p.eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`); w != "true" {
		t.Errorf("the ordering question scrolls sideways at 360 px")
	}
	if got := p.eval(`String(Math.min.apply(null, Array.prototype.map.call(document.querySelectorAll("#question .order-move"), function (b) { var r = b.getBoundingClientRect(); return Math.min(r.width, r.height); })))`); got != "44" {
		t.Errorf("the smallest move button is %s px, want 44", got)
	}
	if v := browsertest.Axe(t, p.ctx); len(v) > 0 {
		t.Errorf("axe: %v", v)
	}
	p.screenshot("exam-ordering-phone")
	// Sort with the keyboard alone: focus a step's move-up button and press Enter until it is in its
	// place; the focus must stay on that step's buttons after every move.
	moves := 0
	for place, step := range orderingSteps {
		cur := rows()
		at := -1
		for i, s := range cur {
			if s == step {
				at = i
			}
		}
		if at < place {
			t.Fatalf("%s is at %d before %d: %v", step, at, place, cur)
		}
		if at == place {
			continue
		}
		p.eval(`document.querySelectorAll("#question .order-row")[` + strconv.Itoa(at) + `].querySelector(".order-up").focus(); ""`)
		for ; at > place; at-- {
			p.run(chromedp.KeyEvent(kb.Enter))
			moves++
			if got := p.eval(`document.activeElement.closest(".order-row").querySelector(".order-text").textContent`); got != step {
				t.Fatalf("after a move the focus is on %q, not on %q", got, step)
			}
		}
		if got := p.eval(`document.querySelector("#question [role=status]").textContent`); got != step+" 现在是第 "+strconv.Itoa(place+1)+" 项（共 4 项）" {
			t.Errorf("announced %q", got)
		}
	}
	if got := rows(); strings.Join(got, "|") != strings.Join(orderingSteps, "|") || moves == 0 {
		t.Fatalf("after %d moves the list is %v", moves, got)
	}
	p.wait(`document.getElementById("save-status").textContent.indexOf("已保存") === 0 && document.querySelector("#navigator li button").classList.contains("answered")`, 30*time.Second)
	p.screenshot("exam-ordering-sorted-phone")
	// The saved order comes back after a reload, drawn from the server's paper and the saved answer.
	p.reload()
	p.wait(`document.querySelectorAll("#question .order-row").length === 4`, 30*time.Second)
	if got := rows(); strings.Join(got, "|") != strings.Join(orderingSteps, "|") {
		t.Fatalf("after a reload the list is %v", got)
	}
	if p.eval(`String(!!document.querySelector("#question .order-keep"))`) != "false" {
		t.Errorf("an answered ordering question still offers to answer with the shown order")
	}
	p.run(chromedp.Click(chromedp.CSS(`#submit`)))
	p.waitStatus("已交卷")
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
		t.Errorf("the ordering item earned %v of 100", earned)
	}
}

// TestOrderingReviewShowsBothOrders: the review of a published attempt whose ordering answer was the
// order first shown (never the right one) draws the candidate's order and the right order with the
// same player, locked, on a 360 px phone, and axe finds nothing.
func TestOrderingReviewShowsBothOrders(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Setup: func(pool *pgxpool.Pool) error {
		ctx := context.Background()
		sessionID, err := seedExam(pool, []bank.Item{orderingExamItem()}, []exams.Section{
			{Name: "排序题", Part: exams.Theory, Count: 1, Points: 100, Type: bank.Ordering}}, time.Hour)
		if err != nil {
			return err
		}
		var person int64
		if err := pool.QueryRow(ctx, `SELECT person_id FROM users WHERE username = 'caregiver'`).Scan(&person); err != nil {
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
		st, err := svc.Start(ctx, sessionID, person)
		if err != nil {
			return err
		}
		if _, err := svc.Save(ctx, st.Attempt.ID, person, st.DeviceToken, 1, 0, exams.Answer{Order: []int{0, 1, 2, 3}}, nil); err != nil {
			return err
		}
		if _, err := svc.Submit(ctx, st.Attempt.ID, person, st.DeviceToken, exams.ByCandidate); err != nil {
			return err
		}
		if _, err := svc.Publish(ctx, 0, sessionID); err != nil {
			return err
		}
		return svc.AllowReview(ctx, 0, sessionID, true)
	}})
	p := &phone{t: t, ctx: browsertest.New(t, browsertest.Phone), name: "ordering-review", typed: map[int]int{}}
	signIn(t, p.ctx, srv.URL, "/exams/results", "caregiver")
	clickAndLoad(t, p.ctx, `a[href$="/review"]`)
	p.wait(`document.querySelectorAll("#review-items .review-item .order-list").length === 2`, 30*time.Second)
	var lists [][]string
	if err := json.Unmarshal([]byte(p.eval(`JSON.stringify(Array.prototype.map.call(document.querySelectorAll("#review-items .order-list"), function (l) {
		return Array.prototype.map.call(l.querySelectorAll(".order-text"), function (e) { return e.textContent; }); }))`)), &lists); err != nil {
		t.Fatal(err)
	}
	if strings.Join(lists[1], "|") != strings.Join(orderingSteps, "|") || strings.Join(lists[0], "|") == strings.Join(orderingSteps, "|") || len(lists[0]) != 4 {
		t.Errorf("review shows the candidate's %v and the right %v", lists[0], lists[1])
	}
	if got := p.eval(`String(Array.prototype.every.call(document.querySelectorAll("#review-items .order-move"), function (b) { return b.disabled; }))`); got != "true" {
		t.Errorf("a review's move buttons are not all locked")
	}
	browsertest.AssertFits(t, p.ctx, browsertest.Phone)
	if v := browsertest.Axe(t, p.ctx); len(v) > 0 {
		t.Errorf("axe on review: %v", v)
	}
	p.screenshot("review-ordering-phone")
}

// TestBankEditorWritesAnOrderingItem: a trainer writes an ordering item in the bank's editor at
// 360 px, one step a line in the right order; the preview numbers the steps and shows the key; one
// step alone is refused with the field's message; saved, the bank holds the sequence and scoring.
func TestBankEditorWritesAnOrderingItem(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	p := &phone{t: t, ctx: browsertest.New(t, browsertest.Phone), name: "ordering-editor", typed: map[int]int{}}
	signIn(t, p.ctx, srv.URL, "/centres/HZ001/bank/items/new", "trainer")
	p.wait(`!!document.getElementById("f-stem")`, 30*time.Second)
	set := func(id, value string) {
		v, _ := json.Marshal(value)
		p.eval(`(function(){var e=document.getElementById("` + id + `");e.value=` + string(v) + `;e.dispatchEvent(new Event("change",{bubbles:true}));return "";})()`)
	}
	set("f-type", "ordering")
	// The new item's choice template ("=", "~" lines) does not become the ordering's elements.
	if got := p.eval(`document.getElementById("f-answers").value`); got != "" {
		t.Errorf("after choosing ordering the answers still hold %q", got)
	}
	if p.eval(`String(document.getElementById("f-scoring").closest(".field").hidden || document.getElementById("f-answers").closest(".field").hidden)`) != "false" {
		t.Fatal("the scoring and answers fields are hidden for an ordering item")
	}
	// The scoring choice speaks of no weights (ordering has none); the answers hint shown for an
	// ordering item says what partial credit counts.
	if got := p.eval(`document.querySelector("#f-scoring option[value=partial]").textContent`); got != "部分得分" {
		t.Errorf("the partial-credit choice reads %q", got)
	}
	if got := p.eval(`document.querySelector("[data-hint=ordering]").hidden ? "" : document.querySelector("[data-hint=ordering]").textContent`); !strings.Contains(got, "按放在正确位置的项数比例计分") {
		t.Errorf("the answers hint shown for an ordering item: %q", got)
	}
	p.eval(`(function(){document.getElementById("f-scoring").scrollIntoView({block: "center"});return "";})()`)
	browsertest.Screenshot(t, p.ctx, "bank-editor-ordering-scoring-phone")
	set("f-stem", "按正确顺序排列为婴儿更换尿布的步骤。")
	set("f-answers", orderingSteps[0])
	p.run(chromedp.Click(chromedp.CSS("#item-save")))
	p.wait(`document.getElementById("item-status").textContent.indexOf("排序项：至少需要两项") >= 0`, 30*time.Second)
	set("f-answers", strings.Join(orderingSteps, "\n"))
	set("f-scoring", "partial")
	if got := p.eval(`Array.prototype.map.call(document.querySelectorAll("#preview ol.q-order li"), function (l) { return l.textContent; }).join("|")`); got != strings.Join(orderingSteps, "|") {
		t.Errorf("the preview lists %q", got)
	}
	if got := p.eval(`document.querySelector("#preview .q-key").textContent`); !strings.HasSuffix(got, strings.Join(orderingSteps, " → ")) {
		t.Errorf("the preview's key is %q", got)
	}
	browsertest.AssertFits(t, p.ctx, browsertest.Phone)
	browsertest.Screenshot(t, p.ctx, "bank-editor-ordering-phone")
	if _, err := chromedp.Run(p.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS("#item-save")))); err != nil {
		t.Fatal(err)
	}
	var content []byte
	if err := srv.Pool.QueryRow(context.Background(), `SELECT v.content FROM bank_items i JOIN bank_item_versions v ON v.item_id = i.id
		WHERE i.type = 'ordering' ORDER BY v.id DESC LIMIT 1`).Scan(&content); err != nil {
		t.Fatal(err)
	}
	var it bank.Item
	if err := json.Unmarshal(content, &it); err != nil {
		t.Fatal(err)
	}
	if strings.Join(it.Sequence, "|") != strings.Join(orderingSteps, "|") || it.Scoring != bank.Partial {
		t.Errorf("stored %+v", it)
	}
}
