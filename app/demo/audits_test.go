package demo_test

import (
	"context"
	"io"
	"testing"
	"time"

	"shanyu/accounts"
	"shanyu/app/demo"
	"shanyu/audits"
	"shanyu/internal/config"
	"shanyu/internal/pgtest"
)

// The audits demo: 20 Hangzhou institutions and NBI001 in Ningbo with ~200 staff, some unqualified or expiring, one class
// over its ratio, a finished round and one open inspection for the demo inspector; seeding twice adds
// nothing.
func TestSeedAudits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	cfg, err := config.Parse(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := demo.Seed(ctx, cfg, pool, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	acc, err := accounts.New(pool, cfg.SecretKey, accounts.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := audits.New(ctx, pool, audits.Deps{Accounts: acc})
	if err != nil {
		t.Fatal(err)
	}
	reports, err := svc.ComplianceOf(ctx, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	staff, unqualified, expiring, overRatio := 0, 0, 0, 0
	for _, r := range reports {
		staff += r.Staff
		unqualified += r.Unqualified
		expiring += len(r.Expiring)
		for _, c := range r.Classes {
			if c.UnderStaffed {
				overRatio++
			}
		}
	}
	if len(reports) != 21 || staff < 180 || staff > 260 || unqualified == 0 || expiring == 0 || overRatio == 0 {
		t.Errorf("%d institutions, %d staff, %d unqualified, %d expiring, %d classes over ratio", len(reports), staff, unqualified, expiring, overRatio)
	}
	hzi3, _ := acc.OrganisationByCode(ctx, "HZI003")
	for _, c := range reports[hzi3.ID].Classes {
		if c.Class.Type == "toddler_young" && !c.UnderStaffed {
			t.Errorf("HZI003's 托小班 should be over ratio: %+v", c)
		}
	}
	inspector, _ := acc.UserByUsername(ctx, "inspector")
	mine, err := svc.InspectionsFor(ctx, inspector.ID)
	if err != nil {
		t.Fatal(err)
	}
	open := 0
	for _, x := range mine {
		if x.Status == "open" {
			open++
		}
	}
	pub, _ := svc.PublicResults(ctx, 50)
	if open != 1 || len(pub) == 0 {
		t.Errorf("inspector has %d open inspections; %d published results", open, len(pub))
	}
}
