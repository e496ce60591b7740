package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestProductLinksNoTestSupport: the shanyu binary does not link the test support packages, so that
// what they do for tests (pgtest's test-cost password hashes, servertest's fixtures) cannot happen
// in the product.
func TestProductLinksNoTestSupport(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "shanyu/cmd/shanyu").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 || !strings.Contains(string(out), "shanyu/accounts\n") {
		t.Fatalf("go list named %d packages, without shanyu/accounts: %s", len(deps), out)
	}
	for _, d := range deps {
		switch d {
		case "shanyu/internal/pgtest", "shanyu/internal/servertest", "shanyu/internal/browsertest":
			t.Errorf("the product links %s", d)
		}
	}
}
