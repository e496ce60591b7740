package bank

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// A cloze item (Moodle's "embedded answers", qtype multianswer) is a text with gaps in it. Its Stem
// holds the text with a marker {#1}, {#2}, … where each gap goes, and Gaps the gaps in that order.
// Each gap is a small question of its own: a choice (shown as a drop-down list or as radio buttons),
// several choices (check boxes, Moodle's MULTIRESPONSE), a short text, or a number. The item's mark is the sum of the gaps' marks, each gap counting Weight
// out of the sum of the weights, as Moodle adds up its subquestions' default marks.
//
// People write cloze items in Moodle's syntax, {weight:TYPE:answers} in the text; ParseCloze reads it
// and ClozeText writes it back.

// GapKind is what a gap asks for.
type GapKind string

const (
	GapChoice GapKind = "choice" // MULTICHOICE: one of Options
	GapMulti  GapKind = "multi"  // MULTIRESPONSE: any of Options, as check boxes
	GapText   GapKind = "text"   // SHORTANSWER: a typed text matched against Options
	GapNumber GapKind = "number" // NUMERICAL: a number within a tolerance of one of Numbers
)

// How a choice gap is shown.
const (
	ShowSelect     = "select"     // a drop-down list in the sentence (MULTICHOICE, MC)
	ShowVertical   = "vertical"   // radio buttons one under the other (MULTICHOICE_V, MCV)
	ShowHorizontal = "horizontal" // radio buttons in a row (MULTICHOICE_H, MCH)
)

// Gap is one gap of a cloze item.
type Gap struct {
	Kind GapKind `json:"kind"`
	// Weight is the gap's share of the item: Weight out of the sum of all gaps' weights. Moodle's
	// {2:SA:…} gives a weight of 2; without a number the weight is 1.
	Weight float64 `json:"weight"`
	// Choice gaps: how the choices are shown (ShowSelect, ShowVertical, ShowHorizontal) and whether
	// the paper shuffles them (Moodle's _S variants). Multi gaps are shown as check boxes one under
	// the other (ShowVertical) or in a row (ShowHorizontal), and may shuffle too.
	Display string `json:"display,omitempty"`
	Shuffle bool   `json:"shuffle,omitempty"`
	// Text gaps: whether case matters (SHORTANSWER_C). A * in an accepted answer matches any text.
	CaseSensitive bool `json:"case_sensitive,omitempty"`
	// Options are the choices of a choice or multi gap or the accepted answers of a text gap, each
	// with the fraction of the gap it earns and feedback. A multi gap earns the sum of the fractions
	// of the options ticked, clamped to 0..1, as Moodle's multiple-response grading does; wrong
	// options carry negative fractions.
	Options []Option `json:"options,omitempty"`
	// Numbers are the accepted answers of a number gap.
	Numbers []NumericAnswer `json:"numbers,omitempty"`
}

// Problem keys of cloze items; each is also a translation key.
const (
	keyClozeNoGaps      = "bank.cloze.no_gaps"
	keyClozeMarkers     = "bank.cloze.markers"
	keyClozeGapKind     = "bank.cloze.gap_kind"
	keyClozeGapWeight   = "bank.cloze.gap_weight"
	keyClozeGapDisplay  = "bank.cloze.gap_display"
	keyClozeGapNoAnswer = "bank.cloze.gap_no_answer"
	keyClozeSyntax      = "bank.cloze.syntax"
)

// maxGapWeight bounds a gap's weight; Moodle's marks are small integers.
const maxGapWeight = 100

// GapMarker is the text that stands for gap i (from 0) in a cloze item's Stem.
func GapMarker(i int) string { return "{#" + strconv.Itoa(i+1) + "}" }

var gapMarker = regexp.MustCompile(`\{#([0-9]+)\}`)

