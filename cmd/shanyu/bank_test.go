package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shanyu/internal/config"
	"shanyu/internal/pgtest"
)

func testConfig(t *testing.T) config.Config {
	t.Helper()
	cfg, err := config.Parse(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestBankCmdImportExport(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO regions (code, gb_code, name) VALUES ('33', '330000', '浙江省') ON CONFLICT DO NOTHING`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO organisations (kind, code, name, region_code) VALUES ('training_centre', 'HZ001', '杭州培训中心', '33')`); err != nil {
		t.Fatal(err)
	}
	fixture := filepath.Join("..", "..", "exams", "bank", "testdata", "all.gift")
	lastJSON := func(out string) map[string]any {
		t.Helper()
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var m map[string]any
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
			t.Fatalf("last line is not JSON: %v\n%s", err, out)
		}
		return m
	}
	var out bytes.Buffer
	if err := bankCmd(ctx, testConfig(t), pool, []string{"import", "--centre", "HZ001", "--format", "gift", "--dry-run", fixture}, &out); err != nil {
		t.Fatal(err)
	}
	if m := lastJSON(out.String()); m["questions"] != 19.0 || m["created"] != 15.0 || len(m["skipped"].([]any)) != 4 || m["dry_run"] != true {
		t.Fatalf("dry run report: %v", m)
	}
	// A Moodle file with types the bank does not hold: they are named in skipped, the rest imports.
	out.Reset()
	mixed := filepath.Join("..", "..", "exams", "bank", "testdata", "moodle", "cloze-and-unknown.xml")
	if err := bankCmd(ctx, testConfig(t), pool, []string{"import", "--centre", "HZ001", "--format", "moodlexml", "--dry-run", mixed}, &out); err != nil {
		t.Fatal(err)
	}
	m := lastJSON(out.String())
	skipped, _ := m["skipped"].([]any)
	if m["created"] != 6.0 || len(skipped) != 2 {
		t.Fatalf("mixed Moodle file: %v", m)
	}
	for i, typ := range []string{"poodllrecording", "calculated"} {
		s := skipped[i].(map[string]any)
		if s["type"] != typ || s["line"] == nil || s["element"] == nil || s["reason"] == nil {
			t.Errorf("skipped[%d] = %v, want type %s with its line", i, s, typ)
		}
	}
	if !strings.Contains(out.String(), "(poodllrecording)") {
		t.Errorf("the summary does not name the skipped type:\n%s", out.String())
	}
	for _, want := range []float64{15, 0} {
		out.Reset()
		if err := bankCmd(ctx, testConfig(t), pool, []string{"import", "--centre", "hz001", "--format", "gift", fixture}, &out); err != nil {
			t.Fatal(err)
		}
		if m := lastJSON(out.String()); m["created"] != want {
			t.Fatalf("import report: %v, want created %v", m, want)
		}
	}
	if !strings.Contains(out.String(), "line 54") {
		t.Errorf("summary does not name the bad question's line:\n%s", out.String())
	}

	dir := t.TempDir()
	// GIFT writes what it can express; all.gift's items all fit, and the file reads back as the same
	// questions (into the same bank: nothing new).
	out.Reset()
	giftFile := filepath.Join(dir, "bank.gift")
	if err := bankCmd(ctx, testConfig(t), pool, []string{"export", "--centre", "HZ001", "--format", "gift", giftFile}, &out); err != nil {
		t.Fatal(err)
	}
	if m := lastJSON(out.String()); m["exported"] != 15.0 || len(m["skipped"].([]any)) != 0 {
		t.Errorf("export gift: %v", m)
	}
	out.Reset()
	if err := bankCmd(ctx, testConfig(t), pool, []string{"import", "--centre", "HZ001", "--format", "gift", "--dry-run", giftFile}, &out); err != nil {
		t.Fatal(err)
	}
	if m := lastJSON(out.String()); m["questions"] != 15.0 || m["created"] != 0.0 {
		t.Errorf("the GIFT export reads back as %v", m)
	}
	for _, f := range []string{"moodlexml", "xlsx"} {
		out.Reset()
		file := filepath.Join(dir, "bank."+f)
		if err := bankCmd(ctx, testConfig(t), pool, []string{"export", "--centre", "HZ001", "--format", f, file}, &out); err != nil {
			t.Fatal(err)
		}
		if m := lastJSON(out.String()); m["exported"] != 15.0 {
			t.Errorf("export %s: %v", f, m)
		}
	}

	bad := filepath.Join(dir, "truncated.xml")
	if err := os.WriteFile(bad, []byte("<quiz><question type=\"truefalse\"><questiontext>"), 0o600); err != nil {
		t.Fatal(err)
	}
	errCases := map[string][]string{
		"truncated file": {"import", "--centre", "HZ001", "--format", "moodlexml", bad},
		"unknown centre": {"import", "--centre", "NOPE", "--format", "gift", fixture},
		"unknown format": {"import", "--centre", "HZ001", "--format", "csv", fixture},
		"missing file":   {"import", "--centre", "HZ001", "--format", "gift", filepath.Join(dir, "none.gift")},
		"no arguments":   {"import"},
		"export format":  {"export", "--centre", "HZ001", "--format", "csv", filepath.Join(dir, "x.csv")},
	}
	for name, args := range errCases {
		if err := bankCmd(ctx, testConfig(t), pool, args, &out); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := bankCmd(ctx, testConfig(t), pool, errCases["truncated file"], &out); !strings.Contains(err.Error(), "line 1") {
		t.Errorf("truncated file error does not name the place: %v", err)
	}
}
