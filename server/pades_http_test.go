package server_test

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/app/demo"
	"shanyu/certificates"
	"shanyu/certificates/tsa"
	"shanyu/internal/config"
	"shanyu/internal/servertest"
)

// seedDemoWithTSA seeds the demo with PDF signatures timestamped by a local TSA whose certificate the
// demo CA issued, as `make run` does with `shanyu tsa serve`.
func seedDemoWithTSA(t *testing.T) func(*pgxpool.Pool) error {
	return func(pool *pgxpool.Pool) error {
		ctx := context.Background()
		cfg, err := config.Parse(func(string) string { return "" })
		if err != nil {
			return err
		}
		if _, _, err := certificates.EnsurePDFSigner(ctx, pool, cfg.SecretKey, "Shanyu Demo Certificate Authority", cfg.BaseURL, time.Now()); err != nil {
			return err
		}
		ca, err := certificates.StoredCA(ctx, pool, cfg.SecretKey)
		if err != nil {
			return err
		}
		cert, key, err := ca.IssueTSA("Shanyu Demo Certificate Authority", cfg.BaseURL, time.Now())
		if err != nil {
			return err
		}
		ts := httptest.NewServer(&tsa.Server{Certificate: cert, Key: key})
		t.Cleanup(ts.Close)
		cfg.TSAURL = ts.URL
		return demo.Seed(ctx, cfg, pool, io.Discard)
	}
}

