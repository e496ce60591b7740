package certificates

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"shanyu/internal/jobs"
)

// IssuanceRequest asks for a certificate for one passing result. ResultRef identifies the result in
// the caller's terms (e.g. "exam_result:42") and makes the request idempotent: a result gets at most
// one request, and so at most one certificate.
type IssuanceRequest struct {
	ResultRef      string
	PersonID       int64
	CentreID       int64
	OccupationCode string // e.g. 4-10-01-03
	Level          int    // 1–5
	PassedOn       time.Time
	Hours          float64 // training hours behind the result, shown on the verification page
}

// IssueArgs is the background job that turns a request into a certificate.
type IssueArgs struct {
	RequestID int64 `json:"request_id"`
}

// Kind names the job for River.
func (IssueArgs) Kind() string { return "certificate.issue" }

// recordRequest stores the request and returns its id; 0 when the result was requested already.
func recordRequest(ctx context.Context, tx pgx.Tx, r IssuanceRequest) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO certificate_requests (result_ref, person_id, centre_id, occupation_code, level, passed_on, hours)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (result_ref) DO NOTHING RETURNING id`,
		r.ResultRef, r.PersonID, r.CentreID, r.OccupationCode, r.Level, r.PassedOn, r.Hours).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("record issuance request: %w", err)
	}
	return id, nil
}

// errNoQueue: a request without a queue would be recorded and never worked.
var errNoQueue = errors.New("request issuance: no job queue")

// RequestIssuance records the request and enqueues its job inside the caller's transaction, so both
// exist exactly when the result that causes them does. A second call for the same result does nothing.
func RequestIssuance(ctx context.Context, tx pgx.Tx, q jobs.Inserter, r IssuanceRequest) error {
	if q == nil {
		return errNoQueue
	}
	id, err := recordRequest(ctx, tx, r)
	if err != nil || id == 0 {
		return err
	}
	if _, err := q.InsertTx(ctx, tx, IssueArgs{RequestID: id}, &river.InsertOpts{MaxAttempts: 10}); err != nil {
		return fmt.Errorf("enqueue issuance: %w", err)
	}
	return nil
}

// ForResult returns the certificate a result's request points to and whether it was issued for
// that result: false when the holder already had a valid certificate of the same occupation and
// level, which the result then points to. ErrNotFound while the request is still pending.
func (s *Service) ForResult(ctx context.Context, resultRef string) (Certificate, bool, error) {
	var id *int64
	var status string
	err := s.db.QueryRow(ctx, `SELECT certificate_id, status FROM certificate_requests WHERE result_ref = $1`, resultRef).Scan(&id, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return Certificate{}, false, ErrRequestNotFound
	}
	if err != nil {
		return Certificate{}, false, err
	}
	if id == nil {
		return Certificate{}, false, ErrNotFound
	}
	c, err := s.byID(ctx, *id)
	return c, status != "existing", err
}
