package server

import (
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// apiRoute is a JSON endpoint together with its description. Registering both in one call is what
// keeps /api/openapi.json true; a test checks that no /api route escapes it.
type apiRoute struct {
	Method   string
	Path     string // fiber syntax, e.g. /api/v1/courses/:id
	Summary  string
	Tag      string
	Perm     perm           // what the caller needs; public when zero
	Scope    scope          // where the permission is checked: byOrg("code"), byPerson("id"), scopeOwn … (scope.go)
	Request  map[string]any // JSON Schema of the body, if any
	Optional bool           // the body may be left out
	Response map[string]any // JSON Schema of the 2xx JSON body (schemaOf[T]() where a Go type says it); checked in tests (responses.go)
	Produces string         // the media type of a body that is not JSON (a PDF, a CSV…)
	Status   int            // the status of success: 200 unless set (201 Created, 204 No Content)
	Query    []string       // names of query parameters
}

// api registers a JSON endpoint under /api, with its permission check, and records it for the
// OpenAPI document.
func (s *Server) api(r apiRoute, h fiber.Handler) {
	s.apiDocs = append(s.apiDocs, r)
	s.app.Add(r.Method, r.Path, s.guard(s.register(r.Method, r.Path, r.Perm, r.Scope, true)), s.checkedAnswer(len(s.apiDocs)-1), h)
}

// publicAPI registers a public JSON route with the basic middleware and the API's security headers
// only (see routesPublicAPI); it must be called before New adds the rest of the middleware.
func (s *Server) publicAPI(r apiRoute, h fiber.Handler) {
	s.apiDocs = append(s.apiDocs, r)
	s.register(r.Method, r.Path, r.Perm, r.Scope, true)
	chain := append(append([]fiber.Handler{}, s.basic...), apiSecurityHeaders, s.checkedAnswer(len(s.apiDocs)-1), h)
	s.app.Add(r.Method, r.Path, chain...)
}

// publicGet registers a public GET (and HEAD) route outside the API: health checks, assets, the home page.
func (s *Server) publicGet(path string, h fiber.Handler) {
	s.register(fiber.MethodGet, path, public, scopePublic, false)
	s.register(fiber.MethodHead, path, public, scopePublic, false)
	s.app.Get(path, h)
}

// page registers an HTML route with its permission and its scope (scope.go).
func (s *Server) page(method, path string, p perm, sc scope, h fiber.Handler) {
	s.app.Add(method, path, s.guard(s.register(method, path, p, sc, false)), h)
}

// Small helpers for describing bodies in JSON Schema.
func object(required []string, props map[string]any) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

var str = map[string]any{"type": "string"}

var paramPattern = regexp.MustCompile(`:([A-Za-z_][A-Za-z0-9_]*)\??`)

// openAPIPath turns /api/v1/courses/:id into /api/v1/courses/{id}.
func openAPIPath(p string) string { return paramPattern.ReplaceAllString(p, "{$1}") }

func (s *Server) routesAPIDocs() {
	s.api(apiRoute{Method: fiber.MethodGet, Path: "/api/openapi.json", Scope: scopePublic, Summary: "This document", Tag: "meta",
		Response: object([]string{"openapi", "info", "paths"}, map[string]any{"openapi": str, "info": anyObject, "paths": anyObject, "components": anyObject})},
		func(c *fiber.Ctx) error { return c.JSON(s.openAPI()) })
}

func (s *Server) openAPI() map[string]any {
	errorRef := map[string]any{"$ref": "#/components/schemas/Error"}
	paths := map[string]map[string]any{}
	for _, r := range s.apiDocs {
		p := openAPIPath(r.Path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		op := map[string]any{
			"summary":     r.Summary,
			"operationId": operationID(r.Method, r.Path),
			"tags":        []string{r.Tag},
		}
		var params []map[string]any
		for _, m := range paramPattern.FindAllStringSubmatch(r.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": str})
		}
		for _, q := range r.Query {
			params = append(params, map[string]any{"name": q, "in": "query", "schema": str})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if r.Request != nil {
			op["requestBody"] = map[string]any{"required": !r.Optional, "content": map[string]any{"application/json": map[string]any{"schema": r.Request}}}
		}
		ok := map[string]any{"description": "OK"}
		switch {
		case r.Response != nil:
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": r.Response}}
		case r.Produces != "":
			ok["content"] = map[string]any{r.Produces: map[string]any{"schema": map[string]any{"type": "string", "contentMediaType": r.Produces}}}
		}
		errorBody := map[string]any{"application/json": map[string]any{"schema": errorRef}}
		code := "200"
		switch r.Status {
		case 0:
		case http.StatusNoContent:
			code, ok = "204", map[string]any{"description": "Done; no body"}
		default:
			code = strconv.Itoa(r.Status)
		}
		op["responses"] = map[string]any{
			code:  ok,
			"4XX": map[string]any{"description": "Refused: invalid input, not signed in, forbidden, not found, conflict, too many requests", "content": errorBody},
			"5XX": map[string]any{"description": "Failed, or busy for now (503 with Retry-After)", "content": errorBody},
		}
		if r.Perm != public {
			op["security"] = []map[string][]string{{"session": {}}}
			if r.Perm.Obj != "" {
				op["x-permission"] = r.Perm.Obj + ":" + r.Perm.Act
			}
			op["x-scope"] = string(r.Scope.Kind)
		} else {
			op["security"] = []map[string][]string{} // public: no session needed
		}
		paths[p][strings.ToLower(r.Method)] = op
	}
	tags := map[string]bool{}
	for _, r := range s.apiDocs {
		tags[r.Tag] = true
	}
	var tagList []map[string]string
	for t := range tags {
		tagList = append(tagList, map[string]string{"name": t, "description": tagDescriptions[t]})
	}
	sort.Slice(tagList, func(i, j int) bool { return tagList[i]["name"] < tagList[j]["name"] })
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Shanyu API",
			"version":     "1",
			"license":     map[string]any{"name": "Proprietary", "url": s.cfg.BaseURL + "/"},
			"description": "JSON API of Shanyu. Cookie-authenticated writes carry the X-CSRF-Token header. Errors have one shape: {\"error\":{\"code\",\"message\",\"fields\"}}.",
		},
		"servers": []map[string]string{{"url": s.cfg.BaseURL}},
		"tags":    tagList,
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": "shanyu_session"},
			},
			"schemas": map[string]any{"Error": errorSchema},
		},
	}
}

