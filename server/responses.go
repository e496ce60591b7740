package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Checking answers against the OpenAPI document. Tests turn it on (servertest does, for every
// server it starts): each JSON answer of an API route is then validated against the schema its
// route declares (its Response for a 2xx, the Error schema otherwise), and every mismatch, or a JSON
// answer of a route that declares no schema, is reported. Off, it costs one atomic load per request.

// responseCheck is the compiled schema of each API route, in the order of s.apiDocs.
type responseCheck struct {
	routes []*jsonschema.Schema // nil where the route declares no response schema
	errs   *jsonschema.Schema
	report func(violation string)
}

// CheckResponses validates, from now on, every JSON answer of the API against its route's schema
// and calls report with each mismatch. It is for tests.
func (s *Server) CheckResponses(report func(violation string)) error {
	rc := &responseCheck{routes: make([]*jsonschema.Schema, len(s.apiDocs)), report: report}
	compile := func(name string, schema map[string]any) (*jsonschema.Schema, error) {
		b, err := json.Marshal(schema)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		c.AssertFormat()
		url := "urn:shanyu:" + name
		if err := c.AddResource(url, doc); err != nil {
			return nil, err
		}
		return c.Compile(url)
	}
	var err error
	if rc.errs, err = compile("error", errorSchema); err != nil {
		return fmt.Errorf("error schema: %w", err)
	}
	for i, r := range s.apiDocs {
		if r.Response == nil {
			continue
		}
		if rc.routes[i], err = compile(fmt.Sprintf("route-%d", i), r.Response); err != nil {
			return fmt.Errorf("%s %s: response schema: %w", r.Method, r.Path, err)
		}
	}
	s.respCheck.Store(rc)
	return nil
}

// checkedAnswer is the middleware of the API route at index i of s.apiDocs that validates its
// answers while CheckResponses is on.
func (s *Server) checkedAnswer(i int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		err := c.Next()
		rc := s.respCheck.Load()
		if rc == nil || err != nil { // an error is answered by handleError, which checks its own body
			return err
		}
		r := s.apiDocs[i]
		res := c.Response()
		status := res.StatusCode()
		if status < 200 || status >= 300 || !strings.Contains(string(res.Header.ContentType()), "json") || len(res.Body()) == 0 {
			return nil
		}
		if rc.routes[i] == nil {
			rc.report(fmt.Sprintf("%s %s answered %d with JSON but declares no response schema", r.Method, r.Path, status))
			return nil
		}
		body := res.Body()
		if string(res.Header.ContentEncoding()) == "gzip" { // a paper sent with its stored segment spliced in (sendPaper)
			var err error
			if body, err = res.BodyGunzip(); err != nil {
				rc.report(fmt.Sprintf("%s %s answered %d with a gzip body that does not decompress: %v", r.Method, c.Path(), status, err))
				return nil
			}
		}
		rc.validate(rc.routes[i], r.Method+" "+c.Path(), status, body)
		return nil
	}
}

// checkError validates an error body of the API against the Error schema, while the check is on.
func (s *Server) checkError(c *fiber.Ctx) {
	rc := s.respCheck.Load()
	if rc == nil {
		return
	}
	rc.validate(rc.errs, c.Method()+" "+c.Path(), c.Response().StatusCode(), c.Response().Body())
}

func (rc *responseCheck) validate(schema *jsonschema.Schema, what string, status int, body []byte) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		rc.report(fmt.Sprintf("%s answered %d with a body that is not JSON: %v", what, status, err))
		return
	}
	if err := schema.Validate(v); err != nil {
		rc.report(fmt.Sprintf("%s answered %d %s that its schema refuses: %v\nbody: %.600s", what, status, http.StatusText(status), err, body))
	}
}
