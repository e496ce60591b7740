// Package demo creates the demo province that `shanyu seed demo` and `make run` show: it calls each
// domain's own seeding functions in dependency order. It is wiring only and holds no SQL of its own.
// Seeding is idempotent and refused in production.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/app"
	"shanyu/audits"
	"shanyu/certificates"
	"shanyu/curriculum"
	"shanyu/exams/bank"
	"shanyu/internal/config"
	"shanyu/internal/jobs"
)

// ErrProduction refuses demo data on a production installation.
var ErrProduction = errors.New("refusing to seed demo data: SHANYU_ENV is production")

// Seed creates (or tops up) the demo data and reports what it did on out.
func Seed(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, out io.Writer) error {
	if cfg.Production() {
		return ErrProduction
	}
	n, err := accounts.SeedRegions(ctx, pool)
	if err != nil {
		return fmt.Errorf("regions: %w", err)
	}
	fmt.Fprintf(out, "regions: %d\n", n)
	acc, err := accounts.New(pool, cfg.SecretKey, accounts.DefaultPolicy)
	if err != nil {
		return err
	}
	if err := accounts.EnsureDefaultAccessRules(ctx, pool); err != nil {
		return fmt.Errorf("access rules: %w", err)
	}
	orgs, users, err := acc.SeedDemo(ctx)
	if err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	fmt.Fprintf(out, "organisations: %d new, users: %d new (password %q)\n", orgs, users, accounts.DemoPassword)
	centre, err := acc.OrganisationByCode(ctx, "HZ001")
	if err != nil {
		return err
	}
	items, err := bank.SeedDemo(ctx, pool, centre.ID)
	if err != nil {
		return fmt.Errorf("question bank: %w", err)
	}
	fmt.Fprintf(out, "question bank of HZ001: %d new items\n", items)
	key, _, err := certificates.EnsureSigningKey(ctx, pool, cfg.SecretKey)
	if err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	if _, _, err := certificates.EnsurePDFSigner(ctx, pool, cfg.SecretKey, "Shanyu Demo Certificate Authority", cfg.BaseURL, time.Now()); err != nil {
		return fmt.Errorf("PDF signer: %w", err)
	}
	fmt.Fprintf(out, "signing key: %s\n", key.ID)
	// Each later domain seeds its own part, in dependency order, in a file of its own.
	// Publishing the demo results enqueues their certificates' issuance, which the first `serve` works.
	inserter, err := jobs.NewInserter(pool, nil)
	if err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	env := seedEnv{cfg: cfg, pool: pool, accounts: acc, jobs: inserter, out: out}
	// The services, each with its collaborators, in app.Build's order. The seed has no report words
	// (they are the server's), so the inspections it finishes get their reports on first download.
	env.curriculum = curriculum.New(pool, cfg.SecretKey, curriculum.Options{Directory: acc})
	env.certificates = certificates.New(pool, certificates.Config{BaseURL: cfg.BaseURL, Secret: cfg.SecretKey, TSAURL: cfg.TSAURL, TokenAlgorithm: cfg.TokenAlg,
		Directory: acc, Notices: accounts.NewNotices(inserter), Hours: env.curriculum})
	if env.audits, err = audits.New(ctx, pool, audits.Deps{Accounts: acc, Certificates: app.CertificateSource(env.certificates), Exams: app.ExamResults(pool),
		ReportsElsewhere: true}); err != nil {
		return fmt.Errorf("audits: %w", err)
	}
	for _, step := range []func(context.Context, seedEnv) error{seedCurriculum, seedExams, seedCertificates, seedAudits, seedPlanning} {
		if err := step(ctx, env); err != nil {
			return err
		}
	}
	// The seed's audit rows are sealed into the chain now, as a server's sealer would, so that a
	// database seeded and served later (or copied, as the tests' templates are) starts sealed.
	sealed, waiting, err := accounts.NewSealer(pool, nil).SealWaiting(ctx, 30*time.Second)
	if err != nil {
		return fmt.Errorf("audit seal: %w", err)
	}
	fmt.Fprintf(out, "audit log: %d rows sealed, %d waiting for a transaction still running\n", sealed, waiting)
	return nil
}

// seedEnv is what each domain's demo seeding gets.
type seedEnv struct {
	cfg          config.Config
	pool         *pgxpool.Pool
	accounts     *accounts.Service
	curriculum   *curriculum.Service
	certificates *certificates.Service
	audits       *audits.Service
	jobs         jobs.Inserter
	out          io.Writer
}
