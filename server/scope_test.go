package server_test

import (
	"sort"
	"strconv"
	"strings"
	"testing"

	"shanyu/internal/servertest"
)

// TestEveryRouteDeclaresScope walks fiber's route table: every route must have been registered with
// a scope (through api, publicAPI, page or publicGet), so that none bypasses the guard.
func TestEveryRouteDeclaresScope(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{})
	declared := map[string]string{}
	kinds := map[string]int{}
	for _, r := range srv.Server.RouteScopes() {
		declared[r.Method+" "+r.Path] = r.Kind
		if r.Method != "HEAD" {
			kinds[r.Kind]++
		}
	}
	checked := 0
	for _, r := range srv.Server.App().GetRoutes(true) {
		if r.Path == "/api/*" { // the catch-all that answers unknown API paths with a JSON 404
			continue
		}
		checked++
		kind := declared[r.Method+" "+r.Path]
		if kind == "" && r.Method == "HEAD" {
			kind = declared["GET "+r.Path] // fiber's Get adds the HEAD twin, which runs the GET route's chain
		}
		if kind == "" {
			t.Errorf("%s %s declares no scope: register it with s.api/s.page and a scope (server/scope.go)", r.Method, r.Path)
		}
	}
	if checked < 200 {
		t.Fatalf("walked only %d routes; the route table is not what the test thinks", checked)
	}
	var names []string
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		b.WriteString(k + "=" + strconv.Itoa(kinds[k]) + " ")
	}
	t.Logf("%d routes walked; declared scopes (GET/POST/…, HEAD not counted): %s", checked, b.String())
}
