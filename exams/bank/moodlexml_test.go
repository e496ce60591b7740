package bank

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func parseFile(tb testing.TB, name string) *Result {
	tb.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	var f Format
	switch {
	case strings.HasSuffix(name, ".gift"):
		f = GIFT
	case strings.HasSuffix(name, ".xml"):
		f = MoodleXML
	default:
		f = XLSX
	}
	res, err := Parse(f, bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("parse %s: %v", name, err)
	}
	return res
}

// summary is what the fixture test compares per entry: enough to pin every construct without
// repeating the whole fixture in Go.
type summary struct {
	At       string
	Type     Type
	Title    string
	Category string
	Answer   string
	Problem  string
}

func summarise(e Entry) summary {
	it := e.Item
	s := summary{At: e.At.String(), Type: it.Type, Title: it.Title, Category: strings.Join(it.Category, "/")}
	if len(e.Problems) > 0 {
		s.Problem = e.Problems[0].Key
		s.Type, s.Title = "", ""
		return s
	}
	var parts []string
	switch it.Type {
	case SingleChoice, MultipleChoice:
		for _, c := range it.Choices {
			parts = append(parts, c.Text+"="+fmtNum(c.Weight))
		}
		parts = append(parts, string(it.Scoring))
	case TrueFalse:
		parts = append(parts, fmtBool(it.Truth))
	case FillBlank:
		for _, b := range it.Blanks {
			for _, a := range b.Accepted {
				parts = append(parts, a.Text+"="+fmtNum(a.Weight))
			}
		}
	case Numeric:
		for _, n := range it.Numbers {
			parts = append(parts, fmtNum(n.Value)+"±"+fmtNum(n.Tolerance)+"="+fmtNum(n.Weight))
		}
	case Matching:
		for _, p := range it.Pairs {
			parts = append(parts, p.Left+"->"+p.Right)
		}
	case Essay, Practical:
		for _, c := range it.Rubric {
			parts = append(parts, c.Text+":"+fmtNum(c.Points))
		}
	}
	s.Answer = strings.Join(parts, "|")
	return s
}

func TestParseMoodleXMLFixture(t *testing.T) {
	t.Parallel()
	res := parseFile(t, "testdata/all.xml")
	var got []summary
	for _, e := range res.Entries {
		got = append(got, summarise(e))
	}
	want := []summary{
		{"question[2] (line 8)", SingleChoice, "单选-HTML", "保育师/卫生保健", "<p>煮沸消毒</p>=1|<p>紫外线照射</p>=0|酒精擦拭 &lt;快&gt;=0|", ""},
		{"question[3] (line 26)", MultipleChoice, "多选-部分分", "保育师/卫生保健", "补充水分=0.5|观察大便性状=0.5|立即禁食一天=-1|partial", ""},
		{"question[4] (line 35)", MultipleChoice, "多选-全对", "保育师/卫生保健", "乙肝疫苗=1|卡介苗=1|维生素D=0|all_or_nothing", ""},
		{"question[6] (line 45)", TrueFalse, "判断", "保育师/卫生保健/传染病", "true", ""},
		{"question[7] (line 51)", TrueFalse, "判断2", "保育师/卫生保健/传染病", "false", ""},
		{"question[8] (line 57)", FillBlank, "填空", "保育师/卫生保健/传染病", "肠道=1|EV71=1|柯萨奇=0.5", ""},
		{"question[9] (line 65)", Numeric, "数值", "保育师/卫生保健/传染病", "5±0.5=1", ""},
		{"question[10] (line 71)", Matching, "配对", "保育师/卫生保健/传染病", "水痘->疱疹全部结痂|手足口病->症状消失后一周|->无需隔离", ""},
		{"question[11] (line 78)", Essay, "简答", "保育师/卫生保健/传染病", "一摸二看三问四查:10", ""},
		{"question[12] (line 85)", Practical, "实操", "保育师/卫生保健/传染病", "擦干腋窝:2|体温计夹紧5分钟:3", ""},
		{"question[13] (line 94)", "", "", "保育师/卫生保健/传染病", "", keyMoodleUnsupported},
		{"question[14] (line 98)", "", "", "保育师/卫生保健/传染病", "", keyMoodleBadNumber},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}

	first := res.Entries[0].Item
	if strings.Contains(first.Stem, "script") || strings.Contains(first.Stem, "onerror") {
		t.Errorf("stem not sanitised: %s", first.Stem)
	}
	if !strings.Contains(first.Stem, `<img src="@@PLUGINFILE@@/dot.png"`) {
		t.Errorf("image reference lost: %s", first.Stem)
	}
	if len(first.Images) != 1 || first.Images[0].MediaType != "image/png" || len(first.Images[0].Data) != 69 {
		t.Errorf("images = %+v", first.Images)
	}
	if first.Points != 2 || first.Explanation != "<p>煮沸消毒&amp;蒸汽消毒均可。</p>" || first.Choices[0].Feedback != "对" {
		t.Errorf("points/explanation/feedback = %v %q %q", first.Points, first.Explanation, first.Choices[0].Feedback)
	}
	if diff := cmp.Diff([]string{"消毒", "卫生"}, first.Tags); diff != "" {
		t.Errorf("tags: %s", diff)
	}
	prac := res.Entries[9].Item
	if prac.Difficulty != 3 || prac.Occupation != "4-10-01-03" || prac.Level != 4 {
		t.Errorf("shanyu metadata = %d %q %d", prac.Difficulty, prac.Occupation, prac.Level)
	}
}

