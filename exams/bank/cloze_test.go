package bank

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The example of Moodle's embedded-answers documentation, in the bank's words: a drop-down list with
// partial credit and feedback, a short answer and a number with tolerance.
const clozeExample = `婴儿每日建议奶量约为 {2:MC:%50%500 ml#偏少~=800 ml#正确~1500 ml#过多}，` +
	`补液首选 {1:SA:=ORS#对~=口服补液盐~%50%盐水#不完整~*#不对}，` +
	`腋温超过 {1:NM:=37.5:0.1#对~%50%38:0.5#接近} ℃ 为发热；正确的拍嗝姿势是 {1:MCVS:竖抱~=侧卧\}~趴着}。` +
	`区分大小写：{1:SAC:=ORS}`

func TestParseClozeReadsMoodlesSyntax(t *testing.T) {
	t.Parallel()
	stem, gaps, err := ParseCloze(clozeExample)
	if err != nil {
		t.Fatal(err)
	}
	wantStem := `婴儿每日建议奶量约为 {#1}，补液首选 {#2}，腋温超过 {#3} ℃ 为发热；正确的拍嗝姿势是 {#4}。区分大小写：{#5}`
	if stem != wantStem {
		t.Fatalf("stem %q", stem)
	}
	want := []Gap{
		{Kind: GapChoice, Weight: 2, Display: ShowSelect, Options: []Option{
			{Text: "500 ml", Weight: 0.5, Feedback: "偏少"}, {Text: "800 ml", Weight: 1, Feedback: "正确"}, {Text: "1500 ml", Feedback: "过多"}}},
		{Kind: GapText, Weight: 1, Options: []Option{
			{Text: "ORS", Weight: 1, Feedback: "对"}, {Text: "口服补液盐", Weight: 1}, {Text: "盐水", Weight: 0.5, Feedback: "不完整"},
			{Text: "*", Feedback: "不对"}}},
		{Kind: GapNumber, Weight: 1, Numbers: []NumericAnswer{
			{Value: 37.5, Tolerance: 0.1, Weight: 1, Feedback: "对"}, {Value: 38, Tolerance: 0.5, Weight: 0.5, Feedback: "接近"}}},
		{Kind: GapChoice, Weight: 1, Display: ShowVertical, Shuffle: true, Options: []Option{
			{Text: "竖抱"}, {Text: "侧卧}", Weight: 1}, {Text: "趴着"}}},
		{Kind: GapText, Weight: 1, CaseSensitive: true, Options: []Option{{Text: "ORS", Weight: 1}}},
	}
	if d := cmp.Diff(want, gaps); d != "" {
		t.Fatalf("gaps (-want +got):\n%s", d)
	}
	it := Item{Type: Cloze, Stem: stem, Format: Plain, Points: 6, Gaps: gaps}
	if p := it.Check(); p != nil {
		t.Fatalf("check: %v", p)
	}
	// Written back and read again, the item is the same.
	stem2, gaps2, err := ParseCloze(ClozeText(it))
	if err != nil {
		t.Fatal(err)
	}
	if stem2 != stem || !cmp.Equal(gaps2, gaps) {
		t.Fatalf("round trip:\n%s\n%s", ClozeText(it), cmp.Diff(gaps, gaps2))
	}
}

func TestParseClozeNamesTheBadGap(t *testing.T) {
	t.Parallel()
	for text, key := range map[string]string{
		"没有空":                       keyClozeNoGaps,
		"a {1:MC:=x~y} b {1:RX:=x}": keyClozeGapKind,
		"a {1:SA:=x":                keyClozeSyntax,
		"a {1:NM:=abc}":             keyClozeSyntax,
		"a {0:SA:=x}":               keyClozeGapWeight,
		"a {1:MC:%5=x}":             keyClozeSyntax,
	} {
		_, _, err := ParseCloze(text)
		var ce *ClozeError
		if !errors.As(err, &ce) || ce.Key != key {
			t.Errorf("%q: got %v, want %s", text, err, key)
		}
	}
	// A brace that starts no gap is text, as in Moodle.
	stem, gaps, err := ParseCloze("集合 {a, b} 与 {1:SA:=c}")
	if err != nil || stem != "集合 {a, b} 与 {#1}" || len(gaps) != 1 {
		t.Fatalf("%q %v %v", stem, gaps, err)
	}
}

