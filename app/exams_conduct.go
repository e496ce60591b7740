package app

import (
	"context"
	"time"

	"shanyu/audits"
)

// conductSource gives the exams domain the audits domain's verdict on a person's conduct records,
// through audits' exported check (exams reads no table of audits).
type conductSource struct{ audits *audits.Service }

// ConductClear reports whether nothing in the person's conduct records stands against them on day on.
func (s conductSource) ConductClear(ctx context.Context, personID int64, on time.Time) (bool, error) {
	c, err := s.audits.ConductOf(ctx, personID, on)
	if err != nil {
		return false, err
	}
	return c.Clear(), nil
}
