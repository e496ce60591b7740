package server_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"shanyu/internal/servertest"
)

// Every operation of /api/openapi.json says what its answer is: a JSON schema, or the media type of
// a body that is not JSON (a PDF, a CSV). The answers themselves are checked against these schemas
// in every test that starts a server (servertest).
func TestOpenAPIDeclaresEveryResponse(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{})
	_, _, body := get(t, srv.URL+"/api/openapi.json", nil)
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Content map[string]struct {
					Schema map[string]any `json:"schema"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for p, ops := range doc.Paths {
		for m, op := range ops {
			n++
			if _, ok := op.Responses["204"]; ok {
				continue // done, no body
			}
			var ok []string
			for code := range op.Responses {
				if code[0] == '2' {
					ok = append(ok, code)
				}
			}
			if len(ok) != 1 || len(op.Responses[ok[0]].Content) == 0 {
				t.Errorf("%s %s: success %v has no content", strings.ToUpper(m), p, ok)
				continue
			}
			for mt, c := range op.Responses[ok[0]].Content {
				if len(c.Schema) == 0 {
					t.Errorf("%s %s: %s without a schema", strings.ToUpper(m), p, mt)
				}
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d operations", n)
	}
}

// The document lints clean with an independent linter: Redocly CLI (pinned in tools/openapilint,
// installed by scripts/deps test), with its recommended rules and no warning left.
func TestOpenAPILintsClean(t *testing.T) {
	t.Parallel()
	dir, _ := filepath.Abs("../tools/openapilint")
	bin := filepath.Join(dir, "node_modules", ".bin", "redocly")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("tools/openapilint is not installed: run scripts/deps test (npm ci in tools/openapilint): %v", err)
	}
	srv := servertest.Start(t, servertest.Options{})
	_, _, body := get(t, srv.URL+"/api/openapi.json", nil)
	file := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cmd := exec.Command(bin, "lint", "--config", filepath.Join(dir, "redocly.yaml"), "--format", "stylish", "--max-problems", "50", file)
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true", "NO_COLOR=1", "CI=true")
	out, err := cmd.CombinedOutput()
	t.Logf("redocly lint took %s", time.Since(start).Round(time.Millisecond))
	if err != nil || regexp.MustCompile(`\d+:\d+\s+warning`).Match(out) {
		t.Fatalf("redocly lint: %v\n%s", err, out)
	}
}
