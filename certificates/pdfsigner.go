package certificates

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"time"

	"github.com/digitorus/pdf"
	"github.com/digitorus/pdfsign/sign"
	"github.com/jackc/pgx/v5"

	"shanyu/internal/pg"
)

// PDFSigner is the X.509 material that signs certificate PDFs: the issuing certificate, its private
// key, and the chain up to (and including) the CA, which is embedded in each signature so that a
// reader can show who signed. It is safe for concurrent use.
//
// Real deployments give it through two environment variables (for the README):
//
//	SHANYU_PDF_CERT_FILE  PEM file: the issuing certificate first, then its CA certificates
//	SHANYU_PDF_KEY_FILE   PEM file: the issuing certificate's private key (PKCS #8, SEC 1 EC or PKCS #1 RSA)
//
// When neither is set, the certificate stored by `shanyu keys init` (a demo CA) is used.
type PDFSigner struct {
	Certificate *x509.Certificate
	Chain       []*x509.Certificate // CA certificates above Certificate, nearest first
	Key         crypto.Signer
	Name        string // shown as the signer's name in PDF readers
}

// SignPDF signs a PDF inside (an incremental update with a CMS, adbe.pkcs7.detached signature
// certifying the document: any change afterwards invalidates it). signedAt is written as the
// signature's time; pass a fixed one for reproducible output.
func (s *PDFSigner) SignPDF(ctx context.Context, in []byte, signedAt time.Time) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rd := bytes.NewReader(in)
	r, err := pdf.NewReader(rd, int64(len(in)))
	if err != nil {
		return nil, fmt.Errorf("sign pdf: read: %w", err)
	}
	var out bytes.Buffer
	out.Grow(len(in) + 8<<10)
	err = sign.Sign(rd, &out, r, int64(len(in)), sign.SignData{
		Signature: sign.SignDataSignature{
			Info: sign.SignDataSignatureInfo{
				Name:   s.Name,
				Reason: "Certificate issued by Shanyu",
				Date:   signedAt,
			},
			CertType:   sign.CertificationSignature,
			DocMDPPerm: sign.DoNotAllowAnyChangesPerms,
		},
		Signer:            s.Key,
		DigestAlgorithm:   crypto.SHA256,
		Certificate:       s.Certificate,
		CertificateChains: [][]*x509.Certificate{append([]*x509.Certificate{s.Certificate}, s.Chain...)},
	})
	if err != nil {
		return nil, fmt.Errorf("sign pdf: %w", err)
	}
	return out.Bytes(), nil
}

// Fingerprint is the SHA-256 of the issuing certificate, in hex.
func (s *PDFSigner) Fingerprint() string {
	sum := sha256.Sum256(s.Certificate.Raw)
	return hex.EncodeToString(sum[:])
}

// LoadPDFSignerFiles reads the issuing certificate (with its chain) and its key from PEM files.
func LoadPDFSignerFiles(certFile, keyFile string) (*PDFSigner, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("pdf signing certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("pdf signing key: %w", err)
	}
	key, err := parsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	return newPDFSigner(certPEM, key)
}

// PDFSignerFrom loads the PDF signer from certFile and keyFile (SHANYU_PDF_CERT_FILE and
// SHANYU_PDF_KEY_FILE) when they are given, and otherwise the one `shanyu keys init` stored in the
// database.
func PDFSignerFrom(ctx context.Context, certFile, keyFile string, db pg.DB, secret []byte) (*PDFSigner, error) {
	switch {
	case certFile != "" && keyFile != "":
		return LoadPDFSignerFiles(certFile, keyFile)
	case certFile != "" || keyFile != "":
		return nil, errors.New("set both SHANYU_PDF_CERT_FILE and SHANYU_PDF_KEY_FILE, or neither")
	}
	return StoredPDFSigner(ctx, db, secret)
}

func newPDFSigner(certPEM []byte, key crypto.Signer) (*PDFSigner, error) {
	var certs []*x509.Certificate
	for rest := certPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("pdf signing certificate: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("pdf signing certificate: no CERTIFICATE block")
	}
	if !publicKeysEqual(certs[0].PublicKey, key.Public()) {
		return nil, errors.New("pdf signing key does not match the certificate")
	}
	name := certs[0].Subject.CommonName
	if len(certs[0].Subject.Organization) > 0 {
		name = certs[0].Subject.Organization[0]
	}
	return &PDFSigner{Certificate: certs[0], Chain: certs[1:], Key: key, Name: name}, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

func parsePrivateKeyPEM(b []byte) (crypto.Signer, error) {
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return nil, errors.New("pdf signing key: no private key in PEM")
		}
		var k any
		var err error
		switch blk.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(blk.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("pdf signing key: %w", err)
		}
		switch k := k.(type) {
		case *ecdsa.PrivateKey, *rsa.PrivateKey:
			return k.(crypto.Signer), nil
		case ed25519.PrivateKey:
			return nil, errors.New("pdf signing key: Ed25519 is not supported by PDF readers; use ECDSA P-256 or RSA")
		}
		return nil, errors.New("pdf signing key: unsupported key type")
	}
}

