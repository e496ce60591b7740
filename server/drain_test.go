package server_test

import (
	"strings"
	"testing"

	"shanyu/internal/servertest"
)

// A draining server (SIGTERM with SHANYU_DRAIN_DELAY) answers 503 on /readyz, so that HAProxy's check
// takes it out, while it still answers everything else.
func TestDrainingAnswers503OnReadyzOnly(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{})
	if status, _, body := get(t, srv.URL+"/readyz", nil); status != 200 {
		t.Fatalf("readyz before draining = %d %s", status, body)
	}
	srv.Server.Drain()
	if status, _, body := get(t, srv.URL+"/readyz", nil); status != 503 || !strings.Contains(body, `"reason":"draining"`) {
		t.Fatalf("readyz while draining = %d %s; want 503 saying draining", status, body)
	}
	if status, _, body := get(t, srv.URL+"/healthz", nil); status != 200 {
		t.Fatalf("healthz while draining = %d %s", status, body)
	}
	if status, _, _ := get(t, srv.URL+"/verify", nil); status != 200 {
		t.Fatalf("/verify while draining = %d; want still served", status)
	}
}
