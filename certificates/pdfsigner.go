package certificates

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/pdfdoc"
	"shanyu/internal/pg"
)

// PDFSignerFrom loads the PDF signer from certFile and keyFile (SHANYU_PDF_CERT_FILE and
// SHANYU_PDF_KEY_FILE) when they are given, and otherwise the one `shanyu keys init` stored in the
// database.
func PDFSignerFrom(ctx context.Context, certFile, keyFile string, db pg.DB, secret []byte) (*pdfdoc.PDFSigner, error) {
	switch {
	case certFile != "" && keyFile != "":
		ps, err := pdfdoc.LoadPDFSignerFiles(certFile, keyFile)
		if ps != nil {
			ps.FromFiles = true
		}
		return ps, err
	case certFile != "" || keyFile != "":
		return nil, errors.New("set both SHANYU_PDF_CERT_FILE and SHANYU_PDF_KEY_FILE, or neither")
	}
	return StoredPDFSigner(ctx, db, secret)
}

func storePDFSigner(ctx context.Context, tx pgx.Tx, secret []byte, s *pdfdoc.PDFSigner, caID int64) error {
	der, err := x509.MarshalPKCS8PrivateKey(s.Key)
	if err != nil {
		return err
	}
	fp := s.Fingerprint()
	enc, err := seal(secret, der, []byte(fp))
	if err != nil {
		return err
	}
	var chain bytes.Buffer
	for _, c := range s.Chain {
		_ = pem.Encode(&chain, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	leaf := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate.Raw})
	_, err = tx.Exec(ctx, `INSERT INTO certificate_pdf_signers (certificate_pem, chain_pem, private_key_enc, fingerprint, not_after, ca_id)
		VALUES ($1, $2, $3, $4, $5, $6)`, string(leaf), chain.String(), enc, fp, s.Certificate.NotAfter, caID)
	if err != nil {
		return fmt.Errorf("store pdf signer: %w", err)
	}
	return nil
}

// StoredPDFSigner loads the active PDF signer from the database.
func StoredPDFSigner(ctx context.Context, db pg.DB, secret []byte) (*pdfdoc.PDFSigner, error) {
	var leaf, chain, fp string
	var enc []byte
	var caID *int64
	err := db.QueryRow(ctx, `SELECT certificate_pem, chain_pem, private_key_enc, fingerprint, ca_id FROM certificate_pdf_signers WHERE active`).
		Scan(&leaf, &chain, &enc, &fp, &caID)
	if pg.IsNoRows(err) {
		return nil, ErrNoPDFSigner
	}
	if err != nil {
		return nil, fmt.Errorf("load pdf signer: %w", err)
	}
	der, err := unseal(secret, enc, []byte(fp))
	if err != nil {
		return nil, fmt.Errorf("pdf signer %s: %w", fp[:12], err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("pdf signer: %w", err)
	}
	key, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("pdf signer: key cannot sign")
	}
	ps, err := pdfdoc.NewPDFSigner([]byte(leaf+chain), key)
	if err != nil || caID == nil {
		return ps, err
	}
	// The CRL of the stored CA goes into each signature's DSS; it is signed again after crlRefresh.
	var mu sync.Mutex
	var crl []byte
	var crlAt time.Time
	ps.Revocation = func(ctx context.Context) ([][]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		if crl == nil || time.Since(crlAt) > crlRefresh {
			var name string
			if err := db.QueryRow(ctx, `SELECT left(fingerprint, 16) FROM certificate_cas WHERE id = $1`, *caID).Scan(&name); err != nil {
				return nil, fmt.Errorf("pdf signer CRL: %w", err)
			}
			der, err := makeCRL(ctx, db, secret, name, time.Now())
			if err != nil {
				return nil, fmt.Errorf("pdf signer CRL: %w", err)
			}
			crl, crlAt = der, time.Now()
		}
		return [][]byte{crl}, nil
	}
	return ps, nil
}

// PDFSignerInfo describes the stored PDF signer for `shanyu keys list`.
type PDFSignerInfo struct {
	Fingerprint string
	Subject     string
	NotAfter    time.Time
	Active      bool
	CreatedAt   time.Time
	RevokedAt   time.Time // zero unless revoked
}

// ListPDFSigners returns the stored PDF signers, newest first.
func ListPDFSigners(ctx context.Context, db pg.DB) ([]PDFSignerInfo, error) {
	rows, err := db.Query(ctx, `SELECT fingerprint, certificate_pem, not_after, active, created_at, revoked_at FROM certificate_pdf_signers ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (PDFSignerInfo, error) {
		var i PDFSignerInfo
		var certPEM string
		var revoked *time.Time
		if err := r.Scan(&i.Fingerprint, &certPEM, &i.NotAfter, &i.Active, &i.CreatedAt, &revoked); err != nil {
			return i, err
		}
		if revoked != nil {
			i.RevokedAt = *revoked
		}
		if b, _ := pem.Decode([]byte(certPEM)); b != nil {
			if c, err := x509.ParseCertificate(b.Bytes); err == nil {
				i.Subject = c.Subject.CommonName
			}
		}
		return i, nil
	})
}

// Signed is a certificate PDF signed inside, with the digests that identify it.
type Signed struct {
	PDF            []byte
	SHA256         [32]byte // of PDF, the file as handed out
	UnsignedSHA256 [32]byte // of the rendering before signing, reproducible from the document
}

// Produce renders a certificate and signs it.
func Produce(ctx context.Context, r *Renderer, s *pdfdoc.PDFSigner, d Document, signedAt time.Time) (Signed, error) {
	un, err := r.Render(ctx, d)
	if err != nil {
		return Signed{}, err
	}
	out, err := s.SignPDF(ctx, un.PDF, signedAt)
	if err != nil {
		return Signed{}, err
	}
	return Signed{PDF: out, SHA256: sha256.Sum256(out), UnsignedSHA256: un.SHA256}, nil
}
