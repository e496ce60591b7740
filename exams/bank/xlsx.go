package bank

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"shanyu/internal/limits"
)

// The Excel layout Chinese training centres keep their questions in: one row per question, columns
// found by their header (题型, 题干, 选项A…, 答案, 解析, 难度, 分类, 知识点), in any order. Optional
// columns carry what the common layout has no place for: 分值, 标题, 计分方式, 职业编码, 等级.
//
// Answers by type:
//   - 单选题 "B"; 多选题 "ABD"; weights, for partial credit, as "A(50%)B(50%)C(-100%)"
//   - 判断题 正确/错误 (also 对/错, √/×, T/F)
//   - 填空题 blanks separated by ；, accepted alternatives by |, a weight as a %50% prefix
//   - 数值题 "37.3±0.2", "12~15" or "5"; several separated by ；
//   - 匹配题 options hold "左项 -> 右项" pairs ("-> 右项" is a distractor); 答案 is empty
//   - 简答题 and 实操题: one rubric item per line, "要点（2分）"; an essay may give a plain reference answer

const (
	keyXLSXTypeUnknown   = "bank.xlsx.type_unknown"
	keyXLSXBadAnswer     = "bank.xlsx.bad_answer"
	keyXLSXBadNumber     = "bank.xlsx.bad_number"
	keyXLSXBadRubric     = "bank.xlsx.bad_rubric"
	keyXLSXBadPoints     = "bank.xlsx.bad_points"
	keyXLSXBadLevel      = "bank.xlsx.bad_level"
	keyXLSXBadScoring    = "bank.xlsx.bad_scoring"
	keyXLSXBadDifficulty = "bank.xlsx.bad_difficulty"
)

// Column headers.
const (
	colType        = "题型"
	colStem        = "题干"
	colAnswer      = "答案"
	colExplanation = "解析"
	colDifficulty  = "难度"
	colCategory    = "分类"
	colTags        = "知识点"
	colPoints      = "分值"
	colTitle       = "标题"
	colScoring     = "计分方式"
	colOccupation  = "职业编码"
	colLevel       = "等级"
	optionPrefix   = "选项"
	sheetName      = "题库"
	helpSheetName  = "填写说明"
)

// MaxRows bounds the rows a sheet may have, blank ones included, with the file size and the
// workbook's unzip limits, against hostile workbooks.
const MaxRows = 50000

var headerAliases = map[string]string{
	"题目类型": colType, "类型": colType, "题目": colStem, "试题": colStem, "题目内容": colStem,
	"正确答案": colAnswer, "参考答案": colAnswer, "标准答案": colAnswer, "答案解析": colExplanation,
	"试题解析": colExplanation, "难易度": colDifficulty, "难易程度": colDifficulty, "章节": colCategory,
	"题目分类": colCategory, "标签": colTags, "分数": colPoints,
}

var typeNames = map[string]Type{
	"单选题": SingleChoice, "单选": SingleChoice, "单项选择题": SingleChoice, "选择题": SingleChoice,
	"多选题": MultipleChoice, "多选": MultipleChoice, "多项选择题": MultipleChoice, "不定项选择题": MultipleChoice,
	"判断题": TrueFalse, "判断": TrueFalse, "是非题": TrueFalse,
	"填空题": FillBlank, "填空": FillBlank,
	"数值题": Numeric, "计算题": Numeric,
	"匹配题": Matching, "连线题": Matching, "配对题": Matching,
	"简答题": Essay, "问答题": Essay, "论述题": Essay, "案例分析题": Essay, "简答": Essay,
	"实操题": Practical, "操作题": Practical, "技能操作题": Practical, "实操": Practical,
	"排序题": Ordering, "排序": Ordering,
	"完形填空": Cloze, "完形填空题": Cloze, "嵌入式答案": Cloze, "cloze": Cloze,
}

// typeLabel is the name written for each type, the first in the template's drop-down.
var typeLabel = map[Type]string{
	SingleChoice: "单选题", MultipleChoice: "多选题", TrueFalse: "判断题", FillBlank: "填空题",
	Numeric: "数值题", Matching: "匹配题", Essay: "简答题", Practical: "实操题", Cloze: "完形填空", Ordering: "排序题",
}

