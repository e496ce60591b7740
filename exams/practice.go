package exams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/exams/bank"
	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// Practice is a learner answering a centre's questions one at a time with feedback after each, in
// the exam's own player. Where the questions come from: a centre opens a bank category (with its
// subcategories) for practice; a run draws the category's active objective items, never one that
// is in a pool of the centre's sessions still live (not published, or not closed yet), so that
// practice cannot show a paper someone is about to sit or sitting. Runs are kept in their own
// tables: nothing of them is read by grading, results, certificates or the training-hours ledger.

// Practice errors.
var (
	ErrPracticeClosed   = failure.New(failure.NotFound, "exams.practice.closed")   // the category is not open for practice
	ErrPracticeEmpty    = failure.New(failure.Conflict, "exams.practice.empty")    // nothing can be practised in it now
	ErrPracticeDone     = failure.New(failure.Conflict, "exams.practice.done")     // every item of the run is answered
	ErrPracticeAnswered = failure.New(failure.Conflict, "exams.practice.answered") // that item was answered already
	ErrPracticeTooMany  = failure.New(failure.TooMany, "exams.practice.too_many")  // practiceRunsPerHour runs started in the last hour
)

// Practice is bounded per learner: at most practiceRunsPerHour runs started in any hour (the next
// one is refused, saying when one may start again), and starting again in a category whose run of
// the last hour is unfinished goes back to that run instead of making another, so a learner keeps
// at most one open run per category.
const (
	practiceRunsPerHour = 20
	practiceWindow      = time.Hour
	// practiceLockSpace is the advisory-lock key space of a learner's run starts ("prac"): two starts
	// of one learner take turns, so that both cannot pass the count.
	practiceLockSpace = int64(0x70726163) << 32
)

// practiceRunItems is how many items a run asks at most.
const practiceRunItems = 10

// practicePoints is what each practice item is worth in the running score.
const practicePoints = 1

// PracticePool is a category a centre opened for practice, with how many items can be practised now.
type PracticePool struct {
	CategoryID int64    `json:"category_id"`
	CentreID   int64    `json:"centre_id"`
	Path       []string `json:"path"`
	Available  int      `json:"available"`
}

// practicableItems selects the items of category $1 (and its subcategories) a run may draw at $2:
// active, objective, and in no pool of the centre's sessions that is not published or not closed.
// A run drawing adds `AND i.id NOT IN (the run's items)`.
var practicableItems = practicableIn("$1")

// practicableIn is practicableItems for the category the SQL expression top names ($1, or a
// column of the query it is part of).
func practicableIn(top string) string {
	return `FROM bank_items i
	JOIN bank_categories c ON c.id = i.category_id
	JOIN bank_categories top ON top.id = ` + top + ` AND top.organisation_id = i.organisation_id
		AND c.path[1:cardinality(top.path)] = top.path
	WHERE i.status = 'active' AND i.type NOT IN ('essay', 'practical')
		AND NOT EXISTS (SELECT 1 FROM exam_sessions x JOIN exam_session_pools p ON p.session_id = x.id,
				jsonb_array_elements(p.pool) AS sec, jsonb_array_elements(sec->'versions') AS v
			WHERE x.organisation_id = i.organisation_id
				AND (x.published_at IS NULL OR x.closes_at + x.grace_s * interval '1 second' > $2)
				AND (v->>0)::bigint = i.id)`
}

