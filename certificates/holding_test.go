package certificates

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/pg"
)

// requestAt records an issuance request of the person for a passing result at a level and returns
// the request's id and its result reference.
func (f *fixture) requestAt(t *testing.T, personID int64, level int) (int64, string) {
	t.Helper()
	ctx := context.Background()
	ref := fmt.Sprintf("exam_result:%d", f.results.Add(1))
	var id int64
	err := pg.WithTx(ctx, f.db, func(tx pgx.Tx) error {
		if _, err := recordRequest(ctx, tx, IssuanceRequest{ResultRef: ref, PersonID: personID, CentreID: f.centre,
			OccupationCode: "4-10-01-03", Level: level, PassedOn: time.Now(), Hours: 120}); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT id FROM certificate_requests WHERE result_ref = $1`, ref).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id, ref
}

func (f *fixture) certificatesOf(t *testing.T, personID int64) int {
	t.Helper()
	var n int
	if err := f.db.QueryRow(context.Background(), `SELECT count(*) FROM certificates WHERE person_id = $1`, personID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSecondPassPointsToTheCertificateHeld: a second pass at the same level while the first
// certificate is valid issues nothing; its request is marked existing and points to the first
// certificate, which ForResult returns for the second result. Another level, a revoked certificate
// and an expired one do not block a new certificate.
func TestSecondPassPointsToTheCertificateHeld(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	person := f.person(t, "周敏", "2231")
	req1, ref1 := f.requestAt(t, person, 4)
	first, err := f.svc.Issue(ctx, req1)
	if err != nil {
		t.Fatal(err)
	}
	req2, ref2 := f.requestAt(t, person, 4)
	second, err := f.svc.Issue(ctx, req2)
	if err != nil {
		t.Fatal(err)
	}
	if second.Number != first.Number || f.certificatesOf(t, person) != 1 {
		t.Fatalf("second pass got %s (first %s), %d certificates; want the first and 1", second.Number, first.Number, f.certificatesOf(t, person))
	}
	// Issuing the second request again changes nothing.
	if again, err := f.svc.Issue(ctx, req2); err != nil || again.Number != first.Number {
		t.Errorf("second issue of the second request: %s, %v", again.Number, err)
	}
	c, own, err := f.svc.ForResult(ctx, ref2)
	if err != nil || own || c.Number != first.Number {
		t.Errorf("ForResult(second) = %s, issued for it %v, %v; want %s, false", c.Number, own, err, first.Number)
	}
	c, own, err = f.svc.ForResult(ctx, ref1)
	if err != nil || !own || c.Number != first.Number {
		t.Errorf("ForResult(first) = %s, issued for it %v, %v; want %s, true", c.Number, own, err, first.Number)
	}
	var audited int
	_ = f.db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'certificate.request.existing' AND subject = $1`, "certificate:"+first.Number).Scan(&audited)
	if audited != 1 {
		t.Errorf("audit rows for the pass pointing to the held certificate: %d, want 1", audited)
	}
	if p, err := f.svc.CentreProgress(ctx, f.centre); err != nil || p != (Progress{Issued: 1, Existing: 1}) {
		t.Errorf("progress %+v, %v; want 1 issued, 1 existing", p, err)
	}

	// Another level is another certificate.
	req3, _ := f.requestAt(t, person, 3)
	if c, err := f.svc.Issue(ctx, req3); err != nil || c.Number == first.Number || c.Level != 3 {
		t.Errorf("level 3 pass: %s level %d, %v; want a new level-3 certificate", c.Number, c.Level, err)
	}
	// A suspended certificate still stands (it may be reinstated); a revoked one does not.
	if _, err := f.svc.ChangeStatus(ctx, 0, "", first.Number, ActionSuspend, "待补学时"); err != nil {
		t.Fatal(err)
	}
	req4, _ := f.requestAt(t, person, 4)
	if c, err := f.svc.Issue(ctx, req4); err != nil || c.Number != first.Number {
		t.Errorf("pass while suspended: %s, %v; want the suspended %s", c.Number, err, first.Number)
	}
	if _, err := f.svc.ChangeStatus(ctx, 0, "", first.Number, ActionRevoke, "以欺骗手段取得"); err != nil {
		t.Fatal(err)
	}
	req5, _ := f.requestAt(t, person, 4)
	if c, err := f.svc.Issue(ctx, req5); err != nil || c.Number == first.Number || c.Level != 4 {
		t.Errorf("pass after revocation: %s, %v; want a new certificate", c.Number, err)
	}
	if n := f.certificatesOf(t, person); n != 3 {
		t.Errorf("certificates of the person: %d, want 3 (level 4, level 3, level 4 after revocation)", n)
	}

	// An expired certificate does not stand either.
	other := f.person(t, "吴静", "5512")
	old, _ := f.requestAt(t, other, 4)
	if _, err := f.svc.IssueDated(ctx, old, time.Now().AddDate(-4, 0, 0)); err != nil {
		t.Fatal(err)
	}
	renewed, _ := f.requestAt(t, other, 4)
	if _, err := f.svc.Issue(ctx, renewed); err != nil {
		t.Fatal(err)
	}
	if n := f.certificatesOf(t, other); n != 2 {
		t.Errorf("after an expired certificate: %d certificates, want 2", n)
	}
}

// TestConcurrentPassesIssueOneCertificate: several requests of one holder at one level issued at
// the same time (as when two sessions are published at once, each by its own worker) make one
// certificate, and every request points to it.
func TestConcurrentPassesIssueOneCertificate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	person := f.person(t, "郑丽", "7781")
	const n = 6
	reqs := make([]int64, n)
	for i := range reqs {
		reqs[i], _ = f.requestAt(t, person, 4)
	}
	numbers := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			c, err := f.svc.Issue(ctx, r)
			numbers[i], errs[i] = c.Number, err
		}()
	}
	close(start)
	wg.Wait()
	for i := range numbers {
		if errs[i] != nil || numbers[i] != numbers[0] {
			t.Errorf("request %d: %q, %v; the first got %q", i, numbers[i], errs[i], numbers[0])
		}
	}
	if got := f.certificatesOf(t, person); got != 1 {
		t.Errorf("certificates after %d concurrent passes: %d, want 1", n, got)
	}
	var issued, existing int
	_ = f.db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'issued'), count(*) FILTER (WHERE status = 'existing')
		FROM certificate_requests WHERE person_id = $1 AND certificate_id IS NOT NULL`, person).Scan(&issued, &existing)
	if issued != 1 || existing != n-1 {
		t.Errorf("requests: %d issued, %d existing; want 1 and %d", issued, existing, n-1)
	}
}
