package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/internal/config"
)

func init() { benches["login"] = benchLogin }

// loginBench is what one run of `shanyu bench login` measures.
type loginBench struct {
	Users        int     `json:"users"`
	Concurrency  int     `json:"concurrency"`
	Cores        int     `json:"cores"`
	HashMS       float64 `json:"hash_ms"`         // one argon2id hash, measured here first
	TargetPerSec float64 `json:"target_logins_s"` // 0.9 × cores ÷ hash time
	LoginsPerSec float64 `json:"logins_s"`
	P50MS        float64 `json:"p50_ms"`
	P99MS        float64 `json:"p99_ms"`
	Errors       int64   `json:"errors"`
	Busy         int64   `json:"busy_503"`
	WallS        float64 `json:"wall_s"`
	RSSBeforeMB  float64 `json:"rss_before_mib,omitempty"`
	RSSPeakMB    float64 `json:"rss_peak_mib,omitempty"`
	RSSGrowthMB  float64 `json:"rss_growth_mib,omitempty"`
}

// benchLogin signs in --users distinct users, --concurrency at a time, and reports logins/s, latency
// and errors; with --pid (a server on this machine) also the server's resident memory before and at
// its peak, read from /proc. The users (bench.l00001…) are created in the database first, all with
// the demo password, by copying one real argon2id hash.
func benchLogin(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench login", flag.ContinueOnError)
	fs.SetOutput(stdout)
	base := fs.String("base", "http://127.0.0.1:8080", "the server to sign in to")
	users := fs.Int("users", 2000, "distinct users to sign in")
	conc := fs.Int("concurrency", 500, "sign-ins in flight at once")
	pid := fs.Int("pid", 0, "the server's process id, to read its memory from /proc")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	if *users <= 0 || *conc <= 0 {
		return fmt.Errorf("users and concurrency must be positive: %w", errUsage)
	}
	pool, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	fmt.Fprintf(stdout, "preparing %d users…\n", *users)
	names, err := prepareLoginBench(ctx, cfg, pool, *users)
	if err != nil {
		return err
	}
	res, err := runLoginBench(ctx, strings.TrimRight(*base, "/"), names, *conc, *pid, stdout)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(res)
	fmt.Fprintln(stdout, string(b))
	return nil
}

// runLoginBench is the measurement itself, shared with the memory test.
func runLoginBench(ctx context.Context, base string, names []string, conc, pid int, stdout io.Writer) (loginBench, error) {
	res := loginBench{Users: len(names), Concurrency: conc, Cores: runtime.NumCPU()}
	hash := accounts.MeasureHash()
	res.HashMS = ms(hash)
	res.TargetPerSec = round1(0.9 * float64(res.Cores) / hash.Seconds())
	fmt.Fprintf(stdout, "one argon2id hash takes %.1f ms here: target %.1f logins/s on %d cores\n", res.HashMS, res.TargetPerSec, res.Cores)
	if pid > 0 {
		if err := resetPeakRSS(pid); err != nil {
			return res, err
		}
		rss, _, err := processRSS(pid)
		if err != nil {
			return res, err
		}
		res.RSSBeforeMB = mib(rss)
	}
	tr := &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc, IdleConnTimeout: 20 * time.Second}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 90 * time.Second}
	lat := make([]time.Duration, len(names))
	var next, errs, busy atomic.Int64
	var wg sync.WaitGroup
	var outMu sync.Mutex // the workers report on one writer
	say := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(stdout, format, args...)
	}
	t0 := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(names) || ctx.Err() != nil {
					return
				}
				t := time.Now()
				status, err := benchSignIn(ctx, client, base, names[i])
				lat[i] = time.Since(t)
				switch {
				case err != nil || status != http.StatusOK:
					if errs.Add(1) <= 5 {
						say("  login %s: status %d %v\n", names[i], status, err)
					}
					if status == http.StatusServiceUnavailable {
						busy.Add(1)
					}
				}
				if n := i + 1; n%200 == 0 {
					say("  %d signed in\n", n)
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(t0)
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	res.WallS = round1(wall.Seconds())
	res.LoginsPerSec = round1(float64(len(names)-int(errs.Load())) / wall.Seconds())
	res.P50MS, res.P99MS = ms(pctl(lat, 0.50)), ms(pctl(lat, 0.99))
	res.Errors, res.Busy = errs.Load(), busy.Load()
	if pid > 0 {
		_, peak, err := processRSS(pid)
		if err != nil {
			return res, err
		}
		res.RSSPeakMB = mib(peak)
		res.RSSGrowthMB = round1(res.RSSPeakMB - res.RSSBeforeMB)
	}
	return res, ctx.Err()
}

func benchSignIn(ctx context.Context, client *http.Client, base, username string) (int, error) {
	body, _ := json.Marshal(map[string]string{"username": username, "password": accounts.DemoPassword})
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/auth/login", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	r, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, r.Body)
	_ = r.Body.Close()
	return r.StatusCode, nil
}

// prepareLoginBench makes (or reuses) n caregiver accounts bench.l00001…: the first through the
// accounts service, the rest by copying its password hash in bulk (hashing each would take as long
// as the bench itself).
func prepareLoginBench(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, n int) ([]string, error) {
	acc, err := accounts.New(pool, cfg.SecretKey, accounts.DefaultPolicy)
	if err != nil {
		return nil, err
	}
	first := "bench.l00001"
	if _, err := acc.UserByUsername(ctx, first); errors.Is(err, accounts.ErrUserNotFound) {
		u, err := acc.CreateUser(ctx, 0, accounts.CreateUserInput{Username: first, Name: "压测用户", Password: accounts.DemoPassword})
		if err != nil {
			return nil, err
		}
		if err := acc.AddGrant(ctx, 0, u.ID, accounts.RoleCaregiver, accounts.DomainAll); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	// Benchmark fixture: the accounts domain has no bulk import.
	if _, err := pool.Exec(ctx, `WITH src AS (SELECT password_hash FROM users WHERE username = $1),
		wanted AS (SELECT 'bench.l' || lpad(g::text, 5, '0') AS username FROM generate_series(2, $2) g
			WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.username = 'bench.l' || lpad(g::text, 5, '0'))),
		p AS (INSERT INTO people (name) SELECT '压测用户' FROM wanted RETURNING id),
		numbered_p AS (SELECT id, row_number() OVER (ORDER BY id) r FROM p),
		numbered_w AS (SELECT username, row_number() OVER (ORDER BY username) r FROM wanted)
		INSERT INTO users (person_id, username, password_hash)
			SELECT numbered_p.id, numbered_w.username, (SELECT password_hash FROM src) FROM numbered_p JOIN numbered_w USING (r)`, first, n); err != nil {
		return nil, fmt.Errorf("bench users: %w", err)
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("bench.l%05d", i+1)
	}
	return names, nil
}

// processRSS reads a process's resident memory now and at its peak (VmRSS, VmHWM) in bytes.
func processRSS(pid int) (rss, peak int64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb << 10
		case "VmHWM:":
			peak = kb << 10
		}
	}
	if rss == 0 || peak == 0 {
		return 0, 0, fmt.Errorf("no VmRSS/VmHWM in /proc/%d/status", pid)
	}
	return rss, peak, nil
}

// resetPeakRSS sets VmHWM back to the current RSS (Linux: "5" to clear_refs), so that the next peak
// read is this measurement's.
func resetPeakRSS(pid int) error {
	return os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0)
}

func mib(b int64) float64 { return round1(float64(b) / (1 << 20)) }
