package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"shanyu/exams/bank"
)

// upload posts a multipart import request (format, file and, for a commit, the token).
func (c *client) upload(path, format, name string, data []byte, token string) response {
	c.tb.Helper()
	fields := map[string]string{"format": format}
	if token != "" {
		fields["token"] = token
	}
	return c.multipart(path, fields, "file", name, data, map[string]string{"X-CSRF-Token": c.csrf})
}

type previewJSON struct {
	Questions int    `json:"questions"`
	Token     string `json:"token"`
	Create    []struct {
		Line int    `json:"line"`
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"create"`
	Skipped []struct {
		Line    int    `json:"line"`
		Element string `json:"element"`
		Reason  string `json:"reason"`
		Message string `json:"message"`
	} `json:"skipped"`
}

type commitJSON struct {
	Questions int   `json:"questions"`
	Created   int   `json:"created"`
	Skipped   []any `json:"skipped"`
}

func decode[T any](tb testing.TB, r response) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		tb.Fatalf("%d %s: %v", r.Status, r.Body, err)
	}
	return v
}

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("../exams/bank/testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func itemCount(tb testing.TB, c *client, centre, query string) int {
	tb.Helper()
	r := c.do("GET", "/api/v1/centres/"+centre+"/bank/items"+query, nil, nil)
	if r.Status != http.StatusOK {
		tb.Fatalf("list %s: %d %s", centre, r.Status, r.Body)
	}
	return int(r.json(tb)["total"].(float64))
}

const smallGIFT = `$CATEGORY: 保育师/安全防护

::烫伤::发生烫伤后应首先做什么？{=用流动冷水冲洗 ~涂牙膏 ~涂酱油}

婴儿可以用蜂蜜水代替白开水。{F}

::坏::这道题没有答案块
`

// Importing through the API: preview creates nothing, commit creates what the preview said, and the
// same file again creates nothing new.
func TestBankImportPreviewCommitIsIdempotent(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	trainer := mustLogin(t, srv, "trainer")
	const base = "/api/v1/centres/HZ001/bank/import/"
	p := decode[previewJSON](t, trainer.upload(base+"preview", "gift", "small.gift", []byte(smallGIFT), ""))
	if p.Questions != 3 || len(p.Create) != 2 || len(p.Skipped) != 1 || p.Token == "" {
		t.Fatalf("preview = %+v", p)
	}
	if s := p.Skipped[0]; s.Line != 7 || s.Reason != "bank.gift.no_answers" || s.Message == "" || s.Message == s.Reason {
		t.Errorf("skip = %+v, want line 7, no answers, translated", s)
	}
	if n := itemCount(t, trainer, "HZ001", ""); n != 0 {
		t.Fatalf("preview stored %d items", n)
	}
	// A commit needs the token of a preview of these very bytes.
	if r := trainer.upload(base+"commit", "gift", "small.gift", []byte(smallGIFT+"\n"), p.Token); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("commit of other bytes: %d %s", r.Status, r.Body)
	}
	rep := decode[commitJSON](t, trainer.upload(base+"commit", "gift", "small.gift", []byte(smallGIFT), p.Token))
	if rep.Created != 2 || len(rep.Skipped) != 1 {
		t.Fatalf("commit = %+v", rep)
	}
	if n := itemCount(t, trainer, "HZ001", "?q=%E7%83%AB%E4%BC%A4"); n != 1 { // 烫伤
		t.Errorf("search for the imported item found %d", n)
	}
	p2 := decode[previewJSON](t, trainer.upload(base+"preview", "gift", "small.gift", []byte(smallGIFT), ""))
	exists := 0
	for _, s := range p2.Skipped {
		if s.Reason == "bank.import.exists" {
			exists++
		}
	}
	if len(p2.Create) != 0 || len(p2.Skipped) != 3 || exists != 2 {
		t.Fatalf("second preview = %+v", p2)
	}
	rep2 := decode[commitJSON](t, trainer.upload(base+"commit", "gift", "small.gift", []byte(smallGIFT), p2.Token))
	if rep2.Created != 0 {
		t.Fatalf("re-import created %d", rep2.Created)
	}
	if n := itemCount(t, trainer, "HZ001", ""); n != 2 {
		t.Fatalf("bank holds %d items after re-import, want 2", n)
	}
	// Moodle XML: the fixture imports with the counts the file holds.
	xml := fixture(t, "all.xml")
	px := decode[previewJSON](t, trainer.upload(base+"preview", "moodlexml", "all.xml", xml, ""))
	rx := decode[commitJSON](t, trainer.upload(base+"commit", "moodlexml", "all.xml", xml, px.Token))
	if rx.Created != len(px.Create) || rx.Created == 0 {
		t.Fatalf("moodle xml: preview %d to create, commit created %d", len(px.Create), rx.Created)
	}
}

// A truncated XML file is refused with a message that names the place, and nothing is imported.
func TestBankImportTruncatedXMLImportsNothing(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	centre := mustLogin(t, srv, "centre")
	r := centre.upload("/api/v1/centres/HZ001/bank/import/preview", "moodlexml", "truncated.xml", fixture(t, "truncated.xml"), "")
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("truncated xml: %d %s", r.Status, r.Body)
	}
	e := r.json(t)["error"].(map[string]any)
	if msg := e["message"].(string); !strings.Contains(msg, "line") && !strings.Contains(msg, "行") {
		t.Errorf("message %q does not name the place", msg)
	}
	// Even with a forged token, a commit of the file fails before touching the bank.
	r = centre.upload("/api/v1/centres/HZ001/bank/import/commit", "moodlexml", "truncated.xml", fixture(t, "truncated.xml"), "AAAA")
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("commit with a bad token: %d %s", r.Status, r.Body)
	}
	if r := centre.upload("/api/v1/centres/HZ001/bank/import/preview", "docx", "x.docx", []byte("x"), ""); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("unknown format: %d %s", r.Status, r.Body)
	}
	if n := itemCount(t, centre, "HZ001", ""); n != 0 {
		t.Fatalf("bank holds %d items", n)
	}
}

// Staff of one centre cannot read or write another centre's bank; an examiner reads but cannot write;
// a caregiver has no bank at all.
func TestBankOtherCentreIsForbidden(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	trainer := mustLogin(t, srv, "trainer")
	for _, r := range []response{
		trainer.do("GET", "/api/v1/centres/NB001/bank/items", nil, nil),
		trainer.send("POST", "/api/v1/centres/NB001/bank/items", map[string]any{"type": "true_false", "stem": "x", "points": 1, "truth": true}),
		trainer.upload("/api/v1/centres/NB001/bank/import/preview", "gift", "s.gift", []byte(smallGIFT), ""),
		trainer.do("GET", "/api/v1/centres/NB001/bank/export?format=xlsx", nil, nil),
		trainer.do("GET", "/centres/NB001/bank", nil, map[string]string{"Accept": "text/html"}),
	} {
		if r.Status != http.StatusForbidden {
			t.Errorf("trainer of HZ001 on NB001: %d %s", r.Status, r.Body)
		}
	}
	// The trainer writes in their own centre; the examiner of that centre reads it but cannot write.
	created := trainer.send("POST", "/api/v1/centres/HZ001/bank/items", map[string]any{"type": "single_choice", "stem": "婴儿添加辅食一般从几个月开始？", "points": 2,
		"choices": []map[string]any{{"text": "满6个月", "weight": 1}, {"text": "3个月", "weight": 0}}, "category": "保育师/营养", "tags": []string{"辅食"}, "difficulty": 2})
	if created.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", created.Status, created.Body)
	}
	id := int(created.json(t)["id"].(float64))
	examiner := mustLogin(t, srv, "examiner")
	if r := examiner.do("GET", "/api/v1/centres/HZ001/bank/items/"+strconv.Itoa(id), nil, nil); r.Status != http.StatusOK {
		t.Errorf("examiner read: %d %s", r.Status, r.Body)
	}
	if r := examiner.send("POST", "/api/v1/centres/HZ001/bank/bulk", map[string]any{"action": "retire", "ids": []int{id}}); r.Status != http.StatusForbidden {
		t.Errorf("examiner retire: %d %s", r.Status, r.Body)
	}
	other := trainer.send("POST", "/api/v1/centres/HZ001/bank/bulk", map[string]any{"action": "retire", "ids": []int{id}})
	if other.Status != http.StatusOK || other.json(t)["affected"].(float64) != 1 {
		t.Errorf("trainer retire: %d %s", other.Status, other.Body)
	}
	caregiver := mustLogin(t, srv, "caregiver")
	if r := caregiver.do("GET", "/api/v1/centres/HZ001/bank/items", nil, nil); r.Status != http.StatusForbidden {
		t.Errorf("caregiver: %d %s", r.Status, r.Body)
	}
}

// Editing an item that no paper used changes it in place; once delivered, an edit is a new version.
func TestBankEditKeepsDeliveredVersions(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	trainer := mustLogin(t, srv, "trainer")
	item := map[string]any{"type": "true_false", "stem": "6个月以内婴儿提倡纯母乳喂养。", "points": 1, "truth": true}
	r := trainer.send("POST", "/api/v1/centres/HZ001/bank/items", item)
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	created := r.json(t)
	path := "/api/v1/centres/HZ001/bank/items/" + strconv.Itoa(int(created["id"].(float64)))
	item["explanation"] = "世界卫生组织建议"
	if v := trainer.send("PUT", path, item).json(t)["version"]; v != 1.0 {
		t.Fatalf("edit before delivery: version %v, want 1", v)
	}
	var versionID int64
	if err := srv.Pool.QueryRow(t.Context(), `SELECT current_version_id FROM bank_items WHERE id = $1`, int64(created["id"].(float64))).Scan(&versionID); err != nil {
		t.Fatal(err)
	}
	if err := bank.MarkDelivered(t.Context(), srv.Pool, []int64{versionID}); err != nil {
		t.Fatal(err)
	}
	item["stem"] = "6个月以内的婴儿提倡纯母乳喂养。"
	after := trainer.send("PUT", path, item).json(t)
	if after["version"] != 2.0 || after["delivered"] != false {
		t.Fatalf("edit after delivery: %v", after)
	}
	old, err := bank.Version(t.Context(), srv.Pool, versionID)
	if err != nil || old.Item.Stem != "6个月以内婴儿提倡纯母乳喂养。" {
		t.Fatalf("delivered version changed: %+v %v", old.Item.Stem, err)
	}
	bad := trainer.send("PUT", path, map[string]any{"type": "single_choice", "stem": "", "points": 1})
	if bad.Status != http.StatusUnprocessableEntity || bad.json(t)["error"].(map[string]any)["fields"] == nil {
		t.Fatalf("invalid edit: %d %s", bad.Status, bad.Body)
	}
}

// The list page's bulk form: tag ticked items and come back to the same filtered list; nothing
// ticked is a message, not an error page; an examiner sees the list without the bulk controls.
func TestBankBulkFormOnTheListPage(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	trainer := mustLogin(t, srv, "trainer")
	decode[commitJSON](t, trainer.upload("/api/v1/centres/HZ001/bank/import/commit", "gift", "s.gift", []byte(smallGIFT),
		decode[previewJSON](t, trainer.upload("/api/v1/centres/HZ001/bank/import/preview", "gift", "s.gift", []byte(smallGIFT), "")).Token))
	list := trainer.do("GET", "/api/v1/centres/HZ001/bank/items", nil, nil).json(t)["items"].([]any)
	id := strconv.Itoa(int(list[0].(map[string]any)["id"].(float64)))
	form := func(v url.Values) response {
		v.Set("_csrf", trainer.csrf)
		req, err := http.NewRequest("POST", trainer.base+"/centres/HZ001/bank/bulk", strings.NewReader(v.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := trainer.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return response{Status: res.StatusCode, Header: res.Header, Body: b}
	}
	r := form(url.Values{"action": {"tag"}, "ids": {id}, "tags": {"急救，安全"}, "back": {"/centres/HZ001/bank?q=%E7%83%AB"}})
	if loc := r.Header.Get("Location"); r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/centres/HZ001/bank?q=") || !strings.Contains(loc, "notice=tag&n=1") {
		t.Fatalf("bulk tag: %d %q", r.Status, loc)
	}
	if n := itemCount(t, trainer, "HZ001", "?tag=%E6%80%A5%E6%95%91"); n != 1 { // 急救
		t.Errorf("items tagged 急救: %d", n)
	}
	r = form(url.Values{"action": {"retire"}, "back": {"https://evil.example/"}})
	if loc := r.Header.Get("Location"); r.Status != http.StatusSeeOther || loc != "/centres/HZ001/bank?error=none_selected" {
		t.Fatalf("bulk without ids: %d %q", r.Status, loc)
	}
	page := trainer.do("GET", "/centres/HZ001/bank?error=none_selected", nil, map[string]string{"Accept": "text/html"})
	if !strings.Contains(string(page.Body), "请先勾选至少一道试题") || !strings.Contains(string(page.Body), `id="bulk-action"`) {
		t.Errorf("list page lacks the message or the bulk controls")
	}
	if r := trainer.do("GET", "/centres/HZ001/bank/items/new", nil, map[string]string{"Accept": "text/html"}); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `id="item-form"`) {
		t.Errorf("new item page: %d", r.Status)
	}
	examiner := mustLogin(t, srv, "examiner")
	if r := examiner.do("GET", "/centres/HZ001/bank/items/new", nil, map[string]string{"Accept": "text/html"}); r.Status != http.StatusForbidden {
		t.Errorf("examiner new item page: %d", r.Status)
	}
	page = examiner.do("GET", "/centres/HZ001/bank", nil, map[string]string{"Accept": "text/html"})
	if page.Status != http.StatusOK || strings.Contains(string(page.Body), `id="bulk-action"`) || !strings.Contains(string(page.Body), "/centres/HZ001/bank") {
		t.Errorf("examiner list page: %d, bulk controls shown or nav link missing", page.Status)
	}
}

// A cloze item is created and edited through its text in Moodle's syntax: the answer carries the
// same text back, the editor page opens with it, and a broken gap is a 422 beside the stem that
// changes nothing.
func TestBankClozeIsEditedInMoodlesSyntax(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	trainer := mustLogin(t, srv, "trainer")
	text := "婴儿满 {2:MC:=6个月#对~4个月} 起添加辅食，首选富含 {1:SA:=铁} 的食物。"
	r := trainer.send("POST", "/api/v1/centres/HZ001/bank/items", map[string]any{"type": "cloze", "stem": text, "cloze_text": text, "points": 3})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	created := r.json(t)
	if created["stem"] != "婴儿满 {#1} 起添加辅食，首选富含 {#2} 的食物。" || created["cloze_text"] != text || len(created["gaps"].([]any)) != 2 {
		t.Fatalf("created %v", created)
	}
	id := strconv.Itoa(int(created["id"].(float64)))
	page := trainer.do("GET", "/centres/HZ001/bank/items/"+id, nil, map[string]string{"Accept": "text/html"})
	if page.Status != http.StatusOK || !strings.Contains(string(page.Body), "cloze_text") || !strings.Contains(string(page.Body), "stem-hint-cloze") {
		t.Fatalf("editor page: %d", page.Status)
	}
	path := "/api/v1/centres/HZ001/bank/items/" + id
	edited := strings.Replace(text, "{1:SA:=铁}", "{1:SA:=铁~%50%铁质}", 1)
	after := trainer.send("PUT", path, map[string]any{"type": "cloze", "stem": edited, "cloze_text": edited, "points": 3}).json(t)
	if after["cloze_text"] != edited {
		t.Fatalf("edit: %v", after)
	}
	bad := trainer.send("PUT", path, map[string]any{"type": "cloze", "stem": "x {1:SA:=铁", "cloze_text": "x {1:SA:=铁", "points": 3})
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(string(bad.Body), `"stem"`) {
		t.Fatalf("broken gap: %d %s", bad.Status, bad.Body)
	}
	if still := trainer.do("GET", path, nil, nil).json(t); still["cloze_text"] != edited {
		t.Fatalf("a refused edit changed the item: %v", still["cloze_text"])
	}
	// GIFT holds one answer block: the two-gap cloze is left out of a GIFT export and counted, the
	// true/false question beside it is written.
	if r := trainer.send("POST", "/api/v1/centres/HZ001/bank/items", map[string]any{"type": "true_false", "stem": "奶瓶应每次使用后清洗。", "points": 1, "truth": true}); r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	gift := trainer.do("GET", "/api/v1/centres/HZ001/bank/export?format=gift", nil, nil)
	if gift.Status != http.StatusOK || gift.Header.Get("X-Shanyu-Skipped") != "1" ||
		strings.Contains(string(gift.Body), "首选富含") || !strings.Contains(string(gift.Body), "奶瓶应每次使用后清洗。 {T}") {
		t.Fatalf("gift export: %d skipped %q\n%s", gift.Status, gift.Header.Get("X-Shanyu-Skipped"), gift.Body)
	}
}
