package audits

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/accounts"
	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// Background check kinds (draft 托育服务法 2025-12: before hiring and every year).
const (
	CheckNoCriminalRecord = "no_criminal_record" // 无犯罪记录证明
	CheckEmploymentBan    = "employment_ban"     // 从业禁止查询
	CheckHealth           = "health"             // 健康证明
)

// CheckKinds are the kinds of background check, in the order they are shown.
var CheckKinds = []string{CheckNoCriminalRecord, CheckEmploymentBan, CheckHealth}

// RequiredChecks must be on file for every staff member and be at most CheckValidMonths old;
// compliance flags a missing or older one. A post may require a check outright through the policy
// (token check:<kind>, held while the latest check of that kind is clear and current).
var RequiredChecks = []string{CheckNoCriminalRecord, CheckEmploymentBan}

// CheckValidMonths is how long a check counts.
const CheckValidMonths = 12

// Check is one background check of a roster member (the document is read on its own).
type Check struct {
	ID          int64
	RosterID    int64
	Kind        string
	CheckedOn   time.Time
	Result      string // clear, record_found
	ContentType string
	RecordedBy  int64
	RecordedAt  time.Time
}

// Current reports whether the check still counts on day on.
func (c Check) Current(on time.Time) bool {
	return !c.CheckedOn.AddDate(0, CheckValidMonths, 0).Before(day(on))
}

// CheckIssue is a staff member's missing, outdated or adverse check.
type CheckIssue struct {
	RosterID int64
	Name     string
	Kind     string
	Reason   string // missing, outdated, record_found
	On       time.Time
	// Required: a rule of the policy requires this check for one of the person's posts, so a missing or
	// outdated one is a fault (red, counted), not only a flag.
	Required bool
}

// Fault reports whether the issue fails compliance and the inspection: a record found, or a check the
// policy requires for the person's post that is missing or older than CheckValidMonths.
func (ci CheckIssue) Fault() bool { return ci.Reason == "record_found" || ci.Required }

// policyChecks are the check kinds the policy requires for any of these decisions' posts (a
// requirement group that a check:<kind> token satisfies).
func policyChecks(ds []Decision) map[string]bool {
	out := map[string]bool{}
	for _, d := range ds {
		for _, n := range d.Needs {
			for _, tok := range n.Accepted {
				if k, ok := strings.CutPrefix(tok, "check:"); ok {
					out[k] = true
				}
			}
		}
	}
	return out
}

var errCheckDocument = failure.Field("document", "audits.check_document_type")

// detectDocument types a check's document by its content: a photo or a PDF.
func detectDocument(b []byte) (string, error) {
	if bytes.HasPrefix(b, []byte("%PDF-")) {
		if len(b) > MaxPhotoSize {
			return "", ErrPhotoTooLarge
		}
		return "application/pdf", nil
	}
	ct, err := DetectPhotoType(b)
	if err != nil {
		if err == ErrPhotoType {
			return "", errCheckDocument
		}
		return "", err
	}
	return ct, nil
}

