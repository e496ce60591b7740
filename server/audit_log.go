package server

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
	"shanyu/internal/clock"
	"shanyu/internal/failure"
)

// routesAuditLog registers the audit-log viewer of regulators: filters by actor, action, subject and
// date, the result of the hash-chain check, and CSV. A regional regulator sees the events of actors
// wholly inside its region.
func (s *Server) routesAuditLog() {
	read := can("audit.log", "read")
	q := []string{"actor", "action", "subject", "from", "to", "limit", "offset"}
	s.api(apiRoute{Method: "GET", Path: "/api/v1/audit-log", Scope: scopeHeld, Summary: "Audit log events in the caller's scope, newest first, with the chain check", Tag: "admin", Perm: read, Query: q, Response: itemsOf[auditJSON](map[string]any{"total": integer, "limit": integer, "offset": integer, "chain": schemaOf[chainResult]()})}, s.apiAuditLog)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/audit-log.csv", Scope: scopeHeld, Summary: "The same events as CSV", Tag: "admin", Perm: read, Query: q, Produces: "text/csv"}, s.auditLogCSV)
	s.page("GET", "/audit-log", read, scopeHeld, s.auditLogPage)
}

// fullChainEvery bounds the chain check: the whole chain is walked at most this often per process;
// in between, a request checks only the rows added since the last walk, continuing from its last
// hash. The page and the JSON say when the last full walk ran.
const fullChainEvery = 10 * time.Minute

// chainCheck remembers, per process, how far the audit chain has been verified. It is a cache of a
// result any replica can recompute from the database, not state of its own.
type chainCheck struct {
	mu       sync.Mutex
	fullAt   time.Time
	rows     int
	lastID   int64
	lastHash []byte
	broken   *accounts.ErrChainBroken
}

// chainResult is what the viewer shows of the chain check.
type chainResult struct {
	OK          bool      `json:"ok"`
	BrokenAt    int64     `json:"broken_at,omitempty"`
	Kind        string    `json:"kind,omitempty"`   // what was found (accounts.Broken*), for a translated message
	Reason      string    `json:"reason,omitempty"` // the same in English
	Rows        int       `json:"rows_checked"`
	FullCheckAt time.Time `json:"full_check_at"`
	NewRows     int       `json:"rows_checked_now"` // rows added since the last full walk, checked on this request
	// Rows appended but not chained by the sealer yet (accounts/audit_seal.go), and of those the ones
	// waiting longer than accounts.UnsealedBound, which make the check fail.
	Unsealed int `json:"unsealed"`
	Overdue  int `json:"overdue"`
}

func (s *Server) auditChain(ctx context.Context) (chainResult, error) {
	ch := &s.chain
	ch.mu.Lock()
	defer ch.mu.Unlock()
	now := time.Now()
	full := ch.fullAt.IsZero() || now.Sub(ch.fullAt) >= fullChainEvery
	if !full && ch.broken != nil {
		return chainResult{BrokenAt: ch.broken.ID, Kind: ch.broken.Kind, Reason: ch.broken.Reason(), Rows: ch.rows, FullCheckAt: ch.fullAt}, nil
	}
	after, prev := ch.lastID, ch.lastHash
	if full {
		after, prev = 0, nil
	}
	n, lastID, lastHash, err := accounts.VerifyAuditAfter(ctx, s.pool, after, prev)
	var broken *accounts.ErrChainBroken
	if err != nil && !errors.As(err, &broken) {
		return chainResult{}, err
	}
	if full {
		ch.fullAt, ch.rows, ch.broken = now, 0, nil
	}
	ch.rows += n
	ch.lastID, ch.lastHash, ch.broken = lastID, lastHash, broken
	r := chainResult{OK: broken == nil, Rows: ch.rows, FullCheckAt: ch.fullAt}
	if !full {
		r.NewRows = n
	}
	if r.Unsealed, r.Overdue, err = accounts.UnsealedAudit(ctx, s.pool, accounts.UnsealedBound); err != nil {
		return chainResult{}, err
	}
	if r.Overdue > 0 {
		r.OK = false
	}
	if broken != nil {
		r.BrokenAt, r.Kind, r.Reason = broken.ID, broken.Kind, broken.Reason()
	}
	return r, nil
}

