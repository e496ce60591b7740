package audits

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// CertificateSource is what the audit needs from the certificates domain: a person's certificates
// with their status, and the certificate behind a code scanned or typed on site. The audit never
// reads the certificates' tables; app wires an adapter.
type CertificateSource interface {
	ForPeople(ctx context.Context, personIDs []int64) (map[int64][]Cert, error)
	// ByCode resolves a verification code or certificate number to the certificate and its holder;
	// ErrCodeUnknown when there is none. ref names the inspection (and an offline scan) in the
	// certificates' verification log.
	ByCode(ctx context.Context, code, ref string) (Cert, int64, error)
}

// Errors of the audits domain.
var (
	ErrNotFound    = failure.New(failure.NotFound, "audits.not_found")
	ErrCodeUnknown = failure.New(failure.NotFound, "audits.code_unknown")
	ErrRuleInvalid = failure.New(failure.Invalid, "audits.rule_invalid")
	ErrClosed      = failure.New(failure.Conflict, "audits.inspection_closed")
	ErrSigned      = failure.New(failure.Conflict, "audits.already_signed")
	ErrNotAssigned = failure.New(failure.Forbidden, "audits.not_assigned")
	ErrExists      = failure.New(failure.Conflict, "audits.exists")
)

// notifyChannel carries "the qualification rules changed" between replicas.
const notifyChannel = "shanyu_qualification"

// Service owns the audits tables and the live qualification policy.
type Service struct {
	db       *pgxpool.Pool
	read     querier // the dashboard's reads: a standby while it is caught up (pg.Reads), else db
	accounts *accounts.Service
	certs    CertificateSource
	exams    ExamResults
	tools    ReportTools // nil only with Deps.ReportsElsewhere
	// reportsElsewhere: this service makes no inspection report (Deps.ReportsElsewhere).
	reportsElsewhere bool
	log              *slog.Logger
	policy           atomic.Pointer[Policy]
	loads            atomic.Int64
	staffing         Staffing
	// reportLabels are the inspection report's words, from the server's locales (report.go).
	reportLabels atomic.Pointer[ReportLabels]
}

// Deps are the audits domain's collaborators, given once when it is built. Accounts, Certificates
// and Exams are required; Reports and Labels are required unless ReportsElsewhere. New panics
// without a required one: a missing one would silently skip part of an audit.
type Deps struct {
	Accounts     *accounts.Service
	Certificates CertificateSource // a person's platform certificates and the one behind a scanned code
	Exams        ExamResults       // published exam results per training centre (the indicators)
	Reports      ReportTools       // the font and signer of inspection reports
	Labels       *ReportLabels     // the reports' words (from the server's locales)
	// ReportsElsewhere builds a service that makes no inspection report, for a process that has no
	// report words (the demo seed, which runs without the server's locales): an inspection it
	// finishes gets its signed report on its first download, from the server's service. Asked for a
	// report it has not got, this service fails (InspectionReportPDF, AddAddendum), and it holds texts
	// to what any font prints (Printable). Reports and Labels must then be nil.
	ReportsElsewhere bool
	Log              *slog.Logger
	// Read is where the dashboard reads (app gives a pg.Reads: the standby while it is caught
	// up, else the primary); the main pool when nil.
	Read querier
}