// RecordCheck stores a background check of a roster member of the institution, with its document
// (typed by content); audited.
func (s *Service) RecordCheck(ctx context.Context, actorID, orgID, rosterID int64, kind string, checkedOn time.Time, result string, document []byte) (Check, error) {
	c := Check{RosterID: rosterID, Kind: kind, CheckedOn: checkedOn, Result: result, RecordedBy: actorID}
	var f failure.Fields
	if !contains(CheckKinds, kind) {
		f.Add("kind", "audits.check_kind_invalid")
	}
	if checkedOn.IsZero() || checkedOn.After(time.Now().Add(24*time.Hour)) {
		f.Add("checked_on", "audits.date_invalid")
	}
	if result != "clear" && result != "record_found" {
		f.Add("result", "audits.check_result_invalid")
	}
	if len(document) == 0 {
		f.Add("document", "audits.check_document_required")
	}
	if err := f.Err(); err != nil {
		return c, err
	}
	ct, err := detectDocument(document)
	if err != nil {
		return c, err
	}
	c.ContentType = ct
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO audit_background_checks (roster_id, kind, checked_on, result, content_type, document, recorded_by)
			SELECT id, $3, $4, $5, $6, $7, $8 FROM audit_roster WHERE id = $1 AND organisation_id = $2 RETURNING id, recorded_at`,
			rosterID, orgID, kind, checkedOn, result, ct, document, actorID).Scan(&c.ID, &c.RecordedAt)
		if pg.IsNoRows(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "background_check.record", Subject: fmt.Sprintf("roster:%d", rosterID),
			Details: map[string]any{"kind": kind, "checked_on": checkedOn.Format("2006-01-02"), "result": result}})
	})
	return c, err
}

// Checks lists the background checks of an institution's roster, newest first per person and kind.
func (s *Service) Checks(ctx context.Context, orgID int64) (map[int64][]Check, error) {
	return loadChecks(ctx, s.db, []int64{orgID})
}

func loadChecks(ctx context.Context, db pg.DB, orgIDs []int64) (map[int64][]Check, error) {
	filter, args := "true", []any{}
	if orgIDs != nil {
		filter, args = "r.organisation_id = ANY($1)", []any{orgIDs}
	}
	rows, err := db.Query(ctx, `SELECT c.id, c.roster_id, c.kind, c.checked_on, c.result, c.content_type, c.recorded_by, c.recorded_at
		FROM audit_background_checks c JOIN audit_roster r ON r.id = c.roster_id WHERE `+filter+` ORDER BY c.roster_id, c.kind, c.checked_on DESC, c.id DESC`, args...)
	if err != nil {
		return nil, err
	}
	out := map[int64][]Check{}
	var c Check
	_, err = pgx.ForEachRow(rows, []any{&c.ID, &c.RosterID, &c.Kind, &c.CheckedOn, &c.Result, &c.ContentType, &c.RecordedBy, &c.RecordedAt}, func() error {
		out[c.RosterID] = append(out[c.RosterID], c)
		return nil
	})
	return out, err
}

// CheckDocument returns a check's document, if the check belongs to the institution.
func (s *Service) CheckDocument(ctx context.Context, orgID, checkID int64) ([]byte, string, error) {
	var b []byte
	var ct string
	err := s.db.QueryRow(ctx, `SELECT c.document, c.content_type FROM audit_background_checks c JOIN audit_roster r ON r.id = c.roster_id
		WHERE c.id = $1 AND r.organisation_id = $2`, checkID, orgID).Scan(&b, &ct)
	if pg.IsNoRows(err) {
		return nil, "", ErrNotFound
	}
	return b, ct, err
}

// latestChecks keeps the newest check of each kind.
func latestChecks(cs []Check) map[string]Check {
	out := map[string]Check{}
	for _, c := range cs {
		if _, ok := out[c.Kind]; !ok {
			out[c.Kind] = c
		}
	}
	return out
}

// checkIssues flags a member's yearly checks that are missing or outdated, and any check whose
// latest result found a record; byPolicy are the kinds the policy requires for the member's posts
// (their missing or outdated check is a fault).
func checkIssues(m Member, cs []Check, on time.Time, byPolicy map[string]bool) []CheckIssue {
	latest := latestChecks(cs)
	var out []CheckIssue
	for _, k := range CheckKinds {
		c, ok := latest[k]
		yearly := contains(RequiredChecks, k) || byPolicy[k]
		switch {
		case !ok && yearly:
			out = append(out, CheckIssue{RosterID: m.ID, Name: m.Name, Kind: k, Reason: "missing", Required: byPolicy[k]})
		case !ok:
		case c.Result == "record_found":
			out = append(out, CheckIssue{RosterID: m.ID, Name: m.Name, Kind: k, Reason: "record_found", On: c.CheckedOn, Required: byPolicy[k]})
		case !c.Current(on) && yearly:
			out = append(out, CheckIssue{RosterID: m.ID, Name: m.Name, Kind: k, Reason: "outdated", On: c.CheckedOn, Required: byPolicy[k]})
		}
	}
	return out
}
