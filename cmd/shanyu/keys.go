package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/certificates"
	"shanyu/internal/config"
	"shanyu/migrations"
)

const keysUsage = `usage: shanyu keys <init|rotate|list|revoke-pdf FINGERPRINT>

  init        create the first Ed25519 signing key and, unless SHANYU_PDF_CERT_FILE and
              SHANYU_PDF_KEY_FILE are set, a development CA and a PDF signing certificate under it;
              does nothing for what exists already
  rotate      make a new active Ed25519 signing key (the old one is retired and stays published)
              and issue a new PDF signing certificate under the stored CA (PDFs signed before keep
              validating: they carry their own certificate)
  list        show the signing keys and the PDF signing certificates
  revoke-pdf  put a PDF signing certificate on the CA's CRL (a leaked key)
`

// demoIssuer names the demo CA and issuing certificate that `keys init` creates.
const demoIssuer = "Shanyu Demo Certificate Authority"

// keysCmd runs `shanyu keys …`. Private keys are sealed with SHANYU_SECRET_KEY before they are stored.
func keysCmd(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, args []string, stdout io.Writer) error {
	if len(args) == 2 && args[0] == "revoke-pdf" {
		if err := migrations.CheckCurrent(ctx, pool); err != nil {
			return err
		}
		if err := certificates.RevokePDFSigner(ctx, pool, args[1], time.Now()); err != nil {
			return fmt.Errorf("keys revoke-pdf %s: %w", args[1], err)
		}
		fmt.Fprintf(stdout, "PDF signing certificate %s is revoked; the CRL lists it from now on\n", args[1])
		return nil
	}
	if len(args) != 1 {
		fmt.Fprint(stdout, keysUsage)
		return fmt.Errorf("keys needs init, rotate or list: %w", errUsage)
	}
	if err := migrations.CheckCurrent(ctx, pool); err != nil {
		return err
	}
	switch args[0] {
	case "init":
		k, created, err := certificates.EnsureSigningKey(ctx, pool, cfg.SecretKey)
		if err != nil {
			return fmt.Errorf("keys init: %w", err)
		}
		if created {
			fmt.Fprintf(stdout, "created signing key %s (Ed25519)\n", k.ID)
		} else {
			fmt.Fprintf(stdout, "signing key %s is active already\n", k.ID)
		}
		if cfg.TokenAlg == certificates.AlgSM2 {
			k, created, err := certificates.EnsureTokenKey(ctx, pool, cfg.SecretKey, certificates.AlgSM2)
			if err != nil {
				return fmt.Errorf("keys init: %w", err)
			}
			if created {
				fmt.Fprintf(stdout, "created QR token signing key %s (SM2, SHANYU_TOKEN_ALG)\n", k.ID)
			}
		}
		if cfg.PDFCertFile != "" {
			s, err := certificates.PDFSignerFrom(ctx, cfg.PDFCertFile, cfg.PDFKeyFile, pool, cfg.SecretKey)
			if err != nil {
				return fmt.Errorf("keys init: %w", err)
			}
			fmt.Fprintf(stdout, "PDFs are signed with %s from SHANYU_PDF_CERT_FILE (sha256 %s)\n", s.Certificate.Subject.CommonName, s.Fingerprint())
			return nil
		}
		fp, created, err := certificates.EnsurePDFSigner(ctx, pool, cfg.SecretKey, demoIssuer, cfg.BaseURL, time.Now())
		if err != nil {
			return fmt.Errorf("keys init: %w", err)
		}
		if created {
			fmt.Fprintf(stdout, "created a development CA and PDF signing certificate (sha256 %s); not for production\n", fp)
		} else {
			fmt.Fprintf(stdout, "PDF signing certificate exists already (sha256 %s)\n", fp)
		}
		return nil
	case "rotate":
		k, err := certificates.RotateKey(ctx, pool, cfg.SecretKey)
		if err != nil {
			return fmt.Errorf("keys rotate: %w", err)
		}
		fmt.Fprintf(stdout, "signing key %s is now active; earlier keys are retired and stay in the JWKS\n", k.ID)
		if cfg.PDFCertFile != "" {
			fmt.Fprintln(stdout, "PDF signing certificate: SHANYU_PDF_CERT_FILE is set; to rotate it, have the CA issue a new one and replace the files")
			return nil
		}
		fp, err := certificates.RotatePDFSigner(ctx, pool, cfg.SecretKey, demoIssuer, cfg.BaseURL, time.Now())
		if err != nil {
			return fmt.Errorf("keys rotate: PDF signing certificate: %w", err)
		}
		fmt.Fprintf(stdout, "PDF signing certificate sha256 %s is now active; PDFs signed before carry their own certificate and still validate\n", fp)
		return nil
	case "list":
		keys, err := certificates.ListKeys(ctx, pool)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "KID\tALG\tSTATUS\tCREATED\tRETIRED")
		for _, k := range keys {
			retired := "-"
			if !k.RetiredAt.IsZero() {
				retired = k.RetiredAt.Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.Status, k.CreatedAt.Format(time.RFC3339), retired)
		}
		if err := w.Flush(); err != nil {
			return err
		}
		signers, err := certificates.ListPDFSigners(ctx, pool)
		if err != nil {
			return err
		}
		for _, s := range signers {
			state := "inactive"
			switch {
			case s.Active:
				state = "active"
			case !s.RevokedAt.IsZero():
				state = "revoked"
			}
			fmt.Fprintf(stdout, "pdf signer %s: %s, valid until %s, sha256 %s\n", state, s.Subject, s.NotAfter.Format(time.DateOnly), s.Fingerprint)
		}
		if cfg.PDFCertFile != "" {
			fmt.Fprintln(stdout, "(SHANYU_PDF_CERT_FILE is set: PDFs are signed with the certificate from that file)")
		}
		return nil
	}
	fmt.Fprint(stdout, keysUsage)
	return fmt.Errorf("keys %s: %w", args[0], errUsage)
}
