package certificates

import (
	"context"
	"github.com/jackc/pgx/v5"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/internal/clock"
	"shanyu/internal/config"
	"shanyu/internal/pdfdoc"
	"shanyu/internal/pg"
)

// HoursSource tells how many continuing-education hours a person completed in an occupation within a
// period; the curriculum domain provides it. Renewal needs one.
type HoursSource interface {
	CompletedHours(ctx context.Context, personID int64, occupationCode string, from, to time.Time) (float64, error)
}

// Config is what the service needs from the process.
type Config struct {
	BaseURL string // public address, for QR links and credential ids
	Secret  []byte // SHANYU_SECRET_KEY: opens the stored private keys
	// FontPath is the TrueType font PDFs print with (config.Config.CJKFont; config.DefaultCJKFont
	// when empty). PDFCertFile and PDFKeyFile name the PDF signing certificate and key files; when both
	// are empty the signer stored by `shanyu keys init` is used.
	FontPath, PDFCertFile, PDFKeyFile string
	Hours                             HoursSource // required: renewal counts continuing-education hours
	// Directory is where issuance reads the holder and the issuer (the accounts service); required.
	Directory Directory
	Now       func() time.Time // time.Now when nil
	// TSAURL is the RFC 3161 Time-Stamp Authority that timestamps PDF signatures (SHANYU_TSA_URL);
	// none when empty (signatures are then PAdES B-B, without a timestamp).
	TSAURL string
	// TokenAlgorithm signs QR tokens: AlgEdDSA (default) or AlgSM2 (SHANYU_TOKEN_ALG).
	TokenAlgorithm string
	// Public is where the public verification reads (Verify, Photo, the issuer profile, JWKS) go:
	// app gives a pg.Reads, the standby while it is caught up and else a bulkhead pool of its own
	// on the primary (pg.Side); the main pool when nil.
	Public pg.DB
	// Notices tells holders of issuance, suspension and revocation in the transaction that makes
	// them (accounts.Notices); required by issuance and status changes.
	Notices Notifier
}

// Notifier is the accounts hook that notifies a person inside the caller's transaction.
type Notifier interface {
	Notify(ctx context.Context, tx pgx.Tx, n accounts.Notice) error
}

// Directory is what certificates needs from accounts: the holder and the issuer at issuance, read
// through accounts' batch functions rather than from its tables, and then kept with the certificate.
type Directory interface {
	People(ctx context.Context, ids []int64, withPhoto bool) (map[int64]accounts.Person, error)
	Organisations(ctx context.Context, ids []int64) (map[int64]accounts.Organisation, error)
}

// pdfFiles are the font and the PDF signing material's files.
type pdfFiles struct{ font, cert, key string }

// Service issues, verifies and manages certificates. Build one per process; it is safe for
// concurrent use. The font and the PDF signing material are loaded on first use, once.
type Service struct {
	db        *pgxpool.Pool
	public    pg.DB // for the public verification reads; db when not configured
	baseURL   string
	secret    []byte
	files     pdfFiles
	tokenAlg  string
	hours     HoursSource
	directory Directory
	notices   Notifier
	now       func() time.Time

	renderOnce sync.Once
	renderer   *Renderer
	renderErr  error

	tsa       *pdfdoc.TSAClient // nil without a TSA
	pdfMu     sync.Mutex
	pdfSigner *pdfdoc.PDFSigner
	pdfAt     time.Time // when pdfSigner was loaded or last checked
	crls      crlCache

	logOnce sync.Once
	vlog    *verificationLog
}

// New makes the service. Hours, Directory and Notices are required: it panics without them.
func New(db *pgxpool.Pool, cfg Config) *Service {
	switch {
	case cfg.Hours == nil:
		panic("certificates.New: Config.Hours (the curriculum service) is required")
	case cfg.Directory == nil:
		panic("certificates.New: Config.Directory (the accounts service) is required")
	case cfg.Notices == nil:
		panic("certificates.New: Config.Notices (accounts.Notices) is required")
	}
	s := &Service{db: db, public: cfg.Public, baseURL: cfg.BaseURL, secret: cfg.Secret, hours: cfg.Hours, directory: cfg.Directory, notices: cfg.Notices, now: cfg.Now,
		files: pdfFiles{font: cfg.FontPath, cert: cfg.PDFCertFile, key: cfg.PDFKeyFile}}
	if s.public == nil {
		s.public = db
	}
	if s.files.font == "" {
		s.files.font = config.DefaultCJKFont
	}
	if s.now == nil {
		s.now = time.Now
	}
	if cfg.TSAURL != "" {
		s.tsa = pdfdoc.NewTSAClient(cfg.TSAURL)
	}
	s.tokenAlg = cfg.TokenAlgorithm
	return s
}

// BaseURL is the public address certificates link to.
func (s *Service) BaseURL() string { return s.baseURL }

// DB is the pool the service works on.
func (s *Service) DB() *pgxpool.Pool { return s.db }

func (s *Service) loadRenderer() (*Renderer, error) {
	s.renderOnce.Do(func() {
		f, err := pdfdoc.LoadFont(s.files.font)
		if err != nil {
			s.renderErr = err
			return
		}
		s.renderer, s.renderErr = NewRenderer(f)
	})
	return s.renderer, s.renderErr
}

// pdfSignerCheck is how often a loaded stored PDF signer is compared with the active one, so that
// every replica signs with the new certificate soon after `shanyu keys rotate`.
const pdfSignerCheck = time.Minute

func (s *Service) loadPDFSigner(ctx context.Context) (*pdfdoc.PDFSigner, error) {
	s.pdfMu.Lock()
	defer s.pdfMu.Unlock()
	if s.pdfSigner != nil && (s.pdfSigner.FromFiles || time.Since(s.pdfAt) < pdfSignerCheck) {
		return s.pdfSigner, nil
	}
	if s.pdfSigner != nil {
		var fp string
		err := s.db.QueryRow(ctx, `SELECT fingerprint FROM certificate_pdf_signers WHERE active`).Scan(&fp)
		if err == nil && fp == s.pdfSigner.Fingerprint() {
			s.pdfAt = time.Now()
			return s.pdfSigner, nil
		}
	}
	p, err := PDFSignerFrom(ctx, s.files.cert, s.files.key, s.db, s.secret)
	if err != nil {
		return nil, err
	}
	if s.tsa != nil {
		p = p.WithTSA(s.tsa)
	}
	s.pdfSigner, s.pdfAt = p, time.Now()
	return p, nil
}

// Timestamped says whether PDF signatures get an RFC 3161 timestamp (a TSA is configured).
func (s *Service) Timestamped() bool { return s.tsa != nil }

// today is the current date in the product's zone, as UTC midnight (the form dates take in this package).
func (s *Service) today() time.Time { return clock.Today(s.now()) }
