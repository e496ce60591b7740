package app

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/accounts"
	"shanyu/audits"
	"shanyu/curriculum"
	"shanyu/exams"
)

// The product's sources of the exams' eligibility checks queue them in the start's batch.
var (
	_ exams.HoursQueuer    = (*curriculum.Service)(nil)
	_ exams.IdentityQueuer = (*accounts.Service)(nil)
	_ exams.ConductQueuer  = conductSource{}
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

// QueueConductClear is ConductClear of several people queued on b (the exam start sends it in its
// transaction's round trip); out is given each person's answer when b's results are read.
func (s conductSource) QueueConductClear(b *pgx.Batch, personIDs []int64, on time.Time, out map[int64]bool) {
	s.audits.QueueConductOf(b, personIDs, on, func(id int64, c audits.Conduct) { out[id] = c.Clear() })
}
