package curriculum

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/jung-kurt/gofpdf"

	"shanyu/internal/clock"
	"shanyu/internal/safecsv"
)

// TranscriptLabels are the translated words of a transcript; the caller picks the language.
type TranscriptLabels struct {
	Title, Holder, Period, Generated, Total string
	Date, Kind, Source, Occupation, Hours   string
	Note                                    string
	Kinds                                   map[string]string // lesson, session, correction
	Footer                                  string
	Times                                   clock.Formatter // how dates and times are shown in the caller's language
}

func (l TranscriptLabels) kind(k string) string {
	if v, ok := l.Kinds[k]; ok {
		return v
	}
	return k
}

func hoursString(h float64) string { return strconv.FormatFloat(h, 'f', -1, 64) }

func (s *Service) occupationLabel(code string, level int) string {
	if zh, _, err := s.opts.Levels(code, level); err == nil {
		return zh
	}
	return fmt.Sprintf("%s/%d", code, level)
}

// TranscriptCSV writes a hours report as CSV (UTF-8 with a byte-order mark, so spreadsheet programs
// read the Chinese correctly).
func (s *Service) TranscriptCSV(r HoursReport, l TranscriptLabels) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("\uFEFF")
	w := safecsv.NewWriter(&buf)
	w.Write([]string{l.Date, l.Kind, l.Source, l.Occupation, l.Hours, l.Note}) //nolint:errcheck
	for _, e := range r.Entries {
		w.Write([]string{clock.Format(e.EarnedAt, "2006-01-02 15:04"), l.kind(e.Kind), e.Source(), //nolint:errcheck
			s.occupationLabel(e.OccupationCode, e.Level), hoursString(e.Hours), e.Reason})
	}
	w.Write([]string{l.Total, "", "", "", hoursString(r.Total), ""}) //nolint:errcheck
	w.Flush()
	return buf.Bytes(), w.Error()
}

// TranscriptPDF prints a hours report as an A4 transcript with the CJK font, subset to the text used.
func (s *Service) TranscriptPDF(holder string, r HoursReport, l TranscriptLabels) ([]byte, error) {
	// The period printed is what the report covers: an open-ended one (the default is everything) is
	// narrowed to the first entry and today, so that it never reads 2000–2099.
	from, to := r.From, r.To.Add(-time.Second)
	if len(r.Entries) > 0 {
		first := r.Entries[0].EarnedAt
		for _, e := range r.Entries {
			if e.EarnedAt.Before(first) {
				first = e.EarnedAt
			}
		}
		if first.After(from) {
			from = first
		}
	}
	if n := s.now(); n.Before(to) {
		to = n
	}
	if to.Before(from) {
		from = to
	}
	font, err := s.loadFont()
	if err != nil {
		return nil, fmt.Errorf("transcript font: %w", err)
	}
	now := s.now()
	period := fmt.Sprintf("%s – %s", l.Times.Day(from), l.Times.Day(to))
	type row struct{ date, kind, source, occ, hours, note string }
	rows := make([]row, 0, len(r.Entries))
	texts := []string{l.Title, l.Holder, l.Period, l.Generated, l.Total, l.Date, l.Kind, l.Source, l.Occupation, l.Hours, l.Note, l.Footer,
		holder, period, l.Times.DateTime(now), hoursString(r.Total),
		" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~–…"}
	for _, e := range r.Entries {
		x := row{l.Times.Day(e.EarnedAt), l.kind(e.Kind), e.Source(), s.occupationLabel(e.OccupationCode, e.Level), hoursString(e.Hours), e.Reason}
		rows = append(rows, x)
		texts = append(texts, x.kind, x.source, x.occ, x.note)
	}
	var runes []rune
	for _, t := range texts {
		runes = append(runes, []rune(t)...)
	}
	subset, err := font.Subset(runes)
	if err != nil {
		return nil, err
	}
	pdf := gofpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(now)
	pdf.SetTitle(l.Title, true)
	pdf.SetMargins(15, 15, 15)
	pdf.SetAutoPageBreak(true, 15)
	pdf.AddUTF8FontFromBytes("cjk", "", subset)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont("cjk", "", 8)
		pdf.CellFormat(0, 5, fmt.Sprintf("%s · %d", l.Footer, pdf.PageNo()), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()
	pdf.SetFont("cjk", "", 18)
	pdf.CellFormat(0, 12, l.Title, "", 1, "C", false, 0, "")
	pdf.SetFont("cjk", "", 11)
	for _, kv := range [][2]string{{l.Holder, holder}, {l.Period, period}, {l.Generated, l.Times.DateTime(now)}, {l.Total, hoursString(r.Total)}} {
		pdf.CellFormat(30, 7, kv[0], "", 0, "", false, 0, "")
		pdf.CellFormat(0, 7, kv[1], "", 1, "", false, 0, "")
	}
	pdf.Ln(4)
	widths := []float64{24, 18, 62, 38, 14, 24}
	pdf.SetFont("cjk", "", 9)
	pdf.SetFillColor(235, 240, 245)
	for i, h := range []string{l.Date, l.Kind, l.Source, l.Occupation, l.Hours, l.Note} {
		pdf.CellFormat(widths[i], 8, h, "1", 0, "C", true, 0, "")
	}
	pdf.Ln(-1)
	fit := func(text string, w float64) string {
		for pdf.GetStringWidth(text) > w-2 && len([]rune(text)) > 1 {
			rs := []rune(text)
			text = string(rs[:len(rs)-2]) + "…"
		}
		return text
	}
	for _, x := range rows {
		for i, v := range []string{x.date, x.kind, x.source, x.occ, x.hours, x.note} {
			align := "L"
			if i == 4 {
				align = "R"
			}
			pdf.CellFormat(widths[i], 7, fit(v, widths[i]), "1", 0, align, false, 0, "")
		}
		pdf.Ln(-1)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
