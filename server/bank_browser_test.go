package server_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"shanyu/internal/browsertest"
)

// A trainer imports a GIFT file through the wizard (upload → preview → commit), then finds an
// imported question by searching the bank, on a desktop and then at 360 px.
func TestBankImportWizardInTheBrowser(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	gift, err := filepath.Abs("../exams/bank/testdata/all.gift")
	if err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t, browsertest.Desktop)
	signIn(t, ctx, srv.URL, "/", "trainer")
	// The header leads to the centre's bank.
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('.nav a[href$="/bank"]')||{}).getAttribute ? document.querySelector('.nav a[href$="/bank"]').getAttribute('href') : ""`))
	if err != nil || href != "/centres/HZ001/bank" {
		t.Fatalf("nav bank link = %q (%v)", href, err)
	}
	// A truncated XML file: a clear error naming the place, no preview.
	truncated, err := filepath.Abs("../exams/bank/testdata/truncated.xml")
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/centres/HZ001/bank/import"),
		chromedp.WaitVisible(chromedp.CSS("#import-form")),
		chromedp.SetValue(chromedp.CSS("#import-format"), "moodlexml"),
		chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{truncated}),
		chromedp.Click(chromedp.CSS("#import-preview-btn")),
		chromedp.WaitVisible(chromedp.CSS("#import-file-error")),
	); err != nil {
		t.Fatal(err)
	}
	if msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#import-file-error"))); !strings.Contains(msg, "line") {
		t.Errorf("truncated file error = %q, want the place named", msg)
	}
	browsertest.Screenshot(t, ctx, "bank-import-error")
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#import-format"), "gift"),
		chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{gift}),
		chromedp.Click(chromedp.CSS("#import-preview-btn")),
		chromedp.WaitVisible(chromedp.CSS("#import-result")),
	); err != nil {
		t.Fatal(err)
	}
	created, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.querySelectorAll('#import-created tbody tr').length"))
	if err != nil || created == 0 {
		t.Fatalf("preview lists %d items to create (%v)", created, err)
	}
	summary, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#import-summary")))
	if !strings.Contains(summary, "将新建") {
		t.Errorf("summary = %q", summary)
	}
	browsertest.Screenshot(t, ctx, "bank-import-preview")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#import-commit-btn")),
		chromedp.WaitVisible(chromedp.CSS("#import-done")),
	); err != nil {
		t.Fatal(err)
	}
	done, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#import-done-text")))
	if !strings.Contains(done, "已新建") {
		t.Errorf("done = %q", done)
	}
	browsertest.Screenshot(t, ctx, "bank-import-done")

	// Search for a question of the file: 辅食 appears in its first question.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/centres/HZ001/bank"),
		chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), "辅食"),
	); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(".bank-filters button[type=submit]")))); err != nil {
		t.Fatal(err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".bank-table tbody")))
	if err != nil || !strings.Contains(rows, "辅食") {
		t.Fatalf("search for 辅食: %q %v", rows, err)
	}
	browsertest.AssertFits(t, ctx, browsertest.Desktop)
	browsertest.Screenshot(t, ctx, "bank-search-desktop")

	// The editor shows the candidate view with the key marked for the author.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(".bank-table tbody a")),
		chromedp.WaitVisible(chromedp.CSS("#preview .q-stem")),
	); err != nil {
		t.Fatal(err)
	}
	stem, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#preview .q-stem")))
	if !strings.Contains(stem, "辅食") {
		t.Errorf("preview stem = %q", stem)
	}
	browsertest.Screenshot(t, ctx, "bank-editor-desktop")
	// Edit and save: the preview follows the typing, and the saved text comes back after a reload.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("f-stem").value = ""; document.getElementById("f-tags").value = ""; true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#f-stem"), "婴儿一般从满6个月开始添加辅食吗？"),
		chromedp.SendKeys(chromedp.CSS("#f-tags"), "辅食, 营养"),
	); err != nil {
		t.Fatal(err)
	}
	if live, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#preview .q-stem"))); live != "婴儿一般从满6个月开始添加辅食吗？" {
		t.Errorf("live preview = %q", live)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#item-save")), chromedp.WaitVisible(chromedp.CSS("#item-status.notice"))); err != nil {
		t.Fatal(err)
	}
	if st, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#item-status"))); !strings.Contains(st, "已保存") {
		t.Fatalf("save status = %q", st)
	}
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#preview .q-stem"))); err != nil {
		t.Fatal(err)
	}
	if after, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#f-tags"))); after != "营养, 辅食" && after != "辅食, 营养" {
		t.Errorf("tags after reload = %q", after)
	}
	if after, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#preview .q-stem"))); after != "婴儿一般从满6个月开始添加辅食吗？" {
		t.Errorf("stem after reload = %q", after)
	}

	// A new true/false question written in the editor lands in the bank.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/centres/HZ001/bank/items/new"),
		chromedp.WaitVisible(chromedp.CSS("#f-stem")),
		chromedp.SetValue(chromedp.CSS("#f-type"), "true_false"),
		chromedp.SendKeys(chromedp.CSS("#f-stem"), "婴儿睡眠时应仰卧。"),
		chromedp.SetValue(chromedp.CSS("#f-truth"), "true"),
	); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS("#item-save")))); err != nil {
		t.Fatal(err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/centres/HZ001/bank/items/") || strings.HasSuffix(loc, "/new") {
		t.Errorf("after creating, the editor is at %q", loc)
	}

	// The same pages hold at 360 px.
	for _, p := range []struct{ path, name string }{
		{"/centres/HZ001/bank?limit=4", "bank-list-phone"},
		{"/centres/HZ001/bank/import", "bank-import-phone"},
		{"/centres/HZ001/bank/items/1", "bank-editor-phone"},
	} {
		if err := chromedp.Do(ctx, browsertest.SetViewport(browsertest.Phone), chromedp.Navigate(srv.URL+p.path), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
			t.Fatal(err)
		}
		browsertest.AssertFits(t, ctx, browsertest.Phone)
		browsertest.Screenshot(t, ctx, p.name)
	}
}
