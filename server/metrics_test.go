package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"shanyu/internal/metrics"
	"shanyu/internal/servertest"
	"shanyu/server"
)

// The metrics endpoint counts requests by route pattern (not raw path) and status, the product's
// events with their outcome, and reports the pools and River's queue.
func TestMetricsCountRoutesEventsPoolsAndJobs(t *testing.T) {
	t.Parallel()
	var m *metrics.Metrics
	srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Deps: func(d *server.Deps) {
		m = metrics.New(metrics.Pools{"main": d.Pool, "public": d.App.PublicPool()}, d.App.Reads())
		d.Metrics = m
	}})
	c := newClient(t, srv)
	c.login("admin", "wrong-password-here")
	c.login("admin", "shanyu-demo")
	// An unknown code is answered (state "unknown"), so it counts as a verification that went through.
	for _, code := range []string{"AAAA", "BBBB"} {
		get(t, srv.URL+"/api/v1/verify/"+code, nil)
	}
	get(t, srv.URL+"/no/such/page", nil)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	out := string(b)
	for _, want := range []string{
		`shanyu_http_requests_total{method="GET",route="/api/v1/verify/:code",status="200"} 2`,
		`shanyu_events_total{event="verification",outcome="ok"} 2`,
		`shanyu_events_total{event="login",outcome="ok"} 1`,
		`shanyu_events_total{event="login",outcome="refused"} 1`,
		`shanyu_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`shanyu_http_request_duration_seconds_bucket{method="POST",route="/api/v1/auth/login"`,
		`shanyu_db_pool_connections{pool="main",state="max"}`,
		`shanyu_db_pool_connections{pool="public",state="max"}`,
		`shanyu_jobs_scrape_errors 0`,
		// No standby configured: the verifications were read from the primary.
		`shanyu_db_reads_total{pool="primary"} 2`,
		`shanyu_db_reads_total{pool="standby"} 0`,
		`shanyu_db_standby_lag_seconds -1`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(out, `method="GETT"`) || strings.Contains(out, "AAAA") {
		t.Error("a raw path reached a label: series would grow with every code scanned")
	}
}
