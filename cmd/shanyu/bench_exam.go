package main

import (
	"bytes"
	"compress/gzip"
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
// centre (created in the database, every paper built before the start as approval builds it) sign in
// over HTTP (measured as its own phase with --login: all at once, as the hashing queue admits them),
// press start together (all within the same second, or spread uniformly over --ramp), get their
// paper (with the start's answer, as the page does: first_paper is then the start's own time; with a
// GET when the start did not carry it), save answers with think time for the given duration, and submit. Each phase is reported
// with its p50 and p99, and every failed request by phase, status and error code. At the end every
// save the clients saw acknowledged is looked up in the database: lost_saves counts the ones missing.
func benchExam(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench exam", flag.ContinueOnError)
	fs.SetOutput(stdout)
	base := fs.String("base", "http://127.0.0.1:8080", "the server to load")
	o := examBenchOptions{}
	fs.IntVar(&o.Candidates, "candidates", 200, "number of candidates")
	fs.DurationVar(&o.Duration, "duration", 30*time.Second, "how long candidates keep saving answers")
	fs.DurationVar(&o.Think, "think", time.Second, "mean think time between two saves of one candidate")
	fs.IntVar(&o.LoginConcurrency, "login-concurrency", 8, "concurrent sign-ins when --login is not given (each costs an argon2id hash on the server)")
	fs.BoolVar(&o.Login, "login", false, "measure the sign-in of every candidate as its own phase, all of them at once")
	fs.DurationVar(&o.Ramp, "ramp", 0, "spread the starts uniformly over this time (0: all within the same second)")
	fs.DurationVar(&o.Poll, "poll", 3*time.Second, "each candidate's state poll interval, as the exam page polls (0: none)")
	fs.DurationVar(&o.RetryFor, "retry-for", 30*time.Second, "how long after the saving time a failed save or submit is still retried, as the exam page retries it")
	faultCmd := fs.String("fault", "", "a shell command run once, --fault-after into the saving (a drill's fault: kill a replica, restart the database …)")
	fs.DurationVar(&o.FaultAfter, "fault-after", 0, "when into the saving --fault runs (0: a third of --duration)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	if o.Candidates <= 0 || o.Duration <= 0 || o.Think <= 0 || o.Ramp < 0 || o.Poll < 0 || o.LoginConcurrency <= 0 || o.RetryFor < 0 || o.FaultAfter < 0 {
		return fmt.Errorf("candidates, duration, think and login-concurrency must be positive, ramp, poll, retry-for and fault-after not negative: %w", errUsage)
	}
	if *faultCmd != "" {
		if o.FaultAfter == 0 {
			o.FaultAfter = o.Duration / 3
		}
		if o.FaultAfter >= o.Duration {
			return fmt.Errorf("fault-after (%s) must be within the saving time (%s): %w", o.FaultAfter, o.Duration, errUsage)
		}
		o.Fault = shellFault(*faultCmd, stdout)
		o.FaultName = *faultCmd
	}
	o.Base = strings.TrimRight(*base, "/")
	pool, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	res, err := runExamBench(ctx, cfg, pool, o, stdout)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(res)
	fmt.Fprintln(stdout, string(b))
	return nil
}

// examBenchOptions are the bench's settings.
type examBenchOptions struct {
	Base             string
	Candidates       int
	Duration, Think  time.Duration
	LoginConcurrency int
	Login            bool
	Ramp, Poll       time.Duration
	// RetryFor is how long past the saving time a failed save or submit is still retried.
	RetryFor time.Duration
	// Fault, when set, runs once FaultAfter into the saving (FaultName says what it is).
	Fault      func(context.Context) error
	FaultName  string
	FaultAfter time.Duration
}

// phase is the figures of one phase: requests that succeeded, their latency, and how many failed.
type phase struct {
	OK     int     `json:"ok"`
	Failed int     `json:"failed"`
	P50MS  float64 `json:"p50_ms"`
	P99MS  float64 `json:"p99_ms"`
	MaxMS  float64 `json:"max_ms"`
	WallS  float64 `json:"wall_s"`
	PerS   float64 `json:"per_s"`
}

// examBench is what the bench reports.
type examBench struct {
	Candidates int              `json:"candidates"`
	RampS      float64          `json:"ramp_s"`
	Load1      float64          `json:"load1"` // the machine's load average when the starts began
	Login      *phase           `json:"login,omitempty"`
	Open       phase            `json:"open"` // the exam page before the start (not part of the targets)
	Start      phase            `json:"start"`
	FirstPaper phase            `json:"first_paper"`
	Save       phase            `json:"save"`
	Poll       phase            `json:"poll"`
	Submit     phase            `json:"submit"`
	Errors     int              `json:"errors"`
	ErrorKinds map[string]int64 `json:"error_kinds"` // "phase status code" (or "phase transport kind") → count
	// AcknowledgedSaves is the saves the server acknowledged (Save.OK); RetriedSaves of them were
	// acknowledged only after failing at least once; AbandonedSaves were never acknowledged (refused
	// as invalid, or still failing RetryFor after the saving time).
	AcknowledgedSaves int `json:"acknowledged_saves"`
	RetriedSaves      int `json:"retried_saves"`
	AbandonedSaves    int `json:"abandoned_saves"`
	// Relogins is how many candidates were told to sign in again (401): the session was lost.
	Relogins  int           `json:"relogins"`
	LostSaves int           `json:"lost_saves"`
	CheckedOn string        `json:"checked_on"` // the database server the lost saves were counted on (host:port)
	Fault     *faultFigures `json:"fault,omitempty"`
}

// recorder collects one phase's latencies and failures.
type recorder struct {
	mu    sync.Mutex
	lat   []time.Duration
	fail  int
	kinds map[string]int64
	name  string
}

func newRecorder(name string, kinds map[string]int64) *recorder {
	return &recorder{name: name, kinds: kinds}
}

var kindsMu sync.Mutex

func (r *recorder) add(d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.lat = append(r.lat, d)
		return
	}
	r.fail++
	kind := r.name + " transport " + transportKind(err)
	var he *httpError
	if errors.As(err, &he) {
		kind = fmt.Sprintf("%s %d %s", r.name, he.Status, he.Code)
	}
	kindsMu.Lock()
	r.kinds[kind]++
	kindsMu.Unlock()
}

