package bank

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
)

// Moodle XML: a <quiz> of <question type="…"> elements; <question type="category"> records set the
// category of the questions after them. Metadata Moodle has no place for (difficulty, occupation,
// level, rubric, practical tasks, several blanks, all-or-nothing scoring) travels in a <shanyu>
// element inside the question, which Moodle ignores on import.

const (
	keyMoodleUnsupported = "bank.moodle.type_unsupported"
	keyMoodleBadFile     = "bank.moodle.bad_file"
	keyMoodleBadNumber   = "bank.moodle.bad_number"
	keyMoodleFraction    = "bank.moodle.fraction"
	keyMoodleUnknown     = "bank.moodle.type_unknown"
	keyImageType         = "bank.item.image_type"
)

// Moodle question types that exist but that the bank does not hold; they are skipped with a reason
// instead of failing the whole file.
var moodleUnsupported = map[string]bool{
	"description": true, "calculated": true, "calculatedsimple": true,
	"calculatedmulti": true, "ddwtos": true, "ddimageortext": true, "ddmarker": true, "gapselect": true,
	"randomsamatch": true, "random": true, "gapfill": true, "wordselect": true,
}

type mxText struct {
	Format string   `xml:"format,attr,omitempty"`
	Text   string   `xml:"text"`
	Files  []mxFile `xml:"file,omitempty"`
}

type mxFile struct {
	Name     string `xml:"name,attr"`
	Path     string `xml:"path,attr"`
	Encoding string `xml:"encoding,attr"`
	Data     string `xml:",chardata"`
}

type mxAnswer struct {
	Fraction  string  `xml:"fraction,attr"`
	Format    string  `xml:"format,attr,omitempty"`
	Text      string  `xml:"text"`
	Feedback  *mxText `xml:"feedback,omitempty"`
	Tolerance string  `xml:"tolerance,omitempty"`
}

type mxSub struct {
	Format string `xml:"format,attr,omitempty"`
	Text   string `xml:"text"`
	Answer struct {
		Text string `xml:"text"`
	} `xml:"answer"`
}

type mxTag struct {
	Text string `xml:"text"`
}

type mxCriterion struct {
	Points float64 `xml:"points,attr"`
	Text   string  `xml:",chardata"`
}

type mxBlank struct {
	Answers []mxAnswer `xml:"answer"`
}

type mxShanyu struct {
	Type       string        `xml:"type,attr,omitempty"`
	Scoring    string        `xml:"scoring,attr,omitempty"`
	Difficulty int           `xml:"difficulty,attr,omitempty"`
	Occupation string        `xml:"occupation,attr,omitempty"`
	Level      int           `xml:"level,attr,omitempty"`
	Criteria   []mxCriterion `xml:"criterion,omitempty"`
	Blanks     []mxBlank     `xml:"blank,omitempty"`
}

type mxQuestion struct {
	XMLName  xml.Name `xml:"question"`
	Type     string   `xml:"type,attr"`
	Category *mxTag   `xml:"category,omitempty"`
	Name     *mxTag   `xml:"name,omitempty"`
	IDNumber string   `xml:"idnumber,omitempty"`

	QuestionText    *mxText    `xml:"questiontext,omitempty"`
	GeneralFeedback *mxText    `xml:"generalfeedback,omitempty"`
	DefaultGrade    string     `xml:"defaultgrade,omitempty"`
	Single          string     `xml:"single,omitempty"`
	Shuffle         string     `xml:"shuffleanswers,omitempty"`
	Numbering       string     `xml:"answernumbering,omitempty"`
	UseCase         string     `xml:"usecase,omitempty"`
	ResponseFormat  string     `xml:"responseformat,omitempty"`
	GraderInfo      *mxText    `xml:"graderinfo,omitempty"`
	Answers         []mxAnswer `xml:"answer"`
	Subquestions    []mxSub    `xml:"subquestion"`
	Tags            []mxTag    `xml:"tags>tag,omitempty"`
	Shanyu          *mxShanyu  `xml:"shanyu,omitempty"`

	// qtype_ordering (a plugin, in the standard distribution since Moodle 4.4): the answers' fractions
	// are their places, 1 to n.
	SelectType  string `xml:"selecttype,omitempty"`
	SelectCount string `xml:"selectcount,omitempty"`
	GradingType string `xml:"gradingtype,omitempty"`
}

