package bank

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// GIFT (Moodle's "General Import Format Technology") is read the way Moodle reads it: questions are
// separated by blank lines, lines starting with // are comments, $CATEGORY: sets the category of the
// questions that follow, ::title:: names a question, and one {…} block holds the answers.
// Special characters are escaped with a backslash: \~ \= \# \{ \} \: \\ and \n for a line break.

const (
	keyGIFTTitleUnclosed   = "bank.gift.title_unclosed"
	keyGIFTNoAnswers       = "bank.gift.no_answers"
	keyGIFTAnswersUnclosed = "bank.gift.answers_unclosed"
	keyGIFTSeveralBlocks   = "bank.gift.several_blocks"
	keyGIFTBadWeight       = "bank.gift.bad_weight"
	keyGIFTBadNumber       = "bank.gift.bad_number"
	keyGIFTBadAnswer       = "bank.gift.bad_answer"
)

// ParseGIFT reads a GIFT file.
func ParseGIFT(r io.Reader) (*Result, error) {
	text, err := readText(r)
	if err != nil {
		return nil, err
	}
	res := &Result{Format: GIFT}
	var (
		category []string
		block    []string
		start    int
		full     error
	)
	flush := func() {
		if len(block) > 0 && full == nil {
			if full = res.full(Place{Line: start}); full == nil {
				parseGIFTQuestion(res, strings.Join(block, "\n"), start, category)
			}
		}
		block = nil
	}
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case full != nil:
			return nil, full
		case strings.HasPrefix(trimmed, "//"):
			// A comment; it neither ends a question nor belongs to it.
		case trimmed == "":
			flush()
		case len(block) == 0 && strings.HasPrefix(trimmed, "$CATEGORY:"):
			category = categoryPath(unescapeGIFT(escapeGIFT(strings.TrimPrefix(trimmed, "$CATEGORY:"))))
		default:
			if len(block) == 0 {
				start = i + 1
			}
			block = append(block, line)
		}
	}
	flush()
	if full != nil {
		return nil, full
	}
	if len(res.Entries) == 0 {
		return nil, ErrEmptyFile
	}
	return res, nil
}

// categoryPath turns "$course$/top/保育师/生活照料" into ["保育师", "生活照料"]: Moodle's context
// prefix and its invisible "top" category are dropped, and so are empty segments.
func categoryPath(s string) []string {
	var out []string
	for i, seg := range strings.Split(s, "/") {
		seg = strings.TrimSpace(seg)
		if seg == "" || (i == 0 && strings.HasPrefix(seg, "$") && strings.HasSuffix(seg, "$")) {
			continue
		}
		if len(out) == 0 && seg == "top" {
			continue
		}
		out = append(out, seg)
	}
	return out
}

// Escaped special characters are replaced by runes of a private-use plane while parsing, so that the
// structure can be found with plain string searches, and turned back afterwards.
const escBase = 0xF0000

func escapeGIFT(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r >= escBase && r < escBase+0x80 {
			b.WriteRune('\uFFFD') // never let input forge an escape
			continue
		}
		if r == '\\' && i+1 < len(rs) {
			switch n := rs[i+1]; n {
			case '~', '=', '#', '{', '}', ':', '\\':
				b.WriteRune(escBase + n)
				i++
				continue
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

func unescapeGIFT(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r >= escBase && r < escBase+0x80 }) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r >= escBase && r < escBase+0x80 {
			return r - escBase
		}
		return r
	}, s)
}

var giftTrueFalse = regexp.MustCompile(`(?i)^(t|true|f|false)\s*(#.*)?$`)

