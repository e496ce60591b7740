package certificates

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/pdf"
	"github.com/digitorus/pkcs7"

	"shanyu/accounts"
	"shanyu/certificates/tsa"
	"shanyu/internal/jobs"
	"shanyu/internal/pdfdoc"
	"shanyu/internal/pgtest"
)

// testPKI is a CA with a signing certificate under it and a local TSA (an httptest server) whose
// certificate the same CA issued: what `shanyu keys init` and `shanyu tsa serve` set up.
type testPKI struct {
	ca     *CA
	signer *pdfdoc.PDFSigner // timestamped, with the CA's CRL in its DSS
	tsaURL string
}

func newTestPKI(tb testing.TB) testPKI {
	tb.Helper()
	now := time.Now()
	ca, err := NewCA("Shanyu Test PKI", now)
	if err != nil {
		tb.Fatal(err)
	}
	const base = "http://127.0.0.1:8080"
	s, err := ca.IssueDocumentSigner("Shanyu Test Centre", base, now)
	if err != nil {
		tb.Fatal(err)
	}
	tsaCert, tsaKey, err := ca.IssueTSA("Shanyu Test PKI", base, now)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(&tsa.Server{Certificate: tsaCert, Key: tsaKey})
	tb.Cleanup(srv.Close)
	crl, err := ca.CRL(nil, now)
	if err != nil {
		tb.Fatal(err)
	}
	s.Revocation = func(context.Context) ([][]byte, error) { return [][]byte{crl}, nil }
	return testPKI{ca: ca, signer: s.WithTSA(pdfdoc.NewTSAClient(srv.URL)), tsaURL: srv.URL}
}

func writePEM(tb testing.TB, dir, name string, certs ...*x509.Certificate) string {
	tb.Helper()
	var b bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// signatureCMS cuts the CMS out of a signed PDF, where its /ByteRange leaves a gap for it.
func signatureCMS(tb testing.TB, file []byte) *pkcs7.PKCS7 {
	tb.Helper()
	m := regexp.MustCompile(`/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`).FindAllSubmatch(file, -1)
	if len(m) == 0 {
		tb.Fatal("no /ByteRange in the PDF")
	}
	last := m[len(m)-1]
	start, _ := strconv.Atoi(string(last[2]))
	end, _ := strconv.Atoi(string(last[3]))
	raw, err := hex.DecodeString(strings.Trim(string(file[start:end]), "<>"))
	if err != nil {
		tb.Fatal(err)
	}
	var v asn1.RawValue
	if _, err := asn1.Unmarshal(raw, &v); err != nil { // the padding after the CMS is zeros
		tb.Fatal(err)
	}
	p7, err := pkcs7.Parse(v.FullBytes)
	if err != nil {
		tb.Fatal(err)
	}
	return p7
}

var oidSignatureTimeStampToken = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}

