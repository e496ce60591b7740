package bank

import (
	"context"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/pg"
)

// Reasons an importable item is skipped; each is a translation key.
const (
	keyDuplicateInFile = "bank.import.duplicate_in_file"
	keyExists          = "bank.import.exists"
)

// Skip is an entry of a file that an import leaves out, where it was and why.
type Skip struct {
	Line     int    `json:"line,omitempty"`
	Element  string `json:"element,omitempty"`
	Type     string `json:"type,omitempty"` // the question's type as the file names it
	Reason   string `json:"reason"`
	Detail   string `json:"detail,omitempty"`
	Existing int64  `json:"existing_item,omitempty"` // the item already holding this question
	Args     []any  `json:"-"`                       // for the translated reason
}

// Plan is what an import will do: the items it will create and the entries it will skip.
type Plan struct {
	Format    Format
	Questions int // entries found in the file
	Create    []Entry
	Skipped   []Skip
}

// Report is what an import did (or, for a dry run, would do).
type Report struct {
	Format     Format  `json:"format"`
	Questions  int     `json:"questions"`
	Created    int     `json:"created"`
	Categories int     `json:"categories_created"`
	Skipped    []Skip  `json:"skipped"`
	ItemIDs    []int64 `json:"item_ids,omitempty"`
	DryRun     bool    `json:"dry_run"`
}

// Preview works out what importing a parsed file into a centre's bank would do, changing nothing.
func Preview(ctx context.Context, db pg.DB, centreID int64, res *Result) (*Plan, error) {
	return plan(ctx, db, centreID, res)
}

func plan(ctx context.Context, db pg.DB, centreID int64, res *Result) (*Plan, error) {
	p := &Plan{Format: res.Format, Questions: len(res.Entries), Skipped: []Skip{}}
	var hashes []string
	first := map[string]Place{}
	var candidates []Entry
	for _, e := range res.Entries {
		if !e.OK() {
			for _, pr := range e.Problems[:1] {
				p.Skipped = append(p.Skipped, Skip{Line: e.At.Line, Element: e.At.Element, Type: e.SourceType, Reason: pr.Key, Detail: pr.Detail, Args: pr.Args})
			}
			continue
		}
		e.Item = tidy(e.Item)
		h := e.Item.Hash()
		if at, dup := first[h]; dup {
			p.Skipped = append(p.Skipped, Skip{Line: e.At.Line, Element: e.At.Element, Type: e.SourceType, Reason: keyDuplicateInFile, Detail: "same as " + at.String()})
			continue
		}
		first[h] = e.At
		hashes = append(hashes, h)
		if e.Origin != "" && e.Origin != h {
			hashes = append(hashes, e.Origin)
		}
		candidates = append(candidates, e)
	}
	existing := map[string]int64{}
	if len(hashes) > 0 {
		// Any version counts, and what a version was created from: a question edited since still came
		// from this content.
		rows, err := db.Query(ctx, `SELECT h, min(i.id) FROM bank_item_versions v
			JOIN bank_items i ON i.id = v.item_id
			CROSS JOIN LATERAL (VALUES (v.content_hash), (v.origin_hash)) AS x (h)
			WHERE i.organisation_id = $1 AND (v.content_hash = ANY($2) OR v.origin_hash = ANY($2)) AND h = ANY($2)
			GROUP BY h`, centreID, hashes)
		if err != nil {
			return nil, fmt.Errorf("look up existing items: %w", err)
		}
		for rows.Next() {
			var h string
			var id int64
			if err := rows.Scan(&h, &id); err != nil {
				rows.Close()
				return nil, err
			}
			existing[h] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	for _, e := range candidates {
		id, ok := existing[e.Item.Hash()]
		if !ok && e.Origin != "" {
			id, ok = existing[e.Origin]
		}
		if ok {
			p.Skipped = append(p.Skipped, Skip{Line: e.At.Line, Element: e.At.Element, Type: e.SourceType, Reason: keyExists, Existing: id,
				Detail: fmt.Sprintf("already in the bank as item %d", id)})
			continue
		}
		p.Create = append(p.Create, e)
	}
	return p, nil
}

// Commit imports a parsed file into a centre's bank in one transaction: everything the plan creates,
// or nothing. The plan is worked out again inside the transaction, under the bank's lock, so that a
// concurrent import of the same file cannot create the same items twice.
func Commit(ctx context.Context, db pg.DB, centreID int64, res *Result) (*Report, error) {
	var rep *Report
	err := pg.WithTx(ctx, db, func(tx pgx.Tx) error {
		if err := lockBank(ctx, tx, centreID); err != nil {
			return err
		}
		p, err := plan(ctx, tx, centreID, res)
		if err != nil {
			return err
		}
		items := make([]Item, len(p.Create))
		for i, e := range p.Create {
			items[i] = e.Item
		}
		rows, cats, err := insertItems(ctx, tx, centreID, items)
		if err != nil {
			return err
		}
		rep = report(p)
		rep.Created, rep.Categories = len(rows), cats
		for _, r := range rows {
			rep.ItemIDs = append(rep.ItemIDs, r.id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	return rep, nil
}

func report(p *Plan) *Report {
	return &Report{Format: p.Format, Questions: p.Questions, Skipped: p.Skipped}
}

// Import parses a file and imports it into a centre's bank; with dryRun it only previews, and
// Created says how many items a real import would create.
func Import(ctx context.Context, db pg.DB, centreID int64, f Format, r io.Reader, dryRun bool) (*Report, error) {
	res, err := Parse(f, r)
	if err != nil {
		return nil, err
	}
	if !dryRun {
		return Commit(ctx, db, centreID, res)
	}
	p, err := Preview(ctx, db, centreID, res)
	if err != nil {
		return nil, err
	}
	rep := report(p)
	rep.Created, rep.DryRun = len(p.Create), true
	return rep, nil
}