var difficultyNames = map[string]int{"易": 1, "容易": 1, "简单": 1, "较易": 2, "中": 3, "中等": 3, "一般": 3, "较难": 4, "难": 5, "困难": 5}

var (
	scoringPartial = "部分得分"
	scoringAll     = "全对得分"
)

// ParseXLSX reads an Excel workbook in the layout above, from the first sheet whose first row has
// 题型 and 题干 headers.
func ParseXLSX(r io.Reader) (*Result, error) {
	data, err := readLimited(r)
	if err != nil {
		return nil, err
	}
	// A zip bomb may claim anything: its directory is checked against the limits before inflating.
	f, err := limits.DefaultXLSX.OpenXLSX(data)
	if errors.Is(err, limits.ErrTooLarge) {
		return nil, at(ErrFileTooLarge, Place{}, err.Error())
	}
	if err != nil {
		return nil, at(ErrMalformed, Place{}, "not an .xlsx workbook: "+err.Error())
	}
	defer f.Close()
	res := &Result{Format: XLSX}
	for _, sheet := range f.GetSheetList() {
		found, err := parseSheet(f, sheet, res)
		if err != nil {
			return nil, err
		}
		if found {
			if len(res.Entries) == 0 {
				return nil, ErrEmptyFile
			}
			return res, nil
		}
	}
	return nil, at(ErrMalformed, Place{Element: "A1"}, "no sheet has 题型 and 题干 columns in its first row")
}

func parseSheet(f *excelize.File, sheet string, res *Result) (bool, error) {
	rows, err := f.Rows(sheet)
	if err != nil {
		return false, at(ErrMalformed, Place{Element: sheet}, err.Error())
	}
	defer rows.Close()
	var cols map[string]int
	var options []string // option headers in letter order
	row := 0
	for rows.Next() {
		row++
		if row > MaxRows+1 {
			return false, at(ErrFileTooLarge, Place{Element: sheet, Line: row}, fmt.Sprintf("more than %d rows", MaxRows))
		}
		cells, err := rows.Columns()
		if err != nil {
			return false, at(ErrMalformed, Place{Element: fmt.Sprintf("%s!A%d", sheet, row), Line: row}, err.Error())
		}
		if row == 1 {
			cols, options = xlsxHeader(cells)
			if _, ok := cols[colType]; !ok {
				return false, nil
			}
			if _, ok := cols[colStem]; !ok {
				return false, nil
			}
			continue
		}
		get := func(name string) string {
			if i, ok := cols[name]; ok && i < len(cells) {
				return strings.TrimSpace(cells[i])
			}
			return ""
		}
		blank := true
		for _, c := range cells {
			if strings.TrimSpace(c) != "" {
				blank = false
				break
			}
		}
		if blank {
			continue
		}
		var opts []string
		for _, h := range options {
			opts = append(opts, get(h))
		}
		for len(opts) > 0 && opts[len(opts)-1] == "" {
			opts = opts[:len(opts)-1]
		}
		place := Place{Line: row, Element: fmt.Sprintf("%s!%d", sheet, row)}
		if err := res.full(place); err != nil {
			return false, err
		}
		it, prob := xlsxItem(get, opts)
		if prob != nil {
			if i, ok := cols[prob.column]; ok {
				name, _ := excelize.CoordinatesToCellName(i+1, row)
				place.Element = sheet + "!" + name
			}
			res.add(it, place, prob.Problem)
			res.typed(clip(strings.TrimSpace(get(colType))))
			continue
		}
		res.add(it, place)
		res.typed(typeLabel[it.Type])
	}
	if err := rows.Error(); err != nil {
		return false, at(ErrMalformed, Place{Element: sheet, Line: row}, err.Error())
	}
	return row > 0 && cols != nil, nil
}

func xlsxHeader(cells []string) (map[string]int, []string) {
	cols := map[string]int{}
	letters := map[string]string{}
	for i, c := range cells {
		h := strings.ReplaceAll(strings.TrimSpace(c), " ", "")
		if a, ok := headerAliases[h]; ok {
			h = a
		}
		if rest, ok := strings.CutPrefix(h, optionPrefix); ok && len(rest) == 1 && rest[0] >= 'A' && rest[0] <= 'Z' {
			letters[rest] = h
		} else if len(h) == 1 && h[0] >= 'A' && h[0] <= 'Z' {
			letters[h] = optionPrefix + h // a bare "A", "B" … header is an option column too
			h = optionPrefix + h
		}
		if _, dup := cols[h]; !dup {
			cols[h] = i
		}
	}
	var options []string
	for l := byte('A'); l <= 'Z'; l++ {
		h, ok := letters[string(l)]
		if !ok {
			break
		}
		options = append(options, h)
	}
	return cols, options
}