// OpenPractice opens or closes a category of the centre's bank for practice.
func (s *Service) OpenPractice(ctx context.Context, actorID, centreID, categoryID int64, open bool) error {
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		var owner int64
		if err := tx.QueryRow(ctx, `SELECT organisation_id FROM bank_categories WHERE id = $1`, categoryID).Scan(&owner); pg.IsNoRows(err) || owner != centreID {
			return failure.Field("category", "exams.practice.category_unknown")
		} else if err != nil {
			return err
		}
		action := "exam.practice.close"
		if open {
			action = "exam.practice.open"
			if _, err := tx.Exec(ctx, `INSERT INTO exam_practice_categories (category_id, organisation_id, opened_by, opened_at)
				VALUES ($1, $2, nullif($3, 0), $4) ON CONFLICT (category_id) DO NOTHING`, categoryID, centreID, actorID, s.now()); err != nil {
				return err
			}
		} else if _, err := tx.Exec(ctx, `DELETE FROM exam_practice_categories WHERE category_id = $1`, categoryID); err != nil {
			return err
		}
		return audit(ctx, tx, actorID, action, fmt.Sprintf("bank_category:%d", categoryID), nil)
	})
}

// PracticePools lists the categories open for practice, of one centre or (centreID 0) of all, each
// with how many items it can give now: one query, whatever the number of categories.
func (s *Service) PracticePools(ctx context.Context, centreID int64) ([]PracticePool, error) {
	rows, err := s.db.Query(ctx, `SELECT o.category_id, o.organisation_id, o.path, n.available
		FROM (SELECT p.category_id, p.organisation_id, pc.path FROM exam_practice_categories p JOIN bank_categories pc ON pc.id = p.category_id
			WHERE $1 = 0 OR p.organisation_id = $1 ORDER BY p.organisation_id, pc.path LIMIT 200) o,
		LATERAL (SELECT count(*) AS available `+practicableIn("o.category_id")+`) n
		ORDER BY o.organisation_id, o.path`, centreID, s.now())
	if err != nil {
		return nil, fmt.Errorf("practice pools: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (PracticePool, error) {
		var p PracticePool
		return p, row.Scan(&p.CategoryID, &p.CentreID, &p.Path, &p.Available)
	})
}

// PracticeScore is a run's running score.
type PracticeScore struct {
	Asked    int     `json:"asked"` // items in the run
	Answered int     `json:"answered"`
	Correct  int     `json:"correct"`
	Earned   float64 `json:"earned"`
	Possible float64 `json:"possible"`
}

// PracticeRun is one practice of a learner.
type PracticeRun struct {
	ID         int64         `json:"id"`
	PersonID   int64         `json:"-"`
	CentreID   int64         `json:"centre_id"`
	CategoryID int64         `json:"category_id"`
	StartedAt  time.Time     `json:"started_at"`
	Score      PracticeScore `json:"score"`
}

// Done tells whether every item of the run has been answered.
func (r PracticeRun) Done() bool { return r.Score.Answered >= r.Score.Asked }

