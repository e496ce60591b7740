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

// Every kind naming a target is resolved by the guard itself, so that no route relies on its
// handler alone for the where-check.
func TestEveryScopeKindResolved(t *testing.T) {
	t.Parallel()
	kinds := []scopeKind{kindOrg, kindPerson, kindGrant, kindInspection, kindExamSession, kindRegistration, kindAttempt, kindCertificate,
		kindPractical, kindCourse, kindLesson, kindAttachment, kindEntry, kindRound, kindRule, kindPracticeRun, kindRegion, kindProvince}
	for _, k := range kinds {
		_, a := scopeResolvers[k]
		_, b := placeResolvers[k]
		checked := k == kindPerson || k == kindGrant
		if !a && !b && !checked {
			t.Errorf("scope kind %s: the guard does not resolve it", k)
		}
	}
	if n := len(scopeResolvers) + len(placeResolvers) + 2 + 3; n != len(kinds)+3 {
		t.Errorf("%d kinds resolved or plain, but %d are listed here: add the new kind to this test", n, len(kinds)+3)
	}
}