func (r *recorder) phase(wall time.Duration) phase {
	r.mu.Lock()
	defer r.mu.Unlock()
	slices.Sort(r.lat)
	p := phase{OK: len(r.lat), Failed: r.fail, P50MS: ms(pctl(r.lat, 0.50)), P99MS: ms(pctl(r.lat, 0.99)), WallS: round1(wall.Seconds())}
	if len(r.lat) > 0 {
		p.MaxMS = ms(r.lat[len(r.lat)-1])
	}
	if wall > 0 {
		p.PerS = round1(float64(len(r.lat)) / wall.Seconds())
	}
	return p
}

// httpError is a request the server answered with another status than 200, with the error code of
// its JSON body.
type httpError struct {
	Status int
	Code   string
	Body   string
}

func (e *httpError) Error() string { return fmt.Sprintf("%d %s %.200s", e.Status, e.Code, e.Body) }

// runExamBench runs the bench against o.Base, whose database pool is pool.
func runExamBench(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, o examBenchOptions, stdout io.Writer) (examBench, error) {
	n := o.Candidates
	res := examBench{Candidates: n, RampS: round1(o.Ramp.Seconds()), ErrorKinds: map[string]int64{}}
	fmt.Fprintf(stdout, "preparing %d candidates in centre %s (papers built at approval)…\n", n, benchCentre)
	sessionID, usernames, err := prepareExamBench(ctx, cfg, pool, n, o.Duration)
	if err != nil {
		return res, err
	}
	// Each candidate has a transport of its own, as each sits at a phone of their own: their page is
	// open on a connection of theirs when they press start, and the start does not measure a storm
	// of n new connections that no exam room makes at that second.
	transports := make([]*http.Transport, n)
	for i := range transports {
		transports[i] = &http.Transport{MaxIdleConns: 4, MaxIdleConnsPerHost: 4, IdleConnTimeout: 20 * time.Second, // under the server's 30-s read timeout
			DisableCompression: true} // call asks for gzip itself and decompresses with pooled readers
	}
	defer func() {
		for _, t := range transports {
			t.CloseIdleConnections()
		}
	}()
	cands := make([]*benchCandidate, n)
	var wg sync.WaitGroup

	// Sign in: with --login all at once and measured; otherwise a few at a time, not measured
	// (argon2id is meant to be slow, and the login bench measures it).
	logins := newRecorder("login", res.ErrorKinds)
	conc := o.LoginConcurrency
	if o.Login {
		conc = n
	}
	fmt.Fprintf(stdout, "signing in %d candidates, %d at a time…\n", n, conc)
	t0 := time.Now()
	forEachBounded(ctx, n, conc, func(i int) {
		var c *benchCandidate
		var err error
		// A sign-in the load balancer or the server could not take (5xx, 429, no answer) is
		// tried again, as a candidate would, for RetryFor.
		rng, giveUp := rand.New(rand.NewPCG(uint64(i), 5)), time.Now().Add(o.RetryFor)
		for wait := retryFirst; ; wait = backoff(wait, rng) {
			t := time.Now()
			c, err = newBenchCandidate(ctx, transports[i], o.Base, usernames[i])
			logins.add(time.Since(t), err)
			if err == nil || !retryable(err) || time.Now().After(giveUp) || ctx.Err() != nil {
				break
			}
		}
		if err != nil {
			fmt.Fprintf(stdout, "  login %s: %v\n", usernames[i], err)
			return
		}
		cands[i] = c
	})
	if o.Login {
		p := logins.phase(time.Since(t0))
		res.Login = &p
	}

	// Every candidate opens the exam page (its instructions and 开始考试) before the start, 64 at a
	// time, as they do in the minutes before it: that is the connection their start goes out on.
	opens := newRecorder("open", res.ErrorKinds)
	fmt.Fprintf(stdout, "opening the exam page for %d candidates, 64 at a time…\n", n)
	t0 = time.Now()
	forEachBounded(ctx, n, 64, func(i int) {
		if c := cands[i]; c != nil {
			t := time.Now()
			err := c.openExamPage(ctx, sessionID)
			opens.add(time.Since(t), err)
		}
	})
	res.Open = opens.phase(time.Since(t0))

	// Start together, or spread over the ramp: candidate i starts i/n of the way into it.
	starts, papers := newRecorder("start", res.ErrorKinds), newRecorder("first_paper", res.ErrorKinds)
	fmt.Fprintf(stdout, "starting %d attempts (ramp %s)…\n", n, o.Ramp)
	res.Load1 = loadAverage()
	gate := make(chan struct{})
	for i, c := range cands {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			time.Sleep(time.Until(t0.Add(o.Ramp * time.Duration(i) / time.Duration(n))))
			t := time.Now()
			err := c.start(ctx, sessionID)
			took := time.Since(t)
			starts.add(took, err)
			if err != nil {
				fmt.Fprintf(stdout, "  start %s: %v\n", c.username, err)
				return
			}
			if c.questions != nil {
				papers.add(took, nil) // the start answered with the paper: the page waited for that one request
				return
			}
			// The paper is a read: tried again as the page tries it (for RetryFor) when it gets no answer.
			rng, giveUp := rand.New(rand.NewPCG(uint64(i), 3)), time.Now().Add(o.RetryFor)
			for wait := retryFirst; ; wait = backoff(wait, rng) {
				t = time.Now()
				err = c.firstPaper(ctx)
				papers.add(time.Since(t), err)
				if err == nil || !retryable(err) || time.Now().After(giveUp) || ctx.Err() != nil {
					break
				}
			}
			if err != nil {
				fmt.Fprintf(stdout, "  paper %s: %v\n", c.username, err)
			}
		}()
	}
	t0 = time.Now()
	close(gate)
	wg.Wait()
	res.Start = starts.phase(time.Since(t0))
	res.FirstPaper = papers.phase(time.Since(t0))
	fmt.Fprintf(stdout, "  %d started in %.1f s\n", res.Start.OK, time.Since(t0).Seconds())

	// Save with think time.
	fmt.Fprintf(stdout, "saving answers for %s (think %s)…\n", o.Duration, o.Think)
	saves, polls := newRecorder("save", res.ErrorKinds), newRecorder("poll", res.ErrorKinds)
	var saved atomic.Int64
	acked := make([][]int64, n) // per candidate: acknowledged seqs
	end := time.Now().Add(o.Duration)
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
				s := saved.Load()
				fmt.Fprintf(stdout, "  %d saves, %.0f/s\n", s, float64(s-last)/now.Sub(lastAt).Seconds())
				last, lastAt = s, now
			}
		}
	}()
	tl := &faultTimeline{}
	if o.Fault != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res.Fault = runFault(ctx, o, saveStart, tl, stdout)
		}()
	}
	var retried, abandoned atomic.Int64
	for i, c := range cands {
		if c == nil || len(c.questions) == 0 {
			continue
		}
		if o.Poll > 0 {
			// The page's state poll (is this device still the holder? the clock): one read by key.
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(rand.Int64N(int64(o.Poll))))
				for time.Now().Before(end) && ctx.Err() == nil {
					t := time.Now()
					err := c.call(ctx, "GET", fmt.Sprintf("/api/v1/attempts/%d/state", c.attempt), nil, nil)
					polls.add(time.Since(t), err)
					if c.signedOut(err) {
						return
					}
					time.Sleep(o.Poll)
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			time.Sleep(time.Duration(rng.Int64N(int64(o.Think)))) // spread the first saves
			for time.Now().Before(end) && ctx.Err() == nil && !c.relogin.Load() {
				q := c.questions[rng.IntN(len(c.questions))]
				seq, a := c.answer(q, rng)
				// As the exam page does: a save that fails for want of a server is sent again, the same
				// answer under the same seq, until it is acknowledged (or RetryFor after the end).
				hit, wait := false, retryFirst
				for {
					t := time.Now()
					err := c.save(ctx, seq, q, a)
					saves.add(time.Since(t), err)
					if err == nil {
						acked[i] = append(acked[i], seq)
						saved.Add(1)
						if hit {
							retried.Add(1)
							tl.recovered(time.Now())
						}
						break
					}
					hit = hit || tl.hit(time.Now())
					if c.signedOut(err) || !retryable(err) || time.Now().After(end.Add(o.RetryFor)) || ctx.Err() != nil {
						abandoned.Add(1)
						fmt.Fprintf(stdout, "  save %s seq %d given up: %v\n", c.username, seq, err)
						break
					}
					wait = backoff(wait, rng)
				}
				time.Sleep(time.Duration(float64(o.Think) * (0.5 + rng.Float64())))
			}
		}()
	}
	wg.Wait()
	close(stopProgress)
	res.Save = saves.phase(time.Since(saveStart))
	res.Poll = polls.phase(time.Since(saveStart))
	res.AcknowledgedSaves, res.RetriedSaves, res.AbandonedSaves = res.Save.OK, int(retried.Load()), int(abandoned.Load())
	if res.Fault != nil {
		tl.figures(res.Fault)
	}

	// Submit, all together (a sitting's end).
	submits := newRecorder("submit", res.ErrorKinds)
	t0 = time.Now()
	giveUp := time.Now().Add(o.RetryFor)
	for i, c := range cands {
		if c == nil || c.attempt == 0 || c.relogin.Load() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 11))
			// A submit is idempotent (a submitted attempt is answered as it is), so it is retried as the page does.
			for wait := retryFirst; ; wait = backoff(wait, rng) {
				t := time.Now()
				err := c.call(ctx, "POST", fmt.Sprintf("/api/v1/attempts/%d/submit", c.attempt), nil, nil)
				submits.add(time.Since(t), err)
				if err == nil || c.signedOut(err) || !retryable(err) || time.Now().After(giveUp) || ctx.Err() != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	res.Submit = submits.phase(time.Since(t0))

	if res.LostSaves, res.CheckedOn, err = lostSaves(ctx, pool, cands, acked); err != nil {
		return res, err
	}
	for _, c := range cands {
		if c != nil && c.relogin.Load() {
			res.Relogins++
		}
	}
	for _, k := range res.ErrorKinds {
		res.Errors += int(k)
	}
	return res, nil
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
	full, err := services(ctx, cfg, pool)
	if err != nil {
		return 0, nil, err
	}
	defer full.Close()
	svc := full.Exams
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
	// Register and approve, a few at a time; each approval enqueues the building of the candidate's
	// paper, and the papers are then built here, before the run, rather than by the server's workers
	// during it (the queued jobs then find them built).
	var next atomic.Int64
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for w := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(people) && errs[w] == nil; i = int(next.Add(1)) - 1 {
				r, err := svc.Register(ctx, x.ID, people[i])
				if err == nil {
					err = svc.Decide(ctx, 0, r.ID, true, 0)
				}
				errs[w] = err
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, nil, err
	}
	if _, err := svc.BuildPapers(ctx, x.ID); err != nil {
		return 0, nil, fmt.Errorf("papers: %w", err)
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
	questions []benchQuestion
	relogin   atomic.Bool // the server said 401: this candidate would have to sign in again
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
	req.Header.Set("Accept-Encoding", "gzip") // as a browser does
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer func() { buf.Reset(); bodyBuffers.Put(buf) }()
	if err := readBody(buf, res); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	b := buf.Bytes()
	if res.StatusCode != http.StatusOK {
		e := &httpError{Status: res.StatusCode, Body: string(b)}
		var body struct {
			Error struct {
				Code string `json:"code"`
				Key  string `json:"key"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &body) == nil {
			e.Code = body.Error.Code
			if body.Error.Key != "" && body.Error.Key != "error."+body.Error.Code {
				e.Code += " " + body.Error.Key
			}
		}
		return fmt.Errorf("%s %s: %w", method, path, e)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// Decompressing and reading bodies with readers and buffers used again: Go's transport makes a new
// gzip reader (its window and tables) for every answer, and the bench's processor time is taken from
// the server's on this machine, while each candidate's phone decodes on a processor of its own.
var (
	gzipReaders sync.Pool // *gzip.Reader
	bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// maxAnswer bounds what the bench reads of one answer, decompressed: a paper is tens of KB.
const maxAnswer = 16 << 20

// readBody reads an answer's body into buf, decompressed when it came gzip-compressed (the reader
// checks the stream's checksum and length at its end), refusing more than maxAnswer bytes.
func readBody(buf *bytes.Buffer, res *http.Response) error {
	if res.Header.Get("Content-Encoding") != "gzip" {
		return readBounded(buf, res.Body)
	}
	zr, _ := gzipReaders.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(res.Body)
	} else {
		err = zr.Reset(res.Body)
	}
	if err != nil {
		return fmt.Errorf("gzip: %w", err)
	}
	defer gzipReaders.Put(zr)
	if err := readBounded(buf, zr); err != nil {
		return fmt.Errorf("gzip: %w", err)
	}
	return nil
}

func readBounded(buf *bytes.Buffer, r io.Reader) error {
	if _, err := buf.ReadFrom(io.LimitReader(r, maxAnswer+1)); err != nil {
		return err
	}
	if buf.Len() > maxAnswer {
		return fmt.Errorf("answer longer than %d bytes", maxAnswer)
	}
	return nil
}

// forEachBounded calls f(i) for every i in [0, n), from at most conc goroutines at once, and returns
// when all calls have (or ctx has ended).
func forEachBounded(ctx context.Context, n, conc int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(conc, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// openExamPage loads the exam page as the candidate opens it before the start: the instructions.
func (c *benchCandidate) openExamPage(ctx context.Context, sessionID int64) error {
	return c.call(ctx, "GET", fmt.Sprintf("/exams/sessions/%d/take", sessionID), nil, nil)
}

// benchQuestion is what the bench reads of a question: its place, its type and how many options it
// has. The start answers with the whole paper (stems, options, gaps, images); decoding only these
// fields keeps the bench's own processor time, which shares the server's cores here, from being
// taken off the server's: decoding whole papers was 44 % of the bench's CPU in the start phase
// (pprof, 2,000 candidates), and a candidate's phone decodes its paper on a processor of its own.
type benchQuestion struct {
	Position int            `json:"position"`
	Type     string         `json:"type"`
	Options  []skippedValue `json:"options"`
}

// benchPaper is what the bench reads of a paper (exams.View).
type benchPaper struct {
	Questions []benchQuestion `json:"questions"`
	LastSeq   int64           `json:"last_seq"`
}

// skippedValue stands for a JSON value the bench only counts.
type skippedValue struct{}

// UnmarshalJSON ignores the value.
func (*skippedValue) UnmarshalJSON([]byte) error { return nil }

func (c *benchCandidate) start(ctx context.Context, sessionID int64) error {
	var st struct { // exams.Started, as much as the bench uses
		Attempt struct {
			ID int64 `json:"id"`
		} `json:"attempt"`
		DeviceToken string      `json:"device_token"`
		Paper       *benchPaper `json:"paper"`
	}
	if err := c.call(ctx, "POST", fmt.Sprintf("/api/v1/exam-sessions/%d/start", sessionID), nil, &st); err != nil {
		return err
	}
	c.attempt, c.device = st.Attempt.ID, st.DeviceToken
	if st.Paper != nil {
		c.questions, c.seq = st.Paper.Questions, st.Paper.LastSeq
	}
	return nil
}

// firstPaper reads the paper right after the start, as the exam page does.
func (c *benchCandidate) firstPaper(ctx context.Context) error {
	var v benchPaper
	if err := c.call(ctx, "GET", fmt.Sprintf("/api/v1/attempts/%d/paper", c.attempt), nil, &v); err != nil {
		return err
	}
	c.questions, c.seq = v.Questions, v.LastSeq
	return nil
}

// answer numbers the candidate's next save and chooses its answer to q.
func (c *benchCandidate) answer(q benchQuestion, rng *rand.Rand) (int64, exams.Answer) {
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
	return c.seq, a
}

// save sends one save; sent again after a failure, it is the same save (seq, item and answer).
func (c *benchCandidate) save(ctx context.Context, seq int64, q benchQuestion, a exams.Answer) error {
	return c.call(ctx, "POST", fmt.Sprintf("/api/v1/attempts/%d/answers", c.attempt), map[string]any{"seq": seq, "item": q.Position, "response": a}, nil)
}

// signedOut says whether err is the server's 401, and marks the candidate as one who would have to
// sign in again.
func (c *benchCandidate) signedOut(err error) bool {
	var he *httpError
	if errors.As(err, &he) && he.Status == http.StatusUnauthorized {
		c.relogin.Store(true)
		return true
	}
	return false
}

// lostSaves counts acknowledged saves that the database does not hold, and names the server it
// counted them on (host:port; after a failover, the promoted standby). The check is tried again for a
// while when the database does not answer, as after a fault it may still be coming back.
func lostSaves(ctx context.Context, pool *pgxpool.Pool, cands []*benchCandidate, acked [][]int64) (int, string, error) {
	var ids []int64
	for _, c := range cands {
		if c != nil && c.attempt != 0 {
			ids = append(ids, c.attempt)
		}
	}
	var stored map[[2]int64]bool
	var server string
	var err error
	for try := 0; try < 20; try++ {
		if stored, server, err = storedSaves(ctx, pool, ids); err == nil || ctx.Err() != nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err != nil {
		return 0, "", fmt.Errorf("count the stored saves: %w", err)
	}
	lost := 0
	for i, c := range cands {
		for _, seq := range acked[i] {
			if !stored[[2]int64{c.attempt, seq}] {
				lost++
			}
		}
	}
	return lost, server, nil
}

// storedSaves reads the (attempt, seq) of every answer stored for the attempts, on one connection of
// a primary, and the address of that server.
func storedSaves(ctx context.Context, pool *pgxpool.Pool, ids []int64) (map[[2]int64]bool, string, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, "", err
	}
	defer conn.Release()
	var server string
	var standby bool
	if err := conn.QueryRow(ctx, `SELECT coalesce(host(inet_server_addr()), 'socket') || ':' || coalesce(inet_server_port()::text, ''), pg_is_in_recovery()`).Scan(&server, &standby); err != nil {
		return nil, "", err
	}
	if standby {
		return nil, "", fmt.Errorf("%s is a standby", server)
	}
	stored := map[[2]int64]bool{}
	rows, err := conn.Query(ctx, `SELECT attempt_id, seq FROM exam_answers WHERE attempt_id = ANY($1)`, ids)
	if err != nil {
		return nil, "", err
	}
	for rows.Next() {
		var k [2]int64
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			rows.Close()
			return nil, "", err
		}
		stored[k] = true
	}
	rows.Close()
	return stored, server, rows.Err()
}
