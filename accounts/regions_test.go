package accounts_test

import (
	"context"
	"testing"

	"shanyu/accounts"
	"shanyu/internal/pgtest"
)

func TestSeedRegionsIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	n1, err := accounts.SeedRegions(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	n2, err := accounts.SeedRegions(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	all, err := accounts.Regions(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	// The province, its 11 cities, Hangzhou's 13 and Ningbo's 10 districts and counties.
	if n1 != n2 || len(all) != n1 || n1 != 35 {
		t.Fatalf("seeded %d then %d, table has %d; want 35 each time", n1, n2, len(all))
	}
	if cixi, err := accounts.RegionByCode(ctx, db, "330282"); err != nil || cixi.Parent != "3302" || cixi.Name != "慈溪市" {
		t.Fatalf("330282 = %+v, %v", cixi, err)
	}
	xihu, err := accounts.RegionByCode(ctx, db, "330106")
	if err != nil || xihu.Parent != "3301" || xihu.GBCode != "330106" {
		t.Fatalf("330106 = %+v, %v", xihu, err)
	}
	if _, err := accounts.RegionByCode(ctx, db, "3399"); err != accounts.ErrRegionNotFound {
		t.Fatalf("unknown region: err = %v", err)
	}
}

func TestContains(t *testing.T) {
	t.Parallel()
	cases := []struct {
		outer, inner string
		want         bool
	}{
		{"33", "330106", true},
		{"3301", "330106", true},
		{"3301", "3301", true},
		{"3301", "330201", false},
		{"330106", "3301", false},
	}
	for _, c := range cases {
		if got := accounts.Contains(c.outer, c.inner); got != c.want {
			t.Errorf("Contains(%s, %s) = %v", c.outer, c.inner, got)
		}
	}
}