// oidDocumentSigning is id-kp-documentSigning (RFC 9336).
var oidDocumentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}

// DemoPDFSigner makes a throw-away CA and an issuing certificate under it (both ECDSA P-256, which
// signs fast and which PDF readers verify), for development and the demo. The CA's key is not
// returned: nothing more can be issued under it.
func DemoPDFSigner(organisation string, now time.Time) (*PDFSigner, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial := func() *big.Int {
		n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
		return n
	}
	ca := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Country: []string{"CN"}, Organization: []string{organisation}, CommonName: organisation + " Demo Root CA (not for production)"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(20, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, caKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber:       serial(),
		Subject:            pkix.Name{Country: []string{"CN"}, Organization: []string{organisation}, CommonName: organisation + " Certificate Signing"},
		NotBefore:          now.Add(-time.Hour),
		NotAfter:           now.AddDate(5, 0, 0),
		KeyUsage:           x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		UnknownExtKeyUsage: []asn1.ObjectIdentifier{oidDocumentSigning},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, key.Public(), caKey)
	if err != nil {
		return nil, err
	}
	leafCert, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return nil, err
	}
	return &PDFSigner{Certificate: leafCert, Chain: []*x509.Certificate{caCert}, Key: key, Name: organisation}, nil
}

// CertificatePEM is the issuing certificate followed by its chain, as SHANYU_PDF_CERT_FILE holds it.
func (s *PDFSigner) CertificatePEM() []byte {
	var b bytes.Buffer
	for _, c := range append([]*x509.Certificate{s.Certificate}, s.Chain...) {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// EnsurePDFSigner stores a demo PDF signer when none is stored yet. created says whether it did.
func EnsurePDFSigner(ctx context.Context, db pg.DB, secret []byte, organisation string, now time.Time) (fingerprint string, created bool, err error) {
	err = pg.WithTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE certificate_pdf_signers IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT fingerprint FROM certificate_pdf_signers WHERE active`).Scan(&fingerprint)
		if err == nil || !pg.IsNoRows(err) {
			return err
		}
		s, err := DemoPDFSigner(organisation, now)
		if err != nil {
			return err
		}
		if err := storePDFSigner(ctx, tx, secret, s); err != nil {
			return err
		}
		fingerprint, created = s.Fingerprint(), true
		return nil
	})
	return fingerprint, created, err
}

func storePDFSigner(ctx context.Context, tx pgx.Tx, secret []byte, s *PDFSigner) error {
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
	_, err = tx.Exec(ctx, `INSERT INTO certificate_pdf_signers (certificate_pem, chain_pem, private_key_enc, fingerprint, not_after)
		VALUES ($1, $2, $3, $4, $5)`, string(leaf), chain.String(), enc, fp, s.Certificate.NotAfter)
	if err != nil {
		return fmt.Errorf("store pdf signer: %w", err)
	}
	return nil
}

// StoredPDFSigner loads the active PDF signer from the database.
func StoredPDFSigner(ctx context.Context, db pg.DB, secret []byte) (*PDFSigner, error) {
	var leaf, chain, fp string
	var enc []byte
	err := db.QueryRow(ctx, `SELECT certificate_pem, chain_pem, private_key_enc, fingerprint FROM certificate_pdf_signers WHERE active`).
		Scan(&leaf, &chain, &enc, &fp)
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
	return newPDFSigner([]byte(leaf+chain), key)
}

// PDFSignerInfo describes the stored PDF signer for `shanyu keys list`.
type PDFSignerInfo struct {
	Fingerprint string
	Subject     string
	NotAfter    time.Time
	Active      bool
	CreatedAt   time.Time
}

// ListPDFSigners returns the stored PDF signers, newest first.
func ListPDFSigners(ctx context.Context, db pg.DB) ([]PDFSignerInfo, error) {
	rows, err := db.Query(ctx, `SELECT fingerprint, certificate_pem, not_after, active, created_at FROM certificate_pdf_signers ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (PDFSignerInfo, error) {
		var i PDFSignerInfo
		var certPEM string
		if err := r.Scan(&i.Fingerprint, &certPEM, &i.NotAfter, &i.Active, &i.CreatedAt); err != nil {
			return i, err
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
func Produce(ctx context.Context, r *Renderer, s *PDFSigner, d Document, signedAt time.Time) (Signed, error) {
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
