package server

import "time"

// RouteScope is a registered route with its declared scope, for the tests in package server_test.
type RouteScope struct {
	Method, Path string
	Perm         string // "obj:act", "signed-in" or "public"
	Kind, Param  string
	API          bool
}

// RouteScopes lists every route the server registered, with its scope.
func (s *Server) RouteScopes() []RouteScope {
	out := make([]RouteScope, 0, len(s.routeTable))
	for _, r := range s.routeTable {
		p := r.Perm.Obj + ":" + r.Perm.Act
		switch {
		case r.Perm == public:
			p = "public"
		case r.Perm.self:
			p = "signed-in"
		}
		out = append(out, RouteScope{Method: r.Method, Path: r.Path, Perm: p, Kind: string(r.Scope.Kind), Param: r.Scope.Param, API: r.API})
	}
	return out
}

// DropScope removes one route's declared scope, as if its declaration were deleted and the guard
// checked the permission alone (the check the routes had before scopes). Call it before the server
// serves. It reports whether the route exists.
func (s *Server) DropScope(method, path string) bool {
	for _, r := range s.routeTable {
		if r.Method == method && r.Path == path {
			r.Scope = scope{}
			return true
		}
	}
	return false
}

// GuardOnly makes every guarded route answer 204 once the guard lets the request through, without
// running its handler, so that the access matrix sees the guard's decision alone and changes nothing.
func (s *Server) GuardOnly(on bool) { s.guardOnly.Store(on) }

// ShortenSubmitWait makes a submit wait at most d for a slot instead of 30 s. Call it before the
// server serves (servertest.Options.Server).
func (s *Server) ShortenSubmitWait(d time.Duration) { s.submitWait = d }

// HoldSubmitSlots takes every submit slot, as that many submits in progress would; release gives
// them back.
func (s *Server) HoldSubmitSlots() (release func()) {
	for range cap(s.submitting) {
		s.submitting <- struct{}{}
	}
	return func() {
		for range cap(s.submitting) {
			<-s.submitting
		}
	}
}
