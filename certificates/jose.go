package certificates

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/emmansun/gmsm/sm2"
)

// JWK is an Ed25519 public key as a JSON Web Key (RFC 8037).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y,omitempty"` // SM2 keys (kty EC, crv SM2)
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// JWKSet is what /.well-known/jwks.json serves: every public signing key, active or retired.
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

// Key returns the Ed25519 public key with the given id.
func (s JWKSet) Key(kid string) (ed25519.PublicKey, bool) {
	for _, k := range s.Keys {
		if k.Kid != kid || k.Kty != "OKP" || k.Crv != "Ed25519" || (k.Alg != "" && k.Alg != "EdDSA") || (k.Use != "" && k.Use != "sig") {
			continue
		}
		x, err := b64.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, false
		}
		return ed25519.PublicKey(x), true
	}
	return nil, false
}

// sm2Key returns the SM2 public key with the given id.
func (s JWKSet) sm2Key(kid string) (*ecdsa.PublicKey, bool) {
	for _, k := range s.Keys {
		if k.Kid != kid || k.Kty != "EC" || k.Crv != "SM2" || (k.Alg != "" && k.Alg != AlgSM2) {
			continue
		}
		x, err1 := b64.DecodeString(k.X)
		y, err2 := b64.DecodeString(k.Y)
		if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
			return nil, false
		}
		pub, err := sm2PublicKey(append(append([]byte{4}, x...), y...))
		return pub, err == nil
	}
	return nil, false
}

var b64 = base64.RawURLEncoding

// kidLength is how many characters of the RFC 7638 thumbprint make a key id. A whole thumbprint is 43
// characters, and every character counts in the QR code, which must stay readable when printed 35 mm
// wide; 72 bits tell a handful of keys apart, and the table's primary key refuses a collision.
const kidLength = 12

// Thumbprint is the RFC 7638 JWK thumbprint (SHA-256, base64url) of an Ed25519 public key.
func Thumbprint(pub ed25519.PublicKey) string {
	// The required members in lexicographic order, no white space (RFC 7638 §3, RFC 8037 §2).
	sum := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + b64.EncodeToString(pub) + `"}`))
	return b64.EncodeToString(sum[:])
}

// KeyID is the id of an Ed25519 public key: the start of its RFC 7638 thumbprint.
func KeyID(pub ed25519.PublicKey) string { return Thumbprint(pub)[:kidLength] }

func publicJWK(kid string, pub ed25519.PublicKey) JWK {
	return JWK{Kty: "OKP", Crv: "Ed25519", X: b64.EncodeToString(pub), Kid: kid, Alg: "EdDSA", Use: "sig"}
}

// Signer signs tokens and credentials with one key: Ed25519 (EdDSA), or SM2 for QR tokens only. It is
// safe for concurrent use.
type Signer struct {
	kid string
	alg string             // AlgEdDSA or AlgSM2
	key ed25519.PrivateKey // EdDSA
	sm  *sm2.PrivateKey    // SM2
}

// NewSigner wraps an Ed25519 private key; its id is derived from the public key.
func NewSigner(key ed25519.PrivateKey) *Signer {
	return &Signer{kid: KeyID(key.Public().(ed25519.PublicKey)), alg: AlgEdDSA, key: key}
}

// errSM2TokensOnly refuses SM2 for what JOSE verifiers must read (credentials, status lists).
var errSM2TokensOnly = errors.New("SM2 signs QR tokens only: credentials and status lists are EdDSA")

// KeyID is the id of the signer's key, written in every token's header.
func (s *Signer) KeyID() string { return s.kid }

// PublicJWK is the signer's public key as a JWK.
func (s *Signer) PublicJWK() JWK {
	if s.alg == AlgSM2 {
		return sm2JWK(s.kid, sm2PublicBytes(&s.sm.PublicKey))
	}
	return publicJWK(s.kid, s.key.Public().(ed25519.PublicKey))
}

// jwsHeader is the protected header. Fields are in a fixed order so that equal inputs give equal tokens.
type jwsHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ,omitempty"`
}

// sign returns a JWS compact serialisation of payload (RFC 7515) with alg EdDSA (RFC 8037).
func (s *Signer) sign(typ string, payload []byte) (string, error) {
	return s.signKid(typ, s.kid, payload)
}

// signKid is sign with kid written as given (a key URL, KeyURL) instead of the bare key id.
func (s *Signer) signKid(typ, kid string, payload []byte) (string, error) {
	if typ != "" && s.alg != AlgEdDSA {
		return "", errSM2TokensOnly
	}
	h, err := json.Marshal(jwsHeader{Alg: s.alg, Kid: kid, Typ: typ})
	if err != nil {
		return "", err
	}
	input := b64.EncodeToString(h) + "." + b64.EncodeToString(payload)
	sig, err := s.SignMessage([]byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// verifyJWS checks a JWS compact token signed with EdDSA by a key of set and returns its header and
// payload. Only "alg":"EdDSA" is accepted, whatever the header asks for, and no critical extension.
func verifyJWS(token string, set JWKSet) (jwsHeader, []byte, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return jwsHeader{}, nil, ErrTokenInvalid.Wrap(fmt.Errorf("%d parts", len(parts)))
	}
	rawHeader, err1 := b64.DecodeString(parts[0])
	payload, err2 := b64.DecodeString(parts[1])
	sig, err3 := b64.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return jwsHeader{}, nil, ErrTokenInvalid.Wrap(fmt.Errorf("not base64url"))
	}
	var h struct {
		jwsHeader
		Crit []string `json:"crit"`
	}
	dec := json.NewDecoder(bytes.NewReader(rawHeader))
	if err := dec.Decode(&h); err != nil {
		return jwsHeader{}, nil, ErrTokenInvalid.Wrap(fmt.Errorf("header: %w", err))
	}
	if (h.Alg != AlgEdDSA && h.Alg != AlgSM2) || len(h.Crit) > 0 {
		return jwsHeader{}, nil, ErrTokenInvalid.Wrap(fmt.Errorf("alg %q", h.Alg))
	}
	kid := h.Kid
	if i := strings.LastIndex(kid, "/keys/"); i >= 0 {
		// A key URL (KeyURL) names the key by its id in the last segment.
		kid = kid[i+len("/keys/"):]
	}
	input := []byte(parts[0] + "." + parts[1])
	if h.Alg == AlgSM2 {
		// SM2 only in QR tokens (no typ); the key must be an SM2 key of the set.
		pub, ok := set.sm2Key(kid)
		if !ok {
			return jwsHeader{}, nil, ErrTokenUnknownKey.Wrap(fmt.Errorf("kid %q", h.Kid))
		}
		if h.Typ != "" || !verifySM2(pub, input, sig) {
			return jwsHeader{}, nil, ErrTokenInvalid.Wrap(fmt.Errorf("bad signature"))
		}
		return h.jwsHeader, payload, nil
	}
	pub, ok := set.Key(kid)
	if !ok {
		return jwsHeader{}, nil, ErrTokenUnknownKey.Wrap(fmt.Errorf("kid %q", h.Kid))
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, input, sig) {
		return jwsHeader{}, nil, ErrTokenInvalid.Wrap(fmt.Errorf("bad signature"))
	}
	return h.jwsHeader, payload, nil
}
