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

	"shanyu/certificates"
	"shanyu/internal/config"
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
		svc := certificates.New(pool, certificates.Config{BaseURL: cfg.BaseURL, Secret: cfg.SecretKey})
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

	fmt.Fprintf(stdout, "loading %s for %s with %d connections…\n", target, *duration, *conns)
	main, err := load(ctx, target, *duration, *conns)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "  %.0f req/s, p99 %.2f ms, %d errors\n", main.rps, main.p99ms, main.errors)
	baseURL := "http://" + ln.Addr().String() + "/"
	fmt.Fprintf(stdout, "loading the baseline (fiber + pgx SELECT 1) at %s…\n", baseURL)
	baseline, err := load(ctx, baseURL, *duration, *conns)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "  %.0f req/s, p99 %.2f ms, %d errors\n", baseline.rps, baseline.p99ms, baseline.errors)
	ratio := 0.0
	if baseline.rps > 0 {
		ratio = main.rps / baseline.rps
	}
	out, _ := json.Marshal(map[string]any{
		"bench": "verify", "connections": *conns, "seconds": duration.Seconds(), "cpus": runtime.NumCPU(),
		"rps": round2(main.rps), "p50_ms": round2(main.p50ms), "p99_ms": round2(main.p99ms), "errors": main.errors,
		"baseline_rps": round2(baseline.rps), "baseline_p99_ms": round2(baseline.p99ms), "ratio": round2(ratio),
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

type loadResult struct {
	rps, p50ms, p99ms float64
	errors            int
}

// load sends GET url from conns goroutines, each on its own keep-alive connection, for d.
func load(ctx context.Context, url string, d time.Duration, conns int) (loadResult, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	deadline := time.Now().Add(d)
	var mu sync.Mutex
	var all []time.Duration
	errs := 0
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			bad := 0
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				res, err := client.Get(url)
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
			all = append(all, lat...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(all) == 0 {
		return loadResult{errors: errs}, fmt.Errorf("no successful request to %s", url)
	}
	slices.Sort(all)
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	return loadResult{rps: float64(len(all)) / elapsed.Seconds(), p50ms: pct(0.50), p99ms: pct(0.99), errors: errs}, nil
}