type cellProblem struct {
	Problem
	column string
}

func xlsxItem(get func(string) string, opts []string) (Item, *cellProblem) {
	fail := func(col, key, format string, args ...any) *cellProblem {
		return &cellProblem{Problem{Key: key, Detail: fmt.Sprintf(format, args...)}, col}
	}
	it := Item{
		Stem: get(colStem), Format: Plain, Points: 1, Explanation: get(colExplanation), Title: get(colTitle),
		Category: splitPath(get(colCategory)), Tags: splitList(get(colTags)), Occupation: get(colOccupation),
	}
	label := strings.ReplaceAll(get(colType), " ", "")
	typ, ok := typeNames[label]
	if !ok {
		return it, fail(colType, keyXLSXTypeUnknown, "题型 %q is not known", clip(label))
	}
	it.Type = typ
	pointsGiven := false
	if p := get(colPoints); p != "" {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return it, fail(colPoints, keyXLSXBadPoints, "分值 %q is not a number", clip(p))
		}
		it.Points, pointsGiven = v, true
	}
	if d := get(colDifficulty); d != "" {
		if n, ok := difficultyNames[d]; ok {
			it.Difficulty = n
		} else if n, err := strconv.Atoi(d); err == nil {
			it.Difficulty = n
		} else {
			return it, fail(colDifficulty, keyXLSXBadDifficulty, "难度 %q is neither 1–5 nor 易/较易/中等/较难/难", clip(d))
		}
	}
	if l := get(colLevel); l != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSuffix(l, "级"), "级"))
		if err != nil {
			return it, fail(colLevel, keyXLSXBadLevel, "等级 %q is not 1–5", clip(l))
		}
		it.Level = n
	}
	answer := get(colAnswer)
	switch typ {
	case SingleChoice, MultipleChoice:
		weights, err := choiceWeights(answer, len(opts))
		if err != nil {
			return it, fail(colAnswer, keyXLSXBadAnswer, "%v", err)
		}
		it.Scoring = ""
		if typ == MultipleChoice {
			if it.Scoring, ok = xlsxScoring(get(colScoring)); !ok {
				return it, fail(colScoring, keyXLSXBadScoring, "计分方式 %q is neither %s nor %s", clip(get(colScoring)), scoringAll, scoringPartial)
			}
		}
		explicit := strings.Contains(answer, "%")
		correct := 0
		for _, w := range weights {
			if w > 0 {
				correct++
			}
		}
		for i, o := range opts {
			w := weights[i]
			if !explicit && correct > 0 {
				switch {
				case w > 0 && typ == MultipleChoice && it.Scoring == Partial:
					w = roundWeight(1 / float64(correct))
				case w > 0 && typ == MultipleChoice:
					w = 1
				case w == 0 && it.Scoring == Partial:
					w = -roundWeight(1 / float64(correct)) // guessing every option must not pay
				}
			}
			it.Choices = append(it.Choices, Option{Text: o, Weight: w})
		}
	case TrueFalse:
		switch strings.ToUpper(Normalize(answer)) {
		case "正确", "对", "√", "✓", "✔", "T", "TRUE", "是", "A", "Y":
			it.Truth = true
		case "错误", "错", "×", "✗", "✘", "X", "F", "FALSE", "否", "B", "N":
			it.Truth = false
		default:
			return it, fail(colAnswer, keyXLSXBadAnswer, "判断题 answer %q is neither 正确 nor 错误", clip(answer))
		}
	case FillBlank:
		for _, part := range splitAny(answer, ";；") {
			var b Blank
			for _, alt := range splitAny(part, "|｜") {
				w, text := weightPrefix(alt)
				if text != "" {
					b.Accepted = append(b.Accepted, Option{Text: text, Weight: w})
				}
			}
			it.Blanks = append(it.Blanks, b)
		}
	case Numeric:
		for _, part := range splitAny(answer, ";；") {
			w, spec := weightPrefix(part)
			n, err := xlsxNumber(spec)
			if err != nil {
				return it, fail(colAnswer, keyXLSXBadNumber, "%v", err)
			}
			n.Weight = w
			it.Numbers = append(it.Numbers, n)
		}
	case Ordering:
		// The options in their right order; the paper shuffles them.
		it.Sequence = opts
		if it.Scoring, ok = xlsxScoring(get(colScoring)); !ok {
			return it, fail(colScoring, keyXLSXBadScoring, "计分方式 %q is neither %s nor %s", clip(get(colScoring)), scoringAll, scoringPartial)
		}
	case Matching:
		for _, o := range opts {
			o = strings.ReplaceAll(o, "→", "->")
			left, right, ok := strings.Cut(o, "->")
			if !ok {
				return it, fail(optionPrefix+"A", keyXLSXBadAnswer, "匹配题 option %q has no ->", clip(o))
			}
			it.Pairs = append(it.Pairs, Pair{Left: strings.TrimSpace(left), Right: strings.TrimSpace(right)})
		}
	case Cloze:
		// The gaps are written in the 题干 in Moodle's syntax; the 答案 column is not used.
		stem, gaps, err := ParseCloze(it.Stem)
		if err != nil {
			var ce *ClozeError
			if errors.As(err, &ce) {
				return it, fail(colStem, ce.Key, "%s", ce.Error())
			}
			return it, fail(colStem, keyClozeSyntax, "%v", err)
		}
		it.Stem, it.Gaps = stem, gaps
		if !pointsGiven {
			it.Points = 0
			for _, g := range gaps {
				it.Points += g.Weight
			}
		}
	case Essay, Practical:
		rubric, ok := parseRubric(answer)
		switch {
		case ok:
			it.Rubric = rubric
			if !pointsGiven {
				it.Points = 0
				for _, c := range rubric {
					it.Points += c.Points
				}
			}
		case typ == Practical && answer != "":
			return it, fail(colAnswer, keyXLSXBadRubric, "实操题 answer lines must read 要点（N分）")
		case answer != "":
			it.Rubric = []Criterion{{Text: answer, Points: it.Points}}
		}
	}
	return it, nil
}

