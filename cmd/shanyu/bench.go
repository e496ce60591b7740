package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"shanyu/internal/config"
)

// A bench is a load or throughput measurement: `shanyu bench <name> [flags]`. It prints progress while
// it runs and, as its last line, one JSON object with its figures. Each bench lives in a file of its
// own (bench_<name>.go) and registers itself in init.
type bench func(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error

var benches = map[string]bench{}

func benchCmd(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	names := make([]string, 0, len(benches))
	for n := range benches {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 || benches[args[0]] == nil {
		return fmt.Errorf("bench needs one of: %s: %w", strings.Join(names, ", "), errUsage)
	}
	return benches[args[0]](ctx, cfg, args[1:], stdout)
}
