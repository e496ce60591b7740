package certificates

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// sealVersion prefixes every sealed value so the format can change without guessing.
const sealVersion = 1

// seal encrypts a private key for storage with AES-256-GCM under the service secret (SHANYU_SECRET_KEY).
// The additional data binds the ciphertext to its row (its key id), so a sealed key copied onto another
// row does not open.
func seal(secret, plaintext, aad []byte) ([]byte, error) {
	gcm, err := newGCM(secret)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+gcm.NonceSize(), 1+gcm.NonceSize()+len(plaintext)+gcm.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return gcm.Seal(out, out[1:], plaintext, aad), nil
}

// unseal reverses seal; it fails when the secret, the data or the additional data differ.
func unseal(secret, box, aad []byte) ([]byte, error) {
	gcm, err := newGCM(secret)
	if err != nil {
		return nil, err
	}
	if len(box) < 1+gcm.NonceSize()+gcm.Overhead() || box[0] != sealVersion {
		return nil, errors.New("sealed value: unknown format")
	}
	nonce := box[1 : 1+gcm.NonceSize()]
	plain, err := gcm.Open(nil, nonce, box[1+gcm.NonceSize():], aad)
	if err != nil {
		return nil, errors.New("sealed value: cannot decrypt (wrong SHANYU_SECRET_KEY?)")
	}
	return plain, nil
}

func newGCM(secret []byte) (cipher.AEAD, error) {
	if len(secret) != 32 {
		return nil, fmt.Errorf("secret key must be 32 bytes, not %d", len(secret))
	}
	block, err := aes.NewCipher(secret)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
