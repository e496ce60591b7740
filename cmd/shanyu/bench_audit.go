package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"runtime"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/audits"
	"shanyu/internal/config"
	"shanyu/migrations"
)

func init() { benches["audit"] = benchAudit }

// scratch is a migrated database of a bench's own, created next to the configured one as
// prefix_<nanoseconds>, with a pool on it and a connection to the configured database.
type scratch struct {
	Pool  *pgxpool.Pool
	Admin *pgx.Conn
	drop  func()
}

// openScratch creates and migrates a scratch database and opens a pool on it: maxConns connections,
// all of them at once, when maxConns > 0; pgx's default otherwise. Close drops it unless keep.
func openScratch(ctx context.Context, cfg config.Config, prefix string, keep bool, maxConns int32, stdout io.Writer) (*scratch, error) {
	admin, err := pgx.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())
	u, err := url.Parse(cfg.DatabaseURL)
	if err == nil {
		_, err = admin.Exec(ctx, "CREATE DATABASE "+name)
	}
	if err != nil {
		admin.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("scratch database: %w", err)
	}
	u.Path = "/" + name
	s := &scratch{Admin: admin, drop: func() {
		bg := context.WithoutCancel(ctx)
		if !keep {
			_, _ = admin.Exec(bg, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		}
		admin.Close(bg)
	}}
	pcfg, err := pgxpool.ParseConfig(u.String())
	if err == nil && maxConns > 0 {
		pcfg.MaxConns, pcfg.MinConns = maxConns, maxConns
	}
	if err == nil {
		s.Pool, err = pgxpool.NewWithConfig(ctx, pcfg)
	}
	if err != nil {
		s.drop()
		return nil, err
	}
	fmt.Fprintf(stdout, "scratch database %s\n", name)
	if _, err := migrations.Up(ctx, s.Pool); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the pool and drops the database (unless keep).
func (s *scratch) Close() {
	s.Pool.Close()
	s.drop()
}

// provinceScratch is openScratch with what a synthetic province is built on: the regions and the
// class types.
func provinceScratch(ctx context.Context, cfg config.Config, prefix string, keep bool, stdout io.Writer) (*scratch, error) {
	sc, err := openScratch(ctx, cfg, prefix, keep, 0, stdout)
	if err != nil {
		return nil, err
	}
	_, err = accounts.SeedRegions(ctx, sc.Pool)
	if err == nil {
		err = audits.EnsureClassTypes(ctx, sc.Pool)
	}
	if err != nil {
		sc.Close()
		return nil, err
	}
	return sc, nil
}

// benchAudit builds a synthetic province in a scratch database (created next to the configured one
// and dropped afterwards unless --keep), then times the compliance check of every institution at
// once, of single institutions, and the qualification policy's decisions.
func benchAudit(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench audit", flag.ContinueOnError)
	fs.SetOutput(stdout)
	nInst := fs.Int("institutions", 10000, "institutions")
	nAssign := fs.Int("assignments", 100000, "post assignments (one per staff member)")
	singles := fs.Int("singles", 300, "single-institution checks to time")
	keep := fs.Bool("keep", false, "keep the scratch database")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	sc, err := provinceScratch(ctx, cfg, "shanyu_bench_audit", *keep, stdout)
	if err != nil {
		return err
	}
	defer sc.Close()
	pool := sc.Pool
	start := time.Now()
	orgIDs, err := benchProvince(ctx, pool, *nInst, *nAssign)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "built %d institutions, %d assignments in %s\n", *nInst, *nAssign, time.Since(start).Round(time.Millisecond))
	full, err := services(ctx, cfg, pool)
	if err != nil {
		return err
	}
	defer full.Close()
	svc := full.Audits
	on := time.Now()
	start = time.Now()
	all, err := svc.ComplianceOf(ctx, nil, on)
	if err != nil {
		return err
	}
	allS := time.Since(start).Seconds()
	bad, decisions, unqualified, missing, classFaults, barred := 0, 0, 0, 0, 0, 0
	for _, r := range all {
		decisions += len(r.Assignments)
		unqualified += r.Unqualified
		missing += len(r.MissingPosts)
		barred += len(r.BarredOnRoster)
		for _, c := range r.Classes {
			if c.OverSize || c.UnderStaffed {
				classFaults++
			}
		}
		if !r.Compliant() {
			bad++
		}
	}
	fmt.Fprintf(stdout, "all: %d institutions, %d decisions, %d not compliant (%d unqualified posts, %d missing posts, %d classes off ratio, %d barred), %.2fs\n",
		len(all), decisions, bad, unqualified, missing, classFaults, barred, allS)
	all = nil
	runtime.GC() // the province-wide maps are garbage now; do not bill their collection to the single checks
	rng := rand.New(rand.NewPCG(1, 2))
	times := make([]float64, 0, *singles)
	for i := 0; i < *singles; i++ {
		id := orgIDs[rng.IntN(len(orgIDs))]
		t0 := time.Now()
		if _, err := svc.Compliance(ctx, id, on); err != nil {
			return err
		}
		times = append(times, float64(time.Since(t0).Microseconds())/1000)
	}
	sort.Float64s(times)
	p99 := times[min(len(times)-1, len(times)*99/100)]
	fmt.Fprintf(stdout, "one: p50 %.2f ms, p99 %.2f ms over %d checks\n", times[len(times)/2], p99, len(times))
	// Raw casbin enforcement (no memo), as a cold policy would do it, for one second.
	p := svc.Policy()
	tokens := []string{"qual:4-10-01-03:3", "qual:4-10-01-02:5", "doc:health", "doc:no-criminal-record", "qual:security-guard:5"}
	posts := []string{"caregiver", "director", "health", "security"}
	groups := []string{"qualification", "health", "background"}
	n := 0
	t0 := time.Now()
	for time.Since(t0) < time.Second {
		for i := 0; i < 1000; i++ {
			if _, err := p.EnforceRaw(tokens[n%len(tokens)], "330106", posts[n%len(posts)], groups[n%len(groups)]); err != nil {
				return err
			}
			n++
		}
	}
	enforce := float64(n) / time.Since(t0).Seconds()
	// Explained decisions as compliance makes them (memoized per post and set of held tokens).
	facts := audits.PersonFacts{Certificates: []audits.Cert{{Number: "x", Occupation: "4-10-01-03", Level: 4, Status: audits.CertValid}},
		HealthValidUntil: on.AddDate(1, 0, 0), NoCriminalRecordIssued: on.AddDate(-1, 0, 0), On: on}
	m := 0
	t0 = time.Now()
	for time.Since(t0) < time.Second {
		for i := 0; i < 1000; i++ {
			if _, err := p.Decide(posts[m%len(posts)], facts); err != nil {
				return err
			}
			m++
		}
	}
	decide := float64(m) / time.Since(t0).Seconds()
	fmt.Fprintf(stdout, "casbin enforce (raw): %.0f/s; explained decisions (memoized): %.0f/s\n", enforce, decide)
	out, _ := json.Marshal(map[string]any{"institutions": *nInst, "assignments": *nAssign, "all_s": round2(allS), "one_ms_p99": round2(p99),
		"enforce_per_s": int(enforce), "decide_per_s": int(decide)})
	fmt.Fprintln(stdout, string(out))
	return nil
}