func parseGIFTQuestion(res *Result, raw string, line int, category []string) {
	place := Place{Line: line}
	fail := func(key, detail string) {
		res.add(Item{Stem: raw, Category: category}, place, Problem{Key: key, Detail: detail})
	}
	s := strings.TrimSpace(escapeGIFT(raw))
	it := Item{Points: 1, Format: Plain, Category: category}
	if strings.HasPrefix(s, "::") {
		end := strings.Index(s[2:], "::")
		if end < 0 {
			fail(keyGIFTTitleUnclosed, "::title has no closing ::")
			return
		}
		it.Title = strings.TrimSpace(unescapeGIFT(s[2 : 2+end]))
		s = strings.TrimSpace(s[2+end+2:])
	}
	for _, tag := range []string{"[html]", "[moodle]", "[plain]", "[markdown]"} {
		if strings.HasPrefix(strings.ToLower(s), tag) {
			if tag == "[html]" {
				it.Format = HTML
			}
			s = s[len(tag):]
			break
		}
	}
	open := strings.IndexByte(s, '{')
	if open < 0 {
		fail(keyGIFTNoAnswers, "no {…} answer block")
		return
	}
	closing := strings.IndexByte(s[open:], '}')
	if closing < 0 {
		fail(keyGIFTAnswersUnclosed, "{ without a closing }")
		return
	}
	before, body, after := s[:open], s[open+1:open+closing], s[open+closing+1:]
	if strings.ContainsAny(after, "{}") {
		fail(keyGIFTSeveralBlocks, "more than one {…} block")
		return
	}
	stem := before
	if strings.TrimSpace(after) != "" {
		stem = before + "____" + after // the "missing word" form: the answer goes where the block was
	}
	it.Stem = giftText(stem, it.Format)
	if i := strings.Index(body, "####"); i >= 0 {
		it.Explanation = giftText(body[i+4:], it.Format)
		body = body[:i]
	}
	body = strings.TrimSpace(body)
	var err error
	switch {
	case body == "":
		it.Type = Essay
	case body[0] == '#':
		it.Type = Numeric
		it.Numbers, err = giftNumbers(strings.TrimSpace(body[1:]), it.Format)
	case giftTrueFalse.MatchString(body):
		it.Type = TrueFalse
		it.Truth = strings.HasPrefix(strings.ToLower(body), "t")
	default:
		if body[0] != '=' && body[0] != '~' && !strings.Contains(body, "~") && !strings.Contains(body, "->") {
			// Moodle reads {3} and {3 =three} as short answers: the text before the first = is an
			// accepted answer too.
			body = "=" + body
		}
		var answers []giftAnswer
		answers, err = giftAnswers(body, it.Format)
		if err != nil {
			break
		}
		it.Type, err = giftChoiceType(answers, body)
		if err != nil {
			break
		}
		switch it.Type {
		case Matching:
			for _, a := range answers {
				left, right, _ := strings.Cut(a.text, "->")
				it.Pairs = append(it.Pairs, Pair{Left: giftText(left, it.Format), Right: giftText(right, it.Format)})
			}
		case FillBlank:
			b := Blank{}
			for _, a := range answers {
				b.Accepted = append(b.Accepted, a.option(1, it.Format))
			}
			it.Blanks = []Blank{b}
		default:
			for _, a := range answers {
				def := 0.0
				if a.mark == '=' {
					def = 1
				}
				it.Choices = append(it.Choices, a.option(def, it.Format))
			}
			if it.Type == MultipleChoice {
				it.Scoring = Partial
			}
		}
	}
	if err != nil {
		var ge *giftError
		if !errors.As(err, &ge) {
			ge = &giftError{Key: keyGIFTBadAnswer, Detail: err.Error()}
		}
		res.add(it, place, Problem(*ge))
		return
	}
	res.add(it, place)
}

type giftError Problem

func (e *giftError) Error() string { return e.Key + ": " + e.Detail }

func giftFail(key, format string, args ...any) error {
	return &giftError{Key: key, Detail: fmt.Sprintf(format, args...)}
}

func giftText(s string, f TextFormat) string {
	s = strings.TrimSpace(unescapeGIFT(s))
	if f == HTML {
		return SanitizeHTML(s)
	}
	return s
}

type giftAnswer struct {
	mark     byte
	weight   *float64
	text     string
	feedback string
}

func (a giftAnswer) option(def float64, f TextFormat) Option {
	o := Option{Text: giftText(a.text, f), Weight: def, Feedback: giftText(a.feedback, f)}
	if a.weight != nil {
		o.Weight = *a.weight
	}
	return o
}