func TestClozeCheck(t *testing.T) {
	t.Parallel()
	good := func() Item {
		return Item{Type: Cloze, Stem: "a {#1} b {#2}", Points: 2, Gaps: []Gap{
			{Kind: GapChoice, Weight: 1, Display: ShowSelect, Options: []Option{{Text: "x", Weight: 1}, {Text: "y"}}},
			{Kind: GapNumber, Weight: 1, Numbers: []NumericAnswer{{Value: 1, Weight: 1}}},
		}}
	}
	for name, c := range map[string]struct {
		edit func(*Item)
		want string
	}{
		"marker missing":     {func(it *Item) { it.Stem = "a {#1} b" }, keyClozeMarkers},
		"marker twice":       {func(it *Item) { it.Stem = "a {#1} b {#2} {#2}" }, keyClozeMarkers},
		"marker unknown":     {func(it *Item) { it.Stem = "a {#1} b {#2} {#3}" }, keyClozeMarkers},
		"markers swapped":    {func(it *Item) { it.Stem = "a {#2} b {#1}" }, keyClozeMarkers},
		"no gaps":            {func(it *Item) { it.Gaps = nil; it.Stem = "a" }, keyClozeNoGaps},
		"zero weight":        {func(it *Item) { it.Gaps[0].Weight = 0 }, keyClozeGapWeight},
		"no right choice":    {func(it *Item) { it.Gaps[0].Options[0].Weight = 0 }, keyClozeGapNoAnswer},
		"one choice":         {func(it *Item) { it.Gaps[0].Options = it.Gaps[0].Options[:1] }, keyChoicesTooFew},
		"bad display":        {func(it *Item) { it.Gaps[0].Display = "checkbox" }, keyClozeGapDisplay},
		"unknown kind":       {func(it *Item) { it.Gaps[1].Kind = "regexp" }, keyClozeGapKind},
		"negative tolerance": {func(it *Item) { it.Gaps[1].Numbers[0].Tolerance = -1 }, keyToleranceNegative},
		"NaN number":         {func(it *Item) { it.Gaps[1].Numbers[0].Value = math.NaN() }, keyToleranceNegative},
	} {
		it := good()
		c.edit(&it)
		got := it.Check()
		found := false
		for _, k := range got {
			found = found || k == c.want
		}
		if !found {
			t.Errorf("%s: problems %v, want %s", name, got, c.want)
		}
	}
	if p := good().Check(); p != nil {
		t.Fatalf("good item: %v", p)
	}
}

func TestScoreClozeAddsWeightedGaps(t *testing.T) {
	t.Parallel()
	stem, gaps, err := ParseCloze(clozeExample)
	if err != nil {
		t.Fatal(err)
	}
	it := Item{Type: Cloze, Stem: stem, Points: 12, Gaps: gaps}
	// Weights 2+1+1+1+1 = 6: each unit is 2 of the 12 points.
	for _, c := range []struct {
		name  string
		given []string
		want  float64
	}{
		{"all right", []string{"1", "口服补液盐", "37.55", "1", "ORS"}, 12},
		{"nothing", nil, 0},
		{"half of the heavy gap", []string{"0"}, 2},
		{"full-width text and spaces", []string{"", " ｏｒｓ "}, 2},
		{"partial text", []string{"", "盐水"}, 1},
		{"catch-all earns nothing", []string{"", "别的"}, 0},
		{"number partial, decimal comma", []string{"", "", "38,4"}, 1},
		{"number outside", []string{"", "", "39"}, 0},
		{"number not a number", []string{"", "", "abc"}, 0},
		{"case-sensitive gap", []string{"", "", "", "", "ors"}, 0},
		{"case-sensitive right", []string{"", "", "", "", "ORS"}, 2},
		{"choice out of range", []string{"7", "", "", "-1"}, 0},
	} {
		earned, possible := Score(it, Response{Gaps: c.given})
		if possible != 12 || math.Abs(earned-c.want) > 1e-9 {
			t.Errorf("%s: %v of %v, want %v", c.name, earned, possible, c.want)
		}
	}
}

func TestClozeHashLeavesOtherTypesAlone(t *testing.T) {
	t.Parallel()
	// The hash of an item stored before cloze existed must not change, or re-imports stop being
	// recognised. This is the hash of this item as computed before gaps were added.
	it := Item{Type: SingleChoice, Stem: "s", Format: Plain, Points: 1, Choices: []Option{{Text: "a", Weight: 1}, {Text: "b"}}}
	if got := it.Hash(); got != "c0d66bb2e52d3050362f0be115d669ec7316a38b5134e2ae4d7ab2de8bc30d40" {
		t.Fatalf("hash changed: %s", got)
	}
	a := Item{Type: Cloze, Stem: "{#1}", Points: 1, Gaps: []Gap{{Kind: GapText, Weight: 1, Options: []Option{{Text: "x", Weight: 1}}}}}
	b := a
	b.Gaps = []Gap{{Kind: GapText, Weight: 1, CaseSensitive: true, Options: []Option{{Text: "x", Weight: 1}}}}
	if a.Hash() == b.Hash() {
		t.Fatal("case sensitivity not in the hash")
	}
}