// checkCloze adds the problems of a cloze item's gaps and markers.
func checkCloze(it Item, add func(string)) {
	if len(it.Gaps) == 0 {
		add(keyClozeNoGaps)
		return
	}
	// Every gap's marker once, in order, and no marker naming a gap that does not exist.
	seen := make([]int, len(it.Gaps))
	next := 0
	for _, m := range gapMarker.FindAllStringSubmatch(it.Stem, -1) {
		n, err := strconv.Atoi(m[1])
		if err != nil || n < 1 || n > len(it.Gaps) || n != next+1 {
			add(keyClozeMarkers)
			break
		}
		seen[n-1]++
		next = n
	}
	for _, c := range seen {
		if c != 1 {
			add(keyClozeMarkers)
			break
		}
	}
	for _, g := range it.Gaps {
		if !(g.Weight > 0 && g.Weight <= maxGapWeight) {
			add(keyClozeGapWeight)
		}
		if len(g.Options) > maxParts || len(g.Numbers) > maxParts {
			add(keyTooManyParts)
		}
		for _, o := range g.Options {
			if len(o.Text) > MaxTextBytes || len(o.Feedback) > MaxTextBytes {
				add(keyTextTooLong)
			}
		}
		switch g.Kind {
		case GapChoice, GapMulti:
			// A choice gap is a list or radio buttons; a multi gap check boxes, never a list.
			buttons := g.Display == ShowVertical || g.Display == ShowHorizontal
			if !buttons && !(g.Kind == GapChoice && g.Display == ShowSelect) {
				add(keyClozeGapDisplay)
			}
			if len(g.Options) < 2 {
				add(keyChoicesTooFew)
			}
			positive := false
			for _, o := range g.Options {
				if strings.TrimSpace(o.Text) == "" {
					add(keyChoiceEmpty)
				}
				if !(o.Weight >= -1 && o.Weight <= 1) {
					add(keyWeightRange)
				}
				positive = positive || o.Weight > 0
			}
			if !positive {
				add(keyClozeGapNoAnswer)
			}
		case GapText:
			positive := false
			for _, o := range g.Options {
				if !(o.Weight >= 0 && o.Weight <= 1) {
					add(keyWeightRange)
				}
				if o.Weight > 0 && strings.TrimSpace(o.Text) != "" {
					positive = true
				}
			}
			if !positive {
				add(keyClozeGapNoAnswer)
			}
		case GapNumber:
			if !checkNumbers(g.Numbers, add) {
				add(keyClozeGapNoAnswer)
			}
		default:
			add(keyClozeGapKind)
		}
	}
}

// scoreCloze is the fraction of a cloze item earned: each gap's fraction weighted by its Weight.
// given holds one answer per gap: for a choice gap the index of the picked option (as decimal text),
// for a multi gap the indexes of the ticked options separated by commas ("0,2"), for the others what
// was typed.
func scoreCloze(gaps []Gap, given []string) float64 {
	total, earned := 0.0, 0.0
	for i, g := range gaps {
		total += g.Weight
		if i < len(given) {
			earned += g.Weight * clamp01(scoreGap(g, given[i]))
		}
	}
	if total <= 0 {
		return 0
	}
	return earned / total
}

// ScoreGap is the fraction of one gap an answer earns, from 0 to 1; the marking page shows it.
func ScoreGap(g Gap, answer string) float64 { return clamp01(scoreGap(g, answer)) }

func scoreGap(g Gap, answer string) float64 {
	answer = strings.TrimSpace(answer)
	if answer == "" {
		return 0
	}
	switch g.Kind {
	case GapChoice:
		i, err := strconv.Atoi(answer)
		if err != nil || i < 0 || i >= len(g.Options) {
			return 0
		}
		return g.Options[i].Weight
	case GapMulti:
		picked, ok := MultiPicks(answer, len(g.Options))
		if !ok {
			return 0
		}
		sum := 0.0
		for _, i := range picked {
			sum += g.Options[i].Weight
		}
		if math.Abs(sum-1) < 1e-5 {
			return 1 // thirds stored to 7 places still add up to the whole gap, within Moodle's tolerance
		}
		return sum
	case GapText:
		best := 0.0
		for _, o := range g.Options {
			if o.Weight > best && textMatches(o.Text, answer, g.CaseSensitive) {
				best = o.Weight
			}
		}
		return best
	case GapNumber:
		x, ok := ParseTypedNumber(answer)
		if !ok {
			return 0
		}
		return scoreNumber(g.Numbers, x)
	}
	return 0
}