// benchProvince writes the synthetic province with COPY: institutions across Zhejiang's cities, three
// classes each, staff with one post each (about 1 in 10 without a certificate, some with an expired
// health certificate, a few barred). Only the scratch database is touched.
func benchProvince(ctx context.Context, pool *pgxpool.Pool, nInst, nAssign int) ([]int64, error) {
	var userID int64
	if err := pool.QueryRow(ctx, `WITH p AS (INSERT INTO people (name) VALUES ('基准测试') RETURNING id)
		INSERT INTO users (person_id, username, password_hash) SELECT id, 'bench.audit', 'x' FROM p RETURNING id`).Scan(&userID); err != nil {
		return nil, err
	}
	cities := []string{"3301", "3302", "3303", "3304", "3305", "3306", "3307", "3308", "3309", "3310", "3311"}
	var orgRows [][]any
	for i := 0; i < nInst; i++ {
		region := cities[i%len(cities)]
		orgRows = append(orgRows, []any{"institution", fmt.Sprintf("B%07d", i), fmt.Sprintf("基准托育机构%d", i), region,
			audits.SyntheticCreditCode(region+"00", 500000+i), "community", map[string]int{"toddler_young": 15}})
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"organisations"}, []string{"kind", "code", "name", "region_code", "credit_code", "institution_type", "licensed_places"},
		pgx.CopyFromRows(orgRows)); err != nil {
		return nil, fmt.Errorf("institutions: %w", err)
	}
	rows, err := pool.Query(ctx, `SELECT id FROM organisations WHERE kind = 'institution' ORDER BY id`)
	if err != nil {
		return nil, err
	}
	orgIDs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	var classRows [][]any
	for _, id := range orgIDs {
		for k, t := range []string{"infant", "toddler_young", "toddler_old"} {
			classRows = append(classRows, []any{id, fmt.Sprintf("班%d", k), t, 4 + int(id)%4 + k*3})
		}
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"audit_classes"}, []string{"organisation_id", "name", "class_type", "children"}, pgx.CopyFromRows(classRows)); err != nil {
		return nil, fmt.Errorf("classes: %w", err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO people (name) SELECT '员工' || g FROM generate_series(1, $1) g`, nAssign); err != nil {
		return nil, fmt.Errorf("people: %w", err)
	}
	rows, err = pool.Query(ctx, `SELECT id FROM people WHERE name LIKE '员工%' ORDER BY id`)
	if err != nil {
		return nil, err
	}
	people, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var roster, certs [][]any
	for i, pid := range people {
		org := orgIDs[i%len(orgIDs)]
		health := now.AddDate(1, 0, 0)
		if i%37 == 0 {
			health = now.AddDate(0, 0, -3)
		}
		roster = append(roster, []any{org, pid, fmt.Sprintf("员工%d", i), fmt.Sprintf("%04d", i%10000), health, now.AddDate(0, -2, 0)})
		if i%10 != 3 {
			// Certificates without levels are recorded as level 5.
			occ, level := map[int]string{0: "director-training", 1: "security-guard", 2: "health-staff-training"}[i/len(orgIDs)], 5
			if occ == "" {
				occ, level = "4-10-01-03", 3+i%3
			}
			certs = append(certs, []any{org, pid, fmt.Sprintf("C%09d", i), occ, level, now.AddDate(2, 0, 0), "bench", userID})
		}
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"audit_roster"}, []string{"organisation_id", "person_id", "name", "id_last4", "health_valid_until", "no_criminal_record_on"}, pgx.CopyFromRows(roster)); err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"audit_external_certificates"}, []string{"organisation_id", "person_id", "number", "occupation", "level", "expires_on", "evidence", "recorded_by"}, pgx.CopyFromRows(certs)); err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	// Statistics first: the class lookup below is planned as a scan per roster line without them.
	if _, err := pool.Exec(ctx, `ANALYZE audit_classes, audit_roster`); err != nil {
		return nil, err
	}
	// One post per roster member: the first three of each institution direct, guard and care for
	// health; the others are caregivers spread over the classes.
	if _, err := pool.Exec(ctx, `INSERT INTO audit_assignments (roster_id, post, class_id)
		SELECT r.id, CASE WHEN r.rk = 1 THEN 'director' WHEN r.rk = 2 THEN 'security' WHEN r.rk = 3 THEN 'health' ELSE 'caregiver' END,
			CASE WHEN r.rk > 3 THEN (SELECT c.id FROM audit_classes c WHERE c.organisation_id = r.organisation_id ORDER BY c.id OFFSET (r.rk % 3) LIMIT 1) END
		FROM (SELECT id, organisation_id, row_number() OVER (PARTITION BY organisation_id ORDER BY id) rk FROM audit_roster) r`); err != nil {
		return nil, fmt.Errorf("assignments: %w", err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO audit_barred_persons (person_id, legal_basis, authority, starts_on, evidence, recorded_by)
		SELECT id, 'bench', 'bench', now() - interval '1 year', 'bench', $1 FROM people WHERE name LIKE '员工%' AND id % 5000 = 0`, userID); err != nil {
		return nil, fmt.Errorf("bars: %w", err)
	}
	_, err = pool.Exec(ctx, `ANALYZE`)
	return orgIDs, err
}
