package exams

import (
	"testing"

	"shanyu/exams/bank"
)

// A cloze item on a paper: shuffled choice gaps show their own choices in the paper's order, the
// answer names them as shown, and the score undoes the shuffle.
func TestClozeOnAPaper(t *testing.T) {
	t.Parallel()
	stem, gaps, err := bank.ParseCloze("A {1:MCS:=right~w1~w2~w3} B {1:MC:=first~second} C {2:SA:=ok} D {1:NM:=2:0.5}")
	if err != nil {
		t.Fatal(err)
	}
	it := bank.Item{Type: bank.Cloze, Stem: stem, Format: bank.Plain, Points: 5, Gaps: gaps}
	if optionCount(it) != 6 {
		t.Fatalf("option count %d", optionCount(it))
	}
	// The permutation puts the second gap's choices first and reverses the first gap's.
	pi := PaperItem{Points: 10, OptionOrder: []int{5, 4, 3, 2, 1, 0}}
	q := questionOf(pi, it)
	if len(q.Gaps) != 4 || q.Gaps[0].Options[0] != "w3" || q.Gaps[0].Options[3] != "right" || q.Gaps[0].Display != bank.ShowSelect {
		t.Fatalf("shuffled gap %+v", q.Gaps[0])
	}
	if q.Gaps[1].Options[0] != "first" || q.Gaps[2].Kind != "text" || q.Gaps[3].Options != nil {
		t.Fatalf("gaps %+v", q.Gaps)
	}
	// "right" is shown at 3; the unshuffled gap keeps its order.
	full := &Answer{Gaps: []string{"3", "0", "OK", "2.4"}}
	if got := scoreItem(pi, it, full); got != 10 {
		t.Errorf("all right: %v", got)
	}
	if got := scoreItem(pi, it, &Answer{Gaps: []string{"0", "0", "", ""}}); got != 2 {
		t.Errorf("shown 0 is w3 (wrong), second gap right: %v, want 2", got)
	}
	if got := scoreItem(pi, it, &Answer{Gaps: []string{"9", "x", "ok"}}); got != 4 {
		t.Errorf("out-of-range choices score nothing, the text gap 2 of 5 weights: %v, want 4", got)
	}
	if (Answer{Gaps: make([]string, 65)}).check() == nil {
		t.Error("65 gaps accepted")
	}
}

// A multiple-response gap on a paper: its boxes shuffled with the paper, ticked as shown, scored in
// the item's terms; the solution ticks the right ones, and the results read the ticks by their text.
func TestClozeMultiGapOnAPaper(t *testing.T) {
	t.Parallel()
	stem, gaps, err := bank.ParseCloze("A {1:MC:=x~y} B {1:MRS:=苹果~=香蕉~汉堡}")
	if err != nil {
		t.Fatal(err)
	}
	it := bank.Item{Type: bank.Cloze, Stem: stem, Format: bank.Plain, Points: 2, Gaps: gaps}
	if optionCount(it) != 5 {
		t.Fatalf("option count %d", optionCount(it))
	}
	pi := PaperItem{Points: 4, OptionOrder: []int{4, 3, 2, 1, 0}}
	q := questionOf(pi, it)
	if g := q.Gaps[1]; g.Kind != "multi" || g.Display != bank.ShowVertical || len(g.Options) != 3 || g.Options[0] != "汉堡" || g.Options[2] != "苹果" {
		t.Fatalf("multi gap %+v", g)
	}
	for _, c := range []struct {
		ticks string
		want  float64
	}{{"1,2", 2}, {"2", 1}, {"0,1,2", 1}, {"0", 0}, {"2,2", 0}, {"5", 0}} {
		if got := scoreItem(pi, it, &Answer{Gaps: []string{"", c.ticks}}); got != c.want {
			t.Errorf("ticks %q as shown: %v, want %v", c.ticks, got, c.want)
		}
	}
	sol := solutionOf(pi, it)
	if got := scoreItem(pi, it, &sol); got != 4 || sol.Gaps[1] != "1,2" {
		t.Errorf("solution %v earns %v", sol.Gaps, got)
	}
	res := gapResults(pi, it, Answer{Gaps: []string{"1", "0,2"}})
	if len(res) != 2 || res[0].Given != "y" || res[0].Key != "x" || res[0].Fraction != 0 ||
		res[1].Given != "汉堡; 苹果" || res[1].Key != "苹果; 香蕉" || res[1].Fraction != 0 || res[1].Weight != 1 {
		t.Errorf("results %+v", res)
	}
	if res := gapResults(pi, it, Answer{Gaps: []string{"0", "2"}}); res[0].Given != "x" || res[0].Fraction != 1 || res[1].Given != "苹果" || res[1].Fraction != 0.5 {
		t.Errorf("results %+v", res)
	}
}
