package server

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
	"shanyu/internal/failure"
)

// routesAuditLog registers the audit-log viewer of regulators: filters by actor, action, subject and
// date, the result of the hash-chain check, and CSV. A regional regulator sees the events of actors
// wholly inside its region.
func (s *Server) routesAuditLog() {
	read := can("audit.log", "read")
	q := []string{"actor", "action", "subject", "from", "to", "limit", "offset"}
	s.api(apiRoute{Method: "GET", Path: "/api/v1/audit-log", Scope: scopeHeld, Summary: "Audit log events in the caller's scope, newest first, with the chain check", Tag: "admin", Perm: read, Query: q}, s.apiAuditLog)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/audit-log.csv", Scope: scopeHeld, Summary: "The same events as CSV", Tag: "admin", Perm: read, Query: q}, s.auditLogCSV)
}

func (s *Server) auditFilter(c *fiber.Ctx) (accounts.AuditFilter, error) {
	f := accounts.AuditFilter{Action: c.Query("action"), Subject: c.Query("subject")}
	f.Limit, f.Offset = pageParams(c)
	if v := c.Query("actor"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return f, failure.Field("actor", "error.invalid")
		}
		f.ActorID = id
	}
	for _, d := range []struct {
		name string
		to   *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := c.Query(d.name); v != "" {
			t, err := time.Parse("2006-01-02", v)
			if err != nil {
				return f, failure.Field(d.name, "error.invalid")
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
	chain := fiber.Map{"ok": true}
	n, err := accounts.VerifyAudit(c.UserContext(), s.pool)
	var broken *accounts.ErrChainBroken
	switch {
	case errors.As(err, &broken):
		chain = fiber.Map{"ok": false, "broken_at": broken.ID, "reason": broken.Reason}
	case err != nil:
		return err
	}
	chain["rows_checked"] = n
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
