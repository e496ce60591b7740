package server_test

import (
	"os"
	"testing"

	"shanyu/internal/browsertest"
)

// TestMain shares one Chromium among the package's browser tests, a browser context (profile) each.
func TestMain(m *testing.M) { os.Exit(browsertest.Main(m)) }
