package certificates

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/pdfdoc"
	"shanyu/internal/pg"
)

// The PKI made by `shanyu keys init` when no certificate from a real CA is configured: one CA whose
// key is kept (sealed) so that it can issue a new PDF signing certificate at each rotation, the
// local TSA's certificate, and sign the CRL published at the URL each certificate names. The
// profiles are those that poppler/NSS, Adobe Acrobat and openssl accept (docs/certificates.md):
//
//	CA       basicConstraints CA:TRUE, pathlen 0 (critical); keyUsage keyCertSign, cRLSign (critical)
//	signing  keyUsage digitalSignature, nonRepudiation (critical); extKeyUsage emailProtection (NSS's
//	         "email signer", which poppler checks), documentSigning (RFC 9336), Adobe Authentic
//	         Documents; CRL distribution point; caIssuers
//	TSA      keyUsage digitalSignature, nonRepudiation; extKeyUsage timeStamping only, critical (RFC 3161 §2.3)

var (
	oidDocumentSigning  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36} // id-kp-documentSigning, RFC 9336
	oidAdobeAuthentic   = asn1.ObjectIdentifier{1, 2, 840, 113583, 1, 1, 5} // Adobe Authentic Documents Trust
	oidExtKeyUsage      = asn1.ObjectIdentifier{2, 5, 29, 37}               // extKeyUsage extension
	oidKPTimeStamping   = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}  // id-kp-timeStamping
	errNoCA             = errors.New("no CA is stored: run `shanyu keys init` (or configure SHANYU_PDF_CERT_FILE)")
	signingCertLifetime = 5  // years
	caLifetime          = 20 // years
)

// CA is a certification authority whose private key this service holds.
type CA struct {
	ID          int64
	Certificate *x509.Certificate
	Key         crypto.Signer
}

// Fingerprint is the SHA-256 of the CA certificate, in hex.
func (ca *CA) Fingerprint() string { return certFingerprint(ca.Certificate) }

func certFingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// pkiName is how a CA is named in its URLs: the start of its fingerprint, which does not change
// while the CA lives (a new CA gets new URLs, the old ones keep working).
func pkiName(fingerprint string) string { return fingerprint[:16] }

// CRLURL is where the CRL of the CA with that fingerprint is published.
func CRLURL(baseURL, caFingerprint string) string {
	return strings.TrimRight(baseURL, "/") + "/pki/crl/" + pkiName(caFingerprint) + ".crl"
}

// CACertURL is where the CA certificate is published (DER), as the caIssuers access method names it.
func CACertURL(baseURL, caFingerprint string) string {
	return strings.TrimRight(baseURL, "/") + "/pki/ca/" + pkiName(caFingerprint) + ".cer"
}

func randomSerial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n.Add(n, big.NewInt(1))
}

// NewCA makes a self-signed ECDSA P-256 CA.
func NewCA(organisation string, now time.Time) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{Country: []string{"CN"}, Organization: []string{organisation}, CommonName: organisation + " Root CA (development, not for production)"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(caLifetime, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Certificate: c, Key: key}, nil
}

// issue signs a leaf certificate under the CA; with a base URL it names the CRL and the CA's
// certificate URLs.
func (ca *CA) issue(tmpl *x509.Certificate, pub crypto.PublicKey, baseURL string) (*x509.Certificate, error) {
	if baseURL != "" {
		tmpl.CRLDistributionPoints = []string{CRLURL(baseURL, ca.Fingerprint())}
		tmpl.IssuingCertificateURL = []string{CACertURL(baseURL, ca.Fingerprint())}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Certificate, pub, ca.Key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// IssueDocumentSigner makes a new key and a document signing certificate for it.
func (ca *CA) IssueDocumentSigner(organisation, baseURL string, now time.Time) (*pdfdoc.PDFSigner, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leaf, err := ca.issue(&x509.Certificate{
		SerialNumber:       randomSerial(),
		Subject:            pkix.Name{Country: []string{"CN"}, Organization: []string{organisation}, CommonName: organisation + " Certificate Signing " + now.UTC().Format("2006-01-02")},
		NotBefore:          now.Add(-time.Hour),
		NotAfter:           now.AddDate(signingCertLifetime, 0, 0),
		KeyUsage:           x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		UnknownExtKeyUsage: []asn1.ObjectIdentifier{oidDocumentSigning, oidAdobeAuthentic},
	}, key.Public(), baseURL)
	if err != nil {
		return nil, err
	}
	return &pdfdoc.PDFSigner{Certificate: leaf, Chain: []*x509.Certificate{ca.Certificate}, Key: key, Name: organisation}, nil
}

// IssueTSA makes a new key and a time-stamping certificate for the local TSA.
func (ca *CA) IssueTSA(organisation, baseURL string, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{oidKPTimeStamping})
	if err != nil {
		return nil, nil, err
	}
	c, err := ca.issue(&x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{Country: []string{"CN"}, Organization: []string{organisation}, CommonName: organisation + " Time-Stamp Authority (development)"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(signingCertLifetime, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		// crypto/x509 writes extKeyUsage non-critical; RFC 3161 wants it critical, so it is given raw.
		ExtraExtensions: []pkix.Extension{{Id: oidExtKeyUsage, Critical: true, Value: eku}},
	}, key.Public(), baseURL)
	if err != nil {
		return nil, nil, err
	}
	return c, key, nil
}

// CRL signs a CRL listing the revoked entries, valid for a week.
func (ca *CA) CRL(revoked []x509.RevocationListEntry, now time.Time) ([]byte, error) {
	now = now.UTC().Truncate(time.Second)
	return x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(now.Unix()),
		ThisUpdate:                now,
		NextUpdate:                now.Add(crlLifetime),
		RevokedCertificateEntries: revoked,
	}, ca.Certificate, ca.Key)
}

