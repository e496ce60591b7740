package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"shanyu/internal/config"
	"shanyu/internal/pgtest"
)

// A short run of bench auditlog for each write: every audited write committed one audit row, the
// sealer sealed them all, the chain verifies, and the JSON line says which write ran.
func TestAuditLogBenchSealsEveryWrite(t *testing.T) {
	t.Parallel()
	for _, write := range []string{"insert", "signin"} {
		t.Run(write, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			cfg := config.Config{DatabaseURL: pgtest.ServerURL(t)}
			if err := benchAuditLog(context.Background(), cfg, []string{"--writers", "4", "--seconds", "1", "--rounds", "1", "--write", write}, &out); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			var res auditLogBench
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
				t.Fatalf("last line: %v: %s", err, lines[len(lines)-1])
			}
			if res.Write != write || res.AuditRows == 0 || res.Sealed != res.AuditRows || !res.ChainIntact || res.PlainPerSec <= 0 || res.Errors != 0 {
				t.Errorf("%s: %+v", write, res)
			}
		})
	}
	var out bytes.Buffer
	for _, args := range [][]string{{"--write", "update"}, {"--write", "signin", "--statements", "3"}} {
		if err := benchAuditLog(context.Background(), config.Config{}, args, &out); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