// maxMultiAnswer bounds the text of a multi gap's answer: every option's index, comma-separated.
const maxMultiAnswer = maxParts * 4

// MultiPicks reads the answer to a multi gap of n options: indexes separated by commas, each once.
// It is not ok when the answer names an option that does not exist, names one twice or is too long:
// such an answer earns nothing (so that ticking an option twice cannot count it twice).
func MultiPicks(answer string, n int) ([]int, bool) {
	answer = strings.TrimSpace(answer)
	if answer == "" || len(answer) > maxMultiAnswer {
		return nil, answer == ""
	}
	var picked []int
	seen := make(map[int]bool)
	for _, f := range strings.Split(answer, ",") {
		i, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || i < 0 || i >= n || seen[i] {
			return nil, false
		}
		seen[i] = true
		picked = append(picked, i)
	}
	return picked, true
}

// textMatches compares a typed answer with an accepted one. Without case sensitivity both go through
// Normalize (full-width folded, case folded, spaces dropped); with it only full-width forms are folded
// and spaces dropped. A * in the accepted answer matches any run of characters, as in Moodle.
func textMatches(accepted, typed string, caseSensitive bool) bool {
	fold := Normalize
	if caseSensitive {
		fold = func(s string) string {
			return strings.Map(func(r rune) rune {
				if unicode.IsSpace(r) {
					return -1
				}
				return r
			}, norm.NFKC.String(s))
		}
	}
	parts := strings.Split(accepted, "*")
	for i := range parts {
		parts[i] = fold(parts[i])
	}
	t := fold(typed)
	if len(parts) == 1 {
		return parts[0] != "" && t == parts[0]
	}
	if !strings.HasPrefix(t, parts[0]) {
		return false
	}
	t = t[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(t, p)
		if i < 0 {
			return false
		}
		t = t[i+len(p):]
	}
	return strings.HasSuffix(t, last)
}

