package exams

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"

	"shanyu/exams/bank"
	"shanyu/internal/pg"
)

// Deadline is the server's end of an attempt: the start plus the duration and the candidate's extra
// time, but never after the session closes. Saves are accepted until Deadline plus the grace period,
// which absorbs the network, not the candidate's thinking.
func Deadline(start time.Time, duration, extra time.Duration, closes time.Time) time.Time {
	d := start.Add(duration + extra)
	if d.After(closes) {
		return closes
	}
	return d
}

// PaperItem is one position of an attempt's paper.
type PaperItem struct {
	Position  int
	Section   int
	Part      string
	ItemID    int64
	VersionID int64
	Points    float64
	// OptionOrder[i] is the original index of the option shown at i: choices for choice items, the
	// right-hand texts for matching items; empty for other types.
	OptionOrder []int
}

// optionCount is how many options of an item the paper shuffles.
func optionCount(it bank.Item) int {
	switch it.Type {
	case bank.SingleChoice, bank.MultipleChoice:
		return len(it.Choices)
	case bank.Matching:
		return len(it.Pairs)
	case bank.Ordering:
		return len(it.Sequence)
	case bank.Cloze:
		return clozeOptionCount(it)
	}
	return 0
}

// sequenceShown is, for each row of an ordering item as the paper first shows it, the index of the
// element in Item.Sequence. It is the paper's permutation, except that the right order itself is
// turned by one row: a paper must not show the answer. A paper drawn before the item had this many
// elements shows it turned by one as well.
func sequenceShown(pi PaperItem, it bank.Item) []int {
	n := len(it.Sequence)
	shown := make([]int, n)
	usable := len(pi.OptionOrder) == n
	inOrder := true
	for i := range shown {
		shown[i] = i
		if usable {
			shown[i] = pi.OptionOrder[i]
		}
		inOrder = inOrder && shown[i] == i
	}
	if inOrder && n > 1 {
		for i := range shown {
			shown[i] = (i + 1) % n
		}
	}
	return shown
}

// clozeOptionCount is the number of choices of all a cloze item's choice and multi gaps: the paper
// draws one permutation of them, and each shuffled gap shows its own choices in the order they take
// in it.
func clozeOptionCount(it bank.Item) int {
	n := 0
	for _, g := range it.Gaps {
		if hasChoices(g) {
			n += len(g.Options)
		}
	}
	return n
}

// gapOrders gives, for each gap of a cloze item, the original index of the choice shown at each
// place (nil for gaps without choices). A gap that does not shuffle keeps its order; a paper drawn
// before the item had this many choices shows every gap in order.
func gapOrders(pi PaperItem, it bank.Item) [][]int {
	orders := make([][]int, len(it.Gaps))
	usable := len(pi.OptionOrder) == clozeOptionCount(it)
	start := 0
	for gi, g := range it.Gaps {
		if !hasChoices(g) {
			continue
		}
		n := len(g.Options)
		order := make([]int, 0, n)
		if g.Shuffle && usable {
			for _, k := range pi.OptionOrder {
				if k >= start && k < start+n {
					order = append(order, k-start)
				}
			}
		} else {
			for k := 0; k < n; k++ {
				order = append(order, k)
			}
		}
		orders[gi] = order
		start += n
	}
	return orders
}

// hasChoices tells whether a gap shows choices (a list, radio buttons or check boxes).
func hasChoices(g bank.Gap) bool { return g.Kind == bank.GapChoice || g.Kind == bank.GapMulti }

// buildPaper makes a paper from a seed, deterministically: the same seed, pool and option counts give
// the same paper, which is what lets a paper be rebuilt and checked. In fixed mode the choice of
// questions uses the session's seed (everyone gets the same questions); the order of questions within
// a section and of options always uses the attempt's own seed.
func buildPaper(mode string, fixedSeed, seed int64, pool []PoolSection, options func(versionID int64) int) []PaperItem {
	chooseSeed := seed
	if mode == Fixed {
		chooseSeed = fixedSeed
	}
	choose := rand.New(rand.NewPCG(uint64(chooseSeed), 0x5ea7))
	order := rand.New(rand.NewPCG(uint64(seed), 0x0de5))
	var paper []PaperItem
	for _, sec := range pool {
		idx := choose.Perm(len(sec.Versions))[:sec.Count]
		order.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for _, k := range idx {
			v := sec.Versions[k]
			pi := PaperItem{Position: len(paper), Section: sec.Section, Part: sec.Part, ItemID: v[0], VersionID: v[1], Points: sec.Points}
			if n := options(v[1]); n > 0 {
				pi.OptionOrder = order.Perm(n)
			}
			paper = append(paper, pi)
		}
	}
	return paper
}

