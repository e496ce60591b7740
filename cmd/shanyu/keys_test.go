package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"shanyu/internal/config"
	"shanyu/internal/pgtest"
)

func TestKeysInitRotateList(t *testing.T) {
	t.Setenv("SHANYU_PDF_CERT_FILE", "")
	t.Setenv("SHANYU_PDF_KEY_FILE", "")
	ctx := context.Background()
	pool := pgtest.New(t)
	cfg, err := config.Parse(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := keysCmd(ctx, cfg, pool, args, &out); err != nil {
			t.Fatalf("keys %v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	first := run("init")
	if !strings.Contains(first, "created signing key") || !strings.Contains(first, "created a development CA") {
		t.Fatalf("first init:\n%s", first)
	}
	second := run("init")
	if strings.Contains(second, "created") {
		t.Fatalf("second init created something:\n%s", second)
	}
	if rotated := run("rotate"); !strings.Contains(rotated, "PDF signing certificate sha256") {
		t.Fatalf("rotate did not rotate the PDF signing certificate:\n%s", rotated)
	}
	list := run("list")
	if strings.Count(list, " active ") != 1 || strings.Count(list, " retired ") != 1 ||
		strings.Count(list, "pdf signer active") != 1 || strings.Count(list, "pdf signer inactive") != 1 {
		t.Fatalf("list:\n%s", list)
	}
	var out bytes.Buffer
	if err := keysCmd(ctx, cfg, pool, []string{"frobnicate"}, &out); err == nil {
		t.Fatal("unknown subcommand accepted")
	}
}
