package exams

import (
	"context"

	"github.com/jackc/pgx/v5"

	"shanyu/exams/bank"
)

// GapResult is one gap of a cloze answer as people read it: what the candidate gave (for a choice
// or multi gap the texts of the options picked, not their indexes), the key, the gap's weight in the
// item and the fraction of the gap earned (0 to 1).
type GapResult struct {
	Given    string  `json:"given"`
	Key      string  `json:"key"`
	Weight   float64 `json:"weight"`
	Fraction float64 `json:"fraction"`
}

// gapResults reads an answer to a cloze item gap by gap; nil for other items.
func gapResults(pi PaperItem, it bank.Item, a Answer) []GapResult {
	if it.Type != bank.Cloze {
		return nil
	}
	r := response(pi, it, a)
	out := make([]GapResult, len(it.Gaps))
	for i, g := range it.Gaps {
		ans := ""
		if i < len(r.Gaps) {
			ans = r.Gaps[i]
		}
		out[i] = GapResult{Given: bank.GapGiven(g, ans), Key: bank.GapKey(g), Weight: g.Weight, Fraction: bank.ScoreGap(g, ans)}
	}
	return out
}

// EvidenceGaps reads the cloze answers among a session's uncounted answers (SessionEvidence) gap by
// gap, in one query for the papers; the result is in the order of list, nil where the item is not
// a cloze.
func (s *Service) EvidenceGaps(ctx context.Context, list []SessionEvidence) ([][]GapResult, error) {
	out := make([][]GapResult, len(list))
	var attempts []int64
	for _, e := range list {
		if len(e.Response.Gaps) > 0 {
			attempts = append(attempts, e.AttemptID)
		}
	}
	if len(attempts) == 0 {
		return out, nil
	}
	type key struct {
		attempt  int64
		position int
	}
	papers := map[key]PaperItem{}
	rows, err := s.db.Query(ctx, `SELECT attempt_id, position, coalesce(scored_version_id, version_id), option_order
		FROM exam_attempt_items WHERE attempt_id = ANY($1)`, attempts)
	if err != nil {
		return nil, err
	}
	var p PaperItem
	var attempt int64
	var order []int32
	if _, err := pgx.ForEachRow(rows, []any{&attempt, &p.Position, &p.VersionID, &order}, func() error {
		pi := PaperItem{Position: p.Position, VersionID: p.VersionID}
		for _, o := range order {
			pi.OptionOrder = append(pi.OptionOrder, int(o))
		}
		papers[key{attempt, p.Position}] = pi
		return nil
	}); err != nil {
		return nil, err
	}
	for i, e := range list {
		p, ok := papers[key{e.AttemptID, e.Position}]
		if !ok || len(e.Response.Gaps) == 0 {
			continue
		}
		it, err := s.version(ctx, s.db, p.VersionID)
		if err != nil {
			return nil, err
		}
		out[i] = gapResults(p, it, e.Response)
	}
	return out, nil
}
