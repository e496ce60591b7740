package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/exams"
	"shanyu/exams/bank"
	"shanyu/internal/pg"
	"shanyu/internal/servertest"
)

// The race suite (issue #15; docs/architecture.md, Transactions and locks): each scenario that once
// froze the server, deadlocked, applied something twice or lost a write is replayed with real
// concurrent HTTP requests against a freshly started server on a pool of 4 connections with a 2 s
// acquire bound. It checks the answers (no 5xx, exactly one winner where there must be one) and the
// data afterwards, and that no transaction asked for a second connection.

const (
	raceCandidates = 40 // simultaneous exam starts on the fresh server
	raceScans      = 64 // simultaneous scans of one inspection
	racePublishes  = 5
	raceRegrades   = 2
	raceRenewals   = 8 // per certificate
	raceRenewCerts = 2
	raceDevices    = 3 // sessions of one learner opening the same lessons
	raceLessons    = 6
	racePasswords  = 4 // users, each changing their password from two sessions at once
)

// raceClient is one signed-in session, safe to use from many goroutines.
type raceClient struct {
	base, token, csrf string
	hc                *http.Client
}

// call sends a JSON request and returns the status and body; it never fails the test itself, since
// it runs outside the test's goroutine.
func (c raceClient) call(method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.AddCookie(&http.Cookie{Name: "shanyu_session", Value: c.token})
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// raceSession opens a session for username directly in the database (a login per candidate would
// spend the suite's time on password hashing, which is not what it tests).
func raceSession(tb testing.TB, srv *servertest.Instance, hc *http.Client, username string) raceClient {
	tb.Helper()
	c := raceClient{base: srv.URL, token: randomHex(32), csrf: randomHex(24), hc: hc}
	h := sha256.Sum256([]byte(c.token)) // as accounts stores session tokens
	tag, err := srv.Pool.Exec(context.Background(), `INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at)
		SELECT $1, id, $2, now() + interval '1 day' FROM users WHERE username = $3`, h[:], c.csrf, username)
	if err != nil || tag.RowsAffected() != 1 {
		tb.Fatalf("session for %s: %v (%d rows)", username, err, tag.RowsAffected())
	}
	return c
}

// tally counts the answers of one scenario by status.
type tally struct {
	mu     sync.Mutex
	status map[int]int
	errs   []string
	sent   int
}

func (t *tally) add(status int, body []byte, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.status == nil {
		t.status = map[int]int{}
	}
	t.sent++
	if err != nil {
		t.errs = append(t.errs, err.Error())
		return
	}
	t.status[status]++
	if status >= 500 && len(t.errs) < 5 {
		t.errs = append(t.errs, fmt.Sprintf("%d %s", status, body))
	}
}

func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	codes := make([]int, 0, len(t.status))
	for c := range t.status {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	parts := make([]string, 0, len(codes))
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d×%d", t.status[c], c))
	}
	return fmt.Sprintf("sent %d, answered %s", t.sent, strings.Join(parts, " "))
}

// check fails the test on a transport error or a 5xx.
func (t *tally) check(tb testing.TB, name string) {
	tb.Helper()
	for _, e := range t.errs {
		tb.Errorf("%s: %s", name, e)
	}
	for c, n := range t.status {
		if c >= 500 {
			tb.Errorf("%s: %d answers with status %d", name, n, c)
		}
	}
}

// fire runs n requests at once: every goroutine waits at the gate, which opens when all are ready.
func fire(n int, req func(i int) (int, []byte, error)) *tally {
	t := &tally{}
	var ready, done sync.WaitGroup
	gate := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			ready.Done()
			<-gate
			t.add(req(i))
		}()
	}
	ready.Wait()
	close(gate)
	done.Wait()
	return t
}

// raceFixture is what Setup prepares before the server starts.
type raceFixture struct {
	startSession   int64
	regradeSession int64
}

