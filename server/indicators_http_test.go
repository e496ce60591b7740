package server_test

import (
	"net/http"
	"testing"

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
