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
