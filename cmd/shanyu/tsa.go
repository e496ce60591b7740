package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/certificates"
	"shanyu/certificates/tsa"
	"shanyu/internal/config"
	"shanyu/migrations"
)

const tsaUsage = `usage: shanyu tsa serve [--addr 127.0.0.1:8318]

  serve   run an RFC 3161 Time-Stamp Authority for development and tests: POST a time-stamp query
          to / and get a token signed by a key made at start-up, with a certificate issued by the
          stored CA (shanyu keys init). Point SHANYU_TSA_URL at it (http://ADDR/). Production uses
          a real TSA instead.
`

// tsaCmd runs `shanyu tsa serve` until ctx ends.
func tsaCmd(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "serve" {
		fmt.Fprint(stdout, tsaUsage)
		return fmt.Errorf("tsa needs serve: %w", errUsage)
	}
	fs := flag.NewFlagSet("tsa serve", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", "127.0.0.1:8318", "address to listen on")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	if err := migrations.CheckCurrent(ctx, pool); err != nil {
		return err
	}
	ca, err := certificates.StoredCA(ctx, pool, cfg.SecretKey)
	if err != nil {
		return fmt.Errorf("tsa: %w", err)
	}
	cert, key, err := ca.IssueTSA(demoIssuer, cfg.BaseURL, time.Now())
	if err != nil {
		return fmt.Errorf("tsa: %w", err)
	}
	pool.Close() // the TSA needs nothing more from the database
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("tsa: %w", err)
	}
	srv := &http.Server{
		Handler:           &tsa.Server{Certificate: cert, Chain: nil, Key: key},
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
	}
	fmt.Fprintf(stdout, "tsa: RFC 3161 time-stamp authority on http://%s/ (certificate %q, issued by %q)\n",
		ln.Addr(), cert.Subject.CommonName, ca.Certificate.Subject.CommonName)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