func TestFormatNumberHasNoBinaryNoise(t *testing.T) {
	t.Parallel()
	mid, half, ok := decimalMidpoint("3.141", "3.142")
	if !ok || formatNumber(mid) != "3.1415" || formatNumber(half) != "0.0005" {
		t.Fatalf("%s %s", formatNumber(mid), formatNumber(half))
	}
	if formatNumber(1e21) != "1000000000000000000000" || formatNumber(0.1) != "0.1" {
		t.Fatal(formatNumber(1e21))
	}
}

// FuzzCloze: whatever ParseCloze accepts and Check passes is written back by ClozeText to a text
// that reads back to the same stem and gaps.
func FuzzCloze(f *testing.F) {
	f.Add(clozeExample)
	f.Add(`{1:MCS:a\}b~=c\~d#fb \# x}{1:SAC:=*x*}{1:NM:=1,5:0,1~%50%2}`)
	f.Add(`&#39;{1:MC:=&amp;#39;~b#c&#35;d}`)
	f.Add(`{1:MC:a~=& #0}`) // an answer ending in & before its feedback
	f.Add(`{1:MR:=a~=b~c#no}{2:MRH:%50%a~%50%b~%-100%c}{1:MRS:%100%x~%0%y}{1:MULTIRESPONSE_HS:=p~=q~=r~s}`)
	f.Add(`{1:MCH:=a~b}{1:MULTICHOICE_VS:=a~b}{1:MW:=w}{1:MWC:=W}{1:NUMERICAL:=1:0}{1:MULTIRESPONSE:%0%=~=%}`)
	f.Fuzz(func(t *testing.T, text string) {
		stem, gaps, err := ParseCloze(text)
		if err != nil {
			return
		}
		it := Item{Type: Cloze, Stem: stem, Format: Plain, Points: 1, Gaps: gaps}
		if it.Check() != nil {
			return
		}
		stem2, gaps2, err := ParseCloze(ClozeText(it))
		if err != nil {
			t.Fatalf("written back %q does not read: %v", ClozeText(it), err)
		}
		if stem2 != stem || !cmp.Equal(gaps, gaps2) {
			t.Fatalf("round trip of %q:\n%q\n%s", text, ClozeText(it), cmp.Diff(gaps, gaps2))
		}
	})
}

