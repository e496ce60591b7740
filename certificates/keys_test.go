package certificates

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"shanyu/internal/pdfdoc"
	"shanyu/internal/pgtest"
)

var testSecret = bytes.Repeat([]byte{0x42}, 32)

func TestEnsureSigningKeyIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := ActiveSigner(ctx, db, testSecret); !errors.Is(err, ErrNoActiveKey) {
		t.Fatalf("before init: %v", err)
	}
	first, created, err := EnsureSigningKey(ctx, db, testSecret)
	if err != nil || !created {
		t.Fatalf("first: created=%v err=%v", created, err)
	}
	again, created, err := EnsureSigningKey(ctx, db, testSecret)
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("second: %+v created=%v err=%v", again, created, err)
	}
	if first.ID != KeyID(first.Public) || len(first.ID) != kidLength {
		t.Fatalf("kid %q is not the key's thumbprint", first.ID)
	}
	keys, err := ListKeys(ctx, db)
	if err != nil || len(keys) != 1 || keys[0].Status != KeyActive {
		t.Fatalf("keys = %+v, %v", keys, err)
	}
}

func TestRotationKeepsOldTokensVerifiable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, _, err := EnsureSigningKey(ctx, db, testSecret); err != nil {
		t.Fatal(err)
	}
	old, err := ActiveSigner(ctx, db, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	oldToken, err := old.SignToken(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := RotateKey(ctx, db, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := ActiveSigner(ctx, db, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if cur.KeyID() == old.KeyID() || cur.KeyID() != rotated.ID {
		t.Fatalf("after rotation the active key is %s (old %s, rotated %s)", cur.KeyID(), old.KeyID(), rotated.ID)
	}
	jwks, err := JWKS(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(jwks.Keys) != 2 {
		t.Fatalf("JWKS has %d keys, want the active and the retired", len(jwks.Keys))
	}
	for _, k := range jwks.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" || k.Alg != "EdDSA" || k.Use != "sig" || k.X == "" {
			t.Fatalf("JWK %+v", k)
		}
	}
	claims, err := VerifyToken(oldToken, jwks)
	if err != nil || claims.KeyID != old.KeyID() {
		t.Fatalf("old token after rotation: %+v, %v", claims, err)
	}
	newToken, _ := cur.SignToken(testClaims())
	if c, err := VerifyToken(newToken, jwks); err != nil || c.KeyID != cur.KeyID() {
		t.Fatalf("new token: %+v, %v", c, err)
	}
	keys, _ := ListKeys(ctx, db)
	statuses := map[string]string{}
	for _, k := range keys {
		statuses[k.ID] = k.Status
		if (k.Status == KeyRetired) == k.RetiredAt.IsZero() {
			t.Errorf("key %s: status %s, retired at %v", k.ID, k.Status, k.RetiredAt)
		}
	}
	if statuses[old.KeyID()] != KeyRetired || statuses[cur.KeyID()] != KeyActive {
		t.Fatalf("statuses = %v", statuses)
	}
}

func TestConcurrentRotationsLeaveOneActiveKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := RotateKey(ctx, db, testSecret)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	keys, err := ListKeys(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	active := 0
	for _, k := range keys {
		if k.Status == KeyActive {
			active++
		}
	}
	if len(keys) != 4 || active != 1 {
		t.Fatalf("%d keys, %d active", len(keys), active)
	}
}

func TestPrivateKeysAreEncryptedAtRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, _, err := EnsureSigningKey(ctx, db, testSecret); err != nil {
		t.Fatal(err)
	}
	s, err := ActiveSigner(ctx, db, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	var enc []byte
	if err := db.QueryRow(ctx, `SELECT private_key_enc FROM certificate_signing_keys`).Scan(&enc); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(enc, s.key.Seed()) || bytes.Contains(enc, s.key.Seed()[:8]) {
		t.Fatal("the private key is stored in clear")
	}
	if _, err := ActiveSigner(ctx, db, bytes.Repeat([]byte{0x43}, 32)); err == nil {
		t.Fatal("a wrong SHANYU_SECRET_KEY opened the key")
	}
	// A sealed key moved onto another row does not open: the key id is bound in.
	if _, err := unseal(testSecret, enc, []byte("another-kid")); err == nil {
		t.Fatal("sealed key opened under another key id")
	}
}

func TestStoredPDFSigner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := StoredPDFSigner(ctx, db, testSecret); !errors.Is(err, ErrNoPDFSigner) {
		t.Fatalf("before init: %v", err)
	}
	fp, created, err := EnsurePDFSigner(ctx, db, testSecret, "Shanyu Demo", "http://127.0.0.1:1", time.Now())
	if err != nil || !created {
		t.Fatalf("created=%v err=%v", created, err)
	}
	fp2, created, err := EnsurePDFSigner(ctx, db, testSecret, "Shanyu Demo", "http://127.0.0.1:1", time.Now())
	if err != nil || created || fp2 != fp {
		t.Fatalf("second: %s created=%v err=%v", fp2, created, err)
	}
	s, err := StoredPDFSigner(ctx, db, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if s.Fingerprint() != fp || len(s.Chain) != 1 || !s.Chain[0].IsCA {
		t.Fatalf("loaded signer %s with chain %d", s.Fingerprint(), len(s.Chain))
	}
	if err := s.Certificate.CheckSignatureFrom(s.Chain[0]); err != nil {
		t.Fatalf("issuing certificate not signed by the CA: %v", err)
	}
	signed, err := Produce(ctx, testRenderer(t), s, testDocument(t, docOptions{}), signedAt)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := tool(t, "pdfsig", writeTemp(t, signed.PDF))
	if !strings.Contains(out, "Signature is Valid") || !strings.Contains(out, "Shanyu Demo Certificate Signing") {
		t.Fatalf("pdfsig:\n%s", out)
	}
	list, err := ListPDFSigners(ctx, db)
	if err != nil || len(list) != 1 || !list[0].Active {
		t.Fatalf("ListPDFSigners = %+v, %v", list, err)
	}
}

func TestPDFSignerFromFiles(t *testing.T) {
	t.Parallel()
	demo, err := DemoPDFSigner("Files Centre", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	der, _ := x509.MarshalPKCS8PrivateKey(demo.Key)
	_ = os.WriteFile(certFile, demo.CertificatePEM(), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	env := map[string]string{"SHANYU_PDF_CERT_FILE": certFile, "SHANYU_PDF_KEY_FILE": keyFile}
	s, err := PDFSignerFrom(context.Background(), env["SHANYU_PDF_CERT_FILE"], env["SHANYU_PDF_KEY_FILE"], nil, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if s.Fingerprint() != demo.Fingerprint() || len(s.Chain) != 1 {
		t.Fatalf("loaded %s with chain %d", s.Fingerprint(), len(s.Chain))
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherDER, _ := x509.MarshalECPrivateKey(other)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: otherDER}), 0o600)
	if _, err := pdfdoc.LoadPDFSignerFiles(certFile, keyFile); err == nil {
		t.Fatal("a key that does not match the certificate was accepted")
	}
	delete(env, "SHANYU_PDF_KEY_FILE")
	if _, err := PDFSignerFrom(context.Background(), env["SHANYU_PDF_CERT_FILE"], env["SHANYU_PDF_KEY_FILE"], nil, testSecret); err == nil {
		t.Fatal("a certificate file without a key file was accepted")
	}
}
