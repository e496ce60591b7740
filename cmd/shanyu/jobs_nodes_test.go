package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/accounts"
	"shanyu/audits"
	"shanyu/certificates"
	"shanyu/internal/config"
	"shanyu/internal/jobs"
	"shanyu/internal/pg"
	"shanyu/internal/pgtest"
)

// Two `shanyu serve` processes work one database's River queue; the River leader is killed with
// SIGKILL while it has issuance jobs running. Every request must end with exactly one certificate
// (with its signed PDF) and every job row completed, within 60 s of the kill: the survivor takes the
// leadership when the dead leader's lease runs out, rescues the jobs left running (after
// SHANYU_JOB_RESCUE_AFTER, shortened here) and runs them again; issuance finds the certificate row a
// killed attempt may have committed instead of making a second one.
func TestJobsExactlyOnceWithLeaderKilled(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs two server processes")
	}
	const n = 40
	ctx := context.Background()
	url := pgtest.NewURL(t)
	pool := pgtest.Open(t, url)
	bin := shanyuBinary(t)

	// The holders, the centre and the signing keys, as the product makes them.
	cfg, err := config.Parse(func(k string) string {
		if k == "DATABASE_URL" {
			return url
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := certificates.EnsureSigningKey(ctx, pool, cfg.SecretKey); err != nil {
		t.Fatal(err)
	}
	if _, _, err := certificates.EnsurePDFSigner(ctx, pool, cfg.SecretKey, demoIssuer, cfg.BaseURL, time.Now()); err != nil {
		t.Fatal(err)
	}
	acc, err := accounts.New(pool, cfg.SecretKey, accounts.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.SeedRegions(ctx, pool); err != nil {
		t.Fatal(err)
	}
	centre, err := acc.CreateOrganisation(ctx, 0, accounts.Organisation{Kind: "training_centre", Code: "JOBS2", Name: "双节点测试培训中心", NameEN: "Two-node Test Centre", RegionCode: "3301"})
	if err != nil {
		t.Fatal(err)
	}
	holders := make([]int64, n)
	for i := range holders {
		if holders[i], err = acc.EnsurePerson(ctx, "双节点", "", audits.SyntheticCitizenID("330106", time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), i)); err != nil {
			t.Fatal(err)
		}
	}

	type node struct {
		cmd  *exec.Cmd
		out  *bytes.Buffer
		addr string
		done chan struct{}
	}
	var mu sync.Mutex // the buffers are written by exec's copying goroutines
	start := func(name string) *node {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		nd := &node{out: &bytes.Buffer{}, addr: addr, done: make(chan struct{})}
		nd.cmd = exec.Command(bin, "serve")
		nd.cmd.Env = append(os.Environ(), "DATABASE_URL="+url, "SHANYU_ADDR="+addr, "SHANYU_BASE_URL=http://"+addr,
			"SHANYU_LOG_LEVEL=warn", "SHANYU_METRICS_ADDR=", "SHANYU_JOB_TIMEOUT=8s", "SHANYU_JOB_RESCUE_AFTER=9s")
		w := lockedWriter{mu: &mu, w: nd.out}
		nd.cmd.Stdout, nd.cmd.Stderr = w, w
		if err := nd.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { _ = nd.cmd.Wait(); close(nd.done) }()
		t.Cleanup(func() {
			_ = nd.cmd.Process.Signal(syscall.SIGKILL)
			<-nd.done
			if t.Failed() {
				mu.Lock()
				t.Logf("%s output:\n%s", name, nd.out.String())
				mu.Unlock()
			}
		})
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nd
				}
			}
			select {
			case <-nd.done:
				t.Fatalf("%s exited before it was ready", name)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not ready after 30 s: %v", name, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	poll := func(what string, within time.Duration, cond func() (bool, error)) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			ok, err := cond()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v", what, within)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	leader := func() (string, error) {
		var id string
		err := pool.QueryRow(ctx, `SELECT leader_id FROM river_leader WHERE expires_at > now()`).Scan(&id)
		if pg.IsNoRows(err) {
			return "", nil
		}
		return id, err
	}

	// A starts alone and so becomes the leader; then B.
	a := start("node A")
	var leaderA string
	poll("node A elected River leader", 20*time.Second, func() (bool, error) {
		id, err := leader()
		leaderA = id
		return id != "", err
	})
	start("node B")

	inserter, err := jobs.NewInserter(pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		for i := range n {
			r := certificates.IssuanceRequest{ResultRef: fmt.Sprintf("two-nodes:%d", i), PersonID: holders[i], CentreID: centre.ID,
				OccupationCode: "4-10-01-03", Level: 4, PassedOn: time.Now(), Hours: 120}
			if err := certificates.RequestIssuance(ctx, tx, inserter, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Kill the leader while it works issuance jobs.
	runningOnA := func() (int, error) {
		var k int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'certificate.issue' AND state = 'running'
			AND attempted_by[array_upper(attempted_by, 1)] = $1`, leaderA).Scan(&k)
		return k, err
	}
	poll("node A working issuance jobs, a quarter of them done", 30*time.Second, func() (bool, error) {
		var completed int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'certificate.issue' AND state = 'completed'`).Scan(&completed); err != nil {
			return false, err
		}
		k, err := runningOnA()
		return k > 0 && completed >= n/4, err
	})
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-a.done
	killed := time.Now()
	stuck, err := runningOnA()
	if err != nil {
		t.Fatal(err)
	}
	var doneAtKill int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'certificate.issue' AND state = 'completed'`).Scan(&doneAtKill); err != nil {
		t.Fatal(err)
	}
	if stuck == 0 {
		t.Fatal("no issuance job was left running on the killed leader: the kill tested nothing")
	}

	poll("every issuance job completed after the leader's death", 60*time.Second, func() (bool, error) {
		var completed int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'certificate.issue' AND state = 'completed'`).Scan(&completed)
		return completed == n, err
	})
	recovered := time.Since(killed)

	// Exactly once: one certificate per request, each with its signed PDF, each request issued and
	// pointing to it; no job left in another state; the survivor leads.
	var jobsTotal, certs, holdersWithCert, issued, pointing, withPDF, retried int
	err = pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM river_job WHERE kind = 'certificate.issue'),
		(SELECT count(*) FROM certificates),
		(SELECT count(DISTINCT person_id) FROM certificates),
		(SELECT count(*) FROM certificate_requests WHERE status = 'issued'),
		(SELECT count(*) FROM certificate_requests r JOIN certificates c ON c.id = r.certificate_id AND c.request_id = r.id),
		(SELECT count(*) FROM certificates WHERE pdf_sha256 IS NOT NULL),
		(SELECT count(*) FROM river_job WHERE kind = 'certificate.issue' AND attempt > 1)`).
		Scan(&jobsTotal, &certs, &holdersWithCert, &issued, &pointing, &withPDF, &retried)
	if err != nil {
		t.Fatal(err)
	}
	if jobsTotal != n || certs != n || holdersWithCert != n || issued != n || pointing != n || withPDF != n {
		t.Fatalf("after the kill: %d jobs, %d certificates for %d holders, %d requests issued, %d pointing to their certificate, %d with a PDF; want %d each",
			jobsTotal, certs, holdersWithCert, issued, pointing, withPDF, n)
	}
	if retried < stuck {
		t.Errorf("%d jobs were running on the killed leader but only %d ran more than once", stuck, retried)
	}
	now, err := leader()
	if err != nil {
		t.Fatal(err)
	}
	if now == "" || now == leaderA {
		t.Errorf("River leader after the kill is %q, the killed one was %q", now, leaderA)
	}
	t.Logf("%d issuance jobs on two nodes; leader killed with %d completed and %d running on it; all %d completed exactly once %.1f s after the kill (%d jobs ran again)",
		n, doneAtKill, stuck, n, recovered.Seconds(), retried)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