var (
	choiceToken  = regexp.MustCompile(`^([A-Z])(?:\((-?\d+(?:\.\d+)?)%\))?`)
	rubricLine   = regexp.MustCompile(`^(.*?)\((\d+(?:\.\d+)?)分\)$`)
	weightMarker = regexp.MustCompile(`^%(-?\d+(?:\.\d+)?)%`)
)

// choiceWeights reads "ABD" or "A(50%)B(50%)C(-100%)" into a weight per option.
// xlsxScoring reads the 计分方式 cell of a multiple-choice or ordering row; empty is all or nothing.
func xlsxScoring(s string) (Scoring, bool) {
	switch s {
	case "", scoringAll, "全部正确得分":
		return AllOrNothing, true
	case scoringPartial, "部分得分制":
		return Partial, true
	}
	return "", false
}

func choiceWeights(answer string, n int) ([]float64, error) {
	s := strings.ToUpper(Normalize(answer))
	s = strings.NewReplacer(",", "", "、", "", ";", "").Replace(s)
	if s == "" {
		return nil, fmt.Errorf("答案 is empty")
	}
	w := make([]float64, n)
	for s != "" {
		m := choiceToken.FindStringSubmatch(s)
		if m == nil {
			return nil, fmt.Errorf("答案 %q is not option letters", clip(answer))
		}
		i := int(m[1][0] - 'A')
		if i >= n {
			return nil, fmt.Errorf("答案 names option %s, which is empty", m[1])
		}
		w[i] = 1
		if m[2] != "" {
			v, _ := strconv.ParseFloat(m[2], 64)
			w[i] = roundWeight(v / 100)
		}
		s = s[len(m[0]):]
	}
	return w, nil
}

func weightPrefix(s string) (float64, string) {
	s = strings.TrimSpace(s)
	if m := weightMarker.FindStringSubmatch(s); m != nil {
		v, _ := strconv.ParseFloat(m[1], 64)
		return roundWeight(v / 100), strings.TrimSpace(s[len(m[0]):])
	}
	return 1, s
}

