package exams

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river"

	"shanyu/exams/bank"
	"shanyu/internal/gzsplice"
	"shanyu/internal/pgtest"
)

// registrationOf is the id of a person's registration in the fixture's session.
func (f *fixture) registrationOf(t *testing.T, person int64) int64 {
	t.Helper()
	var id int64
	if err := f.pool.QueryRow(context.Background(), `SELECT id FROM exam_registrations WHERE session_id = $1 AND person_id = $2`,
		f.session.ID, person).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// storedPaperOf reads the paper stored for a registration's attempt number, and its pool revision.
func (f *fixture) storedPaperOf(t *testing.T, registrationID int64, number int) ([]PaperItem, []Question, int) {
	t.Helper()
	var items, gz []byte
	var rev int
	err := f.pool.QueryRow(context.Background(), `SELECT items, questions_gz, pool_rev FROM exam_papers WHERE registration_id = $1 AND number = $2`,
		registrationID, number).Scan(&items, &gz, &rev)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, 0
	}
	if err != nil {
		t.Fatal(err)
	}
	paper, err := decodeItems(items)
	if err != nil {
		t.Fatal(err)
	}
	questions, err := gzsplice.Segment(gz).Text() // a paper built now is stored compressed
	if err != nil {
		t.Fatal(err)
	}
	var qs []Question
	if err := json.Unmarshal(questions, &qs); err != nil {
		t.Fatal(err)
	}
	return paper, qs, rev
}

// workQueued works the jobs of one kind the fixture's inserter queued (no worker runs in these
// tests), as River would, and returns how many there were.
func (f *fixture) workQueued(t *testing.T, kind string) int {
	t.Helper()
	ctx := context.Background()
	rows, err := f.pool.Query(ctx, `DELETE FROM river_job WHERE kind = $1 RETURNING args`, kind)
	if err != nil {
		t.Fatal(err)
	}
	args, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range args {
		switch kind {
		case BuildPaperArgs{}.Kind():
			var a BuildPaperArgs
			if err := json.Unmarshal(raw, &a); err != nil {
				t.Fatal(err)
			}
			err = (&BuildPaperWorker{Exams: f.svc}).Work(ctx, &river.Job[BuildPaperArgs]{Args: a})
		case RebuildPapersArgs{}.Kind():
			var a RebuildPapersArgs
			if err := json.Unmarshal(raw, &a); err != nil {
				t.Fatal(err)
			}
			err = (&RebuildPapersWorker{Exams: f.svc}).Work(ctx, &river.Job[RebuildPapersArgs]{Args: a})
		}
		if err != nil {
			t.Fatalf("%s job: %v", kind, err)
		}
	}
	return len(args)
}

