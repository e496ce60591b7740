package audits

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"

	"shanyu/accounts"
	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// Planning imports: a workbook (or CSV) of population figures or of institutions' places is
// previewed, every bad cell named by line and column, and committed in one transaction only when
// no line has a problem; commit parses the file again, trusting nothing from the preview. Lines may
// only name regions (and institutions) inside the region the importer acts for.

// Kinds of planning import.
const (
	PlanPopulation = "population"
	PlanPlaces     = "places"
	PlanTownships  = "townships" // the province's: replaces or adds to the township list
)

// MaxPlanRows bounds a planning file: the roster import's bound, which its reader enforces (a city
// files its institutions in a few files).
const MaxPlanRows = MaxRosterRows

// PlanColumns are each import's columns: the key (also the English heading) of each.
var PlanColumns = map[string][]string{
	PlanPopulation: {"region_code", "year", "population"},
	PlanPlaces:     {"institution_code", "places", "puhui_places", "township_code", "kind"},
	PlanTownships:  {"township_code", "township_name", "county_code"},
}

// PlanRow is one line of a planning file, parsed.
type PlanRow struct {
	Line       int
	Kind       string // PlanPopulation, PlanPlaces or PlanTownships
	Population Population
	Places     Places
	Township   Township
	Code       string // the institution's code (places)
	Problems   []CellProblem
}

// CellProblem is one bad cell: its line (heading is line 1), its column letter and key, and the
// message's translation key and arguments.
type CellProblem struct {
	Line   int
	Column string // "B"
	Field  string
	Key    string
	Args   []any
}

var (
	ErrPlanKindUnknown = failure.New(failure.Invalid, "audits.plan.import_kind")
	ErrPlanProblems    = failure.New(failure.Invalid, "audits.plan.problems")
	ErrPlanEmpty       = failure.New(failure.Invalid, "audits.plan.empty")
)