func xlsxNumber(spec string) (NumericAnswer, error) {
	s := Normalize(spec)
	bad := fmt.Errorf("数值 %q is not a number, a±tolerance or a range a~b", clip(spec))
	parse := func(x string) (float64, bool) {
		v, err := strconv.ParseFloat(x, 64)
		return v, err == nil
	}
	for _, sep := range []string{"±", "+-"} {
		if v, t, ok := strings.Cut(s, sep); ok {
			val, ok1 := parse(v)
			tol, ok2 := parse(t)
			if !ok1 || !ok2 {
				return NumericAnswer{}, bad
			}
			return NumericAnswer{Value: val, Tolerance: tol}, nil
		}
	}
	for _, sep := range []string{"~", ".."} {
		if lo, hi, ok := strings.Cut(s, sep); ok {
			a, ok1 := parse(lo)
			b, ok2 := parse(hi)
			if !ok1 || !ok2 || b < a {
				return NumericAnswer{}, bad
			}
			return NumericAnswer{Value: (a + b) / 2, Tolerance: (b - a) / 2}, nil
		}
	}
	v, ok := parse(s)
	if !ok {
		return NumericAnswer{}, bad
	}
	return NumericAnswer{Value: v}, nil
}

// parseRubric reads one "要点（2分）" per line; ok is false unless every non-empty line has points.
func parseRubric(s string) ([]Criterion, bool) {
	var out []Criterion
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		// Only the brackets are folded, so the criterion keeps the text as typed.
		folded := strings.NewReplacer("（", "(", "）", ")").Replace(line)
		m := rubricLine.FindStringSubmatch(folded)
		if m == nil {
			return nil, false
		}
		p, _ := strconv.ParseFloat(m[2], 64)
		text := strings.TrimSpace(m[1])
		out = append(out, Criterion{Text: text, Points: p})
	}
	return out, len(out) > 0
}

func splitAny(s, seps string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(seps, r) })
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func splitPath(s string) []string { return splitAny(s, "/／>＞") }

func splitList(s string) []string { return splitAny(s, ",，、;；") }

// xlsxColumns is the layout the exporter and the template write.
func xlsxColumns(options int) []string {
	cols := []string{colType, colStem}
	for i := 0; i < options; i++ {
		cols = append(cols, optionPrefix+string(rune('A'+i)))
	}
	return append(cols, colAnswer, colExplanation, colDifficulty, colCategory, colTags, colPoints, colTitle, colScoring, colOccupation, colLevel)
}

// WriteXLSX writes items in the Excel layout. The format is plain text: HTML is flattened, and answer
// feedback and images are not written.
func WriteXLSX(w io.Writer, items []Item) error {
	options := 6
	for _, it := range items {
		n := len(it.Choices)
		if it.Type == Matching {
			n = len(it.Pairs)
		}
		options = max(options, n, len(it.Sequence))
	}
	if options > 26 {
		return fmt.Errorf("an item has more than 26 options")
	}
	var rows [][]any
	for _, it := range items {
		rows = append(rows, xlsxRow(it, options))
	}
	return writeWorkbook(w, xlsxColumns(options), rows, false)
}

