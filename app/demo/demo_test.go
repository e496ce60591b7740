package demo_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"shanyu/app/demo"
	"shanyu/internal/config"
	"shanyu/internal/pgtest"
)

func TestSeedIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	cfg, err := config.Parse(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	count := func() (n int) {
		t.Helper()
		err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM regions) + (SELECT count(*) FROM organisations)
			+ (SELECT count(*) FROM users) + (SELECT count(*) FROM role_grants) + (SELECT count(*) FROM bank_items)`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	var out bytes.Buffer
	if err := demo.Seed(ctx, cfg, pool, &out); err != nil {
		t.Fatal(err)
	}
	first := count()
	if first < 25+4+7+7+150 {
		t.Fatalf("demo too small: %d rows\n%s", first, out.String())
	}
	out.Reset()
	if err := demo.Seed(ctx, cfg, pool, &out); err != nil {
		t.Fatal(err)
	}
	if again := count(); again != first {
		t.Fatalf("second seed changed the data: %d → %d rows", first, again)
	}
	if !strings.Contains(out.String(), "users: 0 new") {
		t.Errorf("second run output: %s", out.String())
	}
}

func TestSeedIsRefusedInProduction(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse(func(k string) string {
		return map[string]string{"SHANYU_ENV": "production", "SHANYU_SECRET_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.Seed(context.Background(), cfg, nil, &bytes.Buffer{}); !errors.Is(err, demo.ErrProduction) {
		t.Fatalf("production seed: %v", err)
	}
}