// versionInfo is a delivered bank version held in memory.
type versionInfo struct {
	item bank.Item
}

// version loads a bank version, from memory when it was loaded before. db is the caller's
// transaction when it has one: taking a second pool connection while holding one would let a burst
// of starts exhaust the pool and wait on each other for ever.
func (s *Service) version(ctx context.Context, db pg.DB, id int64) (bank.Item, error) {
	if v, ok := s.versions.Load(id); ok {
		return v.(versionInfo).item, nil
	}
	st, err := bank.Version(ctx, db, id)
	if err != nil {
		return bank.Item{}, err
	}
	// Only a delivered version is frozen; others are not remembered.
	if st.Delivered {
		s.versions.Store(id, versionInfo{item: st.Item})
	}
	return st.Item, nil
}

// Question is an item as the candidate sees it: no weights, no accepted answers, no explanation, no
// feedback, no rubric. Options are in the paper's shuffled order.
type Question struct {
	Position int      `json:"position"`
	Section  int      `json:"section"`
	Part     string   `json:"part"`
	Type     string   `json:"type"`
	Title    string   `json:"title,omitempty"`
	Stem     string   `json:"stem"`
	Format   string   `json:"format"`
	Points   float64  `json:"points"`
	Options  []string `json:"options,omitempty"` // choices; for matching, the right-hand texts; for ordering, the elements as first shown
	Lefts    []Left   `json:"lefts,omitempty"`   // matching prompts
	Blanks   int      `json:"blanks,omitempty"`
	// Gaps of a cloze item, in the order of their {#n} markers in Stem.
	Gaps []QuestionGap `json:"gaps,omitempty"`
	// Images the item shows, served only to the attempt's owner.
	Images []QuestionImage `json:"images,omitempty"`
}

// QuestionImage is a picture of a question. URL is relative to the attempt's page base
// (/exams/attempts/{id}/); the browser resolves it. Inline images are referenced from the HTML stem,
// whose references are rewritten to the same URL; the others are shown below the stem.
type QuestionImage struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	Inline bool   `json:"inline,omitempty"`
}

// pluginFile is how Moodle (and the bank's HTML) refers to a question's own files.
const pluginFile = "@@PLUGINFILE@@/"

// imageURL is the path of a question's image, relative to the attempt's base.
func imageURL(position int, name string) string {
	return "images/" + strconv.Itoa(position) + "/" + url.PathEscape(name)
}

// QuestionGap is a gap of a cloze item as the candidate sees it: what it asks for and, for a choice
// gap, how it is shown and its choices in the paper's order.
type QuestionGap struct {
	Kind    string   `json:"kind"`
	Display string   `json:"display,omitempty"`
	Options []string `json:"options,omitempty"`
}

// Left is a matching prompt; Index is the pair it belongs to.
type Left struct {
	Index int    `json:"index"`
	Text  string `json:"text"`
}

func questionOf(pi PaperItem, it bank.Item) Question {
	q := Question{Position: pi.Position, Section: pi.Section, Part: pi.Part, Type: string(it.Type), Title: it.Title,
		Stem: it.Stem, Format: string(it.Format), Points: pi.Points}
	switch it.Type {
	case bank.SingleChoice, bank.MultipleChoice:
		for _, k := range pi.OptionOrder {
			q.Options = append(q.Options, it.Choices[k].Text)
		}
	case bank.Matching:
		for _, k := range pi.OptionOrder {
			q.Options = append(q.Options, it.Pairs[k].Right)
		}
		for i, p := range it.Pairs {
			if p.Left != "" {
				q.Lefts = append(q.Lefts, Left{Index: i, Text: p.Left})
			}
		}
	case bank.Ordering:
		for _, k := range sequenceShown(pi, it) {
			q.Options = append(q.Options, it.Sequence[k])
		}
	case bank.FillBlank:
		q.Blanks = len(it.Blanks)
	case bank.Cloze:
		orders := gapOrders(pi, it)
		for gi, g := range it.Gaps {
			qg := QuestionGap{Kind: string(g.Kind), Display: g.Display}
			for _, k := range orders[gi] {
				qg.Options = append(qg.Options, g.Options[k].Text)
			}
			q.Gaps = append(q.Gaps, qg)
		}
	}
	for _, im := range it.Images {
		u := imageURL(pi.Position, im.Name)
		inline := false
		if it.Format == bank.HTML {
			for _, ref := range []string{pluginFile + url.PathEscape(im.Name), pluginFile + im.Name} {
				if strings.Contains(q.Stem, `"`+ref+`"`) {
					q.Stem, inline = strings.ReplaceAll(q.Stem, `"`+ref+`"`, `"`+u+`"`), true
				}
			}
		}
		q.Images = append(q.Images, QuestionImage{Name: im.Name, URL: u, Inline: inline})
	}
	return q
}