// TestPAdESSignatureCheckedByPopplerNSSAndOpenSSL checks a timestamped certificate PDF with tools
// nobody here wrote: pdfsig names ETSI.CAdES.detached and, with only the root CA trusted in an NSS
// database, says the certificate is trusted; certutil approves the signing certificate as an email
// signer (the usage poppler asks NSS for); openssl accepts the signature timestamp token against the
// root and refuses it for other data; the DSS holds the chain, the TSA's certificate and a CRL
// signed by the CA; qpdf finds the file sound.
func TestPAdESSignatureCheckedByPopplerNSSAndOpenSSL(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	un, err := testRenderer(t).Render(context.Background(), testDocument(t, docOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	signed, err := pki.signer.SignPDF(context.Background(), un.PDF, time.Now().UTC().Truncate(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(signed) > 120<<10 {
		t.Errorf("timestamped PDF is %d bytes, more than 120 KB", len(signed))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "certificate.pdf")
	if err := os.WriteFile(path, signed, 0o600); err != nil {
		t.Fatal(err)
	}
	root := writePEM(t, dir, "root.pem", pki.ca.Certificate)
	leaf := writePEM(t, dir, "leaf.pem", pki.signer.Certificate)

	// Untrusted, poppler still checks the signature and names its type.
	out, err := tool(t, "pdfsig", path)
	if err != nil || !strings.Contains(out, "Signature Type: ETSI.CAdES.detached") || !strings.Contains(out, "Signature is Valid") || !strings.Contains(out, "Total document signed") {
		t.Fatalf("pdfsig: %v\n%s", err, out)
	}
	if strings.Contains(out, "Certificate is Trusted") {
		t.Fatalf("pdfsig trusts the certificate before the root is in its database:\n%s", out)
	}

	nss := "sql:" + filepath.Join(dir, "nss")
	if err := os.Mkdir(filepath.Join(dir, "nss"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-N", "-d", nss, "--empty-password"},
		{"-A", "-d", nss, "-n", "shanyu-root", "-t", "C,C,C", "-i", root},
		{"-A", "-d", nss, "-n", "shanyu-signer", "-t", ",,", "-i", leaf},
	} {
		if out, err := tool(t, "certutil", args...); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	if out, err := tool(t, "certutil", "-V", "-u", "S", "-d", nss, "-n", "shanyu-signer"); err != nil || !strings.Contains(out, "certificate is valid") {
		t.Fatalf("certutil -V -u S: %v\n%s", err, out)
	}
	out, err = tool(t, "pdfsig", "-nssdir", nss, path)
	if err != nil || !strings.Contains(out, "Certificate is Trusted") || !strings.Contains(out, "Signature is Valid") {
		t.Fatalf("pdfsig with the root trusted: %v\n%s", err, out)
	}

	// The signature timestamp token (RFC 3161) is over the signature value (ETSI EN 319 122-1 §5.3).
	p7 := signatureCMS(t, signed)
	var token []byte
	for _, a := range p7.Signers[0].UnauthenticatedAttributes {
		if a.Type.Equal(oidSignatureTimeStampToken) {
			token = a.Value.Bytes
		}
	}
	if token == nil {
		t.Fatal("the CMS has no signature-time-stamp attribute")
	}
	tokenPath, sigPath, otherPath := filepath.Join(dir, "token.der"), filepath.Join(dir, "signature.bin"), filepath.Join(dir, "other.bin")
	for p, b := range map[string][]byte{tokenPath: token, sigPath: p7.Signers[0].EncryptedDigest, otherPath: []byte("another signature")} {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := tool(t, "openssl", "ts", "-verify", "-token_in", "-in", tokenPath, "-data", sigPath, "-CAfile", root); err != nil || !strings.Contains(out, "Verification: OK") {
		t.Fatalf("openssl ts -verify: %v\n%s", err, out)
	}
	if out, err := tool(t, "openssl", "ts", "-verify", "-token_in", "-in", tokenPath, "-data", otherPath, "-CAfile", root); err == nil {
		t.Fatalf("openssl ts -verify accepts the token for other data:\n%s", out)
	}

	// The DSS (B-LT): the chain, the TSA's certificate, and the CA's CRL.
	r, err := pdf.NewReader(bytes.NewReader(signed), int64(len(signed)))
	if err != nil {
		t.Fatal(err)
	}
	dss := r.Trailer().Key("Root").Key("DSS")
	var certs []*x509.Certificate
	for i := 0; i < dss.Key("Certs").Len(); i++ {
		b, err := readStream(dss.Key("Certs").Index(i))
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(b)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c)
	}
	hasTSA := false
	for _, c := range certs {
		hasTSA = hasTSA || strings.Contains(c.Subject.CommonName, "Time-Stamp")
	}
	if len(certs) != 3 || !certs[0].Equal(pki.signer.Certificate) || !certs[1].Equal(pki.ca.Certificate) || !hasTSA {
		t.Fatalf("DSS certificates: %d, TSA among them %v", len(certs), hasTSA)
	}
	if dss.Key("CRLs").Len() != 1 {
		t.Fatalf("DSS has %d CRLs", dss.Key("CRLs").Len())
	}
	b, err := readStream(dss.Key("CRLs").Index(0))
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(b)
	if err != nil || crl.CheckSignatureFrom(pki.ca.Certificate) != nil {
		t.Fatalf("DSS CRL: %v", err)
	}

	if out, err := tool(t, "qpdf", "--check", path); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
}

func readStream(v pdf.Value) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(v.Reader())
	return b.Bytes(), err
}

// TestPKIProfiles checks the certificates' extensions where a reader looks: the TSA's extended key
// usage is timeStamping alone and critical (openssl refuses any other), the signing certificate names
// the CRL and its issuer's URL, and the CA may only sign certificates and CRLs.
func TestPKIProfiles(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	leaf := pki.signer.Certificate
	if len(leaf.CRLDistributionPoints) != 1 || leaf.CRLDistributionPoints[0] != CRLURL("http://127.0.0.1:8080", pki.ca.Fingerprint()) {
		t.Errorf("CRL distribution points %v", leaf.CRLDistributionPoints)
	}
	if len(leaf.IssuingCertificateURL) != 1 || !strings.HasSuffix(leaf.IssuingCertificateURL[0], ".cer") {
		t.Errorf("caIssuers %v", leaf.IssuingCertificateURL)
	}
	if leaf.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment || len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageEmailProtection {
		t.Errorf("signing certificate key usage %v, extended %v", leaf.KeyUsage, leaf.ExtKeyUsage)
	}
	if ca := pki.ca.Certificate; !ca.IsCA || !ca.MaxPathLenZero || ca.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("CA: IsCA %v, key usage %v", ca.IsCA, ca.KeyUsage)
	}
	tsaCert, _, err := pki.ca.IssueTSA("x", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	critical := false
	for _, e := range tsaCert.Extensions {
		if e.Id.Equal(oidExtKeyUsage) {
			critical = e.Critical
		}
	}
	if !critical || len(tsaCert.ExtKeyUsage) != 1 || tsaCert.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping {
		t.Errorf("TSA extended key usage %v, critical %v", tsaCert.ExtKeyUsage, critical)
	}
}

// TestRotationKeepsOldPDFsValid: after RotatePDFSigner, new PDFs are signed by a new certificate of
// the same CA and a PDF signed before still validates as trusted in poppler/NSS; the CRL the service
// publishes is signed by the CA and lists a signing certificate once it is revoked, and only then.
func TestRotationKeepsOldPDFsValid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	const base = "http://127.0.0.1:1"
	if _, _, err := EnsurePDFSigner(ctx, db, testSecret, "Shanyu Rotation", base, time.Now()); err != nil {
		t.Fatal(err)
	}
	sign := func() (*pdfdoc.PDFSigner, string) {
		t.Helper()
		s, err := StoredPDFSigner(ctx, db, testSecret)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Produce(ctx, testRenderer(t), s, testDocument(t, docOptions{}), time.Now().UTC().Truncate(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return s, writeTemp(t, out.PDF)
	}
	before, oldPDF := sign()
	fp, err := RotatePDFSigner(ctx, db, testSecret, "Shanyu Rotation", base, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	after, newPDF := sign()
	if fp == before.Fingerprint() || after.Fingerprint() != fp || !after.Chain[0].Equal(before.Chain[0]) {
		t.Fatalf("rotation: %s → %s (active %s), same CA %v", before.Fingerprint(), fp, after.Fingerprint(), after.Chain[0].Equal(before.Chain[0]))
	}
	dir := t.TempDir()
	nss := "sql:" + filepath.Join(dir, "nss")
	if err := os.Mkdir(filepath.Join(dir, "nss"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-N", "-d", nss, "--empty-password"}, {"-A", "-d", nss, "-n", "root", "-t", "C,C,C", "-i", writePEM(t, dir, "root.pem", before.Chain[0])}} {
		if out, err := tool(t, "certutil", args...); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	for name, p := range map[string]string{"before rotation": oldPDF, "after rotation": newPDF} {
		if out, _ := tool(t, "pdfsig", "-nssdir", nss, p); !strings.Contains(out, "Signature is Valid") || !strings.Contains(out, "Certificate is Trusted") {
			t.Errorf("PDF signed %s:\n%s", name, out)
		}
	}

	acc, err := accounts.New(db, testSecret, accounts.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	q, err := jobs.NewInserter(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := New(db, Config{BaseURL: base, Secret: testSecret, Hours: &fakeHours{}, Directory: acc, Notices: accounts.NewNotices(q)})
	ca, err := StoredCA(ctx, db, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	name := ca.Fingerprint()[:16]
	crlOf := func(at time.Time) *x509.RevocationList {
		t.Helper()
		der, err := makeCRL(ctx, db, testSecret, name, at)
		if err != nil {
			t.Fatal(err)
		}
		crl, err := x509.ParseRevocationList(der)
		if err != nil || crl.CheckSignatureFrom(ca.Certificate) != nil {
			t.Fatalf("CRL: %v", err)
		}
		return crl
	}
	if der, err := svc.CRL(ctx, name); err != nil || len(der) == 0 {
		t.Fatalf("service CRL: %v", err)
	}
	if _, err := svc.CRL(ctx, "0000000000000000"); !errors.Is(err, ErrNotFound) {
		t.Errorf("CRL of another CA: %v", err)
	}
	if n := len(crlOf(time.Now()).RevokedCertificateEntries); n != 0 {
		t.Fatalf("CRL lists %d before any revocation", n)
	}
	if err := RevokePDFSigner(ctx, db, before.Fingerprint(), time.Now()); err != nil {
		t.Fatal(err)
	}
	crl := crlOf(time.Now().Add(time.Second))
	if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(before.Certificate.SerialNumber) != 0 {
		t.Fatalf("CRL after revoking the old certificate: %+v", crl.RevokedCertificateEntries)
	}
}
