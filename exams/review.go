package exams

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"shanyu/exams/bank"
	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// Review errors.
var (
	ErrReviewClosed       = failure.New(failure.Forbidden, "exams.review.closed")       // the session does not let candidates review
	ErrReviewNotPublished = failure.New(failure.Conflict, "exams.review.not_published") // the attempt's result is not published yet
)

// solutionOf is an answer that earns an objective item full marks (or the most it can), in the
// player's terms: options by the place they were shown at.
func solutionOf(pi PaperItem, it bank.Item) Answer {
	shownAt := func(orig int) int {
		for shown, o := range pi.OptionOrder {
			if o == orig {
				return shown
			}
		}
		return orig // a paper drawn without a shuffle of this item shows it in order
	}
	var a Answer
	switch it.Type {
	case bank.SingleChoice:
		best := 0
		for i, c := range it.Choices {
			if c.Weight > it.Choices[best].Weight {
				best = i
			}
		}
		a.Choices = []int{shownAt(best)}
	case bank.MultipleChoice:
		for shown, orig := range pi.OptionOrder {
			if orig < len(it.Choices) && it.Choices[orig].Weight > 0 {
				a.Choices = append(a.Choices, shown)
			}
		}
	case bank.TrueFalse:
		t := it.Truth
		a.Truth = &t
	case bank.FillBlank:
		for _, b := range it.Blanks {
			a.Blanks = append(a.Blanks, bestOption(b.Accepted).Text)
		}
	case bank.Numeric:
		if n, ok := bestNumber(it.Numbers); ok {
			a.Number = &n.Value
		}
	case bank.Matching:
		a.Matches = make([]string, len(it.Pairs))
		for i, p := range it.Pairs {
			if p.Left != "" {
				a.Matches[i] = p.Right
			}
		}
	case bank.Ordering:
		shown := sequenceShown(pi, it)
		a.Order = make([]int, len(shown))
		for row, k := range shown {
			a.Order[k] = row
		}
	case bank.Cloze:
		orders := gapOrders(pi, it)
		for gi, g := range it.Gaps {
			switch g.Kind {
			case bank.GapChoice:
				best := 0
				for i, o := range g.Options {
					if o.Weight > g.Options[best].Weight {
						best = i
					}
				}
				shown := best
				for k, orig := range orders[gi] {
					if orig == best {
						shown = k
					}
				}
				a.Gaps = append(a.Gaps, strconv.Itoa(shown))
			case bank.GapMulti:
				var ticks []string
				for k, orig := range orders[gi] {
					if g.Options[orig].Weight > 0 {
						ticks = append(ticks, strconv.Itoa(k))
					}
				}
				a.Gaps = append(a.Gaps, strings.Join(ticks, ","))
			case bank.GapNumber:
				n, _ := bestNumber(g.Numbers)
				a.Gaps = append(a.Gaps, strconv.FormatFloat(n.Value, 'f', -1, 64))
			default:
				a.Gaps = append(a.Gaps, bestOption(g.Options).Text)
			}
		}
	}
	return a
}

func bestOption(list []bank.Option) bank.Option {
	var best bank.Option
	for _, o := range list {
		if o.Weight > best.Weight {
			best = o
		}
	}
	return best
}

func bestNumber(list []bank.NumericAnswer) (bank.NumericAnswer, bool) {
	var best bank.NumericAnswer
	for _, n := range list {
		if n.Weight > best.Weight {
			best = n
		}
	}
	return best, len(list) > 0
}

// ReviewItem is an item of the candidate's paper they did not get full marks for.
type ReviewItem struct {
	Question Question `json:"question"`
	Feedback
}

// Review is a candidate's look back at their own submitted paper once its result is published.
type Review struct {
	AttemptID int64        `json:"attempt_id"`
	SessionID int64        `json:"session_id"`
	Session   string       `json:"session"`
	Items     int          `json:"items"` // objective items on the paper
	Wrong     []ReviewItem `json:"wrong"`
}

// AllowReview sets whether a session's candidates may review their wrong answers once their result
// is published (off when a session is created).
func (s *Service) AllowReview(ctx context.Context, actorID, sessionID int64, allow bool) error {
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE exam_sessions SET review_wrong_answers = $2 WHERE id = $1`, sessionID, allow)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return ErrNotFound
		}
		return audit(ctx, tx, actorID, "exam.session.review", fmt.Sprintf("exam_session:%d", sessionID), map[string]any{"allow": allow})
	})
}

// ReviewAllowed tells whether a session lets its candidates review their wrong answers.
func (s *Service) ReviewAllowed(ctx context.Context, sessionID int64) (bool, error) {
	var allow bool
	err := s.db.QueryRow(ctx, `SELECT review_wrong_answers FROM exam_sessions WHERE id = $1`, sessionID).Scan(&allow)
	if pg.IsNoRows(err) {
		return false, ErrNotFound
	}
	return allow, err
}

// ReviewAttempt returns the objective items of the person's own attempt that did not earn full
// marks, with their answer and the right one. It is refused for anyone else's attempt (ErrNotFound,
// as if it did not exist), when the session does not allow reviews, and until the attempt's result
// is published (an attempt that gets no result, its registration rejected, is never reviewed).
func (s *Service) ReviewAttempt(ctx context.Context, attemptID, personID int64) (Review, error) {
	var owner int64
	var allow, published bool
	r := Review{AttemptID: attemptID}
	err := s.db.QueryRow(ctx, `SELECT a.person_id, a.session_id, x.name, x.review_wrong_answers,
			x.published_at IS NOT NULL AND EXISTS (SELECT 1 FROM exam_results res WHERE res.attempt_id = a.id)
		FROM exam_attempts a JOIN exam_sessions x ON x.id = a.session_id WHERE a.id = $1`, attemptID).
		Scan(&owner, &r.SessionID, &r.Session, &allow, &published)
	if pg.IsNoRows(err) || (err == nil && owner != personID) {
		return Review{}, ErrNotFound
	}
	if err != nil {
		return Review{}, err
	}
	if !allow {
		return Review{}, ErrReviewClosed
	}
	if !published {
		return Review{}, ErrReviewNotPublished
	}
	rows, err := s.db.Query(ctx, `SELECT position, section, part, item_id, coalesce(scored_version_id, version_id), points::float8,
		option_order, coalesce(earned, 0)::float8 FROM exam_attempt_items WHERE attempt_id = $1 ORDER BY position`, attemptID)
	if err != nil {
		return Review{}, err
	}
	type scored struct {
		PaperItem
		earned float64
	}
	paper, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (scored, error) {
		var p scored
		return p, row.Scan(&p.Position, &p.Section, &p.Part, &p.ItemID, &p.VersionID, &p.Points, &p.OptionOrder, &p.earned)
	})
	if err != nil {
		return Review{}, err
	}
	answers, err := latestAnswers(ctx, s.db, attemptID)
	if err != nil {
		return Review{}, err
	}
	r.Wrong = []ReviewItem{}
	for _, p := range paper {
		it, err := s.version(ctx, s.db, p.VersionID)
		if err != nil {
			return Review{}, err
		}
		if !it.Type.Objective() {
			continue
		}
		r.Items++
		var a Answer
		if answers[p.Position] != nil {
			a = *answers[p.Position]
		}
		fb := feedbackOf(p.PaperItem, it, a, p.earned)
		if fb.Correct {
			continue
		}
		r.Wrong = append(r.Wrong, ReviewItem{Question: questionOf(p.PaperItem, it), Feedback: fb})
	}
	return r, nil
}
