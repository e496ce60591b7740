package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
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
	Write       string  `json:"write"`        // the write's shape: insert (the bench table's rows) or signin (sign-in's statements)
	Statements  int     `json:"statements"`   // statements in the write besides the append: --statements inserts, or sign-in's two
	PlainPerSec float64 `json:"plain_tx_s"`   // the write without the audit append
	AuditPerSec float64 `json:"audited_tx_s"` // the same write with it
	Ratio       float64 `json:"ratio"`        // audited ÷ plain; the target is ≥ 0.8
	// The control: the write with one more insert into the bench table in place of the append, sent
	// with the COMMIT as the append is (pg.Defer), i.e. what one more statement in that batch costs
	// here, and the audited rate against it.
	ControlPerSec  float64 `json:"control_tx_s"`
	RatioToControl float64 `json:"ratio_to_control"`
	// The second control: in place of the append, a row of the same columns into a table of the same
	// shape as audit_log with only its primary key, deferred the same way: what writing one more
	// table costs, without the audit's xid, sealer or chain. The append cannot cost less than this.
	OtherPerSec  float64 `json:"other_table_tx_s"`
	RatioToOther float64 `json:"ratio_to_other_table"`
	Errors       int64   `json:"errors"`
	AuditRows    int     `json:"audit_rows"`
	Sealed       int     `json:"sealed"`
	SealLagMS    float64 `json:"seal_lag_ms"` // from the last commit until every row was sealed
	ChainIntact  bool    `json:"chain_intact"`
	MaxUnsealed  int     `json:"max_unsealed"` // the most rows seen waiting for the sealer during the run (sampled every 500 ms)
	Synchronized bool    `json:"fsync"`
	// Processor time per committed write, by phase: the bench process (writers, sealer, sampler) and
	// the database backends of the scratch database (read from /proc when the server runs on this
	// machine; 0 otherwise). Unlike the rates, these hardly depend on what else the machine runs.
	// CPURatio is plain ÷ audited processor time per write: the rate ratio a processor-bound
	// machine would show.
	PlainCPU   txCPU      `json:"plain_cpu_us"`
	AuditCPU   txCPU      `json:"audited_cpu_us"`
	ControlCPU txCPU      `json:"control_cpu_us"`
	OtherCPU   txCPU      `json:"other_table_cpu_us"`
	CPURatio   float64    `json:"cpu_ratio"`
	Load1      [2]float64 `json:"load1"` // the 1-minute load average before and after the run
}

// txCPU is processor time per committed write, in microseconds.
type txCPU struct {
	Client float64 `json:"client"`
	Server float64 `json:"server"`     // every backend of the scratch database: writers, sealer, autovacuum
	Sealer float64 `json:"sealer"`     // of Server, the sealer's backends
	Vacuum float64 `json:"autovacuum"` // of Server, autovacuum's workers
}

// Total is the client's and the server's time together.
func (c txCPU) Total() float64 { return c.Client + c.Server }

// sealerApp is the application_name of the sealer's connections in the bench; autovacuum is the
// backend_type of autovacuum's workers.
const (
	sealerApp  = "shanyu bench auditlog sealer"
	autovacuum = "autovacuum worker"
)

// cpuSample is the processor time used so far by the bench process and by the scratch database's
// backends (server is negative when it cannot be read: a server on another machine).
type cpuSample struct {
	client   time.Duration
	backends map[int]time.Duration
	kind     map[int]string // sealerApp, "autovacuum worker" or "" (the writers and the bench)
}

// phaseCPU sums a phase's processor time over the rounds.
type phaseCPU struct {
	client, server, sealer, vacuum time.Duration
	serverOK                       bool
	writes                         int64
}

func (p *phaseCPU) add(a, b cpuSample, writes int64) {
	p.client += b.client - a.client
	p.writes += writes
	if a.backends == nil || b.backends == nil {
		return
	}
	p.serverOK = true
	for pid, t := range b.backends { // backends that ended during the phase are not counted
		d := t - a.backends[pid]
		p.server += d
		switch b.kind[pid] {
		case sealerApp:
			p.sealer += d
		case autovacuum:
			p.vacuum += d
		}
	}
}

func (p *phaseCPU) perTx() txCPU {
	if p.writes == 0 {
		return txCPU{}
	}
	us := func(d time.Duration) float64 {
		return round1(float64(d) / float64(time.Microsecond) / float64(p.writes))
	}
	c := txCPU{Client: us(p.client)}
	if p.serverOK {
		c.Server, c.Sealer, c.Vacuum = us(p.server), us(p.sealer), us(p.vacuum)
	}
	return c
}

