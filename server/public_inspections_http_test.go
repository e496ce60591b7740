package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"shanyu/internal/servertest"
)

// The published results can be searched by institution name and district, one bounded page at a
// time; a query parameter out of its bounds is refused with 422 naming the field, on the JSON
// endpoint and on the page.
func TestPublicInspectionsSearchAndPages(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	anon := newClient(t, srv)
	type result struct {
		InspectionID int64  `json:"inspection_id"`
		Institution  string `json:"institution"`
		RegionCode   string `json:"region_code"`
	}
	type page struct {
		Results []result `json:"results"`
		Total   int      `json:"total"`
		Page    int      `json:"page"`
		Pages   int      `json:"pages"`
	}
	get := func(query string) page {
		t.Helper()
		r := anon.do("GET", "/api/v1/public/inspections?"+query, nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", query, r.Status, r.Body)
		}
		return decodeJSON[page](t, r)
	}
	all := get("")
	if all.Total < 2 || len(all.Results) != all.Total {
		t.Fatalf("the demo should publish several results: %+v", all)
	}
	first, second := get("limit=1&page=1"), get("limit=1&page=2")
	if len(first.Results) != 1 || len(second.Results) != 1 || first.Pages != all.Total || second.Page != 2 ||
		first.Results[0].InspectionID == second.Results[0].InspectionID || first.Results[0].InspectionID != all.Results[0].InspectionID {
		t.Fatalf("pages of one: %+v then %+v (all %+v)", first, second, all)
	}
	if beyond := get("limit=1&page=" + itoa(int64(all.Total+1))); len(beyond.Results) != 0 || beyond.Total != all.Total {
		t.Fatalf("past the last page: %+v", beyond)
	}

	// By name: only that institution (a part of the name is enough).
	want := all.Results[1]
	name := []rune(want.Institution)
	byName := get("q=" + url.QueryEscape(string(name[len(name)-4:])))
	if byName.Total == 0 || byName.Total >= all.Total {
		t.Fatalf("search %q: %+v", string(name[len(name)-4:]), byName)
	}
	for _, r := range byName.Results {
		if !strings.Contains(r.Institution, string(name[len(name)-4:])) {
			t.Errorf("search by name returned %q", r.Institution)
		}
	}
	// By district: only institutions inside it; the province holds them all.
	byDistrict := get("district=" + want.RegionCode)
	if byDistrict.Total == 0 || byDistrict.Total >= all.Total {
		t.Fatalf("district %s: %+v", want.RegionCode, byDistrict)
	}
	for _, r := range byDistrict.Results {
		if !strings.HasPrefix(r.RegionCode, want.RegionCode) {
			t.Errorf("district %s returned an institution of %s", want.RegionCode, r.RegionCode)
		}
	}
	if p := get("district=33"); p.Total != all.Total {
		t.Fatalf("the province: %d of %d", p.Total, all.Total)
	}
	if p := get("q=" + url.QueryEscape("不存在的机构")); p.Total != 0 || len(p.Results) != 0 {
		t.Fatalf("no match: %+v", p)
	}

	for query, field := range map[string]string{
		"district=999999": "district", "district=3x": "district", "q=" + strings.Repeat("托", 41): "q", "q=%07": "q",
		"page=0": "page", "page=abc": "page", "page=1001": "page", "limit=0": "limit", "limit=101": "limit",
	} {
		r := anon.do("GET", "/api/v1/public/inspections?"+query, nil, nil)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `"`+field+`"`) {
			t.Errorf("%s: %d %s, want 422 naming %s", query, r.Status, r.Body, field)
		}
		pg := anon.do("GET", "/inspections/public?"+query, nil, nil)
		if pg.Status != http.StatusUnprocessableEntity || !strings.Contains(string(pg.Body), `class="field-error"`) {
			t.Errorf("page %s: %d, want 422 with the message by the form", query, pg.Status)
		}
	}

	// The page: the form keeps what was typed, the results match, and pages link to each other.
	pg := anon.do("GET", "/inspections/public?limit=1&district=33", nil, nil)
	body := string(pg.Body)
	if pg.Status != http.StatusOK || !strings.Contains(body, `rel="next" href="/inspections/public?district=33&amp;limit=1&amp;page=2"`) ||
		!strings.Contains(body, `<option value="33" selected>`) || strings.Contains(body, `rel="prev"`) {
		t.Fatalf("page 1 of the province by ones: %d\n%s", pg.Status, body)
	}
	pg = anon.do("GET", "/inspections/public?q="+url.QueryEscape(want.Institution), nil, nil)
	if body := string(pg.Body); pg.Status != http.StatusOK || !strings.Contains(body, want.Institution) || strings.Contains(body, all.Results[0].Institution) && all.Results[0].Institution != want.Institution {
		t.Fatalf("page searched by %q: %d", want.Institution, pg.Status)
	}
}