// seed adds to the whole demo (demoSeeded) an exam session at a centre of its own, with a bank
// whose versions no paper has delivered yet, and raceCandidates approved candidates; and the
// regrade suite's marked session.
func (f *raceFixture) seed(pool *pgxpool.Pool) error {
	ctx := context.Background()
	acc, err := demoAccounts(pool)
	if err != nil {
		return err
	}
	org, err := acc.CreateOrganisation(ctx, 0, accounts.Organisation{Kind: accounts.KindTrainingCentre, Code: "RACE01", Name: "并发测试培训中心", RegionCode: "330106"})
	if err != nil {
		return err
	}
	if _, err := bank.SeedDemo(ctx, pool, org.ID); err != nil {
		return err
	}
	// Candidates copy the demo caregiver's password hash (test fixture; hashing 40 passwords measures nothing here).
	if _, err := pool.Exec(ctx, `WITH src AS (SELECT password_hash FROM users WHERE username = 'caregiver'),
		p AS (INSERT INTO people (name) SELECT '并发考生' || g FROM generate_series(1, $1) g RETURNING id, name),
		u AS (INSERT INTO users (person_id, username, password_hash)
			SELECT p.id, 'race.c' || substr(p.name, 5), (SELECT password_hash FROM src) FROM p RETURNING id)
		INSERT INTO role_grants (user_id, role, domain) SELECT id, 'caregiver', '*' FROM u`, raceCandidates); err != nil {
		return fmt.Errorf("candidates: %w", err)
	}
	svc, done, err := testExams(pool)
	if err != nil {
		return err
	}
	defer done()
	bp, err := svc.CreateBlueprint(ctx, 0, exams.Blueprint{CentreID: org.ID, Name: "并发卷", Occupation: "4-10-01-03", Level: 4, Mode: exams.Random,
		Sections: []exams.Section{
			{Name: "单选题", Part: exams.Theory, Count: 20, Points: 3, Type: bank.SingleChoice},
			{Name: "判断题", Part: exams.Theory, Count: 10, Points: 2, Type: bank.TrueFalse},
			{Name: "多选题", Part: exams.Theory, Count: 5, Points: 4, Type: bank.MultipleChoice},
		}})
	if err != nil {
		return err
	}
	now := time.Now()
	noIdentityCheck := false
	x, err := svc.CreateSession(ctx, 0, exams.Session{CentreID: org.ID, BlueprintID: bp.ID, Name: "并发批次", OpensAt: now.Add(-time.Minute),
		ClosesAt: now.Add(3 * time.Hour), LatestStartAt: now.Add(2 * time.Hour), Duration: time.Hour, Grace: time.Minute,
		TheoryPass: 60, PracticalPass: 60, RequireVerifiedIdentity: &noIdentityCheck})
	if err != nil {
		return err
	}
	rows, _ := pool.Query(ctx, `SELECT person_id FROM users WHERE username LIKE 'race.c%' ORDER BY id`)
	people, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	for _, p := range people {
		r, err := svc.Register(ctx, x.ID, p)
		if err != nil {
			return err
		}
		if err := svc.Decide(ctx, 0, r.ID, true, 0); err != nil {
			return err
		}
	}
	// The approvals enqueued the papers; they are built now, so that the starts below begin on
	// papers built before the start, as on an exam day, rather than racing the server's workers.
	if _, err := svc.BuildPapers(ctx, x.ID); err != nil {
		return err
	}
	f.startSession = x.ID
	if f.regradeSession, _, err = sitRegradeSession(pool); err != nil {
		return fmt.Errorf("regrade session: %w", err)
	}
	return nil
}