// New builds the service: it stores the default class types (idempotent) and loads the policy with
// the regional rules. It panics when a required collaborator is missing.
func New(ctx context.Context, db *pgxpool.Pool, d Deps) (*Service, error) {
	switch {
	case d.Accounts == nil:
		panic("audits.New: Deps.Accounts (the accounts service) is required")
	case d.Certificates == nil:
		panic("audits.New: Deps.Certificates (the certificates domain, through app's adapter) is required")
	case d.Exams == nil:
		panic("audits.New: Deps.Exams (the exams domain's published results, through app's adapter) is required")
	case d.ReportsElsewhere && (d.Reports != nil || d.Labels != nil):
		panic("audits.New: Deps.ReportsElsewhere makes no report: Deps.Reports and Deps.Labels must be nil with it")
	case !d.ReportsElsewhere && d.Reports == nil:
		panic("audits.New: Deps.Reports (the report font and signer: the certificates service) is required unless Deps.ReportsElsewhere")
	case !d.ReportsElsewhere && d.Labels == nil:
		panic("audits.New: Deps.Labels (the report words: server.ReportLabels) is required unless Deps.ReportsElsewhere")
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	st, err := DefaultStaffing()
	if err != nil {
		return nil, fmt.Errorf("staffing: %w", err)
	}
	s := &Service{db: db, read: d.Read, accounts: d.Accounts, certs: d.Certificates, exams: d.Exams, tools: d.Reports, reportsElsewhere: d.ReportsElsewhere,
		log: d.Log, staffing: st}
	if s.read == nil {
		s.read = db
	}
	s.reportLabels.Store(d.Labels)
	if err := EnsureClassTypes(ctx, db); err != nil {
		return nil, err
	}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// EnsureClassTypes stores the default class types that are not there yet; edits are kept.
func EnsureClassTypes(ctx context.Context, db pg.DB) error {
	types, err := DefaultClassTypes()
	if err != nil {
		return err
	}
	for _, ct := range types {
		if _, err := db.Exec(ctx, `INSERT INTO audit_class_types (code, name, name_en, min_months, max_months, max_children, children_per_caregiver)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO NOTHING`,
			ct.Code, ct.Name, ct.NameEN, ct.MinMonths, ct.MaxMonths, ct.MaxChildren, ct.ChildrenPerCaregiver); err != nil {
			return fmt.Errorf("class types: %w", err)
		}
	}
	return nil
}

// Policy is the qualification policy in force on this replica.
func (s *Service) Policy() *Policy { return s.policy.Load() }

// Staffing is the institution-wide staffing rules.
func (s *Service) Staffing() Staffing { return s.staffing }

// Loads counts policy loads (for tests).
func (s *Service) Loads() int64 { return s.loads.Load() }

// Reload rebuilds the policy from the default file and the stored regional rules.
func (s *Service) Reload(ctx context.Context) error {
	lines, err := s.ruleLines(ctx, s.db)
	if err != nil {
		return err
	}
	p, err := NewPolicy(lines)
	if err != nil {
		return err
	}
	s.policy.Store(p)
	s.loads.Add(1)
	return nil
}

func (s *Service) ruleLines(ctx context.Context, db pg.DB) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT line FROM audit_qualification_rules ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("qualification rules: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Listen reloads the policy whenever a replica announces a rule change, until ctx ends.
func (s *Service) Listen(ctx context.Context) {
	pg.Listen(ctx, s.db, notifyChannel, s.Reload, s.log)
}

// Rule is a regional qualification rule.
type Rule struct {
	ID        int64
	Line      string
	Note      string
	CreatedBy int64
	CreatedAt time.Time
}

// Rules lists the regional rules.
func (s *Service) Rules(ctx context.Context) ([]Rule, error) {
	rows, err := s.db.Query(ctx, `SELECT id, line, note, created_by, created_at FROM audit_qualification_rules ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Rule, error) {
		var x Rule
		return x, r.Scan(&x.ID, &x.Line, &x.Note, &x.CreatedBy, &x.CreatedAt)
	})
}

// The most a rule's line (bytes) and its note (characters) may hold, on every path that adds one.
const (
	MaxRuleLine = 300
	MaxRuleNote = 500
)

// NormaliseRule checks a policy line ("p, token, region:<code>*, post:x, group, allow|deny", or
// without the region for a rule everywhere, or "g, higher, lower") and returns it in canonical
// spacing, with its region (region:* for everywhere).
func NormaliseRule(line string) (string, error) {
	if len(line) > MaxRuleLine {
		return "", failure.Field("line", "audits.rules.line_too_long", MaxRuleLine)
	}
	parts := strings.Split(line, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
		if parts[i] == "" || strings.ContainsAny(parts[i], "\n\r#\"") {
			return "", ErrRuleInvalid
		}
	}
	if parts[0] == "p" && len(parts) == 5 {
		parts = append(parts[:2], append([]string{RuleDomain("")}, parts[2:]...)...)
	}
	switch {
	case parts[0] == "p" && len(parts) == 6 && ruleDomainPattern.MatchString(parts[2]) && strings.HasPrefix(parts[3], "post:") && (parts[5] == "allow" || parts[5] == "deny"):
	case parts[0] == "g" && len(parts) == 3:
	default:
		return "", ErrRuleInvalid
	}
	out := strings.Join(parts, ", ")
	if _, err := NewPolicy([]string{out}); err != nil {
		return "", ErrRuleInvalid.Wrap(err)
	}
	return out, nil
}

// ruleDomainPattern is a rule's region: everywhere, or a region code (and every region below it).
var ruleDomainPattern = regexp.MustCompile(`^region:([0-9]{2,12})?\*$`)

// Region is the code of the region a rule applies in (and below); "" for everywhere and for
// level lines.
func (r Rule) Region() string {
	parts := strings.Split(r.Line, ", ")
	if len(parts) == 6 {
		return RuleRegion(parts[2])
	}
	return ""
}

// RuleByID returns one regional rule.
func (s *Service) RuleByID(ctx context.Context, id int64) (Rule, error) {
	var x Rule
	err := s.db.QueryRow(ctx, `SELECT id, line, note, created_by, created_at FROM audit_qualification_rules WHERE id = $1`, id).
		Scan(&x.ID, &x.Line, &x.Note, &x.CreatedBy, &x.CreatedAt)
	if pg.IsNoRows(err) {
		return x, ErrNotFound
	}
	return x, err
}

// AddRule stores a regional rule and tells every replica to reload.
func (s *Service) AddRule(ctx context.Context, actorID int64, line, note string) (Rule, error) {
	if utf8.RuneCountInString(note) > MaxRuleNote {
		return Rule{}, failure.Field("note", "audits.rules.note_too_long", MaxRuleNote)
	}
	line, err := NormaliseRule(line)
	if err != nil {
		return Rule{}, err
	}
	r := Rule{Line: line, Note: strings.TrimSpace(note), CreatedBy: actorID}
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO audit_qualification_rules (line, note, created_by) VALUES ($1, $2, $3) RETURNING id, created_at`,
			r.Line, r.Note, actorID).Scan(&r.ID, &r.CreatedAt)
		if _, dup := pg.HasCode(err, pg.CodeUniqueViolation); dup {
			return ErrExists
		}
		if err != nil {
			return err
		}
		if err := accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "qualification_rule.add",
			Subject: fmt.Sprintf("qualification_rule:%d", r.ID), Details: map[string]any{"line": r.Line}}); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, '')`, notifyChannel)
		return err
	})
	if err != nil {
		return Rule{}, err
	}
	return r, s.Reload(ctx)
}

// RemoveRule deletes a regional rule and tells every replica to reload.
func (s *Service) RemoveRule(ctx context.Context, actorID, id int64) error {
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		var line string
		err := tx.QueryRow(ctx, `DELETE FROM audit_qualification_rules WHERE id = $1 RETURNING line`, id).Scan(&line)
		if pg.IsNoRows(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "qualification_rule.remove",
			Subject: fmt.Sprintf("qualification_rule:%d", id), Details: map[string]any{"line": line}}); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, '')`, notifyChannel)
		return err
	})
	if err != nil {
		return err
	}
	return s.Reload(ctx)
}
