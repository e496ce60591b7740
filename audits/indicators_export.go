package audits

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/xuri/excelize/v2"

	"shanyu/internal/clock"
	"shanyu/internal/pdfdoc"
)

// IndicatorColumn is one column of the exported indicator table: its key (the JSON name, and the
// CSV heading) and its value, a number or empty where there is none (a share with nothing to share).
type IndicatorColumn struct {
	Key   string
	Value func(IndicatorRow) (float64, bool)
	Ratio bool // a share or rate between 0 and 1 (places per 1,000 is not)
}

func whole[T int | int64](f func(IndicatorRow) T) func(IndicatorRow) (float64, bool) {
	return func(r IndicatorRow) (float64, bool) { return float64(f(r)), true }
}

func maybe(f func(IndicatorRow) *float64) func(IndicatorRow) (float64, bool) {
	return func(r IndicatorRow) (float64, bool) {
		if v := f(r); v != nil {
			return *v, true
		}
		return 0, false
	}
}

// IndicatorColumns are every indicator after the region's code, name and level, in the table's order.
var IndicatorColumns = []IndicatorColumn{
	{Key: "population", Value: whole(func(r IndicatorRow) int64 { return r.Population })},
	{Key: "population_year", Value: func(r IndicatorRow) (float64, bool) { return float64(r.PopulationYear), r.PopulationYear != 0 }},
	{Key: "places", Value: whole(func(r IndicatorRow) int { return r.Places })},
	{Key: "puhui_places", Value: whole(func(r IndicatorRow) int { return r.PuhuiPlaces })},
	{Key: "places_per_1000", Value: maybe(func(r IndicatorRow) *float64 { return r.PlacesPer1000 })},
	{Key: "puhui_share", Value: maybe(func(r IndicatorRow) *float64 { return r.PuhuiShare }), Ratio: true},
	{Key: "townships", Value: whole(func(r IndicatorRow) int { return r.Townships })},
	{Key: "townships_covered", Value: whole(func(r IndicatorRow) int { return r.TownshipsCovered })},
	{Key: "township_coverage", Value: maybe(func(r IndicatorRow) *float64 { return r.TownshipCoverage }), Ratio: true},
	{Key: "institutions", Value: whole(func(r IndicatorRow) int { return r.Institutions })},
	{Key: "posts", Value: whole(func(r IndicatorRow) int { return r.Posts })},
	{Key: "posts_qualified", Value: whole(func(r IndicatorRow) int { return r.PostsQualified })},
	{Key: "qualified_ratio", Value: maybe(func(r IndicatorRow) *float64 { return r.QualifiedRatio }), Ratio: true},
	{Key: "certified_staff", Value: whole(func(r IndicatorRow) int { return r.CertifiedStaff })},
	{Key: "expiring_60d", Value: whole(func(r IndicatorRow) int { return r.Expiring60d })},
	{Key: "rounds_done", Value: whole(func(r IndicatorRow) int { return r.RoundsDone })},
	{Key: "inspections", Value: whole(func(r IndicatorRow) int { return r.Inspections })},
	{Key: "inspections_passed", Value: whole(func(r IndicatorRow) int { return r.InspectionsPassed })},
	{Key: "inspection_pass_rate", Value: maybe(func(r IndicatorRow) *float64 { return r.InspectionPassRate }), Ratio: true},
	{Key: "barred_on_rosters", Value: whole(func(r IndicatorRow) int { return r.BarredOnRosters })},
	{Key: "exam_sat", Value: whole(func(r IndicatorRow) int { return r.ExamSat })},
	{Key: "exam_passed", Value: whole(func(r IndicatorRow) int { return r.ExamPassed })},
	{Key: "exam_pass_rate", Value: maybe(func(r IndicatorRow) *float64 { return r.ExamPassRate }), Ratio: true},
}

