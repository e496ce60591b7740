//lint:file-ignore SA1019 gmsm v0.15.5 keeps SM2 keys as crypto/ecdsa keys with big.Int X and Y, and has no constructor from bytes or a scalar to use instead (sm2PublicBytes, sm2PublicKey, sm2PrivateKey)

package certificates

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"math/big"

	"github.com/emmansun/gmsm/sm2"

	"shanyu/internal/pdfdoc"
)

// KeySigner is one private key with an id. Every signature this package makes goes through one: the
// PDF CMS (PDFSigner), and the compact JWS of QR tokens, status lists and credentials (Signer).
type KeySigner interface {
	// KeyID names the key: a JWK thumbprint prefix for token keys, the certificate's fingerprint
	// prefix for PDF keys.
	KeyID() string
	// Algorithm is the JOSE name: EdDSA (Ed25519), ES256 or RS256 (PDF keys), or SM2 (SM2 signature
	// with SM3, GB/T 32918.2 and GB/T 32905, for QR tokens only: JOSE and PDF readers have no SM2).
	Algorithm() string
	// SignMessage signs msg as the algorithm defines, hashing inside (EdDSA: none; ES256: SHA-256;
	// SM2: SM3 over Z_A ‖ msg with the default user id 1234567812345678). ECDSA and SM2 signatures
	// are r ‖ s, 32 bytes each, as JWS writes them.
	SignMessage(msg []byte) ([]byte, error)
}

// Token algorithms (SHANYU_TOKEN_ALG).
const (
	AlgEdDSA = "EdDSA"
	AlgSM2   = "SM2"
)

// NewSM2Signer wraps an SM2 private key, for QR tokens; its id is derived from the public key.
func NewSM2Signer(key *sm2.PrivateKey) *Signer {
	return &Signer{kid: sm2KeyID(sm2PublicBytes(&key.PublicKey)), alg: AlgSM2, sm: key}
}

// sm2PublicBytes is the uncompressed point (0x04 ‖ x ‖ y), as stored.
func sm2PublicBytes(pub *ecdsa.PublicKey) []byte {
	b := make([]byte, 65)
	b[0] = 4
	pub.X.FillBytes(b[1:33])
	pub.Y.FillBytes(b[33:])
	return b
}

func sm2PublicKey(b []byte) (*ecdsa.PublicKey, error) {
	if len(b) != 65 || b[0] != 4 {
		return nil, errors.New("sm2 public key: not an uncompressed point")
	}
	pub := &ecdsa.PublicKey{Curve: sm2.P256(), X: new(big.Int).SetBytes(b[1:33]), Y: new(big.Int).SetBytes(b[33:])}
	if !pub.Curve.IsOnCurve(pub.X, pub.Y) {
		return nil, errors.New("sm2 public key: not on the curve")
	}
	return pub, nil
}

// sm2PrivateKey rebuilds a key from its scalar.
func sm2PrivateKey(d []byte) (*sm2.PrivateKey, error) {
	if len(d) != 32 {
		return nil, errors.New("sm2 private key: bad length")
	}
	k := new(sm2.PrivateKey)
	k.Curve = sm2.P256()
	k.D = new(big.Int).SetBytes(d)
	k.X, k.Y = k.Curve.ScalarBaseMult(d)
	return k, nil
}

func sm2JWK(kid string, pub []byte) JWK {
	return JWK{Kty: "EC", Crv: "SM2", X: b64.EncodeToString(pub[1:33]), Y: b64.EncodeToString(pub[33:]), Kid: kid, Alg: AlgSM2, Use: "sig"}
}

// sm2KeyID is the start of the RFC 7638 thumbprint of the key's JWK (kty EC, crv SM2).
func sm2KeyID(pub []byte) string {
	sum := sha256.Sum256([]byte(`{"crv":"SM2","kty":"EC","x":"` + b64.EncodeToString(pub[1:33]) + `","y":"` + b64.EncodeToString(pub[33:]) + `"}`))
	return b64.EncodeToString(sum[:])[:kidLength]
}

type ecSignature struct{ R, S *big.Int }

// SignMessage signs msg with the signer's key (KeySigner).
func (s *Signer) SignMessage(msg []byte) ([]byte, error) {
	if s.alg == AlgSM2 {
		der, err := s.sm.Sign(rand.Reader, msg, sm2.NewSM2SignerOption(true, nil))
		if err != nil {
			return nil, err
		}
		var sig ecSignature
		if _, err := asn1.Unmarshal(der, &sig); err != nil {
			return nil, err
		}
		out := make([]byte, 64)
		sig.R.FillBytes(out[:32])
		sig.S.FillBytes(out[32:])
		return out, nil
	}
	return ed25519.Sign(s.key, msg), nil
}

// Algorithm is EdDSA or SM2 (KeySigner).
func (s *Signer) Algorithm() string { return s.alg }

// verifySM2 checks an r ‖ s SM2 signature over msg.
func verifySM2(pub *ecdsa.PublicKey, msg, sig []byte) bool {
	if len(sig) != 64 {
		return false
	}
	der, err := asn1.Marshal(ecSignature{R: new(big.Int).SetBytes(sig[:32]), S: new(big.Int).SetBytes(sig[32:])})
	return err == nil && sm2.VerifyASN1WithSM2(pub, nil, msg, der)
}

var (
	_ KeySigner = (*Signer)(nil)
	_ KeySigner = (*pdfdoc.PDFSigner)(nil)
)
