package bank

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func orderingItem() Item {
	return Item{Type: Ordering, Stem: "按顺序排列七步洗手法的前四步", Points: 4, Format: Plain, Scoring: AllOrNothing,
		Sequence: []string{"内", "外", "夹", "弓"}}
}

func TestOrderingCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mod  func(*Item)
		want []string
	}{
		{"valid", func(*Item) {}, nil},
		{"partial", func(i *Item) { i.Scoring = Partial }, nil},
		{"one element", func(i *Item) { i.Sequence = i.Sequence[:1] }, []string{keySequenceTooFew}},
		{"none", func(i *Item) { i.Sequence = nil }, []string{keySequenceTooFew}},
		{"empty element", func(i *Item) { i.Sequence[2] = " \u3000" }, []string{keySequenceEmpty}},
		// Full-width and case fold: the candidate could not tell ＡＢ from ab.
		{"duplicate", func(i *Item) { i.Sequence = []string{"AB", "c", "ａｂ"} }, []string{keySequenceDuplicate}},
		{"no scoring", func(i *Item) { i.Scoring = "" }, []string{keyScoringUnknown}},
		{"too many", func(i *Item) {
			i.Sequence = nil
			for k := 0; k <= maxParts; k++ {
				i.Sequence = append(i.Sequence, strings.Repeat("步", k+1))
			}
		}, []string{keyTooManyParts}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := orderingItem()
			it.Sequence = append([]string(nil), it.Sequence...)
			tt.mod(&it)
			if got := it.Check(); !cmp.Equal(got, tt.want) {
				t.Fatalf("Check = %v, want %v", got, tt.want)
			}
		})
	}
	// Each key names its field in both languages.
	for _, k := range []string{keySequenceTooFew, keySequenceEmpty, keySequenceDuplicate} {
		if !strings.HasPrefix(k, "bank.item.sequence_") {
			t.Errorf("%s does not name the sequence field", k)
		}
	}
}

func TestOrderingScore(t *testing.T) {
	t.Parallel()
	all := orderingItem()
	part := orderingItem()
	part.Scoring = Partial
	tests := []struct {
		name      string
		order     []int
		all, part float64
	}{
		{"right", []int{0, 1, 2, 3}, 4, 4},
		{"two swapped", []int{1, 0, 2, 3}, 0, 2},
		{"reversed", []int{3, 2, 1, 0}, 0, 0},
		{"rotated", []int{1, 2, 3, 0}, 0, 0},
		{"last two swapped", []int{0, 1, 3, 2}, 0, 2},
		{"unanswered", nil, 0, 0},
		{"too short", []int{0, 1, 2}, 0, 0},
		{"repeated", []int{0, 0, 2, 3}, 0, 0},
		{"out of range", []int{0, 1, 2, 4}, 0, 0},
		{"negative", []int{-1, 1, 2, 3}, 0, 0},
	}
	for _, tt := range tests {
		if got, possible := Score(all, Response{Order: tt.order}); got != tt.all || possible != 4 {
			t.Errorf("%s, all or nothing: %v of %v, want %v", tt.name, got, possible, tt.all)
		}
		if got, _ := Score(part, Response{Order: tt.order}); got != tt.part {
			t.Errorf("%s, partial: %v, want %v", tt.name, got, tt.part)
		}
	}
}

func TestOrderingHash(t *testing.T) {
	t.Parallel()
	a := orderingItem()
	seen := map[string]string{a.Hash(): "original"}
	for name, mod := range map[string]func(*Item){
		"order":    func(i *Item) { i.Sequence[0], i.Sequence[1] = i.Sequence[1], i.Sequence[0] },
		"text":     func(i *Item) { i.Sequence[3] = "腕" },
		"one more": func(i *Item) { i.Sequence = append(i.Sequence, "腕") },
		"scoring":  func(i *Item) { i.Scoring = Partial },
		// A boundary moved between elements must not give the same hash.
		"boundary": func(i *Item) { i.Sequence = []string{"内外", "", "夹", "弓"} },
	} {
		b := orderingItem()
		b.Sequence = append([]string(nil), a.Sequence...)
		mod(&b)
		if other, dup := seen[b.Hash()]; dup {
			t.Errorf("%s: same hash as %s", name, other)
		}
		seen[b.Hash()] = name
	}
	// Items without a sequence keep the hash they had before ordering existed: the sequence is not
	// written into it at all.
	tf := Item{Type: TrueFalse, Stem: "s", Points: 1, Truth: true}
	withEmpty := tf
	withEmpty.Sequence = []string{}
	if tf.Hash() != withEmpty.Hash() {
		t.Error("an empty sequence changed the hash")
	}
}