func (s *Server) auditFilter(c *fiber.Ctx) (accounts.AuditFilter, error) {
	f := accounts.AuditFilter{Action: strings.TrimSpace(c.Query("action")), Subject: strings.TrimSpace(c.Query("subject"))}
	f.Limit, f.Offset = pageParams(c)
	for _, v := range []struct{ name, value string }{{"action", f.Action}, {"subject", f.Subject}} {
		if len(v.value) > 200 {
			return f, failure.Field(v.name, "audit.filter."+v.name+"_invalid")
		}
	}
	if v := strings.TrimSpace(c.Query("actor")); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return f, failure.Field("actor", "audit.filter.actor_invalid")
		}
		f.ActorID = id
	}
	for _, d := range []struct {
		name string
		to   *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := strings.TrimSpace(c.Query(d.name)); v != "" {
			t, err := time.ParseInLocation("2006-01-02", v, clock.Zone())
			if err != nil || len(v) > 10 {
				return f, failure.Field(d.name, "audit.filter."+d.name+"_invalid")
			}
			*d.to = t
		}
	}
	if !f.To.IsZero() {
		f.To = f.To.AddDate(0, 0, 1) // "to" is inclusive: the whole day
	}
	var err error
	f.Within, err = s.heldWithin(c.UserContext(), principalOf(c), "audit.log", "read")
	return f, err
}

type auditJSON struct {
	ID      int64          `json:"id"`
	At      time.Time      `json:"at"`
	ActorID int64          `json:"actor_id"`
	Action  string         `json:"action"`
	Subject string         `json:"subject"`
	Details map[string]any `json:"details"`
	IP      string         `json:"ip,omitempty"`
}

func (s *Server) apiAuditLog(c *fiber.Ctx) error {
	f, err := s.auditFilter(c)
	if err != nil {
		return err
	}
	list, total, err := s.accounts.ListAudit(c.UserContext(), f)
	if err != nil {
		return err
	}
	items := make([]auditJSON, len(list))
	for i, e := range list {
		items[i] = auditJSON{ID: e.ID, At: e.At, ActorID: e.Event.ActorID, Action: e.Event.Action, Subject: e.Event.Subject, Details: e.Event.Details, IP: e.Event.IP}
	}
	chain, err := s.auditChain(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items, "total": total, "limit": f.Limit, "offset": f.Offset, "chain": chain})
}

func (s *Server) auditLogCSV(c *fiber.Ctx) error {
	f, err := s.auditFilter(c)
	if err != nil {
		return err
	}
	f.Limit, f.Offset = 1000, 0
	list, _, err := s.accounts.ListAudit(c.UserContext(), f)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="audit-log.csv"`)
	w := csv.NewWriter(c.Response().BodyWriter())
	_ = w.Write([]string{"id", "at", "actor_id", "action", "subject", "details", "ip"})
	for _, e := range list {
		d, _ := json.Marshal(e.Event.Details)
		_ = w.Write([]string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339), strconv.FormatInt(e.Event.ActorID, 10), e.Event.Action, e.Event.Subject, string(d), e.Event.IP})
	}
	w.Flush()
	return w.Error()
}

// auditLogPage is the regulators' viewer: the filters, the events in the caller's scope, the chain
// check and a link to the same events as CSV.
func (s *Server) auditLogPage(c *fiber.Ctx) error {
	lang := langOf(c)
	q := queryValues(c, "actor", "action", "subject", "from", "to")
	data := auditPage{Query: q, CSVURL: "/api/v1/audit-log.csv"}
	if len(q) > 0 {
		data.CSVURL += "?" + q.Encode()
	}
	f, err := s.auditFilter(c)
	if err != nil {
		if err := s.formError(c, err, &data.formPage); err != nil {
			return err
		}
	} else {
		list, total, err := s.accounts.ListAudit(c.UserContext(), f)
		if err != nil {
			return err
		}
		for _, e := range list {
			d, _ := json.Marshal(e.Event.Details)
			data.Items = append(data.Items, auditRow{ID: e.ID, At: e.At.In(clock.Zone()).Format("2006-01-02 15:04:05"), ActorID: e.Event.ActorID,
				Action: e.Event.Action, Subject: e.Event.Subject, Details: string(d)})
		}
		data.Total, data.Limit = total, f.Limit
		data.PrevURL, data.NextURL = pager("/audit-log", q, total, f.Limit, f.Offset)
	}
	if data.Chain, err = s.auditChain(c.UserContext()); err != nil {
		return err
	}
	data.FullEvery = int(fullChainEvery / time.Minute)
	data.UnsealedBound = int(accounts.UnsealedBound / time.Second)
	data.FullAt = data.Chain.FullCheckAt.In(clock.Zone()).Format("2006-01-02 15:04:05")
	return s.render(c, "audit_log", page{Title: s.i18n.T(lang, "audit.page.title"), Data: data})
}

type auditPage struct {
	formPage
	Query            url.Values
	Items            []auditRow
	Total, Limit     int
	PrevURL, NextURL string
	CSVURL           string
	Chain            chainResult
	FullEvery        int
	UnsealedBound    int // seconds
	FullAt           string
}

// auditRow is one event as the page shows it: the time in the product's zone, the details as JSON.
type auditRow struct {
	ID                       int64
	At                       string
	ActorID                  int64
	Action, Subject, Details string
}
