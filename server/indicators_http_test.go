package server_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"shanyu/internal/servertest"
)

// The indicator table answers the region and its children; a city regulator reads its own city and
// below but neither the province nor another city; bad parameters are 422.
func TestIndicatorsAPIScopedByRegion(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	admin, nb := mustLogin(t, srv, "admin"), mustLogin(t, srv, "regulator.nb")
	r := admin.do("GET", "/api/v1/indicators?region=33", nil, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	body := r.json(t)
	region := body["region"].(map[string]any)
	rows := body["rows"].([]any)
	if region["code"] != "33" || region["level"] != "province" || len(rows) != 11 || body["targets"].(map[string]any)["places_per_1000"].(float64) != 4.5 {
		t.Fatalf("province table: region %v, %d rows, targets %v", region, len(rows), body["targets"])
	}
	hz := admin.do("GET", "/api/v1/indicators?region=3301", nil, nil).json(t)
	if n := hz["region"].(map[string]any)["institutions"].(float64); n < 21 {
		t.Errorf("Hangzhou has %v institutions, want the demo's 21 at least", n)
	}
	for _, path := range []string{"/api/v1/indicators?region=33", "/api/v1/indicators?region=3301", "/api/v1/indicators/trend?region=3301"} {
		wantStatus(t, "regulator.nb reads "+path, nb.do("GET", path, nil, nil), http.StatusForbidden)
	}
	wantStatus(t, "regulator.nb reads Ningbo", nb.do("GET", "/api/v1/indicators?region=3302", nil, nil), http.StatusOK)
	// With no region asked, a city regulator gets its own city.
	if own := nb.do("GET", "/api/v1/indicators", nil, nil).json(t); own["region"].(map[string]any)["code"] != "3302" {
		t.Errorf("regulator.nb's default region: %v", own["region"])
	}
	wantStatus(t, "year out of range", admin.do("GET", "/api/v1/indicators?region=33&year=1900", nil, nil), http.StatusUnprocessableEntity)
	wantStatus(t, "overlong region", admin.do("GET", "/api/v1/indicators?region=33010612345", nil, nil), http.StatusUnprocessableEntity)
	wantStatus(t, "unknown indicator", admin.do("GET", "/api/v1/indicators/trend?region=33&indicator=nonsense", nil, nil), http.StatusUnprocessableEntity)
	wantStatus(t, "too many months", admin.do("GET", "/api/v1/indicators/trend?region=33&months=1000", nil, nil), http.StatusUnprocessableEntity)
	tr := admin.do("GET", "/api/v1/indicators/trend?region=3301&indicator=puhui_share&months=12", nil, nil)
	if tr.Status != http.StatusOK {
		t.Fatalf("trend: %d %s", tr.Status, tr.Body)
	}
	trend := tr.json(t)
	if pts := trend["points"].([]any); len(pts) != 12 || trend["target"].(float64) != 0.6 {
		t.Errorf("trend: %d points, target %v", len(pts), trend["target"])
	}
}

// The exports: the CSV has one line per region of the subtree with every indicator (and agrees with
// the JSON), the workbook the same rows, the PDF one page naming the region, the plan's targets and
// its districts; Ningbo's regulator cannot export Hangzhou.
func TestIndicatorExports(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	admin, nb := mustLogin(t, srv, "admin"), mustLogin(t, srv, "regulator.nb")
	r := admin.do("GET", "/dashboard/indicators.csv?region=3301", nil, nil)
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	lines, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(r.Body), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	table := admin.do("GET", "/api/v1/indicators?region=3301", nil, nil).json(t)
	want := 1 + len(table["rows"].([]any)) // Hangzhou and its 13 districts and counties
	if len(lines) != 1+want || want != 14 {
		t.Fatalf("csv has %d lines, want a heading and %d regions", len(lines), want)
	}
	head := map[string]int{}
	for i, k := range lines[0] {
		head[k] = i
	}
	for k := range table["region"].(map[string]any) {
		if _, ok := head[k]; !ok && k != "has_children" {
			t.Errorf("csv lacks the indicator %s", k)
		}
	}
	region := table["region"].(map[string]any)
	if lines[1][head["code"]] != "3301" || lines[1][head["places"]] != strconv.Itoa(int(region["places"].(float64))) ||
		lines[1][head["puhui_share"]] != strconv.FormatFloat(region["puhui_share"].(float64), 'f', 4, 64) {
		t.Errorf("csv Hangzhou line %v disagrees with the JSON %v", lines[1], region)
	}
	x := admin.do("GET", "/dashboard/indicators.xlsx?region=3301", nil, nil)
	f, err := excelize.OpenReader(bytes.NewReader(x.Body))
	if err != nil {
		t.Fatalf("xlsx: %d %v", x.Status, err)
	}
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil || len(rows) != 1+want || rows[0][1] != "地区" || rows[1][0] != "3301" {
		t.Fatalf("xlsx rows: %v %v", rows, err)
	}
	p := admin.do("GET", "/dashboard/indicators.pdf?region=3301", nil, nil)
	if p.Status != http.StatusOK || p.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("pdf: %d %s", p.Status, p.Body)
	}
	file := filepath.Join(t.TempDir(), "indicators.pdf")
	if err := os.WriteFile(file, p.Body, 0o644); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("SHANYU_KEEP_PDF"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "indicators-3301.pdf"), p.Body, 0o644)
	}
	if info := runTool(t, "pdfinfo", file); !regexp.MustCompile(`(?m)^Pages:\s+1$`).MatchString(info) {
		t.Errorf("pdfinfo: %s", info)
	}
	text := runTool(t, "pdftotext", "-layout", file, "-")
	for _, s := range []string{"杭州市", "托育服务发展指标", "每千人口托位数", "目标 4.50", "西湖区", "淳安县", "演示数据"} {
		if !strings.Contains(text, s) {
			t.Errorf("summary PDF lacks %q:\n%s", s, text)
		}
	}
	for _, path := range []string{"/dashboard/indicators.csv?region=3301", "/dashboard/indicators.xlsx?region=33", "/dashboard/indicators.pdf?region=3301"} {
		wantStatus(t, "regulator.nb exports "+path, nb.do("GET", path, nil, nil), http.StatusForbidden)
	}
	if r := nb.do("GET", "/dashboard/indicators.csv?region=3302", nil, nil); r.Status != http.StatusOK || strings.Count(string(r.Body), "\n") != 12 {
		t.Errorf("Ningbo's CSV: %d, %d lines", r.Status, strings.Count(string(r.Body), "\n"))
	}
}
