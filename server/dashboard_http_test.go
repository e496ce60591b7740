package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"shanyu/internal/servertest"
)

// The boundaries are for signed-in regulators of the region only (a public map in China needs an
// approval number), cached privately for a day and revalidated by ETag; every bundled file is a
// FeatureCollection whose features carry the short code of a region below the file's.
func TestDashboardBoundariesAreForTheRegionsRegulators(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	anon := newClient(t, srv)
	if r := anon.do("GET", "/dashboard/geo/33.json", nil, nil); r.Status == http.StatusOK {
		t.Errorf("anonymous: the boundaries answer 200")
	}
	if r := mustLogin(t, srv, "caregiver").do("GET", "/dashboard/geo/33.json", nil, nil); r.Status != http.StatusForbidden {
		t.Errorf("caregiver: %d, want 403", r.Status)
	}
	admin := mustLogin(t, srv, "admin")
	for _, region := range []string{"33", "3301", "3302", "3311"} {
		r := admin.do("GET", "/dashboard/geo/"+region+".json", nil, nil)
		if r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "private, max-age=86400" || r.Header.Get("ETag") == "" {
			t.Fatalf("%s: %d, Cache-Control %q, ETag %q", region, r.Status, r.Header.Get("Cache-Control"), r.Header.Get("ETag"))
		}
		var fc struct {
			Type     string
			Features []struct {
				Properties struct{ Code, Name string }
			}
		}
		if err := json.Unmarshal(r.Body, &fc); err != nil || fc.Type != "FeatureCollection" || len(fc.Features) == 0 {
			t.Fatalf("%s: not a FeatureCollection (%v): %.80s", region, err, r.Body)
		}
		for _, f := range fc.Features {
			if len(f.Properties.Code) != len(region)+2 || !strings.HasPrefix(f.Properties.Code, region) || f.Properties.Name == "" {
				t.Errorf("%s: feature %+v is not a region just below it", region, f.Properties)
			}
		}
		if again := admin.do("GET", "/dashboard/geo/"+region+".json", nil, map[string]string{"If-None-Match": r.Header.Get("ETag")}); again.Status != http.StatusNotModified {
			t.Errorf("%s: revalidation answers %d, want 304", region, again.Status)
		}
	}
	if r := admin.do("GET", "/dashboard/geo/330106.json", nil, nil); r.Status != http.StatusNotFound {
		t.Errorf("a county's (absent) boundaries: %d, want 404", r.Status)
	}
	// The page links to the three exports of the region shown, and each answers.
	page := string(admin.do("GET", "/dashboard?region=3301", nil, nil).Body)
	for _, ext := range []string{"csv", "xlsx", "pdf"} {
		href := "/dashboard/indicators." + ext + "?region=3301"
		if !strings.Contains(page, `href="`+href+`"`) {
			t.Errorf("the dashboard of 3301 has no link to %s", href)
		} else if r := admin.do("GET", href, nil, nil); r.Status != http.StatusOK {
			t.Errorf("%s: %d", href, r.Status)
		}
	}
	if r := admin.do("GET", "/dashboard?indicator=nonsense", nil, nil); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("an unknown indicator: %d, want 422", r.Status)
	}
}

// The public indicator page takes the province or a city and a year, bounded; anything else is
// refused with 422 and the field's message, in the language asked for.
func TestPublicIndicatorsQueryIsBounded(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	c := newClient(t, srv)
	for _, v := range []struct{ query, field string }{
		{"year=1999", "year"},
		{"year=" + strings.Repeat("9", 3000), "year"},
		{"year=2025abc", "year"},
		{"region=330106", "region"},
		{"region=11", "region"},
		{"region=" + strings.Repeat("3", 3000), "region"},
		{"region=3399", "region"},
	} {
		r := c.do("GET", "/public/indicators?"+v.query, nil, map[string]string{"Accept-Language": "en"})
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `id="pi`+v.field[:1]+`-error"`) {
			t.Errorf("%.40s: %d, want 422 with the %s field's message", v.query, r.Status, v.field)
		}
	}
	for _, q := range []string{"", "region=3301", "region=33&year=2025"} {
		if r := c.do("GET", "/public/indicators?"+q, nil, nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `id="public-indicators"`) {
			t.Errorf("%q: %d", q, r.Status)
		}
	}
}
