package app

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/audits"
	"shanyu/exams"
)

// conductSource gives the exams domain the audits domain's verdict on a person's conduct records,
// through audits' exported check (exams reads no table of audits).
type conductSource struct{ audits *audits.Service }

// ConductSource is the adapter for a caller that builds the exams service itself (the demo seed,
// which runs the exams on a clock of its own).
func ConductSource(a *audits.Service) exams.ConductSource { return conductSource{audits: a} }

// ConductClear reports whether nothing in the person's conduct records stands against them on day on.
func (s conductSource) ConductClear(ctx context.Context, personID int64, on time.Time) (bool, error) {
	c, err := s.audits.ConductOf(ctx, personID, on)
	if err != nil {
		return false, err
	}
	return c.Clear(), nil
}

// QueueConductClear is ConductClear queued on b (the exam start sends it in its transaction's round
// trip); *out is set when b's results are read.
func (s conductSource) QueueConductClear(b *pgx.Batch, personID int64, on time.Time, out *bool) {
	s.audits.QueueConductOf(b, personID, on, func(c audits.Conduct) { *out = c.Clear() })
}