// Moodle's MULTIRESPONSE gaps: read with the fractions Moodle gives them, shown as check boxes,
// scored as the sum of the fractions ticked clamped to 0..1, and written back to the same gap.
func TestClozeMultiResponseGaps(t *testing.T) {
	t.Parallel()
	stem, gaps, err := ParseCloze(`应每日检查 {1:MR:=体温~=精神~身高#不必每日} 与 {2:MRHS:%50%洗手~%50%消毒~%-50%吹风} ` +
		`{1:MULTIRESPONSE_S:=a~%0%b} {1:MULTIRESPONSE_H:=x~=y~=z~w}`)
	if err != nil {
		t.Fatal(err)
	}
	if stem != "应每日检查 {#1} 与 {#2} {#3} {#4}" {
		t.Fatalf("stem %q", stem)
	}
	want := []Gap{
		// No %n% at all: the right ones share 1, each wrong one takes one right one's share away.
		{Kind: GapMulti, Weight: 1, Display: ShowVertical, Options: []Option{
			{Text: "体温", Weight: 0.5}, {Text: "精神", Weight: 0.5}, {Text: "身高", Weight: -0.5, Feedback: "不必每日"}}},
		{Kind: GapMulti, Weight: 2, Display: ShowHorizontal, Shuffle: true, Options: []Option{
			{Text: "洗手", Weight: 0.5}, {Text: "消毒", Weight: 0.5}, {Text: "吹风", Weight: -0.5}}},
		// A fraction given: the wrong ones keep theirs.
		{Kind: GapMulti, Weight: 1, Display: ShowVertical, Shuffle: true, Options: []Option{{Text: "a", Weight: 1}, {Text: "b"}}},
		{Kind: GapMulti, Weight: 1, Display: ShowHorizontal, Options: []Option{
			{Text: "x", Weight: 0.3333333}, {Text: "y", Weight: 0.3333333}, {Text: "z", Weight: 0.3333333}, {Text: "w", Weight: -0.3333333}}},
	}
	if d := cmp.Diff(want, gaps); d != "" {
		t.Fatalf("gaps (-want +got):\n%s", d)
	}
	it := Item{Type: Cloze, Stem: stem, Format: Plain, Points: 5, Gaps: gaps}
	if p := it.Check(); p != nil {
		t.Fatalf("check: %v", p)
	}
	text := ClozeText(it)
	if !strings.Contains(text, "{1:MR:%50%体温~%50%精神~%-50%身高#不必每日}") || !strings.Contains(text, "{2:MRHS:") ||
		!strings.Contains(text, "{1:MRS:%100%a~%0%b}") || !strings.Contains(text, "{1:MRH:") {
		t.Fatalf("written back as %s", text)
	}
	stem2, gaps2, err := ParseCloze(text)
	if err != nil || stem2 != stem || !cmp.Equal(gaps2, gaps) {
		t.Fatalf("round trip of %s: %v\n%s", text, err, cmp.Diff(gaps, gaps2))
	}
	// Weights 1+2+1+1 = 5 of 5 points.
	for _, c := range []struct {
		name  string
		given []string
		want  float64
	}{
		{"both right ones", []string{"0,1"}, 1},
		{"one right one", []string{"1"}, 0.5},
		{"a right and a wrong one cancel", []string{"0,2"}, 0},
		{"all ticked", []string{"0,1,2"}, 0.5},
		{"only wrong: clamped at 0", []string{"2", "2"}, 0},
		{"order does not matter", []string{"1,0", "1,0"}, 3},
		{"a tick named twice earns nothing", []string{"0,0", "0,0"}, 0},
		{"an option that does not exist", []string{"0,7", "-1"}, 0},
		{"not a list", []string{"a,b", "0;1"}, 0},
		{"neutral option", []string{"", "", "0,1"}, 1},
		{"a third each, rounded, still full", []string{"", "", "", "0,1,2"}, 1},
		{"two thirds", []string{"", "", "", "0,1"}, 0.6666666},
	} {
		earned, _ := Score(it, Response{Gaps: c.given})
		if math.Abs(earned-c.want) > 1e-6 {
			t.Errorf("%s: %v, want %v", c.name, earned, c.want)
		}
	}
	// Shown to people by text, not by index.
	if g := GapGiven(gaps[0], "1,0"); g != "精神; 体温" {
		t.Errorf("given %q", g)
	}
	if k := GapKey(gaps[0]); k != "体温; 精神" {
		t.Errorf("key %q", k)
	}
	bad := it
	bad.Gaps = append([]Gap(nil), gaps...)
	bad.Gaps[0].Display = ShowSelect
	if p := bad.Check(); len(p) != 1 || p[0] != keyClozeGapDisplay {
		t.Errorf("a multi gap as a list: %v", p)
	}
}

