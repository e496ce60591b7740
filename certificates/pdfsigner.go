package certificates

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/digitorus/pdf"
	"github.com/digitorus/timestamp"
	"github.com/jackc/pgx/v5"

	"shanyu/certificates/internal/pdfsign"
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
	// TSA, when set, timestamps every signature (PAdES B-T); without one signatures are B-B.
	TSA *TSAClient
	// Revocation, when set, gives the DER CRLs written with the chain into each signature's DSS
	// (B-LT); without it the DSS holds the certificates only.
	Revocation func(ctx context.Context) ([][]byte, error)

	fromFiles bool // loaded from SHANYU_PDF_CERT_FILE/SHANYU_PDF_KEY_FILE, not the database
}

// WithTSA returns a copy of s that timestamps its signatures with t.
func (s *PDFSigner) WithTSA(t *TSAClient) *PDFSigner {
	c := *s
	c.TSA = t
	return &c
}

// SignPDF signs a PDF inside: an incremental update with a PAdES baseline signature (SubFilter
// ETSI.CAdES.detached, a CMS with signing-certificate-v2) that certifies the document, so that any
// change afterwards invalidates it; with a TSA, an RFC 3161 signature timestamp in the CMS (B-T); and a
// Document Security Store with the chain, the TSA's certificates and the CRLs (B-LT material). signedAt
// is written as the claimed signing time (/M).
func (s *PDFSigner) SignPDF(ctx context.Context, in []byte, signedAt time.Time) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rd := bytes.NewReader(in)
	r, err := pdf.NewReader(rd, int64(len(in)))
	if err != nil {
		return nil, fmt.Errorf("sign pdf: read: %w", err)
	}
	chain := append([]*x509.Certificate{s.Certificate}, s.Chain...)
	dss := &pdfsign.DSS{}
	for _, c := range chain {
		dss.Certs = append(dss.Certs, c.Raw)
	}
	var tsa pdfsign.TSA
	if s.TSA != nil {
		info, err := s.TSA.info(ctx)
		if err != nil {
			return nil, fmt.Errorf("sign pdf: %w", err)
		}
		for _, c := range info.certs {
			if !slices.ContainsFunc(chain, c.Equal) {
				dss.Certs = append(dss.Certs, c.Raw)
			}
		}
		tsa = pdfsign.TSA{URL: s.TSA.URL, Client: s.TSA.HTTP, TokenSize: info.tokenSize + 256}
	}
	if s.Revocation != nil {
		crls, err := s.Revocation(ctx)
		if err != nil {
			return nil, fmt.Errorf("sign pdf: %w", err)
		}
		dss.CRLs = crls
	}
	var out bytes.Buffer
	out.Grow(len(in) + 16<<10)
	err = pdfsign.Sign(rd, &out, r, int64(len(in)), pdfsign.SignData{
		Signature: pdfsign.SignDataSignature{
			Info: pdfsign.SignDataSignatureInfo{
				Name:   s.Name,
				Reason: "Certificate issued by Shanyu",
				Date:   signedAt,
			},
			CertType:   pdfsign.CertificationSignature,
			DocMDPPerm: pdfsign.DoNotAllowAnyChangesPerms,
		},
		Signer:            s.Key,
		DigestAlgorithm:   crypto.SHA256,
		Certificate:       s.Certificate,
		CertificateChains: [][]*x509.Certificate{chain},
		SubFilter:         "ETSI.CAdES.detached",
		TSA:               tsa,
		DSS:               dss,
	})
	if err != nil {
		return nil, fmt.Errorf("sign pdf: %w", err)
	}
	return out.Bytes(), nil
}

// TSAClient asks an RFC 3161 Time-Stamp Authority (SHANYU_TSA_URL) for signature timestamps. It is
// safe for concurrent use.
type TSAClient struct {
	URL  string
	HTTP *http.Client

	mu     sync.Mutex
	probed *tsaInfo
}

type tsaInfo struct {
	certs     []*x509.Certificate // the TSA's certificate and chain, as its tokens carry them
	tokenSize int                 // bytes of a token, to reserve room in the signature
}

// NewTSAClient makes a client of the TSA at url, with a 10 s timeout per request.
func NewTSAClient(url string) *TSAClient {
	// Issuance signs with dozens of workers at once: keep that many connections to the TSA open
	// (the default keeps 2 idle per host, so most requests would open a new one).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &TSAClient{URL: url, HTTP: &http.Client{Timeout: 10 * time.Second, Transport: tr}}
}

// info learns, once, the TSA's certificates (for the DSS, which is written before the timestamp is
// asked for) and its token size, by asking for one timestamp.
func (t *TSAClient) info(ctx context.Context) (*tsaInfo, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.probed != nil {
		return t.probed, nil
	}
	ts, err := t.Timestamp(ctx, []byte("shanyu tsa probe"))
	if err != nil {
		return nil, err
	}
	t.probed = &tsaInfo{certs: ts.Certificates, tokenSize: len(ts.RawToken)}
	return t.probed, nil
}

// Timestamp asks the TSA to timestamp data (its SHA-256) and returns the parsed token.
func (t *TSAClient) Timestamp(ctx context.Context, data []byte) (*timestamp.Timestamp, error) {
	q, err := timestamp.CreateRequest(bytes.NewReader(data), &timestamp.RequestOptions{Hash: crypto.SHA256, Certificates: true})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(q))
	if err != nil {
		return nil, fmt.Errorf("tsa %s: %w", t.URL, err)
	}
	req.Header.Set("Content-Type", "application/timestamp-query")
	client := t.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("tsa %s: %w", t.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("tsa %s: %w", t.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("tsa %s: %s", t.URL, resp.Status)
	}
	ts, err := timestamp.ParseResponse(body)
	if err != nil {
		return nil, fmt.Errorf("tsa %s: %w", t.URL, err)
	}
	return ts, nil
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
		ps, err := LoadPDFSignerFiles(certFile, keyFile)
		if ps != nil {
			ps.fromFiles = true
		}
		return ps, err
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

// CertificatePEM is the issuing certificate followed by its chain, as SHANYU_PDF_CERT_FILE holds it.
func (s *PDFSigner) CertificatePEM() []byte {
	var b bytes.Buffer
	for _, c := range append([]*x509.Certificate{s.Certificate}, s.Chain...) {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

func storePDFSigner(ctx context.Context, tx pgx.Tx, secret []byte, s *PDFSigner, caID int64) error {
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
func StoredPDFSigner(ctx context.Context, db pg.DB, secret []byte) (*PDFSigner, error) {
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
	ps, err := newPDFSigner([]byte(leaf+chain), key)
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
