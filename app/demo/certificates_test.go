package demo_test

import (
	"bytes"
	"context"
	"testing"

	"shanyu/app/demo"
	"shanyu/internal/config"
	"shanyu/internal/pgtest"
)

// TestDemoCertificates: the demo caregiver holds a valid certificate; one demo certificate is
// revoked and one expires within a month.
func TestDemoCertificates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	cfg, err := config.Parse(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.Seed(ctx, cfg, pool, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var own, revoked, soon int
	err = pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM certificates c JOIN users u ON u.person_id = c.person_id WHERE u.username = 'caregiver' AND c.status = 'valid' AND c.expires_on > current_date AND c.pdf IS NOT NULL),
		(SELECT count(*) FROM certificates WHERE status = 'revoked'),
		(SELECT count(*) FROM certificates WHERE status = 'valid' AND expires_on BETWEEN current_date AND current_date + 31)`).Scan(&own, &revoked, &soon)
	if err != nil {
		t.Fatal(err)
	}
	if own != 1 || revoked < 1 || soon < 1 {
		t.Errorf("caregiver's valid certificates %d (want 1), revoked %d, expiring within a month %d", own, revoked, soon)
	}
}