// ParseMoodleXML reads a Moodle XML file. Whole-file faults (too large, not UTF-8, a DOCTYPE, broken or
// truncated XML, a question type that does not exist) fail the whole file with the place named;
// faults of single questions skip them.
func ParseMoodleXML(r io.Reader) (*Result, error) {
	data, err := readLimited(r)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:invalidUTF8At(data)], []byte("\n"))
		return nil, at(ErrNotUTF8, Place{Line: line}, "invalid UTF-8")
	}
	if err := checkXMLDepth(data); err != nil {
		return nil, err
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true // unknown entities are errors, never expanded
	res := &Result{Format: MoodleXML}
	var (
		category []string
		n        int
		depth    int
		sawQuiz  bool
	)
	for {
		line, _ := dec.InputPos()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			line, _ = dec.InputPos()
			return nil, at(ErrMalformed, Place{Line: line}, err.Error())
		}
		switch t := tok.(type) {
		case xml.Directive:
			// DOCTYPE and ENTITY declarations are how entity-expansion attacks start; a question
			// file never needs them.
			return nil, at(ErrUnsafeXML, Place{Line: line}, "DOCTYPE or ENTITY declarations are not allowed")
		case xml.StartElement:
			if depth == 0 {
				if t.Name.Local != "quiz" {
					return nil, at(ErrMalformed, Place{Line: line, Element: t.Name.Local}, "the root element must be <quiz>")
				}
				sawQuiz = true
				depth++
				continue
			}
			if t.Name.Local != "question" {
				if err := dec.Skip(); err != nil {
					l, _ := dec.InputPos()
					return nil, at(ErrMalformed, Place{Line: l}, err.Error())
				}
				continue
			}
			n++
			startLine, _ := dec.InputPos()
			place := Place{Line: startLine, Element: fmt.Sprintf("question[%d]", n)}
			if err := res.full(place); err != nil {
				return nil, err
			}
			var q mxQuestion
			if err := dec.DecodeElement(&q, &t); err != nil {
				l, _ := dec.InputPos()
				return nil, at(ErrMalformed, Place{Line: l, Element: place.Element}, err.Error())
			}
			switch {
			case q.Type == "category":
				if q.Category != nil {
					category = categoryPath(q.Category.Text)
				}
			case moodleUnsupported[q.Type]:
				res.add(Item{Stem: plainText(textOf(q.QuestionText)), Category: category}, place,
					Problem{Key: keyMoodleUnsupported, Detail: "question type " + q.Type + " is not supported"})
				res.typed(q.Type)
			default:
				it, problem, known := moodleItem(q)
				if !known {
					// A type from a plugin this bank has never heard of: skipped like the known
					// unsupported ones, so that the rest of the file still imports.
					res.add(Item{Stem: plainText(textOf(q.QuestionText)), Category: category}, place,
						Problem{Key: keyMoodleUnknown, Detail: fmt.Sprintf("unknown question type %q", clip(q.Type))})
					res.typed(clip(q.Type))
					continue
				}
				it.Category = category
				if problem != nil {
					res.add(it, place, *problem)
				} else {
					res.add(it, place)
				}
				res.typed(q.Type)
				if o := strings.TrimPrefix(strings.TrimSpace(q.IDNumber), idNumberPrefix); o != q.IDNumber && isHash(o) {
					res.Entries[len(res.Entries)-1].Origin = o
				}
			}
		case xml.EndElement:
			depth--
		}
	}
	if !sawQuiz {
		return nil, at(ErrMalformed, Place{Line: 1}, "no <quiz> element")
	}
	if depth != 0 {
		l, _ := dec.InputPos()
		return nil, at(ErrMalformed, Place{Line: l}, "the file ends inside <quiz>")
	}
	if len(res.Entries) == 0 {
		return nil, ErrEmptyFile
	}
	return res, nil
}

