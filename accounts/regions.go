package accounts

import (
	"context"
	_ "embed"
	"encoding/csv"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// Region is an administrative division. Code is the GB/T 2260 code without its trailing "00" pairs
// (33, 3301, 330106), so that "inside" is a prefix test: 330106 lies in 3301 and in 33.
type Region struct {
	Code   string
	GBCode string // the six-digit code, e.g. 330106
	Name   string // Chinese name
	NameEN string
	Parent string // empty for a province
}

// Contains reports whether the region with code inner lies in (or is) the region outer.
func Contains(outer, inner string) bool { return strings.HasPrefix(inner, outer) }

// ErrRegionNotFound says no region has that code.
var ErrRegionNotFound = failure.New(failure.NotFound, "accounts.region_not_found")

//go:embed seed/regions.csv
var regionsCSV string

// seedRegions reads the embedded list of regions (standards.md §8).
func seedRegions() ([]Region, error) {
	r := csv.NewReader(strings.NewReader(regionsCSV))
	r.Comment = '#'
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("regions.csv: %w", err)
	}
	var out []Region
	for i, rec := range recs[1:] {
		if len(rec) != 4 {
			return nil, fmt.Errorf("regions.csv line %d: want 4 fields", i+2)
		}
		gb := rec[0]
		code := strings.TrimSuffix(strings.TrimSuffix(gb, "00"), "00")
		parent := ""
		if len(code) > 2 {
			parent = code[:len(code)-2]
		}
		out = append(out, Region{Code: code, GBCode: gb, Name: rec[1], NameEN: rec[2], Parent: parent})
	}
	return out, nil
}

// SeedRegions inserts or updates the built-in regions; running it again changes nothing.
func SeedRegions(ctx context.Context, db pg.DB) (int, error) {
	regions, err := seedRegions()
	if err != nil {
		return 0, err
	}
	err = pg.WithTx(ctx, db, func(tx pgx.Tx) error {
		for _, r := range regions {
			_, err := tx.Exec(ctx, `INSERT INTO regions (code, gb_code, name, name_en, parent_code)
				VALUES ($1, $2, $3, $4, nullif($5, ''))
				ON CONFLICT (code) DO UPDATE SET gb_code = excluded.gb_code, name = excluded.name,
					name_en = excluded.name_en, parent_code = excluded.parent_code`,
				r.Code, r.GBCode, r.Name, r.NameEN, r.Parent)
			if err != nil {
				return fmt.Errorf("region %s: %w", r.Code, err)
			}
		}
		return nil
	})
	return len(regions), err
}

// Regions lists every region ordered by code.
func Regions(ctx context.Context, db pg.DB) ([]Region, error) {
	rows, err := db.Query(ctx, `SELECT code, gb_code, name, name_en, coalesce(parent_code, '') FROM regions ORDER BY code`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Region, error) {
		var r Region
		err := row.Scan(&r.Code, &r.GBCode, &r.Name, &r.NameEN, &r.Parent)
		return r, err
	})
}

// RegionByCode returns one region, or ErrRegionNotFound.
func RegionByCode(ctx context.Context, db pg.DB, code string) (Region, error) {
	var r Region
	err := db.QueryRow(ctx, `SELECT code, gb_code, name, name_en, coalesce(parent_code, '') FROM regions WHERE code = $1`, code).
		Scan(&r.Code, &r.GBCode, &r.Name, &r.NameEN, &r.Parent)
	if pg.IsNoRows(err) {
		return r, ErrRegionNotFound
	}
	return r, err
}
