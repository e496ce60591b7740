package certificates

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"shanyu/internal/jobs"
	"shanyu/internal/pg"
)

// TestWorkerIssuesOnceEvenWithADuplicateJob runs the real job queue: the request's job and a
// duplicate of it (as after a retry storm) make one certificate.
func TestWorkerIssuesOnceEvenWithADuplicateJob(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reg := jobs.NewRegistry()
	jobs.Add(reg, &IssueWorker{Service: f.svc})
	client, err := jobs.New(f.db, reg, slog.New(slog.NewTextHandler(io.Discard, nil)), 4, jobs.Timing{})
	if err != nil {
		t.Fatal(err)
	}
	person := f.person(t, "孙悦", "9999")
	var reqID int64
	err = pg.WithTx(ctx, f.db, func(tx pgx.Tx) error {
		r := IssuanceRequest{ResultRef: "exam_result:77", PersonID: person, CentreID: f.centre, OccupationCode: "4-10-01-03", Level: 4, PassedOn: time.Now()}
		if err := RequestIssuance(ctx, tx, client, r); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT id FROM certificate_requests WHERE result_ref = $1`, r.ResultRef).Scan(&reqID); err != nil {
			return err
		}
		_, err := client.InsertTx(ctx, tx, IssueArgs{RequestID: reqID}, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Stop(context.Background()) }()
	for {
		var done int
		if err := f.db.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'certificate.issue' AND state = 'completed'`).Scan(&done); err != nil {
			t.Fatal(err)
		}
		if done == 2 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("jobs not completed: %d of 2", done)
		case <-time.After(50 * time.Millisecond):
		}
	}
	var certs int
	var status string
	_ = f.db.QueryRow(ctx, `SELECT count(*) FROM certificates WHERE request_id = $1 AND pdf IS NOT NULL`, reqID).Scan(&certs)
	_ = f.db.QueryRow(ctx, `SELECT status FROM certificate_requests WHERE id = $1`, reqID).Scan(&status)
	if certs != 1 || status != "issued" {
		t.Errorf("%d certificates, request %s; want 1, issued", certs, status)
	}
}

// TestWorkerFailsARequestWithoutCertificateType: no retry storm for a request that cannot succeed;
// the centre sees it as failed.
func TestWorkerFailsARequestWithoutCertificateType(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	person := f.person(t, "钱多多", "1111")
	var reqID int64
	err := pg.WithTx(ctx, f.db, func(tx pgx.Tx) error {
		r := IssuanceRequest{ResultRef: "exam_result:88", PersonID: person, CentreID: f.centre, OccupationCode: "4-10-01-99", Level: 4, PassedOn: time.Now()}
		if _, err := recordRequest(ctx, tx, r); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT id FROM certificate_requests WHERE result_ref = $1`, r.ResultRef).Scan(&reqID)
	})
	if err != nil {
		t.Fatal(err)
	}
	w := &IssueWorker{Service: f.svc}
	err = w.Work(ctx, &river.Job[IssueArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: 10}, Args: IssueArgs{RequestID: reqID}})
	var cancel *river.JobCancelError
	if !errors.As(err, &cancel) || !errors.Is(err, ErrUnknownLevel) {
		t.Fatalf("work: %v, want a cancelled job", err)
	}
	p, err := f.svc.CentreProgress(ctx, f.centre)
	if err != nil || p != (Progress{Failed: 1}) {
		t.Errorf("progress %+v, %v", p, err)
	}
}
