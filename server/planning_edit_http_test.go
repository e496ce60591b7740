package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"shanyu/internal/servertest"
)

// The one-row edit pages and the township upload: another city's regulator is refused (403), an
// institution's staff too, anonymous goes to sign-in; a bad value comes back on the form, named, with
// what was typed, and stores nothing; bounded fields; the planning page links to each row's edit.
func TestPlanningEditPagesScopedValidatedAndBounded(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	admin, nb, inst := mustLogin(t, srv, "admin"), mustLogin(t, srv, "regulator.nb"), mustLogin(t, srv, "institution")
	anon := newClient(t, srv)
	for _, path := range []string{"/institutions/HZI001/places", "/dashboard/planning/population/3301?year=2025", "/dashboard/planning/townships"} {
		wantStatus(t, "regulator.nb opens "+path, nb.do("GET", path, nil, nil), http.StatusForbidden)
		wantStatus(t, "the institution's admin opens "+path, inst.do("GET", path, nil, nil), http.StatusForbidden)
		if r := anon.do("GET", path, nil, nil); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Errorf("anonymous %s: %d %s", path, r.Status, r.Header.Get("Location"))
		}
		wantStatus(t, "admin opens "+path, admin.do("GET", path, nil, nil), http.StatusOK)
	}
	good := url.Values{"places": {"40"}, "puhui_places": {"25"}, "township_code": {""}, "kind": {"community"}}
	wantStatus(t, "regulator.nb edits Hangzhou's HZI001", nb.auditForm("/institutions/HZI001/places", good), http.StatusForbidden)
	wantStatus(t, "HZI001's admin edits its places", inst.auditForm("/institutions/HZI001/places", good), http.StatusForbidden)
	wantStatus(t, "regulator.nb edits Hangzhou's population", nb.auditForm("/dashboard/planning/population/3301", url.Values{"year": {"2025"}, "population": {"1"}}), http.StatusForbidden)

	before := string(nb.do("GET", "/institutions/NBI001/places", nil, nil).Body)
	for _, c := range []struct {
		name, field, value, want string
	}{
		{"普惠 over the total", "puhui_places", "41", "普惠托位数须是整数，且不超过托位数"},
		{"negative places", "places", "-3", "须是 0 至 100000 之间的数"},
		{"a huge number", "places", strings.Repeat("9", 200), "须是 0 至 100000 之间的数"},
		{"a Hangzhou township", "township_code", "330106001", "不在机构所在的县"},
		{"an overlong township", "township_code", strings.Repeat("3", 5000), "没有这个乡镇（街道）代码"},
		{"an unknown kind", "kind", "palace", "类型无效"},
	} {
		v := url.Values{}
		for k, x := range good {
			v[k] = x
		}
		v.Set(c.field, c.value)
		r := nb.auditForm("/institutions/NBI001/places", v)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), c.want) || !strings.Contains(string(r.Body), `aria-invalid="true"`) {
			t.Errorf("%s: %d, message %q shown: %v", c.name, r.Status, c.want, strings.Contains(string(r.Body), c.want))
		}
		if c.field == "places" && c.value == "-3" && !strings.Contains(string(r.Body), `value="-3"`) {
			t.Errorf("%s: the typed value is not on the form again", c.name)
		}
	}
	if after := string(nb.do("GET", "/institutions/NBI001/places", nil, nil).Body); after != before {
		t.Errorf("refused edits changed NBI001's places")
	}
	if r := nb.auditForm("/institutions/NBI001/places", good); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "已保存") {
		t.Fatalf("a good edit: %d", r.Status)
	}
	if r := nb.do("GET", "/institutions/NBI001/places", nil, nil); !strings.Contains(string(r.Body), `value="40"`) || !strings.Contains(string(r.Body), `value="25"`) {
		t.Errorf("the saved places are not on the page")
	}
	wantStatus(t, "an unknown region", admin.do("GET", "/dashboard/planning/population/9999", nil, nil), http.StatusNotFound)
	wantStatus(t, "a township as a population region", admin.do("GET", "/dashboard/planning/population/330106001", nil, nil), http.StatusNotFound)
	wantStatus(t, "a year out of range", nb.do("GET", "/dashboard/planning/population/3302?year=1800", nil, nil), http.StatusUnprocessableEntity)
	for _, c := range []struct{ year, pop, want string }{
		{"1800", "100", "年份须在 2000 至 2100 之间"},
		{"2025", "many", "人口须是 0 至 20 亿之间的整数"},
		{"2025", strings.Repeat("1", 100), "人口须是 0 至 20 亿之间的整数"},
	} {
		r := nb.auditForm("/dashboard/planning/population/3302", url.Values{"year": {c.year}, "population": {c.pop}})
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), c.want) || !strings.Contains(string(r.Body), `value="`+c.year+`"`) {
			t.Errorf("population %s/%s: %d", c.year, c.pop, r.Status)
		}
	}
	if r := nb.auditForm("/dashboard/planning/population/330203", url.Values{"year": {"2098"}, "population": {"612345"}}); r.Status != http.StatusOK {
		t.Fatalf("a good population: %d", r.Status)
	}
	if !strings.Contains(string(nb.do("GET", "/dashboard/planning/population/330203?year=2098", nil, nil).Body), `value="612345"`) {
		t.Errorf("the saved population is not on its page")
	}

	// The planning page links each row to its edit page.
	page := string(nb.do("GET", "/dashboard/planning?region=3302", nil, nil).Body)
	for _, want := range []string{`href="/institutions/NBI001/places"`, `href="/dashboard/planning/population/330203?year=2098"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the planning page lacks %s", want)
		}
	}
	if strings.Contains(page, "/dashboard/planning/townships") {
		t.Errorf("a city regulator is offered the province's township upload")
	}

	// Townships: the province's only; a bad file is named line by line and stores nothing.
	up := func(c *client, body string, fields map[string]string) response {
		f := map[string]string{"_csrf": c.csrf}
		for k, v := range fields {
			f[k] = v
		}
		return c.multipart("/dashboard/planning/townships/import?region=33", f, "file", "t.csv", []byte(body), nil)
	}
	wantStatus(t, "regulator.nb uploads townships", up(nb, "code,name,county_code\n330203901,新街道,330203\n", nil), http.StatusForbidden)
	countBefore := string(admin.do("GET", "/dashboard/planning/townships", nil, nil).Body)
	r := up(admin, "code,name,county_code\n330203901,新街道,330203\n33020390,短码,330203\n330106901,错县,330203\n", map[string]string{"commit": "true"})
	if r.Status != http.StatusUnprocessableEntity {
		t.Errorf("a bad township file: %d", r.Status)
	}
	for _, want := range []string{"第 3 行 A 列", "第 4 行 A 列", "未导入任何一行"} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("the bad township file's page lacks %q", want)
		}
	}
	if after := string(admin.do("GET", "/dashboard/planning/townships", nil, nil).Body); after != countBefore {
		t.Errorf("a refused township file changed the list")
	}
	if r := up(admin, "code,name,county_code\n330203901,新街道,330203\n", nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "可导入 1 行") {
		t.Fatalf("township preview: %d", r.Status)
	}
	if r := up(admin, "code,name,county_code\n330203901,新街道,330203\n", map[string]string{"commit": "true"}); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "已导入 1 行") {
		t.Fatalf("township commit: %d", r.Status)
	}
	big := up(admin, "code,name,county_code\n"+strings.Repeat("330203901,新街道,330203\n", 400000), nil)
	if big.Status != http.StatusRequestEntityTooLarge && big.Status != http.StatusUnprocessableEntity {
		t.Errorf("a huge township file: %d", big.Status)
	}
}