func TestRaceSuite(t *testing.T) {
	t.Parallel()
	began := time.Now()
	var f raceFixture
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded, Setup: f.seed,
		Limits: &pg.Limits{MaxConns: 4, AcquireTimeout: 2 * time.Second, LockTimeout: pg.DefaultLimits.LockTimeout,
			StatementTimeout: pg.DefaultLimits.StatementTimeout, IdleInTransactionSessionTimeout: pg.DefaultLimits.IdleInTransactionSessionTimeout}})
	t.Logf("fixture and server ready in %v", time.Since(began).Round(time.Millisecond))
	ctx := context.Background()
	db := srv.Pool
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	nested := pg.Stats().NestedAcquires
	one := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	scenario := func(name string, run func()) {
		t.Helper()
		start := time.Now()
		retries := pg.Stats().Retries
		run()
		t.Logf("%s: %v, %d transaction retries", name, time.Since(start).Round(time.Millisecond), pg.Stats().Retries-retries)
	}

	// 1. Exam starts on the freshly started server: the delivery marks of overlapping shuffled papers
	// deadlocked (8 of 300 answered 500).
	scenario("exam starts", func() {
		retries := pg.Stats().Retries
		clients := make([]raceClient, raceCandidates)
		for i := range clients {
			clients[i] = raceSession(t, srv, hc, fmt.Sprintf("race.c%d", i+1))
		}
		res := fire(raceCandidates, func(i int) (int, []byte, error) {
			return clients[i].call("POST", fmt.Sprintf("/api/v1/exam-sessions/%d/start", f.startSession), nil)
		})
		t.Logf("exam starts: %s", res)
		res.check(t, "exam starts")
		if res.status[200] != raceCandidates {
			t.Errorf("exam starts: %d of %d started", res.status[200], raceCandidates)
		}
		if n := one(`SELECT count(*) FROM exam_attempts WHERE session_id = $1`, f.startSession); n != raceCandidates {
			t.Errorf("exam starts: %d attempts stored, want %d", n, raceCandidates)
		}
		if n := one(`SELECT count(*) FROM exam_attempt_paper i JOIN exam_attempts a ON a.id = i.attempt_id
			JOIN bank_item_versions v ON v.id = i.version_id WHERE a.session_id = $1 AND v.delivered_at IS NULL`, f.startSession); n != 0 {
			t.Errorf("exam starts: %d delivered papers' items whose version is not marked delivered", n)
		}
		// WithTx would hide a deadlock by retrying it: the lock order must leave none to retry.
		if n := pg.Stats().Retries - retries; n != 0 {
			t.Errorf("exam starts: %d transactions retried after a deadlock or serialization failure, want 0", n)
		}
	})

	// 2. Scans of one inspection by its two inspectors while /readyz is polled: the server froze.
	scenario("inspection scans", func() {
		var inspection int64
		if err := db.QueryRow(ctx, `SELECT i.id FROM audit_inspections i JOIN audit_inspection_inspectors x ON x.inspection_id = i.id
			JOIN users u ON u.id = x.user_id WHERE u.username = 'inspector' AND i.status = 'open' ORDER BY i.id LIMIT 1`).Scan(&inspection); err != nil {
			t.Fatal(err)
		}
		rows, _ := db.Query(ctx, `SELECT number FROM certificates ORDER BY id`)
		codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(codes) == 0 {
			t.Fatalf("certificate numbers: %v %v", codes, err)
		}
		inspectors := []raceClient{raceSession(t, srv, hc, "inspector"), raceSession(t, srv, hc, "inspector2")}
		ready := &tally{}
		stop := make(chan struct{})
		var poller sync.WaitGroup
		poller.Add(1)
		go func() {
			defer poller.Done()
			anon := raceClient{base: srv.URL, hc: hc}
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
					ready.add(anon.call("GET", "/readyz", nil))
				}
			}
		}()
		res := fire(raceScans, func(i int) (int, []byte, error) {
			return inspectors[i%2].call("POST", fmt.Sprintf("/api/v1/inspections/%d/scans", inspection),
				map[string]any{"client_id": fmt.Sprintf("race-scan-%03d", i), "code": codes[i%len(codes)]})
		})
		close(stop)
		poller.Wait()
		t.Logf("inspection scans: %s; /readyz meanwhile: %s", res, ready)
		res.check(t, "inspection scans")
		if res.status[200] != raceScans {
			t.Errorf("inspection scans: %d of %d stored", res.status[200], raceScans)
		}
		if ready.sent == 0 || ready.status[200] != ready.sent {
			t.Errorf("/readyz during the scans: %s, want every answer 200", ready)
		}
		if n := one(`SELECT count(*) FROM audit_scans WHERE inspection_id = $1 AND client_id LIKE 'race-scan-%'`, inspection); n != raceScans {
			t.Errorf("inspection scans: %d stored, want %d", n, raceScans)
		}
	})

	// 3. Publish ×5 with regrade (applied) ×2 at once on a marked session: regrade deadlocked against
	// publish, and every publish succeeded and was audited.
	scenario("publish and regrade", func() {
		centre := raceSession(t, srv, hc, "centre")
		res := fire(racePublishes+raceRegrades, func(i int) (int, []byte, error) {
			if i < raceRegrades {
				return centre.call("POST", fmt.Sprintf("/api/v1/exam-sessions/%d/regrade?dry_run=false", f.regradeSession), nil)
			}
			return centre.call("POST", fmt.Sprintf("/api/v1/exam-sessions/%d/publish", f.regradeSession), nil)
		})
		t.Logf("publish and regrade: %s", res)
		res.check(t, "publish and regrade")
		if res.status[200] != 1+raceRegrades || res.status[409] != racePublishes-1 {
			t.Errorf("publish and regrade: %s, want %d×200 (one publish, every regrade) and %d×409", res, 1+raceRegrades, racePublishes-1)
		}
		subject := fmt.Sprintf("exam_session:%d", f.regradeSession)
		if n := one(`SELECT count(*) FROM audit_log WHERE action = 'exam.results.publish' AND subject = $1`, subject); n != 1 {
			t.Errorf("publish audit rows: %d, want 1", n)
		}
		if n := one(`SELECT count(*) FROM audit_log WHERE action = 'exam.regrade' AND subject = $1`, subject); n != raceRegrades {
			t.Errorf("regrade audit rows: %d, want %d", n, raceRegrades)
		}
		if n := one(`SELECT count(*) FROM exam_results WHERE session_id = $1`, f.regradeSession); n != 2 {
			t.Errorf("results: %d, want 2", n)
		}
	})

	// 4. Concurrent renewals of one certificate: 500s (duplicate version) and double renewals.
	scenario("renewals", func() {
		rows, _ := db.Query(ctx, `SELECT c.number, u.username FROM certificates c JOIN users u ON u.person_id = c.person_id
			WHERE c.status = 'valid' AND c.version = 1 ORDER BY c.id LIMIT $1`, raceRenewCerts)
		type cert struct{ number, holder string }
		certs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (cert, error) {
			var c cert
			return c, r.Scan(&c.number, &c.holder)
		})
		if err != nil || len(certs) != raceRenewCerts {
			t.Fatalf("certificates to renew: %v %v", certs, err)
		}
		holders := make([]raceClient, len(certs))
		for i, c := range certs {
			// The validity began long ago and the continuing-education hours are done.
			if _, err := db.Exec(ctx, `UPDATE certificates SET issued_on = current_date - 1000, expires_on = current_date + 90 WHERE number = $1`, c.number); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(ctx, `INSERT INTO hours_ledger (person_id, kind, occupation_code, level, lesson_id, hours, earned_at)
				SELECT c.person_id, 'lesson', c.occupation_code, c.level, (SELECT max(id) FROM lessons), 64, now() - interval '10 days'
				FROM certificates c WHERE c.number = $1`, c.number); err != nil {
				t.Fatal(err)
			}
			holders[i] = raceSession(t, srv, hc, c.holder)
		}
		res := fire(raceRenewals*len(certs), func(i int) (int, []byte, error) {
			k := i % len(certs)
			return holders[k].call("POST", "/api/v1/certificates/"+certs[k].number+"/renew", nil)
		})
		t.Logf("renewals: %s", res)
		res.check(t, "renewals")
		if res.status[200] != len(certs) || res.status[409] != (raceRenewals-1)*len(certs) {
			t.Errorf("renewals: %s, want %d×200 (one per certificate) and the rest 409", res, len(certs))
		}
		for _, c := range certs {
			var version, history, audited int
			if err := db.QueryRow(ctx, `SELECT c.version, (SELECT count(*) FROM certificate_versions v WHERE v.certificate_id = c.id),
				(SELECT count(*) FROM audit_log WHERE action = 'certificate.renew' AND subject = 'certificate:' || c.number)
				FROM certificates c WHERE c.number = $1`, c.number).Scan(&version, &history, &audited); err != nil {
				t.Fatal(err)
			}
			if version != 2 || history != 1 || audited != 1 {
				t.Errorf("certificate %s after the renewals: version %d, %d earlier versions, %d audit rows; want 2, 1, 1", c.number, version, history, audited)
			}
		}
	})

	// 5. The first open of lessons from three devices of one learner at once: 500 "no rows".
	scenario("lesson opens", func() {
		var course int64
		if err := db.QueryRow(ctx, `SELECT id FROM courses WHERE published_version_id IS NOT NULL ORDER BY id LIMIT 1`).Scan(&course); err != nil {
			t.Fatal(err)
		}
		var lessons []int64
		rows, _ := db.Query(ctx, `SELECT l.id FROM lessons l JOIN course_modules m ON m.id = l.module_id JOIN courses c ON c.published_version_id = m.version_id
			WHERE c.id = $1 ORDER BY l.id LIMIT $2`, course, raceLessons)
		lessons, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil || len(lessons) == 0 {
			t.Fatalf("lessons: %v %v", lessons, err)
		}
		devices := make([]raceClient, raceDevices)
		for i := range devices {
			devices[i] = raceSession(t, srv, hc, "race.c1")
		}
		if st, body, err := devices[0].call("POST", fmt.Sprintf("/api/v1/courses/%d/enrolments", course), nil); err != nil || st >= 300 {
			t.Fatalf("enrol: %d %s %v", st, body, err)
		}
		res := fire(raceDevices*len(lessons), func(i int) (int, []byte, error) {
			return devices[i%raceDevices].call("POST", fmt.Sprintf("/api/v1/lessons/%d/open", lessons[i/raceDevices]), nil)
		})
		t.Logf("lesson opens: %s", res)
		res.check(t, "lesson opens")
		if res.status[200] != raceDevices*len(lessons) {
			t.Errorf("lesson opens: %s, want every one 200", res)
		}
		if n := one(`SELECT count(*) FROM lesson_progress p JOIN enrolments e ON e.id = p.enrolment_id JOIN users u ON u.person_id = e.person_id
			WHERE u.username = 'race.c1' AND p.lesson_id = ANY($1)`, lessons); n != len(lessons) {
			t.Errorf("lesson progress rows: %d, want %d (one per lesson)", n, len(lessons))
		}
	})

	// 6. Two sessions of one user change the password at once, from the same current password to
	// different new ones: both were accepted and one was lost.
	scenario("password changes", func() {
		users := []string{"trainer", "examiner", "trainer.nb", "inspector2"}[:racePasswords]
		pairs := make([][2]raceClient, len(users))
		for i, u := range users {
			pairs[i] = [2]raceClient{raceSession(t, srv, hc, u), raceSession(t, srv, hc, u)}
		}
		next := func(i int) string { return fmt.Sprintf("race-new-password-%d-%d", i/2, i%2) }
		winners := make([]int, len(users))
		var mu sync.Mutex
		res := fire(2*len(users), func(i int) (int, []byte, error) {
			st, body, err := pairs[i/2][i%2].call("POST", "/api/v1/me/password", map[string]string{"current_password": accounts.DemoPassword, "new_password": next(i)})
			if st == http.StatusOK {
				mu.Lock()
				winners[i/2] = i
				mu.Unlock()
			}
			return st, body, err
		})
		t.Logf("password changes: %s", res)
		res.check(t, "password changes")
		// The loser is refused as a wrong current password (422), or, when the winner's change has
		// already ended its session, as signed out (401).
		if res.status[200] != len(users) || res.status[422]+res.status[401] != len(users) {
			t.Errorf("password changes: %s, want one 200 per user and the other refused", res)
		}
		anon := raceClient{base: srv.URL, hc: hc}
		for k, u := range users {
			for i := 2 * k; i < 2*k+2; i++ {
				st, _, err := anon.call("POST", "/api/v1/auth/login", map[string]string{"username": u, "password": next(i)})
				if want := i == winners[k]; err != nil || (st == http.StatusOK) != want {
					t.Errorf("%s signing in with the %s password: %d %v", u, map[bool]string{true: "winning", false: "losing"}[want], st, err)
				}
			}
		}
		if n := one(`SELECT count(*) FROM audit_log WHERE action = 'password.change' AND subject = ANY(
			SELECT 'user:' || id FROM users WHERE username = ANY($1))`, users); n != len(users) {
			t.Errorf("password change audit rows: %d, want %d", n, len(users))
		}
	})

	if n := pg.Stats().NestedAcquires - nested; n != 0 {
		t.Errorf("%d acquires of a second connection inside a transaction (see the log)", n)
	}
	t.Logf("race suite: %v in all", time.Since(began).Round(time.Millisecond))
}
