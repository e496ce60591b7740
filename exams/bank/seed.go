package bank

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"

	"shanyu/internal/pg"
)

// The demo bank: 150 questions for 保育师 四级 across the five topics of the demo courses, kept in
// the Excel layout as tab-separated text so that it reads well in review.
//
//go:embed seed/demo.tsv
var demoTSV string

// demoWorkbook renders the demo bank as the .xlsx a training centre would upload.
func demoWorkbook() ([]byte, error) {
	header, rows := readTSV(demoTSV)
	var buf bytes.Buffer
	if err := writeWorkbook(&buf, header, rows, false); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// SeedDemo fills a centre's bank with the demo questions through the Excel importer and returns how
// many items it created; running it again creates nothing.
func SeedDemo(ctx context.Context, db pg.DB, centreID int64) (int, error) {
	wb, err := demoWorkbook()
	if err != nil {
		return 0, fmt.Errorf("demo bank: %w", err)
	}
	res, err := ParseXLSX(bytes.NewReader(wb))
	if err != nil {
		return 0, fmt.Errorf("demo bank: %w", err)
	}
	for _, e := range res.Entries {
		if !e.OK() {
			return 0, fmt.Errorf("demo bank: %v: %v", e.At, e.Problems)
		}
	}
	rep, err := Commit(ctx, db, centreID, res)
	if err != nil {
		return 0, fmt.Errorf("demo bank: %w", err)
	}
	return rep.Created, nil
}
