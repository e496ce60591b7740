package bank

import (
	"math"
	"strconv"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func TestScore(t *testing.T) {
	t.Parallel()
	single := Item{Type: SingleChoice, Points: 2, Choices: []Option{
		{Text: "A", Weight: 0}, {Text: "B", Weight: 1}, {Text: "C", Weight: 0.5}, {Text: "D", Weight: -0.5},
	}}
	multiAll := Item{Type: MultipleChoice, Scoring: AllOrNothing, Points: 3, Choices: []Option{
		{Text: "A", Weight: 0.5}, {Text: "B", Weight: 0.5}, {Text: "C"}, {Text: "D"},
	}}
	multiPartial := multiAll
	multiPartial.Scoring = Partial
	multiPartial.Choices = []Option{
		{Text: "A", Weight: 0.5}, {Text: "B", Weight: 0.5}, {Text: "C", Weight: -0.5}, {Text: "D", Weight: -1},
	}
	tf := Item{Type: TrueFalse, Points: 1, Truth: false}
	blank := Item{Type: FillBlank, Points: 4, Blanks: []Blank{
		{Accepted: []Option{{Text: "ORS", Weight: 1}, {Text: "口服补液盐", Weight: 1}}},
		{Accepted: []Option{{Text: "37.5℃", Weight: 1}, {Text: "37.5", Weight: 0.5}}},
	}}
	num := Item{Type: Numeric, Points: 2, Numbers: []NumericAnswer{
		{Value: 1.5, Tolerance: 0.1, Weight: 1}, {Value: 1.5, Tolerance: 0.5, Weight: 0.5},
	}}
	match := Item{Type: Matching, Points: 3, Pairs: []Pair{
		{Left: "发热", Right: "物理降温"}, {Left: "烫伤", Right: "冷水冲洗"}, {Left: "鼻出血", Right: "头稍前倾"},
		{Right: "平躺抬高头部"},
	}}
	essay := Item{Type: Essay, Points: 10}

	tests := []struct {
		name string
		item Item
		resp Response
		want float64
	}{
		{"single right", single, Response{Choices: []int{1}}, 2},
		{"single partial weight", single, Response{Choices: []int{2}}, 1},
		{"single wrong", single, Response{Choices: []int{0}}, 0},
		{"single negative weight floors at zero", single, Response{Choices: []int{3}}, 0},
		{"single two picks earn nothing", single, Response{Choices: []int{1, 2}}, 0},
		{"single out of range", single, Response{Choices: []int{9}}, 0},
		{"single unanswered", single, Response{}, 0},
		{"all-or-nothing exact", multiAll, Response{Choices: []int{1, 0}}, 3},
		{"all-or-nothing duplicates ignored", multiAll, Response{Choices: []int{0, 1, 1}}, 3},
		{"all-or-nothing one missing", multiAll, Response{Choices: []int{0}}, 0},
		{"all-or-nothing one extra", multiAll, Response{Choices: []int{0, 1, 2}}, 0},
		{"partial all right", multiPartial, Response{Choices: []int{0, 1}}, 3},
		{"partial half", multiPartial, Response{Choices: []int{0}}, 1.5},
		{"partial negative weight subtracts", multiPartial, Response{Choices: []int{0, 1, 2}}, 1.5},
		{"partial floors at zero", multiPartial, Response{Choices: []int{0, 3}}, 0},
		{"partial pick everything", multiPartial, Response{Choices: []int{0, 1, 2, 3}}, 0},
		{"partial thirds add up to full marks", Item{Type: MultipleChoice, Scoring: Partial, Points: 3, Choices: []Option{
			{Text: "A", Weight: 0.3333333}, {Text: "B", Weight: 0.3333333}, {Text: "C", Weight: 0.3333333}, {Text: "D", Weight: -1},
		}}, Response{Choices: []int{0, 1, 2}}, 3},
		{"partial bad index voids", multiPartial, Response{Choices: []int{0, 1, -1}}, 0},
		{"true/false right", tf, Response{Truth: ptr(false)}, 1},
		{"true/false wrong", tf, Response{Truth: ptr(true)}, 0},
		{"true/false unanswered", tf, Response{}, 0},
		{"blanks exact", blank, Response{Blanks: []string{"ORS", "37.5℃"}}, 4},
		{"blanks full-width, case and spaces", blank, Response{Blanks: []string{" ｏｒｓ ", "３７．５　℃"}}, 4},
		{"blanks alternative answer", blank, Response{Blanks: []string{"口服 补液盐", "x"}}, 2},
		{"blanks weighted alternative", blank, Response{Blanks: []string{"ors", "37.5"}}, 3},
		{"blanks missing second", blank, Response{Blanks: []string{"ors"}}, 2},
		{"blanks empty answer", blank, Response{Blanks: []string{"", ""}}, 0},
		{"numeric inside tolerance", num, Response{Number: ptr(1.59)}, 2},
		{"numeric on the edge", num, Response{Number: ptr(1.4)}, 2},
		{"numeric wider tolerance", num, Response{Number: ptr(1.9)}, 1},
		{"numeric outside", num, Response{Number: ptr(2.1)}, 0},
		{"numeric NaN", num, Response{Number: ptr(math.NaN())}, 0},
		{"matching all", match, Response{Matches: []string{"物理降温", "冷水冲洗", "头稍前倾"}}, 3},
		{"matching one wrong", match, Response{Matches: []string{"物理降温", "平躺抬高头部", "头稍前倾"}}, 2},
		{"matching distractor pair ignored", match, Response{Matches: []string{"", "", "", "平躺抬高头部"}}, 0},
		{"essay not auto-scored", essay, Response{Blanks: []string{"anything"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, max := Score(tt.item, tt.resp)
			if math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("earned = %v, want %v", got, tt.want)
			}
			if max != tt.item.Points {
				t.Errorf("possible = %v, want %v", max, tt.item.Points)
			}
		})
	}
}

func TestScoreRubric(t *testing.T) {
	t.Parallel()
	prac := Item{Type: Practical, Points: 10, Rubric: []Criterion{{Text: "洗手", Points: 2}, {Text: "测温", Points: 3}}}
	tests := []struct {
		name          string
		item          Item
		marks         []float64
		earned, total float64
	}{
		{"sums criteria", prac, []float64{2, 1.5}, 3.5, 5},
		{"clamps each criterion", prac, []float64{5, -1}, 2, 5},
		{"missing marks count zero", prac, []float64{1}, 1, 5},
		{"no rubric uses points", Item{Type: Essay, Points: 8}, []float64{9}, 8, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, p := ScoreRubric(tt.item, tt.marks)
			if e != tt.earned || p != tt.total {
				t.Errorf("got %v/%v, want %v/%v", e, p, tt.earned, tt.total)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"ＡＢＣ１２３", "abc123"},
		{" Hello  World ", "helloworld"},
		{"口服　补液盐", "口服补液盐"},
		{"（括号）", "(括号)"},
		{"ｶﾀｶﾅ", "カタカナ"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	ok := Item{Type: SingleChoice, Stem: "q", Points: 1, Choices: []Option{{Text: "a", Weight: 1}, {Text: "b"}}}
	tests := []struct {
		name string
		mod  func(*Item)
		want string
	}{
		{"valid", func(*Item) {}, ""},
		{"unknown type", func(i *Item) { i.Type = "poll" }, keyTypeUnknown},
		{"empty stem", func(i *Item) { i.Stem = "  " }, keyStemEmpty},
		{"zero points", func(i *Item) { i.Points = 0 }, keyPointsInvalid},
		{"no correct choice", func(i *Item) { i.Choices[0].Weight = 0 }, keyNoCorrectChoice},
		{"weight out of range", func(i *Item) { i.Choices[1].Weight = -2 }, keyWeightRange},
		{"one choice", func(i *Item) { i.Choices = i.Choices[:1] }, keyChoicesTooFew},
		{"difficulty", func(i *Item) { i.Difficulty = 6 }, keyDifficultyRange},
		{"multiple without scoring", func(i *Item) { i.Type = MultipleChoice }, keyScoringUnknown},
		{"practical without rubric", func(i *Item) { i.Type = Practical; i.Choices = nil }, keyRubricEmpty},
		{"matching one pair", func(i *Item) { i.Type = Matching; i.Pairs = []Pair{{Left: "a", Right: "b"}} }, keyPairsTooFew},
		{"numeric negative tolerance", func(i *Item) {
			i.Type = Numeric
			i.Numbers = []NumericAnswer{{Value: 1, Tolerance: -1, Weight: 1}}
		}, keyToleranceNegative},
		{"blank without answer", func(i *Item) { i.Type = FillBlank; i.Blanks = []Blank{{Accepted: []Option{{Text: " ", Weight: 1}}}} }, keyBlankNoAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			it := ok
			it.Choices = append([]Option(nil), ok.Choices...)
			tt.mod(&it)
			got := it.Check()
			if tt.want == "" {
				if got != nil {
					t.Fatalf("Check = %v, want none", got)
				}
				return
			}
			found := false
			for _, k := range got {
				found = found || k == tt.want
			}
			if !found {
				t.Fatalf("Check = %v, want %s among them", got, tt.want)
			}
		})
	}
}

func TestHashIgnoresFiling(t *testing.T) {
	t.Parallel()
	a := Item{Type: TrueFalse, Stem: "s", Points: 1, Truth: true, Category: []string{"x"}, Difficulty: 2}
	b := a
	b.Category, b.Tags, b.Difficulty, b.Level = []string{"y"}, []string{"t"}, 5, 4
	if a.Hash() != b.Hash() {
		t.Fatal("filing changed the hash")
	}
	b.Truth = false
	if a.Hash() == b.Hash() {
		t.Fatal("the answer did not change the hash")
	}
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func fmtBool(b bool) string { return strconv.FormatBool(b) }