// checkXMLDepth walks the file's tokens once, keeping nothing, and refuses nesting deeper than any
// question file needs before the real decoder builds structures from it.
func checkXMLDepth(data []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	depth := 0
	for {
		tok, err := dec.RawToken()
		if err != nil {
			return nil // EOF, or a syntax error the real parse reports with its place
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth++; depth > maxXMLDepth {
				line, _ := dec.InputPos()
				return at(ErrMalformed, Place{Line: line}, fmt.Sprintf("elements nested deeper than %d", maxXMLDepth))
			}
		case xml.EndElement:
			depth--
		}
	}
}

func textOf(t *mxText) string {
	if t == nil {
		return ""
	}
	return t.Text
}

var stripper = bluemonday.StrictPolicy()

// moodleText converts a text element into the item's format.
func moodleText(s, format string, want TextFormat) string {
	isHTML := format == "" || format == "html" // Moodle's default for question text is HTML
	switch {
	case want == HTML && isHTML:
		return SanitizeHTML(s)
	case want == HTML:
		return html.EscapeString(strings.TrimSpace(s))
	case isHTML:
		return strings.TrimSpace(html.UnescapeString(stripper.Sanitize(s)))
	}
	return strings.TrimSpace(s)
}

func plainText(s string) string { return moodleText(s, "html", Plain) }

// PlainText is an HTML fragment's text, for lists and previews.
func PlainText(s string) string { return plainText(s) }

// moodleFractions are the grades Moodle offers for an answer (question_bank::fraction_options_full),
// in percent; their negatives are allowed too.
var moodleFractions = []float64{100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, 40, 33.33333, 30, 25, 20,
	16.66667, 14.28571, 12.5, 11.11111, 10, 5, 0}

// fraction reads a Moodle percentage ("100", "-33.33333") as a weight. Moodle refuses a file whose
// grade is not one of its list, allowing 0.00001 of a fraction (0.001 percent) either side
// (match_grade_options): 33.333 is a third, 33.3 or 33 is an error. The weight is the list's value,
// so that an export read back gives the same number.
func fraction(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("fraction %q is not a number", clip(s))
	}
	for _, v := range moodleFractions {
		for _, allowed := range []float64{v, -v} {
			if math.Abs(f-allowed) < 0.001 {
				return roundWeight(allowed / 100), nil
			}
		}
	}
	return 0, &fractionError{Value: strings.TrimSpace(s)}
}

// fractionError is a grade Moodle does not offer.
type fractionError struct{ Value string }

func (e *fractionError) Error() string {
	return fmt.Sprintf("fraction %s is not one of Moodle's grades (100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, 40, 33.33333, 30, 25, 20, 16.66667, 14.28571, 12.5, 11.11111, 10, 5, 0 or their negatives)", clip(e.Value))
}

// fractionProblem names the question and the value of a fraction Moodle would refuse.
func fractionProblem(q mxQuestion, err error) *Problem {
	var fe *fractionError
	if !errors.As(err, &fe) {
		return &Problem{Key: keyWeightRange, Detail: err.Error()}
	}
	name := ""
	if q.Name != nil {
		name = plainText(q.Name.Text)
	}
	if name == "" {
		name = clip(plainText(textOf(q.QuestionText)))
	}
	return &Problem{Key: keyMoodleFraction, Detail: fmt.Sprintf("%s: %s", clip(name), err.Error()), Args: []any{clip(name), clip(fe.Value)}}
}

// nearestFraction is the grade of Moodle's list nearest a weight (match_grade_options "nearest").
func nearestFraction(w float64) float64 {
	best, mismatch := 0.0, math.Inf(1)
	for _, v := range moodleFractions {
		if d := math.Abs(w*100 - v); d < mismatch {
			best, mismatch = v/100, d
		}
	}
	return best
}

// idNumberPrefix marks the idnumber the export writes: the item's content hash.
const idNumberPrefix = "shanyu:"

func isHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

func roundWeight(w float64) float64 { return math.Round(w*1e7) / 1e7 }

