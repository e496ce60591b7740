package certificates

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"shanyu/internal/clock"
)

// standardJWTCheck parses an OB 3.0 VC-JWT with golang-jwt (not this package's verifier), checking
// the signature against the JWKS and nbf/exp at the instant at.
func standardJWTCheck(t *testing.T, token string, jwks JWKSet, at time.Time) (jwt.MapClaims, error) {
	t.Helper()
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(tok *jwt.Token) (any, error) {
		for _, k := range jwks.Keys {
			// The header names the key by its URL (…/keys/{kid}) or by its id.
			if kid, _ := tok.Header["kid"].(string); kid == k.Kid || strings.HasSuffix(kid, "/keys/"+k.Kid) {
				x, err := base64.RawURLEncoding.DecodeString(k.X)
				return ed25519.PublicKey(x), err
			}
		}
		t.Fatalf("no key %v in the JWKS", tok.Header["kid"])
		return nil, nil
	}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithTimeFunc(func() time.Time { return at }), jwt.WithExpirationRequired())
	return claims, err
}

// TestCredentialIssuedNowVerifiesNow: an Open Badges credential issued at 02:00 China time (18:00 UTC
// the day before, when the China date is already the next day) is valid at once by a standard JWT
// library's nbf check, and so is one issued at the real now; validFrom is a real instant no later
// than the issuance and validUntil ends the expiry day in China.
func TestCredentialIssuedNowVerifiesNow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 2, 0, 0, 0, clock.Zone())
	for name, now := range map[string]time.Time{"02:00 China time": at, "now": time.Now()} {
		f := newFixture(t)
		f.svc.now = func() time.Time { return now }
		c := f.issue(t, "郑思齐")
		if want := clock.Today(now); !c.IssuedOn.Equal(want) {
			t.Fatalf("%s: issued on %v, want %v", name, c.IssuedOn, want)
		}
		token, err := f.svc.OpenBadge(ctx, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		jwks, _ := JWKS(ctx, f.db)
		if name == "now" {
			now = time.Now() // the moment the holder downloads it, just after issuance
		}
		claims, err := standardJWTCheck(t, token, jwks, now)
		if err != nil {
			t.Fatalf("%s: golang-jwt refuses the credential at its issuance: %v", name, err)
		}
		from, err := time.Parse(time.RFC3339, claims["validFrom"].(string))
		if err != nil || from.After(now) || now.Sub(from) > 24*time.Hour {
			t.Errorf("%s: validFrom %v for an issuance at %v", name, claims["validFrom"], now)
		}
		nbf, _ := claims.GetNotBefore()
		if !nbf.Equal(from) {
			t.Errorf("%s: nbf %v ≠ validFrom %v", name, nbf, from)
		}
		until, _ := time.Parse(time.RFC3339, claims["validUntil"].(string))
		if want := clock.Midnight(c.ExpiresOn).AddDate(0, 0, 1).Add(-time.Second); !until.Equal(want) {
			t.Errorf("%s: validUntil %v, want the end of %s in China (%v)", name, until, c.ExpiresOn.Format(time.DateOnly), want)
		}
		if _, err := standardJWTCheck(t, token, jwks, until.Add(2*time.Second)); err == nil {
			t.Errorf("%s: accepted after the expiry day", name)
		}
	}
	// The real instant of issuance, when it is on the issue date, is validFrom itself; an imported
	// certificate recorded later than its date is valid from the start of that date in China.
	in := badgeInput(t)
	in.IssuedAt = time.Date(2025, 6, 18, 18, 41, 7, 0, clock.Zone())
	for issuedAt, want := range map[time.Time]string{in.IssuedAt: "2025-06-18T10:41:07Z", in.IssuedAt.AddDate(1, 0, 0): "2025-06-17T16:00:00Z"} {
		in.IssuedAt = issuedAt
		tok, err := testKey.OpenBadgeCredential(in)
		if err != nil {
			t.Fatal(err)
		}
		m, err := VerifyCredential(tok, JWKSet{Keys: []JWK{testKey.PublicJWK()}})
		if err != nil || m["validFrom"] != want {
			t.Errorf("issued at %v: validFrom %v (%v), want %s", issuedAt, m["validFrom"], err, want)
		}
	}
}

// windowHours records the period renewal asks hours for.
type windowHours struct {
	mu       sync.Mutex
	from, to time.Time
}

func (w *windowHours) CompletedHours(_ context.Context, _ int64, _ string, from, to time.Time) (float64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.from, w.to = from, to
	return 0, nil
}

// TestRenewalCountsHoursByChinaDays: the hours counted for renewal are those earned from 00:00 China
// time on the issue date to 24:00 China time on the expiry date — an hour at 00:30 China time on the
// issue date counts (it is 16:30 UTC the day before), one at 23:30 the day before does not; 23:30 on
// the expiry date counts, 00:30 the day after does not.
func TestRenewalCountsHoursByChinaDays(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	w := &windowHours{}
	f.svc.hours = w
	c := f.issue(t, "吴思远")
	if _, err := f.svc.RenewalStatus(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	in := func(x time.Time) bool { return !x.Before(w.from) && x.Before(w.to) }
	china := func(d time.Time, days, h, m int) time.Time {
		return time.Date(d.Year(), d.Month(), d.Day()+days, h, m, 0, 0, clock.Zone())
	}
	for _, x := range []struct {
		at   time.Time
		want bool
	}{
		{china(c.IssuedOn, 0, 0, 30), true},
		{china(c.IssuedOn, -1, 23, 30), false},
		{china(c.IssuedOn, 0, 23, 30), true},
		{china(c.ExpiresOn, 0, 23, 30), true},
		{china(c.ExpiresOn, 1, 0, 30), false},
	} {
		if in(x.at) != x.want {
			t.Errorf("an hour earned at %s (China) counted %v, want %v; window %v – %v", x.at.Format("2006-01-02 15:04"), in(x.at), x.want, w.from, w.to)
		}
	}
}
