// Package app wires the domains together once, for both the web server and the background workers:
// it builds each domain's service from the pool and configuration, registers the domains' job workers
// and owns the River client. It is wiring only: no SQL, no HTTP, no business rules.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/audits"
	"shanyu/certificates"
	"shanyu/curriculum"
	"shanyu/exams"
	"shanyu/internal/config"
	"shanyu/internal/jobs"
	"shanyu/internal/pdfdoc"
	"shanyu/internal/pg"
)

// App holds the domain services and the background machinery of one process.
type App struct {
	Config       config.Config
	Pool         *pgxpool.Pool
	Log          *slog.Logger
	Accounts     *accounts.Service
	Access       *accounts.Access
	Audits       *audits.Service
	Certificates *certificates.Service
	Curriculum   *curriculum.Service
	Exams        *exams.Service
	Jobs         *jobs.Client
	Notices      *accounts.Notices // the hook that notifies people in the transaction of the event
	ResetCodes   jobs.Inserter     // enqueues password-reset codes (accounts.RequestPasswordReset)
	AuditSealer  *accounts.Sealer  // chains the audit log; runs in every process that Starts, one at a time
	registry     *jobs.Registry
	public       *pgxpool.Pool // the public verification's own pool, see pg.Side
	standby      *pgxpool.Pool // SHANYU_READ_DATABASE_URL's pool; nil without one
	reads        *pg.Reads     // the reads that may be slightly stale: the standby while caught up, else public
}

// publicPoolSize is how many connections public verification may use: a few per core, enough to
// keep PostgreSQL busy, few enough that scans wait in the pool rather than crowd the database.
func publicPoolSize() int32 { return int32(min(4*runtime.GOMAXPROCS(0), 32)) }

// Options are what the wiring needs besides the configuration: the inspection reports' words,
// which come from the server's locales (server.ReportLabels).
type Options struct {
	ReportLabels *audits.ReportLabels
	NoticeText   accounts.NoticeText // notifications' words in each language (server.NoticeText)
}