// PlanTemplate is the workbook to fill in for an import kind, headed by headings (in the reader's
// language; the keys when nil) with an example line.
func PlanTemplate(kind string, headings map[string]string) ([]byte, error) {
	cols, ok := PlanColumns[kind]
	if !ok {
		return nil, ErrPlanKindUnknown
	}
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	head := make([]any, len(cols))
	for i, k := range cols {
		head[i] = k
		if h := headings[k]; h != "" {
			head[i] = h
		}
	}
	if err := f.SetSheetRow(sheet, "A1", &head); err != nil {
		return nil, err
	}
	example := map[string][]any{
		PlanPopulation: {"330106", 2025, 1190000},
		PlanPlaces:     {"HZI001", 45, 30, "330106001", "community"},
		PlanTownships:  {"330106001", "北山街道", "330106"},
	}[kind]
	if err := f.SetSheetRow(sheet, "A2", &example); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ParsePlanning reads and checks every line of a planning file for the importer acting in region.
func (s *Service) ParsePlanning(ctx context.Context, kind, region, format string, data []byte) ([]PlanRow, error) {
	return s.parsePlanning(ctx, s.db, kind, region, format, data)
}

func (s *Service) parsePlanning(ctx context.Context, db pg.DB, kind, region, format string, data []byte) ([]PlanRow, error) {
	cols, ok := PlanColumns[kind]
	if !ok {
		return nil, ErrPlanKindUnknown
	}
	records, err := rosterRecords(format, data)
	if err != nil {
		return nil, err
	}
	if len(records) < 2 {
		return nil, ErrPlanEmpty
	}
	regions, err := s.regionSet(ctx)
	if err != nil {
		return nil, err
	}
	townships, err := townshipCounties(ctx, db)
	if err != nil {
		return nil, err
	}
	var out []PlanRow
	firstLine := map[string]int{} // township code → the line that first names it
	for i, rec := range records[1:] {
		line := i + 2
		cell := func(k int) string {
			if k < len(rec) {
				return strings.TrimSpace(rec[k])
			}
			return ""
		}
		if strings.Join(rec, "") == "" {
			continue
		}
		row := PlanRow{Line: line, Kind: kind}
		bad := func(field, key string, args ...any) {
			for k, c := range cols {
				if c == field {
					name, _ := excelize.ColumnNumberToName(k + 1)
					row.Problems = append(row.Problems, CellProblem{Line: line, Column: name, Field: field, Key: key, Args: args})
					return
				}
			}
		}
		num := func(k int) (int64, bool) {
			n, err := strconv.ParseInt(strings.ReplaceAll(cell(k), ",", ""), 10, 64)
			return n, err == nil
		}
		switch kind {
		case PlanPopulation:
			p := Population{Region: cell(0)}
			y, okY := num(1)
			n, okN := num(2)
			p.Year, p.Population = int(y), n
			if !okY {
				p.Year = 0
			}
			if !okN {
				p.Population = -1
			}
			problems := p.check(regions)
			for field, column := range map[string]string{"region": "region_code", "year": "year", "population": "population"} {
				if m, ok := problems[field]; ok {
					bad(column, m.Key, m.Args...)
				}
			}
			if regions[p.Region] && !accounts.Contains(region, p.Region) {
				bad("region_code", "audits.plan.outside", region)
			}
			row.Population = p
		case PlanPlaces:
			row.Code = strings.ToUpper(cell(0))
			o, err := s.accounts.OrganisationByCode(ctx, row.Code)
			orgRegion := ""
			switch {
			case errors.Is(err, accounts.ErrOrganisationNotFound) || err == nil && o.Kind != accounts.KindInstitution:
				bad("institution_code", "audits.plan.institution_unknown")
			case err != nil:
				return nil, err
			case !accounts.Contains(region, o.RegionCode):
				bad("institution_code", "audits.plan.outside", region)
			default:
				orgRegion = o.RegionCode
			}
			places, okP := num(1)
			puhui, okH := num(2)
			p := Places{OrganisationID: o.ID, Places: int(places), Puhui: int(puhui), Township: cell(3), Kind: cell(4)}
			if !okP {
				p.Places = -1
			}
			if !okH {
				p.Puhui = -1
			}
			if p.Kind == "" && err == nil {
				p.Kind = o.InstitutionType
			}
			problems := p.check(orgRegion, townships)
			for _, f := range cols[1:] {
				if m, ok := problems[f]; ok {
					bad(f, m.Key, m.Args...)
				}
			}
			row.Places = p
		case PlanTownships:
			t := Township{Code: cell(0), Name: cell(1), County: cell(2)}
			for field, key := range t.check(regions) {
				bad(field, key.Key, key.Args...)
			}
			if first, ok := firstLine[t.Code]; ok && t.Code != "" {
				bad("township_code", "audits.plan.township_twice", first)
			} else {
				firstLine[t.Code] = line
			}
			row.Township = t
		}
		sort.Slice(row.Problems, func(a, b int) bool { return row.Problems[a].Column < row.Problems[b].Column })
		out = append(out, row)
	}
	if len(out) == 0 {
		return nil, ErrPlanEmpty
	}
	return out, nil
}

// ImportPlanning parses the file again and, when no line has a problem, stores every line in one
// transaction (each audited); with any problem it stores nothing and answers ErrPlanProblems with the
// lines. It answers the lines and how many it stored.
func (s *Service) ImportPlanning(ctx context.Context, actorID int64, kind, region, format string, data []byte) ([]PlanRow, int, error) {
	if kind == PlanTownships {
		return nil, 0, ErrPlanKindUnknown // ImportTownships: the list is the province's, replaced or added to
	}
	rows, err := s.ParsePlanning(ctx, kind, region, format, data)
	if err != nil {
		return nil, 0, err
	}
	for _, r := range rows {
		if len(r.Problems) > 0 {
			return rows, 0, ErrPlanProblems
		}
	}
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		for _, r := range rows {
			var err error
			if kind == PlanPopulation {
				err = putPopulation(ctx, tx, actorID, r.Population)
			} else {
				err = putPlaces(ctx, tx, actorID, r.Places)
			}
			if err != nil {
				return fmt.Errorf("line %d: %w", r.Line, err)
			}
		}
		return nil
	})
	if err != nil {
		return rows, 0, err
	}
	return rows, len(rows), nil
}
