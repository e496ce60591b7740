package bank

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"shanyu/internal/browsertest"
)

// qtiPlayer is Citolab's QTI 3 player (@citolab/qti-components, pinned in tools/qti; scripts/deps test
// installs it), an implementation independent of this bank.
const qtiPlayer = "../../tools/qti/node_modules/@citolab/qti-components/cdn/index.js"

const qtiPlayerPage = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>QTI</title></head><body>
<main id="out"></main>
<script type="module">
import { qtiTransformItem } from "/qti.js";
window.qtiRender = (xml) => {
  const out = document.getElementById("out");
  out.replaceChildren(qtiTransformItem().parse(xml).htmlDoc());
};
window.qtiReady = true;
</script></body></html>`

var qtiInteractionName = regexp.MustCompile(`<(qti-[a-z-]+-interaction)\b`)

// TestQTIExportRendersInCitolabPlayer: every item of an export is rendered by Citolab's player, and
// every interaction in it appears on the page (a defined custom element with a box).
func TestQTIExportRendersInCitolabPlayer(t *testing.T) {
	t.Parallel()
	js, err := os.ReadFile(qtiPlayer)
	if err != nil {
		t.Fatalf("Citolab's player is missing (run scripts/deps test): %v", err)
	}
	var items []Item
	for _, name := range []string{"testdata/all.gift", "testdata/all.xml"} {
		items = append(items, parseFile(t, name).Items()...)
	}
	items = append(items, parseQTIPackage(t, "testdata/qti/all").Items()...)
	var buf bytes.Buffer
	if _, err := WriteQTI(&buf, items); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/qti.js" {
			w.Header().Set("Content-Type", "text/javascript")
			w.Write(js)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, qtiPlayerPage)
	}))
	defer srv.Close()
	ctx := browsertest.New(t, browsertest.Desktop)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL), chromedp.Poll[chromedp.Void](`window.qtiReady === true`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatal(err)
	}
	rendered := 0
	for _, f := range zr.File {
		if !strings.HasPrefix(f.Name, "items/") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := io.ReadAll(rc)
		rc.Close()
		var want []string
		for _, m := range qtiInteractionName.FindAllStringSubmatch(string(doc), -1) {
			want = append(want, m[1])
		}
		arg, _ := json.Marshal(string(doc))
		check := `(() => [...document.querySelectorAll("#out *")].filter(e => /^qti-.*-interaction$/.test(e.localName) &&
			e.matches(":defined") && e.getBoundingClientRect().height > 0).map(e => e.localName))()`
		err = chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`qtiRender(`+string(arg)+`)`),
			chromedp.Poll[chromedp.Void](check+`.length >= `+jsonInt(len(want)), chromedp.WithPollingTimeout(10*time.Second)))
		shown, err2 := chromedp.Run(ctx, chromedp.Evaluate[[]string](check))
		if err != nil || err2 != nil {
			t.Errorf("%s: want %v shown, got %v: %v %v", f.Name, want, shown, err, err2)
			continue
		}
		if strings.Join(shown, " ") != strings.Join(want, " ") {
			t.Errorf("%s: want %v shown, got %v", f.Name, want, shown)
		}
		rendered++
	}
	if rendered == 0 {
		t.Fatal("no item rendered")
	}
	t.Logf("Citolab's player rendered %d exported items with all their interactions", rendered)
}

func jsonInt(n int) string { b, _ := json.Marshal(n); return string(b) }
