package exams

import (
	"fmt"
	"strings"
	"testing"

	"shanyu/accounts"
	"shanyu/curriculum"
	"shanyu/internal/jobs"
	"shanyu/internal/pgtest"
)

// TestNewRequiresEveryCollaborator: New panics, naming the option, when any collaborator is
// missing (none of them is optional: each missing one would silently skip a rule), and builds a
// service when all are there.
func TestNewRequiresEveryCollaborator(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	inserter, err := jobs.NewInserter(pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := accounts.New(pool, []byte("exams test secret of 32 bytes!!!"), accounts.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	full := func() Options {
		return Options{Jobs: inserter, Hours: curriculum.New(pool, []byte("exams test secret of 32 bytes!!!"), curriculum.Options{Directory: acc}),
			Identity: acc, Conduct: &ledger{}, Names: acc, Notices: accounts.NewNotices(inserter)}
	}
	built := func(o Options) (s *Service, msg string) {
		defer func() {
			if r := recover(); r != nil {
				msg = fmt.Sprint(r)
			}
		}()
		return New(pool, o), ""
	}
	if s, msg := built(full()); s == nil || msg != "" {
		t.Fatalf("with every collaborator: %v, panic %q", s, msg)
	}
	for field, drop := range map[string]func(*Options){
		"Jobs":     func(o *Options) { o.Jobs = nil },
		"Hours":    func(o *Options) { o.Hours = nil },
		"Identity": func(o *Options) { o.Identity = nil },
		"Conduct":  func(o *Options) { o.Conduct = nil },
		"Names":    func(o *Options) { o.Names = nil },
		"Notices":  func(o *Options) { o.Notices = nil },
	} {
		o := full()
		drop(&o)
		s, msg := built(o)
		if s != nil || !strings.Contains(msg, "Options."+field+" ") {
			t.Errorf("without %s: built %v, panic %q; want a panic naming Options.%s", field, s != nil, msg, field)
		}
	}
}
