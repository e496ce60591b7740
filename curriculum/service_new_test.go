package curriculum

import (
	"fmt"
	"strings"
	"testing"

	"shanyu/accounts"
	"shanyu/internal/pgtest"
)

// TestNewRequiresTheDirectory: New panics, naming the option, without the accounts directory (the
// only collaborator it cannot do without: Levels has a documented default and Font is asked for on
// the first transcript, which fails with "no font configured"), and builds a service with it.
func TestNewRequiresTheDirectory(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	secret := make([]byte, 32)
	acc, err := accounts.New(db, secret, accounts.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	built := func(o Options) (s *Service, msg string) {
		defer func() {
			if r := recover(); r != nil {
				msg = fmt.Sprint(r)
			}
		}()
		return New(db, secret, o), ""
	}
	if s, msg := built(Options{Directory: acc}); s == nil || msg != "" {
		t.Fatalf("with the directory: %v, panic %q", s, msg)
	}
	if s, msg := built(Options{}); s != nil || !strings.Contains(msg, "Options.Directory ") {
		t.Errorf("without the directory: built %v, panic %q; want a panic naming Options.Directory", s != nil, msg)
	}
}