func TestParseMoodleXMLHostile(t *testing.T) {
	t.Parallel()
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name  string
		in    []byte
		want  error
		place string
	}{
		{"truncated", read("truncated.xml"), ErrMalformed, "line 24"},
		{"entity expansion", read("entities.xml"), ErrUnsafeXML, "line 2"},
		{"undeclared entity", []byte(`<quiz><question type="truefalse"><questiontext><text>&x;</text></questiontext></question></quiz>`), ErrMalformed, "line 1"},
		{"external entity", []byte("<?xml version=\"1.0\"?>\n<!DOCTYPE q [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><quiz/>"), ErrUnsafeXML, "line 2"},
		{"wrong root", []byte(`<html><body/></html>`), ErrMalformed, "html"},
		{"not xml", []byte(`婴儿{T}`), ErrMalformed, ""},
		{"empty quiz", []byte(`<quiz></quiz>`), ErrEmptyFile, ""},
		{"empty file", nil, ErrMalformed, ""},
		{"invalid utf-8", []byte("<quiz>\n<question type=\"truefalse\"><questiontext><text>\xff</text></questiontext></question></quiz>"), ErrNotUTF8, "line 2"},
		{"other encoding", []byte(`<?xml version="1.0" encoding="GBK"?><quiz/>`), ErrMalformed, ""},
		{"too large", append([]byte("<quiz>"), bytes.Repeat([]byte(" "), MaxFileSize)...), ErrFileTooLarge, ""},
		{"unclosed quiz", []byte("<quiz>\n<question type=\"category\"><category><text>a</text></category></question>\n"), ErrMalformed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := ParseMoodleXML(bytes.NewReader(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v (result %v), want %v", err, res, tt.want)
			}
			if res != nil {
				t.Fatal("a failed parse returned entries")
			}
			if !strings.Contains(err.Error(), tt.place) {
				t.Fatalf("err = %v, want it to name %q", err, tt.place)
			}
		})
	}
}

// roundTripOpts compares items after a trip through a file; images compare by content.
var roundTripOpts = cmp.Options{cmpopts.EquateEmpty(), cmp.Comparer(func(a, b Image) bool {
	return a.Name == b.Name && a.MediaType == b.MediaType && bytes.Equal(a.Data, b.Data)
})}

func TestMoodleXMLRoundTrip(t *testing.T) {
	t.Parallel()
	var items []Item
	for _, name := range []string{"testdata/all.gift", "testdata/all.xml"} {
		items = append(items, parseFile(t, name).Items()...)
	}
	items = append(items, Item{Type: FillBlank, Stem: "两空：____与____", Format: Plain, Points: 2, Tags: []string{"x"},
		Blanks: []Blank{{Accepted: []Option{{Text: "甲", Weight: 1}}}, {Accepted: []Option{{Text: "乙", Weight: 1}, {Text: "丙", Weight: 0.3333333}}}}})
	var buf bytes.Buffer
	if err := WriteMoodleXML(&buf, items); err != nil {
		t.Fatal(err)
	}
	res, err := ParseMoodleXML(&buf)
	if err != nil {
		t.Fatalf("read back: %v\n%s", err, buf.String())
	}
	for _, e := range res.Entries {
		if !e.OK() {
			t.Errorf("%v: %v", e.At, e.Problems)
		}
	}
	if diff := cmp.Diff(items, res.Items(), roundTripOpts); diff != "" {
		t.Errorf("round trip (-exported +read back):\n%s", diff)
	}
	for i := range items {
		if items[i].Hash() != res.Items()[i].Hash() {
			t.Errorf("item %d: hash changed in the round trip", i)
		}
	}
}

