package server_test

import (
	"bytes"
	"net/http"
	"testing"

	"shanyu/internal/servertest"
)

// The regulator records that an institution is a home childcare point; the compliance answer then
// judges it by the home point's row of the class table, and the page says so. The institution's own
// admin may not change its kind.
func TestHomeChildcarePointKind(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	inst := mustLogin(t, srv, "institution")
	if r := inst.send("PUT", "/api/v1/institutions/HZI001/kind", map[string]any{"kind": "home_point"}); r.Status != http.StatusForbidden {
		t.Fatalf("institution admin setting its kind: %d %s", r.Status, r.Body)
	}
	admin := mustLogin(t, srv, "admin")
	if r := admin.send("PUT", "/api/v1/institutions/HZI001/kind", map[string]any{"kind": "home_point"}); r.Status != http.StatusOK {
		t.Fatalf("regulator: %d %s", r.Status, r.Body)
	}
	c := inst.do("GET", "/api/v1/institutions/HZI001/compliance", nil, nil).json(t)
	if c["kind"] != "home_point" || c["capacity"] != float64(5) || c["over_capacity"] != true || c["compliant"] != false {
		t.Fatalf("compliance of a home point with the demo's classes: kind %v capacity %v over %v compliant %v", c["kind"], c["capacity"], c["over_capacity"], c["compliant"])
	}
	page := inst.do("GET", "/institutions/HZI001/compliance", nil, nil)
	if !bytes.Contains(page.Body, []byte("家庭托育点：最多收托 5 名幼儿")) || bytes.Contains(page.Body, []byte("%!")) {
		t.Errorf("compliance page of a home point: %d", page.Status)
	}
}