func moodleItem(q mxQuestion) (it Item, problem *Problem, known bool) {
	it = Item{Points: 1, Format: Plain}
	if q.QuestionText == nil || q.QuestionText.Format == "" || q.QuestionText.Format == "html" {
		it.Format = HTML
	}
	qt := q.QuestionText
	if qt == nil {
		qt = &mxText{}
	}
	it.Stem = moodleText(qt.Text, qt.Format, it.Format)
	if q.GeneralFeedback != nil {
		it.Explanation = moodleText(q.GeneralFeedback.Text, q.GeneralFeedback.Format, it.Format)
	}
	if q.Name != nil {
		it.Title = strings.TrimSpace(q.Name.Text)
		if it.Title == autoName(it) {
			it.Title = ""
		}
	}
	if g := strings.TrimSpace(q.DefaultGrade); g != "" {
		p, err := strconv.ParseFloat(g, 64)
		if err != nil {
			return it, &Problem{Key: keyPointsInvalid, Detail: "defaultgrade " + g}, true
		}
		it.Points = p
	}
	for _, tag := range q.Tags {
		if t := strings.TrimSpace(tag.Text); t != "" {
			it.Tags = append(it.Tags, t)
		}
	}
	ext := q.Shanyu
	if ext == nil {
		ext = &mxShanyu{}
	}
	it.Difficulty, it.Occupation, it.Level = ext.Difficulty, ext.Occupation, ext.Level
	for _, f := range qt.Files {
		img, err := moodleImage(f)
		if err != nil {
			return it, &Problem{Key: keyMoodleBadFile, Detail: err.Error()}, true
		}
		if img.MediaType == "" {
			return it, &Problem{Key: keyImageType, Detail: "file " + f.Name + " is not a PNG, JPEG, GIF or WebP image"}, true
		}
		it.Images = append(it.Images, img)
	}
	bad := func(key string, err error) (Item, *Problem, bool) {
		if key == keyWeightRange {
			return it, fractionProblem(q, err), true
		}
		return it, &Problem{Key: key, Detail: err.Error()}, true
	}
	switch q.Type {
	case "multichoice", "multichoiceset":
		it.Type = SingleChoice
		if q.Type == "multichoiceset" || !isTrue(q.Single) {
			it.Type, it.Scoring = MultipleChoice, Partial
			if q.Type == "multichoiceset" || ext.Scoring == string(AllOrNothing) {
				it.Scoring = AllOrNothing
			}
		}
		for _, a := range q.Answers {
			w, err := fraction(a.Fraction)
			if err != nil {
				return bad(keyWeightRange, err)
			}
			if q.Type == "multichoiceset" && w > 0 {
				w = 1
			}
			it.Choices = append(it.Choices, Option{Text: moodleText(a.Text, a.Format, it.Format), Weight: w, Feedback: feedbackOf(a.Feedback, it.Format)})
		}
		if it.Scoring == AllOrNothing {
			// All-or-nothing only asks which choices are right; keep weights in the shape the
			// multichoiceset export writes, so that a round trip is exact.
			for i := range it.Choices {
				if it.Choices[i].Weight > 0 {
					it.Choices[i].Weight = 1
				} else {
					it.Choices[i].Weight = 0
				}
			}
		}
	case "truefalse":
		it.Type = TrueFalse
		for _, a := range q.Answers {
			w, err := fraction(a.Fraction)
			if err != nil {
				return bad(keyWeightRange, err)
			}
			if w > 0 {
				it.Truth = strings.EqualFold(plainText(a.Text), "true")
			}
		}
	case "shortanswer":
		it.Type = FillBlank
		blanks := []mxBlank{{Answers: q.Answers}}
		if len(ext.Blanks) > 0 {
			blanks = ext.Blanks
		}
		for _, b := range blanks {
			var blank Blank
			for _, a := range b.Answers {
				w, err := fraction(a.Fraction)
				if err != nil {
					return bad(keyWeightRange, err)
				}
				blank.Accepted = append(blank.Accepted, Option{Text: plainText(a.Text), Weight: w, Feedback: feedbackOf(a.Feedback, it.Format)})
			}
			it.Blanks = append(it.Blanks, blank)
		}
	case "numerical":
		it.Type = Numeric
		for _, a := range q.Answers {
			w, err := fraction(a.Fraction)
			if err != nil {
				return bad(keyWeightRange, err)
			}
			text := plainText(a.Text)
			if text == "*" || w <= 0 {
				continue // Moodle's catch-all for wrong answers only carries feedback
			}
			v, err := strconv.ParseFloat(text, 64)
			if err != nil {
				return bad(keyMoodleBadNumber, fmt.Errorf("answer %q is not a number", clip(text)))
			}
			n := NumericAnswer{Value: v, Weight: w, Feedback: feedbackOf(a.Feedback, it.Format)}
			if tol := strings.TrimSpace(a.Tolerance); tol != "" {
				if n.Tolerance, err = strconv.ParseFloat(tol, 64); err != nil {
					return bad(keyMoodleBadNumber, fmt.Errorf("tolerance %q is not a number", clip(tol)))
				}
			}
			it.Numbers = append(it.Numbers, n)
		}
	case "matching":
		it.Type = Matching
		for _, s := range q.Subquestions {
			it.Pairs = append(it.Pairs, Pair{Left: moodleText(s.Text, s.Format, it.Format), Right: plainText(s.Answer.Text)})
		}
	case "cloze", "multianswer":
		// Moodle writes the gaps into the question text in its own syntax; they are read from the
		// text as written, before any HTML cleaning, and their answers kept as plain text.
		it.Type = Cloze
		stem, gaps, err := ParseCloze(qt.Text)
		if err != nil {
			var ce *ClozeError
			if errors.As(err, &ce) {
				return it, &Problem{Key: ce.Key, Detail: ce.Error()}, true
			}
			return bad(keyClozeSyntax, err)
		}
		it.Stem = moodleText(stem, qt.Format, it.Format)
		for gi := range gaps {
			for oi := range gaps[gi].Options {
				o := &gaps[gi].Options[oi]
				o.Text, o.Feedback = moodleText(o.Text, qt.Format, Plain), moodleText(o.Feedback, qt.Format, Plain)
			}
			for ni := range gaps[gi].Numbers {
				n := &gaps[gi].Numbers[ni]
				n.Feedback = moodleText(n.Feedback, qt.Format, Plain)
			}
		}
		it.Gaps = gaps
		if g := strings.TrimSpace(q.DefaultGrade); g == "" {
			// Moodle's mark for a cloze question is the sum of its gaps' marks.
			it.Points = 0
			for _, g := range gaps {
				it.Points += g.Weight
			}
		}
	case "ordering":
		if p := moodleOrdering(&it, q); p != nil {
			return it, p, true
		}
	case "essay":
		it.Type = Essay
		if ext.Type == string(Practical) {
			it.Type = Practical
		}
		for _, c := range ext.Criteria {
			it.Rubric = append(it.Rubric, Criterion{Text: strings.TrimSpace(c.Text), Points: c.Points})
		}
		if len(ext.Criteria) == 0 && q.GraderInfo != nil {
			if g := plainText(q.GraderInfo.Text); g != "" {
				it.Rubric = []Criterion{{Text: g, Points: it.Points}}
			}
		}
	default:
		return it, nil, false
	}
	return it, nil, true
}

