package accounts

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Citizen ID numbers (GB 11643): 17 digits and a check character.
var (
	idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	idChecks  = "10X98765432"
)

// ValidCitizenID reports whether s is an 18-character citizen ID number with a valid birth date and
// check character. A lower-case x is accepted and should be normalised with NormaliseCitizenID.
func ValidCitizenID(s string) bool {
	s = NormaliseCitizenID(s)
	if len(s) != 18 {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		sum += int(c-'0') * idWeights[i]
	}
	if s[17] != idChecks[sum%11] {
		return false
	}
	birth, err := time.Parse("20060102", s[6:14])
	return err == nil && birth.Year() >= 1900 && !birth.After(time.Now())
}

// NormaliseCitizenID trims spaces and upper-cases the check character.
func NormaliseCitizenID(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// CitizenIDFacts are the facts an ID number states about its holder.
type CitizenIDFacts struct {
	Region string // six-digit region code of first registration
	Birth  time.Time
	Male   bool
}

// ParseCitizenID returns what a valid ID number says; ok is false for an invalid one.
func ParseCitizenID(s string) (CitizenIDFacts, bool) {
	s = NormaliseCitizenID(s)
	if !ValidCitizenID(s) {
		return CitizenIDFacts{}, false
	}
	birth, _ := time.Parse("20060102", s[6:14])
	return CitizenIDFacts{Region: s[:6], Birth: birth, Male: (s[16]-'0')%2 == 1}, true
}

// Unified social credit codes (GB 32100): 18 characters over 31 symbols (no I O S V Z).
const creditAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var creditWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// ValidCreditCode reports whether s is a unified social credit code with a correct check character.
func ValidCreditCode(s string) bool {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 18 {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(creditAlphabet, s[i])
		if v < 0 {
			return false
		}
		sum += v * creditWeights[i]
	}
	check := (31 - sum%31) % 31
	return s[17] == creditAlphabet[check]
}

// MaskName shows only the first character of a name (standards.md §7): 张三 → 张*, 欧阳娜娜 → 欧***.
func MaskName(name string) string {
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	if n == 0 {
		return ""
	}
	first, _ := utf8.DecodeRuneInString(name)
	return string(first) + strings.Repeat("*", max(n-1, 1))
}

// MaskIDNumber shows only the last four characters of an ID number, never its region prefix.
func MaskIDNumber(last4 string) string {
	if last4 == "" {
		return ""
	}
	return strings.Repeat("*", 14) + last4
}