func FuzzMoodleXML(f *testing.F) {
	for _, name := range []string{"testdata/all.xml", "testdata/truncated.xml", "testdata/entities.xml", "testdata/unknown-type.xml",
		"testdata/moodle/cloze-and-unknown.xml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`<quiz><question type="matching"><subquestion><text>a</text></subquestion></question></quiz>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ParseMoodleXML(bytes.NewReader(data))
		if err != nil {
			if res != nil {
				t.Fatal("error with a result")
			}
			return
		}
		// Whatever was accepted must survive export and import unchanged.
		items := res.Items()
		var buf bytes.Buffer
		if err := WriteMoodleXML(&buf, items); err != nil {
			t.Fatal(err)
		}
		if len(items) == 0 {
			return
		}
		back, err := ParseMoodleXML(&buf)
		if err != nil {
			t.Fatalf("export of accepted items does not read back: %v", err)
		}
		if len(back.Items()) != len(items) {
			t.Fatalf("read back %d of %d items", len(back.Items()), len(items))
		}
	})
}

func TestMoodleXMLSkipsUnknownTypesAndKeepsTheRest(t *testing.T) {
	t.Parallel()
	res := parseFile(t, "testdata/unknown-type.xml")
	if len(res.Entries) != 2 || !res.Entries[0].OK() || res.Entries[1].OK() {
		t.Fatalf("entries %+v", res.Entries)
	}
	e := res.Entries[1]
	if e.SourceType != "hologram" || e.Problems[0].Key != keyMoodleUnknown || e.At.String() != "question[2] (line 7)" {
		t.Fatalf("skipped entry %+v", e)
	}
}

