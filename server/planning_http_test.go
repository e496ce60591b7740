package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"shanyu/internal/servertest"
)

// Planning imports as a city regulator: a file naming Hangzhou is refused whole with every bad cell
// named by line and column, and stores nothing; Ningbo's own figures preview and commit, and the
// indicators follow; a places file with bad cells is named cell by cell; the targets, the
// province's, are not the city's to set; the province admin's bad target is kept on the form, 422.
func TestPlanningImportScopedAndNamed(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	admin, nb := mustLogin(t, srv, "admin"), mustLogin(t, srv, "regulator.nb")
	if r := nb.do("GET", "/dashboard/planning/population/template.xlsx?region=3302", nil, nil); r.Status != http.StatusOK || len(r.Body) < 1000 {
		t.Fatalf("template: %d", r.Status)
	}
	wantStatus(t, "regulator.nb opens Hangzhou's planning", nb.do("GET", "/dashboard/planning?region=3301", nil, nil), http.StatusForbidden)
	before := nb.do("GET", "/api/v1/indicators?region=3302", nil, nil).json(t)["region"].(map[string]any)["population"].(float64)
	up := func(c *client, kind, body string, commit bool) response {
		fields := map[string]string{"_csrf": c.csrf}
		if commit {
			fields["commit"] = "true"
		}
		return c.multipart("/dashboard/planning/"+kind+"/import?region=3302", fields, "file", kind+".csv", []byte(body), nil)
	}
	r := up(nb, "population", "region_code,year,population\n330203,2026,1100000\n330106,2026,5\n330205,1800,-3\n", true)
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("a file naming Hangzhou: %d", r.Status)
	}
	for _, want := range []string{"第 3 行 A 列（区划代码）：不在您管辖的地区（3302）内", "第 4 行 B 列（年份）", "第 4 行 C 列（常住人口）", "未导入任何一行"} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("the refused file's page lacks %q", want)
		}
	}
	if after := nb.do("GET", "/api/v1/indicators?region=3302", nil, nil).json(t)["region"].(map[string]any)["population"].(float64); after != before {
		t.Errorf("a refused file changed Ningbo's population: %v → %v", before, after)
	}
	good := "region_code,year,population\n3302,2099,9990000\n"
	if r := up(nb, "population", good, false); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "可导入 1 行") {
		t.Fatalf("preview: %d", r.Status)
	}
	if r := up(nb, "population", good, true); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "已导入 1 行") {
		t.Fatalf("commit: %d", r.Status)
	}
	if p := nb.do("GET", "/api/v1/indicators?region=3302&year=2099", nil, nil).json(t)["region"].(map[string]any); p["population"].(float64) != 9990000 || p["population_year"].(float64) != 2099 {
		t.Errorf("after the import: %v", p)
	}
	r = up(nb, "places", "institution_code,places,puhui_places,township_code,kind\nNBI001,40,50,330106001,palace\nHZI001,10,5,,\n", false)
	for _, want := range []string{"第 2 行 C 列（普惠托位数）", "第 2 行 D 列（乡镇（街道）代码）", "第 2 行 E 列（类型）", "第 3 行 A 列（机构代码）：不在您管辖的地区"} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("the places preview lacks %q", want)
		}
	}
	if r.Status != http.StatusUnprocessableEntity {
		t.Errorf("places preview with bad cells: %d", r.Status)
	}
	targets := url.Values{"year": {"2030"}, "places_per_1000": {"5.5"}, "puhui_share": {"65"}, "township_coverage": {"100"}, "qualified_ratio": {"100"}}
	wantStatus(t, "regulator.nb sets the province's targets", nb.auditForm("/dashboard/planning/targets?region=3302", targets), http.StatusForbidden)
	bad := url.Values{"year": {"2030"}, "places_per_1000": {"5.5"}, "puhui_share": {"165"}, "township_coverage": {"100"}, "qualified_ratio": {"100"}}
	if r := admin.auditForm("/dashboard/planning/targets?region=33", bad); r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `value="165"`) || !strings.Contains(string(r.Body), "须在 0 至 100 之间") {
		t.Errorf("a bad target: %d", r.Status)
	}
	if r := admin.auditForm("/dashboard/planning/targets?region=33", targets); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "目标已保存") {
		t.Fatalf("targets: %d", r.Status)
	}
	if tg := admin.do("GET", "/api/v1/indicators?region=33&year=2031", nil, nil).json(t)["targets"].(map[string]any); tg["year"].(float64) != 2030 || tg["puhui_share"].(float64) != 0.65 {
		t.Errorf("the 2031 table's targets: %v", tg)
	}
}
