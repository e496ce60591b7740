package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"shanyu/accounts"
	"shanyu/internal/pgtest"
)

// `audit verify` checks the sealed chain and fails on rows left unsealed longer than its bound;
// `audit seal` chains them.
func TestAuditVerifyReportsUnsealedRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := auditCmd(ctx, pool, args, &out)
		return out.String(), err
	}
	for range 3 {
		if err := accounts.AuditNow(ctx, pool, accounts.Event{Action: "test", Subject: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	// Backdate the rows as a sealer that stopped long ago would leave them (the trigger refuses the
	// change, so it is switched off for it).
	for _, sql := range []string{`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`,
		`UPDATE audit_log SET at = at - interval '2 minutes'`, `ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update`} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := run("verify"); err == nil || !strings.Contains(err.Error(), "3 rows unsealed for longer than 1m0s") || !strings.Contains(out, "0 sealed rows") {
		t.Fatalf("verify with overdue rows: %v\n%s", err, out)
	}
	if out, err := run("verify", "--unsealed-bound", "10m"); err != nil || !strings.Contains(out, "3 rows not sealed yet") {
		t.Fatalf("verify --unsealed-bound 10m: %v\n%s", err, out)
	}
	if out, err := run("seal"); err != nil || !strings.Contains(out, "3 rows sealed, none waiting") {
		t.Fatalf("seal: %v\n%s", err, out)
	}
	if out, err := run("verify"); err != nil || !strings.Contains(out, "3 sealed rows, chain intact; 0 rows not sealed yet") {
		t.Fatalf("verify after sealing: %v\n%s", err, out)
	}
	for _, bad := range [][]string{{"verify", "--unsealed-bound", "0s"}, {"verify", "--unsealed-bound", "48h"}, {"verify", "extra"}, {"seal", "x"}, {"frobnicate"}, {}} {
		if out, err := run(bad...); err == nil {
			t.Errorf("audit %v accepted:\n%s", bad, out)
		}
	}
}
