package accounts

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// sealer encrypts sensitive personal data (ID numbers) with AES-256-GCM and derives keyed hashes for
// looking them up without decrypting. Encryption and look-up use separate keys derived from the secret.
type sealer struct {
	aead    cipher.AEAD
	hashKey []byte
}

func newSealer(secret []byte) (*sealer, error) {
	if len(secret) != 32 {
		return nil, errors.New("secret key must be 32 bytes")
	}
	encKey := derive(secret, "shanyu/id-number/encrypt")
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead, hashKey: derive(secret, "shanyu/id-number/lookup")}, nil
}

func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// seal returns nonce||ciphertext; additional binds the ciphertext to its column so that it cannot be
// copied into another.
func (s *sealer) seal(plain, additional string) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return s.aead.Seal(nonce, nonce, []byte(plain), []byte(additional))
}

func (s *sealer) open(sealed []byte, additional string) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("sealed value too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(additional))
	if err != nil {
		return "", fmt.Errorf("open sealed value: %w", err)
	}
	return string(plain), nil
}

func (s *sealer) lookupHash(value string) []byte {
	m := hmac.New(sha256.New, s.hashKey)
	m.Write([]byte(value))
	return m.Sum(nil)
}
