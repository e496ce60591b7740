package server_test

import (
	"strings"
	"testing"
)

// The admin routes that act on a person refuse a megabyte of text in their fields with 422, as the
// signed-in province admin (not as a refused stranger), never with a server error.
func TestAdminWritesRefuseOversizedBodies(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	admin := newClient(t, srv)
	admin.login("admin", "shanyu-demo")
	for _, path := range []string{"/api/v1/admin/users/2/password-reset", "/api/v1/admin/users/2/grants", "/api/v1/admin/users/2/disable"} {
		long := admin.send("POST", path, map[string]string{"password": strings.Repeat("a", 1<<20), "role": strings.Repeat("r", 1<<20), "reason": strings.Repeat("因", 1<<18), "domain": "org:HZ001"})
		if long.Status != 422 {
			t.Errorf("%s with a megabyte in its fields: %d; want 422", path, long.Status)
		}
	}
}
