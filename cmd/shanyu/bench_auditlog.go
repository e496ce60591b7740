package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/internal/config"
	"shanyu/internal/pg"
)

func init() { benches["auditlog"] = benchAuditLog }

// auditLogBench is what one run of `shanyu bench auditlog` measures.
type auditLogBench struct {
	Writers     int     `json:"writers"`
	Cores       int     `json:"cores"`
	PhaseS      float64 `json:"phase_s"`
	Rounds      int     `json:"rounds"`
	Statements  int     `json:"statements"`   // inserts in the write, besides the append
	PlainPerSec float64 `json:"plain_tx_s"`   // the write without the audit append
	AuditPerSec float64 `json:"audited_tx_s"` // the same write with it
	Ratio       float64 `json:"ratio"`        // audited ÷ plain; the target is ≥ 0.8
	// The control: the write with one more insert into the bench table in place of the append, i.e.
	// what one more statement costs here, and the audited rate against it.
	ControlPerSec  float64 `json:"control_tx_s"`
	RatioToControl float64 `json:"ratio_to_control"`
	Errors         int64   `json:"errors"`
	AuditRows      int     `json:"audit_rows"`
	Sealed         int     `json:"sealed"`
	SealLagMS      float64 `json:"seal_lag_ms"` // from the last commit until every row was sealed
	ChainIntact    bool    `json:"chain_intact"`
	MaxUnsealed    int     `json:"max_unsealed"` // the most rows seen waiting for the sealer during the run
	Synchronized   bool    `json:"fsync"`
}

