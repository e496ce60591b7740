package demo_test

import (
	"context"
	"io"
	"testing"

	"shanyu/app/demo"
	"shanyu/internal/config"
	"shanyu/internal/pgtest"
)

// The exams demo: a finished session with published results, some passes (each with a certificate
// request) and some fails, and an open session where the demo caregiver is approved.
func TestSeedExams(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	cfg, err := config.Parse(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.Seed(ctx, cfg, pool, io.Discard); err != nil {
		t.Fatal(err)
	}
	var passed, failed, requests int
	if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE passed), count(*) FILTER (WHERE NOT passed),
		(SELECT count(*) FROM certificate_requests WHERE result_ref LIKE 'exam_result:%') FROM exam_results`).Scan(&passed, &failed, &requests); err != nil {
		t.Fatal(err)
	}
	if passed == 0 || failed == 0 || requests != passed {
		t.Errorf("demo results: %d passed, %d failed, %d certificate requests", passed, failed, requests)
	}
	var approved int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM exam_registrations r JOIN exam_sessions x ON x.id = r.session_id
		JOIN users u ON u.person_id = r.person_id
		WHERE u.username = 'caregiver' AND r.status = 'approved' AND x.published_at IS NULL AND x.closes_at > now()`).Scan(&approved); err != nil {
		t.Fatal(err)
	}
	if approved != 1 {
		t.Errorf("caregiver approved in %d open sessions, want 1", approved)
	}
	var unverified int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM exam_registrations r JOIN people p ON p.id = r.person_id
		WHERE p.identity_verified_at IS NULL`).Scan(&unverified); err != nil {
		t.Fatal(err)
	}
	if unverified != 0 {
		t.Errorf("%d demo registrations of people whose identity is not verified", unverified)
	}
}