// crlLifetime is how long a CRL is valid; it is made again well before (crlRefresh).
const (
	crlLifetime = 7 * 24 * time.Hour
	crlRefresh  = time.Hour
)

// DemoPDFSigner makes a throw-away CA and a signing certificate under it, for tests. The CA's key is
// not kept: nothing more can be issued under it.
func DemoPDFSigner(organisation string, now time.Time) (*pdfdoc.PDFSigner, error) {
	ca, err := NewCA(organisation, now)
	if err != nil {
		return nil, err
	}
	return ca.IssueDocumentSigner(organisation, "", now)
}

func lockPKI(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `LOCK TABLE certificate_pdf_signers IN SHARE ROW EXCLUSIVE MODE`)
	return err
}

func storeCA(ctx context.Context, tx pgx.Tx, secret []byte, ca *CA) error {
	der, err := x509.MarshalPKCS8PrivateKey(ca.Key)
	if err != nil {
		return err
	}
	fp := ca.Fingerprint()
	enc, err := seal(secret, der, []byte(fp))
	if err != nil {
		return err
	}
	return tx.QueryRow(ctx, `INSERT INTO certificate_cas (certificate_pem, private_key_enc, fingerprint) VALUES ($1, $2, $3) RETURNING id`,
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Certificate.Raw})), enc, fp).Scan(&ca.ID)
}

// StoredCA loads the newest stored CA with its key.
func StoredCA(ctx context.Context, db pg.DB, secret []byte) (*CA, error) {
	return loadCA(ctx, db, secret, `ORDER BY id DESC LIMIT 1`)
}

