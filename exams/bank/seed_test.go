package bank

import (
	"bytes"
	"context"
	"strconv"
	"testing"

	"shanyu/internal/pgtest"
)

func TestDemoBankIsCompleteAndCorrectlyShaped(t *testing.T) {
	t.Parallel()
	wb, err := demoWorkbook()
	if err != nil {
		t.Fatal(err)
	}
	res, err := ParseXLSX(bytes.NewReader(wb))
	if err != nil {
		t.Fatal(err)
	}
	types := map[Type]int{}
	topics := map[string]int{}
	for _, e := range res.Entries {
		if !e.OK() {
			t.Errorf("%v: %v", e.At, e.Problems)
			continue
		}
		it := e.Item
		types[it.Type]++
		topics[it.Category[0]]++
		if it.Occupation != "4-10-01-03" || it.Level != 4 || it.Difficulty < 1 || len(it.Tags) == 0 || it.Explanation == "" && it.Type.Objective() && it.Type != Matching {
			t.Errorf("%v: incomplete filing or explanation: %+v", e.At, it)
		}
		// Every objective item's key answer must earn full marks, and a wrong one must not.
		if it.Type.Objective() {
			right, wrong := keyResponse(it)
			if got, max := Score(it, right); got != max {
				t.Errorf("%v: the key earns %v of %v", e.At, got, max)
			}
			if got, _ := Score(it, wrong); got != 0 {
				t.Errorf("%v: a wrong answer earns %v", e.At, got)
			}
		}
	}
	if len(res.Entries) < 150 {
		t.Errorf("%d demo items, want at least 150", len(res.Entries))
	}
	for _, typ := range Types {
		if types[typ] == 0 {
			t.Errorf("no %s item in the demo bank", typ)
		}
	}
	for _, topic := range []string{"婴幼儿生活照料", "安全防护与应急处置", "卫生保健与疾病预防", "早期发展支持", "职业道德与心理健康"} {
		if topics[topic] < 25 {
			t.Errorf("topic %s has %d items", topic, topics[topic])
		}
	}
}

// keyResponse builds the response the answer key describes, and one that is wrong.
func keyResponse(it Item) (right, wrong Response) {
	switch it.Type {
	case SingleChoice, MultipleChoice:
		for i, c := range it.Choices {
			if c.Weight > 0 {
				right.Choices = append(right.Choices, i)
			} else if wrong.Choices == nil {
				wrong.Choices = []int{i}
			}
		}
	case TrueFalse:
		t, f := it.Truth, !it.Truth
		right.Truth, wrong.Truth = &t, &f
	case FillBlank:
		for _, b := range it.Blanks {
			right.Blanks = append(right.Blanks, b.Accepted[0].Text)
			wrong.Blanks = append(wrong.Blanks, "不知道")
		}
	case Numeric:
		v, w := it.Numbers[0].Value, it.Numbers[0].Value+it.Numbers[0].Tolerance+1000
		right.Number, wrong.Number = &v, &w
	case Matching:
		for _, p := range it.Pairs {
			right.Matches = append(right.Matches, p.Right)
			wrong.Matches = append(wrong.Matches, "")
		}
	case Ordering:
		// Every element one place late: none in its place, so partial credit earns nothing either.
		for i := range it.Sequence {
			right.Order = append(right.Order, i)
			wrong.Order = append(wrong.Order, (i+1)%len(it.Sequence))
		}
	case Cloze:
		for _, g := range it.Gaps {
			r, w := "", "不知道"
			switch g.Kind {
			case GapChoice:
				for i, o := range g.Options {
					if o.Weight == 1 {
						r = strconv.Itoa(i)
					} else if o.Weight <= 0 {
						w = strconv.Itoa(i)
					}
				}
			case GapText:
				r = g.Options[0].Text
			case GapNumber:
				r = formatNumber(g.Numbers[0].Value)
			}
			right.Gaps, wrong.Gaps = append(right.Gaps, r), append(wrong.Gaps, w)
		}
	}
	return right, wrong
}

func TestSeedDemoIsIdempotent(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	centre := newCentre(t, pool)
	ctx := context.Background()
	n, err := SeedDemo(ctx, pool, centre)
	if err != nil {
		t.Fatal(err)
	}
	if n < 150 {
		t.Fatalf("seeded %d items", n)
	}
	again, err := SeedDemo(ctx, pool, centre)
	if err != nil || again != 0 {
		t.Fatalf("second seed created %d, err %v", again, err)
	}
	if got := count(t, pool, "items", centre); got != n {
		t.Errorf("bank holds %d items, want %d", got, n)
	}
}