// moodleOrdering reads a qtype_ordering question: the answers sorted by their fraction, which is their
// place. Grading all or nothing (ALL_OR_NOTHING, -1) or by absolute position (ABSOLUTE_POSITION, 0,
// the bank's partial credit) is read; the relative gradings, a missing grading type (whose default
// is a relative one) and showing a subset of the answers are skipped by name.
func moodleOrdering(it *Item, q mxQuestion) *Problem {
	it.Type, it.Scoring = Ordering, AllOrNothing
	switch g := strings.ToUpper(strings.TrimSpace(q.GradingType)); g {
	case "ALL_OR_NOTHING", "-1":
	case "ABSOLUTE_POSITION", "0":
		it.Scoring = Partial
	default:
		return &Problem{Key: keyMoodleUnsupported, Detail: "ordering grading type " + strconv.Quote(clip(q.GradingType)) + " is not supported (ALL_OR_NOTHING and ABSOLUTE_POSITION are)"}
	}
	if n, _ := strconv.Atoi(strings.TrimSpace(q.SelectCount)); n != 0 && n != len(q.Answers) {
		return &Problem{Key: keyMoodleUnsupported, Detail: "an ordering question showing " + strconv.Itoa(n) + " of its answers is not supported"}
	}
	type placed struct {
		at   float64
		text string
	}
	var list []placed
	for _, a := range q.Answers {
		f, err := strconv.ParseFloat(strings.TrimSpace(a.Fraction), 64)
		if err != nil {
			return &Problem{Key: keyMoodleBadNumber, Detail: "ordering answer place " + strconv.Quote(clip(a.Fraction)) + " is not a number"}
		}
		list = append(list, placed{f, plainText(a.Text)})
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].at < list[j].at })
	for _, p := range list {
		it.Sequence = append(it.Sequence, p.text)
	}
	return nil
}

