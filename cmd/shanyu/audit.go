package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
)

// auditCmd runs `shanyu audit verify` and `shanyu audit seal`.
func auditCmd(ctx context.Context, pool *pgxpool.Pool, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("audit: `audit verify [--unsealed-bound 60s]` or `audit seal`: %w", errUsage)
	}
	switch args[0] {
	case "verify":
		return auditVerify(ctx, pool, args[1:], stdout)
	case "seal":
		if len(args) != 1 {
			return fmt.Errorf("audit seal takes no arguments: %w", errUsage)
		}
		return auditSeal(ctx, pool, stdout)
	}
	return fmt.Errorf("audit: only `audit verify` and `audit seal` exist: %w", errUsage)
}

// auditVerify walks the sealed part of the audit log's hash chain and fails on the first broken row,
// naming it; it also fails when rows have waited longer than --unsealed-bound to be sealed (the
// sealer of a running server chains them within a second or so).
func auditVerify(ctx context.Context, pool *pgxpool.Pool, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stdout)
	bound := fs.Duration("unsealed-bound", accounts.UnsealedBound, "fail when a row has waited longer than this to be sealed (1s–24h)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("audit verify: unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	if *bound < time.Second || *bound > 24*time.Hour {
		return fmt.Errorf("audit verify: --unsealed-bound must be between 1s and 24h, not %s: %w", *bound, errUsage)
	}
	c, err := accounts.CheckAudit(ctx, pool, *bound)
	var broken *accounts.ErrChainBroken
	if errors.As(err, &broken) {
		fmt.Fprintf(stdout, "audit log: %d sealed rows verified, then row %d is broken: %s\n", c.Sealed, broken.ID, broken.Reason())
		return err
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "audit log: %d sealed rows, chain intact; %d rows not sealed yet\n", c.Sealed, c.Unsealed)
	if c.Overdue > 0 {
		return fmt.Errorf("audit log: %d rows unsealed for longer than %s (the oldest appended %s): is the sealer running?",
			c.Overdue, *bound, c.OldestUnsealed.Format(time.RFC3339))
	}
	return nil
}

// auditSeal seals what can be sealed now, as a server's sealer would (one sealer at a time: it waits
// its turn), retrying for up to 30 s while rows wait behind transactions still running.
func auditSeal(ctx context.Context, pool *pgxpool.Pool, stdout io.Writer) error {
	total, waiting, err := accounts.NewSealer(pool, nil).SealWaiting(ctx, 30*time.Second)
	if err != nil {
		return err
	}
	if waiting > 0 {
		return fmt.Errorf("audit log: %d rows sealed, %d still waiting after 30 s (a long transaction holds them back)", total, waiting)
	}
	fmt.Fprintf(stdout, "audit log: %d rows sealed, none waiting\n", total)
	return nil
}
