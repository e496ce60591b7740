package certificates

import (
	"context"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/smx509"

	"shanyu/internal/pgtest"
)

// TestSM2TokenVerifiedByOpenSSL: with SHANYU_TOKEN_ALG=SM2 the service signs QR tokens with an SM2
// key (created on first use), publishes it in the JWKS, and verifies the token itself; openssl, which
// implements SM2 with SM3 (GB/T 32918.2, default user id 1234567812345678), accepts the signature
// over the JWS signing input with the published key, and refuses it over other bytes. Credentials
// stay EdDSA.
func TestSM2TokenVerifiedByOpenSSL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, _, err := EnsureSigningKey(ctx, db, testSecret); err != nil {
		t.Fatal(err)
	}
	key, created, err := EnsureTokenKey(ctx, db, testSecret, AlgSM2)
	if err != nil || !created || key.Algorithm != AlgSM2 {
		t.Fatalf("SM2 key: %+v %v %v", key, created, err)
	}
	s, err := TokenSigner(ctx, db, testSecret, AlgSM2)
	if err != nil || s.Algorithm() != AlgSM2 || s.KeyID() != key.ID {
		t.Fatalf("token signer: %v", err)
	}
	d := testDocument(t, docOptions{})
	token, err := s.SignToken(OfflineClaims{Number: d.Number, MaskedName: d.HolderName, Occupation: "4-10-01-03", Level: 4,
		IssuedOn: d.IssuedOn, ExpiresOn: d.ExpiresOn})
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := JWKS(ctx, db)
	if err != nil || len(jwks.Keys) != 2 {
		t.Fatalf("JWKS: %+v %v", jwks, err)
	}
	claims, err := VerifyToken(token, jwks)
	if err != nil || claims.Number != d.Number || claims.KeyID != key.ID {
		t.Fatalf("VerifyToken: %+v %v", claims, err)
	}
	if _, err := s.OpenBadgeCredential(BadgeInput{BaseURL: "https://x", Code: "c", Number: d.Number, IssuerName: "x", IssuedOn: d.IssuedOn, ExpiresOn: d.ExpiresOn}); err == nil {
		t.Error("an SM2 signer made a credential")
	}

	// openssl: the public key as PEM (SubjectPublicKeyInfo, id-ecPublicKey on the SM2 curve), the
	// signature as DER, the message as the JWS signing input.
	parts := strings.Split(token, ".")
	pub, ok := jwks.sm2Key(key.ID)
	if !ok {
		t.Fatal("SM2 key not in the JWKS")
	}
	spki, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := b64.DecodeString(parts[2])
	der, err := asn1.Marshal(ecSignature{R: new(big.Int).SetBytes(raw[:32]), S: new(big.Int).SetBytes(raw[32:])})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string][]byte{
		"pub.pem": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}),
		"sig.der": der, "input": []byte(parts[0] + "." + parts[1]), "other": []byte(parts[0] + "." + parts[1] + "x"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	verify := func(msg string) (string, error) {
		return tool(t, "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", filepath.Join(dir, "pub.pem"), "-rawin", "-digest", "sm3",
			"-pkeyopt", "distid:1234567812345678", "-in", filepath.Join(dir, msg), "-sigfile", filepath.Join(dir, "sig.der"))
	}
	if out, err := verify("input"); err != nil || !strings.Contains(out, "Signature Verified Successfully") {
		t.Fatalf("openssl pkeyutl -verify: %v\n%s", err, out)
	}
	if out, err := verify("other"); err == nil {
		t.Fatalf("openssl accepts the signature over other bytes:\n%s", out)
	}

	// Rotation rotates the SM2 token key too; the old one stays published.
	if _, err := RotateKey(ctx, db, testSecret); err != nil {
		t.Fatal(err)
	}
	after, err := TokenSigner(ctx, db, testSecret, AlgSM2)
	if err != nil || after.KeyID() == key.ID {
		t.Fatalf("after rotation: %v", err)
	}
	if jwks, _ = JWKS(ctx, db); len(jwks.Keys) != 4 {
		t.Fatalf("JWKS after rotation has %d keys", len(jwks.Keys))
	}
	if _, err := VerifyToken(token, jwks); err != nil {
		t.Fatalf("old SM2 token after rotation: %v", err)
	}
}