// Build makes the services, each with its collaborators in its constructor, in dependency order:
// accounts, curriculum, certificates (renewal asks curriculum for hours), audits (asks certificates
// for status), then exams (asks curriculum and accounts, enqueues issuance). Jobs are enqueued
// through an insert-only client made first, so that the working client, which needs the workers
// and so the services, comes last. Nothing runs in the background until Start.
func Build(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, log *slog.Logger, o Options) (_ *App, err error) {
	if log == nil {
		log = slog.Default()
	}
	a := &App{Config: cfg, Pool: pool, Log: log, registry: jobs.NewRegistry()}
	if a.Accounts, err = accounts.New(pool, cfg.SecretKey, accounts.PolicyFrom(cfg.AuthMemory, cfg.AuthQueue)); err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	if a.Access, err = accounts.NewAccess(ctx, pool, log); err != nil {
		return nil, fmt.Errorf("access policy: %w", err)
	}
	a.Access.OnReload(a.Accounts.ForgetPrincipals) // the cached sessions carry grants
	inserter, err := jobs.NewInserter(pool, log)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if o.NoticeText == nil {
		return nil, fmt.Errorf("app: Options.NoticeText is required")
	}
	if o.ReportLabels == nil {
		return nil, fmt.Errorf("app: Options.ReportLabels is required")
	}
	sender, err := newSender(cfg, log)
	if err != nil {
		return nil, err
	}
	a.Notices, a.ResetCodes = accounts.NewNotices(inserter), inserter
	if a.public, err = pg.Side(ctx, pool, publicPoolSize()); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	// Public verification and the dashboards read through a.reads: from the standby while it has
	// replayed what the primary wrote at most SHANYU_READ_MAX_LAG ago, else from the public pool.
	if cfg.ReadDatabaseURL != "" {
		if a.standby, err = pg.Standby(ctx, cfg.ReadDatabaseURL, publicPoolSize()); err != nil {
			return nil, fmt.Errorf("SHANYU_READ_DATABASE_URL: %w", err)
		}
	}
	a.reads = pg.NewReads(pg.ReadsOptions{Primary: a.public, Standby: a.standby, LSN: pool, MaxLag: cfg.ReadMaxLag, Log: log})
	a.Curriculum = curriculum.New(pool, cfg.SecretKey, curriculum.Options{
		Directory: a.Accounts,
		Levels: func(code string, level int) (string, string, error) {
			t, err := certificates.LevelTitles(code, level)
			return t.OccupationZH + " " + t.LevelZH, t.OccupationEN + ", " + t.LevelEN, err
		},
		Font: func() (curriculum.Subsetter, error) {
			f, err := pdfdoc.LoadFont(cfg.CJKFont)
			if err != nil {
				return nil, err
			}
			return f, nil
		},
	})
	a.Certificates = certificates.New(pool, certificates.Config{
		BaseURL: cfg.BaseURL, Secret: cfg.SecretKey, Public: a.reads, Hours: a.Curriculum, Directory: a.Accounts, Notices: a.Notices,
		FontPath: cfg.CJKFont, PDFCertFile: cfg.PDFCertFile, PDFKeyFile: cfg.PDFKeyFile, TSAURL: cfg.TSAURL, TokenAlgorithm: cfg.TokenAlg,
	})
	if a.Audits, err = audits.New(ctx, pool, audits.Deps{
		Accounts: a.Accounts, Certificates: certificateSource{certs: a.Certificates}, Reports: a.Certificates, Exams: examResults{db: pool},
		Labels: o.ReportLabels, Log: log, Read: a.reads,
	}); err != nil {
		return nil, fmt.Errorf("audits: %w", err)
	}
	a.Exams = exams.New(pool, exams.Options{Jobs: inserter, Hours: a.Curriculum, Identity: a.Accounts, Conduct: conductSource{audits: a.Audits}, Names: a.Accounts, Notices: a.Notices})
	// Each domain registers its workers here, before the working client is built.
	a.AuditSealer = accounts.NewSealer(pool, log)
	jobs.Add(a.registry, &accounts.SealWorker{Sealer: a.AuditSealer})
	a.registry.Periodic = append(a.registry.Periodic, accounts.PeriodicSeal())
	jobs.Add(a.registry, &certificates.IssueWorker{Service: a.Certificates})
	jobs.Add(a.registry, &exams.AutoSubmitWorker{Exams: a.Exams})
	jobs.Add(a.registry, &exams.SweepWorker{Exams: a.Exams})
	a.registry.Periodic = append(a.registry.Periodic, exams.PeriodicSweep())
	jobs.Add(a.registry, &exams.BuildPaperWorker{Exams: a.Exams})
	jobs.Add(a.registry, &exams.RebuildPapersWorker{Exams: a.Exams})
	jobs.Add(a.registry, &exams.PaperSweepWorker{Exams: a.Exams})
	a.registry.Periodic = append(a.registry.Periodic, exams.PeriodicPaperSweep())
	jobs.Add(a.registry, &audits.SnapshotWorker{Audits: a.Audits})
	a.registry.Periodic = append(a.registry.Periodic, audits.PeriodicSnapshot())
	jobs.Add(a.registry, &exams.RemindWorker{Exams: a.Exams})
	jobs.Add(a.registry, &certificates.ExpiryWorker{Service: a.Certificates})
	a.registry.Periodic = append(a.registry.Periodic, exams.PeriodicRemind(), certificates.PeriodicExpiry())
	jobs.Add(a.registry, accounts.NewSendWorker(pool, sender, o.NoticeText))
	jobs.Add(a.registry, accounts.NewResetCodeWorker(a.Accounts, sender, o.NoticeText))
	if a.Jobs, err = jobs.New(pool, a.registry, log, 8, jobs.Timing{Timeout: cfg.JobTimeout, RescueAfter: cfg.JobRescueAfter}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return a, nil
}

// PublicPool is the public verification's own pool (for the metrics of its use).
func (a *App) PublicPool() *pgxpool.Pool { return a.public }

// StandbyPool is the standby's pool (SHANYU_READ_DATABASE_URL), nil without one.
func (a *App) StandbyPool() *pgxpool.Pool { return a.standby }

// Reads routes the public and dashboard reads between the standby and the primary (for metrics).
func (a *App) Reads() *pg.Reads { return a.reads }

// Start runs the background work (job workers, the access-policy listener) until ctx ends or Stop.
func (a *App) Start(ctx context.Context) error {
	go a.Access.Listen(ctx)
	go a.Accounts.ListenSessions(ctx, a.Log)
	go a.Audits.Listen(ctx)
	go a.AuditSealer.Run(ctx)
	if a.registry.Works() {
		if err := a.Jobs.Start(ctx); err != nil {
			return fmt.Errorf("start jobs: %w", err)
		}
	}
	return nil
}

// Stop lets running jobs finish (until ctx ends), then returns.
func (a *App) Stop(ctx context.Context) error {
	// Verifications are logged in batches (certificates/verifylog.go): store the queued ones. The
	// server has stopped answering by now, so none comes after.
	a.Certificates.FlushVerifications(ctx)
	if !a.registry.Works() {
		return nil
	}
	return a.Jobs.Stop(ctx)
}

// Close releases what Build opened (the public verification pool, the standby's); call it after
// Stop. The main pool is the caller's.
func (a *App) Close() {
	a.public.Close()
	if a.standby != nil {
		a.standby.Close()
	}
}

// newSender is the SMS and e-mail sender SHANYU_NOTIFY_SENDER names.
func newSender(cfg config.Config, log *slog.Logger) (accounts.Sender, error) {
	switch cfg.NotifySender {
	case "log", "":
		return accounts.LogSender{Log: log}, nil
	}
	return nil, fmt.Errorf("unknown SHANYU_NOTIFY_SENDER %q", cfg.NotifySender)
}
