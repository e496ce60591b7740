package accounts

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"
)

// TestCachedSessionEndsAtLogoutOnEveryReplica: Authenticate's answers are kept in memory (principals.go),
// yet a session that is logged out is refused at once by the replica that logged it out, and by
// another replica (a second Service on the same database, listening) well within PrincipalTTL; a
// disabled account likewise.
func TestCachedSessionEndsAtLogoutOnEveryReplica(t *testing.T) {
	t.Parallel()
	a, _ := newService(t)
	b, err := New(a.db, testSecret, DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.ListenSessions(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
	// Wait until b listens: a notification sent before would be missed (its listener drops the cache
	// when it connects, but this test is about the notification).
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		if err := a.db.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN '||$1`,
			PrincipalsChannel).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second replica never listened")
		}
	}
	u, err := a.Signup(ctx, SignupInput{Name: "赵敏", Phone: "13800000077", IDNumber: "33010619900101123X", Password: "a good long password"})
	if err != nil {
		t.Fatal(err)
	}
	login := func() Session {
		t.Helper()
		s, _, err := a.Login(ctx, LoginInput{Username: "13800000077", Password: "a good long password", IP: "10.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	one, two := login(), login()
	for _, svc := range []*Service{a, b, a, b} { // the second round is answered from memory
		for _, s := range []Session{one, two} {
			if _, err := svc.Authenticate(ctx, s.Token); err != nil {
				t.Fatalf("a live session refused: %v", err)
			}
		}
	}
	refusedBy := func(svc *Service, s Session) bool {
		_, err := svc.Authenticate(ctx, s.Token)
		if err != nil && !errors.Is(err, ErrNoSession) {
			t.Fatal(err)
		}
		return err != nil
	}
	untilRefused := func(svc *Service, s Session, what string) {
		t.Helper()
		for deadline := time.Now().Add(PrincipalTTL / 2); !refusedBy(svc, s); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the other replica still accepts a session %s %v later", what, PrincipalTTL/2)
			}
		}
	}

	if err := a.Logout(ctx, one.ID, u.ID, ""); err != nil {
		t.Fatal(err)
	}
	if !refusedBy(a, one) {
		t.Fatal("the replica that logged the session out still accepts it")
	}
	untilRefused(b, one, "logged out")
	if refusedBy(a, two) || refusedBy(b, two) {
		t.Fatal("the user's other session was refused too")
	}

	admin, err := a.CreateUser(ctx, 0, CreateUserInput{Username: "admin.t", Name: "管理员", Password: "another good password"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetDisabled(ctx, admin.ID, u.ID, true, "test", nil); err != nil {
		t.Fatal(err)
	}
	if !refusedBy(a, two) {
		t.Fatal("the replica that disabled the account still accepts its session")
	}
	untilRefused(b, two, "of a disabled account")
}
