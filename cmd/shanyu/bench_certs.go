package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/audits"
	"shanyu/certificates"
	"shanyu/certificates/tsa"
	"shanyu/curriculum"
	"shanyu/internal/config"
	"shanyu/internal/jobs"
	"shanyu/internal/pg"
	"shanyu/migrations"
)

func init() { benches["certs"] = benchCerts }

// benchCerts issues --count certificates end to end, as bulk issuance does: requests recorded with
// their jobs in one transaction, then job workers render, sign and store each PDF. It works in the
// configured database, under a training centre of its own (code BENCH), for holders of its own: a
// person keeps one certificate per occupation and level, so each request is another person's.
func benchCerts(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench certs", flag.ContinueOnError)
	fs.SetOutput(stdout)
	count := fs.Int("count", 500, "certificates to issue")
	workers := fs.Int("workers", 32, "concurrent job workers")
	withTSA := fs.Bool("tsa", false, "timestamp every PDF signature with a local RFC 3161 TSA (as `shanyu tsa serve`); otherwise SHANYU_TSA_URL, if set")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	// River fetches at most one batch of as many jobs as there are free workers every 100 ms, so
	// throughput needs more workers than cores; each needs a connection at times.
	pcfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return err
	}
	pcfg.MaxConns = int32(*workers + 4)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrations.CheckCurrent(ctx, pool); err != nil {
		return err
	}
	if _, _, err := certificates.EnsureSigningKey(ctx, pool, cfg.SecretKey); err != nil {
		return err
	}
	if _, _, err := certificates.EnsurePDFSigner(ctx, pool, cfg.SecretKey, demoIssuer, cfg.BaseURL, time.Now()); err != nil {
		return err
	}
	acc, err := accounts.New(pool, cfg.SecretKey, accounts.DefaultPolicy)
	if err != nil {
		return err
	}
	if _, err := accounts.SeedRegions(ctx, pool); err != nil {
		return err
	}
	centre, err := acc.OrganisationByCode(ctx, "BENCH")
	if errors.Is(err, accounts.ErrOrganisationNotFound) {
		centre, err = acc.CreateOrganisation(ctx, 0, accounts.Organisation{Kind: "training_centre", Code: "BENCH", Name: "基准测试培训中心", NameEN: "Benchmark Training Centre", RegionCode: "3301"})
	}
	if err != nil {
		return fmt.Errorf("bench centre: %w", err)
	}

	tsaURL := cfg.TSAURL
	if *withTSA {
		ca, err := certificates.StoredCA(ctx, pool, cfg.SecretKey)
		if err != nil {
			return err
		}
		cert, key, err := ca.IssueTSA(demoIssuer, cfg.BaseURL, time.Now())
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		ts := &http.Server{Handler: &tsa.Server{Certificate: cert, Key: key}, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = ts.Serve(ln) }()
		defer ts.Close()
		tsaURL = "http://" + ln.Addr().String() + "/"
	}
	inserter, err := jobs.NewInserter(pool, nil)
	if err != nil {
		return err
	}
	svc := certificates.New(pool, certificates.Config{BaseURL: cfg.BaseURL, Secret: cfg.SecretKey, TSAURL: tsaURL, Directory: acc, Notices: accounts.NewNotices(inserter),
		Hours: curriculum.New(pool, cfg.SecretKey, curriculum.Options{Directory: acc})})
	reg := jobs.NewRegistry()
	jobs.Add(reg, &certificates.IssueWorker{Service: svc})
	client, err := jobs.New(pool, reg, slog.New(slog.NewTextHandler(io.Discard, nil)), *workers, jobs.Timing{})
	if err != nil {
		return err
	}
	// Holders new to this run, outside the measurement: synthetic ID numbers born on a day taken
	// from the clock, so that runs do not meet people certified by an earlier one.
	fmt.Fprintf(stdout, "recording %d holders…\n", *count)
	holders := make([]int64, *count+1)                                                                // the last one for the warm-up
	born := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(time.Now().Unix()%2000)*10) // 10 days of 1,000 each per run
	for i := range holders {
		id := audits.SyntheticCitizenID("330106", born.AddDate(0, 0, i/1000), i)
		if holders[i], err = acc.EnsurePerson(ctx, "基准测试", "", id); err != nil {
			return fmt.Errorf("bench holder %d: %w", i, err)
		}
	}
	// Warm up outside the measurement: the font (15 MB) is parsed once per process.
	prefix := fmt.Sprintf("bench:%d:", time.Now().UnixNano())
	warm := certificates.IssuanceRequest{ResultRef: prefix + "warm", PersonID: holders[*count], CentreID: centre.ID,
		OccupationCode: "4-10-01-03", Level: 4, PassedOn: time.Now(), Hours: 120}
	if _, err := svc.RequestAndIssue(ctx, warm, time.Time{}); err != nil {
		return fmt.Errorf("warm-up issuance: %w", err)
	}
	prefix += "run:"
	fmt.Fprintf(stdout, "recording %d requests and their jobs…\n", *count)
	err = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		for i := 0; i < *count; i++ {
			r := warm
			r.ResultRef = fmt.Sprintf("%s%d", prefix, i)
			r.PersonID = holders[i]
			if err := certificates.RequestIssuance(ctx, tx, client, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "issuing with %d workers on %d CPUs…\n", *workers, runtime.NumCPU())
	start := time.Now()
	if err := client.Start(ctx); err != nil {
		return err
	}
	defer func() { _ = client.Stop(context.WithoutCancel(ctx)) }()
	// Watching must not compete with what it watches (2 cores): the poll reads only the pending rows
	// through their partial index. Tallying the whole batch by its prefix every 20 ms, as this did
	// before, scanned the whole request table each time: measured 19 ms a poll at 22,000 rows on
	// the loaded machine, so up to a core of PostgreSQL taken from the issuance it measured, and more
	// with every run.
	last := time.Now()
	for {
		pending, err := svc.PendingFor(ctx, centre.ID, prefix)
		if err != nil {
			return err
		}
		if pending == 0 {
			break
		}
		if time.Since(last) > 2*time.Second {
			done := *count - pending
			fmt.Fprintf(stdout, "  %d/%d done (%.0f/s)\n", done, *count, float64(done)/time.Since(start).Seconds())
			last = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	elapsed := time.Since(start)
	issued, failed, avg, err := svc.Tally(ctx, prefix)
	if err != nil {
		return err
	}
	out, _ := json.Marshal(map[string]any{
		"bench": "certs", "count": *count, "issued": issued, "failed": failed, "workers": *workers, "cpus": runtime.NumCPU(),
		"seconds": round2(elapsed.Seconds()), "per_s": round2(float64(issued) / elapsed.Seconds()), "bytes_per_pdf": int(avg),
		"target_per_s": 150, "timestamped": tsaURL != "",
	})
	fmt.Fprintln(stdout, string(out))
	return nil
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }
