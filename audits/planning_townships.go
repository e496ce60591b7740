package audits

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"shanyu/accounts"
	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// The province's township list, uploaded by its regulator: a file (CSV or xlsx: code, name, county
// code) that adds to the list or replaces it, previewed with every bad line named and stored in one
// transaction, audited. A replacement keeps the townships an institution's places are filed in even
// when the file leaves them out, and says how many it kept.

// MaxTownshipName bounds a township's name, in characters (the longest in the country has 15).
const MaxTownshipName = 50

// check gives the problems of a township line, by column.
func (t Township) check(regions map[string]bool) failure.Fields {
	var f failure.Fields
	if !townshipCode.MatchString(t.Code) {
		f.Add("township_code", "audits.plan.township_code_invalid")
	}
	if n := len([]rune(t.Name)); n == 0 || n > MaxTownshipName {
		f.Add("township_name", "audits.plan.township_name_invalid", MaxTownshipName)
	}
	switch {
	case !regions[t.County] || (len(t.County) != 4 && len(t.County) != 6):
		f.Add("county_code", "audits.plan.county_unknown")
	case townshipCode.MatchString(t.Code) && !strings.HasPrefix(t.Code, (t.County + "0000")[:6]):
		f.Add("township_code", "audits.plan.township_outside", t.County)
	}
	return f
}

// TownshipPlan is what a township file would do: its lines, and for a replacement how many
// townships now listed it leaves out, of which how many are kept because places are filed in them.
type TownshipPlan struct {
	Rows          []PlanRow
	Replace       bool
	Stored        int // lines stored (after a commit)
	Removed, Kept int
}

// Bad is how many lines have a problem.
func (p TownshipPlan) Bad() int {
	n := 0
	for _, r := range p.Rows {
		if len(r.Problems) > 0 {
			n++
		}
	}
	return n
}

// ParseTownships reads and checks every line of a township file and counts what a replacement
// would remove.
func (s *Service) ParseTownships(ctx context.Context, format string, data []byte, replace bool) (TownshipPlan, error) {
	return s.parseTownships(ctx, s.db, format, data, replace)
}

func (s *Service) parseTownships(ctx context.Context, db pg.DB, format string, data []byte, replace bool) (TownshipPlan, error) {
	rows, err := s.parsePlanning(ctx, db, PlanTownships, "33", format, data)
	if err != nil {
		return TownshipPlan{}, err
	}
	p := TownshipPlan{Rows: rows, Replace: replace}
	if replace {
		err = db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE NOT used), count(*) FILTER (WHERE used) FROM (
			SELECT EXISTS (SELECT 1 FROM audit_institution_places p WHERE p.township_code = t.code) AS used
			FROM audit_townships t WHERE NOT (t.code = ANY ($1::text[]))) x`, townshipCodes(rows)).Scan(&p.Removed, &p.Kept)
	}
	return p, err
}

func townshipCodes(rows []PlanRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Township.Code
	}
	return out
}

// ImportTownships parses the file again and, when no line has a problem, stores every line in one
// transaction (names and counties of known codes are updated) and, for a replacement, removes the
// townships the file leaves out that no places are filed in; it is audited once. With any problem it
// stores nothing and answers ErrPlanProblems with the lines.
func (s *Service) ImportTownships(ctx context.Context, actorID int64, format string, data []byte, replace bool) (TownshipPlan, error) {
	// Lines are checked before the transaction opens: it must not wait for a second pool connection.
	rows, err := s.parsePlanning(ctx, s.db, PlanTownships, "33", format, data)
	if err != nil {
		return TownshipPlan{}, err
	}
	p := TownshipPlan{Rows: rows, Replace: replace}
	if p.Bad() > 0 {
		return p, ErrPlanProblems
	}
	codes := townshipCodes(rows)
	var names, counties []string
	for _, r := range rows {
		names, counties = append(names, r.Township.Name), append(counties, r.Township.County)
	}
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		// One writer of the list at a time: two replacements at once would each keep the other's lines.
		if _, err := tx.Exec(ctx, `LOCK TABLE audit_townships IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO audit_townships (code, name, county_code)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
			ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, county_code = EXCLUDED.county_code`, codes, names, counties); err != nil {
			return err
		}
		if replace {
			tag, err := tx.Exec(ctx, `DELETE FROM audit_townships t WHERE NOT (t.code = ANY ($1::text[]))
				AND NOT EXISTS (SELECT 1 FROM audit_institution_places p WHERE p.township_code = t.code)`, codes)
			if err != nil {
				return err
			}
			p.Removed = int(tag.RowsAffected())
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM audit_townships WHERE NOT (code = ANY ($1::text[]))`, codes).Scan(&p.Kept); err != nil {
				return err
			}
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "planning.townships", Subject: "region:33",
			Details: map[string]any{"stored": len(codes), "replace": replace, "removed": p.Removed, "kept": p.Kept}})
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" {
		// An institution filed its places in a township being removed, between the check and the delete.
		err = ErrPlanTownships.Wrap(err)
	}
	if err != nil {
		p.Removed, p.Kept = 0, 0
		return p, err
	}
	p.Stored = len(codes)
	return p, nil
}

// TownshipCount is how many townships each county (or city standing for one) has.
func (s *Service) TownshipCount(ctx context.Context, region string) (map[string]int, error) {
	rows, err := s.db.Query(ctx, `SELECT county_code, count(*) FROM audit_townships WHERE starts_with(county_code, $1) GROUP BY county_code`, region)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	var code string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&code, &n}, func() error { out[code] = n; return nil })
	return out, err
}
