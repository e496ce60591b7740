package exams

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/pg"
)

// PassCount is how many published results a training centre's sessions gave, and how many passed.
type PassCount struct{ Sat, Passed int }

// PassCounts gives, per training centre (organisation id), the results published in [from, to), in
// one query: the regulator's pass rate by the region of the centre.
func PassCounts(ctx context.Context, db pg.DB, from, to time.Time) (map[int64]PassCount, error) {
	rows, err := db.Query(ctx, `SELECT s.organisation_id, count(*), count(*) FILTER (WHERE r.passed)
		FROM exam_results r JOIN exam_sessions s ON s.id = r.session_id
		WHERE r.published_at >= $1 AND r.published_at < $2 GROUP BY s.organisation_id`, from, to)
	if err != nil {
		return nil, err
	}
	out := map[int64]PassCount{}
	var id int64
	var c PassCount
	if _, err := pgx.ForEachRow(rows, []any{&id, &c.Sat, &c.Passed}, func() error { out[id] = c; return nil }); err != nil {
		return nil, fmt.Errorf("pass counts: %w", err)
	}
	return out, nil
}