// TestPaperIsBuiltAtApprovalAndStartCopiesIt: the approval enqueues the paper's job in its
// transaction; the job stores the paper; the start copies it (same seed, positions and questions)
// without drawing or reading the bank; and the first read of the paper is the stored one.
func TestPaperIsBuiltAtApprovalAndStartSitsOnIt(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{essay: true})
	ctx := context.Background()
	person := f.candidate(t, "周一", 0)
	reg := f.registrationOf(t, person)
	if paper, _, _ := f.storedPaperOf(t, reg, 1); paper != nil {
		t.Fatal("a paper was stored before its job ran")
	}
	if n := f.workQueued(t, BuildPaperArgs{}.Kind()); n != 1 {
		t.Fatalf("the approval queued %d paper jobs, want 1", n)
	}
	paper, questions, rev := f.storedPaperOf(t, reg, 1)
	if len(paper) != 6 || len(questions) != 6 || rev != 1 {
		t.Fatalf("stored paper: %d items, %d questions, pool revision %d; want 6, 6, 1", len(paper), len(questions), rev)
	}
	if built, err := f.svc.BuildPaper(ctx, reg); err != nil || built {
		t.Errorf("building again: built %v, %v; want nothing to do", built, err)
	}
	if n, err := f.svc.BuildPapers(ctx, 0); err != nil || n != 0 {
		t.Errorf("the sweep built %d (%v), want 0: none is missing", n, err)
	}

	// The start reads no bank version and draws nothing: count its statements on a fresh service,
	// whose memory holds no version.
	fresh := New(pgtest.OpenCounting(t, f.pool.Config().ConnString()), Options{Now: f.clock.now, Identity: f.ids, Names: f.svc.names, Jobs: f.svc.jobs,
		Hours: f.svc.hours, Conduct: f.svc.conduct, Notices: f.svc.notices})
	cctx, counted := pgtest.CountQueries(ctx)
	st, err := fresh.Start(cctx, f.session.ID, person)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range counted.SQL() {
		if containsAny(q, "bank_item_versions", "exam_session_pools", "INSERT INTO exam_papers") {
			t.Errorf("the start drew or loaded items: %s", q)
		}
		if strings.Contains(q, "exam_attempt_items") {
			t.Errorf("the start copied the paper: %s", q)
		}
	}
	if counted.N() == 0 {
		t.Error("no statement of the start was counted: the check above proves nothing")
	}
	stored, err := f.svc.StoredPaper(ctx, st.Attempt.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(paper, stored); d != "" {
		t.Errorf("the attempt's paper differs from the one built at approval (-built +attempt):\n%s", d)
	}
	rebuilt, err := f.svc.Rebuild(ctx, st.Attempt.ID)
	if err != nil || !cmp.Equal(rebuilt, stored) {
		t.Errorf("rebuilt from the seed: %v; differs: %s", err, cmp.Diff(stored, rebuilt))
	}
	// The first read of the paper is one batch (the attempt with its stored questions, the answers,
	// the evidence): no statement outside it, and no bank version loaded into memory.
	cctx, counted = pgtest.CountQueries(ctx)
	v, err := fresh.Paper(cctx, st.Attempt.ID, person, st.DeviceToken)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(questions, v.Questions); d != "" {
		t.Errorf("the page's questions differ from the stored paper (-stored +page):\n%s", d)
	}
	loaded := 0
	fresh.versions.Range(func(any, any) bool { loaded++; return true })
	if counted.N() != 0 || loaded != 0 {
		t.Errorf("the first paper read sent %d statements besides its batch and loaded %d versions: %v", counted.N(), loaded, counted.SQL())
	}
	// The start answered with that same paper, so that the page needs no second request.
	if st.Paper == nil {
		t.Fatal("the start of a new attempt carries no paper")
	}
	page, err := fresh.PaperJSON(ctx, st.Attempt.ID, person, st.DeviceToken)
	if err != nil {
		t.Fatal(err)
	}
	withStart, _ := json.Marshal(st.Paper)
	read, _ := json.Marshal(page)
	var a, b map[string]any
	if err := errors.Join(json.Unmarshal(withStart, &a), json.Unmarshal(read, &b)); err != nil {
		t.Fatal(err)
	}
	delete(a, "server_time")
	delete(b, "server_time")
	if d := cmp.Diff(b, a); d != "" {
		t.Errorf("the start's paper differs from the paper read after it (-read +start):\n%s", d)
	}
	// What the handlers send (AppendJSON, the stored questions copied as they are) reads back as
	// the questions encoding/json would have written.
	body, err := st.AppendJSON(nil)
	if err != nil || !json.Valid(body) {
		t.Fatalf("the start's answer is not JSON (%v): %.200s", err, body)
	}
	var back Started
	if err := json.Unmarshal(body, &back); err != nil || back.Paper == nil {
		t.Fatalf("the start's answer reads back: %v, paper %v", err, back.Paper != nil)
	}
	if d := cmp.Diff(v.Questions, back.Paper.Questions); d != "" || back.Attempt.ID != st.Attempt.ID || back.DeviceToken != st.DeviceToken {
		t.Errorf("the start's answer read back differs (-paper +start):\n%s", d)
	}
	// Sent gzip-compressed with the stored segment spliced in, the start's answer and the paper's
	// are the same bytes once decompressed (compress/gzip checks the stream's CRC and length).
	for name, pair := range map[string][2]func([]byte) ([]byte, error){
		"start": {st.AppendJSON, func(b []byte) ([]byte, error) { return gunzipped(st.AppendGzip(b)) }},
		"paper": {page.AppendJSON, func(b []byte) ([]byte, error) { return gunzipped(page.AppendGzip(b)) }},
	} {
		text, err1 := pair[0](nil)
		unzipped, err2 := pair[1](nil)
		if err := errors.Join(err1, err2); err != nil || !bytes.Equal(text, unzipped) {
			t.Errorf("%s: the gzip answer decompressed differs from the JSON answer (%v):\n%.300s\n%.300s", name, err, unzipped, text)
		}
	}
	plain := *st.Paper
	plain.stored, plain.Questions = paperQuestions{}, v.Questions
	fromStructs, _ := plain.AppendJSON(nil)
	var c map[string]any
	if err := json.Unmarshal(fromStructs, &c); err != nil {
		t.Fatal(err)
	}
	delete(c, "server_time")
	if d := cmp.Diff(c, a); d != "" {
		t.Errorf("the stored questions copied differ from the same view encoded (-encoded +copied):\n%s", d)
	}
	if again, err := fresh.Start(ctx, f.session.ID, person); !errors.Is(err, ErrHeldElsewhere) || again.Paper != nil {
		t.Errorf("a second start: %v, paper %v; want held elsewhere, none", err, again.Paper != nil)
	}
}