func feedbackOf(t *mxText, f TextFormat) string {
	if t == nil {
		return ""
	}
	return moodleText(t.Text, t.Format, f)
}

func isTrue(s string) bool {
	s = strings.TrimSpace(strings.ToLower(s))
	return s == "true" || s == "1"
}

func moodleImage(f mxFile) (Image, error) {
	if f.Encoding != "base64" {
		return Image{}, fmt.Errorf("file %s: encoding %q is not base64", f.Name, f.Encoding)
	}
	clean := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, f.Data)
	if base64.StdEncoding.DecodedLen(len(clean)) > MaxImageSize+2 {
		return Image{}, fmt.Errorf("file %s: larger than %d bytes", f.Name, MaxImageSize)
	}
	data, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		return Image{}, fmt.Errorf("file %s: %w", f.Name, err)
	}
	return Image{Name: f.Name, MediaType: imageType(data), Data: data}, nil
}

// imageType recognises the picture formats browsers show safely; SVG is refused since it can carry
// scripts.
func imageType(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return "image/jpeg"
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return "image/gif"
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "image/webp"
	}
	return ""
}

// autoName is the <name> written for an item without a title: the start of its stem as text.
func autoName(it Item) string {
	s := it.Stem
	if it.Format == HTML {
		s = plainText(s)
	}
	r := []rune(strings.Join(strings.Fields(s), " "))
	if len(r) > 30 {
		r = r[:30]
	}
	return string(r)
}

// WriteMoodleXML writes items as a Moodle XML quiz, with a category record before each change of
// category. Images travel inside their question as base64 files.
func WriteMoodleXML(w io.Writer, items []Item) error {
	if _, err := io.WriteString(w, xml.Header+"<quiz>\n"); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("  ", "  ")
	var current []string
	for i, it := range items {
		if i == 0 || !equalPath(current, it.Category) {
			current = it.Category
			cat := mxQuestion{Type: "category", Category: &mxTag{Text: "$course$/top/" + strings.Join(it.Category, "/")}}
			if err := enc.Encode(cat); err != nil {
				return err
			}
		}
		if err := enc.Encode(moodleQuestion(it)); err != nil {
			return fmt.Errorf("item %d: %w", i+1, err)
		}
	}
	if err := enc.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n</quiz>\n")
	return err
}

