package server

import (
	"strings"
	"testing"
)

func TestRegisteringARouteWithoutScopePanics(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		sc   scope
		p    perm
		want string
	}{
		{"no scope", scope{}, signedIn, "declares no scope"},
		{"parameter not in the path", byOrg("code"), can("bank.items", "read"), "not in the path"},
		{"public scope with a permission", scopePublic, signedIn, "requires a permission"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(r.(string), c.want) {
					t.Fatalf("panic = %v, want one saying %q", r, c.want)
				}
			}()
			(&Server{}).register("GET", "/centres/:id/x", c.p, c.sc, false)
		})
	}
}