// gunzipped decompresses what an AppendGzip wrote, which must have had a compressed paper to write.
func gunzipped(b []byte, ok bool, err error) ([]byte, error) {
	if err != nil || !ok {
		return nil, fmt.Errorf("no gzip answer: ok %v, %v", ok, err)
	}
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func containsAny(s string, subs ...string) bool {
	return slices.ContainsFunc(subs, func(sub string) bool { return strings.Contains(s, sub) })
}

// TestBlueprintChangeRebuildsUnstartedPapersOnly: changing the blueprint gives the session a new pool
// revision and queues a rebuild, which redraws the paper of the candidate who has not started (from
// the same seed) and leaves the started attempt's paper as it was.
func TestBlueprintChangeRebuildsUnstartedPapersOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	sitting, waiting := f.candidate(t, "吴二", 0), f.candidate(t, "郑三", 0)
	f.workQueued(t, BuildPaperArgs{}.Kind())
	st, err := f.svc.Start(ctx, f.session.ID, sitting)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := f.svc.StoredPaper(ctx, st.Attempt.ID)
	sittingPaper, _, _ := f.storedPaperOf(t, f.registrationOf(t, sitting), 1)
	var seed int64
	if err := f.pool.QueryRow(ctx, `SELECT seed FROM exam_papers WHERE registration_id = $1`, f.registrationOf(t, waiting)).Scan(&seed); err != nil {
		t.Fatal(err)
	}

	b, err := f.svc.GetBlueprint(ctx, f.session.BlueprintID)
	if err != nil {
		t.Fatal(err)
	}
	b.Sections = []Section{{Name: "单选", Part: Theory, Count: 4, Points: 25, Type: bank.SingleChoice}}
	if _, err := f.svc.UpdateBlueprint(ctx, 0, b); err != nil {
		t.Fatal(err)
	}
	if n := f.workQueued(t, RebuildPapersArgs{}.Kind()); n != 1 {
		t.Fatalf("the blueprint change queued %d rebuilds, want 1", n)
	}
	paper, questions, rev := f.storedPaperOf(t, f.registrationOf(t, waiting), 1)
	if len(paper) != 4 || len(questions) != 4 || rev != 2 || paper[0].Points != 25 {
		t.Errorf("unstarted paper after the change: %d items, %d questions, revision %d; want 4, 4, 2 at 25 points", len(paper), len(questions), rev)
	}
	var seedAfter int64
	if err := f.pool.QueryRow(ctx, `SELECT seed FROM exam_papers WHERE registration_id = $1`, f.registrationOf(t, waiting)).Scan(&seedAfter); err != nil || seedAfter != seed {
		t.Errorf("the rebuild drew from seed %d (%v), want the recorded %d", seedAfter, err, seed)
	}
	after, _ := f.svc.StoredPaper(ctx, st.Attempt.ID)
	stillStored, _, stillRev := f.storedPaperOf(t, f.registrationOf(t, sitting), 1)
	if !cmp.Equal(before, after) || !cmp.Equal(sittingPaper, stillStored) || stillRev != 1 || len(after) != 5 {
		t.Errorf("the started paper changed: %d items then %d, stored revision %d", len(before), len(after), stillRev)
	}
	if rebuilt, err := f.svc.Rebuild(ctx, st.Attempt.ID); err != nil || !cmp.Equal(rebuilt, after) {
		t.Errorf("the started attempt no longer rebuilds from its seed and pool revision: %v", err)
	}
	st2, err := f.svc.Start(ctx, f.session.ID, waiting)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := f.svc.StoredPaper(ctx, st2.Attempt.ID); !cmp.Equal(got, paper) {
		t.Errorf("the waiting candidate started on another paper than the rebuilt one")
	}
}

