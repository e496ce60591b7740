package bank

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/internal/pgtest"
)

var centreSeq atomic.Int64

// newCentre creates a training centre to hold a bank. Organisations belong to accounts; a test
// fixture may still write the row, since no accounts function creates one yet.
func newCentre(tb testing.TB, pool *pgxpool.Pool) int64 {
	tb.Helper()
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO regions (code, gb_code, name) VALUES ('33', '330000', '浙江省') ON CONFLICT DO NOTHING`); err != nil {
		tb.Fatal(err)
	}
	var id int64
	code := fmt.Sprintf("TC%d", centreSeq.Add(1))
	if err := pool.QueryRow(ctx, `INSERT INTO organisations (kind, code, name, region_code) VALUES ('training_centre', $1, '培训中心', '33') RETURNING id`, code).Scan(&id); err != nil {
		tb.Fatal(err)
	}
	return id
}

func count(tb testing.TB, pool *pgxpool.Pool, table string, centreID int64) int {
	tb.Helper()
	queries := map[string]string{
		"items":      `SELECT count(*) FROM bank_items WHERE organisation_id = $1`,
		"versions":   `SELECT count(*) FROM bank_item_versions v JOIN bank_items i ON i.id = v.item_id WHERE i.organisation_id = $1`,
		"categories": `SELECT count(*) FROM bank_categories WHERE organisation_id = $1`,
		"tags":       `SELECT count(*) FROM bank_tags WHERE organisation_id = $1`,
		"images":     `SELECT count(*) FROM bank_images m JOIN bank_item_versions v ON v.id = m.version_id JOIN bank_items i ON i.id = v.item_id WHERE i.organisation_id = $1`,
	}
	var n int
	if err := pool.QueryRow(context.Background(), queries[table], centreID).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

func importFile(tb testing.TB, pool *pgxpool.Pool, centreID int64, name string, dryRun bool) *Report {
	tb.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	f := GIFT
	if name[len(name)-4:] == ".xml" {
		f = MoodleXML
	}
	rep, err := Import(context.Background(), pool, centreID, f, bytes.NewReader(data), dryRun)
	if err != nil {
		tb.Fatalf("import %s: %v", name, err)
	}
	return rep
}

func TestImportPreviewThenCommitIsIdempotent(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	centre := newCentre(t, pool)

	preview := importFile(t, pool, centre, "testdata/all.gift", true)
	if !preview.DryRun || preview.Questions != 19 || preview.Created != 15 || len(preview.Skipped) != 4 {
		t.Fatalf("preview = %+v", preview)
	}
	if n := count(t, pool, "items", centre); n != 0 {
		t.Fatalf("a dry run stored %d items", n)
	}
	first := importFile(t, pool, centre, "testdata/all.gift", false)
	if first.Created != preview.Created || first.Categories != 3 {
		t.Fatalf("first import = %+v", first)
	}
	if diff := cmp.Diff(preview.Skipped, first.Skipped); diff != "" {
		t.Errorf("commit skipped other entries than the preview: %s", diff)
	}
	again := importFile(t, pool, centre, "testdata/all.gift", false)
	if again.Created != 0 || again.Categories != 0 || len(again.Skipped) != 19 {
		t.Fatalf("second import = %+v", again)
	}
	exists := 0
	for _, s := range again.Skipped {
		if s.Reason == keyExists {
			exists++
			if s.Existing == 0 || s.Line == 0 {
				t.Errorf("skip without item or line: %+v", s)
			}
		}
	}
	if exists != 15 {
		t.Errorf("%d skipped as existing, want 15", exists)
	}
	if n := count(t, pool, "items", centre); n != 15 {
		t.Errorf("bank holds %d items, want 15", n)
	}
	// The same questions are new to another centre.
	other := newCentre(t, pool)
	if rep := importFile(t, pool, other, "testdata/all.gift", false); rep.Created != 15 {
		t.Errorf("other centre created %d", rep.Created)
	}
}

func TestImportSkipsDuplicatesWithinAFile(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	centre := newCentre(t, pool)
	rep, err := Import(context.Background(), pool, centre, GIFT, bytes.NewReader([]byte("甲{T}\n\n// again, in another category\n$CATEGORY: x\n\n甲{T}\n")), false)
	if err != nil {
		t.Fatal(err)
	}
	want := []Skip{{Line: 6, Reason: keyDuplicateInFile, Detail: "same as line 1"}}
	if rep.Created != 1 || !cmp.Equal(want, rep.Skipped) {
		t.Fatalf("report = %+v, skipped %s", rep, cmp.Diff(want, rep.Skipped))
	}
}

func TestImportSavesNothingOnFailure(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	centre := newCentre(t, pool)
	res := parseFile(t, "testdata/all.xml")
	// The last entry breaks a database constraint after categories, tags and other items were
	// written; the parsers never let this through, so it stands for any failure half-way.
	bad := res.Entries[1]
	bad.Item.Stem = "另一道题"
	bad.Item.Difficulty = 9
	bad.Problems = nil
	res.Entries = append(res.Entries, bad)
	_, err := Commit(context.Background(), pool, centre, res)
	if err == nil {
		t.Fatal("commit succeeded")
	}
	for _, table := range []string{"items", "versions", "categories", "tags", "images"} {
		if n := count(t, pool, table, centre); n != 0 {
			t.Errorf("%d %s left after a failed import", n, table)
		}
	}
	if _, err := Commit(context.Background(), pool, 1<<40, parseFile(t, "testdata/all.gift")); !errors.Is(err, ErrCentreNotFound) {
		t.Errorf("unknown centre: err = %v", err)
	}
}

func TestStoredItemsKeepEverything(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	centre := newCentre(t, pool)
	ctx := context.Background()
	want := append(parseFile(t, "testdata/all.xml").Items(), parseFile(t, "testdata/all.gift").Items()...)
	rep := importFile(t, pool, centre, "testdata/all.xml", false)
	rep2 := importFile(t, pool, centre, "testdata/all.gift", false)
	var got []Item
	for _, id := range append(rep.ItemIDs, rep2.ItemIDs...) {
		s, err := Get(ctx, pool, centre, id)
		if err != nil {
			t.Fatal(err)
		}
		if s.Version != 1 || s.Status != Active || s.Delivered {
			t.Errorf("item %d: version %d status %s delivered %v", id, s.Version, s.Status, s.Delivered)
		}
		got = append(got, s.Item)
	}
	// Tags come back sorted by name.
	opts := append(roundTripOpts, cmpopts.SortSlices(func(a, b string) bool { return a < b }))
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("stored items (-imported +read):\n%s", diff)
	}
	if _, err := Get(ctx, pool, newCentre(t, pool), rep.ItemIDs[0]); !errors.Is(err, ErrNotFound) {
		t.Errorf("another centre's item: err = %v", err)
	}
}

func TestEditingADeliveredItemMakesANewVersion(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	centre := newCentre(t, pool)
	ctx := context.Background()
	it := Item{Type: TrueFalse, Stem: "婴儿可以用蜂蜜水代替白开水。", Format: Plain, Points: 1, Category: []string{"生活照料"}}
	s, err := Create(ctx, pool, centre, it)
	if err != nil {
		t.Fatal(err)
	}
	v1 := s.VersionID

	// Not yet delivered: edits change the version in place.
	it.Explanation = "1岁以内婴儿不宜食用蜂蜜。"
	s, err = Update(ctx, pool, 0, centre, s.ID, it)
	if err != nil {
		t.Fatal(err)
	}
	if s.VersionID != v1 || s.Version != 1 || s.Item.Explanation != it.Explanation {
		t.Fatalf("in-place edit gave %+v", s)
	}

	if err := MarkDelivered(ctx, pool, []int64{v1, v1}); err != nil {
		t.Fatal(err)
	}
	if err := MarkDelivered(ctx, pool, []int64{v1, 1 << 40}); !errors.Is(err, ErrVersionNotFound) {
		t.Errorf("unknown version: err = %v", err)
	}
	edited := it
	edited.Stem = "1岁以内婴儿可以用蜂蜜水代替白开水。"
	s2, err := Update(ctx, pool, 0, centre, s.ID, edited)
	if err != nil {
		t.Fatal(err)
	}
	if s2.VersionID == v1 || s2.Version != 2 || s2.Delivered || s2.Item.Stem != edited.Stem {
		t.Fatalf("edit after delivery gave %+v", s2)
	}
	old, err := Version(ctx, pool, v1)
	if err != nil {
		t.Fatal(err)
	}
	if old.Item.Stem != it.Stem || !old.Delivered || old.Version != 1 {
		t.Errorf("the delivered version changed: %+v", old)
	}
	// Filing changes make no version.
	refiled := edited
	refiled.Category, refiled.Tags, refiled.Difficulty = []string{"安全"}, []string{"喂养"}, 2
	s3, err := Update(ctx, pool, 0, centre, s.ID, refiled)
	if err != nil {
		t.Fatal(err)
	}
	if s3.VersionID != s2.VersionID || !cmp.Equal(s3.Item.Category, []string{"安全"}) || s3.Item.Difficulty != 2 {
		t.Errorf("refiling gave %+v", s3)
	}
	// The database refuses to change a delivered version behind the bank's back.
	if _, err := pool.Exec(ctx, `UPDATE bank_item_versions SET content = '{}' WHERE id = $1`, v1); err == nil {
		t.Error("a delivered version was changed")
	}
	// Re-importing the original content finds it in the old version.
	rep, err := Import(ctx, pool, centre, GIFT, bytes.NewReader([]byte("婴儿可以用蜂蜜水代替白开水。{F}")), false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != 0 {
		t.Errorf("re-import after edit created %d", rep.Created)
	}

	if err := Delete(ctx, pool, 0, centre, s.ID); !errors.Is(err, ErrInUse) {
		t.Errorf("delete of a used item: err = %v", err)
	}
	if n, err := Retire(ctx, pool, 0, centre, []int64{s.ID}); err != nil || n != 1 {
		t.Fatalf("retire = %d, %v", n, err)
	}
	if _, err := Update(ctx, pool, 0, centre, s.ID, it); !errors.Is(err, ErrRetired) {
		t.Errorf("edit of a retired item: err = %v", err)
	}
	if n, err := Reactivate(ctx, pool, 0, centre, []int64{s.ID}); err != nil || n != 1 {
		t.Errorf("reactivate = %d, %v", n, err)
	}
}

func TestEditValidationAndConflicts(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	centre := newCentre(t, pool)
	ctx := context.Background()
	a, err := Create(ctx, pool, centre, Item{Type: TrueFalse, Stem: "甲", Format: Plain, Points: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Create(ctx, pool, centre, Item{Type: TrueFalse, Stem: "乙", Format: Plain, Points: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Update(ctx, pool, 0, centre, b.ID, a.Item); !errors.Is(err, ErrDuplicate) {
		t.Errorf("edit into a duplicate: err = %v", err)
	}
	_, err = Create(ctx, pool, centre, Item{Type: SingleChoice, Stem: "", Points: 1})
	if !errors.Is(err, ErrInvalidItem) {
		t.Fatalf("invalid item: err = %v", err)
	}
	if _, err := Update(ctx, pool, 0, centre, 1<<40, a.Item); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown item: err = %v", err)
	}
	if err := Delete(ctx, pool, 0, centre, a.ID); err != nil {
		t.Fatalf("delete unused: %v", err)
	}
	if _, err := Get(ctx, pool, centre, a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted item: err = %v", err)
	}
}

func TestListFiltersAndBulkActions(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	centre := newCentre(t, pool)
	ctx := context.Background()
	importFile(t, pool, centre, "testdata/all.gift", false) // 15 items: 6 in 生活照料, 9 in 安全防护
	importFile(t, pool, centre, "testdata/all.xml", false)  // 10 items under 卫生保健, 7 of them in 传染病
	cats, err := Categories(ctx, pool, centre)
	if err != nil {
		t.Fatal(err)
	}
	catID := map[string]int64{}
	for _, c := range cats {
		catID[fmt.Sprint(c.Path)] = c.ID
	}
	health := catID["[保育师 卫生保健]"]
	tests := []struct {
		name string
		f    Filter
		want int
	}{
		{"everything", Filter{}, 25},
		{"text", Filter{Text: "婴儿"}, 6},
		{"text is not a pattern", Filter{Text: "%"}, 0},
		{"category subtree", Filter{CategoryID: health}, 10},
		{"leaf category", Filter{CategoryID: catID["[保育师 卫生保健 传染病]"]}, 7},
		{"root category", Filter{CategoryID: catID["[保育师]"]}, 25},
		{"tag", Filter{Tag: "消毒"}, 1},
		{"type", Filter{Type: TrueFalse}, 6},
		{"difficulty", Filter{Difficulty: 3}, 1},
		{"status", Filter{Status: Retired}, 0},
	}
	for _, tt := range tests {
		page, err := List(ctx, pool, centre, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != tt.want || len(page.Items) != min(tt.want, DefaultLimit) {
			t.Errorf("%s: total %d, %d on the page, want %d", tt.name, page.Total, len(page.Items), tt.want)
		}
	}
	p1, _ := List(ctx, pool, centre, Filter{Limit: 10})
	p3, _ := List(ctx, pool, centre, Filter{Limit: 10, Offset: 20})
	if len(p1.Items) != 10 || len(p3.Items) != 5 || p1.Items[0].ID == p3.Items[0].ID {
		t.Errorf("pages: %d and %d items", len(p1.Items), len(p3.Items))
	}

	ids := []int64{p1.Items[0].ID, p1.Items[1].ID}
	if n, err := Tag(ctx, pool, centre, ids, []string{"重点", " ", "重点"}); err != nil || n != 2 {
		t.Fatalf("tag = %d, %v", n, err)
	}
	if n, err := Move(ctx, pool, centre, ids, []string{"保育师", "复习"}); err != nil || n != 2 {
		t.Fatalf("move = %d, %v", n, err)
	}
	if n, err := Retire(ctx, pool, 0, centre, ids); err != nil || n != 2 {
		t.Fatalf("retire = %d, %v", n, err)
	}
	page, err := List(ctx, pool, centre, Filter{Tag: "重点", Status: Retired})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 2 || !cmp.Equal(page.Items[0].Category, []string{"保育师", "复习"}) {
		t.Errorf("after bulk actions: %+v", page)
	}
	// Bulk actions never reach into another centre's bank.
	other := newCentre(t, pool)
	if n, _ := Retire(ctx, pool, 0, other, []int64{p1.Items[5].ID}); n != 0 {
		t.Errorf("retired %d items of another centre", n)
	}
}

func TestExportFromOneCentreImportsIntoAnother(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	a := newCentre(t, pool)
	importFile(t, pool, a, "testdata/all.xml", false)
	importFile(t, pool, a, "testdata/all.gift", false)
	items, err := Items(ctx, pool, a, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 25 {
		t.Fatalf("exported %d items", len(items))
	}
	var buf bytes.Buffer
	if err := WriteMoodleXML(&buf, items); err != nil {
		t.Fatal(err)
	}
	b := newCentre(t, pool)
	rep, err := Import(ctx, pool, b, MoodleXML, &buf, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != len(items) || len(rep.Skipped) != 0 {
		t.Errorf("moodle xml: %+v", rep)
	}
	back, err := Items(ctx, pool, b, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(items, back, roundTripOpts); diff != "" {
		t.Errorf("(-centre a +centre b):\n%s", diff)
	}

	// Excel is plain text: every item arrives, HTML flattened.
	buf.Reset()
	if err := WriteXLSX(&buf, items); err != nil {
		t.Fatal(err)
	}
	c := newCentre(t, pool)
	rep, err = Import(ctx, pool, c, XLSX, &buf, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Questions != len(items) || rep.Created != len(items) {
		t.Errorf("xlsx: %+v", rep)
	}
}

// TestMoodleXMLRoundTripIntoTheSameBankCreatesNothing: a bank exported to Moodle XML and imported
// back creates 0 items, even when the trip through Moodle changed a question's text (the idnumber
// carries the content hash); into another bank it creates all of them.
func TestMoodleXMLRoundTripIntoTheSameBankCreatesNothing(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	a := newCentre(t, pool)
	if _, err := SeedDemo(ctx, pool, a); err != nil {
		t.Fatal(err)
	}
	importFile(t, pool, a, "testdata/all.xml", false)
	importFile(t, pool, a, "testdata/moodle/cloze-and-unknown.xml", false)
	importFile(t, pool, a, "testdata/moodle/gift-examples.gift", false)
	items, err := Items(ctx, pool, a, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteMoodleXML(&buf, items); err != nil {
		t.Fatal(err)
	}
	exported := buf.String()
	// A question renamed in Moodle on its way through still comes back as the same question.
	edited := strings.Replace(exported, "<text>Good one</text>", "<text>Good one, renamed in Moodle</text>", 1)
	if edited == exported {
		t.Fatal("the edit found nothing to change")
	}
	for name, file := range map[string]string{"as exported": exported, "edited by Moodle": edited} {
		rep, err := Import(ctx, pool, a, MoodleXML, strings.NewReader(file), false)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("same bank, %s: %d questions, %d created, %d skipped", name, rep.Questions, rep.Created, len(rep.Skipped))
		if rep.Created != 0 || rep.Questions != len(items) {
			t.Errorf("same bank, %s: %+v", name, rep)
		}
	}
	b := newCentre(t, pool)
	rep, err := Import(ctx, pool, b, MoodleXML, strings.NewReader(exported), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("another bank: %d questions, %d created, %d skipped", rep.Questions, rep.Created, len(rep.Skipped))
	if rep.Created != len(items) {
		t.Errorf("another bank: created %d of %d: %+v", rep.Created, len(items), rep.Skipped)
	}
}