// TestOrderingQTIRoundTrip: both scorings are written as QTI and read back unchanged: all or nothing
// as match_correct, partial credit as one response condition per place.
func TestOrderingQTIRoundTrip(t *testing.T) {
	t.Parallel()
	all := orderingItem()
	part := orderingItem()
	part.Scoring, part.Points, part.Title, part.Explanation = Partial, 3, "部分得分", "先内后外"
	part.Sequence = []string{"<洗手>", "准备 & 检查", "更换"}
	var buf bytes.Buffer
	skipped, err := WriteQTI(&buf, []Item{all, part})
	if err != nil || len(skipped) != 0 {
		t.Fatalf("%v %+v", err, skipped)
	}
	back, err := ParseQTI(&buf)
	if err != nil {
		t.Fatal(err)
	}
	got := back.Items()
	if diff := cmp.Diff([]Item{all, part}, got, roundTripOpts, qtiOpts); diff != "" {
		t.Fatalf("(-written +read):\n%s", diff)
	}
	doc, _ := qtiDocument(part, "x")
	for _, want := range []string{`cardinality="ordered"`, `<qti-order-interaction response-identifier="RESPONSE" shuffle="true">`,
		`<qti-index n="3">`, `<qti-base-value base-type="float">1</qti-base-value>`} {
		if !strings.Contains(doc, want) {
			t.Errorf("the partial item's QTI lacks %s:\n%s", want, doc)
		}
	}
	// The per-place processing is only read as partial credit when it names the right order.
	tampered := strings.Replace(doc, `<qti-index n="3"><qti-variable identifier="RESPONSE"/></qti-index><qti-base-value base-type="identifier">C3`,
		`<qti-index n="3"><qti-variable identifier="RESPONSE"/></qti-index><qti-base-value base-type="identifier">C1`, 1)
	res, err := ParseQTI(strings.NewReader(tampered))
	if err != nil || len(res.Entries) != 1 || res.Entries[0].OK() || res.Entries[0].Problems[0].Key != keyQTIProcessing {
		t.Fatalf("tampered processing: %v %+v", err, res)
	}
}

// TestOrderingMoodleAndGIFT: Moodle XML carries ordering as qtype_ordering (answers' fractions are
// their places) both ways; the relative gradings are skipped by name; GIFT cannot express it and
// the export names it.
func TestOrderingMoodleAndGIFT(t *testing.T) {
	t.Parallel()
	all := orderingItem()
	part := orderingItem()
	part.Scoring = Partial
	var buf bytes.Buffer
	if err := WriteMoodleXML(&buf, []Item{all, part}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<question type="ordering">`, `<gradingtype>ALL_OR_NOTHING</gradingtype>`,
		`<gradingtype>ABSOLUTE_POSITION</gradingtype>`, `<answer fraction="4" format="plain_text">`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("Moodle XML lacks %s", want)
		}
	}
	res, err := ParseMoodleXML(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Item{all, part}, res.Items(), roundTripOpts, qtiOpts); diff != "" {
		t.Errorf("(-written +read):\n%s", diff)
	}
	// Moodle's own export, with answers out of order and a relative grading.
	moodle := `<quiz><question type="ordering"><name><text>Moodle</text></name><questiontext format="html"><text>Put these words in order.</text></questiontext>
<gradingtype>ABSOLUTE_POSITION</gradingtype><selecttype>ALL</selecttype><selectcount>0</selectcount>
<answer fraction="2.0000000" format="html"><text>Object</text></answer><answer fraction="1.0000000" format="html"><text>Modular</text></answer>
<answer fraction="3.0000000" format="html"><text>Oriented</text></answer></question>
<question type="ordering"><name><text>relative</text></name><questiontext><text>x</text></questiontext><gradingtype>RELATIVE_NEXT_EXCLUDE_LAST</gradingtype>
<answer fraction="1"><text>a</text></answer><answer fraction="2"><text>b</text></answer></question>
<question type="ordering"><name><text>subset</text></name><questiontext><text>x</text></questiontext><gradingtype>ALL_OR_NOTHING</gradingtype><selecttype>RANDOM</selecttype><selectcount>2</selectcount>
<answer fraction="1"><text>a</text></answer><answer fraction="2"><text>b</text></answer><answer fraction="3"><text>c</text></answer></question></quiz>`
	res, err = ParseMoodleXML(strings.NewReader(moodle))
	if err != nil || len(res.Entries) != 3 {
		t.Fatalf("%v %+v", err, res)
	}
	if it := res.Entries[0].Item; !res.Entries[0].OK() || it.Scoring != Partial || !cmp.Equal(it.Sequence, []string{"Modular", "Object", "Oriented"}) {
		t.Errorf("Moodle's ordering: %+v %+v", it, res.Entries[0].Problems)
	}
	for _, e := range res.Entries[1:] {
		if e.OK() || e.Problems[0].Key != keyMoodleUnsupported {
			t.Errorf("%s: want a named skip, got %+v", e.Item.Title, e.Problems)
		}
	}
	buf.Reset()
	skipped, err := WriteGIFT(&buf, []Item{all})
	if err != nil || len(skipped) != 1 || skipped[0].Type != string(Ordering) || skipped[0].Detail != "GIFT has no ordering questions" {
		t.Fatalf("GIFT: %v %+v", err, skipped)
	}
}

func TestOrderingXLSXRoundTrip(t *testing.T) {
	t.Parallel()
	part := orderingItem()
	part.Scoring = Partial
	items := []Item{orderingItem(), part}
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, items); err != nil {
		t.Fatal(err)
	}
	res, err := ParseXLSX(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(items, res.Items(), roundTripOpts, qtiOpts); diff != "" {
		t.Errorf("(-written +read):\n%s", diff)
	}
}