func equalPath(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func moodleQuestion(it Item) mxQuestion {
	format := "plain_text"
	if it.Format == HTML {
		format = "html"
	}
	name := it.Title
	if name == "" {
		name = autoName(it)
	}
	// Percentages as Moodle writes them (33.33333), numbers as typed: no exponent, no binary noise.
	pct := func(w float64) string { return formatNumber(roundWeight(w * 100)) }
	num := formatNumber
	fb := func(s string) *mxText {
		if s == "" {
			return nil
		}
		return &mxText{Format: format, Text: s}
	}
	q := mxQuestion{
		Name:         &mxTag{Text: name},
		IDNumber:     idNumberPrefix + it.Hash(),
		QuestionText: &mxText{Format: format, Text: it.Stem},
		DefaultGrade: num(it.Points),
	}
	if it.Explanation != "" {
		q.GeneralFeedback = &mxText{Format: format, Text: it.Explanation}
	}
	for _, img := range it.Images {
		q.QuestionText.Files = append(q.QuestionText.Files, mxFile{Name: img.Name, Path: "/", Encoding: "base64", Data: base64.StdEncoding.EncodeToString(img.Data)})
	}
	for _, t := range it.Tags {
		q.Tags = append(q.Tags, mxTag{Text: t})
	}
	ext := mxShanyu{Difficulty: it.Difficulty, Occupation: it.Occupation, Level: it.Level}
	switch it.Type {
	case SingleChoice, MultipleChoice:
		q.Type, q.Single, q.Shuffle, q.Numbering = "multichoice", "true", "true", "ABCD"
		allOrNothing := it.Type == MultipleChoice && it.Scoring == AllOrNothing
		right := 0
		for _, c := range it.Choices {
			if c.Weight > 0 {
				right++
			}
		}
		if it.Type == MultipleChoice {
			// Core Moodle's multi-answer question; the all-or-nothing plugin's multichoiceset is not
			// in core. All-or-nothing scoring travels in <shanyu>, and for Moodle itself each right
			// choice is worth an equal share and a wrong one all of it.
			q.Single = "false"
			if allOrNothing {
				ext.Scoring = string(AllOrNothing)
			}
		}
		for _, c := range it.Choices {
			w := c.Weight
			if allOrNothing {
				w = -1
				if c.Weight > 0 {
					w = nearestFraction(1 / float64(right))
				}
			}
			q.Answers = append(q.Answers, mxAnswer{Fraction: pct(w), Format: format, Text: c.Text, Feedback: fb(c.Feedback)})
		}
	case TrueFalse:
		q.Type = "truefalse"
		t, f := "100", "0"
		if !it.Truth {
			t, f = f, t
		}
		q.Answers = []mxAnswer{{Fraction: t, Format: "moodle_auto_format", Text: "true"}, {Fraction: f, Format: "moodle_auto_format", Text: "false"}}
	case FillBlank:
		q.Type, q.UseCase = "shortanswer", "0"
		for bi, b := range it.Blanks {
			var answers []mxAnswer
			for _, a := range b.Accepted {
				answers = append(answers, mxAnswer{Fraction: pct(a.Weight), Format: "moodle_auto_format", Text: a.Text, Feedback: fb(a.Feedback)})
			}
			if bi == 0 {
				q.Answers = answers
			}
			if len(it.Blanks) > 1 {
				ext.Blanks = append(ext.Blanks, mxBlank{Answers: answers})
			}
		}
	case Numeric:
		q.Type = "numerical"
		for _, n := range it.Numbers {
			q.Answers = append(q.Answers, mxAnswer{Fraction: pct(n.Weight), Format: "moodle_auto_format", Text: num(n.Value), Tolerance: num(n.Tolerance), Feedback: fb(n.Feedback)})
		}
	case Cloze:
		q.Type = "cloze"
		enc := func(s string) string { return s }
		if it.Format == HTML {
			enc = html.EscapeString
		}
		q.QuestionText.Text = clozeText(it, enc)
	case Matching:
		q.Type, q.Shuffle = "matching", "true"
		for _, p := range it.Pairs {
			s := mxSub{Format: format, Text: p.Left}
			s.Answer.Text = p.Right
			q.Subquestions = append(q.Subquestions, s)
		}
	case Ordering:
		q.Type, q.SelectType, q.SelectCount, q.GradingType = "ordering", "ALL", "0", "ALL_OR_NOTHING"
		if it.Scoring == Partial {
			q.GradingType = "ABSOLUTE_POSITION"
		}
		for i, e := range it.Sequence {
			q.Answers = append(q.Answers, mxAnswer{Fraction: strconv.Itoa(i + 1), Format: "plain_text", Text: e})
		}
	case Essay, Practical:
		q.Type, q.ResponseFormat = "essay", "editor"
		if it.Type == Practical {
			ext.Type = string(Practical)
		}
		var lines []string
		for _, c := range it.Rubric {
			ext.Criteria = append(ext.Criteria, mxCriterion{Points: c.Points, Text: c.Text})
			lines = append(lines, "<li>"+html.EscapeString(c.Text)+" ("+num(c.Points)+")</li>")
		}
		if len(lines) > 0 {
			q.GraderInfo = &mxText{Format: "html", Text: "<ul>" + strings.Join(lines, "") + "</ul>"}
		}
	}
	if ext.Type != "" || ext.Scoring != "" || ext.Difficulty != 0 || ext.Occupation != "" || ext.Level != 0 ||
		len(ext.Criteria) > 0 || len(ext.Blanks) > 0 {
		q.Shanyu = &ext
	}
	return q
}