// giftAnswers splits "=right#fb ~%-50%wrong" into answers, reading %n% weights and #feedback.
func giftAnswers(body string, _ TextFormat) ([]giftAnswer, error) {
	first := strings.IndexAny(body, "=~")
	if first < 0 || strings.TrimSpace(body[:first]) != "" {
		return nil, giftFail(keyGIFTBadAnswer, "answers must start with = or ~: %q", clip(unescapeGIFT(body)))
	}
	var out []giftAnswer
	for i := first; i < len(body); {
		next := strings.IndexAny(body[i+1:], "=~")
		end := len(body)
		if next >= 0 {
			end = i + 1 + next
		}
		a := giftAnswer{mark: body[i]}
		text := strings.TrimSpace(body[i+1 : end])
		if strings.HasPrefix(text, "%") {
			closing := strings.IndexByte(text[1:], '%')
			if closing < 0 {
				return nil, giftFail(keyGIFTBadWeight, "unclosed %% weight in %q", clip(unescapeGIFT(text)))
			}
			w, err := strconv.ParseFloat(strings.TrimSpace(text[1:1+closing]), 64)
			if err != nil {
				return nil, giftFail(keyGIFTBadWeight, "weight %q is not a number", text[1:1+closing])
			}
			w /= 100
			a.weight = &w
			text = text[2+closing:]
		}
		a.text, a.feedback, _ = strings.Cut(text, "#")
		out = append(out, a)
		i = end
	}
	return out, nil
}

func giftChoiceType(answers []giftAnswer, body string) (Type, error) {
	wrong, matching := false, strings.Contains(body, "->")
	for _, a := range answers {
		if a.mark == '~' {
			wrong = true
		}
	}
	switch {
	case matching && !wrong:
		for _, a := range answers {
			if !strings.Contains(a.text, "->") {
				return "", giftFail(keyGIFTBadAnswer, "matching answer without ->: %q", clip(unescapeGIFT(a.text)))
			}
		}
		return Matching, nil
	case !wrong:
		return FillBlank, nil
	}
	for _, a := range answers {
		if a.mark == '=' {
			return SingleChoice, nil
		}
	}
	// Moodle: with no answer marked = the candidate may pick several, and the weights add up.
	return MultipleChoice, nil
}

// giftNumbers reads what follows the # of a numeric block: "1.5:0.1", "1..5", several answers
// "=1.5:0 =%50%1.5:0.5", and in either form wrong answers that only carry feedback:
// "3:2~#Completely wrong" (Moodle's grammar allows them after the first answer too).
func giftNumbers(body string, f TextFormat) ([]NumericAnswer, error) {
	if body == "" {
		return nil, giftFail(keyGIFTBadNumber, "empty numeric answer")
	}
	if body[0] != '=' && body[0] != '~' {
		body = "=" + body // a single answer: the first one is right
	}
	answers, err := giftAnswers(body, f)
	if err != nil {
		return nil, err
	}
	var out []NumericAnswer
	for _, a := range answers {
		if a.mark == '~' {
			continue // a wrong number only carries feedback, which earns nothing anyway
		}
		n, err := giftNumber(a.text)
		if err != nil {
			return nil, err
		}
		n.Weight = 1
		if a.weight != nil {
			n.Weight = *a.weight
		}
		n.Feedback = giftText(a.feedback, f)
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, giftFail(keyGIFTBadNumber, "no right numeric answer")
	}
	return out, nil
}

func giftNumber(spec string) (NumericAnswer, error) {
	spec = strings.TrimSpace(unescapeGIFT(spec))
	parse := func(s string) (float64, error) {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return 0, giftFail(keyGIFTBadNumber, "%q is not a number", clip(s))
		}
		return v, nil
	}
	if lo, hi, ok := strings.Cut(spec, ".."); ok {
		a, err := parse(lo)
		if err != nil {
			return NumericAnswer{}, err
		}
		b, err := parse(hi)
		if err != nil {
			return NumericAnswer{}, err
		}
		if b < a {
			return NumericAnswer{}, giftFail(keyGIFTBadNumber, "range %s has its ends swapped", spec)
		}
		// The middle and half-width as decimals, so that 3.141..3.142 is 3.1415 ± 0.0005 exactly as
		// written, not 3.1414999999999997.
		if mid, half, ok := decimalMidpoint(lo, hi); ok {
			return NumericAnswer{Value: mid, Tolerance: half}, nil
		}
		return NumericAnswer{Value: (a + b) / 2, Tolerance: (b - a) / 2}, nil
	}
	v, t, _ := strings.Cut(spec, ":")
	val, err := parse(v)
	if err != nil {
		return NumericAnswer{}, err
	}
	n := NumericAnswer{Value: val}
	if strings.TrimSpace(t) != "" {
		if n.Tolerance, err = parse(t); err != nil {
			return NumericAnswer{}, err
		}
	}
	return n, nil
}

func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
