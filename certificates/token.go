package certificates

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// OfflineClaims is what the QR code's signed token tells an inspector with no connection: enough to
// compare with the paper, nothing more (the name is masked, there is no ID number).
type OfflineClaims struct {
	Number     string    // certificate number
	MaskedName string    // first character and "*" (standards.md §7)
	Occupation string    // occupation code, e.g. 4-10-01-03
	Level      int       // 1–5
	IssuedOn   time.Time // a date, UTC midnight
	ExpiresOn  time.Time // a date, UTC midnight
	KeyID      string    // the key that signed it (from the token header)
}

// tokenClaims is the token's payload. Every byte ends up in the QR code, whose size is fixed, so the
// names are one letter and dates are yyyymmdd numbers; docs/qr-token.md documents them.
type tokenClaims struct {
	Number     string `json:"n"`
	MaskedName string `json:"h"`
	Occupation string `json:"o"`
	Level      int    `json:"l"`
	IssuedOn   int    `json:"i"`
	ExpiresOn  int    `json:"e"`
}

// SignToken makes the compact offline token for a certificate: a JWS (EdDSA) whose header names the key.
func (s *Signer) SignToken(c OfflineClaims) (string, error) {
	if _, err := ParseNumber(c.Number); err != nil {
		return "", err
	}
	if c.Level < 1 || c.Level > 5 || c.Occupation == "" || c.IssuedOn.IsZero() || c.ExpiresOn.IsZero() {
		return "", ErrDocumentInvalid
	}
	payload, err := json.Marshal(tokenClaims{
		Number:     c.Number,
		MaskedName: MaskName(c.MaskedName),
		Occupation: c.Occupation,
		Level:      c.Level,
		IssuedOn:   dateNumber(c.IssuedOn),
		ExpiresOn:  dateNumber(c.ExpiresOn),
	})
	if err != nil {
		return "", err
	}
	return s.sign("", payload)
}

// VerifyToken checks an offline token against the published keys and returns what it says. It tells
// genuine from forged; whether the certificate has since expired or been revoked is for the caller to
// judge (expiry from ExpiresOn, revocation only online or from a status list).
func VerifyToken(token string, jwks JWKSet) (OfflineClaims, error) {
	h, payload, err := verifyJWS(strings.TrimSpace(token), jwks)
	if err != nil {
		return OfflineClaims{}, err
	}
	var c tokenClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return OfflineClaims{}, ErrTokenInvalid.Wrap(fmt.Errorf("payload: %w", err))
	}
	issued, err1 := numberDate(c.IssuedOn)
	expires, err2 := numberDate(c.ExpiresOn)
	if err1 != nil || err2 != nil {
		return OfflineClaims{}, ErrTokenInvalid.Wrap(fmt.Errorf("bad dates"))
	}
	if _, err := ParseNumber(c.Number); err != nil {
		return OfflineClaims{}, ErrTokenInvalid.Wrap(err)
	}
	return OfflineClaims{
		Number: c.Number, MaskedName: c.MaskedName, Occupation: c.Occupation, Level: c.Level,
		IssuedOn: issued, ExpiresOn: expires, KeyID: h.Kid,
	}, nil
}

// QRLink is the content of a certificate's QR code: the verification page, with the offline token in
// the fragment, which browsers never send to the server.
func QRLink(baseURL, code, token string) string {
	return strings.TrimRight(baseURL, "/") + "/v/" + code + "#" + token
}

// SplitQRLink takes a scanned link apart into its verification code and token.
func SplitQRLink(link string) (code, token string, ok bool) {
	i := strings.Index(link, "/v/")
	if i < 0 {
		return "", "", false
	}
	code, token, _ = strings.Cut(link[i+3:], "#")
	code, ok = NormaliseCode(code)
	return code, token, ok
}

func dateNumber(t time.Time) int { return t.Year()*10000 + int(t.Month())*100 + t.Day() }

func numberDate(n int) (time.Time, error) {
	t := time.Date(n/10000, time.Month(n/100%100), n%100, 0, 0, 0, 0, time.UTC)
	if n < 19000101 || dateNumber(t) != n {
		return time.Time{}, fmt.Errorf("bad date %d", n)
	}
	return t, nil
}