// Answer is what the candidate's browser sends for one question. Choices index the options as shown.
type Answer struct {
	Choices []int    `json:"choices,omitempty"`
	Truth   *bool    `json:"truth,omitempty"`
	Blanks  []string `json:"blanks,omitempty"`
	Number  *float64 `json:"number,omitempty"`
	Matches []string `json:"matches,omitempty"` // by pair index: the right-hand text picked
	// Gaps of a cloze item, one per gap: for a choice gap the index of the choice as shown, for a
	// multi gap the indexes of the boxes ticked as shown, comma-separated ("0,2"), for the others
	// what was typed.
	Gaps []string `json:"gaps,omitempty"`
	// Order of an ordering item: the options as first shown (their indexes in Question.Options), in
	// the order the candidate put them, first to last.
	Order []int  `json:"order,omitempty"`
	Text  string `json:"text,omitempty"` // essay and practical notes
}

const maxAnswerBytes = 16 << 10

func (a Answer) check() error {
	b, _ := json.Marshal(a)
	if len(b) > maxAnswerBytes || len(a.Choices) > 64 || len(a.Blanks) > 64 || len(a.Matches) > 64 || len(a.Gaps) > 64 || len(a.Order) > 64 {
		return ErrBadAnswer
	}
	return nil
}

// response turns a candidate's answer into the bank's terms, undoing the option shuffle.
func response(pi PaperItem, it bank.Item, a Answer) bank.Response {
	r := bank.Response{Truth: a.Truth, Blanks: a.Blanks, Number: a.Number, Matches: a.Matches}
	if it.Type == bank.Cloze {
		orders := gapOrders(pi, it)
		for gi, g := range a.Gaps {
			if gi < len(orders) && orders[gi] != nil {
				g = unshuffleGap(orders[gi], it.Gaps[gi].Kind == bank.GapMulti, g)
			}
			r.Gaps = append(r.Gaps, g)
		}
		return r
	}
	if it.Type == bank.Ordering {
		shown := sequenceShown(pi, it)
		for _, k := range a.Order {
			if k < 0 || k >= len(shown) {
				r.Order = append(r.Order, -1) // names no row: scores nothing
				continue
			}
			r.Order = append(r.Order, shown[k])
		}
		return r
	}
	for _, c := range a.Choices {
		if c < 0 || c >= len(pi.OptionOrder) {
			r.Choices = append(r.Choices, -1) // names no option: scores nothing
			continue
		}
		r.Choices = append(r.Choices, pi.OptionOrder[c])
	}
	return r
}

// unshuffleGap turns the choices of a gap as shown into the item's own indexes; an answer naming
// no choice becomes "" and scores nothing.
func unshuffleGap(order []int, multi bool, answer string) string {
	if !multi {
		shown, err := strconv.Atoi(strings.TrimSpace(answer))
		if err != nil || shown < 0 || shown >= len(order) {
			return ""
		}
		return strconv.Itoa(order[shown])
	}
	picked, ok := bank.MultiPicks(answer, len(order))
	if !ok {
		return ""
	}
	orig := make([]string, len(picked))
	for i, shown := range picked {
		orig[i] = strconv.Itoa(order[shown])
	}
	return strings.Join(orig, ",")
}

// scoreItem marks an objective answer, scaled to the points the paper gives the item.
func scoreItem(pi PaperItem, it bank.Item, a *Answer) float64 {
	if a == nil || !it.Type.Objective() {
		return 0
	}
	earned, possible := bank.Score(it, response(pi, it, *a))
	if possible <= 0 {
		return 0
	}
	return round2(earned / possible * pi.Points)
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

func attemptSubject(id int64) string { return fmt.Sprintf("exam_attempt:%d", id) }
