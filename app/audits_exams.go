package app

import (
	"context"
	"time"

	"shanyu/audits"
	"shanyu/exams"
	"shanyu/internal/pg"
)

// examResults gives the audits domain's indicators the published exam results per training centre,
// through the exams domain's exported function.
type examResults struct{ db pg.DB }

// ExamResults is the adapter for a caller that builds the audits service itself (the demo seed, the
// dashboard bench).
func ExamResults(db pg.DB) audits.ExamResults { return examResults{db: db} }

func (e examResults) PassCounts(ctx context.Context, from, to time.Time) (map[int64]audits.ExamCount, error) {
	counts, err := exams.PassCounts(ctx, e.db, from, to)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]audits.ExamCount, len(counts))
	for id, c := range counts {
		out[id] = audits.ExamCount{Sat: c.Sat, Passed: c.Passed}
	}
	return out, nil
}
