package accounts

import (
	"context"
	_ "embed"
	"strings"
	"unicode/utf8"

	"shanyu/internal/failure"
)

// The password rules (OWASP ASVS 5.0 V6.2): at least MinPasswordChars characters (V6.2.1), up to
// 256 of any kind, never truncated or case-folded before hashing (V6.2.5, V6.2.8, V6.2.9); not one of
// the 10,000 most common passwords (V6.2.4); not containing the account's own username, phone
// number or ID number digits (V6.2.11, context-specific words). The sign-up and password forms show
// these rules before anyone types (PasswordRules).

//go:embed common_passwords.txt
var commonPasswordsText string

var commonPasswords = func() map[string]bool {
	m := make(map[string]bool, 10000)
	for _, line := range strings.Split(commonPasswordsText, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			m[strings.ToLower(line)] = true
		}
	}
	return m
}()

// maxPasswordBytes bounds what is hashed; 256 bytes is far beyond the 64 characters ASVS asks for.
const maxPasswordBytes = 256

// passwordContext is what a password may not contain: the account's own identifiers.
type passwordContext struct {
	Username, Phone, IDNumber string
}

// words are the strings the password may not contain: the username and phone number, and of the ID
// number the whole, the birth date and the last six characters.
func (c passwordContext) words() []string {
	var out []string
	add := func(w string) {
		if w = strings.ToLower(strings.TrimSpace(w)); utf8.RuneCountInString(w) >= 4 {
			out = append(out, w)
		}
	}
	add(c.Username)
	add(c.Phone)
	if id := NormaliseCitizenID(c.IDNumber); len(id) == 18 {
		add(id)
		add(id[6:14])
		add(id[12:])
	}
	return out
}

func (s *Service) validatePassword(f *failure.Fields, field, pw string, ctx passwordContext) {
	lower := strings.ToLower(pw)
	switch {
	case utf8.RuneCountInString(pw) < s.policy.MinPasswordChars:
		f.Add(field, "accounts.password_too_short", s.policy.MinPasswordChars)
	case len(pw) > maxPasswordBytes:
		f.Add(field, "accounts.password_too_long")
	case commonPasswords[lower]:
		f.Add(field, "accounts.password_common")
	default:
		for _, w := range ctx.words() {
			if strings.Contains(lower, w) {
				f.Add(field, "accounts.password_personal")
				return
			}
		}
	}
}

// passwordContextOf loads the identifiers of an existing account for validatePassword.
func (s *Service) passwordContextOf(ctx context.Context, u User) passwordContext {
	c := passwordContext{Username: u.Username, Phone: u.Phone}
	if id, err := s.RevealIDNumber(ctx, u.PersonID); err == nil {
		c.IDNumber = id
	}
	return c
}
