package accounts

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditFilter narrows ListAudit.
type AuditFilter struct {
	ActorID  int64
	Action   string // exact, or a prefix ending in "." (e.g. "user.")
	Subject  string // exact, e.g. "user:12"
	From, To time.Time
	// Within, when not nil, keeps only events whose actor is a user wholly within these domains (the
	// events a regional regulator may read).
	Within *Within
	Limit  int
	Offset int
}

// ListAudit pages through the audit log, newest first, with the total count.
func (s *Service) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, int, error) {
	conds := []string{"true"}
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if f.ActorID != 0 {
		conds = append(conds, "a.actor_id = "+arg(f.ActorID))
	}
	if act := strings.TrimSpace(f.Action); strings.HasSuffix(act, ".") {
		conds = append(conds, "starts_with(a.action, "+arg(act)+")")
	} else if act != "" {
		conds = append(conds, "a.action = "+arg(act))
	}
	if f.Subject != "" {
		conds = append(conds, "a.subject = "+arg(f.Subject))
	}
	if !f.From.IsZero() {
		conds = append(conds, "a.at >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		conds = append(conds, "a.at < "+arg(f.To))
	}
	if f.Within != nil {
		conds = append(conds, f.Within.cond("a.actor_id", arg))
	}
	where := strings.Join(conds, " AND ")
	var total int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM audit_log a WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.db.Query(ctx, `SELECT a.id, a.at, coalesce(a.actor_id, 0), a.action, a.subject, a.details, a.ip
		FROM audit_log a WHERE `+where+` ORDER BY a.id DESC LIMIT `+arg(limit)+` OFFSET `+arg(max(f.Offset, 0)), args...)
	if err != nil {
		return nil, 0, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		err := r.Scan(&e.ID, &e.At, &e.Event.ActorID, &e.Event.Action, &e.Event.Subject, &e.Event.Details, &e.Event.IP)
		return e, err
	})
	return list, total, err
}
