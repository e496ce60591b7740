package accounts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"shanyu/internal/failure"
	"shanyu/internal/pgtest"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// clock is a settable time source for session and throttle tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newService(t *testing.T) (*Service, *clock) {
	t.Helper()
	db := pgtest.New(t)
	ctx := context.Background()
	if _, err := SeedRegions(ctx, db); err != nil {
		t.Fatal(err)
	}
	s, err := New(db, testSecret, DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Now()}
	s.now = c.now
	return s, c
}

func fieldsOf(err error) map[string]string {
	out := map[string]string{}
	var e *failure.Error
	if errors.As(err, &e) {
		for f, m := range e.Fields {
			out[f] = m.Key
		}
	}
	return out
}

func TestSignupValidatesAndStoresTheIDNumberEncrypted(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	_, err := s.Signup(ctx, SignupInput{Name: "李", Phone: "12345", IDNumber: "110105194912310021", Password: "short"})
	got := fieldsOf(err)
	for _, f := range []string{"name", "phone", "id_number", "password"} {
		if got[f] == "" {
			t.Errorf("field %s not reported: %v", f, err)
		}
	}
	var n int
	_ = s.db.QueryRow(ctx, `SELECT count(*) FROM people`).Scan(&n)
	if n != 0 {
		t.Fatalf("a failed signup left %d people", n)
	}
	u, err := s.Signup(ctx, SignupInput{Name: "李小燕", Phone: "13800000000", IDNumber: "11010519491231002x", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	if u.MaskedID() != "**************002X" {
		t.Errorf("masked = %q", u.MaskedID())
	}
	var enc []byte
	if err := s.db.QueryRow(ctx, `SELECT id_number_enc FROM people WHERE id = $1`, u.PersonID).Scan(&enc); err != nil {
		t.Fatal(err)
	}
	if string(enc) == "11010519491231002X" || len(enc) < 18 {
		t.Fatal("ID number not encrypted")
	}
	if clear, err := s.RevealIDNumber(ctx, u.PersonID); err != nil || clear != "11010519491231002X" {
		t.Fatalf("reveal = %q, %v", clear, err)
	}
	// Until a centre checks the card the number is only claimed: organisations' look-ups do not find
	// the claimant, and a second sign-up with the number is answered like the first (claims_test.go).
	if id, err := s.PersonByIDNumber(ctx, "11010519491231002X"); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("lookup of an unchecked claim = %d, %v; want not found", id, err)
	}
	if _, err = s.Signup(ctx, SignupInput{Name: "李小燕", Phone: "13800000001", IDNumber: "11010519491231002X", Password: "correct horse"}); err != nil {
		t.Fatalf("second signup with the number: %v", err)
	}
}

// OWASP ASVS 5.0 V6.3.8: an unknown user gets exactly the error a wrong password gets.
// V6.3.1 with V6.1.1: failures slow the (account, address) pair down with growing delays, never lock
// the account; the owner's correct password from an address with no failures always passes.
func TestLoginThrottlingV6_3_1GrowingDelaysNoLockout(t *testing.T) {
	t.Parallel()
	s, clk := newService(t)
	ctx := context.Background()
	if _, err := s.Signup(ctx, SignupInput{Name: "王芳", Phone: "13800000002", IDNumber: "33010619900101123X", Password: "right password"}); err != nil {
		t.Fatal(err)
	}
	_, _, errUnknown := s.Login(ctx, LoginInput{Username: "nobody", Password: "x", IP: "10.0.0.9"})
	_, _, errWrong := s.Login(ctx, LoginInput{Username: "13800000002", Password: "wrong", IP: "10.0.0.9"})
	if !errors.Is(errUnknown, ErrBadCredentials) || !errors.Is(errWrong, ErrBadCredentials) {
		t.Fatalf("unknown user: %v; wrong password: %v", errUnknown, errWrong)
	}
	login := func(pw, ip string) error {
		_, _, err := s.Login(ctx, LoginInput{Username: "13800000002", Password: pw, IP: ip})
		return err
	}
	for i := 0; i < DefaultPolicy.PairFree; i++ {
		if err := login("wrong", "10.0.0.1"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("free failure %d: %v", i+1, err)
		}
	}
	// The stranger's address now waits, even with the right password, and each failure doubles it.
	var waits []int
	for range 3 {
		e := failure.As(login("right password", "10.0.0.1"))
		if e.Kind != failure.TooMany || e.RetryAfter <= 0 {
			t.Fatalf("after the free failures: %v", e)
		}
		waits = append(waits, e.RetryAfter)
		clk.add(time.Duration(e.RetryAfter) * time.Second)
		if err := login("wrong", "10.0.0.1"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("after waiting %d s the attempt is taken: %v", e.RetryAfter, err)
		}
	}
	if !(waits[0] < waits[1] && waits[1] < waits[2]) {
		t.Errorf("delays do not grow: %v", waits)
	}
	// The owner, from an address with no failures, is not held back by any of this.
	if err := login("right password", "10.0.0.2"); err != nil {
		t.Fatalf("owner from a clean address: %v", err)
	}
	// An attack spread over many addresses: past AccountFailures, every address that has failed
	// for this account waits, and a clean one still passes.
	for i := range DefaultPolicy.AccountFailures + 2 {
		_ = login("wrong", fmt.Sprintf("10.1.0.%d", i))
	}
	if e := failure.As(login("right password", "10.1.0.1")); e.Kind != failure.TooMany {
		t.Errorf("a failing address once the account is under attack: %v", e)
	}
	if err := login("right password", "10.0.0.3"); err != nil {
		t.Fatalf("owner from a clean address during a distributed attack: %v", err)
	}
}

func TestThrottlingPerAddress(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	for i := 0; i < DefaultPolicy.AddressFailures; i++ {
		s.Login(ctx, LoginInput{Username: "user" + string(rune('a'+i)), Password: "x", IP: "10.9.9.9"}) //nolint:errcheck
	}
	_, _, err := s.Login(ctx, LoginInput{Username: "someone-else", Password: "x", IP: "10.9.9.9"})
	if failure.As(err).Kind != failure.TooMany {
		t.Fatalf("address not throttled: %v", err)
	}
}

func TestSessionExpiryAndRevocation(t *testing.T) {
	t.Parallel()
	s, clk := newService(t)
	ctx := context.Background()
	if _, err := s.Signup(ctx, SignupInput{Name: "张伟", Phone: "13800000003", IDNumber: "330102199203034565", Password: "right password"}); err != nil {
		t.Fatal(err)
	}
	login := func() Session {
		sess, _, err := s.Login(ctx, LoginInput{Username: "13800000003", Password: "right password"})
		if err != nil {
			t.Fatal(err)
		}
		return sess
	}
	a, b := login(), login()
	if a.Token == b.Token || len(a.Token) < 22 {
		t.Fatal("tokens must be fresh and at least 128 bits")
	}
	p, err := s.Authenticate(ctx, a.Token)
	if err != nil || p.User.Username != "13800000003" || len(p.Roles()) != 1 || p.Roles()[0] != RoleCaregiver {
		t.Fatalf("authenticate: %+v %v", p, err)
	}
	// Sign out everywhere else, from b.
	if n, err := s.RevokeOtherSessions(ctx, p.User.ID, b.ID); err != nil || n != 1 {
		t.Fatalf("revoke others = %d, %v", n, err)
	}
	if _, err := s.Authenticate(ctx, a.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("revoked session still works: %v", err)
	}
	// Idle expiry: b unused for longer than the idle limit.
	clk.add(DefaultPolicy.SessionIdle + time.Minute)
	if _, err := s.Authenticate(ctx, b.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("idle session still works: %v", err)
	}
	// Absolute expiry: used every hour, but older than the absolute limit.
	c := login()
	for elapsed := time.Duration(0); elapsed < DefaultPolicy.SessionAbsolute; elapsed += time.Hour {
		if _, err := s.Authenticate(ctx, c.Token); err != nil {
			t.Fatalf("active session ended early at %v: %v", elapsed, err)
		}
		clk.add(time.Hour)
	}
	clk.add(time.Minute)
	if _, err := s.Authenticate(ctx, c.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("session outlived its absolute expiry: %v", err)
	}
	// Logout.
	d := login()
	if err := s.Logout(ctx, d.ID, p.User.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, d.Token); !errors.Is(err, ErrNoSession) {
		t.Fatal("logged-out session still works")
	}
	var stored []byte
	_ = s.db.QueryRow(ctx, `SELECT token_hash FROM sessions WHERE id = $1`, d.ID).Scan(&stored)
	if string(stored) == d.Token {
		t.Fatal("the token itself is stored")
	}
}

func TestPasswordChangeAndReset(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	u, err := s.Signup(ctx, SignupInput{Name: "刘洋", Phone: "13800000004", IDNumber: "33010619850615002X", Password: "first password"})
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ := s.Login(ctx, LoginInput{Username: u.Username, Password: "first password"})
	b, _, _ := s.Login(ctx, LoginInput{Username: u.Username, Password: "first password"})
	if err := s.ChangePassword(ctx, u.ID, a.ID, "not it", "second password"); fieldsOf(err)["current_password"] == "" {
		t.Fatalf("wrong current password: %v", err)
	}
	if err := s.ChangePassword(ctx, u.ID, a.ID, "first password", "second password"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, a.Token); err != nil {
		t.Fatal("the session that changed the password must survive")
	}
	if _, err := s.Authenticate(ctx, b.Token); !errors.Is(err, ErrNoSession) {
		t.Fatal("other sessions must end on password change")
	}
	if err := s.ResetPassword(ctx, 0, u.ID, "temporary pass"); err != nil {
		t.Fatal(err)
	}
	_, got, err := s.Login(ctx, LoginInput{Username: u.Username, Password: "temporary pass"})
	if err != nil || !got.MustChangePassword {
		t.Fatalf("after reset: %+v %v", got, err)
	}
}

func TestAuditChainDetectsTampering(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if err := AuditNow(ctx, s.db, Event{ActorID: int64(i), Action: "test", Subject: "x", Details: map[string]any{"i": i, "名": "张三"}}); err != nil {
			t.Fatal(err)
		}
	}
	sealAll(t, s.db)
	if n, err := VerifyAudit(ctx, s.db); err != nil || n != 5 {
		t.Fatalf("verify = %d, %v", n, err)
	}
	if _, err := s.db.Exec(ctx, `UPDATE audit_log SET subject = 'y' WHERE id = 3`); err == nil {
		t.Fatal("UPDATE on audit_log was allowed")
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM audit_log WHERE id = 3`); err == nil {
		t.Fatal("DELETE on audit_log was allowed")
	}
	// A superuser can switch the trigger off; the chain still tells.
	var third int64
	_ = s.db.QueryRow(ctx, `SELECT id FROM audit_log ORDER BY id OFFSET 2 LIMIT 1`).Scan(&third)
	for _, sql := range []string{
		`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`,
		`UPDATE audit_log SET details = '{"i": 99}' WHERE id = $1`,
		`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update`,
	} {
		var args []any
		if sql[0] == 'U' {
			args = append(args, third)
		}
		if _, err := s.db.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	_, err := VerifyAudit(ctx, s.db)
	var broken *ErrChainBroken
	if !errors.As(err, &broken) || broken.ID != third {
		t.Fatalf("tampering not found at row %d: %v", third, err)
	}
}

// Concurrent appends from many transactions must still form one chain in id order once sealed.
func TestAuditChainHoldsUnderConcurrentAppends(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- AuditNow(ctx, s.db, Event{ActorID: int64(i), Action: "test.concurrent", Subject: fmt.Sprintf("x:%d", i), Details: map[string]any{"i": i}})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	sealAll(t, s.db)
	if got, err := VerifyAudit(ctx, s.db); err != nil || got != n {
		t.Fatalf("verify = %d, %v; want %d rows and an intact chain", got, err, n)
	}
}

func TestRegionMatch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		request, pattern string
		want             bool
	}{
		{"region:330106", "region:3301", true},
		{"region:330106", "region:33", true},
		{"region:3301", "region:3301", true},
		{"region:330201", "region:3301", false},
		{"region:3301", "region:330106", false},
		{"org:HZ001", "org:HZ001", true},
		{"org:HZ001", "org:HZ002", false},
		{"org:HZ001", "*", true},
		{"org:HZ001", "region:33", false},
	}
	for _, c := range cases {
		if got := regionMatch(c.request, c.pattern); got != c.want {
			t.Errorf("regionMatch(%s, %s) = %v", c.request, c.pattern, got)
		}
	}
}

func TestAccessPolicyAndReplicaPropagation(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	if _, _, err := s.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// Two replicas of the policy, as two server processes would have.
	a, err := NewAccess(ctx, s.db, log)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewAccess(ctx, s.db, log)
	if err != nil {
		t.Fatal(err)
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go b.Listen(lctx)
	principal := func(username string) Principal {
		u, err := s.UserByUsername(ctx, username)
		if err != nil {
			t.Fatal(err)
		}
		g, _ := s.GrantsOf(ctx, u.ID)
		return Principal{User: u, Grants: g}
	}
	inspector := principal("inspector")
	cases := []struct {
		who, obj, act string
		domains       []string
		want          bool
	}{
		{"inspector", "inspections.do", "write", []string{"region:330106"}, true},
		{"inspector", "inspections.do", "write", []string{"region:330201"}, false},
		{"inspector", "admin.users", "read", nil, false},
		{"admin", "admin.users", "read", nil, true},
		{"admin", "admin.users", "write", []string{"region:330106"}, true},
		{"centre", "courses.edit", "write", []string{"org:HZ001"}, true},
		{"centre", "courses.edit", "write", []string{"org:NB001"}, false},
		{"trainer", "courses.edit", "write", []string{"org:HZ001"}, true},
		{"trainer", "centre.staff", "write", []string{"org:HZ001"}, false},
		{"caregiver", "admin.users", "read", nil, false},
		{"caregiver", "learning.enrol", "write", nil, true},
		{"institution", "institution.roster", "write", []string{"org:HZI001"}, true},
	}
	for _, c := range cases {
		if got := a.Allowed(principal(c.who), c.obj, c.act, c.domains...); got != c.want {
			t.Errorf("%s %s %s %v = %v, want %v", c.who, c.act, c.obj, c.domains, got, c.want)
		}
	}
	// A grant made through replica a reaches replica b without a restart.
	deadline := time.Now().Add(5 * time.Second)
	for b.Loads() < 2 && time.Now().Before(deadline) { // the listener's first reload
		time.Sleep(20 * time.Millisecond)
	}
	before := b.Loads()
	if err := s.AddGrant(ctx, 0, inspector.User.ID, RoleRegulatorAdmin, RegionDomain("3301")); err != nil {
		t.Fatal(err)
	}
	for b.Loads() == before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !b.Allowed(principal("inspector"), "admin.users", "read") {
		t.Fatal("replica b did not pick up the new grant")
	}
}

// OWASP ASVS 5.0 V6.2.1 (length), V6.2.4 (the most common passwords), V6.2.11 (context-specific
// words: the account's own phone, username and ID number), V6.2.9 (long passphrases of any
// characters accepted).
func TestPasswordRulesV6_2(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	in := SignupInput{Name: "赵敏", Phone: "13800000077", IDNumber: "11010519491231002X"}
	cases := map[string]string{
		"password":               "accounts.password_too_short",
		"short1":                 "accounts.password_too_short",
		"qwertyuiop":             "accounts.password_common",
		"1234567890":             "accounts.password_common",
		"PassWord123":            "accounts.password_common",
		"my13800000077pw":        "accounts.password_personal",
		"zm19491231zm":           "accounts.password_personal",
		"key-31002x-key":         "accounts.password_personal",
		strings.Repeat("x", 300): "accounts.password_too_long",
	}
	for pw, key := range cases {
		in.Password = pw
		_, err := s.Signup(ctx, in)
		e := failure.As(err)
		if e.Kind != failure.Invalid || e.Fields["password"].Key != key {
			t.Errorf("password %.20q: %v, want %s", pw, err, key)
		}
	}
	in.Password = "小燕子 穿花衣 年年春天来这里!"
	if _, err := s.Signup(ctx, in); err != nil {
		t.Fatalf("a passphrase: %v", err)
	}
}
