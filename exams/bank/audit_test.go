package bank

import (
	"context"
	"errors"
	"testing"

	"shanyu/internal/pgtest"
)

// TestEditsAndRetirementsAreAudited: an edit, a retirement, a reactivation and a deletion each
// leave one audit row with the actor and the item; a refused edit and a retirement that changes
// nothing leave none.
func TestEditsAndRetirementsAreAudited(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	centre := newCentre(t, pool)
	ctx := context.Background()
	const actor = 4242
	it := Item{Type: TrueFalse, Stem: "新生儿每日睡眠约16小时。", Format: Plain, Points: 1, Choices: []Option{{Text: "对", Weight: 1}, {Text: "错"}}}
	a, err := Create(ctx, pool, centre, it)
	if err != nil {
		t.Fatal(err)
	}
	it2 := it
	it2.Stem = "婴儿可以用蜂蜜水代替白开水。"
	b, err := Create(ctx, pool, centre, it2)
	if err != nil {
		t.Fatal(err)
	}
	count := func(action string, subject int64) int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = $1 AND subject = 'bank_item:' || $2::bigint AND actor_id = $3`,
			action, subject, actor).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	it.Explanation = "新生儿每日睡眠16–20小时。"
	if _, err := Update(ctx, pool, actor, centre, a.ID, it); err != nil {
		t.Fatal(err)
	}
	if n := count("bank.item.update", a.ID); n != 1 {
		t.Errorf("audit rows of the edit: %d, want 1", n)
	}
	if n, err := Retire(ctx, pool, actor, centre, []int64{a.ID, b.ID}); err != nil || n != 2 {
		t.Fatalf("retire: %d, %v", n, err)
	}
	var items string
	if err := pool.QueryRow(ctx, `SELECT details->>'items' FROM audit_log WHERE action = 'bank.item.retire'`).Scan(&items); err != nil {
		t.Fatal(err)
	}
	if n := count("bank.item.retire", a.ID); n != 1 || items == "" {
		t.Errorf("audit rows of the retirement: %d (items %s), want 1 naming both", n, items)
	}
	// Retiring again changes nothing and records nothing; editing a retired item is refused unrecorded.
	if n, err := Retire(ctx, pool, actor, centre, []int64{a.ID}); err != nil || n != 0 {
		t.Fatalf("retire again: %d, %v", n, err)
	}
	if _, err := Update(ctx, pool, actor, centre, a.ID, it); !errors.Is(err, ErrRetired) {
		t.Fatalf("edit of a retired item: %v", err)
	}
	if n := count("bank.item.retire", a.ID); n != 1 {
		t.Errorf("audit rows after retiring again: %d, want still 1", n)
	}
	if n := count("bank.item.update", a.ID); n != 1 {
		t.Errorf("audit rows after a refused edit: %d, want still 1", n)
	}
	if n, err := Reactivate(ctx, pool, actor, centre, []int64{b.ID}); err != nil || n != 1 {
		t.Fatalf("reactivate: %d, %v", n, err)
	}
	if n := count("bank.item.reactivate", b.ID); n != 1 {
		t.Errorf("audit rows of the reactivation: %d, want 1", n)
	}
	if err := Delete(ctx, pool, actor, centre, b.ID); err != nil {
		t.Fatal(err)
	}
	if n := count("bank.item.delete", b.ID); n != 1 {
		t.Errorf("audit rows of the deletion: %d, want 1", n)
	}
}
