package certificates

import (
	"fmt"
	"strings"
	"testing"

	"shanyu/accounts"
	"shanyu/internal/jobs"
	"shanyu/internal/pgtest"
)

// TestNewRequiresItsCollaborators: New panics, naming the field, without the curriculum's hours,
// the accounts directory or the notices, and builds a service with all three.
func TestNewRequiresItsCollaborators(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	acc, err := accounts.New(db, testSecret, accounts.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	q, err := jobs.NewInserter(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	full := func() Config { return Config{Hours: &fakeHours{}, Directory: acc, Notices: accounts.NewNotices(q)} }
	built := func(cfg Config) (s *Service, msg string) {
		defer func() {
			if r := recover(); r != nil {
				msg = fmt.Sprint(r)
			}
		}()
		return New(db, cfg), ""
	}
	if s, msg := built(full()); s == nil || msg != "" {
		t.Fatalf("with every collaborator: %v, panic %q", s, msg)
	}
	for field, drop := range map[string]func(*Config){
		"Hours":     func(c *Config) { c.Hours = nil },
		"Directory": func(c *Config) { c.Directory = nil },
		"Notices":   func(c *Config) { c.Notices = nil },
	} {
		cfg := full()
		drop(&cfg)
		if s, msg := built(cfg); s != nil || !strings.Contains(msg, "Config."+field+" ") {
			t.Errorf("without %s: built %v, panic %q; want a panic naming Config.%s", field, s != nil, msg, field)
		}
	}
}
