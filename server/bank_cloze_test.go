package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"shanyu/internal/browsertest"
)

// The bank's cloze preview: the server reads the Moodle syntax and answers the gaps as the paper
// shows them with their keys; a broken gap is a 422 naming the stem; a learner is
// refused.
func TestBankClozePreviewReadsTheGaps(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	trainer := mustLogin(t, srv, "trainer")
	text := "婴儿满 {2:MC:=6个月~4个月} 起添加辅食；晨检看 {1:MR:=体温~=精神~身高}；腋温 {1:NM:=37.5:0.2} ℃。"
	r := trainer.send("POST", "/api/v1/centres/HZ001/bank/cloze-preview", map[string]any{"cloze_text": text})
	if r.Status != http.StatusOK {
		t.Fatalf("preview: %d %s", r.Status, r.Body)
	}
	pv := r.json(t)
	gaps := pv["gaps"].([]any)
	if pv["stem"] != "婴儿满 {#1} 起添加辅食；晨检看 {#2}；腋温 {#3} ℃。" || len(gaps) != 3 {
		t.Fatalf("preview %v", pv)
	}
	mr := gaps[1].(map[string]any)
	if mr["kind"] != "multi" || mr["key"] != "体温; 精神" || len(mr["options"].([]any)) != 3 || gaps[2].(map[string]any)["key"] != "37.5 ± 0.2" || gaps[0].(map[string]any)["weight"] != 2.0 {
		t.Errorf("gaps %v", gaps)
	}
	bad := trainer.send("POST", "/api/v1/centres/HZ001/bank/cloze-preview", map[string]any{"cloze_text": "x {1:MC:=a"})
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(string(bad.Body), `"stem"`) {
		t.Errorf("broken gap: %d %s", bad.Status, bad.Body)
	}
	if other := mustLogin(t, srv, "caregiver").send("POST", "/api/v1/centres/HZ001/bank/cloze-preview", map[string]any{"cloze_text": text}); other.Status != http.StatusForbidden && other.Status != http.StatusNotFound {
		t.Errorf("a learner: %d", other.Status)
	}
}

// TestBankEditorPreviewsAClozeOnAPhone: at 360 px the editor's preview draws a cloze as the candidate
// sees it — a list, check boxes and a number box in the sentence, all disabled — with the key listed
// gap by gap, and follows the typing.
func TestBankEditorPreviewsAClozeOnAPhone(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	ctx := browsertest.New(t, browsertest.Phone)
	signIn(t, ctx, srv.URL, "/centres/HZ001/bank/items/new", "trainer")
	text := "婴儿满 {2:MC:=6个月~4个月} 起添加辅食；晨检看 {1:MRH:=体温~=精神~身高}；腋温 {1:NM:=37.5:0.2} ℃ 以上为发热。"
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS("#f-type")),
		chromedp.SetValue(chromedp.CSS("#f-type"), "cloze"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("f-type").dispatchEvent(new Event("change", {bubbles: true}))`),
		chromedp.SendKeys(chromedp.CSS("#f-stem"), text),
	); err != nil {
		t.Fatal(err)
	}
	wait := func(js string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
			t.Fatalf("%s never held: %v", js, err)
		}
	}
	wait(`document.querySelectorAll("#cloze-preview .stem .gap").length === 3`)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){
		var p = document.getElementById("cloze-preview");
		return [p.querySelectorAll(".gap select").length, p.querySelectorAll(".gap input[type=checkbox]").length,
			p.querySelectorAll(".gap input[type=text]").length,
			p.querySelectorAll(".gap input:not([disabled]), .gap select:not([disabled])").length,
			Array.prototype.map.call(p.querySelectorAll(".cloze-keys li"), function (l) { return l.textContent; }).join("|"),
			p.querySelector(".stem").textContent.indexOf("{") < 0].join(";");
	})()`))
	if err != nil || got != "1;3;1;0;6个月 (权重 2)|体温; 精神 (权重 1)|37.5 ± 0.2 (权重 1);true" {
		t.Errorf("preview: %q %v", got, err)
	}
	browsertest.AssertFits(t, ctx, browsertest.Phone)
	if v := browsertest.Axe(t, ctx); len(v) > 0 {
		t.Errorf("axe: %v", v)
	}
	browsertest.Screenshot(t, ctx, "bank-cloze-preview-phone")
	// A broken gap while typing: said beside the preview, in Chinese.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#f-stem"), " {1:MC:=a")); err != nil {
		t.Fatal(err)
	}
	wait(`!!document.querySelector("#cloze-preview .notice.error")`)
}