// benchAuditLog runs the same small write — --statements inserts into a bench table, in a transaction
// of its own — from --writers connections at once, alternately without an audit append, with one in
// the transaction (accounts.Audit, as every audited change does) and, as a control, with one more
// plain insert in its place (each in a pg.WithTx transaction, as the product writes), --rounds times --seconds each, in a
// scratch database created next to the configured one (dropped afterwards unless --keep). A sealer
// runs throughout, as in `shanyu serve`; at the end the bench waits for it to seal every row and
// verifies the chain. It prints both rates and their ratio.
func benchAuditLog(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench auditlog", flag.ContinueOnError)
	fs.SetOutput(stdout)
	writers := fs.Int("writers", 64, "concurrent writers, each with its own connection (1–256)")
	seconds := fs.Float64("seconds", 5, "length of each phase (1–600)")
	rounds := fs.Int("rounds", 2, "rounds of the three phases, alternating (1–20)")
	statements := fs.Int("statements", 1, "inserts into the bench table in each write (1–20)")
	keep := fs.Bool("keep", false, "keep the scratch database")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	if *writers < 1 || *writers > 256 || *seconds < 1 || *seconds > 600 || *rounds < 1 || *rounds > 20 || *statements < 1 || *statements > 20 {
		return fmt.Errorf("--writers must be 1–256, --seconds 1–600, --rounds 1–20, --statements 1–20: %w", errUsage)
	}
	// A pool for the writers, the sealer's rounds and the bench's own queries.
	sc, err := openScratch(ctx, cfg, "shanyu_bench_auditlog", *keep, int32(*writers+4), stdout)
	if err != nil {
		return err
	}
	defer sc.Close()
	pool := sc.Pool
	res := auditLogBench{Writers: *writers, Cores: runtime.NumCPU(), PhaseS: *seconds, Rounds: *rounds, Statements: *statements}
	var fsync string
	if err := sc.Admin.QueryRow(ctx, `SHOW fsync`).Scan(&fsync); err != nil {
		return err
	}
	res.Synchronized = fsync == "on"
	if _, err := pool.Exec(ctx, `CREATE TABLE bench_auditlog_writes (
		id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, writer int NOT NULL, n int NOT NULL, at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	sealCtx, stopSealer := context.WithCancel(ctx)
	sealer := accounts.NewSealer(pool, nil)
	sealerDone := make(chan struct{})
	go func() { defer close(sealerDone); sealer.Run(sealCtx) }()
	defer func() { stopSealer(); <-sealerDone }()
	var maxUnsealed atomic.Int64
	watchDone := make(chan struct{})
	go func() { // how far the sealer falls behind, sampled
		defer close(watchDone)
		for sealCtx.Err() == nil {
			var n int64
			if err := pool.QueryRow(sealCtx, `SELECT count(*) FROM audit_log WHERE hash IS NULL`).Scan(&n); err == nil && n > maxUnsealed.Load() {
				maxUnsealed.Store(n)
			}
			select {
			case <-sealCtx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	var errs atomic.Int64
	phase := func(mode writeMode) (int64, time.Duration) {
		var done atomic.Int64
		var wg sync.WaitGroup
		end := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
		t0 := time.Now()
		for w := 0; w < *writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; time.Now().Before(end) && ctx.Err() == nil; n++ {
					err := auditLogWrite(ctx, pool, w, n, *statements, mode)
					if err != nil {
						errs.Add(1)
						continue
					}
					done.Add(1)
				}
			}()
		}
		wg.Wait()
		return done.Load(), time.Since(t0)
	}
	var plainN, auditN, controlN int64
	var plainD, auditD, controlD time.Duration
	for r := 0; r < *rounds; r++ {
		n, d := phase(writePlain)
		plainN, plainD = plainN+n, plainD+d
		fmt.Fprintf(stdout, "round %d: without the audit append    %.0f tx/s\n", r+1, float64(n)/d.Seconds())
		n, d = phase(writeAudited)
		auditN, auditD = auditN+n, auditD+d
		fmt.Fprintf(stdout, "round %d: with the audit append       %.0f tx/s\n", r+1, float64(n)/d.Seconds())
		n, d = phase(writeControl)
		controlN, controlD = controlN+n, controlD+d
		fmt.Fprintf(stdout, "round %d: with one more insert instead %.0f tx/s\n", r+1, float64(n)/d.Seconds())
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	res.Errors = errs.Load()
	res.PlainPerSec = round1(float64(plainN) / plainD.Seconds())
	res.AuditPerSec = round1(float64(auditN) / auditD.Seconds())
	res.Ratio = round2(res.AuditPerSec / res.PlainPerSec)
	res.ControlPerSec = round1(float64(controlN) / controlD.Seconds())
	res.RatioToControl = round2(res.AuditPerSec / res.ControlPerSec)
	// Every row sealed, within a minute, by the sealer that ran all along.
	t0 := time.Now()
	for {
		var waiting int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE hash IS NULL`).Scan(&waiting); err != nil {
			return err
		}
		if waiting == 0 {
			break
		}
		if time.Since(t0) > time.Minute {
			return fmt.Errorf("%d audit rows still unsealed a minute after the run", waiting)
		}
		time.Sleep(5 * time.Millisecond)
	}
	res.SealLagMS = ms(time.Since(t0))
	stopSealer()
	<-watchDone
	res.MaxUnsealed = int(maxUnsealed.Load())
	c, err := accounts.CheckAudit(ctx, pool, 0)
	res.ChainIntact = err == nil
	res.Sealed = c.Sealed
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'bench.write'`).Scan(&res.AuditRows); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d writers: %.0f tx/s without the audit append, %.0f with it: ratio %.2f (target ≥ 0.8); %.0f with one more insert instead (ratio to it %.2f); %d audit rows, %d sealed, chain intact: %v\n",
		res.Writers, res.PlainPerSec, res.AuditPerSec, res.Ratio, res.ControlPerSec, res.RatioToControl, res.AuditRows, res.Sealed, res.ChainIntact)
	b, _ := json.Marshal(res)
	fmt.Fprintln(stdout, string(b))
	if err != nil {
		return fmt.Errorf("audit chain after the bench: %w", err)
	}
	if int64(res.AuditRows) != auditN || res.Sealed != res.AuditRows {
		return fmt.Errorf("%d audited writes committed, %d audit rows, %d sealed", auditN, res.AuditRows, res.Sealed)
	}
	return nil
}

type writeMode int

const (
	writePlain   writeMode = iota // the write alone
	writeAudited                  // the write and its audit event
	writeControl                  // the write and one more insert into the bench table
)

// auditLogWrite is the bench's write: statements rows into the bench table and, by mode, its audit
// event or one more row, in one transaction of pg.WithTx, as the product's audited writes run.
func auditLogWrite(ctx context.Context, pool *pgxpool.Pool, w, n, statements int, mode writeMode) error {
	return pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		var id int64
		for range statements {
			if err := tx.QueryRow(ctx, `INSERT INTO bench_auditlog_writes (writer, n) VALUES ($1, $2) RETURNING id`, w, n).Scan(&id); err != nil {
				return err
			}
		}
		switch mode {
		case writeControl:
			_, err := tx.Exec(ctx, `INSERT INTO bench_auditlog_writes (writer, n) VALUES ($1, $2)`, w, -n)
			return err
		case writeAudited:
			return accounts.Audit(ctx, tx, accounts.Event{ActorID: int64(w + 1), Action: "bench.write", Subject: fmt.Sprintf("bench:%d", id),
				Details: map[string]any{"n": n}, IP: "127.0.0.1"})
		}
		return nil
	})
}