// ParseTypedNumber reads a number a candidate typed: full-width digits are folded, spaces dropped, and
// a decimal comma is read as a point (Moodle accepts both).
func ParseTypedNumber(s string) (float64, bool) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, norm.NFKC.String(s))
	if !strings.Contains(s, ".") && strings.Count(s, ",") == 1 {
		s = strings.Replace(s, ",", ".", 1)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// clozeTypes maps Moodle's gap type names, long and short, to a gap's kind, display, shuffle and case.
var clozeTypes = map[string]Gap{
	"MULTICHOICE": {Kind: GapChoice, Display: ShowSelect}, "MC": {Kind: GapChoice, Display: ShowSelect},
	"MULTICHOICE_V": {Kind: GapChoice, Display: ShowVertical}, "MCV": {Kind: GapChoice, Display: ShowVertical},
	"MULTICHOICE_H": {Kind: GapChoice, Display: ShowHorizontal}, "MCH": {Kind: GapChoice, Display: ShowHorizontal},
	"MULTICHOICE_S": {Kind: GapChoice, Display: ShowSelect, Shuffle: true}, "MCS": {Kind: GapChoice, Display: ShowSelect, Shuffle: true},
	"MULTICHOICE_VS": {Kind: GapChoice, Display: ShowVertical, Shuffle: true}, "MCVS": {Kind: GapChoice, Display: ShowVertical, Shuffle: true},
	"MULTICHOICE_HS": {Kind: GapChoice, Display: ShowHorizontal, Shuffle: true}, "MCHS": {Kind: GapChoice, Display: ShowHorizontal, Shuffle: true},
	"SHORTANSWER": {Kind: GapText}, "SA": {Kind: GapText}, "MW": {Kind: GapText},
	"SHORTANSWER_C": {Kind: GapText, CaseSensitive: true}, "SAC": {Kind: GapText, CaseSensitive: true}, "MWC": {Kind: GapText, CaseSensitive: true},
	"NUMERICAL": {Kind: GapNumber}, "NM": {Kind: GapNumber},
	"MULTIRESPONSE": {Kind: GapMulti, Display: ShowVertical}, "MR": {Kind: GapMulti, Display: ShowVertical},
	"MULTIRESPONSE_H": {Kind: GapMulti, Display: ShowHorizontal}, "MRH": {Kind: GapMulti, Display: ShowHorizontal},
	"MULTIRESPONSE_S": {Kind: GapMulti, Display: ShowVertical, Shuffle: true}, "MRS": {Kind: GapMulti, Display: ShowVertical, Shuffle: true},
	"MULTIRESPONSE_HS": {Kind: GapMulti, Display: ShowHorizontal, Shuffle: true}, "MRHS": {Kind: GapMulti, Display: ShowHorizontal, Shuffle: true},
}

// Gap types of Moodle plugins that the bank does not hold: the item is skipped with the type and the
// reason. REGEXP gaps (qtype_regexp, used by the multianswerrgx plugin) match typed answers with
// PHP regular expressions, whose syntax and back-tracking RE2 does not share; a gap graded
// differently from Moodle would be worse than a gap refused.
var clozeUnsupported = map[string]string{
	"REGEXP": clozeRegexpReason, "RX": clozeRegexpReason, "REGEXP_C": clozeRegexpReason, "RXC": clozeRegexpReason,
}

const clozeRegexpReason = "is a regular-expression gap of the qtype_regexp plugin (not core Moodle), which the bank does not grade"

// clozeStart finds the start of an embedded answer: {, an optional weight, :TYPE:.
var clozeStart = regexp.MustCompile(`\{([0-9]*):([A-Z_]+):`)

// ClozeError is a fault in a cloze text; Gap counts from 1, 0 when the fault is not in a gap.
type ClozeError struct {
	Key    string
	Gap    int
	Detail string
}

func (e *ClozeError) Error() string {
	if e.Gap > 0 {
		return fmt.Sprintf("gap %d: %s", e.Gap, e.Detail)
	}
	return e.Detail
}

// ParseCloze reads a text in Moodle's embedded-answers syntax: the text with a {#n} marker for each
// gap, and the gaps. Inside a gap, answers are separated by ~, = marks a right one and %n% gives a
// fraction, # starts its feedback, and \ escapes } ~ # / " and \ itself. A { not followed by weight,
// colon and a type stays text, as in Moodle.
func ParseCloze(text string) (string, []Gap, error) {
	var stem strings.Builder
	var gaps []Gap
	rest := text
	for {
		loc := clozeStart.FindStringSubmatchIndex(rest)
		if loc == nil {
			stem.WriteString(rest)
			break
		}
		stem.WriteString(rest[:loc[0]])
		weight, typ := rest[loc[2]:loc[3]], rest[loc[4]:loc[5]]
		n := len(gaps) + 1
		fail := func(key, format string, args ...any) (string, []Gap, error) {
			return "", nil, &ClozeError{Key: key, Gap: n, Detail: fmt.Sprintf(format, args...)}
		}
		proto, ok := clozeTypes[typ]
		if !ok {
			if why, known := clozeUnsupported[typ]; known {
				return fail(keyClozeGapKind, "gap type %s %s", typ, why)
			}
			// Not an embedded answer after all (Moodle's regular expression wants a known type).
			stem.WriteString(rest[loc[0]:loc[5]])
			rest = rest[loc[5]:]
			continue
		}
		body, after, closed := cutUnescaped(rest[loc[1]:], '}')
		if !closed {
			return fail(keyClozeSyntax, "%s gap without a closing }", typ)
		}
		g := proto
		g.Weight = 1
		if weight != "" {
			w, err := strconv.Atoi(weight)
			if err != nil || w <= 0 || w > maxGapWeight {
				return fail(keyClozeGapWeight, "weight %s is not between 1 and %d", weight, maxGapWeight)
			}
			g.Weight = float64(w)
		}
		if err := parseGapAnswers(&g, body); err != nil {
			return fail(keyClozeSyntax, "%s", err.Error())
		}
		if g.Kind == GapMulti {
			scaleMulti(&g, body)
		} else if !hasFullAnswer(g) {
			// Moodle refuses such a gap (qtype_multianswer_validate_question: "fractionsnomax").
			return fail(keyClozeGapNoAnswer, "%s gap has no answer worth 100%%", typ)
		}
		gaps = append(gaps, g)
		if len(gaps) > maxParts {
			return fail(keyTooManyParts, "more than %d gaps", maxParts)
		}
		stem.WriteString(GapMarker(len(gaps) - 1))
		rest = after
	}
	if len(gaps) == 0 {
		return "", nil, &ClozeError{Key: keyClozeNoGaps, Detail: "no {…:TYPE:…} gap in the text"}
	}
	return stem.String(), gaps, nil
}

// cutUnescaped splits s at the first sep not preceded by a backslash. A # right after & starts an
// HTML character reference (&#39;), not feedback, as in Moodle.
func cutUnescaped(s string, sep byte) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\':
			i++
		case s[i] == sep && !(sep == '#' && i > 0 && s[i-1] == '&'):
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// splitUnescaped splits s at every sep not preceded by a backslash.
func splitUnescaped(s string, sep byte) []string {
	var out []string
	for {
		before, after, found := cutUnescaped(s, sep)
		out = append(out, before)
		if !found {
			return out
		}
		s = after
	}
}

func unescapeCloze(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`}~#/"\{`, s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func escapeCloze(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`}~#\{`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func parseGapAnswers(g *Gap, body string) error {
	for _, alt := range splitUnescaped(body, '~') {
		text, feedback, _ := cutUnescaped(alt, '#')
		text = strings.TrimSpace(text)
		weight := 0.0
		switch {
		case strings.HasPrefix(text, "="):
			weight, text = 1, text[1:]
		case strings.HasPrefix(text, "%"):
			end := strings.IndexByte(text[1:], '%')
			if end < 0 {
				return fmt.Errorf("unclosed %% fraction in %q", clip(text))
			}
			w, err := strconv.ParseFloat(strings.TrimSpace(text[1:1+end]), 64)
			if err != nil || w < -100 || w > 100 {
				return fmt.Errorf("fraction %q is not a percentage", text[1:1+end])
			}
			weight, text = roundWeight(w/100), text[2+end:]
		}
		text = strings.TrimSpace(unescapeCloze(text))
		fb := strings.TrimSpace(unescapeCloze(feedback))
		if g.Kind == GapNumber {
			if text == "*" {
				continue // the catch-all of wrong numbers only carries feedback
			}
			n, err := clozeNumber(text)
			if err != nil {
				return err
			}
			n.Weight, n.Feedback = weight, fb
			g.Numbers = append(g.Numbers, n)
			continue
		}
		if text == "" {
			return fmt.Errorf("an empty answer")
		}
		g.Options = append(g.Options, Option{Text: text, Weight: weight, Feedback: fb})
	}
	return nil
}

// hasFullAnswer tells whether a choice, text or number gap has an answer that earns all of it.
func hasFullAnswer(g Gap) bool {
	for _, o := range g.Options {
		if o.Weight == 1 {
			return true
		}
	}
	for _, n := range g.Numbers {
		if n.Weight == 1 {
			return true
		}
	}
	return false
}

// scaleMulti gives a multi gap's fractions the meaning Moodle gives them when it reads the text
// (qtype_multianswer_extract_question): the right options' fractions are scaled to add up to 1, and
// when the text gives no %n% fraction at all ({1:MR:=a~=b~c}) each wrong option takes away as much as
// one right one gives. Fractions that already add up to 1 (within Moodle's 0.00001) are kept, so that
// the text ClozeText writes reads back unchanged.
func scaleMulti(g *Gap, body string) {
	total := 0.0
	for _, o := range g.Options {
		if o.Weight > 0 {
			total += o.Weight
		}
	}
	if total == 0 {
		return
	}
	specific := false
	for _, alt := range splitUnescaped(body, '~') {
		specific = specific || strings.HasPrefix(strings.TrimSpace(alt), "%")
	}
	for i := range g.Options {
		o := &g.Options[i]
		switch {
		case o.Weight > 0 && math.Abs(total-1) > 1e-5:
			o.Weight = roundWeight(o.Weight / total)
		case o.Weight <= 0 && !specific:
			o.Weight = roundWeight(-1 / total)
		}
	}
}

// clozeNumber reads "1.5" or "1.5:0.1" (value and tolerance); Moodle allows a decimal comma.
func clozeNumber(s string) (NumericAnswer, error) {
	v, t, _ := strings.Cut(s, ":")
	val, ok := ParseTypedNumber(v)
	if !ok {
		return NumericAnswer{}, fmt.Errorf("%q is not a number", clip(s))
	}
	n := NumericAnswer{Value: val}
	if strings.TrimSpace(t) != "" {
		tol, ok := ParseTypedNumber(t)
		if !ok || tol < 0 {
			return NumericAnswer{}, fmt.Errorf("tolerance %q is not a number", clip(t))
		}
		n.Tolerance = tol
	}
	return n, nil
}

// ClozeText writes a cloze item's stem back in Moodle's embedded-answers syntax, every gap in place
// of its marker. ParseCloze reads it back to the same stem and gaps.
func ClozeText(it Item) string { return clozeText(it, func(s string) string { return s }) }

// clozeText writes the gaps with their texts passed through enc: an HTML item's answers are written
// as HTML text, since they sit in its HTML.
func clozeText(it Item, enc func(string) string) string {
	return gapMarker.ReplaceAllStringFunc(it.Stem, func(m string) string {
		n, _ := strconv.Atoi(m[2 : len(m)-1])
		if n < 1 || n > len(it.Gaps) {
			return m
		}
		return gapSyntax(it.Gaps[n-1], enc)
	})
}

// gapSyntax is one gap in Moodle's syntax, e.g. {2:MCS:=right#good~wrong#no}.
func gapSyntax(g Gap, enc func(string) string) string {
	var b strings.Builder
	b.WriteByte('{')
	b.WriteString(formatNumber(g.Weight)) // optional for 1, but Moodle's documentation always writes it
	b.WriteByte(':')
	b.WriteString(gapTypeName(g))
	b.WriteByte(':')
	alt := func(i int, w float64, text, fb string) {
		if i > 0 {
			b.WriteByte('~')
		}
		switch {
		case g.Kind == GapMulti:
			// Every fraction explicit: Moodle reads a multi gap without any %n% differently (see
			// scaleMulti), so a written %0% keeps a neutral option neutral.
			b.WriteString("%" + formatNumber(roundWeight(w*100)) + "%")
		case w == 1:
			b.WriteByte('=')
		case w == 0 && (strings.HasPrefix(text, "=") || strings.HasPrefix(text, "%")):
			b.WriteString("%0%") // or the text's own = or % would read as its weight
		case w != 0:
			b.WriteString("%" + formatNumber(roundWeight(w*100)) + "%")
		}
		b.WriteString(text)
		if fb != "" {
			if strings.HasSuffix(text, "&") {
				b.WriteByte(' ') // &# would read as a character reference; the reader trims the space
			}
			b.WriteString("#" + escapeCloze(enc(fb)))
		}
	}
	if g.Kind == GapNumber {
		for i, n := range g.Numbers {
			alt(i, n.Weight, formatNumber(n.Value)+":"+formatNumber(n.Tolerance), n.Feedback)
		}
	} else {
		for i, o := range g.Options {
			alt(i, o.Weight, escapeCloze(enc(o.Text)), o.Feedback)
		}
	}
	b.WriteByte('}')
	return b.String()
}

func gapTypeName(g Gap) string {
	switch g.Kind {
	case GapText:
		if g.CaseSensitive {
			return "SAC"
		}
		return "SA"
	case GapNumber:
		return "NM"
	case GapMulti:
		name := "MR"
		if g.Display == ShowHorizontal {
			name = "MRH"
		}
		if g.Shuffle {
			name += "S"
		}
		return name
	}
	name := "MC"
	switch g.Display {
	case ShowVertical:
		name = "MCV"
	case ShowHorizontal:
		name = "MCH"
	}
	if g.Shuffle {
		name += "S"
	}
	return name
}

// formatNumber writes a stored number the shortest way that reads back the same, without exponent
// and without binary noise (3.1415, not 3.1414999999999997).
func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// decimalMidpoint is (a+b)/2 and (b-a)/2 of two decimals computed exactly, then rounded once, so a
// range 3.141..3.142 gives 3.1415 ± 0.0005 rather than 3.1414999999999997.
func decimalMidpoint(lo, hi string) (mid, half float64, ok bool) {
	a, okA := new(big.Rat).SetString(strings.TrimSpace(lo))
	b, okB := new(big.Rat).SetString(strings.TrimSpace(hi))
	if !okA || !okB {
		return 0, 0, false
	}
	two := big.NewRat(2, 1)
	m := new(big.Rat).Quo(new(big.Rat).Add(a, b), two)
	h := new(big.Rat).Quo(new(big.Rat).Sub(b, a), two)
	mid, _ = m.Float64()
	half, _ = h.Float64()
	return mid, half, true
}

// GapGiven is an answer to a gap as people read it: for a choice or multi gap the texts of the
// options picked (not their indexes), for the others what was typed. An answer that names no option
// reads as "".
func GapGiven(g Gap, answer string) string {
	switch g.Kind {
	case GapChoice:
		i, err := strconv.Atoi(strings.TrimSpace(answer))
		if err != nil || i < 0 || i >= len(g.Options) {
			return ""
		}
		return g.Options[i].Text
	case GapMulti:
		picked, _ := MultiPicks(answer, len(g.Options))
		texts := make([]string, len(picked))
		for k, i := range picked {
			texts[k] = g.Options[i].Text
		}
		return strings.Join(texts, "; ")
	}
	return strings.TrimSpace(answer)
}

// GapKey is the answer to a gap that earns the most, as people read it: the best choice, every
// option of a multi gap that earns something, the best accepted text, the best number with its
// tolerance.
func GapKey(g Gap) string {
	switch g.Kind {
	case GapMulti:
		var texts []string
		for _, o := range g.Options {
			if o.Weight > 0 {
				texts = append(texts, o.Text)
			}
		}
		return strings.Join(texts, "; ")
	case GapNumber:
		var best *NumericAnswer
		for i := range g.Numbers {
			if best == nil || g.Numbers[i].Weight > best.Weight {
				best = &g.Numbers[i]
			}
		}
		if best == nil {
			return ""
		}
		if best.Tolerance > 0 {
			return formatNumber(best.Value) + " ± " + formatNumber(best.Tolerance)
		}
		return formatNumber(best.Value)
	}
	var best Option
	for _, o := range g.Options {
		if o.Weight > best.Weight {
			best = o
		}
	}
	return best.Text
}
