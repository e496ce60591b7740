package bank

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
)

// tsvWorkbook turns a hand-written TSV fixture into an .xlsx with plain excelize calls, independent
// of the exporter under test.
func tsvWorkbook(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	header, rows := readTSV(string(data))
	f := excelize.NewFile()
	defer f.Close()
	head := make([]any, len(header))
	for i, h := range header {
		head[i] = h
	}
	if err := f.SetSheetRow("Sheet1", "A1", &head); err != nil {
		tb.Fatal(err)
	}
	for i, r := range rows {
		if err := f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+2), &r); err != nil {
			tb.Fatal(err)
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseXLSXFixture(t *testing.T) {
	t.Parallel()
	res, err := ParseXLSX(bytes.NewReader(tsvWorkbook(t, "testdata/all.tsv")))
	if err != nil {
		t.Fatal(err)
	}
	var got []summary
	for _, e := range res.Entries {
		got = append(got, summarise(e))
	}
	want := []summary{
		{"Sheet1!2 (line 2)", SingleChoice, "单选", "生活照料/营养与喂养", "4个月以前=0|满6个月=1|1岁以后=0|2岁以后=0|", ""},
		{"Sheet1!3 (line 3)", SingleChoice, "", "生活照料", "甲=0|乙=0|丙=1|", ""},
		{"Sheet1!4 (line 4)", SingleChoice, "", "", "甲=0|乙=1|丙=0.5|", ""},
		{"Sheet1!5 (line 5)", MultipleChoice, "", "卫生保健/常见病", "补充水分=1|观察大便性状=1|立即禁食一天=0|注意臀部护理=1|all_or_nothing", ""},
		{"Sheet1!6 (line 6)", MultipleChoice, "", "", "甲=0.5|乙=0.5|丙=-0.5|丁=-0.5|partial", ""},
		{"Sheet1!7 (line 7)", MultipleChoice, "", "", "甲=0.5|乙=0.5|丙=-1|partial", ""},
		{"Sheet1!8 (line 8)", TrueFalse, "", "", "true", ""},
		{"Sheet1!9 (line 9)", TrueFalse, "", "", "false", ""},
		{"Sheet1!10 (line 10)", TrueFalse, "", "", "false", ""},
		{"Sheet1!11 (line 11)", FillBlank, "", "", "流动冷水=1|冷水=1|凉水=0.5|15=1|十五=1", ""},
		{"Sheet1!12 (line 12)", Numeric, "", "", "5±0.5=1", ""},
		{"Sheet1!13 (line 13)", Numeric, "", "", "13.5±1.5=1|13.5±2.5=0.5", ""},
		{"Sheet1!14 (line 14)", Matching, "", "", "发热->物理降温|鼻出血->头稍前倾|->立即催吐", ""},
		{"Sheet1!15 (line 15)", Essay, "", "", "一摸:2|二看:2|三问:2|四查:2", ""},
		{"Sheet1!16 (line 16)", Essay, "", "", "参考答案：及时、敏感、恰当地回应婴幼儿需求。:10", ""},
		{"Sheet1!17 (line 17)", Essay, "", "", "", ""},
		{"Sheet1!18 (line 18)", Practical, "", "生活照料/日常护理", "擦干腋窝:2|体温计夹紧5分钟:3", ""},
		{"Sheet1!A20 (line 20)", "", "", "", "", keyXLSXTypeUnknown},
		{"Sheet1!I21 (line 21)", "", "", "", "", keyXLSXBadAnswer},
		{"Sheet1!I22 (line 22)", "", "", "", "", keyXLSXBadAnswer},
		{"Sheet1!I23 (line 23)", "", "", "", "", keyXLSXBadNumber},
		{"Sheet1!I24 (line 24)", "", "", "", "", keyXLSXBadRubric},
		{"Sheet1!25 (line 25)", "", "", "", "", keyStemEmpty},
		{"Sheet1!N26 (line 26)", "", "", "", "", keyXLSXBadPoints},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	first := res.Entries[0].Item
	if first.Difficulty != 2 || first.Level != 4 || first.Occupation != "4-10-01-03" || first.Explanation != "满6个月。" ||
		!cmp.Equal(first.Tags, []string{"辅食添加", "喂养"}) {
		t.Errorf("metadata = %+v", first)
	}
	if e := res.Entries[13].Item; e.Points != 8 {
		t.Errorf("essay points = %v, want the rubric's sum 8", e.Points)
	}
	if e := res.Entries[14].Item; e.Points != 10 || e.Difficulty != 5 {
		t.Errorf("essay with 分值 = %v, difficulty %d", e.Points, e.Difficulty)
	}
}

func TestXLSXRoundTrip(t *testing.T) {
	t.Parallel()
	items := parseFile(t, "testdata/all.gift").Items()
	// The sheet holds no per-answer feedback, images or HTML; drop what it cannot carry.
	var keep []Item
	for _, it := range items {
		if it.Format == HTML {
			continue
		}
		for i := range it.Choices {
			it.Choices[i].Feedback = ""
		}
		keep = append(keep, it)
	}
	res, err := ParseXLSX(bytes.NewReader(tsvWorkbook(t, "testdata/all.tsv")))
	if err != nil {
		t.Fatal(err)
	}
	keep = append(keep, res.Items()...)
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, keep); err != nil {
		t.Fatal(err)
	}
	back, err := ParseXLSX(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range back.Entries {
		if !e.OK() {
			t.Errorf("%v: %v", e.At, e.Problems)
		}
	}
	if diff := cmp.Diff(keep, back.Items(), roundTripOpts); diff != "" {
		t.Errorf("round trip (-exported +read back):\n%s", diff)
	}
}

func TestXLSXTemplateParses(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteXLSXTemplate(&buf); err != nil {
		t.Fatal(err)
	}
	res, err := ParseXLSX(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[Type]bool{}
	for _, e := range res.Entries {
		if !e.OK() {
			t.Errorf("template example %v: %v", e.At, e.Problems)
		}
		seen[e.Item.Type] = true
	}
	for _, typ := range Types {
		if !seen[typ] {
			t.Errorf("the template has no %s example", typ)
		}
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if diff := cmp.Diff([]string{sheetName, helpSheetName}, f.GetSheetList()); diff != "" {
		t.Errorf("sheets: %s", diff)
	}
}

func TestParseXLSXHostile(t *testing.T) {
	t.Parallel()
	noHeader := func() []byte {
		f := excelize.NewFile()
		defer f.Close()
		_ = f.SetSheetRow("Sheet1", "A1", &[]any{"姓名", "电话"})
		b, _ := f.WriteToBuffer()
		return b.Bytes()
	}()
	headerOnly := func() []byte {
		f := excelize.NewFile()
		defer f.Close()
		_ = f.SetSheetRow("Sheet1", "A1", &[]any{"题型", "题干"})
		b, _ := f.WriteToBuffer()
		return b.Bytes()
	}()
	good := tsvWorkbook(t, "testdata/all.tsv")
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"not a zip", []byte("题型,题干\n单选题,x"), ErrMalformed},
		{"truncated zip", good[:len(good)/2], ErrMalformed},
		{"no header", noHeader, ErrMalformed},
		{"header only", headerOnly, ErrEmptyFile},
		{"too large", bytes.Repeat([]byte{0}, MaxFileSize+1), ErrFileTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := ParseXLSX(bytes.NewReader(tt.in))
			if !errors.Is(err, tt.want) || res != nil {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseXLSXBareLetterHeaders(t *testing.T) {
	t.Parallel()
	f := excelize.NewFile()
	defer f.Close()
	_ = f.SetSheetRow("Sheet1", "A1", &[]any{"题目", "题型", "A", "B", "C", "正确答案"})
	_ = f.SetSheetRow("Sheet1", "A2", &[]any{"问？", "单选题", "甲", "乙", "丙", "c"})
	b, _ := f.WriteToBuffer()
	res, err := ParseXLSX(b)
	if err != nil {
		t.Fatal(err)
	}
	items := res.Items()
	if len(items) != 1 || items[0].Stem != "问？" || items[0].Choices[2].Weight != 1 || !strings.HasPrefix(res.Entries[0].At.Element, "Sheet1") {
		t.Fatalf("entries = %+v", res.Entries)
	}
}

func FuzzXLSX(f *testing.F) {
	f.Add(tsvWorkbook(f, "testdata/all.tsv"))
	var buf bytes.Buffer
	if err := WriteXLSXTemplate(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	demo, err := demoWorkbook()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(demo)
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ParseXLSX(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, e := range res.Entries {
			if e.OK() && e.Item.Check() != nil {
				t.Fatalf("accepted with problems: %v", e.Item.Check())
			}
		}
	})
}
