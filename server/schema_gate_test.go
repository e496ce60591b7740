package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/internal/servertest"
)

// A database migrated by a newer binary (a version this one does not know) makes the server refuse
// work with 503 and a message in the user's language, /readyz say why, and /healthz stay up; once the
// schema matches again the server serves by itself.
func TestSchemaMismatchRefusesWorkClearlyAndRecovers(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Setup: func(p *pgxpool.Pool) error {
		_, err := p.Exec(t.Context(), `INSERT INTO schema_migrations (version, name) VALUES (9999, 'from_a_newer_binary')`)
		return err
	}})
	if status, _, body := get(t, srv.URL+"/readyz", nil); status != 503 || !strings.Contains(body, "schema ahead of this binary") {
		t.Fatalf("readyz = %d %s; want 503 naming the schema ahead", status, body)
	}
	if status, _, _ := get(t, srv.URL+"/healthz", nil); status != 200 {
		t.Fatalf("healthz = %d; the process is up", status)
	}
	status, h, body := get(t, srv.URL+"/api/v1/me", map[string]string{"Accept-Language": "en"})
	if status != 503 || !strings.Contains(body, "another version of Shanyu") || h.Get("Retry-After") == "" {
		t.Fatalf("api = %d %q (Retry-After %q); want 503 saying why, with Retry-After", status, body, h.Get("Retry-After"))
	}
	if status, _, body := get(t, srv.URL+"/courses", nil); status != 503 || !strings.Contains(body, "数据库结构与本服务器的版本不一致") {
		t.Fatalf("page = %d; want 503 with the Chinese message\n%.300s", status, body)
	}
	if _, err := srv.Pool.Exec(t.Context(), `DELETE FROM schema_migrations WHERE version = 9999`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, _, _ := get(t, srv.URL+"/api/v1/verify/AAAA", nil)
		if status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d 15 s after the schema matched again", status)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if status, _, _ := get(t, srv.URL+"/readyz", nil); status != 200 {
		t.Fatalf("readyz = %d after recovery", status)
	}
}