func TestMoodleXMLFractionsFollowMoodlesList(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]float64{"100": 1, "33.33333": 0.3333333, "33.333": 0.3333333, "-33.33333": -0.3333333,
		"14.28571": 0.1428571, "83.3333": 0.8333333, "0": 0, "-100": -1, "12.5": 0.125} {
		got, err := fraction(in)
		if err != nil || got != want {
			t.Errorf("fraction(%s) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"33", "33.3", "99", "101", "abc", "NaN", "66.6"} {
		if _, err := fraction(in); err == nil {
			t.Errorf("fraction(%s) accepted", in)
		}
	}
	// The problem names the question and the value, for the message beside it.
	xml := `<quiz><question type="multichoice"><name><text>三分之一</text></name><questiontext><text>q</text></questiontext>
<single>true</single><answer fraction="100"><text>a</text></answer><answer fraction="33"><text>b</text></answer></question></quiz>`
	res, err := ParseMoodleXML(strings.NewReader(xml))
	if err != nil {
		t.Fatal(err)
	}
	p := res.Entries[0].Problems
	if len(p) != 1 || p[0].Key != keyMoodleFraction || len(p[0].Args) != 2 || p[0].Args[0] != "三分之一" || p[0].Args[1] != "33" {
		t.Fatalf("problems %+v", p)
	}
}

// TestMoodleXMLFixturesImport reads Moodle's own XML fixtures and one modelled on them: what the bank
// holds imports, the rest is skipped by name and type, and nothing fails the file.
func TestMoodleXMLFixturesImport(t *testing.T) {
	t.Parallel()
	type want struct{ imported, skipped int }
	for name, w := range map[string]want{
		"testdata/moodle/nested_categories_with_questions.xml": {5, 0},
		"testdata/moodle/error_invalid_grades.xml":             {0, 1},
		"testdata/moodle/cloze-and-unknown.xml":                {6, 2},
	} {
		res := parseFile(t, name)
		ok, skipped := 0, 0
		for _, e := range res.Entries {
			if e.OK() {
				ok++
			} else {
				skipped++
				t.Logf("%s: skipped %v (%s): %v", name, e.At, e.SourceType, e.Problems[0].Detail)
			}
		}
		t.Logf("%s: %d imported, %d skipped", name, ok, skipped)
		if ok != w.imported || skipped != w.skipped {
			t.Errorf("%s: %d imported, %d skipped; want %d and %d", name, ok, skipped, w.imported, w.skipped)
		}
	}
	// Moodle's own invalid grade: 33 is refused, naming the question and the value.
	bad := parseFile(t, "testdata/moodle/error_invalid_grades.xml").Entries[0]
	if p := bad.Problems[0]; p.Key != keyMoodleFraction || !strings.Contains(p.Detail, "invalid grades") || p.Args[1] != "33" {
		t.Errorf("invalid grade: %+v", p)
	}
	nested := parseFile(t, "testdata/moodle/nested_categories_with_questions.xml").Items()
	if c := nested[2].Category; strings.Join(c, "/") != "Iota/Kappa" {
		t.Errorf("category %v", c)
	}
	res := parseFile(t, "testdata/moodle/cloze-and-unknown.xml")
	var types []string
	for _, e := range res.Entries {
		if !e.OK() {
			types = append(types, e.SourceType)
		}
	}
	if strings.Join(types, ",") != "poodllrecording,calculated" {
		t.Errorf("skipped types %v", types)
	}
	cloze := res.Entries[0].Item
	if cloze.Type != Cloze || len(cloze.Gaps) != 7 || cloze.Points != 8 {
		t.Fatalf("cloze: %d gaps, %v points: %+v", len(cloze.Gaps), cloze.Points, cloze)
	}
	g := cloze.Gaps
	if g[2].Display != ShowVertical || g[3].Display != ShowHorizontal || !g[3].Shuffle || g[4].Weight != 2 ||
		g[4].Options[1].Weight != 0.5 || !strings.Contains(g[4].Options[1].Feedback, "second largest") ||
		g[5].Numbers[0].Value != 3.14 || g[5].Numbers[0].Tolerance != 0.005 || !g[6].CaseSensitive {
		t.Errorf("gaps %+v", g)
	}
	// A fully right answer earns all 8 points; the heavy gap half right, 1 of them less.
	right := Response{Gaps: []string{"0", "1", "0", "1", "Paris", "3.141", "NaCl"}}
	if e, p := Score(cloze, right); e != p {
		t.Errorf("right answer: %v of %v", e, p)
	}
	right.Gaps[4] = "marseille"
	if e, _ := Score(cloze, right); e != 7 {
		t.Errorf("half of the 2-weight gap: %v", e)
	}
}

func TestMoodleXMLExportIsWhatMoodleReads(t *testing.T) {
	t.Parallel()
	res := parseFile(t, "testdata/moodle/cloze-and-unknown.xml")
	items := append(res.Items(), Item{Type: Numeric, Stem: "pi", Format: Plain, Points: 1,
		Numbers: []NumericAnswer{{Value: 3.1415, Tolerance: 0.0005, Weight: 1}}},
		Item{Type: MultipleChoice, Scoring: AllOrNothing, Stem: "two of three", Format: Plain, Points: 1,
			Choices: []Option{{Text: "a", Weight: 1}, {Text: "b", Weight: 1}, {Text: "c", Weight: 1}, {Text: "d"}}})
	var buf bytes.Buffer
	if err := WriteMoodleXML(&buf, items); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"multichoiceset", "99999", "00000000"} {
		if strings.Contains(out, bad) {
			t.Errorf("export contains %q", bad)
		}
	}
	for _, good := range []string{`type="cloze"`, "{2:SA:=Paris#Congratulations!", "<single>false</single>", `fraction="33.33333"`, "<text>3.1415</text>", "<tolerance>0.0005</tolerance>", "<idnumber>shanyu:"} {
		if !strings.Contains(out, good) {
			t.Errorf("export lacks %q", good)
		}
	}
	back, err := ParseMoodleXML(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(items, back.Items(), roundTripOpts); d != "" {
		t.Errorf("round trip:\n%s", d)
	}
}
