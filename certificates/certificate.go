package certificates

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/accounts"
	"shanyu/internal/pg"
)

// States a verifier can see. The stored status is valid, suspended or revoked; expired is derived
// from the date, and unknown means no certificate has that code.
const (
	StateValid     = "valid"
	StateExpired   = "expired"
	StateSuspended = "suspended"
	StateRevoked   = "revoked"
	StateUnknown   = "unknown"
)

// Certificate is an issued certificate, without its PDF bytes.
type Certificate struct {
	ID              int64
	RequestID       int64
	Number          string
	Code            string
	PersonID        int64
	CentreID        int64
	CentreCode      string
	CentreName      string
	CentreNameEN    string
	CentreRegion    string
	OccupationCode  string
	Level           int
	Hours           float64
	IssuedOn        time.Time
	ExpiresOn       time.Time
	Status          string // stored: valid, suspended, revoked
	State           string // what a verifier sees: Status, or expired
	StatusReason    string
	StatusChangedAt *time.Time
	Version         int
	StatusIndex     int
	KeyID           string
	PDFSHA256       []byte
}

// stateExpr is the one place that derives the visible state: a suspension or revocation wins, then
// the expiry date (counted in the product's zone: pg.Open sets the session's TimeZone to it).
const stateExpr = `CASE WHEN c.status <> 'valid' THEN c.status
	WHEN c.expires_on < current_date THEN 'expired' ELSE 'valid' END`

const certColumns = `c.id, c.request_id, c.number, c.code, c.person_id, c.centre_id, c.issuer_code, c.issuer_name, c.issuer_name_en, c.issuer_region,
	c.occupation_code, c.level, c.hours::float8, c.issued_on, c.expires_on, c.status, ` + stateExpr + `, c.status_reason,
	c.status_changed_at, c.version, c.status_index, c.key_id, coalesce(c.pdf_sha256, ''::bytea)`

// certFrom reads only certificates: the holder and issuer are the snapshot taken at issuance.
const certFrom = ` FROM certificates c `

func (c *Certificate) dest() []any {
	return []any{&c.ID, &c.RequestID, &c.Number, &c.Code, &c.PersonID, &c.CentreID, &c.CentreCode, &c.CentreName, &c.CentreNameEN,
		&c.CentreRegion, &c.OccupationCode, &c.Level, &c.Hours, &c.IssuedOn, &c.ExpiresOn, &c.Status, &c.State, &c.StatusReason,
		&c.StatusChangedAt, &c.Version, &c.StatusIndex, &c.KeyID, &c.PDFSHA256}
}

func scanCertificate(row pgx.Row) (Certificate, error) {
	var c Certificate
	err := row.Scan(c.dest()...)
	if pg.IsNoRows(err) {
		return c, ErrNotFound
	}
	return c, err
}

// Titles returns the printed names of the certificate's occupation and level.
func (c Certificate) Titles() Titles {
	t, _ := LevelTitles(c.OccupationCode, c.Level)
	return t
}

func (s *Service) byID(ctx context.Context, id int64) (Certificate, error) {
	return scanCertificate(s.db.QueryRow(ctx, `SELECT `+certColumns+certFrom+`WHERE c.id = $1`, id))
}

// ByNumber loads an issued certificate by its number.
func (s *Service) ByNumber(ctx context.Context, number string) (Certificate, error) {
	n, err := ParseNumber(number)
	if err != nil {
		return Certificate{}, ErrNotFound
	}
	return scanCertificate(s.db.QueryRow(ctx, `SELECT `+certColumns+certFrom+`WHERE c.number = $1 AND c.pdf IS NOT NULL`, n.String()))
}

// PDF returns the signed PDF of an issued certificate, as handed out.
func (s *Service) PDF(ctx context.Context, number string) ([]byte, error) {
	var b []byte
	err := s.db.QueryRow(ctx, `SELECT pdf FROM certificates WHERE number = $1 AND pdf IS NOT NULL`, strings.ToUpper(strings.TrimSpace(number))).Scan(&b)
	if pg.IsNoRows(err) {
		return nil, ErrNotFound
	}
	return b, err
}

// Scope is what a caller may list: their own certificates, and those of the centres and regions
// where they manage certificates.
type Scope struct {
	PersonID int64    // the caller's own certificates
	Centres  []string // organisation codes
	Regions  []string // region codes: a region includes its sub-regions
	All      bool
}

// Filter narrows a list.
type Filter struct {
	Scope
	State        string    // valid, expired, suspended, revoked; "" for any
	ExpiresUntil time.Time // only certificates still valid that expire on or before this date
	Centre       string    // organisation code
	Query        string    // number or holder name
	Limit        int
	Offset       int
}

// Listed is a certificate in a list, with its holder's name (lists are for people entitled to it).
type Listed struct {
	Certificate
	HolderName string
}

