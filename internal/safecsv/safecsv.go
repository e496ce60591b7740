// Package safecsv writes CSV that is safe to open in a spreadsheet: a cell that a spreadsheet would
// read as a formula (it starts with =, +, -, @, a tab or a carriage return) is prefixed with a single
// quote, as OWASP's CSV injection guidance says. Plain numbers, negative ones included, are left as
// they are. It wraps encoding/csv and knows nothing of what the rows mean.
package safecsv

import (
	"encoding/csv"
	"io"
	"strconv"
)

// Writer is a csv.Writer whose cells are escaped.
type Writer struct {
	*csv.Writer
	row []string
}

// NewWriter writes escaped CSV to w.
func NewWriter(w io.Writer) *Writer { return &Writer{Writer: csv.NewWriter(w)} }

// Write writes one row, escaping each cell.
func (w *Writer) Write(record []string) error {
	w.row = w.row[:0]
	for _, c := range record {
		w.row = append(w.row, Cell(c))
	}
	return w.Writer.Write(w.row)
}

// Cell is the escaped form of one cell.
func Cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if _, err := strconv.ParseFloat(s, 64); err == nil && s[0] != '=' && s[0] != '@' && s[0] != '\t' && s[0] != '\r' {
			return s // "-3.5" is a number, not a formula
		}
		return "'" + s
	}
	return s
}
