package bank

import (
	"math"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Response is what a candidate answered. Only the field matching the item's type is read.
type Response struct {
	Choices []int    // single and multiple choice: indexes into Item.Choices
	Truth   *bool    // true/false; nil when unanswered
	Blanks  []string // fill in the blank: one text per blank, in order
	Number  *float64 // numeric; nil when unanswered
	// Matches holds, for each pair of Item.Pairs, the Right text the candidate matched to its Left
	// ("" when unanswered). Distractor pairs (empty Left) are ignored.
	Matches []string
	// Gaps holds one answer per gap of a cloze item: for a choice gap the index of the picked option
	// in Gap.Options (as decimal text), for a multi gap the indexes ticked, comma-separated ("0,2"),
	// for text and number gaps what was typed; "" when unanswered.
	Gaps []string
	// Order is an ordering item's response: indexes into Item.Sequence in the order the candidate put
	// them, first to last; nil when unanswered.
	Order []int
}

// Score marks a response to an objective item and returns the points earned and the points possible.
// Subjective items (essay, practical) earn 0 here: an examiner marks them with ScoreRubric. Earned is
// never negative nor more than possible.
func Score(item Item, r Response) (earned, possible float64) {
	possible = item.Points
	var fraction float64
	switch item.Type {
	case SingleChoice:
		if len(r.Choices) == 1 {
			if c, ok := choiceAt(item, r.Choices[0]); ok {
				fraction = c.Weight
			}
		}
	case MultipleChoice:
		fraction = scoreMultiple(item, r.Choices)
	case TrueFalse:
		if r.Truth != nil && *r.Truth == item.Truth {
			fraction = 1
		}
	case FillBlank:
		fraction = scoreBlanks(item.Blanks, r.Blanks)
	case Numeric:
		if r.Number != nil {
			fraction = scoreNumber(item.Numbers, *r.Number)
		}
	case Matching:
		fraction = scoreMatching(item.Pairs, r.Matches)
	case Cloze:
		fraction = scoreCloze(item.Gaps, r.Gaps)
	case Ordering:
		fraction = scoreOrder(item, r.Order)
	}
	return possible * clamp01(fraction), possible
}

// ScoreRubric adds up an examiner's marks for a subjective item, one per rubric criterion, each
// clamped to [0, the criterion's points]. An item without a rubric takes one mark out of its points.
func ScoreRubric(item Item, marks []float64) (earned, possible float64) {
	if len(item.Rubric) == 0 {
		if len(marks) > 0 {
			earned = clamp(marks[0], 0, item.Points)
		}
		return earned, item.Points
	}
	for i, c := range item.Rubric {
		possible += c.Points
		if i < len(marks) {
			earned += clamp(marks[i], 0, c.Points)
		}
	}
	return earned, possible
}

func choiceAt(item Item, i int) (Option, bool) {
	if i < 0 || i >= len(item.Choices) {
		return Option{}, false
	}
	return item.Choices[i], true
}

func scoreMultiple(item Item, picked []int) float64 {
	seen := map[int]bool{}
	for _, i := range picked {
		if _, ok := choiceAt(item, i); !ok {
			return 0 // a response naming a choice that does not exist is not trusted at all
		}
		seen[i] = true
	}
	if len(seen) == 0 {
		return 0
	}
	if item.Scoring == Partial {
		sum := 0.0
		for i := range seen {
			sum += item.Choices[i].Weight
		}
		if sum > 1-1e-6 {
			sum = 1 // thirds are written 33.33333%: three of them are full marks
		}
		return sum
	}
	for i, c := range item.Choices {
		if (c.Weight > 0) != seen[i] {
			return 0
		}
	}
	return 1
}

func scoreBlanks(blanks []Blank, given []string) float64 {
	if len(blanks) == 0 {
		return 0
	}
	total := 0.0
	for i, b := range blanks {
		if i >= len(given) {
			break
		}
		g := Normalize(given[i])
		if g == "" {
			continue
		}
		best := 0.0
		for _, a := range b.Accepted {
			if Normalize(a.Text) == g && a.Weight > best {
				best = a.Weight
			}
		}
		total += best
	}
	return total / float64(len(blanks))
}

func scoreNumber(answers []NumericAnswer, x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	best := 0.0
	for _, a := range answers {
		// A little slack so that 0.1+0.2 style binary rounding does not fail an exact answer.
		slack := 1e-9 * math.Max(1, math.Abs(a.Value))
		if math.Abs(x-a.Value) <= a.Tolerance+slack && a.Weight > best {
			best = a.Weight
		}
	}
	return best
}

func scoreMatching(pairs []Pair, matches []string) float64 {
	lefts, right := 0, 0
	for i, p := range pairs {
		if strings.TrimSpace(p.Left) == "" {
			continue
		}
		lefts++
		if i < len(matches) && matches[i] != "" && Normalize(matches[i]) == Normalize(p.Right) {
			right++
		}
	}
	if lefts == 0 {
		return 0
	}
	return float64(right) / float64(lefts)
}

// scoreOrder marks an ordering response. A response that is not a permutation of the sequence (an
// index missing, repeated or out of range) is not trusted and earns nothing.
func scoreOrder(item Item, order []int) float64 {
	n := len(item.Sequence)
	if n == 0 || len(order) != n {
		return 0
	}
	seen := make([]bool, n)
	right := 0
	for pos, k := range order {
		if k < 0 || k >= n || seen[k] {
			return 0
		}
		seen[k] = true
		if k == pos {
			right++
		}
	}
	if item.Scoring == Partial {
		return float64(right) / float64(n)
	}
	if right == n {
		return 1
	}
	return 0
}

// Normalize prepares a typed answer for comparison: NFKC folds full-width letters, digits and
// punctuation into their usual forms (ＡＢＣ１２３ → ABC123, ， → ,), case is folded, and white space
// (including the ideographic space) is removed, since Chinese answers carry no meaningful spaces and
// candidates type them by accident.
func Normalize(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func clamp01(f float64) float64 { return clamp(f, 0, 1) }

func clamp(f, lo, hi float64) float64 {
	if math.IsNaN(f) || f < lo {
		return lo
	}
	if f > hi {
		return hi
	}
	return f
}
