package server_test

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"shanyu/accounts"
	"shanyu/internal/servertest"
)

// TestPasswordResetByCode shows OWASP ASVS 5.0 V6 requirements of self-service reset:
//   - V6.3.8: /password/forgot answers the same, in shape and (median) time within 50 ms,
//     for a registered and an unknown phone;
//   - V6.4.3, V6.5.1–V6.5.5: the code is 6 random digits (crypto/rand) sent to the phone on file, stored only
//     as a keyed hash, valid 10 minutes, single use, void after 5 wrong tries;
//   - V6.2.1–V6.2.4: the new password is held to the password rules;
//   - V6.3.1: asking for codes is rate limited per phone (in PostgreSQL);
//   - V7.4.3 (sessions): every session of the account ends on reset; the reset is audited.
func TestPasswordResetByCode(t *testing.T) {
	t.Parallel()
	var log syncBuffer
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	ctx := context.Background()
	const phone, unknown = "13900000011", "13999999999" // cg.wangxw's phone; nobody's
	old := mustLogin(t, srv, "cg.wangxw")

	// The same answer for a registered and an unknown phone, in shape and in time.
	anon := newClient(t, srv)
	timing := func(p string) (time.Duration, string) {
		var ds []time.Duration
		var body string
		for range 3 {
			start := time.Now()
			r := anon.send("POST", "/api/v1/auth/password/forgot", map[string]string{"phone": p})
			ds = append(ds, time.Since(start))
			if r.Status != http.StatusAccepted {
				t.Fatalf("forgot %s: %d %s", p, r.Status, r.Body)
			}
			body = string(r.Body)
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[1], body
	}
	known, kb := timing(phone)
	other, ub := timing(unknown)
	if kb != ub {
		t.Errorf("answers differ: %s / %s", kb, ub)
	}
	if d := known - other; d > 50*time.Millisecond || d < -50*time.Millisecond {
		t.Errorf("median answer %v for a registered phone, %v for an unknown one", known, other)
	}
	t.Logf("median answer: registered %v, unknown %v", known, other)

	// Codes arrive through the sender. Each replaces the one before, and the three above were worked
	// concurrently; so once they are sent, one more is asked for, and it is the one that counts.
	codeRe := regexp.MustCompile(`验证码为 ([0-9]{6})`)
	log.waitLines(t, 3, "to="+phone, "验证码")
	if err := srv.App.Accounts.RequestPasswordReset(ctx, srv.App.ResetCodes, phone, "198.51.100.6"); err != nil {
		t.Fatal(err)
	}
	newCode := func(n int) string {
		lines := log.waitLines(t, n, "to="+phone, "验证码")
		seen := map[string]bool{}
		for _, l := range lines[:n-1] {
			seen[codeRe.FindStringSubmatch(l)[1]] = true
		}
		for _, l := range lines {
			if c := codeRe.FindStringSubmatch(l)[1]; !seen[c] {
				return c
			}
		}
		t.Fatalf("no new code in %q", lines)
		return ""
	}
	code := newCode(4)
	if len(log.lines("to="+unknown)) != 0 {
		t.Errorf("a code was sent to an unknown phone")
	}
	var stored int
	if err := srv.Pool.QueryRow(ctx, `SELECT count(*) FROM password_resets WHERE position($1::bytea in code_hash) > 0`, []byte(code)).Scan(&stored); err != nil || stored != 0 {
		t.Errorf("the code is stored in the clear: %d %v", stored, err)
	}

	reset := func(code, pw string) response {
		return anon.send("POST", "/api/v1/auth/password/reset", map[string]string{"phone": phone, "code": code, "new_password": pw})
	}
	// A weak password is refused by the password rules, and costs no try.
	if r := reset(code, "1234567890"); r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "new_password") {
		t.Errorf("weak password: %d %s", r.Status, r.Body)
	}
	wrong := "000000"
	if wrong == code {
		wrong = "000001"
	}
	if r := reset(wrong, "Kx7-baby-care-2026"); r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "code") {
		t.Errorf("wrong code: %d %s", r.Status, r.Body)
	}
	if r := reset(code, "Kx7-baby-care-2026"); r.Status != http.StatusOK {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	// Single use; the old session is over; the new password signs in; the reset is audited.
	if r := reset(code, "Another-pass-2026!"); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("the code worked twice: %d", r.Status)
	}
	if r := old.send("GET", "/api/v1/me", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("the old session survived the reset: %d", r.Status)
	}
	if r := newClient(t, srv).login("cg.wangxw", "Kx7-baby-care-2026"); r.Status != http.StatusOK {
		t.Errorf("sign-in with the new password: %d %s", r.Status, r.Body)
	}
	var audited int
	if err := srv.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'password.reset_by_code'`).Scan(&audited); err != nil || audited != 1 {
		t.Errorf("audit rows: %d %v", audited, err)
	}

	// Five wrong tries void a code: the right one no longer works.
	if err := srv.App.Accounts.RequestPasswordReset(ctx, srv.App.ResetCodes, phone, "198.51.100.7"); err != nil {
		t.Fatal(err)
	}
	code = newCode(5)
	wrong = "111111"
	if wrong == code {
		wrong = "222222"
	}
	for range accounts.ResetCodeTries {
		reset(wrong, "Kx7-baby-care-2027")
	}
	if r := reset(code, "Kx7-baby-care-2027"); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("the code worked after %d wrong tries: %d", accounts.ResetCodeTries, r.Status)
	}

	// Asking for codes is limited per phone: the sixth in the window is refused (429).
	var last int
	for range 6 {
		last = newClient(t, srv).send("POST", "/api/v1/auth/password/forgot", map[string]string{"phone": unknown}).Status
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("codes asked past the limit: %d", last)
	}

	// /login links to the reset.
	if r := anon.send("GET", "/login", nil); !strings.Contains(string(r.Body), `href="/password/forgot"`) {
		t.Errorf("/login has no link to /password/forgot")
	}
}