func loadCA(ctx context.Context, db pg.DB, secret []byte, where string, args ...any) (*CA, error) {
	var ca CA
	var certPEM, fp string
	var enc []byte
	err := db.QueryRow(ctx, `SELECT id, certificate_pem, private_key_enc, fingerprint FROM certificate_cas `+where, args...).Scan(&ca.ID, &certPEM, &enc, &fp)
	if pg.IsNoRows(err) {
		return nil, errNoCA
	}
	if err != nil {
		return nil, fmt.Errorf("load CA: %w", err)
	}
	b, _ := pem.Decode([]byte(certPEM))
	if b == nil {
		return nil, errors.New("CA: bad PEM")
	}
	if ca.Certificate, err = x509.ParseCertificate(b.Bytes); err != nil {
		return nil, fmt.Errorf("CA: %w", err)
	}
	der, err := unseal(secret, enc, []byte(fp))
	if err != nil {
		return nil, fmt.Errorf("CA %s: %w", fp[:12], err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("CA: %w", err)
	}
	var ok bool
	if ca.Key, ok = k.(crypto.Signer); !ok {
		return nil, errors.New("CA: key cannot sign")
	}
	return &ca, nil
}

// EnsurePDFSigner makes sure a PDF signing certificate issued by a stored CA is active: it creates
// the CA when there is none and issues the first signing certificate. A signer stored before the
// CA was kept (its CA key was thrown away, so it has no CRL) is replaced, and stays listed. created
// says whether anything was made; running it again changes nothing.
func EnsurePDFSigner(ctx context.Context, db pg.DB, secret []byte, organisation, baseURL string, now time.Time) (fingerprint string, created bool, err error) {
	err = pg.WithTx(ctx, db, func(tx pgx.Tx) error {
		if err := lockPKI(ctx, tx); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT fingerprint FROM certificate_pdf_signers WHERE active AND ca_id IS NOT NULL`).Scan(&fingerprint)
		if err == nil || !pg.IsNoRows(err) {
			return err
		}
		ca, err := StoredCA(ctx, tx, secret)
		if errors.Is(err, errNoCA) {
			if ca, err = NewCA(organisation, now); err == nil {
				err = storeCA(ctx, tx, secret, ca)
			}
		}
		if err != nil {
			return err
		}
		fingerprint, err = issueStoredSigner(ctx, tx, secret, ca, organisation, baseURL, now)
		created = err == nil
		return err
	})
	return fingerprint, created, err
}

// RotatePDFSigner issues a new PDF signing certificate (and key) under the stored CA and makes it the
// active one. The one before is neither revoked nor deleted: PDFs it signed carry their certificate
// chain and stay valid.
func RotatePDFSigner(ctx context.Context, db pg.DB, secret []byte, organisation, baseURL string, now time.Time) (string, error) {
	var fp string
	err := pg.WithTx(ctx, db, func(tx pgx.Tx) error {
		if err := lockPKI(ctx, tx); err != nil {
			return err
		}
		ca, err := StoredCA(ctx, tx, secret)
		if err != nil {
			return err
		}
		fp, err = issueStoredSigner(ctx, tx, secret, ca, organisation, baseURL, now)
		return err
	})
	return fp, err
}

func issueStoredSigner(ctx context.Context, tx pgx.Tx, secret []byte, ca *CA, organisation, baseURL string, now time.Time) (string, error) {
	s, err := ca.IssueDocumentSigner(organisation, baseURL, now)
	if err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, `UPDATE certificate_pdf_signers SET active = false WHERE active`); err != nil {
		return "", err
	}
	if err := storePDFSigner(ctx, tx, secret, s, ca.ID); err != nil {
		return "", err
	}
	return s.Fingerprint(), nil
}

// RevokePDFSigner puts a stored signing certificate on its CA's CRL (a leaked key, say): PDFs it
// signed no longer validate once verifiers fetch the new CRL. It does not make another active.
func RevokePDFSigner(ctx context.Context, db pg.DB, fingerprint string, now time.Time) error {
	tag, err := db.Exec(ctx, `UPDATE certificate_pdf_signers SET revoked_at = $2, active = false WHERE fingerprint = $1 AND ca_id IS NOT NULL AND revoked_at IS NULL`,
		fingerprint, now)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// crlCache keeps each CA's signed CRL for crlRefresh, so that a flood of fetches signs nothing.
type crlCache struct {
	mu   sync.Mutex
	byCA map[string]cachedCRL
}

type cachedCRL struct {
	der []byte
	at  time.Time
}

// CRL returns the current DER CRL of the stored CA named name (the start of its fingerprint, as in
// CRLURL), ErrNotFound for another name.
func (s *Service) CRL(ctx context.Context, name string) ([]byte, error) {
	if len(name) != 16 || strings.Trim(name, "0123456789abcdef") != "" {
		return nil, ErrNotFound
	}
	now := s.now()
	s.crls.mu.Lock()
	c, ok := s.crls.byCA[name]
	s.crls.mu.Unlock()
	if ok && now.Sub(c.at) < crlRefresh {
		return c.der, nil
	}
	der, err := makeCRL(ctx, s.db, s.secret, name, now)
	if err != nil {
		return nil, err
	}
	s.crls.mu.Lock()
	if s.crls.byCA == nil {
		s.crls.byCA = map[string]cachedCRL{}
	}
	s.crls.byCA[name] = cachedCRL{der: der, at: now}
	s.crls.mu.Unlock()
	return der, nil
}

func makeCRL(ctx context.Context, db pg.DB, secret []byte, name string, now time.Time) ([]byte, error) {
	ca, err := loadCA(ctx, db, secret, `WHERE left(fingerprint, 16) = $1`, name)
	if errors.Is(err, errNoCA) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, `SELECT certificate_pem, revoked_at FROM certificate_pdf_signers WHERE ca_id = $1 AND revoked_at IS NOT NULL ORDER BY id`, ca.ID)
	if err != nil {
		return nil, err
	}
	revoked, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (x509.RevocationListEntry, error) {
		var certPEM string
		var at time.Time
		if err := r.Scan(&certPEM, &at); err != nil {
			return x509.RevocationListEntry{}, err
		}
		b, _ := pem.Decode([]byte(certPEM))
		if b == nil {
			return x509.RevocationListEntry{}, errors.New("revoked signer: bad PEM")
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return x509.RevocationListEntry{}, err
		}
		return x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: at.UTC()}, nil
	})
	if err != nil {
		return nil, err
	}
	return ca.CRL(revoked, now)
}

// CACertificate returns the DER certificate of the stored CA named name (as in CACertURL).
func (s *Service) CACertificate(ctx context.Context, name string) ([]byte, error) {
	if len(name) != 16 || strings.Trim(name, "0123456789abcdef") != "" {
		return nil, ErrNotFound
	}
	var certPEM string
	err := s.public.QueryRow(ctx, `SELECT certificate_pem FROM certificate_cas WHERE left(fingerprint, 16) = $1`, name).Scan(&certPEM)
	if pg.IsNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode([]byte(certPEM))
	if b == nil {
		return nil, errors.New("CA: bad PEM")
	}
	return b.Bytes, nil
}
