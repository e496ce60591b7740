package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
	"shanyu/certificates"
	"shanyu/curriculum"
	"shanyu/internal/config"
	"shanyu/internal/jobs"
)

func init() { benches["verify"] = benchVerify }

// benchVerify loads GET /api/v1/verify/{code} of a running server, then, in the same run and with
// the same load, a bare fiber handler doing one pgx SELECT 1 that it starts itself: the baseline
// tells what the machine and the database allow, so the ratio is comparable across machines.
func benchVerify(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench verify", flag.ContinueOnError)
	fs.SetOutput(stdout)
	base := fs.String("base", "http://127.0.0.1:8080", "the server to load")
	duration := fs.Duration("duration", 10*time.Second, "how long to load each target")
	conns := fs.Int("connections", 64, "concurrent connections")
	code := fs.String("code", "", "verification code to ask for (default: a valid certificate from the database)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	pool, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if *code == "" {
		acc, err := accounts.New(pool, cfg.SecretKey, accounts.DefaultPolicy)
		if err != nil {
			return err
		}
		inserter, err := jobs.NewInserter(pool, nil)
		if err != nil {
			return err
		}
		svc := certificates.New(pool, certificates.Config{BaseURL: cfg.BaseURL, Secret: cfg.SecretKey, Directory: acc, Notices: accounts.NewNotices(inserter),
			Hours: curriculum.New(pool, cfg.SecretKey, curriculum.Options{Directory: acc})})
		items, _, err := svc.List(ctx, certificates.Filter{Scope: certificates.Scope{All: true}, State: certificates.StateValid, Limit: 1})
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return fmt.Errorf("no valid certificate to verify: run `shanyu seed demo` or pass --code: %w", errUsage)
		}
		*code = items[0].Code
	}
	target := strings.TrimRight(*base, "/") + "/api/v1/verify/" + *code
	if err := checkOnce(ctx, target); err != nil {
		return err
	}

	// The baseline: one pgx round trip per request, nothing else.
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/", func(c *fiber.Ctx) error {
		var one int
		if err := pool.QueryRow(c.UserContext(), `SELECT 1`).Scan(&one); err != nil {
			return err
		}
		return c.JSON(fiber.Map{"one": one})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = app.Listener(ln) }()
	defer func() { _ = app.Shutdown() }()

	baseURL := "http://" + ln.Addr().String() + "/"
	// The two targets take turns in short slices, so that a change in what the machine gives (other
	// tenants of a virtual machine, a CPU's clock) weighs on both alike instead of on one phase.
	main, baseline := newLoader(target, *conns), newLoader(baseURL, *conns)
	defer main.close()
	defer baseline.close()
	n := max(int(*duration/(2*time.Second)), 1)
	slice := *duration / time.Duration(n)
	fmt.Fprintf(stdout, "loading %s and the baseline (fiber + pgx SELECT 1) at %s in turns, %d × %s each, %d connections…\n",
		target, baseURL, n, slice, *conns)
	for i := 0; i < n && ctx.Err() == nil; i++ {
		main.run(ctx, slice)
		baseline.run(ctx, slice)
	}
	for _, l := range []*loader{main, baseline} {
		if len(l.lat) == 0 {
			return fmt.Errorf("no successful request to %s", l.url)
		}
		slices.Sort(l.lat)
	}
	fmt.Fprintf(stdout, "  verify:   %.0f req/s, p99 %.2f ms, %d errors\n", main.rps(), main.pct(0.99), main.errors)
	fmt.Fprintf(stdout, "  baseline: %.0f req/s, p99 %.2f ms, %d errors\n", baseline.rps(), baseline.pct(0.99), baseline.errors)
	ratio := 0.0
	if baseline.rps() > 0 {
		ratio = main.rps() / baseline.rps()
	}
	out, _ := json.Marshal(map[string]any{
		"bench": "verify", "connections": *conns, "seconds": duration.Seconds(), "cpus": runtime.NumCPU(),
		"rps": round2(main.rps()), "p50_ms": round2(main.pct(0.50)), "p99_ms": round2(main.pct(0.99)), "errors": main.errors,
		"baseline_rps": round2(baseline.rps()), "baseline_p99_ms": round2(baseline.pct(0.99)), "ratio": round2(ratio),
		"target_ratio": 0.5, "target_p99_ms": 20,
	})
	fmt.Fprintln(stdout, string(out))
	return nil
}

func checkOnce(ctx context.Context, url string) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach %s: %w", url, err)
	}
	defer res.Body.Close()
	var v struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil || res.StatusCode != 200 || v.Status == "" {
		return fmt.Errorf("%s answered %d, not a verification", url, res.StatusCode)
	}
	return nil
}

// loader sends GET url from conns goroutines, each on its own keep-alive connection, in runs that
// add up their latencies and time; the connections stay open between runs.
type loader struct {
	url     string
	conns   int
	tr      *http.Transport
	client  *http.Client
	lat     []time.Duration
	errors  int
	elapsed time.Duration
}

func newLoader(url string, conns int) *loader {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	return &loader{url: url, conns: conns, tr: tr, client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

func (l *loader) close() { l.tr.CloseIdleConnections() }

func (l *loader) run(ctx context.Context, d time.Duration) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for i := 0; i < l.conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			bad := 0
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				res, err := l.client.Get(l.url)
				if err != nil {
					bad++
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					bad++
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			l.lat = append(l.lat, lat...)
			l.errors += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	l.elapsed += time.Since(start)
}

func (l *loader) rps() float64 { return float64(len(l.lat)) / l.elapsed.Seconds() }

// pct is a percentile of the latencies in milliseconds; lat must be sorted.
func (l *loader) pct(p float64) float64 {
	return float64(l.lat[int(p*float64(len(l.lat)-1))].Microseconds()) / 1000
}
