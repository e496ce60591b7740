package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The tests that run `shanyu serve` as a process share one build of it: the binary is built, without
// the race detector as it is deployed, the first time a test asks, into a directory removed when the
// package's tests end.
var (
	binDir   string
	binOnce  sync.Once
	binPath  string
	binError error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shanyu-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// shanyuBinary returns the path of the package's `shanyu` binary, building it once.
func shanyuBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		bin := filepath.Join(binDir, "shanyu")
		// Built as `make build` builds it, so that the two share the build cache.
		build := exec.Command("go", "build", "-o", bin, ".")
		if out, err := build.CombinedOutput(); err != nil {
			binError = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		binPath = bin
	})
	if binError != nil {
		t.Fatal(binError)
	}
	return binPath
}
