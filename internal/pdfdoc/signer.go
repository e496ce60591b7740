package pdfdoc

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

	"shanyu/internal/pdfdoc/pdfsign"
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

	// FromFiles marks a signer loaded from files (SHANYU_PDF_CERT_FILE/SHANYU_PDF_KEY_FILE), which
	// no rotation in the database replaces.
	FromFiles bool
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
	key, err := ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	return NewPDFSigner(certPEM, key)
}

// NewPDFSigner makes a signer of a PEM certificate chain (the issuing certificate first) and its key.
func NewPDFSigner(certPEM []byte, key crypto.Signer) (*PDFSigner, error) {
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

// ParsePrivateKeyPEM reads an ECDSA or RSA private key (PKCS #8, SEC 1 or PKCS #1 PEM).
func ParsePrivateKeyPEM(b []byte) (crypto.Signer, error) {
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

// KeyID is the start of the signing certificate's SHA-256 (certificates.KeySigner).
func (s *PDFSigner) KeyID() string { return s.Fingerprint()[:16] }

// Algorithm is ES256 for ECDSA P-256 keys, RS256 for RSA (certificates.KeySigner).
func (s *PDFSigner) Algorithm() string {
	switch k := s.Key.Public().(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return "ES256"
		}
		return "ES" + fmt.Sprint(k.Curve.Params().BitSize)
	case *rsa.PublicKey:
		return "RS256"
	}
	return ""
}

// SignMessage signs the SHA-256 of msg (certificates.KeySigner); the CMS of SignPDF signs its attributes the same
// way, through the same key.
func (s *PDFSigner) SignMessage(msg []byte) ([]byte, error) {
	sum := sha256.Sum256(msg)
	return s.Key.Sign(rand.Reader, sum[:], crypto.SHA256)
}
