package certificates

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strconv"
	"strings"

	"shanyu/internal/failure"
)

// Number is a national vocational skill level certificate number taken apart (standards.md §3):
//
//	position 1      evaluator type: Y employer, S social training/evaluation organisation
//	positions 2–5   evaluator code (0000 when filed at provincial level)
//	positions 6–7   province code (Zhejiang 33)
//	positions 8–13  evaluator (site) serial
//	positions 14–15 issue year, two digits
//	position 16     level, 1–5
//	positions 17–22 serial
type Number struct {
	EvaluatorType byte   // 'Y' or 'S'
	EvaluatorCode string // four digits
	Province      string // two digits
	SiteSerial    int    // 0–999999
	Year          int    // full year, 2000–2099
	Level         int    // 1 (highest) – 5 (lowest)
	Serial        int    // 1–999999
}

// NumberLength is the length of a certificate number.
const NumberLength = 22

// String formats n; it returns "" for an invalid n (see Format).
func (n Number) String() string {
	s, err := n.Format()
	if err != nil {
		return ""
	}
	return s
}

// Format builds the 22-character number, or says which part is wrong.
func (n Number) Format() (string, error) {
	var f failure.Fields
	if n.EvaluatorType != 'Y' && n.EvaluatorType != 'S' {
		f.Add("evaluator_type", "certificates.number_evaluator_type")
	}
	if !allDigits(n.EvaluatorCode, 4) {
		f.Add("evaluator_code", "certificates.number_evaluator_code")
	}
	if !allDigits(n.Province, 2) {
		f.Add("province", "certificates.number_province")
	}
	if n.SiteSerial < 0 || n.SiteSerial > 999999 {
		f.Add("site_serial", "certificates.number_site_serial")
	}
	if n.Year < 2000 || n.Year > 2099 {
		f.Add("year", "certificates.number_year")
	}
	if n.Level < 1 || n.Level > 5 {
		f.Add("level", "certificates.number_level")
	}
	if n.Serial < 1 || n.Serial > 999999 {
		f.Add("serial", "certificates.number_serial")
	}
	if err := f.Err(); err != nil {
		return "", err
	}
	return fmt.Sprintf("%c%s%s%06d%02d%d%06d", n.EvaluatorType, n.EvaluatorCode, n.Province,
		n.SiteSerial, n.Year%100, n.Level, n.Serial), nil
}

// ParseNumber checks a certificate number and takes it apart. Lower-case type letters and surrounding
// spaces, as typed by people, are accepted.
func ParseNumber(s string) (Number, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != NumberLength || (s[0] != 'Y' && s[0] != 'S') || !allDigits(s[1:], NumberLength-1) {
		return Number{}, ErrNumberInvalid
	}
	atoi := func(a string) int { v, _ := strconv.Atoi(a); return v }
	n := Number{
		EvaluatorType: s[0],
		EvaluatorCode: s[1:5],
		Province:      s[5:7],
		SiteSerial:    atoi(s[7:13]),
		Year:          2000 + atoi(s[13:15]),
		Level:         atoi(s[15:16]),
		Serial:        atoi(s[16:22]),
	}
	if n.Level < 1 || n.Level > 5 || n.Serial == 0 {
		return Number{}, ErrNumberInvalid
	}
	return n, nil
}

func allDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// codeEncoding is lower-case RFC 4648 base32 without padding: URL-safe, case-insensitive when typed.
var codeEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// codeBytes is the entropy of a verification code: 128 bits, 26 characters.
const codeBytes = 16

// CodeLength is the length of a verification code.
const CodeLength = 26

// NewCode returns a fresh unguessable verification code for a certificate's QR link. Unlike the
// number, which is guessable, the code is what lets the public see a certificate.
func NewCode() (string, error) {
	var b [codeBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("verification code: %w", err)
	}
	return codeEncoding.EncodeToString(b[:]), nil
}

// NormaliseCode returns a typed or scanned verification code in canonical form, and false when it
// cannot be one.
func NormaliseCode(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) != CodeLength {
		return "", false
	}
	b, err := codeEncoding.DecodeString(s)
	if err != nil || len(b) != codeBytes || codeEncoding.EncodeToString(b) != s {
		return "", false
	}
	return s, true
}

// MaskName shows a holder's name on public pages: its first character and an asterisk
// (standards.md §7), whatever the length of the name.
func MaskName(name string) string {
	for _, r := range strings.TrimSpace(name) {
		return string(r) + "*"
	}
	return ""
}
