package server

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

type schemaInner struct {
	Shadowed string `json:"name"`
	Deep     int    `json:"deep"`
}

type schemaSample struct {
	schemaInner
	Name     string          `json:"name"`
	Optional string          `json:"optional,omitempty"`
	Tags     []string        `json:"tags"`
	At       time.Time       `json:"at"`
	When     *time.Time      `json:"when"`
	Counts   map[string]int  `json:"counts,omitempty"`
	Raw      json.RawMessage `json:"raw,omitempty"`
	Self     *schemaSample   `json:"self,omitempty"`
	Skipped  string          `json:"-"`
	//lint:ignore U1000 unexported, so that the test sees encoding/json leave it out
	hidden string
	Plain  bool              // no tag: its Go name
	Nested map[string][]bool `json:"nested"`
}

// The schema derived from a Go type says what encoding/json writes: names from the tags, omitempty
// fields optional, embedded fields flattened with the outer one winning, nil slices, maps and
// pointers as null.
func TestSchemaOfFollowsEncodingJSON(t *testing.T) {
	t.Parallel()
	got := schemaOf[schemaSample]()
	want := map[string]any{
		"type":     "object",
		"required": []string{"Plain", "at", "deep", "name", "nested", "tags", "when"},
		"properties": map[string]any{
			"name":     map[string]any{"type": "string"},
			"deep":     map[string]any{"type": "integer"},
			"optional": map[string]any{"type": "string"},
			"tags":     map[string]any{"type": []string{"array", "null"}, "items": map[string]any{"type": "string"}},
			"at":       map[string]any{"type": "string", "format": "date-time"},
			"when":     map[string]any{"type": []string{"string", "null"}, "format": "date-time"},
			"counts":   map[string]any{"type": []string{"object", "null"}, "additionalProperties": map[string]any{"type": "integer"}},
			"raw":      map[string]any{},
			"self":     map[string]any{"type": []string{"object", "null"}},
			"Plain":    map[string]any{"type": "boolean"},
			"nested": map[string]any{"type": []string{"object", "null"}, "additionalProperties": map[string]any{
				"type": []string{"array", "null"}, "items": map[string]any{"type": "boolean"}}},
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("schemaOf (-want +got):\n%s", d)
	}

	// And what encoding/json writes for a value matches it; a body missing a required field does not.
	c := jsonschema.NewCompiler()
	b, _ := json.Marshal(got)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("urn:sample", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("urn:sample")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []schemaSample{{}, {Name: "x", Tags: []string{"a"}, Counts: map[string]int{"a": 1}, Self: &schemaSample{}, Raw: json.RawMessage(`[1]`)}} {
		body, _ := json.Marshal(v)
		inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(body))
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(`{"name":"x","deep":1,"tags":[],"at":"2026-01-01T00:00:00Z","when":null,"nested":{}}`)))
	if err := sch.Validate(inst); err == nil {
		t.Error("a body without Plain passed")
	}
}

// The answer check reports a body its route's schema refuses, and passes one it accepts.
func TestResponseCheckReportsAMismatch(t *testing.T) {
	t.Parallel()
	s := &Server{apiDocs: []apiRoute{{Method: "GET", Path: "/api/v1/x", Response: itemsOf[grantJSON](paging)}}}
	var got []string
	if err := s.CheckResponses(func(v string) { got = append(got, v) }); err != nil {
		t.Fatal(err)
	}
	rc := s.respCheck.Load()
	rc.validate(rc.routes[0], "GET /api/v1/x", 200, []byte(`{"items":[{"id":1,"role":"trainer","domain":"org:HZ001"}],"total":1,"limit":20,"offset":0}`))
	if len(got) != 0 {
		t.Fatalf("a matching body was reported: %v", got)
	}
	rc.validate(rc.routes[0], "GET /api/v1/x", 200, []byte(`{"items":[{"id":"1","role":"trainer"}],"total":1,"limit":20,"offset":0}`))
	rc.validate(rc.errs, "GET /api/v1/x", 404, []byte(`{"error":{"message":"no"}}`))
	if len(got) != 2 {
		t.Fatalf("want 2 reports, got %d: %v", len(got), got)
	}
}
