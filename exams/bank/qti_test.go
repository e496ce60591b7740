package bank

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"shanyu/internal/pgtest"
)

// zipDir packs a testdata directory as a content package.
func zipDir(tb testing.TB, dir string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func parseQTIPackage(t *testing.T, dir string) *Result {
	t.Helper()
	data := zipDir(t, dir)
	if f := DetectFormat(data); f != QTI {
		t.Fatalf("detected %s", f)
	}
	res, err := ParseQTI(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestQTIImportsEverySupportedInteraction(t *testing.T) {
	res := parseQTIPackage(t, "testdata/qti/all")
	got := map[string]Item{}
	for _, e := range res.Entries {
		if !e.OK() {
			t.Errorf("%s: %+v", e.At, e.Problems)
		}
		got[e.At.Element] = e.Item
	}
	if len(got) != 8 {
		t.Fatalf("%d entries", len(got))
	}
	if it := got["items/choice.xml"]; it.Type != SingleChoice || it.Stem != "七步洗手法每次至少揉搓多久？" || it.Choices[1].Weight != 1 || it.Choices[0].Weight != 0 {
		t.Errorf("choice: %+v", it)
	}
	if it := got["items/multiple.xml"]; it.Type != MultipleChoice || it.Scoring != Partial || it.Points != 2 ||
		it.Choices[0].Weight != 0.5 || it.Choices[1].Weight != -0.5 {
		t.Errorf("multiple: %+v", it)
	}
	if it := got["items/text-entry.xml"]; it.Type != Cloze || it.Stem != "寝室每天应开窗{#1}，午睡时{#2}有人看护。" ||
		it.Gaps[0].Kind != GapText || it.Gaps[0].Options[0].Text != "通风" || it.Gaps[1].Kind != GapChoice || it.Gaps[1].Options[1].Weight != 1 {
		t.Errorf("text entry and inline choice: %+v", it)
	}
	if it := got["items/essay.xml"]; it.Type != Essay {
		t.Errorf("essay: %+v", it)
	}
	if it := got["items/match.xml"]; it.Type != Matching || len(it.Pairs) != 3 || it.Pairs[0] != (Pair{"6 月龄", "米粉"}) || it.Pairs[2] != (Pair{"", "坚果"}) {
		t.Errorf("match: %+v", it)
	}
	if it := got["items/order.xml"]; it.Type != Ordering || it.Scoring != AllOrNothing || it.Stem != "按正确顺序排列换尿布的步骤。" ||
		!cmp.Equal(it.Sequence, []string{"洗手", "准备用品", "更换尿布", "记录排便情况"}) || it.Check() != nil {
		t.Errorf("order: %+v %v", it, it.Check())
	}
	if it := got["items/order-mapped.xml"]; it.Type != Ordering || it.Scoring != Partial || it.Points != 3 ||
		!cmp.Equal(it.Sequence, []string{"胸外按压", "开放气道", "人工呼吸"}) || it.Check() != nil {
		t.Errorf("order with map_response: %+v %v", it, it.Check())
	}
	if it := got["items/mapped-text.xml"]; it.Type != Cloze || it.Points != 2 || it.Gaps[0].CaseSensitive || len(it.Gaps[0].Options) != 2 || it.Gaps[0].Options[1].Weight != 1 {
		t.Errorf("mapped text: %+v", it)
	}
}

func TestQTISkipsUnsupportedConstructsByName(t *testing.T) {
	res := parseQTIPackage(t, "testdata/qti/unsupported")
	var reasons []string
	ok := 0
	for _, e := range res.Entries {
		if e.OK() {
			ok++
			continue
		}
		reasons = append(reasons, e.At.Element+": "+e.Problems[0].Key+" "+e.Problems[0].Detail)
	}
	want := []string{
		"items/custom.xml: bank.qti.processing custom response processing is not supported; use a standard template",
		"items/hotspot.xml: bank.qti.unsupported qti-hotspot-interaction is not supported",
		"items/order.xml: bank.qti.unsupported qti-order-interaction with min-choices or max-choices (ordering a subset) is not supported",
		"items/missing.xml: bank.qti.resource items/missing.xml is not in the package",
	}
	if ok != 1 || !cmp.Equal(reasons, want) {
		t.Errorf("%d imported, skipped:\n%s", ok, strings.Join(reasons, "\n"))
	}
}

func TestQTISingleItemFile(t *testing.T) {
	data, err := os.ReadFile("testdata/qti/all/items/match.xml")
	if err != nil {
		t.Fatal(err)
	}
	if f := DetectFormat(data); f != QTI {
		t.Fatalf("detected %s", f)
	}
	res, err := Parse(QTI, bytes.NewReader(data))
	if err != nil || len(res.Items()) != 1 || res.Items()[0].Type != Matching {
		t.Fatalf("%v %+v", err, res)
	}
	for _, bad := range []string{`<!DOCTYPE x [<!ENTITY a "b">]><qti-assessment-item/>`, `<quiz/>`, strings.Repeat("<p>", 100)} {
		if _, err := ParseQTI(strings.NewReader(bad)); err == nil {
			t.Errorf("accepted %.40q", bad)
		}
	}
}

// TestQTIExportReimportsWithoutLoss: a bank exported as a QTI package and imported into a fresh bank
// holds the same items.
func TestQTIExportReimportsWithoutLoss(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	a := newCentre(t, pool)
	importFile(t, pool, a, "testdata/all.xml", false)
	importFile(t, pool, a, "testdata/all.gift", false)
	if _, err := Import(ctx, pool, a, QTI, bytes.NewReader(zipDir(t, "testdata/qti/all")), false); err != nil {
		t.Fatal(err)
	}
	items, err := Items(ctx, pool, a, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	skipped, err := WriteQTI(&buf, items)
	if err != nil {
		t.Fatal(err)
	}
	exported := map[int]bool{}
	for i := range items {
		exported[i] = true
	}
	for _, s := range skipped {
		var n int
		if _, err := fmt.Sscanf(s.Element, "item[%d]", &n); err != nil {
			t.Fatal(err)
		}
		delete(exported, n-1)
	}
	var want []Item
	for i := range items {
		if exported[i] {
			want = append(want, items[i])
		}
	}
	t.Logf("QTI: %d items in the bank, %d exported, %d left out: %+v", len(items), len(want), len(skipped), skipped)
	b := newCentre(t, pool)
	rep, err := Import(ctx, pool, b, DetectFormat(buf.Bytes()), &buf, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != len(want) || len(rep.Skipped) != 0 {
		t.Errorf("re-import: %+v", rep)
	}
	back, err := Items(ctx, pool, b, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, back, roundTripOpts, qtiOpts); diff != "" {
		t.Errorf("(-exported +re-imported):\n%s", diff)
	}
}

func FuzzQTI(f *testing.F) {
	for _, dir := range []string{"testdata/qti/all", "testdata/qti/unsupported"} {
		f.Add(zipDir(f, dir))
		files, _ := filepath.Glob(dir + "/items/*.xml")
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ParseQTI(bytes.NewReader(data))
		if err != nil {
			if res != nil {
				t.Fatal("error with a result")
			}
			return
		}
		// Whatever was accepted and can be written must come back unchanged.
		items := res.Items()
		var buf bytes.Buffer
		skipped, err := WriteQTI(&buf, items)
		if err != nil {
			t.Fatal(err)
		}
		if len(skipped) > 0 || len(items) == 0 {
			return
		}
		back, err := ParseQTI(&buf)
		if err != nil {
			t.Fatalf("re-import: %v", err)
		}
		for i, it := range back.Items() {
			if i < len(items) && tidy(it).Hash() != tidy(items[i]).Hash() {
				t.Fatalf("item %d changed:\n%s", i, cmp.Diff(items[i], it))
			}
		}
	})
}

// qtiOpts: QTI items carry no filing (category, tags, difficulty, occupation, level).
var qtiOpts = cmpopts.IgnoreFields(Item{}, "Category", "Tags", "Difficulty", "Occupation", "Level")

// xmllintSchema validates files against one of the committed 1EdTech schemas with xmllint, in one run.
func xmllintSchema(t *testing.T, schema string, paths ...string) ([]byte, error) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint is missing (scripts/deps test installs libxml2-utils)")
	}
	args := append([]string{"--noout", "--nonet", "--schema", filepath.Join("testdata/qti/xsd", schema)}, paths...)
	return exec.Command(xmllint, args...).CombinedOutput()
}

const (
	qtiManifestXSD = "imsqtiv3p0_imscpv1p2_v1p0.xsd"
	qtiItemXSD     = "imsqti_asiv3p0p1_v1p0.xsd"
)

// TestQTIExportValidatesAgainstTheXSD: every file of an export of the GIFT, Moodle XML and QTI fixtures
// is valid under 1EdTech's QTI 3.0 schemas, checked by xmllint: imsmanifest.xml under the content
// packaging schema, each item under the assessment item schema (ASI 3.0.1).
func TestQTIExportValidatesAgainstTheXSD(t *testing.T) {
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
	dir := t.TempDir()
	var manifest []byte
	var itemPaths []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := io.ReadAll(rc)
		rc.Close()
		path := filepath.Join(dir, strings.ReplaceAll(f.Name, "/", "_"))
		if err := os.WriteFile(path, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		if f.Name == "imsmanifest.xml" {
			manifest = doc
			if out, err := xmllintSchema(t, qtiManifestXSD, path); err != nil {
				t.Errorf("imsmanifest.xml is not valid under %s: %v\n%s", qtiManifestXSD, err, out)
			}
			continue
		}
		itemPaths = append(itemPaths, path)
	}
	if manifest == nil || len(itemPaths) == 0 {
		t.Fatalf("the export has %d items, manifest %t", len(itemPaths), manifest != nil)
	}
	// xmllint reads the 800 KB item schema once and reports each file ("… validates" or "… fails to
	// validate" with the reasons).
	out, err := xmllintSchema(t, qtiItemXSD, itemPaths...)
	if err != nil {
		t.Fatalf("exported items are not valid under %s: %v\n%s", qtiItemXSD, err, out)
	}
	if n := bytes.Count(out, []byte(" validates")); n != len(itemPaths) {
		t.Fatalf("xmllint validated %d of %d items:\n%s", n, len(itemPaths), out)
	}
	t.Logf("xmllint: the manifest and %d exported items valid", len(itemPaths))
	// The schemas are strict enough to refuse an element they do not define.
	path := filepath.Join(dir, "bad.xml")
	bad := bytes.Replace(manifest, []byte("<resources>"), []byte("<resources><bogus/>"), 1)
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := xmllintSchema(t, qtiManifestXSD, path); err == nil {
		t.Fatalf("xmllint accepted a broken manifest:\n%s", out)
	}
	doc, _ := qtiDocument(Item{Type: SingleChoice, Stem: "x", Points: 1, Choices: []Option{{Text: "a", Weight: 1}, {Text: "b"}}}, "bad")
	doc = strings.Replace(doc, "<qti-item-body>", "<qti-item-body><qti-bogus/>", 1)
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := xmllintSchema(t, qtiItemXSD, path); err == nil {
		t.Fatalf("xmllint accepted a broken item:\n%s", out)
	}
}
