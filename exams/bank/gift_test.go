package bank

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseGIFTFixture(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/all.gift")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := ParseGIFT(f)
	if err != nil {
		t.Fatal(err)
	}
	care := []string{"保育师", "生活照料"}
	safety := []string{"保育师", "安全防护"}
	want := []Entry{
		{At: Place{Line: 6}, Item: Item{Type: SingleChoice, Title: "单选", Stem: "婴儿添加辅食一般从几个月开始？", Format: Plain, Points: 1, Category: care,
			Choices: []Option{{Text: "4个月以前", Feedback: "太早"}, {Text: "满6个月", Weight: 1, Feedback: "正确"}, {Text: "5个月左右", Weight: 0.5}, {Text: "1岁以后"}}}},
		{At: Place{Line: 13}, Item: Item{Type: MultipleChoice, Scoring: Partial, Title: "多选部分分", Stem: "下列属于婴幼儿常见传染病的有（　）。", Format: Plain, Points: 1, Category: care,
			Choices: []Option{{Text: "手足口病", Weight: 0.5}, {Text: "水痘", Weight: 0.5}, {Text: "佝偻病", Weight: -1}}}},
		{At: Place{Line: 20}, Item: Item{Type: TrueFalse, Truth: true, Stem: "6个月以内婴儿提倡纯母乳喂养。", Format: Plain, Points: 1, Category: care}},
		{At: Place{Line: 22}, Item: Item{Type: TrueFalse, Truth: false, Stem: "婴儿可以用蜂蜜水代替白开水。", Format: Plain, Points: 1, Category: care}},
		{At: Place{Line: 24}, Item: Item{Type: TrueFalse, Truth: true, Title: "tf long", Stem: "奶瓶每次用后应清洗消毒。", Format: Plain, Points: 1, Category: care}},
		{At: Place{Line: 26}, Item: Item{Type: TrueFalse, Truth: true, Stem: "出生后24小时内接种乙肝疫苗第一针，这一说法____。", Format: Plain, Points: 1, Category: care}},
		{At: Place{Line: 30}, Item: Item{Type: FillBlank, Title: "填空", Stem: "发生烫伤后应立即用____冲洗。", Format: Plain, Points: 1, Category: safety,
			Blanks: []Blank{{Accepted: []Option{{Text: "流动冷水", Weight: 1}, {Text: "冷水", Weight: 1}, {Text: "凉水", Weight: 0.5}}}}}},
		{At: Place{Line: 32}, Item: Item{Type: Numeric, Title: "数值", Stem: "婴儿正常腋下体温的上限约为多少摄氏度？", Format: Plain, Points: 1, Category: safety,
			Numbers: []NumericAnswer{{Value: 37.3, Tolerance: 0.2, Weight: 1}}}},
		{At: Place{Line: 34}, Item: Item{Type: Numeric, Title: "范围", Stem: "1岁幼儿每日睡眠时间（小时）？", Format: Plain, Points: 1, Category: safety,
			Numbers: []NumericAnswer{{Value: 13.5, Tolerance: 1.5, Weight: 1}}}},
		{At: Place{Line: 36}, Item: Item{Type: Numeric, Title: "多个数值", Stem: "5乘以0.3等于？", Format: Plain, Points: 1, Category: safety,
			Numbers: []NumericAnswer{{Value: 1.5, Weight: 1}, {Value: 1.5, Tolerance: 0.5, Weight: 0.5}}}},
		{At: Place{Line: 38}, Item: Item{Type: Matching, Title: "连线", Stem: "将症状与处理方法配对。", Format: Plain, Points: 1, Category: safety,
			Pairs: []Pair{{Left: "发热", Right: "物理降温"}, {Left: "鼻出血", Right: "头稍前倾，捏住鼻翼"}, {Left: "烫伤", Right: "流动冷水冲洗"}, {Right: "立即催吐"}}}},
		{At: Place{Line: 45}, Item: Item{Type: Essay, Title: "论述", Stem: "请简述婴幼儿午睡巡视的要点。", Format: Plain, Points: 1, Category: safety}},
		{At: Place{Line: 47}, Item: Item{Type: SingleChoice, Title: "转义", Stem: "符号{ } = ~ # 与 : 在题干中需要转义，换行\n也可以。", Format: Plain, Points: 1, Category: safety,
			Choices: []Option{{Text: "正确=答案", Weight: 1}, {Text: "错误~答案"}}}},
		{At: Place{Line: 49}, Item: Item{Type: SingleChoice, Stem: "<p>识别下图中的<b>危险</b>物品。</p>", Format: HTML, Points: 1, Category: safety,
			Choices: []Option{{Text: "插座", Weight: 1}, {Text: "玩具"}}}},
		{At: Place{Line: 51}, Item: Item{Type: SingleChoice, Title: "解析", Stem: "婴儿每日所需睡眠时间最长的是哪个年龄段？", Format: Plain, Points: 1, Category: safety,
			Explanation: "新生儿每天睡眠16小时左右。",
			Choices:     []Option{{Text: "新生儿", Weight: 1}, {Text: "1岁"}, {Text: "2岁"}, {Text: "3岁"}}}},
	}
	var got, bad []Entry
	for _, e := range res.Entries {
		if e.OK() {
			got = append(got, e)
		} else {
			bad = append(bad, e)
		}
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	wantBad := map[int]string{54: keyGIFTNoAnswers, 56: keyGIFTBadWeight, 58: keyGIFTBadNumber, 60: keyGIFTAnswersUnclosed}
	gotBad := map[int]string{}
	for _, e := range bad {
		gotBad[e.At.Line] = e.Problems[0].Key
	}
	if diff := cmp.Diff(wantBad, gotBad); diff != "" {
		t.Errorf("problems by line (-want +got):\n%s", diff)
	}
}

func TestParseGIFTEveryTypeIsReachable(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/all.gift")
	if err != nil {
		t.Fatal(err)
	}
	res, err := ParseGIFT(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[Type]bool{}
	for _, it := range res.Items() {
		seen[it.Type] = true
	}
	for _, typ := range Types {
		if !seen[typ] && typ != Practical && typ != Cloze && typ != Ordering { // GIFT has no practical tasks, no cloze, no ordering
			t.Errorf("fixture yields no %s item", typ)
		}
	}
}

func TestParseGIFTHostile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrEmptyFile},
		{"only comments", []byte("// nothing\n// here\n"), ErrEmptyFile},
		{"invalid utf-8", []byte("问题{T}\n\n\xff\xfe{F}"), ErrNotUTF8},
		{"too large", bytes.Repeat([]byte("a"), MaxFileSize+1), ErrFileTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseGIFT(bytes.NewReader(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseGIFTInvalidUTF8NamesLine(t *testing.T) {
	t.Parallel()
	_, err := ParseGIFT(strings.NewReader("a{T}\n\nb{F}\n\n\xffc{T}"))
	if err == nil || !strings.Contains(err.Error(), "line 5") {
		t.Fatalf("err = %v, want it to name line 5", err)
	}
}

func TestParseGIFTWindowsLineEndsAndBOM(t *testing.T) {
	t.Parallel()
	res, err := ParseGIFT(strings.NewReader("\ufeff// c\r\n::a::问{T}\r\n\r\n问二{=甲 ~乙}\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	items := res.Items()
	if len(items) != 2 || items[0].Title != "a" || items[1].Choices[0].Text != "甲" {
		t.Fatalf("items = %+v", items)
	}
	if res.Entries[1].At.Line != 4 {
		t.Errorf("second question at line %d, want 4", res.Entries[1].At.Line)
	}
}

func FuzzGIFT(f *testing.F) {
	for _, name := range []string{"testdata/all.gift"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("::t::{#1..}"))
	f.Add([]byte("a{=b -> c ~d}"))
	f.Add([]byte("\\{\\}{~%%%}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ParseGIFT(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, e := range res.Entries {
			if e.OK() && e.Item.Check() != nil {
				t.Fatalf("entry at %v accepted with problems %v", e.At, e.Item.Check())
			}
			if e.At.Line < 1 {
				t.Fatalf("entry without a line: %+v", e)
			}
		}
	})
}

// TestMoodlesGIFTExamplesImport reads Moodle's own examples file and the grammar features of its
// documentation: every question must import.
func TestMoodlesGIFTExamplesImport(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]int{"testdata/moodle/gift-examples.gift": 43, "testdata/moodle/gift-doc-features.gift": 9} {
		res := parseFile(t, name)
		ok := 0
		for _, e := range res.Entries {
			if e.OK() {
				ok++
			} else {
				t.Errorf("%s %v: %v (%q)", name, e.At, e.Problems, clip(e.Item.Stem))
			}
		}
		t.Logf("%s: %d questions, %d imported, %d skipped", name, len(res.Entries), ok, len(res.Entries)-ok)
		if len(res.Entries) != want {
			t.Errorf("%s: %d questions, want %d", name, len(res.Entries), want)
		}
	}
	res := parseFile(t, "testdata/moodle/gift-doc-features.gift")
	q1 := res.Entries[0].Item
	if q1.Type != Numeric || len(q1.Numbers) != 1 || q1.Numbers[0].Value != 3 || q1.Numbers[0].Tolerance != 2 {
		t.Errorf("{#3:2~#Completely wrong}: %+v", q1)
	}
	if c := res.Entries[0].Item.Category; len(c) != 2 || c[1] != "Numerical" {
		t.Errorf("category %v", c)
	}
	ex := parseFile(t, "testdata/moodle/gift-examples.gift")
	for _, e := range ex.Entries {
		if e.Item.Type == Numeric && len(e.Item.Numbers) == 1 && e.Item.Numbers[0].Tolerance == 0.0005 {
			if formatNumber(e.Item.Numbers[0].Value) != "3.1415" {
				t.Errorf("%v: range read as %v", e.At, e.Item.Numbers[0].Value)
			}
		}
	}
}

// TestWriteGIFTReadsBack: every item GIFT can express is written and reads back the same (points
// aside, which GIFT has not); the others are named with why.
func TestWriteGIFTReadsBack(t *testing.T) {
	t.Parallel()
	var items []Item
	for _, name := range []string{"testdata/all.gift", "testdata/moodle/gift-examples.gift", "testdata/moodle/cloze-and-unknown.xml"} {
		items = append(items, parseFile(t, name).Items()...)
	}
	one := Item{Type: Cloze, Stem: "婴儿满 {#1} 起添加辅食。", Format: Plain, Points: 1, Gaps: []Gap{{Kind: GapChoice, Weight: 1, Display: ShowSelect,
		Options: []Option{{Text: "6个月", Weight: 1, Feedback: "对"}, {Text: "4个月"}}}}}
	multi := Item{Type: Cloze, Stem: "每日检查 {#1}。", Format: Plain, Points: 1, Gaps: []Gap{{Kind: GapMulti, Weight: 1, Display: ShowVertical,
		Options: []Option{{Text: "体温", Weight: 0.5}, {Text: "精神", Weight: 0.5}, {Text: "身高", Weight: -0.5, Feedback: "不必"}}}}}
	items = append(items, one, multi)
	var buf bytes.Buffer
	skipped, err := WriteGIFT(&buf, items)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ParseGIFT(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	t.Logf("%d items: %d written, %d skipped", len(items), len(res.Entries), len(skipped))
	if len(res.Entries)+len(skipped) != len(items) {
		t.Fatalf("%d written + %d skipped of %d", len(res.Entries), len(skipped), len(items))
	}
	var want []Item
	for i, it := range items {
		left := false
		for _, s := range skipped {
			left = left || s.Element == fmt.Sprintf("item[%d]", i+1)
		}
		if !left {
			want = append(want, it)
		}
	}
	got := res.Items()
	if len(got) != len(want) {
		t.Fatalf("%d read back of %d written", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		w.Points, g.Points = 1, 1
		if w.Type == Cloze {
			// A one-gap cloze comes back as GIFT's own missing-word question; a multi gap as
			// multiple answers with the gap's fractions.
			if w.Gaps[0].Kind == GapMulti {
				if g.Type != MultipleChoice || g.Scoring != Partial || len(g.Choices) != 3 || g.Choices[2].Weight != -0.5 ||
					g.Choices[2].Feedback != "不必" || !strings.Contains(g.Stem, "____") {
					t.Errorf("one-gap multi cloze read back as %+v", g)
				}
				continue
			}
			if g.Type != SingleChoice || len(g.Choices) != 2 || !strings.Contains(g.Stem, "____") {
				t.Errorf("one-gap cloze read back as %+v", g)
			}
			continue
		}
		if d := cmp.Diff(w, g, roundTripOpts); d != "" {
			t.Errorf("item %d (%s):\n%s", i, w.Type, d)
		}
	}
	for _, s := range skipped {
		if s.Reason != keyGIFTCannotExpress || s.Detail == "" {
			t.Errorf("skip without a reason: %+v", s)
		}
	}
}
