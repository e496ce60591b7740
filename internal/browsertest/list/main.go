// Command list names the module's browser tests, for `make test` (scripts/test-go): the tests whose
// code reaches browsertest.New, directly or through helpers of their own package. It prints one
// line: a -run/-skip pattern matching exactly those top-level tests, then the packages that hold them.
//
// `make test` runs every other test with the race detector and these in a second pass without it:
// their server-side steps are the same handlers the API, race and access tests drive under -race,
// and without the detector a browser journey runs about twice as fast (measured: three phone and
// PDF journeys of the server package, 36 s with -race, 16.5 s without).
//
// The helpers are followed by name within a package (a call to f or x.f reaches every function or
// method named f there), which can only over-count. A browser test the analysis missed runs under
// -race in the first pass, as before; none is left out of both. Since -skip matches names in every
// package, list fails when a browser test shares its name with a test in another package.
package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	pattern, pkgs, err := browserTests(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "browsertest/list:", err)
		os.Exit(1)
	}
	fmt.Println(pattern, strings.Join(pkgs, " "))
}

// pkgFuncs is what one package's test files declare and call.
type pkgFuncs struct {
	calls  map[string]map[string]bool // function or method name → names it calls
	direct map[string]bool            // functions that call browsertest.New themselves
	tests  []string                   // top-level Test functions
}

// browserTests walks the module under root and returns the pattern and the packages ("./dir").
func browserTests(root string) (string, []string, error) {
	byDir := map[string]*pkgFuncs{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "var" || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		dir := filepath.Dir(path)
		p := byDir[dir]
		if p == nil {
			p = &pkgFuncs{calls: map[string]map[string]bool{}, direct: map[string]bool{}}
			byDir[dir] = p
		}
		p.add(f)
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	testDirs := map[string][]string{} // every Test name → the packages declaring it
	for dir, p := range byDir {
		for _, t := range p.tests {
			testDirs[t] = append(testDirs[t], dir)
		}
	}
	var names, pkgs []string
	for dir, p := range byDir {
		reach := p.reaching()
		found := false
		for _, t := range p.tests {
			if !reach[t] {
				continue
			}
			if len(testDirs[t]) > 1 {
				return "", nil, fmt.Errorf("browser test %s is also a test name in %v: rename one (-skip matches names in every package)", t, testDirs[t])
			}
			names, found = append(names, t), true
		}
		if found {
			rel, err := filepath.Rel(root, dir)
			if err != nil {
				return "", nil, err
			}
			pkgs = append(pkgs, "./"+filepath.ToSlash(rel))
		}
	}
	if len(names) == 0 {
		return "", nil, fmt.Errorf("no browser tests found under %s", root)
	}
	sort.Strings(names)
	sort.Strings(pkgs)
	return "^(" + strings.Join(names, "|") + ")$", pkgs, nil
}

// add records a file's functions, their calls and its top-level tests.
func (p *pkgFuncs) add(f *ast.File) {
	browsertest := "" // the local name of shanyu/internal/browsertest in this file
	for _, imp := range f.Imports {
		if strings.Trim(imp.Path.Value, `"`) == "shanyu/internal/browsertest" {
			browsertest = "browsertest"
			if imp.Name != nil {
				browsertest = imp.Name.Name
			}
		}
	}
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		name := fn.Name.Name
		if fn.Recv == nil && strings.HasPrefix(name, "Test") && name != "TestMain" {
			p.tests = append(p.tests, name)
		}
		calls := p.calls[name]
		if calls == nil {
			calls = map[string]bool{}
			p.calls[name] = calls
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			switch fun := call.Fun.(type) {
			case *ast.Ident:
				calls[fun.Name] = true
			case *ast.SelectorExpr:
				if x, ok := fun.X.(*ast.Ident); ok && browsertest != "" && x.Name == browsertest {
					if fun.Sel.Name == "New" {
						p.direct[name] = true
					}
					return true
				}
				calls[fun.Sel.Name] = true
			}
			return true
		})
	}
}

// reaching is every function of the package from which browsertest.New is reached.
func (p *pkgFuncs) reaching() map[string]bool {
	reach := map[string]bool{}
	for f := range p.direct {
		reach[f] = true
	}
	for changed := true; changed; {
		changed = false
		for f, calls := range p.calls {
			if reach[f] {
				continue
			}
			for c := range calls {
				if reach[c] {
					reach[f], changed = true, true
					break
				}
			}
		}
	}
	return reach
}
