package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
)

// auditCmd runs `shanyu audit verify`: it walks the audit log's hash chain and fails on the first
// broken row, naming it.
func auditCmd(ctx context.Context, pool *pgxpool.Pool, args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "verify" {
		return fmt.Errorf("audit: only `audit verify` exists: %w", errUsage)
	}
	n, err := accounts.VerifyAudit(ctx, pool)
	var broken *accounts.ErrChainBroken
	if errors.As(err, &broken) {
		fmt.Fprintf(stdout, "audit log: %d rows verified, then row %d is broken: %s\n", n, broken.ID, broken.Reason)
		return err
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "audit log: %d rows, chain intact\n", n)
	return nil
}