func xlsxRow(it Item, options int) []any {
	text := func(s string) string {
		if it.Format == HTML {
			return plainText(s)
		}
		return s
	}
	num := formatNumber
	pct := func(w float64) string { return formatNumber(roundWeight(w * 100)) }
	opts := make([]string, options)
	var answer, scoring string
	switch it.Type {
	case SingleChoice, MultipleChoice:
		explicit := it.Scoring == Partial
		for i, c := range it.Choices {
			opts[i] = text(c.Text)
			if c.Weight != 0 && c.Weight != 1 {
				explicit = true
			}
		}
		for i, c := range it.Choices {
			letter := string(rune('A' + i))
			switch {
			case explicit && c.Weight != 0:
				answer += letter + "(" + pct(c.Weight) + "%)"
			case !explicit && c.Weight > 0:
				answer += letter
			}
		}
		if it.Type == MultipleChoice {
			scoring = scoringAll
			if it.Scoring == Partial {
				scoring = scoringPartial
			}
		}
	case TrueFalse:
		answer = "错误"
		if it.Truth {
			answer = "正确"
		}
	case FillBlank:
		var blanks []string
		for _, b := range it.Blanks {
			var alts []string
			for _, a := range b.Accepted {
				if a.Weight != 1 {
					alts = append(alts, "%"+pct(a.Weight)+"%"+a.Text)
				} else {
					alts = append(alts, a.Text)
				}
			}
			blanks = append(blanks, strings.Join(alts, "|"))
		}
		answer = strings.Join(blanks, "；")
	case Numeric:
		var parts []string
		for _, n := range it.Numbers {
			p := num(n.Value)
			if n.Tolerance != 0 {
				p += "±" + num(n.Tolerance)
			}
			if n.Weight != 1 {
				p = "%" + pct(n.Weight) + "%" + p
			}
			parts = append(parts, p)
		}
		answer = strings.Join(parts, "；")
	case Matching:
		for i, p := range it.Pairs {
			opts[i] = strings.TrimSpace(text(p.Left) + " -> " + text(p.Right))
		}
	case Ordering:
		copy(opts, it.Sequence)
		scoring = scoringAll
		if it.Scoring == Partial {
			scoring = scoringPartial
		}
	case Essay, Practical:
		var lines []string
		for _, c := range it.Rubric {
			lines = append(lines, c.Text+"（"+num(c.Points)+"分）")
		}
		answer = strings.Join(lines, "\n")
	}
	difficulty, level := "", ""
	if it.Difficulty > 0 {
		difficulty = strconv.Itoa(it.Difficulty)
	}
	if it.Level > 0 {
		level = strconv.Itoa(it.Level)
	}
	stem := it.Stem
	if it.Type == Cloze {
		stem = ClozeText(it)
	}
	row := []any{typeLabel[it.Type], text(stem)}
	for _, o := range opts {
		row = append(row, o)
	}
	return append(row, answer, text(it.Explanation), difficulty, strings.Join(it.Category, "/"),
		strings.Join(it.Tags, "，"), num(it.Points), it.Title, scoring, it.Occupation, level)
}

func writeWorkbook(w io.Writer, header []string, rows [][]any, template bool) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheetName); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheetName)
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}})
	if err != nil {
		return err
	}
	if err := sw.SetColWidth(1, 1, 10); err != nil {
		return err
	}
	if err := sw.SetColWidth(2, 2, 50); err != nil {
		return err
	}
	if err := sw.SetColWidth(3, len(header), 16); err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	head := make([]any, len(header))
	for i, h := range header {
		head[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, r); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	if template {
		if err := addTemplateHelp(f); err != nil {
			return err
		}
	}
	return f.Write(w)
}

//go:embed seed/template_examples.tsv
var templateExamples string

//go:embed seed/template_help.tsv
var templateHelp string

// WriteXLSXTemplate writes the downloadable template: the header, one example row per type, a
// drop-down of 题型 values, and a sheet that explains how to fill each column.
func WriteXLSXTemplate(w io.Writer) error {
	header, rows := readTSV(templateExamples)
	return writeWorkbook(w, header, rows, true)
}

// readTSV reads tab-separated rows whose cells write a line break as \n; the first row is the header.
func readTSV(s string) (header []string, rows [][]any) {
	for i, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		cells := strings.Split(line, "\t")
		if i == 0 {
			header = cells
			continue
		}
		row := make([]any, len(cells))
		for j, c := range cells {
			row[j] = strings.ReplaceAll(c, `\n`, "\n")
		}
		rows = append(rows, row)
	}
	return header, rows
}

func addTemplateHelp(f *excelize.File) error {
	dv := excelize.NewDataValidation(true)
	dv.Sqref = fmt.Sprintf("A2:A%d", MaxRows+1)
	var labels []string
	for _, t := range Types {
		labels = append(labels, typeLabel[t])
	}
	if err := dv.SetDropList(labels); err != nil {
		return err
	}
	if err := f.AddDataValidation(sheetName, dv); err != nil {
		return err
	}
	if _, err := f.NewSheet(helpSheetName); err != nil {
		return err
	}
	if err := f.SetColWidth(helpSheetName, "A", "A", 14); err != nil {
		return err
	}
	if err := f.SetColWidth(helpSheetName, "B", "B", 90); err != nil {
		return err
	}
	header, rows := readTSV(templateHelp)
	rows = append([][]any{{header[0], header[1]}}, rows...)
	for i, r := range rows {
		if err := f.SetSheetRow(helpSheetName, fmt.Sprintf("A%d", i+1), &r); err != nil {
			return err
		}
	}
	return nil
}
