package bank

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"

	"shanyu/internal/failure"
	"shanyu/internal/limits"
)

// Format is a file format the bank imports or exports.
type Format string

const (
	GIFT      Format = "gift"
	MoodleXML Format = "moodlexml"
	XLSX      Format = "xlsx"
)

// ParseFormat checks a format name given by a user.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case GIFT, MoodleXML, XLSX, QTI:
		return f, nil
	}
	return "", ErrFormatUnknown
}

// DetectFormat tells the format from a file's first bytes: a zip (an Excel workbook), XML (Moodle
// XML), otherwise text (GIFT). It is how an import knows what it was given whatever the form said.
func DetectFormat(data []byte) Format {
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		if isQTIPackage(data) {
			return QTI
		}
		return XLSX
	}
	text := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	if bytes.HasPrefix(text, []byte("<")) {
		if isQTIItem(text) {
			return QTI
		}
		return MoodleXML
	}
	return GIFT
}

// Bounds of an import, checked while the file is read so that a hostile upload cannot exhaust memory:
// the file's size, the questions in it, the length of any one text and the size of a picture.
const (
	MaxFileSize  = 20 << 20
	MaxItems     = 20000
	MaxTextBytes = limits.Text
	MaxImageSize = 2 << 20
	MaxImages    = 16 // per question
	maxXMLDepth  = 64
)

// Place says where in a file something was found: a line (GIFT, XML), an element (XML
// "question[3]") or a cell ("Sheet1!B7" with the row as Line).
type Place struct {
	Line    int    `json:"line,omitempty"`
	Element string `json:"element,omitempty"`
}

func (p Place) String() string {
	switch {
	case p.Line > 0 && p.Element != "":
		return p.Element + " (line " + strconv.Itoa(p.Line) + ")"
	case p.Line > 0:
		return "line " + strconv.Itoa(p.Line)
	}
	return p.Element
}

// Problem is why an item of a file cannot be imported: a translation key and, for logs and the CLI,
// an English detail.
type Problem struct {
	Key    string `json:"key"`
	Detail string `json:"detail,omitempty"`
	Args   []any  `json:"-"` // for the translated message, e.g. the question and the value at fault
}

// Entry is one item read from a file, where it was, and what is wrong with it (nothing when it can be
// imported).
type Entry struct {
	Item     Item
	At       Place
	Problems []Problem
	// SourceType is the question's type as the file names it (Moodle's type attribute, the 题型
	// cell), so that a skipped question can be named by it.
	SourceType string
	// Origin is the content hash an export recorded for the question (Moodle XML's idnumber): a
	// question exported from a bank and imported back is recognised by it even when the trip through
	// another system changed its text.
	Origin string
}

// OK reports whether the entry can be imported.
func (e Entry) OK() bool { return len(e.Problems) == 0 }

// Result is everything a parser read from a file.
type Result struct {
	Format  Format
	Entries []Entry
}

// Items returns the items that can be imported.
func (r *Result) Items() []Item {
	var out []Item
	for _, e := range r.Entries {
		if e.OK() {
			out = append(out, e.Item)
		}
	}
	return out
}

// full refuses the file once it holds more questions than an import takes.
func (r *Result) full(p Place) error {
	if len(r.Entries) >= MaxItems {
		return at(ErrTooManyItems, p, fmt.Sprintf("more than %d questions", MaxItems))
	}
	return nil
}

// add appends an entry, checking the item unless the parser already found problems.
func (r *Result) add(it Item, at Place, problems ...Problem) {
	if len(problems) == 0 {
		for _, k := range it.Check() {
			problems = append(problems, Problem{Key: k})
		}
	}
	r.Entries = append(r.Entries, Entry{Item: it, At: at, Problems: problems})
}

// typed names the source type of the entry added last.
func (r *Result) typed(t string) { r.Entries[len(r.Entries)-1].SourceType = t }

// Errors of whole files and formats.
var (
	ErrFormatUnknown = failure.New(failure.Invalid, "bank.import.format_unknown")
	ErrFileTooLarge  = failure.New(failure.Invalid, "bank.import.too_large", MaxFileSize>>20)
	ErrNotUTF8       = failure.New(failure.Invalid, "bank.import.not_utf8")
	ErrMalformed     = failure.New(failure.Invalid, "bank.import.malformed")
	ErrUnsafeXML     = failure.New(failure.Invalid, "bank.import.unsafe_xml")
	ErrTypeUnknown   = failure.New(failure.Invalid, "bank.import.type_unknown")
	ErrEmptyFile     = failure.New(failure.Invalid, "bank.import.empty")
	ErrTooManyItems  = failure.New(failure.Invalid, "bank.import.too_many", MaxItems)
)

// at returns a copy of a file error that names the place, for the user and for the log.
func at(sentinel *failure.Error, p Place, detail string) error {
	e := sentinel.Wrap(errors.New(p.String() + ": " + detail))
	e.Msg.Args = []any{p.String()}
	return e
}

// readLimited reads all of r, refusing more than MaxFileSize bytes.
func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read file: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, ErrFileTooLarge
	}
	return data, nil
}

// readText reads a text file: limited, UTF-8 (a BOM is dropped), with Unix line ends.
func readText(r io.Reader) (string, error) {
	data, err := readLimited(r)
	if err != nil {
		return "", err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:invalidUTF8At(data)], []byte("\n"))
		return "", at(ErrNotUTF8, Place{Line: line}, "invalid UTF-8")
	}
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n"), nil
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// Parse reads a file in the given format.
func Parse(f Format, r io.Reader) (*Result, error) {
	switch f {
	case GIFT:
		return ParseGIFT(r)
	case MoodleXML:
		return ParseMoodleXML(r)
	case XLSX:
		return ParseXLSX(r)
	case QTI:
		return ParseQTI(r)
	}
	return nil, ErrFormatUnknown
}

// sanitizer keeps the HTML a question needs (formatting, tables, images) and drops scripts, styles,
// event handlers and javascript: links. A bluemonday policy is safe for concurrent use.
var sanitizer = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowDataURIImages()
	return p
}()

// SanitizeHTML returns a safe HTML fragment.
func SanitizeHTML(s string) string { return strings.TrimSpace(sanitizer.Sanitize(s)) }
