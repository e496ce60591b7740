package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/exams"
	"shanyu/exams/bank"
	"shanyu/internal/config"
)

func init() { benches["exam"] = benchExam }

const benchCentre = "BENCH"

// benchExam loads the attempt engine the way a province-wide sitting does: N candidates of a benchmark
// centre (created in the database) sign in over HTTP, start their attempts together (or spread
// uniformly over --ramp, as candidates opening an exam over its first minute do), then save answers
// with think time for the given duration. At the end every save the clients saw
// acknowledged is looked up in the database: lost_saves counts the ones missing.
func benchExam(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench exam", flag.ContinueOnError)
	fs.SetOutput(stdout)
	base := fs.String("base", "http://127.0.0.1:8080", "the server to load")
	n := fs.Int("candidates", 200, "number of candidates")
	duration := fs.Duration("duration", 30*time.Second, "how long candidates keep saving answers")
	think := fs.Duration("think", time.Second, "mean think time between two saves of one candidate")
	logins := fs.Int("login-concurrency", 8, "concurrent sign-ins (each costs an argon2id hash on the server)")
	ramp := fs.Duration("ramp", 0, "spread the starts uniformly over this time (0: all at the same instant)")
	poll := fs.Duration("poll", 3*time.Second, "each candidate's state poll interval, as the exam page polls (0: none)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	if *n <= 0 || *duration <= 0 || *think <= 0 || *ramp < 0 || *poll < 0 {
		return fmt.Errorf("candidates, duration and think must be positive, ramp and poll not negative: %w", errUsage)
	}
	target := strings.TrimRight(*base, "/")
	pool, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()

	fmt.Fprintf(stdout, "preparing %d candidates in centre %s…\n", *n, benchCentre)
	sessionID, usernames, err := prepareExamBench(ctx, cfg, pool, *n, *duration)
	if err != nil {
		return err
	}
	transport := &http.Transport{MaxIdleConns: *n + 16, MaxIdleConnsPerHost: *n + 16, IdleConnTimeout: 20 * time.Second} // under the server's 30-s read timeout
	cands := make([]*benchCandidate, *n)
	var errCount atomic.Int64

	// Sign in (not measured: argon2id is meant to be slow).
	fmt.Fprintf(stdout, "signing in %d candidates…\n", *n)
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for w := 0; w < *logins; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= *n || ctx.Err() != nil {
					return
				}
				c, err := newBenchCandidate(ctx, transport, target, usernames[i])
				if err != nil {
					errCount.Add(1)
					fmt.Fprintf(stdout, "  login %s: %v\n", usernames[i], err)
				}
				cands[i] = c
				if (i+1)%500 == 0 {
					fmt.Fprintf(stdout, "  %d signed in\n", i+1)
				}
			}
		}()
	}
	wg.Wait()

	// Start together, or spread over the ramp: candidate i starts i/n of the way into it.
	if *ramp > 0 {
		fmt.Fprintf(stdout, "starting %d attempts over %s…\n", *n, *ramp)
	} else {
		fmt.Fprintf(stdout, "starting %d attempts together…\n", *n)
	}
	startLat := make([]time.Duration, *n)
	gate := make(chan struct{})
	var t0 time.Time
	for i, c := range cands {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			time.Sleep(time.Until(t0.Add(*ramp * time.Duration(i) / time.Duration(*n))))
			t := time.Now()
			err := c.start(ctx, sessionID)
			startLat[i] = time.Since(t)
			if err != nil {
				errCount.Add(1)
				fmt.Fprintf(stdout, "  start %s: %v\n", c.username, err)
			}
		}()
	}
	t0 = time.Now()
	close(gate)
	wg.Wait()
	startWall := time.Since(t0)
	started := 0
	for _, c := range cands {
		if c != nil && c.attempt != 0 {
			started++
		}
	}
	fmt.Fprintf(stdout, "  %d started in %.1f s\n", started, startWall.Seconds())

	// Save with think time.
	fmt.Fprintf(stdout, "saving answers for %s (think %s)…\n", *duration, *think)
	var mu sync.Mutex
	var saveLat, pollLat []time.Duration
	var saves, polls atomic.Int64
	acked := make([][]int64, *n) // per candidate: acknowledged seqs
	end := time.Now().Add(*duration)
	saveStart := time.Now()
	stopProgress := make(chan struct{})
	go func() {
		tk := time.NewTicker(5 * time.Second)
		defer tk.Stop()
		last, lastAt := int64(0), time.Now()
		for {
			select {
			case <-stopProgress:
				return
			case now := <-tk.C:
				s := saves.Load()
				fmt.Fprintf(stdout, "  %d saves, %.0f/s, %d state polls, %d errors\n", s, float64(s-last)/now.Sub(lastAt).Seconds(), polls.Load(), errCount.Load())
				last, lastAt = s, now
			}
		}
	}()
	for i, c := range cands {
		if c == nil || c.attempt == 0 {
			continue
		}
		if *poll > 0 {
			// The page's state poll (is this device still the holder? the clock): one read by key.
			wg.Add(1)
			go func() {
				defer wg.Done()
				var local []time.Duration
				time.Sleep(time.Duration(rand.Int64N(int64(*poll))))
				for time.Now().Before(end) && ctx.Err() == nil {
					t := time.Now()
					if err := c.call(ctx, "GET", fmt.Sprintf("/api/v1/attempts/%d/state", c.attempt), nil, nil); err != nil {
						errCount.Add(1)
					} else {
						polls.Add(1)
					}
					local = append(local, time.Since(t))
					time.Sleep(*poll)
				}
				mu.Lock()
				pollLat = append(pollLat, local...)
				mu.Unlock()
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			var local []time.Duration
			time.Sleep(time.Duration(rng.Int64N(int64(*think)))) // spread the first saves
			for time.Now().Before(end) && ctx.Err() == nil {
				q := c.questions[rng.IntN(len(c.questions))]
				t := time.Now()
				seq, err := c.save(ctx, q, rng)
				local = append(local, time.Since(t))
				if err != nil {
					errCount.Add(1)
				} else {
					acked[i] = append(acked[i], seq)
					saves.Add(1)
				}
				time.Sleep(time.Duration(float64(*think) * (0.5 + rng.Float64())))
			}
			mu.Lock()
			saveLat = append(saveLat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(stopProgress)
	saveWall := time.Since(saveStart)

	lost, err := lostSaves(ctx, pool, cands, acked)
	if err != nil {
		return err
	}
	slices.Sort(saveLat)
	slices.Sort(pollLat)
	var startOK []time.Duration
	for i, c := range cands {
		if c != nil && c.attempt != 0 {
			startOK = append(startOK, startLat[i])
		}
	}
	slices.Sort(startOK)
	out := map[string]any{
		"candidates":   *n,
		"starts_per_s": round1(float64(started) / startWall.Seconds()),
		"start_p99_ms": ms(pctl(startOK, 0.99)),
		"saves_per_s":  round1(float64(saves.Load()) / saveWall.Seconds()),
		"save_p50_ms":  ms(pctl(saveLat, 0.50)),
		"save_p99_ms":  ms(pctl(saveLat, 0.99)),
		"polls_per_s":  round1(float64(polls.Load()) / saveWall.Seconds()),
		"poll_p99_ms":  ms(pctl(pollLat, 0.99)),
		"errors":       errCount.Load(),
		"lost_saves":   lost,
		"start_wall_s": round1(startWall.Seconds()),
		"ramp_s":       round1(ramp.Seconds()),
	}
	b, _ := json.Marshal(out)
	fmt.Fprintln(stdout, string(b))
	return nil
}

func pctl(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

func ms(d time.Duration) float64 { return round1(float64(d) / float64(time.Millisecond)) }
func round1(f float64) float64   { return float64(int64(f*10+0.5)) / 10 }

// prepareExamBench makes (or reuses) the benchmark centre with the demo bank, n candidates, and a new
// session open now in which they are all approved. The first candidate is created through the
// accounts service; the rest copy its password hash in bulk, because hashing n passwords with
// argon2id would take minutes and measure nothing about exams.
func prepareExamBench(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, n int, d time.Duration) (int64, []string, error) {
	if _, err := accounts.SeedRegions(ctx, pool); err != nil {
		return 0, nil, err
	}
	acc, err := accounts.New(pool, cfg.SecretKey, accounts.DefaultPolicy)
	if err != nil {
		return 0, nil, err
	}
	org, err := acc.OrganisationByCode(ctx, benchCentre)
	if err != nil {
		org, err = acc.CreateOrganisation(ctx, 0, accounts.Organisation{Kind: accounts.KindTrainingCentre, Code: benchCentre, Name: "压力测试培训中心", RegionCode: "330106"})
		if err != nil {
			return 0, nil, fmt.Errorf("bench centre: %w", err)
		}
	}
	if _, err := bank.SeedDemo(ctx, pool, org.ID); err != nil {
		return 0, nil, err
	}
	first := "bench.c00001"
	if _, err := acc.UserByUsername(ctx, first); errors.Is(err, accounts.ErrUserNotFound) {
		u, err := acc.CreateUser(ctx, 0, accounts.CreateUserInput{Username: first, Name: "压测考生", Password: accounts.DemoPassword})
		if err != nil {
			return 0, nil, err
		}
		if err := acc.AddGrant(ctx, 0, u.ID, accounts.RoleCaregiver, "*"); err != nil {
			return 0, nil, err
		}
	}
	// Bulk copies of the first candidate (benchmark fixture; the accounts domain has no bulk import).
	if _, err := pool.Exec(ctx, `WITH src AS (SELECT password_hash FROM users WHERE username = $1),
		wanted AS (SELECT 'bench.c' || lpad(g::text, 5, '0') AS username FROM generate_series(2, $2) g
			WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.username = 'bench.c' || lpad(g::text, 5, '0'))),
		p AS (INSERT INTO people (name) SELECT '压测考生' FROM wanted RETURNING id),
		numbered_p AS (SELECT id, row_number() OVER (ORDER BY id) r FROM p),
		numbered_w AS (SELECT username, row_number() OVER (ORDER BY username) r FROM wanted),
		u AS (INSERT INTO users (person_id, username, password_hash)
			SELECT numbered_p.id, numbered_w.username, (SELECT password_hash FROM src) FROM numbered_p JOIN numbered_w USING (r) RETURNING id)
		INSERT INTO role_grants (user_id, role, domain) SELECT id, 'caregiver', '*' FROM u`, first, n); err != nil {
		return 0, nil, fmt.Errorf("bench candidates: %w", err)
	}
	// Re-grant the first candidate's role in the bench centre through the service: that announces a
	// policy change, so the running server loads the grants inserted in bulk above.
	fu, err := acc.UserByUsername(ctx, first)
	if err != nil {
		return 0, nil, err
	}
	grants, err := acc.GrantsOf(ctx, fu.ID)
	if err != nil {
		return 0, nil, err
	}
	for _, g := range grants {
		if g.Domain == accounts.OrgDomain(benchCentre) {
			if err := acc.RemoveGrant(ctx, 0, g.ID); err != nil {
				return 0, nil, err
			}
		}
	}
	if err := acc.AddGrant(ctx, 0, fu.ID, accounts.RoleCaregiver, accounts.OrgDomain(benchCentre)); err != nil {
		return 0, nil, err
	}
	svc := exams.New(pool, exams.Options{Names: acc})
	bp, err := svc.CreateBlueprint(ctx, 0, exams.Blueprint{CentreID: org.ID, Name: "压测卷", Occupation: "4-10-01-03", Level: 4, Mode: exams.Random,
		Sections: []exams.Section{
			{Name: "单选题", Part: exams.Theory, Count: 20, Points: 3, Type: bank.SingleChoice},
			{Name: "判断题", Part: exams.Theory, Count: 10, Points: 2, Type: bank.TrueFalse},
			{Name: "多选题", Part: exams.Theory, Count: 5, Points: 4, Type: bank.MultipleChoice},
		}})
	if err != nil {
		return 0, nil, err
	}
	now := time.Now()
	noIdentityCheck := false // synthetic candidates have no ID documents; registration is not what is measured
	x, err := svc.CreateSession(ctx, 0, exams.Session{CentreID: org.ID, BlueprintID: bp.ID, Name: "压测批次 " + now.Format("15:04:05"),
		OpensAt: now.Add(-time.Minute), ClosesAt: now.Add(d + 2*time.Hour), LatestStartAt: now.Add(time.Hour),
		Duration: d + 30*time.Minute, Grace: time.Minute, TheoryPass: 60, PracticalPass: 60, RequireVerifiedIdentity: &noIdentityCheck})
	if err != nil {
		return 0, nil, err
	}
	usernames := make([]string, n)
	for i := range usernames {
		usernames[i] = fmt.Sprintf("bench.c%05d", i+1)
	}
	rows, err := pool.Query(ctx, `SELECT person_id FROM users WHERE username = ANY($1)`, usernames)
	if err != nil {
		return 0, nil, err
	}
	var people []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, nil, err
		}
		people = append(people, id)
	}
	rows.Close()
	for _, p := range people {
		r, err := svc.Register(ctx, x.ID, p)
		if err != nil {
			return 0, nil, err
		}
		if err := svc.Decide(ctx, 0, r.ID, true, 0); err != nil {
			return 0, nil, err
		}
	}
	return x.ID, usernames, nil
}

// benchCandidate is one synthetic candidate with its own cookies.
type benchCandidate struct {
	username  string
	base      string
	http      *http.Client
	csrf      string
	attempt   int64
	device    string
	seq       int64
	questions []exams.Question
}

func newBenchCandidate(ctx context.Context, tr http.RoundTripper, base, username string) (*benchCandidate, error) {
	jar, _ := cookiejar.New(nil)
	c := &benchCandidate{username: username, base: base, http: &http.Client{Transport: tr, Jar: jar, Timeout: 60 * time.Second}}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	if err := c.call(ctx, "POST", "/api/v1/auth/login", map[string]string{"username": username, "password": accounts.DemoPassword}, &out); err != nil {
		return nil, err
	}
	c.csrf = out.CSRF
	return c, nil
}

func (c *benchCandidate) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.device != "" {
		req.Header.Set("X-Exam-Device", c.device)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %.200s", method, path, res.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (c *benchCandidate) start(ctx context.Context, sessionID int64) error {
	var st exams.Started
	if err := c.call(ctx, "POST", fmt.Sprintf("/api/v1/exam-sessions/%d/start", sessionID), nil, &st); err != nil {
		return err
	}
	c.attempt, c.device = st.Attempt.ID, st.DeviceToken
	var v exams.View
	if err := c.call(ctx, "GET", fmt.Sprintf("/api/v1/attempts/%d/paper", c.attempt), nil, &v); err != nil {
		c.attempt = 0
		return err
	}
	c.questions, c.seq = v.Questions, v.LastSeq
	return nil
}

func (c *benchCandidate) save(ctx context.Context, q exams.Question, rng *rand.Rand) (int64, error) {
	c.seq++
	var a exams.Answer
	switch q.Type {
	case "true_false":
		t := rng.IntN(2) == 0
		a.Truth = &t
	default:
		if len(q.Options) > 0 {
			a.Choices = []int{rng.IntN(len(q.Options))}
		}
	}
	err := c.call(ctx, "POST", fmt.Sprintf("/api/v1/attempts/%d/answers", c.attempt), map[string]any{"seq": c.seq, "item": q.Position, "response": a}, nil)
	return c.seq, err
}

// lostSaves counts acknowledged saves that the database does not hold.
func lostSaves(ctx context.Context, pool *pgxpool.Pool, cands []*benchCandidate, acked [][]int64) (int, error) {
	var ids []int64
	for _, c := range cands {
		if c != nil && c.attempt != 0 {
			ids = append(ids, c.attempt)
		}
	}
	stored := map[[2]int64]bool{}
	rows, err := pool.Query(ctx, `SELECT attempt_id, seq FROM exam_answers WHERE attempt_id = ANY($1)`, ids)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var k [2]int64
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			rows.Close()
			return 0, err
		}
		stored[k] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	lost := 0
	for i, c := range cands {
		for _, seq := range acked[i] {
			if !stored[[2]int64{c.attempt, seq}] {
				lost++
			}
		}
	}
	return lost, nil
}
