package certificates

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// MinStatusListBits is the smallest list the W3C Bitstring Status List allows (16 KiB), so that one
// certificate's index tells little about who is being checked.
const MinStatusListBits = 16 * 1024 * 8

// StatusList is a W3C Bitstring Status List: bit i set means the credential at index i is revoked
// (or suspended, for a suspension list). Bit 0 is the most significant bit of the first byte.
type StatusList struct {
	bits []byte
}

// NewStatusList makes an all-clear list of at least MinStatusListBits bits.
func NewStatusList(bits int) *StatusList {
	if bits < MinStatusListBits {
		bits = MinStatusListBits
	}
	return &StatusList{bits: make([]byte, (bits+7)/8)}
}

// Len is the number of entries.
func (l *StatusList) Len() int { return 8 * len(l.bits) }

// Set sets or clears entry i.
func (l *StatusList) Set(i int, on bool) error {
	if i < 0 || i >= l.Len() {
		return ErrStatusIndex.Wrap(fmt.Errorf("index %d of %d", i, l.Len()))
	}
	mask := byte(0x80) >> (i % 8)
	if on {
		l.bits[i/8] |= mask
	} else {
		l.bits[i/8] &^= mask
	}
	return nil
}

// Get reports whether entry i is set; entries out of range are not.
func (l *StatusList) Get(i int) bool {
	if i < 0 || i >= l.Len() {
		return false
	}
	return l.bits[i/8]&(byte(0x80)>>(i%8)) != 0
}

// Encode returns the encodedList: the bitstring GZIP-compressed, then base64url without padding with
// the multibase prefix "u". The same list always encodes to the same string.
func (l *StatusList) Encode() (string, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := zw.Write(l.bits); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return "u" + b64.EncodeToString(buf.Bytes()), nil
}

// DecodeStatusList reverses Encode, refusing lists shorter than the minimum or absurdly long ones.
func DecodeStatusList(encoded string) (*StatusList, error) {
	if len(encoded) < 2 || encoded[0] != 'u' {
		return nil, ErrStatusIndex.Wrap(fmt.Errorf("not a multibase base64url string"))
	}
	raw, err := b64.DecodeString(encoded[1:])
	if err != nil {
		return nil, ErrStatusIndex.Wrap(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, ErrStatusIndex.Wrap(err)
	}
	const maxBytes = 16 << 20
	bits, err := io.ReadAll(io.LimitReader(zr, maxBytes+1))
	if err != nil {
		return nil, ErrStatusIndex.Wrap(err)
	}
	if len(bits)*8 < MinStatusListBits || len(bits) > maxBytes {
		return nil, ErrStatusIndex.Wrap(fmt.Errorf("list of %d bytes", len(bits)))
	}
	return &StatusList{bits: bits}, nil
}

// StatusListInput describes a status list credential to publish.
type StatusListInput struct {
	URL        string // where the credential is published; also its id
	IssuerID   string
	Purpose    string // revocation or suspension
	List       *StatusList
	ValidFrom  time.Time
	ValidUntil time.Time // optional: when verifiers should fetch a fresh one
	KeyURL     string    // the kid written in the header (KeyURL); the bare key id when empty
}

// StatusListCredential returns a BitstringStatusListCredential secured as a VC-JWT.
func (s *Signer) StatusListCredential(in StatusListInput) (string, error) {
	if in.URL == "" || in.IssuerID == "" || in.List == nil || (in.Purpose != "revocation" && in.Purpose != "suspension") {
		return "", ErrDocumentInvalid
	}
	enc, err := in.List.Encode()
	if err != nil {
		return "", err
	}
	from := in.ValidFrom.UTC().Truncate(time.Second)
	cred := map[string]any{
		"@context":  []string{contextVC2},
		"id":        in.URL,
		"type":      []string{"VerifiableCredential", "BitstringStatusListCredential"},
		"issuer":    in.IssuerID,
		"validFrom": from.Format(time.RFC3339),
		"credentialSubject": map[string]any{
			"id":            in.URL + "#list",
			"type":          "BitstringStatusList",
			"statusPurpose": in.Purpose,
			"encodedList":   enc,
		},
		"iss": in.IssuerID,
		"jti": in.URL,
		"nbf": from.Unix(),
	}
	if !in.ValidUntil.IsZero() {
		until := in.ValidUntil.UTC().Truncate(time.Second)
		cred["validUntil"] = until.Format(time.RFC3339)
		cred["exp"] = until.Unix()
	}
	payload, err := json.Marshal(cred)
	if err != nil {
		return "", err
	}
	if in.KeyURL != "" {
		return s.signKid("vc+jwt", in.KeyURL, payload)
	}
	return s.sign("vc+jwt", payload)
}
