// Package limits holds the bounds that every reader of uploaded data shares, and the checks that
// enforce them before anything is inflated or allocated: an .xlsx is a zip, and a zip may claim to
// hold gigabytes in a few hundred kilobytes. It knows nothing of HTTP or of any domain; callers turn
// its errors into their own.
package limits

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"
)

// XLSX bounds what opening a workbook may inflate. excelize reads every part of the zip into memory
// except worksheets larger than XMLInMemory, which it spills to a temporary file and streams; so the
// memory an open workbook holds is at most about Total, and the rows are then read one at a time.
type XLSX struct {
	Total       int64 // all parts together, uncompressed
	Part        int64 // any single part other than a worksheet or the shared strings
	Sheet       int64 // one worksheet
	Strings     int64 // the shared strings table (read whole into memory by excelize)
	Entries     int   // files in the zip
	XMLInMemory int64 // worksheets above this are streamed from a temporary file
}

// DefaultXLSX fits the largest workbook a person fills in by hand (tens of thousands of rows).
var DefaultXLSX = XLSX{Total: 96 << 20, Part: 8 << 20, Sheet: 64 << 20, Strings: 32 << 20, Entries: 256, XMLInMemory: 8 << 20}

// ErrTooLarge says an upload is over one of its limits; the wrapped text says which.
var ErrTooLarge = errors.New("over the size limits")

// ErrNotZip says an .xlsx is not a zip at all.
var ErrNotZip = errors.New("not a zip archive")

// CheckZip reads only the zip's directory and refuses it when what it declares is over the limits.
// archive/zip then refuses any entry that inflates to more than it declared, so the declared sizes
// bound the real ones.
func (l XLSX) CheckZip(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotZip, err)
	}
	if len(zr.File) > l.Entries {
		return fmt.Errorf("%w: %d files in the workbook, at most %d", ErrTooLarge, len(zr.File), l.Entries)
	}
	var total uint64
	for _, f := range zr.File {
		limit := l.Part
		name := strings.ToLower(f.Name)
		switch {
		case strings.HasPrefix(name, "xl/worksheets/") && strings.HasSuffix(name, ".xml"):
			limit = l.Sheet
		case name == "xl/sharedstrings.xml":
			limit = l.Strings
		}
		if f.UncompressedSize64 > uint64(limit) {
			return fmt.Errorf("%w: %s inflates to %d bytes, at most %d", ErrTooLarge, f.Name, f.UncompressedSize64, limit)
		}
		total += f.UncompressedSize64
		if total > uint64(l.Total) {
			return fmt.Errorf("%w: the workbook inflates to more than %d bytes", ErrTooLarge, l.Total)
		}
	}
	return nil
}

// OpenXLSX checks the zip's directory against the limits and only then opens the workbook, with
// excelize's own limits set to the same bounds (so a part that lies about its size fails too).
func (l XLSX) OpenXLSX(data []byte) (*excelize.File, error) {
	if err := l.CheckZip(data); err != nil {
		return nil, err
	}
	return excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: l.Total, UnzipXMLSizeLimit: l.XMLInMemory})
}

// Text bounds a text cell or field: longer ones are refused, not cut.
const Text = 64 << 10