// The gap names of Moodle's qtype_multianswer (questiontype.php, ANSWER_TYPE_DEF_REGEX), long and
// short, each read as the gap Moodle makes of it; the plugin's REGEXP gaps are refused by name.
func TestClozeReadsEveryMoodleGapName(t *testing.T) {
	t.Parallel()
	type shape struct {
		kind              GapKind
		display           string
		shuffle, caseSens bool
	}
	for names, w := range map[[2]string]shape{
		{"MULTICHOICE", "MC"}:        {GapChoice, ShowSelect, false, false},
		{"MULTICHOICE_S", "MCS"}:     {GapChoice, ShowSelect, true, false},
		{"MULTICHOICE_V", "MCV"}:     {GapChoice, ShowVertical, false, false},
		{"MULTICHOICE_VS", "MCVS"}:   {GapChoice, ShowVertical, true, false},
		{"MULTICHOICE_H", "MCH"}:     {GapChoice, ShowHorizontal, false, false},
		{"MULTICHOICE_HS", "MCHS"}:   {GapChoice, ShowHorizontal, true, false},
		{"MULTIRESPONSE", "MR"}:      {GapMulti, ShowVertical, false, false},
		{"MULTIRESPONSE_S", "MRS"}:   {GapMulti, ShowVertical, true, false},
		{"MULTIRESPONSE_H", "MRH"}:   {GapMulti, ShowHorizontal, false, false},
		{"MULTIRESPONSE_HS", "MRHS"}: {GapMulti, ShowHorizontal, true, false},
		{"SHORTANSWER", "SA"}:        {GapText, "", false, false},
		{"MW", "SA"}:                 {GapText, "", false, false},
		{"SHORTANSWER_C", "SAC"}:     {GapText, "", false, true},
		{"MWC", "SAC"}:               {GapText, "", false, true},
		{"NUMERICAL", "NM"}:          {GapNumber, "", false, false},
	} {
		for _, name := range names {
			_, gaps, err := ParseCloze("x {1:" + name + ":=1~2}")
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			g := gaps[0]
			if got := (shape{g.Kind, g.Display, g.Shuffle, g.CaseSensitive}); got != w {
				t.Errorf("%s read as %+v, want %+v", name, got, w)
			}
		}
	}
	for _, name := range []string{"REGEXP", "RX", "REGEXP_C", "RXC"} {
		_, _, err := ParseCloze("x {1:" + name + ":=a.*}")
		var ce *ClozeError
		if !errors.As(err, &ce) || ce.Key != keyClozeGapKind || !strings.Contains(ce.Error(), name) || !strings.Contains(ce.Error(), "qtype_regexp") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestMoodleMultianswerExamplesImport: every example of Moodle's qtype_multianswer that Moodle
// accepts imports (its gaps as Moodle reads them), the REGEXP gap and Moodle's own broken cloze
// questions are skipped by name, line and reason, and the export reads back to the same items.
func TestMoodleMultianswerExamplesImport(t *testing.T) {
	t.Parallel()
	res := parseFile(t, "testdata/moodle/multianswer-examples.xml")
	var imported []Item
	var skipped []string
	for _, e := range res.Entries {
		if e.OK() {
			imported = append(imported, e.Item)
			continue
		}
		if e.At.Line == 0 || e.SourceType != "cloze" || e.Problems[0].Key == "" {
			t.Errorf("skipped without its place or reason: %+v", e)
		}
		skipped = append(skipped, e.Problems[0].Key)
		t.Logf("skipped at line %d: %s (%s)", e.At.Line, e.Problems[0].Detail, e.Problems[0].Key)
	}
	want := []string{keyClozeGapKind, keyClozeNoGaps, keyClozeNoGaps, keyChoicesTooFew, keyClozeGapNoAnswer, keyClozeSyntax}
	if len(imported) != 7 || strings.Join(skipped, ",") != strings.Join(want, ",") {
		t.Fatalf("%d imported, skipped %v; want 7 and %v", len(imported), skipped, want)
	}
	// The multiple-response question has the fractions Moodle's own test gives it (helper.php).
	multi := imported[5]
	if len(multi.Gaps) != 2 || multi.Points != 2 {
		t.Fatalf("multiple: %+v", multi.Gaps)
	}
	var fractions []float64
	for _, o := range multi.Gaps[0].Options {
		fractions = append(fractions, o.Weight)
	}
	if !cmp.Equal(fractions, []float64{0.3333333, -0.5, -0.5, -0.5, 0.3333333, 0.3333333}) || multi.Gaps[1].Options[0].Weight != 0.5 {
		t.Errorf("fractions %v, %+v", fractions, multi.Gaps[1].Options)
	}
	if e, p := Score(multi, Response{Gaps: []string{"0,4,5", "0,4"}}); e != p {
		t.Errorf("all the fruits and vegetables: %v of %v", e, p)
	}
	if e, _ := Score(multi, Response{Gaps: []string{"0,1", "0,1,2"}}); e != 0 {
		t.Errorf("a fruit and a burger, a radish and two sweets: %v", e)
	}
	every := imported[6]
	kinds := map[GapKind]int{}
	for _, g := range every.Gaps {
		kinds[g.Kind]++
	}
	if len(every.Gaps) != 28 || kinds[GapNumber] != 2 || kinds[GapChoice] != 12 || kinds[GapText] != 6 || kinds[GapMulti] != 8 {
		t.Errorf("every gap name: %d gaps %v", len(every.Gaps), kinds)
	}
	var buf bytes.Buffer
	if err := WriteMoodleXML(&buf, imported); err != nil {
		t.Fatal(err)
	}
	back, err := ParseMoodleXML(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(imported, back.Items(), roundTripOpts); d != "" {
		t.Errorf("export and import:\n%s", d)
	}
	t.Logf("multianswer examples: %d imported, %d skipped, %d exported, %d re-imported", len(imported), len(skipped), strings.Count(buf.String(), `<question type="cloze">`), len(back.Items()))
}
