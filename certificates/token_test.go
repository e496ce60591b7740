package certificates

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestThumbprintMatchesRFC8037(t *testing.T) {
	t.Parallel()
	// RFC 8037 Appendix A.2 and A.3.
	x, _ := b64.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if got := Thumbprint(ed25519.PublicKey(x)); got != "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" {
		t.Fatalf("Thumbprint = %s", got)
	}
	if KeyID(ed25519.PublicKey(x)) != "kPrK_qmxVWaY" {
		t.Fatalf("KeyID = %s", KeyID(ed25519.PublicKey(x)))
	}
}

func testClaims() OfflineClaims {
	return OfflineClaims{
		Number: "S000033000001254001234", MaskedName: "王晓雯", Occupation: "4-10-01-03", Level: 4,
		IssuedOn: time.Date(2025, 6, 18, 0, 0, 0, 0, time.UTC), ExpiresOn: time.Date(2028, 6, 17, 0, 0, 0, 0, time.UTC),
	}
}

func TestTokenVerifiesWithTheJWKS(t *testing.T) {
	t.Parallel()
	tok, err := testKey.SignToken(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	got, err := VerifyToken(tok, JWKSet{Keys: []JWK{testKey.PublicJWK()}})
	if err != nil {
		t.Fatal(err)
	}
	want := testClaims()
	want.MaskedName = "王*"
	want.KeyID = testKey.KeyID()
	if got != want {
		t.Fatalf("claims = %+v\nwant %+v", got, want)
	}
	// The full name never leaves: it is masked inside the token.
	payload, _ := b64.DecodeString(strings.Split(tok, ".")[1])
	if strings.Contains(string(payload), "晓雯") {
		t.Fatalf("payload carries the full name: %s", payload)
	}
}

func TestTamperedTokenFails(t *testing.T) {
	t.Parallel()
	tok, err := testKey.SignToken(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	jwks := JWKSet{Keys: []JWK{testKey.PublicJWK()}}
	parts := strings.Split(tok, ".")
	var claims map[string]any
	raw, _ := b64.DecodeString(parts[1])
	_ = json.Unmarshal(raw, &claims)
	claims["l"] = 1 // promote the holder to level 1
	forged, _ := json.Marshal(claims)
	cases := map[string]string{
		"changed payload":    parts[0] + "." + b64.EncodeToString(forged) + "." + parts[2],
		"flipped sig bit":    parts[0] + "." + parts[1] + "." + flipChar(parts[2]),
		"alg none":           b64.EncodeToString([]byte(`{"alg":"none","kid":"`+testKey.KeyID()+`"}`)) + "." + parts[1] + ".",
		"truncated":          parts[0] + "." + parts[1],
		"signature moved":    parts[0] + "." + parts[1] + "." + parts[2][:40],
		"critical extension": b64.EncodeToString([]byte(`{"alg":"EdDSA","kid":"`+testKey.KeyID()+`","crit":["exp"]}`)) + "." + parts[1] + "." + parts[2],
	}
	for name, bad := range cases {
		if _, err := VerifyToken(bad, jwks); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("%s: err = %v, want ErrTokenInvalid", name, err)
		}
	}
}

func flipChar(s string) string {
	b := []byte(s)
	if b[10] == 'A' {
		b[10] = 'B'
	} else {
		b[10] = 'A'
	}
	return string(b)
}

func TestTokenFromUnknownKeyFails(t *testing.T) {
	t.Parallel()
	_, other, _ := ed25519.GenerateKey(nil)
	tok, err := NewSigner(other).SignToken(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyToken(tok, JWKSet{Keys: []JWK{testKey.PublicJWK()}}); !errors.Is(err, ErrTokenUnknownKey) {
		t.Fatalf("err = %v, want ErrTokenUnknownKey", err)
	}
	// A key published under the right kid but with other bytes must not verify either.
	impostor := testKey.PublicJWK()
	impostor.X = NewSigner(other).PublicJWK().X
	good, _ := testKey.SignToken(testClaims())
	if _, err := VerifyToken(good, JWKSet{Keys: []JWK{impostor}}); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("wrong key under the right kid: err = %v", err)
	}
}

func TestQRLinkRoundTrip(t *testing.T) {
	t.Parallel()
	code, _ := NewCode()
	tok, _ := testKey.SignToken(testClaims())
	link := QRLink("https://shanyu.example.cn/", code, tok)
	if !strings.HasPrefix(link, "https://shanyu.example.cn/v/"+code+"#") {
		t.Fatalf("link = %s", link)
	}
	c, tk, ok := SplitQRLink(link)
	if !ok || c != code || tk != tok {
		t.Fatalf("SplitQRLink = %q %q %v", c, tk, ok)
	}
}