// TestRetiredItemNeverReachesANewStarter: retiring an item (or correcting its key) resolves the
// session's pool again in the same transaction, so a candidate starting before the rebuild job has
// run gets a paper without the retired item, with the corrected version; and a retirement that
// would leave the blueprint unfillable is refused.
func TestRetiredItemNeverReachesANewStarter(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	first, second := f.candidate(t, "王四", 0), f.candidate(t, "冯五", 0)
	f.workQueued(t, BuildPaperArgs{}.Kind())
	paper, _, _ := f.storedPaperOf(t, f.registrationOf(t, first), 1)
	retired, corrected := paper[0].ItemID, paper[1].ItemID
	err := f.svc.ChangeBank(ctx, f.centre, func(tx pgx.Tx) error {
		_, err := bank.Retire(ctx, tx, 0, f.centre, []int64{retired})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	old, err := bank.Get(ctx, f.pool, f.centre, corrected)
	if err != nil {
		t.Fatal(err)
	}
	fix := old.Item
	fix.Choices = slices.Clone(fix.Choices)
	fix.Choices[0].Weight, fix.Choices[1].Weight = 0, 1 // the key was wrong
	var newVersion int64
	err = f.svc.ChangeBank(ctx, f.centre, func(tx pgx.Tx) error {
		st, err := bank.Update(ctx, tx, 0, f.centre, corrected, fix)
		newVersion = st.VersionID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if newVersion == old.VersionID {
		t.Fatal("the correction of a delivered version did not make a new version")
	}
	// No rebuild job has run: the start sees the stale paper and draws another.
	for _, p := range []int64{first, second} {
		st, err := f.svc.Start(ctx, f.session.ID, p)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := f.svc.StoredPaper(ctx, st.Attempt.ID)
		for _, pi := range got {
			if pi.ItemID == retired {
				t.Errorf("candidate %d got item %d, retired before the start", p, retired)
			}
			if pi.ItemID == corrected && pi.VersionID != newVersion {
				t.Errorf("candidate %d got version %d of item %d, corrected to %d before the start", p, pi.VersionID, corrected, newVersion)
			}
		}
		if len(got) != 5 {
			t.Errorf("candidate %d: %d items, want 5", p, len(got))
		}
	}
	if n := f.workQueued(t, RebuildPapersArgs{}.Kind()); n != 2 {
		t.Errorf("the two bank changes queued %d rebuilds, want 2", n)
	}
	// Five active items remain for a section of five: retiring one more would leave no paper.
	another := paper[2].ItemID
	err = f.svc.ChangeBank(ctx, f.centre, func(tx pgx.Tx) error {
		_, err := bank.Retire(ctx, tx, 0, f.centre, []int64{another})
		return err
	})
	if !errors.Is(err, ErrBlueprintShort) {
		t.Errorf("retiring below the blueprint: %v, want ErrBlueprintShort", err)
	}
	if st, err := bank.Get(ctx, f.pool, f.centre, another); err != nil || st.Status != bank.Active {
		t.Errorf("the refused retirement was kept: %+v, %v", st.Status, err)
	}
}

// TestConcurrentStartsOfOneCandidateOnABuiltPaper: eight starts of one candidate at once, on a
// paper built before: one attempt; the others are told another device holds it.
func TestConcurrentStartsOfOneCandidateOnABuiltPaper(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	p := f.candidate(t, "陈六", 0)
	f.workQueued(t, BuildPaperArgs{}.Kind())
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			_, errs[i] = f.svc.Start(ctx, f.session.ID, p)
		}()
	}
	close(gate)
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrHeldElsewhere):
			t.Errorf("start %d: %v", i, err)
		}
	}
	var attempts int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM exam_attempts WHERE session_id = $1`, f.session.ID).Scan(&attempts); err != nil {
		t.Fatal(err)
	}
	if ok != 1 || attempts != 1 {
		t.Errorf("%d starts succeeded and %d attempts exist, want 1 and 1", ok, attempts)
	}
}

// decodeItems reads exam_papers.items back (the server reads it in SQL: exam_attempt_paper).
func decodeItems(raw []byte) ([]PaperItem, error) {
	var in []storedItem
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("stored paper: %w", err)
	}
	out := make([]PaperItem, len(in))
	for i, p := range in {
		out[i] = PaperItem{Position: p.Position, Section: p.Section, Part: p.Part, ItemID: p.ItemID, VersionID: p.VersionID,
			Points: p.Points, OptionOrder: p.Order}
	}
	return out, nil
}

// The keys a start and a grading used to check by share-locking rows every candidate shares (the
// session's, the bank versions'), migrations 0495 and 0496, still hold: an attempt's session must be
// its registration's, and a delivered version can be neither deleted nor undelivered.
func TestAttemptKeysHoldWithoutSharedRowLocks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	person := f.candidate(t, "吴二", 0)
	reg := f.registrationOf(t, person)
	f.workQueued(t, BuildPaperArgs{}.Kind())
	st, err := f.svc.Start(ctx, f.session.ID, person)
	if err != nil {
		t.Fatal(err)
	}
	code := func(sql string, args ...any) string {
		t.Helper()
		tx, err := f.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck
		_, err = tx.Exec(ctx, sql, args...)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			return pgErr.Code
		}
		if err != nil {
			t.Fatal(err)
		}
		return ""
	}
	other := f.session.ID + 1000
	if c := code(`UPDATE exam_attempts SET session_id = $2 WHERE id = $1`, st.Attempt.ID, other); c != "23503" {
		t.Errorf("an attempt moved to another session than its registration's: SQLSTATE %q, want 23503", c)
	}
	if c := code(`UPDATE exam_registrations SET session_id = $2 WHERE id = $1`, reg, other); c != "23503" {
		t.Errorf("the registration of an attempt moved to another session: SQLSTATE %q, want 23503", c)
	}
	var delivered int64
	if err := f.pool.QueryRow(ctx, `SELECT version_id FROM exam_attempt_paper WHERE attempt_id = $1 LIMIT 1`, st.Attempt.ID).Scan(&delivered); err != nil {
		t.Fatal(err)
	}
	if c := code(`DELETE FROM bank_item_versions WHERE id = $1`, delivered); c != "23001" {
		t.Errorf("a delivered version was deleted: SQLSTATE %q, want 23001", c)
	}
	if c := code(`DELETE FROM bank_items WHERE id = (SELECT item_id FROM bank_item_versions WHERE id = $1)`, delivered); c != "23001" {
		t.Errorf("the item of a delivered version was deleted: SQLSTATE %q, want 23001", c)
	}
	if c := code(`UPDATE bank_item_versions SET delivered_at = NULL WHERE id = $1`, delivered); c != "23514" {
		t.Errorf("a delivered version was undelivered: SQLSTATE %q, want 23514", c)
	}
	if c := code(`UPDATE bank_item_versions SET delivered_at = now() WHERE id = $1`, delivered); c != "" {
		t.Errorf("restamping a delivered version: SQLSTATE %q", c)
	}
}