// StartPractice begins a run of the person in a category open for practice: as many items as the
// category can give now, up to practiceRunItems. The person's unfinished run of the last hour in the
// category is returned instead, if there is one; the run after practiceRunsPerHour in an hour is
// refused (ErrPracticeTooMany, with when to try again).
func (s *Service) StartPractice(ctx context.Context, personID, categoryID int64) (PracticeRun, error) {
	if categoryID <= 0 {
		return PracticeRun{}, failure.Field("category", "exams.practice.category_unknown")
	}
	var r PracticeRun
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, practiceLockSpace|(personID&0xffffffff)); err != nil {
			return err
		}
		var centre int64
		if err := tx.QueryRow(ctx, `SELECT organisation_id FROM exam_practice_categories WHERE category_id = $1`, categoryID).Scan(&centre); pg.IsNoRows(err) {
			return ErrPracticeClosed
		} else if err != nil {
			return err
		}
		now := s.now()
		open, err := scanPracticeRun(tx.QueryRow(ctx, `SELECT `+practiceRunColumns+` FROM exam_practice_runs r
			WHERE r.person_id = $1 AND r.category_id = $2 AND r.started_at > $3 AND r.answered < r.item_count
			ORDER BY r.started_at DESC, r.id DESC LIMIT 1`, personID, categoryID, now.Add(-practiceWindow)))
		if err == nil {
			r = open
			return nil
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := practiceRate(ctx, tx, personID, now); err != nil {
			return err
		}
		var available int
		if err := tx.QueryRow(ctx, `SELECT count(*) `+practicableItems, categoryID, now).Scan(&available); err != nil {
			return err
		}
		if available == 0 {
			return ErrPracticeEmpty
		}
		r = PracticeRun{PersonID: personID, CentreID: centre, CategoryID: categoryID, StartedAt: now,
			Score: PracticeScore{Asked: min(available, practiceRunItems)}}
		return tx.QueryRow(ctx, `INSERT INTO exam_practice_runs (person_id, organisation_id, category_id, item_count, started_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, personID, centre, categoryID, r.Score.Asked, now).Scan(&r.ID)
	})
	return r, err
}

// practiceRate refuses a run when the person started practiceRunsPerHour in the last hour, saying
// when the oldest of them leaves the window.
func practiceRate(ctx context.Context, tx pgx.Tx, personID int64, now time.Time) error {
	var n int
	var oldest *time.Time
	if err := tx.QueryRow(ctx, `SELECT count(*), min(started_at) FROM exam_practice_runs WHERE person_id = $1 AND started_at > $2`,
		personID, now.Add(-practiceWindow)).Scan(&n, &oldest); err != nil {
		return err
	}
	if n < practiceRunsPerHour || oldest == nil {
		return nil
	}
	wait := max(int(math.Ceil(oldest.Add(practiceWindow).Sub(now).Seconds())), 1)
	e := ErrPracticeTooMany.Wrap(nil)
	e.Msg.Args, e.RetryAfter = []any{practiceRunsPerHour, (wait + 59) / 60}, wait
	return e
}

const practiceRunColumns = `r.id, r.person_id, r.organisation_id, r.category_id, r.started_at, r.item_count, r.answered, r.correct,
	r.earned::float8, r.possible::float8`

func scanPracticeRun(row pgx.Row) (PracticeRun, error) {
	var r PracticeRun
	err := row.Scan(&r.ID, &r.PersonID, &r.CentreID, &r.CategoryID, &r.StartedAt, &r.Score.Asked, &r.Score.Answered,
		&r.Score.Correct, &r.Score.Earned, &r.Score.Possible)
	if pg.IsNoRows(err) {
		return r, ErrNotFound
	}
	return r, err
}

// ownRun loads a run of the person (lock: "" or " FOR UPDATE"); another's run is ErrNotFound.
func ownRun(ctx context.Context, db pg.DB, runID, personID int64, lock string) (PracticeRun, error) {
	r, err := scanPracticeRun(db.QueryRow(ctx, `SELECT `+practiceRunColumns+` FROM exam_practice_runs r WHERE r.id = $1`+lock, runID))
	if err == nil && r.PersonID != personID {
		return PracticeRun{}, ErrNotFound
	}
	return r, err
}

// PracticeRunPlace returns the person a run belongs to and its centre, for permission checks.
func (s *Service) PracticeRunPlace(ctx context.Context, runID int64) (personID, centreID int64, err error) {
	err = s.db.QueryRow(ctx, `SELECT person_id, organisation_id FROM exam_practice_runs WHERE id = $1`, runID).Scan(&personID, &centreID)
	if pg.IsNoRows(err) {
		return 0, 0, ErrNotFound
	}
	return personID, centreID, err
}

// MyPracticeRuns lists the person's latest runs.
func (s *Service) MyPracticeRuns(ctx context.Context, personID int64) ([]PracticeRun, error) {
	rows, err := s.db.Query(ctx, `SELECT `+practiceRunColumns+` FROM exam_practice_runs r WHERE r.person_id = $1
		ORDER BY r.started_at DESC, r.id DESC LIMIT 20`, personID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (PracticeRun, error) { return scanPracticeRun(row) })
}

// PracticeView is what the practice page shows: the run's score and the item waiting for an answer
// (none when the run is done or the next item has not been asked for).
type PracticeView struct {
	Run      PracticeRun `json:"run"`
	Question *Question   `json:"question,omitempty"`
	Done     bool        `json:"done"`
}

// practiceItem is a drawn item of a run.
type practiceItem struct {
	PaperItem
	answered bool
	response []byte
}

func pendingItem(ctx context.Context, db pg.DB, runID int64, position int) (practiceItem, error) {
	var p practiceItem
	where := `answered_at IS NULL ORDER BY position LIMIT 1`
	args := []any{runID}
	if position >= 0 {
		where, args = `position = $2`, append(args, position)
	}
	err := db.QueryRow(ctx, `SELECT position, item_id, version_id, points::float8, option_order, answered_at IS NOT NULL, response
		FROM exam_practice_items WHERE run_id = $1 AND `+where, args...).Scan(&p.Position, &p.ItemID, &p.VersionID, &p.Points, &p.OptionOrder, &p.answered, &p.response)
	p.Part = Theory
	if pg.IsNoRows(err) {
		return p, ErrNotFound
	}
	return p, err
}

// Practice returns the run with the item waiting for an answer, if one is.
func (s *Service) Practice(ctx context.Context, runID, personID int64) (PracticeView, error) {
	r, err := ownRun(ctx, s.db, runID, personID, "")
	if err != nil {
		return PracticeView{}, err
	}
	v := PracticeView{Run: r, Done: r.Done()}
	p, err := pendingItem(ctx, s.db, runID, -1)
	if err == ErrNotFound {
		return v, nil
	}
	if err != nil {
		return PracticeView{}, err
	}
	it, err := s.version(ctx, s.db, p.VersionID)
	if err != nil {
		return PracticeView{}, err
	}
	q := questionOf(p.PaperItem, it)
	v.Question = &q
	return v, nil
}

// PracticeNext draws the run's next item (the one waiting, when the last was not answered yet).
func (s *Service) PracticeNext(ctx context.Context, runID, personID int64) (PracticeView, error) {
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		r, err := ownRun(ctx, tx, runID, personID, " FOR UPDATE")
		if err != nil {
			return err
		}
		if _, err := pendingItem(ctx, tx, runID, -1); err == nil {
			return nil // the item shown is still waiting: the page shows it again
		} else if err != ErrNotFound {
			return err
		}
		if r.Done() {
			return ErrPracticeDone
		}
		var itemID, versionID int64
		err = tx.QueryRow(ctx, `SELECT i.id, i.current_version_id `+practicableItems+`
			AND NOT EXISTS (SELECT 1 FROM exam_practice_items d WHERE d.run_id = $3 AND d.item_id = i.id)
			ORDER BY random() LIMIT 1`, r.CategoryID, s.now(), runID).Scan(&itemID, &versionID)
		if pg.IsNoRows(err) {
			return ErrPracticeEmpty // the category was closed, or its items retired or put on a live paper, since
		}
		if err != nil {
			return err
		}
		it, err := s.version(ctx, tx, versionID)
		if err != nil {
			return err
		}
		var order []int
		if n := optionCount(it); n > 0 {
			order = rand.Perm(n)
		}
		_, err = tx.Exec(ctx, `INSERT INTO exam_practice_items (run_id, position, item_id, version_id, option_order, points, drawn_at)
			VALUES ($1, (SELECT count(*) FROM exam_practice_items WHERE run_id = $1), $2, $3, $4::int[], $5, $6)`,
			runID, itemID, versionID, intArray(order), practicePoints, s.now())
		return err
	})
	if err != nil {
		return PracticeView{}, err
	}
	return s.Practice(ctx, runID, personID)
}

// Feedback is what the learner is told after answering a practice item (and, in a review, about an
// item of their paper): whether it was right, the points, their answer and one that scores full
// marks, in the order the options were shown, with the item's explanation and the feedback of the
// options they picked.
type Feedback struct {
	Position    int      `json:"position"`
	Correct     bool     `json:"correct"`
	Earned      float64  `json:"earned"`
	Points      float64  `json:"points"`
	Answer      Answer   `json:"answer"`
	Solution    Answer   `json:"solution"`
	Explanation string   `json:"explanation,omitempty"`
	Format      string   `json:"format"`
	Notes       []string `json:"notes,omitempty"`
	// GapResults reads a cloze answer gap by gap (what was given, the key, the fraction earned).
	GapResults []GapResult `json:"gap_results,omitempty"`
}

// PracticeFeedback is the feedback on a practice answer with the run's score after it.
type PracticeFeedback struct {
	Feedback
	Score PracticeScore `json:"score"`
	Done  bool          `json:"done"`
}

// AnswerPractice scores the answer to the run's waiting item and returns the feedback. Sending the
// same answer again returns the same feedback; another answer to an answered item is refused.
func (s *Service) AnswerPractice(ctx context.Context, runID, personID int64, position int, ans Answer) (PracticeFeedback, error) {
	if position < 0 || position >= 50 {
		return PracticeFeedback{}, failure.Field("item", "exams.answer_invalid")
	}
	if err := ans.check(); err != nil {
		return PracticeFeedback{}, err
	}
	raw, err := json.Marshal(ans)
	if err != nil {
		return PracticeFeedback{}, err
	}
	var out PracticeFeedback
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		r, err := ownRun(ctx, tx, runID, personID, " FOR UPDATE")
		if err != nil {
			return err
		}
		p, err := pendingItem(ctx, tx, runID, position)
		if err != nil {
			return err
		}
		it, err := s.version(ctx, tx, p.VersionID)
		if err != nil {
			return err
		}
		if p.answered {
			var before Answer
			if err := json.Unmarshal(p.response, &before); err != nil {
				return err
			}
			if b, _ := json.Marshal(before); string(b) != string(raw) {
				return ErrPracticeAnswered
			}
			out = PracticeFeedback{Feedback: feedbackOf(p.PaperItem, it, before, scoreItem(p.PaperItem, it, &before)), Score: r.Score, Done: r.Done()}
			return nil
		}
		fb := feedbackOf(p.PaperItem, it, ans, scoreItem(p.PaperItem, it, &ans))
		correct := 0
		if fb.Correct {
			correct = 1
		}
		if _, err := tx.Exec(ctx, `UPDATE exam_practice_items SET response = $3, earned = $4, answered_at = $5 WHERE run_id = $1 AND position = $2`,
			runID, position, raw, fb.Earned, s.now()); err != nil {
			return err
		}
		r.Score.Answered++
		r.Score.Correct += correct
		r.Score.Earned = round2(r.Score.Earned + fb.Earned)
		r.Score.Possible = round2(r.Score.Possible + fb.Points)
		if _, err := tx.Exec(ctx, `UPDATE exam_practice_runs SET answered = $2, correct = $3, earned = $4, possible = $5 WHERE id = $1`,
			runID, r.Score.Answered, r.Score.Correct, r.Score.Earned, r.Score.Possible); err != nil {
			return err
		}
		out = PracticeFeedback{Feedback: fb, Score: r.Score, Done: r.Done()}
		return nil
	})
	return out, err
}

// feedbackOf tells a learner about their answer to an objective item worth earned of pi.Points.
func feedbackOf(pi PaperItem, it bank.Item, a Answer, earned float64) Feedback {
	fb := Feedback{Position: pi.Position, Earned: earned, Points: pi.Points, Answer: a, Solution: solutionOf(pi, it),
		Explanation: it.Explanation, Format: string(it.Format), Correct: earned >= pi.Points-1e-9, GapResults: gapResults(pi, it, a)}
	switch it.Type {
	case bank.SingleChoice, bank.MultipleChoice:
		for _, shown := range a.Choices {
			if shown >= 0 && shown < len(pi.OptionOrder) && pi.OptionOrder[shown] < len(it.Choices) {
				if f := it.Choices[pi.OptionOrder[shown]].Feedback; f != "" {
					fb.Notes = append(fb.Notes, f)
				}
			}
		}
	}
	return fb
}
