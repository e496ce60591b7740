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
	"syscall"
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
	HashMS       float64 `json:"hash_ms"`         // one argon2id hash, measured here first (median of 5)
	HashCPUMS    float64 `json:"hash_cpu_ms"`     // the processor time of that hash
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
	// Where the processor time went: the server's per sign-in (with --pid), to set beside one
	// hash's, and the bench client's own, which shares the machine's cores with the server.
	ServerCPUMS float64 `json:"server_cpu_ms_per_login,omitempty"`
	ClientCPUS  float64 `json:"client_cpu_s"`
	Load1       float64 `json:"load1_before"` // the machine's 1-minute load average as the run began
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
	hash, hashCPU := accounts.MeasureHash()
	res.HashMS, res.HashCPUMS = ms(hash), ms(hashCPU)
	res.Load1 = loadAverage()
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
	var serverCPU0 time.Duration
	if pid > 0 {
		var err error
		if serverCPU0, err = processCPUTime(pid); err != nil {
			return res, err
		}
	}
	clientCPU0 := selfCPU()
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
	res.ClientCPUS = round1((selfCPU() - clientCPU0).Seconds())
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
		cpu, err := processCPUTime(pid)
		if err != nil {
			return res, err
		}
		if ok := len(names) - int(errs.Load()); ok > 0 {
			res.ServerCPUMS = ms((cpu - serverCPU0) / time.Duration(ok))
		}
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
	// Users left by a run with other hash parameters would measure those: give them today's.
	var stored string
	if err := pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE username = $1`, first).Scan(&stored); err != nil {
		return nil, fmt.Errorf("bench users: %w", err)
	}
	if !accounts.HashParamsCurrent(stored) {
		h, err := accounts.NewHash(accounts.DemoPassword)
		if err != nil {
			return nil, err
		}
		if _, err := pool.Exec(ctx, `UPDATE users SET password_hash = $1 WHERE username LIKE 'bench.l%'`, h); err != nil {
			return nil, fmt.Errorf("bench users: %w", err)
		}
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

// processCPUTime reads a process's processor time so far (utime + stime in /proc/<pid>/stat).
func processCPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields after its closing one.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// clockTicks is USER_HZ, the unit of /proc's times: 100 on every Linux architecture Go supports.
const clockTicks = 100

func selfCPU() time.Duration {
	var r syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// loadAverage is the 1-minute load average (/proc/loadavg), 0 when unreadable.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

func mib(b int64) float64 { return round1(float64(b) / (1 << 20)) }
