package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/exams"
	"shanyu/exams/bank"
	"shanyu/internal/config"
	"shanyu/internal/servertest"
)

// demoAccounts is the accounts service over a test database, with the demo configuration's key.
func demoAccounts(pool *pgxpool.Pool) (*accounts.Service, error) {
	cfg, err := config.Parse(func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	return accounts.New(pool, cfg.SecretKey, accounts.DefaultPolicy)
}

// verifyIdentityOf records that the demo centre administrator checked the ID card of the user's
// person, as staff do before approving a registration.
func verifyIdentityOf(pool *pgxpool.Pool, username string) (*accounts.Service, error) {
	acc, err := demoAccounts(pool)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	u, err := acc.UserByUsername(ctx, username)
	if err != nil {
		return nil, err
	}
	staff, err := acc.UserByUsername(ctx, "centre")
	if err != nil {
		return nil, err
	}
	return acc, acc.VerifyIdentity(ctx, u.PersonID, staff.ID)
}

// seedOpenSession gives a test server the demo accounts, three questions in HZ001's bank, a
// blueprint and an exam session open now for three hours, and returns the session's id; more, when
// set, runs on the accounts first.
func seedOpenSession(pool *pgxpool.Pool, blueprint, session string, more func(context.Context, *accounts.Service) error) (int64, error) {
	if err := seedDemoAccounts(pool); err != nil {
		return 0, err
	}
	ctx := context.Background()
	acc, err := demoAccounts(pool)
	if err != nil {
		return 0, err
	}
	centre, err := acc.OrganisationByCode(ctx, "HZ001")
	if err != nil {
		return 0, err
	}
	for _, it := range examItems()[:3] {
		if _, err := bank.Create(ctx, pool, centre.ID, it); err != nil {
			return 0, err
		}
	}
	if more != nil {
		if err := more(ctx, acc); err != nil {
			return 0, err
		}
	}
	svc, done, err := testExams(pool)
	if err != nil {
		return 0, err
	}
	defer done()
	b, err := svc.CreateBlueprint(ctx, 0, exams.Blueprint{CentreID: centre.ID, Name: blueprint, Occupation: "4-10-01-03", Level: 4,
		Mode: exams.Random, Sections: []exams.Section{{Name: "理论", Part: exams.Theory, Count: 3, Points: 10}}})
	if err != nil {
		return 0, err
	}
	now := time.Now()
	x, err := svc.CreateSession(ctx, 0, exams.Session{CentreID: centre.ID, BlueprintID: b.ID, Name: session, OpensAt: now.Add(-time.Minute),
		ClosesAt: now.Add(3 * time.Hour), LatestStartAt: now.Add(2 * time.Hour), Duration: time.Hour, TheoryPass: 60, PracticalPass: 60})
	return x.ID, err
}

// The demo caregiver, whose identity nobody checked, registers online; the centre sees "not verified"
// on its registrations page and cannot approve, checks the ID card with the button, and approves.
// "My exams" tells the candidate to bring the ID card.
func TestExamRegistrationNeedsVerifiedIdentity(t *testing.T) {
	t.Parallel()
	var sessionID int64
	srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Setup: func(pool *pgxpool.Pool) error {
		var err error
		sessionID, err = seedOpenSession(pool, "测试卷", "核验批次", nil)
		return err
	}})
	cg := mustLogin(t, srv, "caregiver")
	mine := cg.do("GET", "/exams", nil, nil)
	if mine.Status != http.StatusOK || !strings.Contains(string(mine.Body), "身份证原件") {
		t.Fatalf("my exams does not ask an unverified candidate to bring the ID card: %d", mine.Status)
	}
	path := "/api/v1/exam-sessions/" + strconv.FormatInt(sessionID, 10) + "/registrations"
	res := cg.do("POST", path, nil, map[string]string{"X-CSRF-Token": cg.csrf})
	if res.Status != http.StatusCreated && res.Status != http.StatusOK {
		t.Fatalf("unverified registration: %d %s", res.Status, res.Body)
	}
	pool := srv.Pool
	acc, err := demoAccounts(pool)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	u, _ := acc.UserByUsername(ctx, "caregiver")
	var regID int64
	if err := pool.QueryRow(ctx, `SELECT id FROM exam_registrations WHERE session_id = $1 AND person_id = $2`, sessionID, u.PersonID).Scan(&regID); err != nil {
		t.Fatal(err)
	}
	centre := mustLogin(t, srv, "centre")
	regs := "/exams/sessions/" + strconv.FormatInt(sessionID, 10) + "/registrations"
	page := centre.do("GET", regs, nil, nil)
	if page.Status != http.StatusOK || !strings.Contains(string(page.Body), "/exams/registrations/"+strconv.FormatInt(regID, 10)+"/identity") ||
		!strings.Contains(string(page.Body), "未核验") {
		t.Fatalf("registrations page: %d, no verify button or status", page.Status)
	}
	decide := pageForm(centre, "/exams/registrations/"+strconv.FormatInt(regID, 10)+"/decision", map[string]string{"approve": "true", "extra_minutes": "0"})
	if decide.Status != http.StatusForbidden {
		t.Fatalf("approving an unverified candidate: %d, want 403", decide.Status)
	}

	// A trainer holds no permission to verify identities; another centre's staff are refused too.
	trainer := mustLogin(t, srv, "trainer")
	if r := pageForm(trainer, "/exams/registrations/"+strconv.FormatInt(regID, 10)+"/identity", nil); r.Status != http.StatusForbidden {
		t.Fatalf("trainer verifies: %d, want 403", r.Status)
	}
	if r := pageForm(cg, "/exams/registrations/"+strconv.FormatInt(regID, 10)+"/identity", nil); r.Status != http.StatusForbidden {
		t.Fatalf("candidate verifies self: %d, want 403", r.Status)
	}

	done := pageForm(centre, "/exams/registrations/"+strconv.FormatInt(regID, 10)+"/identity", nil)
	if done.Status != http.StatusSeeOther {
		t.Fatalf("verify: %d %s", done.Status, done.Body)
	}
	if ok, err := acc.IdentityVerified(ctx, u.PersonID); err != nil || !ok {
		t.Fatalf("after the button: verified = %v, %v", ok, err)
	}
	page = centre.do("GET", regs, nil, nil)
	if strings.Contains(string(page.Body), "/exams/registrations/"+strconv.FormatInt(regID, 10)+"/identity") || !strings.Contains(string(page.Body), "已核验") {
		t.Fatal("registrations page still offers the button after verification")
	}
	if r := pageForm(centre, "/exams/registrations/"+strconv.FormatInt(regID, 10)+"/decision", map[string]string{"approve": "true", "extra_minutes": "0"}); r.Status != http.StatusSeeOther {
		t.Fatalf("approve verified: %d %s", r.Status, r.Body)
	}
	if mine := cg.do("GET", "/exams", nil, nil); strings.Contains(string(mine.Body), "身份证原件") {
		t.Fatal("my exams still asks a verified candidate to bring the ID card")
	}
}

// pageForm posts an HTML form as the browser would, with the session's CSRF token.
func pageForm(c *client, path string, fields map[string]string) response {
	c.tb.Helper()
	v := url.Values{"_csrf": {c.csrf}}
	for k, x := range fields {
		v.Set(k, x)
	}
	return c.postForm(path, v)
}
