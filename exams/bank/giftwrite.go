package bank

import (
	"fmt"
	"io"
	"strings"
)

// Reasons an item is left out of a GIFT export; each is a translation key.
const keyGIFTCannotExpress = "bank.gift.cannot_express"

// WriteGIFT writes items in Moodle's GIFT format and returns those it left out, each with why: GIFT
// holds one answer block per question and no files, so several blanks or gaps, pictures, practical
// tasks and case-sensitive gaps cannot be written. GIFT has no points either; an
// import gives every question 1 point. The export's place of an item is its position (1, 2, …).
func WriteGIFT(w io.Writer, items []Item) ([]Skip, error) {
	var b strings.Builder
	skipped := []Skip{}
	var current []string
	for i, it := range items {
		block, why := giftBlock(it)
		if why != "" {
			skipped = append(skipped, Skip{Element: fmt.Sprintf("item[%d]", i+1), Type: string(it.Type), Reason: keyGIFTCannotExpress, Detail: why})
			continue
		}
		if b.Len() == 0 || !equalPath(current, it.Category) {
			current = it.Category
			b.WriteString("$CATEGORY: $course$/top/" + strings.Join(it.Category, "/") + "\n\n")
		}
		if it.Title != "" {
			b.WriteString("::" + escapeGIFTText(it.Title) + "::")
		}
		if it.Format == HTML {
			b.WriteString("[html]")
		}
		stem := escapeGIFTText(it.Stem)
		if it.Type == Cloze {
			stem = escapeGIFTText(strings.Replace(it.Stem, GapMarker(0), "\x00", 1))
		} else if it.Type == FillBlank && strings.Count(it.Stem, "____") == 1 {
			stem = escapeGIFTText(strings.Replace(it.Stem, "____", "\x00", 1))
		}
		if it.Explanation != "" {
			block = strings.TrimSuffix(block, "}") + "####" + escapeGIFTText(it.Explanation) + "}"
		}
		if strings.Contains(stem, "\x00") {
			b.WriteString(strings.Replace(stem, "\x00", block, 1)) // the missing-word form
		} else {
			b.WriteString(stem + " " + block)
		}
		b.WriteString("\n\n")
	}
	_, err := io.WriteString(w, b.String())
	return skipped, err
}

// escapeGIFTText escapes GIFT's special characters and writes line breaks as \n.
func escapeGIFTText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '~', '=', '#', '{', '}', ':', '\\':
			b.WriteRune('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// giftBlock is an item's {…} answer block, or why GIFT cannot hold the item.
func giftBlock(it Item) (block, why string) {
	if len(it.Images) > 0 {
		return "", "GIFT cannot carry pictures"
	}
	weight := func(mark string, w float64) string {
		switch {
		case w == 1:
			return mark
		case w == 0:
			return "~"
		case w < 0:
			mark = "~"
		}
		return mark + "%" + formatNumber(roundWeight(w*100)) + "%"
	}
	answer := func(prefix, text, fb string) string {
		s := prefix + escapeGIFTText(text)
		if fb != "" {
			s += "#" + escapeGIFTText(fb)
		}
		return s
	}
	var parts []string
	switch it.Type {
	case SingleChoice:
		for _, c := range it.Choices {
			parts = append(parts, answer(weight("=", c.Weight), c.Text, c.Feedback))
		}
	case MultipleChoice:
		// No = at all is how GIFT says several may be picked; each choice carries its share.
		for _, c := range it.Choices {
			w := c.Weight
			if it.Scoring == AllOrNothing {
				w = -1
				if c.Weight > 0 {
					w = nearestFraction(1 / float64(max(1, countPositive(it.Choices))))
				}
			}
			parts = append(parts, answer("~%"+formatNumber(roundWeight(w*100))+"%", c.Text, c.Feedback))
		}
	case TrueFalse:
		if it.Truth {
			return "{T}", ""
		}
		return "{F}", ""
	case FillBlank:
		if len(it.Blanks) != 1 {
			return "", "GIFT holds one blank per question"
		}
		for _, a := range it.Blanks[0].Accepted {
			parts = append(parts, answer(weight("=", a.Weight), a.Text, a.Feedback))
		}
	case Numeric:
		var nums []string
		for _, n := range it.Numbers {
			nums = append(nums, numberAnswer(n, weight))
		}
		return "{#" + strings.Join(nums, " ") + "}", ""
	case Matching:
		for _, p := range it.Pairs {
			parts = append(parts, "="+escapeGIFTText(p.Left)+" -> "+escapeGIFTText(p.Right)) // "= -> x" is a distractor
		}
	case Essay:
		return "{}", ""
	case Practical:
		return "", "GIFT has no practical tasks"
	case Ordering:
		return "", "GIFT has no ordering questions"
	case Cloze:
		if len(it.Gaps) != 1 {
			return "", "GIFT holds one answer block per question, the cloze has several gaps"
		}
		g := it.Gaps[0]
		switch {
		case g.Kind == GapNumber:
			var nums []string
			for _, n := range g.Numbers {
				nums = append(nums, numberAnswer(n, weight))
			}
			return "{#" + strings.Join(nums, " ") + "}", ""
		case g.Kind == GapMulti:
			// No = at all: GIFT's multiple answers, each with its fraction (read back as a multiple
			// choice question with partial credit).
			for _, o := range g.Options {
				parts = append(parts, answer("~%"+formatNumber(roundWeight(o.Weight*100))+"%", o.Text, o.Feedback))
			}
		case g.Kind == GapText && g.CaseSensitive:
			return "", "GIFT short answers are not case-sensitive"
		case g.Kind == GapText:
			for _, o := range g.Options {
				if o.Weight > 0 {
					parts = append(parts, answer(weight("=", o.Weight), o.Text, o.Feedback))
				}
			}
		default:
			for _, o := range g.Options {
				parts = append(parts, answer(weight("=", o.Weight), o.Text, o.Feedback))
			}
		}
	default:
		return "", "unknown type"
	}
	return "{" + strings.Join(parts, " ") + "}", ""
}

func numberAnswer(n NumericAnswer, weight func(string, float64) string) string {
	s := weight("=", n.Weight) + formatNumber(n.Value) + ":" + formatNumber(n.Tolerance)
	if n.Feedback != "" {
		s += "#" + escapeGIFTText(n.Feedback)
	}
	return s
}

func countPositive(os []Option) int {
	n := 0
	for _, o := range os {
		if o.Weight > 0 {
			n++
		}
	}
	return n
}
