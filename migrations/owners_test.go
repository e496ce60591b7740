package migrations_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"shanyu/migrations"
)

var (
	createTable = regexp.MustCompile(`(?i)CREATE (?:TABLE|(?:OR REPLACE )?VIEW) (?:IF NOT EXISTS )?([a-z_][a-z0-9_]*)`)
	tableRef    = regexp.MustCompile(`(?i)\b(?:join|into|update|from)\s+([a-z_][a-z0-9_]*)`)
	fromList    = regexp.MustCompile(`(?is)\bfrom\s+(.*?)(?:\bwhere\b|\bjoin\b|\bgroup\b|\border\b|\blimit\b|\breturning\b|\bon\b|\)|;|$)`)
	firstWord   = regexp.MustCompile(`^\s*([a-z_][a-z0-9_]*)`)
)

// tableOwners maps every table (and view) the migrations create to the package its range declares.
func tableOwners(t *testing.T) map[string]string {
	t.Helper()
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	owners := map[string]string{}
	for _, m := range all {
		owner := migrations.Owner(m.Version)
		if owner == "" {
			t.Errorf("migration %04d_%s lies in no declared range", m.Version, m.Name)
		}
		for _, c := range createTable.FindAllStringSubmatch(m.Up, -1) {
			owners[strings.ToLower(c[1])] = owner
		}
	}
	return owners
}

// tablesNamed returns the tables a SQL text names after FROM, JOIN, INTO or UPDATE, including every
// item of a comma-separated FROM list.
func tablesNamed(sql string) []string {
	var out []string
	for _, m := range tableRef.FindAllStringSubmatch(sql, -1) {
		out = append(out, strings.ToLower(m[1]))
	}
	for _, m := range fromList.FindAllStringSubmatch(sql, -1) {
		for _, item := range strings.Split(m[1], ",") {
			if w := firstWord.FindStringSubmatch(strings.ToLower(item)); w != nil {
				out = append(out, w[1])
			}
		}
	}
	return out
}

// TestDomainsReadOnlyTheirOwnTables parses every non-test Go file of the domain packages and fails
// when a string in it names, as SQL, a table whose migration range another package owns. There is
// no allow-list: another domain's data comes through its exported batch functions (issue #17).
func TestDomainsReadOnlyTheirOwnTables(t *testing.T) {
	t.Parallel()
	owners := tableOwners(t)
	if owners["people"] != "accounts" || owners["certificates"] != "certificates" {
		t.Fatalf("ownership not derived from the migrations: %v", owners)
	}
	reported := map[string]bool{}
	for _, domain := range []string{"accounts", "curriculum", "exams", "certificates", "audits"} {
		files, err := filepath.Glob(filepath.Join("..", domain, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no files (%v)", domain, err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					return true
				}
				for _, table := range tablesNamed(s) {
					owner, known := owners[table]
					if !known || owner == domain || owner == "platform" {
						continue
					}
					key := fset.Position(lit.Pos()).String() + " " + table
					if !reported[key] { // a table after FROM is matched twice
						t.Errorf("%s: %s's SQL names %s, a table of %s", fset.Position(lit.Pos()), domain, table, owner)
					}
					reported[key] = true
				}
				return true
			})
		}
	}
}

func TestTablesNamed(t *testing.T) {
	t.Parallel()
	got := strings.Join(tablesNamed(`SELECT 1 FROM s, people p, organisations o WHERE x IN (SELECT id FROM users) JOIN regions r ON`), " ")
	for _, want := range []string{"s", "people", "organisations", "users", "regions"} {
		if !strings.Contains(" "+got+" ", " "+want+" ") {
			t.Errorf("tablesNamed missed %s: %s", want, got)
		}
	}
}