// Cell is the column's value as the CSV writes it: whole numbers as they are, others to four
// decimals, nothing where there is no value.
func (c IndicatorColumn) Cell(r IndicatorRow) string {
	v, ok := c.Value(r)
	if !ok {
		return ""
	}
	if v == float64(int64(v)) && !c.Ratio && c.Key != "places_per_1000" {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

// Shown is the column's value for people: shares in whole percent, places per 1,000 to two decimals,
// a dash where there is no value.
func (c IndicatorColumn) Shown(r IndicatorRow) string {
	v, ok := c.Value(r)
	switch {
	case !ok:
		return "–"
	case c.Ratio:
		return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
	case c.Key == "places_per_1000":
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// ColumnByKey finds a column; ok is false for an unknown key.
func ColumnByKey(key string) (IndicatorColumn, bool) {
	for _, c := range IndicatorColumns {
		if c.Key == key {
			return c, true
		}
	}
	return IndicatorColumn{}, false
}

// SummaryLabels are the words of the one-page summary, in the reader's language: Words by key
// (title, region, year, as_of, target, demo, columns by IndicatorColumn key) and its formatter.
type SummaryLabels struct {
	Words map[string]string
	Times clock.Formatter
}

// summaryColumns are the summary table's columns after the region's name.
var summaryColumns = []string{"population", "places", "places_per_1000", "puhui_share", "township_coverage", "institutions",
	"qualified_ratio", "certified_staff", "expiring_60d", "inspection_pass_rate", "exam_pass_rate"}

// RenderIndicatorSummary lays out a printable one-page summary of a region: the headline
// indicators against the year's targets, then a table of the regions below it. A4 landscape, the
// font embedded and subset.
func RenderIndicatorSummary(font *pdfdoc.Font, t IndicatorTable, l SummaryLabels) ([]byte, error) {
	w := func(k string) string {
		if v, ok := l.Words[k]; ok {
			return v
		}
		return k
	}
	title := fmt.Sprintf("%s · %s", t.Region.Name, w("title"))
	sub := fmt.Sprintf("%s %d · %s %s", w("year"), t.Year, w("as_of"), l.Times.DateTime(t.AsOf))
	if t.Region.PopulationDemo {
		sub += " · " + w("demo")
	}
	type headline struct {
		key    string
		target float64
	}
	heads := []headline{{"places_per_1000", t.Targets.PlacesPer1000}, {"puhui_share", t.Targets.PuhuiShare},
		{"township_coverage", t.Targets.TownshipCoverage}, {"qualified_ratio", t.Targets.QualifiedRatio}}
	var cells [][]string
	head := []string{w("region")}
	for _, k := range summaryColumns {
		head = append(head, w(k))
	}
	cells = append(cells, head)
	for _, r := range append([]IndicatorRow{t.Region}, t.Rows...) {
		line := []string{r.Name}
		for _, k := range summaryColumns {
			c, _ := ColumnByKey(k)
			line = append(line, c.Shown(r))
		}
		cells = append(cells, line)
	}
	var headLines []string
	for _, h := range heads {
		c, _ := ColumnByKey(h.key)
		target := IndicatorRow{}
		want := c.Shown(withValue(target, h.key, h.target))
		headLines = append(headLines, fmt.Sprintf("%s: %s  (%s %s)", w(h.key), c.Shown(t.Region), w("target"), want))
	}
	runes := []rune(title + sub + " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~–·（）")
	for _, x := range headLines {
		runes = append(runes, []rune(x)...)
	}
	for _, line := range cells {
		for _, x := range line {
			runes = append(runes, []rune(x)...)
		}
	}
	subset, err := font.Subset(runes)
	if err != nil {
		return nil, err
	}
	pdf := pdfdoc.NewDocument("L", t.AsOf.UTC(), "Shanyu", "Indicators "+t.Region.Code)
	p := pdfdoc.NewPage(pdf, font, subset)
	pdf.AddPage()
	p.Ink([3]int{34, 30, 28})
	const left, right = 14.0, 283.0
	p.Fit(title, 18, right-left)
	p.Text(left, 20, title)
	p.Size(9.5)
	p.Ink([3]int{90, 84, 80})
	p.Text(left, 27, sub)
	p.Ink([3]int{34, 30, 28})
	y := 38.0
	p.Size(11)
	for _, x := range headLines {
		p.Text(left, y, x)
		y += 6.5
	}
	y += 4
	// The table: the name column wider, the others equal; the region's own row first, shaded.
	nameW := 34.0
	colW := (right - left - nameW) / float64(len(summaryColumns))
	rowH := 7.0
	maxRows := int((200 - y) / rowH)
	for i, line := range cells {
		if i > maxRows {
			break // a page, always: a region has at most a few dozen children
		}
		if i == 1 {
			p.Fill([3]int{238, 234, 228})
			pdf.Rect(left, y-4.8, right-left, rowH, "F")
		}
		x := left
		for j, v := range line {
			cw := colW
			if j == 0 {
				cw = nameW
			}
			p.Fit(v, 8.5, cw-1.5)
			if j == 0 {
				p.Text(x, y, v)
			} else {
				p.Text(x+cw-1.5-p.Width(v), y, v)
			}
			x += cw
		}
		p.Draw([3]int{200, 194, 186})
		pdf.Line(left, y+2.2, right, y+2.2)
		y += rowH
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	if err := pdf.Error(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("write pdf: %w", err)
	}
	return pdfdoc.TagSubset(buf.Bytes(), subset), nil
}

// withValue is a row whose indicator key has value v (to show a target as its indicator is shown).
func withValue(r IndicatorRow, key string, v float64) IndicatorRow {
	switch key {
	case "places_per_1000":
		r.PlacesPer1000 = &v
	case "puhui_share":
		r.PuhuiShare = &v
	case "township_coverage":
		r.TownshipCoverage = &v
	case "qualified_ratio":
		r.QualifiedRatio = &v
	}
	return r
}

// IndicatorsXLSX is the indicator table as a workbook: a row of headings in the reader's language
// (headings by key; code, name, level and the IndicatorColumns keys), then one row per region, numbers
// as numbers (shares as fractions, formatted as percent).
func IndicatorsXLSX(rows []IndicatorRow, headings map[string]string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	pct, err := f.NewStyle(&excelize.Style{NumFmt: 10}) // 0.00%
	if err != nil {
		return nil, err
	}
	dec, err := f.NewStyle(&excelize.Style{NumFmt: 2}) // 0.00
	if err != nil {
		return nil, err
	}
	head := []any{headings["code"], headings["name"], headings["level"]}
	for _, c := range IndicatorColumns {
		head = append(head, headings[c.Key])
	}
	if err := f.SetSheetRow(sheet, "A1", &head); err != nil {
		return nil, err
	}
	for i, r := range rows {
		line := []any{r.Code, r.Name, headings["level."+r.Level]}
		for _, c := range IndicatorColumns {
			if v, ok := c.Value(r); ok {
				line = append(line, v)
			} else {
				line = append(line, nil)
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := f.SetSheetRow(sheet, cell, &line); err != nil {
			return nil, err
		}
	}
	for j, c := range IndicatorColumns {
		style := 0
		switch {
		case c.Ratio:
			style = pct
		case c.Key == "places_per_1000":
			style = dec
		default:
			continue
		}
		col, _ := excelize.ColumnNumberToName(j + 4)
		if err := f.SetCellStyle(sheet, col+"2", fmt.Sprintf("%s%d", col, len(rows)+1), style); err != nil {
			return nil, err
		}
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, XSplit: 2, YSplit: 1, TopLeftCell: "C2", ActivePane: "bottomRight"}); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