// List returns the certificates a scope allows, newest first.
func (s *Service) List(ctx context.Context, f Filter) ([]Listed, int, error) {
	conds := []string{"c.pdf IS NOT NULL"}
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if !f.All {
		var who []string
		if f.PersonID != 0 {
			who = append(who, "c.person_id = "+arg(f.PersonID))
		}
		if len(f.Centres) > 0 {
			who = append(who, "c.issuer_code = ANY("+arg(f.Centres)+")")
		}
		for _, r := range f.Regions {
			who = append(who, "starts_with(c.issuer_region, "+arg(r)+")")
		}
		if len(who) == 0 {
			return nil, 0, nil
		}
		conds = append(conds, "("+strings.Join(who, " OR ")+")")
	}
	if f.State != "" {
		conds = append(conds, "("+stateExpr+") = "+arg(f.State))
	}
	if !f.ExpiresUntil.IsZero() {
		conds = append(conds, "c.status = 'valid' AND c.expires_on >= current_date AND c.expires_on <= "+arg(f.ExpiresUntil))
	}
	if f.Centre != "" {
		conds = append(conds, "c.issuer_code = "+arg(f.Centre))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		conds = append(conds, "(c.number = "+arg(strings.ToUpper(q))+" OR c.holder_name = "+arg(q)+")")
	}
	where := " WHERE " + strings.Join(conds, " AND ")
	from := certFrom
	var total int
	if err := s.db.QueryRow(ctx, `SELECT count(*)`+from+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count certificates: %w", err)
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	rows, err := s.db.Query(ctx, `SELECT `+certColumns+`, c.holder_name`+from+where+
		fmt.Sprintf(` ORDER BY c.issued_on DESC, c.id DESC LIMIT %d OFFSET %d`, limit, max(f.Offset, 0)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list certificates: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Listed, error) {
		var l Listed
		err := r.Scan(append(l.Certificate.dest(), &l.HolderName)...)
		return l, err
	})
	return items, total, err
}

// OfHolders returns the issued certificates of each of those people, newest first, in one query
// whatever their number (an inspection checks a whole roster at once).
func (s *Service) OfHolders(ctx context.Context, personIDs []int64) (map[int64][]Certificate, error) {
	out := make(map[int64][]Certificate, len(personIDs))
	if len(personIDs) == 0 {
		return out, nil
	}
	rows, err := s.db.Query(ctx, `SELECT `+certColumns+certFrom+`WHERE c.pdf IS NOT NULL AND c.person_id = ANY($1)
		ORDER BY c.issued_on DESC, c.id DESC`, personIDs)
	if err != nil {
		return nil, fmt.Errorf("certificates of holders: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Certificate, error) {
		var c Certificate
		err := r.Scan(c.dest()...)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("certificates of holders: %w", err)
	}
	for _, c := range list {
		out[c.PersonID] = append(out[c.PersonID], c)
	}
	return out, nil
}

// Status actions.
const (
	ActionRevoke    = "revoke"
	ActionSuspend   = "suspend"
	ActionReinstate = "reinstate"
)

// ChangeStatus revokes, suspends or reinstates a certificate with a reason, audit-logged. Revocation
// is final; only a suspension can be reinstated. The caller has checked that the actor may do it.
func (s *Service) ChangeStatus(ctx context.Context, actorID int64, ip, number, action, reason string) (Certificate, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 500 {
		return Certificate{}, ErrReasonRequired
	}
	var from, to []string
	switch action {
	case ActionRevoke:
		from, to = []string{"valid", "suspended"}, []string{"revoked"}
	case ActionSuspend:
		from, to = []string{"valid"}, []string{"suspended"}
	case ActionReinstate:
		from, to = []string{"suspended"}, []string{"valid"}
	default:
		return Certificate{}, ErrStatusTransition
	}
	c, err := s.ByNumber(ctx, number)
	if err != nil {
		return c, err
	}
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		var prev string
		err := tx.QueryRow(ctx, `SELECT status FROM certificates WHERE id = $1 FOR UPDATE`, c.ID).Scan(&prev)
		if err != nil {
			return err
		}
		if !contains(from, prev) {
			return ErrStatusTransition
		}
		stored := reason
		if to[0] == "valid" {
			stored = ""
		}
		if _, err := tx.Exec(ctx, `UPDATE certificates SET status = $2, status_reason = $3, status_changed_at = now() WHERE id = $1`,
			c.ID, to[0], stored); err != nil {
			return err
		}
		if kind, ok := map[string]string{"suspended": accounts.NoticeCertificateSuspended, "revoked": accounts.NoticeCertificateRevoked}[to[0]]; ok {
			// Decided under the certificate's lock: each change notifies once.
			if err := s.notices.Notify(ctx, tx, accounts.Notice{PersonID: c.PersonID, Kind: kind,
				Key: fmt.Sprintf("certificate:%d:%s:%d", c.ID, to[0], s.now().UnixNano()), Args: []string{c.Number, reason}, Link: "/certificates/mine"}); err != nil {
				return err
			}
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "certificate." + action, Subject: "certificate:" + c.Number,
			Details: map[string]any{"from": prev, "to": to[0], "reason": reason}, IP: ip})
	})
	if err != nil {
		return Certificate{}, err
	}
	return s.byID(ctx, c.ID)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