// tagDescriptions say what each group of operations is about (every tag of a route has one: the
// OpenAPI lint refuses a tag without).
var tagDescriptions = map[string]string{
	"admin":        "Users, grants and organisations, for the regulator's and the centres' administrators",
	"audits":       "Rosters, classes, the qualification policy, conduct bars, inspection rounds and dashboards",
	"auth":         "Sign-up, sign-in, the session and the signed-in user",
	"bank":         "The question bank: items, categories, import and export",
	"certificates": "Issued certificates: lists, status changes, renewal, PDF, Open Badges 3.0, status lists",
	"curriculum":   "Courses, lessons, offline sessions, attendance and the training-hours ledger",
	"exams":        "Blueprints, exam sessions, registrations, attempts, marking and results",
	"inspections":  "On-site inspections: scans, head counts, findings, signatures, reports",
	"meta":         "This description",
	"public":       "What anyone may read: published inspection results and signing keys",
	"verify":       "Certificate verification by code, by number and name, or by PDF",
}

// errorSchema is the one error body (errorBody, errors.go).
var errorSchema = object([]string{"error"}, map[string]any{
	"error": object([]string{"code", "message"}, map[string]any{
		"code":       map[string]any{"type": "string", "enum": []string{"invalid", "not_found", "conflict", "unauthenticated", "forbidden", "password_change_required", "too_many_requests", "unavailable", "internal"}},
		"key":        str,
		"message":    str,
		"fields":     map[string]any{"type": "object", "additionalProperties": str},
		"request_id": str,
	}),
})

func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, part := range strings.FieldsFunc(path, func(r rune) bool { return r == '/' || r == '.' || r == '-' || r == '_' }) {
		if part == "api" {
			continue
		}
		part = strings.TrimPrefix(strings.TrimSuffix(part, "?"), ":")
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
