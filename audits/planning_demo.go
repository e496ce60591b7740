package audits

import (
	"bytes"
	"context"
	_ "embed"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/pg"
)

// provinceTownships is Zhejiang's township list (data/townships-33.LICENSE says where it is from).
//
//go:embed data/townships-33.csv
var provinceTownships []byte

// LoadProvinceTownships stores the bundled township list of the province (the lines whose county
// is a region here).
func LoadProvinceTownships(ctx context.Context, db pg.DB) (stored, skipped int, err error) {
	return LoadTownships(ctx, db, bytes.NewReader(provinceTownships))
}

// Townships lists the townships of a county, by code.
func (s *Service) Townships(ctx context.Context, county string) ([]Township, error) {
	rows, err := s.db.Query(ctx, `SELECT code, name, county_code FROM audit_townships WHERE starts_with(county_code, $1) ORDER BY code LIMIT 5000`, county)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Township, error) {
		var t Township
		err := r.Scan(&t.Code, &t.Name, &t.County)
		return t, err
	})
}

// SeedDemoSnapshots keeps months past months of made-up snapshots (marked demo) that climb towards
// today's figures, so that a demo trend has a line: a month k months back has the counts and ratios
// of now scaled by 1 − k·3 %. Months already kept are left alone. It answers how many months it wrote.
func (s *Service) SeedDemoSnapshots(ctx context.Context, months int) (int, error) {
	now := time.Now()
	live, err := s.indicatorRows(ctx, now.Year(), now)
	if err != nil {
		return 0, err
	}
	current := monthOf(now)
	wrote := 0
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		for k := 1; k <= months; k++ {
			month := current.AddDate(0, -k, 0)
			var done bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM audit_indicator_snapshots WHERE month = $1)`, month).Scan(&done); err != nil {
				return err
			}
			if done {
				continue
			}
			f := 1 - float64(k)*0.03
			past := make(map[string]*IndicatorRow, len(live))
			for code, r := range live {
				x := *r
				x.Places, x.PuhuiPlaces = int(float64(x.Places)*f), int(float64(x.PuhuiPlaces)*f*f)
				x.Institutions, x.TownshipsCovered = int(float64(x.Institutions)*f), int(float64(x.TownshipsCovered)*f)
				x.CertifiedStaff = int(float64(x.CertifiedStaff) * f)
				x.PostsQualified = int(float64(x.PostsQualified) * (1 - float64(k)*0.01))
				x.derive()
				past[code] = &x
			}
			if err := s.writeSnapshot(ctx, tx, month, past, true); err != nil {
				return err
			}
			wrote++
		}
		return nil
	})
	return wrote, err
}
