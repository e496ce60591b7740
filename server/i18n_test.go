package server

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"shanyu/internal/pgtest"
)

func TestTranslationsHaveEveryKeyInEveryLanguage(t *testing.T) {
	t.Parallel()
	c, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	if m := c.missing(); len(m) > 0 {
		t.Fatalf("keys missing from a language:\n%s", strings.Join(m, "\n"))
	}
}

var templateKey = regexp.MustCompile(`\bt \$?\.Lang "([^"]+)"`)

func TestTemplatesUseOnlyDefinedKeys(t *testing.T) {
	t.Parallel()
	c, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	err = fs.WalkDir(viewFiles, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := viewFiles.ReadFile(p)
		for _, m := range templateKey.FindAllStringSubmatch(string(b), -1) {
			if !c.Has(m[1]) {
				t.Errorf("%s uses undefined key %q", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range audiences {
		for _, suffix := range []string{".title", ".body"} {
			if k := "home." + a.Key + suffix; !c.Has(k) {
				t.Errorf("home page audience key %q undefined", k)
			}
		}
	}
}

// Domain packages name their messages by key (failure.New, failure.Field, Fields.Add); every such
// key must be translated, or a user would read the key itself.
var codeKey = regexp.MustCompile(`(?:failure\.New\(failure\.[A-Za-z]+,\s*|failure\.Field\("[^"]*",\s*|\.Add\("[^"]*",\s*|Msg\{Key:\s*)"([a-z0-9_]+\.[a-z0-9_.]+)"`)

func TestErrorKeysInGoCodeAreTranslated(t *testing.T) {
	t.Parallel()
	c, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	root, err := pgtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "var" || d.Name() == "bin" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range codeKey.FindAllStringSubmatch(string(b), -1) {
			if !c.Has(m[1]) {
				rel, _ := filepath.Rel(root, p)
				t.Errorf("%s uses key %q, which server/locales does not define in every language", rel, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCatalogRejectsDuplicatesAndFallsBack(t *testing.T) {
	t.Parallel()
	dup := fstest.MapFS{
		"locales/zh-CN/a.json": {Data: []byte(`{"x.y": "一"}`)},
		"locales/zh-CN/b.json": {Data: []byte(`{"x.y": "二"}`)},
		"locales/en/a.json":    {Data: []byte(`{"x.y": "one"}`)},
	}
	if _, err := loadCatalogFS(dup); err == nil {
		t.Fatal("a key defined twice was accepted")
	}
	c, err := loadCatalogFS(fstest.MapFS{
		"locales/zh-CN/a.json": {Data: []byte(`{"x.n": "%d 项"}`)},
		"locales/en/a.json":    {Data: []byte(`{}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.T("en", "x.n", 3); got != "3 项" {
		t.Fatalf("fallback = %q", got)
	}
	if got := c.T("en", "no.such.key"); got != "no.such.key" {
		t.Fatalf("unknown key = %q", got)
	}
}

func TestPickLanguage(t *testing.T) {
	t.Parallel()
	cases := []struct{ cookie, accept, want string }{
		{"", "", "zh-CN"},
		{"", "en-US,en;q=0.9", "en"},
		{"", "fr-FR, en;q=0.5", "en"},
		{"", "zh-TW", "zh-CN"},
		{"en", "zh-CN", "en"},
		{"xx", "en", "en"},
	}
	for _, c := range cases {
		if got := pickLanguage(c.cookie, c.accept); got != c.want {
			t.Errorf("pickLanguage(%q, %q) = %q, want %q", c.cookie, c.accept, got, c.want)
		}
	}
}