// sampleCPU reads the bench process's processor time and that of every backend connected to the
// scratch database (the pool is full from the start, so they are the same ones throughout).
func sampleCPU(ctx context.Context, pool *pgxpool.Pool) cpuSample {
	s := cpuSample{client: selfCPU()}
	rows, err := pool.Query(ctx, `SELECT pid, CASE WHEN application_name = $1 THEN $1 WHEN backend_type = $2 THEN $2 ELSE '' END
		FROM pg_stat_activity WHERE datname = current_database()`, sealerApp, autovacuum)
	if err != nil {
		return s
	}
	type backend struct {
		PID  int
		Kind string
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[backend])
	if err != nil {
		return s
	}
	s.backends, s.kind = make(map[int]time.Duration, len(list)), make(map[int]string, len(list))
	for _, b := range list {
		pid := b.PID
		s.kind[pid] = b.Kind
		cmd, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil || !bytes.HasPrefix(cmd, []byte("postgres")) {
			s.backends = nil // not this machine's server
			return s
		}
		t, err := processCPUTime(pid)
		if err != nil {
			continue // ended meanwhile
		}
		s.backends[pid] = t
	}
	return s
}

// benchAuditLog runs the same small write — --statements inserts into a bench table, in a transaction
// of its own — from --writers connections at once, alternately without an audit append, with one in
// the transaction (accounts.Audit, as every audited change does) and, as controls, with one more
// plain insert into the bench table in its place, and with a row of the append's columns into another
// table (each in a pg.WithTx transaction, as the product writes), --rounds times --seconds each, in a
// scratch database created next to the configured one (dropped afterwards unless --keep). A sealer
// runs throughout, as in `shanyu serve`; at the end the bench waits for it to seal every row and
// verifies the chain. It prints both rates and their ratio.
func benchAuditLog(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench auditlog", flag.ContinueOnError)
	fs.SetOutput(stdout)
	writers := fs.Int("writers", 64, "concurrent writers, each with its own connection (1–256)")
	// Short phases, many rounds: this machine's speed drifts by up to 2× within tens of seconds
	// (neighbours on the host), and phases of 2 s taken in turn share that drift where phases of 5 s
	// do not (docs/scaling.md).
	seconds := fs.Float64("seconds", 2, "length of each phase (1–600)")
	rounds := fs.Int("rounds", 6, "rounds of the four phases, alternating (1–20)")
	statements := fs.Int("statements", 1, "with --write insert: inserts into the bench table in each write (1–20)")
	write := fs.String("write", "insert", "the audited write: insert (--statements rows into a table with only its key: the floor) or signin (what a sign-in writes besides its event: a session row with its indexes, and its failure counters cleared)")
	keep := fs.Bool("keep", false, "keep the scratch database")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	if *writers < 1 || *writers > 256 || *seconds < 1 || *seconds > 600 || *rounds < 1 || *rounds > 20 || *statements < 1 || *statements > 20 {
		return fmt.Errorf("--writers must be 1–256, --seconds 1–600, --rounds 1–20, --statements 1–20: %w", errUsage)
	}
	if *write != "insert" && *write != "signin" {
		return fmt.Errorf("--write must be insert or signin: %w", errUsage)
	}
	if *write == "signin" {
		statementsSet := false
		fs.Visit(func(f *flag.Flag) { statementsSet = statementsSet || f.Name == "statements" })
		if statementsSet {
			return fmt.Errorf("--statements is for --write insert: a sign-in's write is its own two statements: %w", errUsage)
		}
		*statements = len(signinStatements)
	}
	// A pool for the writers, the sealer's rounds and the bench's own queries.
	sc, err := openScratch(ctx, cfg, "shanyu_bench_auditlog", *keep, int32(*writers+2), stdout) // the writers and the bench's own queries
	if err != nil {
		return err
	}
	defer sc.Close()
	pool := sc.Pool
	res := auditLogBench{Writers: *writers, Cores: runtime.NumCPU(), PhaseS: *seconds, Rounds: *rounds, Write: *write, Statements: *statements}
	res.Load1[0] = loadAverage()
	var fsync string
	if err := sc.Admin.QueryRow(ctx, `SHOW fsync`).Scan(&fsync); err != nil {
		return err
	}
	res.Synchronized = fsync == "on"
	if _, err := pool.Exec(ctx, `CREATE TABLE bench_auditlog_writes (
		id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, writer int NOT NULL, n int NOT NULL, at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	// Sign-in's tables, shaped as accounts' sessions and login_failures (migrations 0100–0199).
	if _, err := pool.Exec(ctx, `CREATE TABLE bench_auditlog_sessions (
		id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, token_hash bytea NOT NULL UNIQUE, user_id bigint NOT NULL,
		csrf_token text NOT NULL, created_at timestamptz NOT NULL, last_seen_at timestamptz NOT NULL,
		expires_at timestamptz NOT NULL, revoked_at timestamptz, ip text NOT NULL, user_agent text NOT NULL);
		CREATE INDEX ON bench_auditlog_sessions (user_id);
		CREATE TABLE bench_auditlog_failures (key text PRIMARY KEY, failures int NOT NULL, first_at timestamptz NOT NULL)`); err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE bench_auditlog_other (
		id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz NOT NULL, actor_id bigint, action text NOT NULL,
		subject text NOT NULL, details jsonb NOT NULL, ip text NOT NULL)`); err != nil {
		return err
	}
	// The sealer has a pool of its own (as many connections as it uses at once: a round and the
	// LISTEN), named, so that its database time is told apart from the writers'.
	scfg := pool.Config().Copy()
	scfg.MaxConns, scfg.MinConns = 2, 2
	scfg.ConnConfig.RuntimeParams["application_name"] = sealerApp
	sealPool, err := pgxpool.NewWithConfig(ctx, scfg)
	if err != nil {
		return err
	}
	defer sealPool.Close()
	sealCtx, stopSealer := context.WithCancel(ctx)
	sealer := accounts.NewSealer(sealPool, nil)
	sealerDone := make(chan struct{})
	go func() { defer close(sealerDone); sealer.Run(sealCtx) }()
	defer func() { stopSealer(); <-sealerDone }()
	var maxUnsealed atomic.Int64
	watchDone := make(chan struct{})
	go func() { // how far the sealer falls behind, sampled
		defer close(watchDone)
		for sealCtx.Err() == nil {
			if n, _, err := accounts.UnsealedAudit(sealCtx, pool, 0); err == nil && int64(n) > maxUnsealed.Load() {
				maxUnsealed.Store(int64(n))
			}
			select {
			case <-sealCtx.Done():
			case <-time.After(500 * time.Millisecond): // each sample walks the unsealed rows: rarely, to cost the writers little
			}
		}
	}()
	var errs atomic.Int64
	var cpu [4]phaseCPU // by writeMode, summed over the rounds
	phase := func(mode writeMode) (int64, time.Duration) {
		c0 := sampleCPU(ctx, pool)
		var done atomic.Int64
		var wg sync.WaitGroup
		end := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
		t0 := time.Now()
		for w := 0; w < *writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; time.Now().Before(end) && ctx.Err() == nil; n++ {
					err := auditLogWrite(ctx, pool, w, n, *write, *statements, mode)
					if err != nil {
						errs.Add(1)
						continue
					}
					done.Add(1)
				}
			}()
		}
		wg.Wait()
		d := time.Since(t0)
		cpu[mode].add(c0, sampleCPU(ctx, pool), done.Load())
		return done.Load(), d
	}
	var plainN, auditN, controlN, otherN int64
	var plainD, auditD, controlD, otherD time.Duration
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
		n, d = phase(writeOther)
		otherN, otherD = otherN+n, otherD+d
		fmt.Fprintf(stdout, "round %d: with a row into another table %.0f tx/s\n", r+1, float64(n)/d.Seconds())
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
	res.OtherPerSec = round1(float64(otherN) / otherD.Seconds())
	res.RatioToOther = round2(res.AuditPerSec / res.OtherPerSec)
	res.PlainCPU, res.AuditCPU, res.ControlCPU = cpu[writePlain].perTx(), cpu[writeAudited].perTx(), cpu[writeControl].perTx()
	res.OtherCPU = cpu[writeOther].perTx()
	if res.PlainCPU.Total() > 0 && res.AuditCPU.Total() > 0 {
		res.CPURatio = round2(res.PlainCPU.Total() / res.AuditCPU.Total())
	}
	// Every row sealed, within a minute, by the sealer that ran all along.
	t0 := time.Now()
	for {
		waiting, _, err := accounts.UnsealedAudit(ctx, pool, 0)
		if err != nil {
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
	fmt.Fprintf(stdout, "%d writers: %.0f tx/s without the audit append, %.0f with it: ratio %.2f (target ≥ 0.8); %.0f with one more insert instead (ratio to it %.2f), %.0f with a row into another table (ratio to it %.2f); %d audit rows, %d sealed, chain intact: %v\n",
		res.Writers, res.PlainPerSec, res.AuditPerSec, res.Ratio, res.ControlPerSec, res.RatioToControl, res.OtherPerSec, res.RatioToOther, res.AuditRows, res.Sealed, res.ChainIntact)
	res.Load1[1] = loadAverage()
	fmt.Fprintf(stdout, "processor time per write (client + server): %.0f + %.0f µs without the append, %.0f + %.0f with it (%.0f of it the sealer's, %.0f autovacuum's; ratio %.2f), %.0f + %.0f with one more insert, %.0f + %.0f with a row into another table\n",
		res.PlainCPU.Client, res.PlainCPU.Server, res.AuditCPU.Client, res.AuditCPU.Server, res.AuditCPU.Sealer, res.AuditCPU.Vacuum, res.CPURatio, res.ControlCPU.Client, res.ControlCPU.Server, res.OtherCPU.Client, res.OtherCPU.Server)
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

// signinStatements are what accounts' Login writes besides its event, on tables of the same shapes
// (bench_auditlog_sessions, bench_auditlog_failures): the session row, and its failure counters cleared.
var signinStatements = [...]string{
	`INSERT INTO bench_auditlog_sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent)
		VALUES ($1, $2, $3, $4, $4, $5, $6, $7) RETURNING id`,
	`DELETE FROM bench_auditlog_failures WHERE key = ANY($1)`,
}

// writeRows runs the write's own statements and returns the id of the row it wrote (the subject of
// its audit event).
func writeRows(ctx context.Context, tx pgx.Tx, w, n int, write string, statements int) (int64, error) {
	var id int64
	if write == "signin" {
		var token [32]byte
		_, _ = rand.Read(token[:])
		hash := sha256.Sum256(token[:])
		now := time.Now()
		if err := tx.QueryRow(ctx, signinStatements[0], hash[:], int64(w+1), hex.EncodeToString(token[:12]), now, now.Add(12*time.Hour),
			"127.0.0.1", "bench").Scan(&id); err != nil {
			return 0, err
		}
		_, err := tx.Exec(ctx, signinStatements[1], []string{fmt.Sprintf("pair:%d:127.0.0.1", w), fmt.Sprintf("account:%d", w)})
		return id, err
	}
	for range statements {
		if err := tx.QueryRow(ctx, `INSERT INTO bench_auditlog_writes (writer, n) VALUES ($1, $2) RETURNING id`, w, n).Scan(&id); err != nil {
			return 0, err
		}
	}
	return id, nil
}

type writeMode int

const (
	writePlain   writeMode = iota // the write alone
	writeAudited                  // the write and its audit event
	writeControl                  // the write and one more insert into the bench table, deferred as the append is
	writeOther                    // the write and a row of the audit's columns into another table, deferred as the append is
)

// auditLogWrite is the bench's write (writeRows: statements rows into the bench table, or a
// sign-in's statements) and, by mode, its audit event or one more row, in one transaction of
// pg.WithTx, as the product's audited writes run.
func auditLogWrite(ctx context.Context, pool *pgxpool.Pool, w, n int, write string, statements int, mode writeMode) error {
	return pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		id, err := writeRows(ctx, tx, w, n, write, statements)
		if err != nil {
			return err
		}
		switch mode {
		case writeControl: // deferred like the append, so that it too travels with the COMMIT
			return pg.Defer(ctx, tx, `INSERT INTO bench_auditlog_writes (writer, n) VALUES ($1, $2)`, w, -n)
		case writeOther: // the append's columns and parameters, into a table that is not the audit log
			return pg.Defer(ctx, tx, `INSERT INTO bench_auditlog_other (at, actor_id, action, subject, details, ip)
				VALUES ($1, nullif($2::bigint, 0), $3, $4, $5::jsonb, $6)`, time.Now().UTC().Truncate(time.Microsecond),
				int64(w+1), "bench.write", fmt.Sprintf("bench:%d", id), fmt.Sprintf(`{"n":%d}`, n), "127.0.0.1")
		case writeAudited:
			return accounts.Audit(ctx, tx, accounts.Event{ActorID: int64(w + 1), Action: "bench.write", Subject: fmt.Sprintf("bench:%d", id),
				Details: map[string]any{"n": n}, IP: "127.0.0.1"})
		}
		return nil
	})
}
