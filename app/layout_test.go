package app

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// domains are the packages that own tables (docs/architecture.md, Packages and what each owns).
var domains = []string{"accounts", "curriculum", "exams", "certificates", "audits"}

// importsOf lists the shanyu packages (and fiber) the non-test Go files of dir import.
func importsOf(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out[p] = true
		}
	}
	return out
}

// TestImportsPointInward keeps the layout docs/architecture.md draws: no package under internal/
// (test helpers aside) imports a domain, app or server; no domain imports app, server or fiber;
// audits imports no other domain but accounts (the PDF plumbing is internal/pdfdoc, certificate
// status and the occupation catalogue come in as functions), and internal/pdfdoc nothing of
// certificates.
func TestImportsPointInward(t *testing.T) {
	t.Parallel()
	root := ".."
	upper := append([]string{"shanyu/app", "shanyu/server"}, func() (out []string) {
		for _, d := range domains {
			out = append(out, "shanyu/"+d)
		}
		return out
	}()...)
	helpers := map[string]bool{"pgtest": true, "servertest": true, "browsertest": true}
	var internal []string
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			internal = append(internal, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, dir := range internal {
		rel, _ := filepath.Rel(filepath.Join(root, "internal"), dir)
		if helpers[strings.Split(filepath.ToSlash(rel), "/")[0]] {
			continue
		}
		for imp := range importsOf(t, dir) {
			for _, u := range upper {
				if imp == u || strings.HasPrefix(imp, u+"/") {
					t.Errorf("%s imports %s: internal/ is plumbing below the domains", dir, imp)
				}
			}
		}
		checked++
	}
	if checked < 5 {
		t.Fatalf("only %d internal packages found", checked)
	}
	for _, d := range domains {
		for imp := range importsOf(t, filepath.Join(root, d)) {
			if imp == "shanyu/app" || strings.HasPrefix(imp, "shanyu/app/") || imp == "shanyu/server" || strings.HasPrefix(imp, "github.com/gofiber/") {
				t.Errorf("%s imports %s: dependencies point inward", d, imp)
			}
			if d == "audits" && strings.HasPrefix(imp, "shanyu/") && imp != "shanyu/accounts" && !strings.HasPrefix(imp, "shanyu/internal/") {
				t.Errorf("audits imports %s: it gets other domains' answers through app's wiring", imp)
			}
		}
	}
	if !importsOf(t, filepath.Join(root, "audits"))["shanyu/internal/pdfdoc"] || !importsOf(t, filepath.Join(root, "certificates"))["shanyu/internal/pdfdoc"] {
		t.Error("certificates and audits should both print through internal/pdfdoc")
	}
}