func pemFile(t *testing.T, dir, name string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// appendUpdate appends a real incremental update (a new object, an xref section and a trailer
// pointing back at the previous one), as an editor saving "changes" to a signed PDF would.
func appendUpdate(t *testing.T, file []byte) []byte {
	t.Helper()
	last := func(re string) string {
		m := regexp.MustCompile(re).FindAllSubmatch(file, -1)
		if len(m) == 0 {
			t.Fatalf("no %s in the PDF", re)
		}
		return string(m[len(m)-1][1])
	}
	prev, root := last(`startxref\s+(\d+)`), last(`/Root\s+(\d+\s+\d+\s+R)`)
	size, _ := strconv.Atoi(last(`/Size\s+(\d+)`))
	out := append([]byte(nil), file...)
	off := len(out) + 1
	out = fmt.Appendf(out, "\n%d 0 obj\n<< /Producer (changed after signing) >>\nendobj\n", size)
	xref := len(out)
	out = fmt.Appendf(out, "xref\n%d 1\n%010d 00000 n \ntrailer\n<< /Size %d /Root %s /Info %d 0 R /Prev %s >>\nstartxref\n%d\n%%%%EOF\n",
		size, off, size+1, root, size, prev, xref)
	return out
}

// TestPAdESCertificateFromOutside takes a demo certificate's PDF as a stranger would and checks it
// with tools nobody here wrote: pdfsig names ETSI.CAdES.detached and, with only the root (fetched at
// the caIssuers URL its signing certificate names) in an NSS database, says "Certificate is Trusted";
// the CRL is served at the URL the certificate names and is signed by that root; openssl accepts the
// signature timestamp; an appended update is reported by the public check as changed after signing,
// a changed byte as unknown.
func TestPAdESCertificateFromOutside(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Setup: seedDemoWithTSA(t)})
	cg := mustLogin(t, srv, "caregiver")
	var items struct {
		Items []struct{ Number, Code string } `json:"items"`
	}
	if err := json.Unmarshal(cg.send("GET", "/api/v1/certificates?limit=10", nil).Body, &items); err != nil || len(items.Items) != 1 {
		t.Fatalf("caregiver's certificates: %v", err)
	}
	pdfRes := cg.send("GET", "/api/v1/certificates/"+items.Items[0].Number+"/pdf", nil)
	if pdfRes.Status != http.StatusOK {
		t.Fatalf("pdf: %d", pdfRes.Status)
	}
	file := pdfRes.Body
	if len(file) > 120<<10 {
		t.Errorf("timestamped certificate PDF is %d bytes, more than 120 KB", len(file))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "c.pdf")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	if out := runTool(t, "pdfsig", path); !strings.Contains(out, "Signature Type: ETSI.CAdES.detached") || !strings.Contains(out, "Signature is Valid") || !strings.Contains(out, "Total document signed") {
		t.Fatalf("pdfsig:\n%s", out)
	}

	// The CMS, cut out where /ByteRange leaves its gap.
	br := regexp.MustCompile(`/ByteRange\s*\[\s*\d+\s+(\d+)\s+(\d+)`).FindSubmatch(file)
	if br == nil {
		t.Fatal("no /ByteRange")
	}
	from, _ := strconv.Atoi(string(br[1]))
	to, _ := strconv.Atoi(string(br[2]))
	raw, err := hex.DecodeString(strings.Trim(string(file[from:to]), "<>"))
	if err != nil {
		t.Fatal(err)
	}
	var der asn1.RawValue
	if _, err := asn1.Unmarshal(raw, &der); err != nil {
		t.Fatal(err)
	}
	p7, err := pkcs7.Parse(der.FullBytes)
	if err != nil {
		t.Fatal(err)
	}
	signer := p7.GetOnlySigner()
	if signer == nil || len(signer.IssuingCertificateURL) != 1 || len(signer.CRLDistributionPoints) != 1 {
		t.Fatalf("signing certificate: %+v", signer)
	}
	anon := newClient(t, srv)
	fetch := func(u string) []byte {
		t.Helper()
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		r := anon.do("GET", pu.Path, nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d", pu.Path, r.Status)
		}
		return r.Body
	}
	rootDER := fetch(signer.IssuingCertificateURL[0])
	root, err := x509.ParseCertificate(rootDER)
	if err != nil || signer.CheckSignatureFrom(root) != nil {
		t.Fatalf("caIssuers certificate: %v", err)
	}
	crl, err := x509.ParseRevocationList(fetch(signer.CRLDistributionPoints[0]))
	if err != nil || crl.CheckSignatureFrom(root) != nil || !crl.NextUpdate.After(time.Now()) {
		t.Fatalf("CRL at the distribution point: %v", err)
	}

	nss := "sql:" + filepath.Join(dir, "nss")
	if err := os.Mkdir(filepath.Join(dir, "nss"), 0o700); err != nil {
		t.Fatal(err)
	}
	runTool(t, "certutil", "-N", "-d", nss, "--empty-password")
	runTool(t, "certutil", "-A", "-d", nss, "-n", "shanyu-root", "-t", "C,C,C", "-i", pemFile(t, dir, "root.pem", rootDER))
	if out := runTool(t, "pdfsig", "-nssdir", nss, path); !strings.Contains(out, "Certificate is Trusted") {
		t.Fatalf("pdfsig with the root trusted:\n%s", out)
	}

	var token []byte
	for _, a := range p7.Signers[0].UnauthenticatedAttributes {
		if a.Type.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}) {
			token = a.Value.Bytes
		}
	}
	tokenPath, sigPath := filepath.Join(dir, "token.der"), filepath.Join(dir, "sig.bin")
	if err := os.WriteFile(tokenPath, token, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sigPath, p7.Signers[0].EncryptedDigest, 0o600); err != nil {
		t.Fatal(err)
	}
	if out := runTool(t, "openssl", "ts", "-verify", "-token_in", "-in", tokenPath, "-data", sigPath, "-CAfile", filepath.Join(dir, "root.pem")); !strings.Contains(out, "Verification: OK") {
		t.Fatalf("openssl ts -verify:\n%s", out)
	}

	// Changed after signing: pdfsig still calls the signature valid, for the part it covers.
	appended := appendUpdate(t, file)
	appendedPath := filepath.Join(dir, "appended.pdf")
	if err := os.WriteFile(appendedPath, appended, 0o600); err != nil {
		t.Fatal(err)
	}
	if out := runTool(t, "pdfsig", appendedPath); !strings.Contains(out, "Not total document signed") {
		t.Fatalf("pdfsig on the appended file:\n%s", out)
	}
	if r := uploadPDF(t, anon, appended); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"file":"changed_after_signing"`) {
		t.Errorf("appended upload: %d %s", r.Status, r.Body)
	}
	if r := uploadPDF(t, anon, file); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"file":"issued"`) {
		t.Errorf("genuine upload: %d %s", r.Status, r.Body)
	}
	page := anon.multipart("/verify/pdf", nil, "file", "c.pdf", appended, nil)
	if !strings.Contains(string(page.Body), "文件在签名后被改动过") {
		t.Errorf("verification page for the appended file does not say it was changed after signing: %d", page.Status)
	}
	changed := append([]byte(nil), file...)
	changed[len(changed)/3] ^= 0x20
	if page := anon.multipart("/verify/pdf", nil, "file", "c.pdf", changed, nil); page.Status != http.StatusNotFound || !strings.Contains(string(page.Body), "未知文件") {
		t.Errorf("verification page for a changed byte: %d", page.Status)
	}
}
