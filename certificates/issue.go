package certificates

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"shanyu/accounts"
	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// Errors of issuance and management.
var (
	ErrRequestNotFound  = failure.New(failure.NotFound, "certificates.request_not_found")
	ErrNotFound         = failure.New(failure.NotFound, "certificates.not_found")
	ErrStatusTransition = failure.New(failure.Conflict, "certificates.status_transition")
	ErrReasonRequired   = failure.New(failure.Invalid, "certificates.reason_required")
	ErrNoMatch          = failure.New(failure.NotFound, "certificates.no_match")
	ErrPDFUnknown       = failure.New(failure.NotFound, "certificates.pdf_unknown")
	ErrTooManyLookups   = failure.New(failure.TooMany, "certificates.too_many_lookups")
	ErrRenewalHours     = failure.New(failure.Conflict, "certificates.renewal_hours_missing")
	ErrNoHoursSource    = failure.New(failure.Conflict, "certificates.renewal_unavailable")
	ErrNotRenewable     = failure.New(failure.Conflict, "certificates.not_renewable")
	ErrAlreadyRenewed   = failure.New(failure.Conflict, "certificates.already_renewed")
)

// Issue turns an issuance request into a certificate and returns it. It is idempotent: whatever the
// number of calls, retries or concurrent workers, a request yields exactly one certificate. It works
// in two short transactions so that the numbering counter is locked for microseconds, not for the
// rendering: the first reserves the number and the verification code, the second stores the signed
// PDF (a failure between them leaves a reserved certificate that the next attempt completes).
func (s *Service) Issue(ctx context.Context, requestID int64) (Certificate, error) {
	return s.issue(ctx, requestID, time.Time{})
}

// IssueDated issues like Issue with a given issue date instead of today: for the demo seed, which
// needs certificates of different ages, and for tests.
func (s *Service) IssueDated(ctx context.Context, requestID int64, issuedOn time.Time) (Certificate, error) {
	return s.issue(ctx, requestID, startOfDay(issuedOn))
}

func (s *Service) issue(ctx context.Context, requestID int64, issuedOn time.Time) (Certificate, error) {
	id, err := s.issueOnly(ctx, requestID, issuedOn)
	if err != nil {
		return Certificate{}, err
	}
	return s.byID(ctx, id)
}

// issueOnly issues like issue and returns the certificate's id without reading the certificate back
// (the job worker has no use for it).
func (s *Service) issueOnly(ctx context.Context, requestID int64, issuedOn time.Time) (int64, error) {
	id, err := s.reserve(ctx, requestID, issuedOn)
	if err != nil {
		return 0, err
	}
	return id, s.produce(ctx, id)
}

// reserve creates the certificate row for a request, or finds the one made before.
func (s *Service) reserve(ctx context.Context, requestID int64, issued time.Time) (int64, error) {
	var certID int64
	var number string
	// The holder and issuer are read from accounts before the transaction (a request's person and
	// centre never change) and stored with the certificate as they are now.
	var personID, centreID int64
	err := s.db.QueryRow(ctx, `SELECT person_id, centre_id FROM certificate_requests WHERE id = $1`, requestID).Scan(&personID, &centreID)
	if pg.IsNoRows(err) {
		return 0, ErrRequestNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("load request: %w", err)
	}
	people, err := s.directory.People(ctx, []int64{personID}, true)
	if err != nil {
		return 0, err
	}
	orgs, err := s.directory.Organisations(ctx, []int64{centreID})
	if err != nil {
		return 0, err
	}
	holder, okP := people[personID]
	centre, okC := orgs[centreID]
	if !okP || !okC {
		return 0, fmt.Errorf("insert certificate: no person %d or no centre %d", personID, centreID)
	}
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if err := asyncCommit(ctx, tx); err != nil {
			return err
		}
		var r IssuanceRequest
		var status string
		// The request row lock makes concurrent workers for one request take turns.
		err := tx.QueryRow(ctx, `SELECT person_id, centre_id, occupation_code, level, passed_on, hours::float8, status
			FROM certificate_requests WHERE id = $1 FOR UPDATE`, requestID).
			Scan(&r.PersonID, &r.CentreID, &r.OccupationCode, &r.Level, &r.PassedOn, &r.Hours, &status)
		if pg.IsNoRows(err) {
			return ErrRequestNotFound
		}
		if err != nil {
			return fmt.Errorf("load request: %w", err)
		}
		err = tx.QueryRow(ctx, `SELECT id FROM certificates WHERE request_id = $1`, requestID).Scan(&certID)
		if err == nil || !pg.IsNoRows(err) {
			return err
		}
		if status == "existing" {
			return tx.QueryRow(ctx, `SELECT certificate_id FROM certificate_requests WHERE id = $1`, requestID).Scan(&certID)
		}
		if issued.IsZero() {
			issued = s.today()
		}
		held, err := heldCertificate(ctx, tx, r, issued)
		if err != nil {
			return err
		}
		if held.ID != 0 {
			certID = held.ID
			if _, err := tx.Exec(ctx, `UPDATE certificate_requests SET status = 'existing', certificate_id = $2, error = '' WHERE id = $1`,
				requestID, held.ID); err != nil {
				return err
			}
			return accounts.Audit(ctx, tx, accounts.Event{Action: "certificate.request.existing", Subject: "certificate:" + held.Number,
				Details: map[string]any{"request_id": requestID}})
		}
		var months int
		err = tx.QueryRow(ctx, `SELECT validity_months FROM certificate_types WHERE occupation_code = $1 AND level = $2`,
			r.OccupationCode, r.Level).Scan(&months)
		if pg.IsNoRows(err) {
			return ErrUnknownLevel.Wrap(fmt.Errorf("%s level %d", r.OccupationCode, r.Level))
		}
		if err != nil {
			return err
		}
		code, err := NewCode()
		if err != nil {
			return err
		}
		// The number is this prefix and the serial; Format checks every part but the serial, which the
		// counter table's CHECK keeps within 1–999999.
		prefix, err := Number{EvaluatorType: 'S', EvaluatorCode: "0000", Province: "33", SiteSerial: int(r.CentreID),
			Year: issued.Year(), Level: r.Level, Serial: 1}.Format()
		if err != nil {
			return err
		}
		prefix = prefix[:NumberLength-6]
		// The counter row is locked by the upsert until commit: the next issuance for the same centre,
		// year and level waits, and a rollback returns the serial, so there are no gaps. Everything that
		// needs the serial is in this one statement, so the lock is held for one round trip and the
		// commit rather than for one round trip per statement: measured with 32 workers, issuance
		// otherwise queued behind this row.
		err = tx.QueryRow(ctx, `WITH s AS (
				INSERT INTO certificate_serials (centre_id, year, level, last_serial) VALUES ($5, $11, $7, 1)
				ON CONFLICT (centre_id, year, level) DO UPDATE SET last_serial = certificate_serials.last_serial + 1
				RETURNING last_serial),
			c AS (
				INSERT INTO certificates (request_id, number, code, person_id, centre_id, occupation_code, level, hours,
					issued_on, expires_on, holder_masked, has_photo, issuer_name, issuer_name_en,
					holder_name, holder_id_last4, holder_photo, holder_photo_type, issuer_code, issuer_region)
				SELECT $1, $2 || lpad(s.last_serial::text, 6, '0'), $3, $4, $5, $6, $7, $8, $9, $10, '', $14::bytea IS NOT NULL, $16, $17,
					$12, $13, $14, $15, $18, $19
				FROM s RETURNING id, number)
			UPDATE certificate_requests r SET certificate_id = c.id FROM c WHERE r.id = $1 RETURNING c.id, c.number`,
			requestID, prefix, code, r.PersonID, r.CentreID, r.OccupationCode, r.Level, r.Hours, issued,
			issued.AddDate(0, months, -1), issued.Year(), holder.Name, holder.IDLast4, holder.Photo, holder.PhotoType,
			centre.Name, centre.NameEN, centre.Code, centre.RegionCode).Scan(&certID, &number)
		if err != nil {
			return fmt.Errorf("insert certificate: %w", err)
		}
		return s.notices.Notify(ctx, tx, accounts.Notice{PersonID: r.PersonID, Kind: accounts.NoticeCertificateIssued,
			Key: fmt.Sprintf("certificate:%d:issued", certID), Args: []string{number}, Link: "/certificates/mine"})
	})
	return certID, err
}

// held is a certificate a person keeps.
type held struct {
	ID     int64
	Number string
}

// heldCertificate finds the certificate the request's person holds for its occupation and level on
// the day of issue, if any: one not revoked and not expired (a suspended one counts, since it may be
// reinstated). A person keeps one certificate per occupation and level; passing again while it
// stands issues nothing new, and renewal goes through continuing education (Renew).
//
// It decides under a transaction-scoped advisory lock on the person, occupation and level, taken
// before the look-up: two requests of the same holder (two sessions published at once, two workers)
// take turns, and the second sees the certificate the first reserved once the first commits.
// Requests of different holders do not wait for each other.
func heldCertificate(ctx context.Context, tx pgx.Tx, r IssuanceRequest, on time.Time) (held, error) {
	key := fmt.Sprintf("certificate-holding:%d:%s:%d", r.PersonID, r.OccupationCode, r.Level)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, key); err != nil {
		return held{}, fmt.Errorf("lock holding: %w", err)
	}
	var h held
	err := tx.QueryRow(ctx, `SELECT id, number FROM certificates
		WHERE person_id = $1 AND occupation_code = $2 AND level = $3 AND status <> 'revoked' AND expires_on >= $4
		ORDER BY expires_on DESC, id LIMIT 1`, r.PersonID, r.OccupationCode, r.Level, on).Scan(&h.ID, &h.Number)
	if pg.IsNoRows(err) {
		return held{}, nil
	}
	if err != nil {
		return held{}, fmt.Errorf("held certificate: %w", err)
	}
	return h, nil
}

// asyncCommit lets an issuance transaction commit without waiting for its WAL to reach the disk.
// Both issuance transactions hold a lock that others queue behind (the serial counter row; the
// audit chain), so waiting for the flush inside them would cap issuance at one commit per flush.
// It loses nothing: the job that runs them is marked complete by a later, synchronous commit, and
// WAL is flushed in order, so once the job is complete the issuance is durable; after a crash
// before that, the job runs again and Issue is idempotent (a lost reservation also loses its
// serial, so no gap appears).
func asyncCommit(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`)
	return err
}

// document is what rendering a certificate needs, read from the database.
type document struct {
	Certificate
	HolderName string
	Photo      []byte
}

func (s *Service) loadDocument(ctx context.Context, db pg.DB, id int64) (document, bool, error) {
	var d document
	var hasPDF bool
	row := db.QueryRow(ctx, `SELECT `+certColumns+`, c.holder_name, c.holder_photo, c.pdf IS NOT NULL
		FROM certificates c WHERE c.id = $1`, id)
	err := row.Scan(append(d.Certificate.dest(), &d.HolderName, &d.Photo, &hasPDF)...)
	if pg.IsNoRows(err) {
		return d, false, ErrNotFound
	}
	return d, hasPDF, err
}

// produce renders, signs and stores the PDF of a reserved certificate, unless it has one already.
func (s *Service) produce(ctx context.Context, id int64) error {
	d, hasPDF, err := s.loadDocument(ctx, s.db, id)
	if err != nil || hasPDF {
		return err
	}
	signed, token, kid, err := s.render(ctx, d)
	if err != nil {
		return err
	}
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if err := asyncCommit(ctx, tx); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE certificates SET pdf = $2, pdf_sha256 = $3, token = $4, key_id = $5, holder_masked = $6, has_photo = $7
			WHERE id = $1 AND pdf IS NULL`, id, signed.PDF, signed.SHA256[:], token, kid, MaskName(d.HolderName), d.Photo != nil)
		if err != nil {
			return fmt.Errorf("store pdf: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil // another worker finished first; its PDF stands
		}
		if _, err := tx.Exec(ctx, `UPDATE certificate_requests SET status = 'issued', error = '' WHERE id = $1`, d.RequestID); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{Action: "certificate.issue", Subject: "certificate:" + d.Number,
			Details: map[string]any{"request_id": d.RequestID, "version": d.Version, "key_id": kid, "pdf_sha256": fmt.Sprintf("%x", signed.SHA256)}})
	})
}

// render makes the offline token and the signed PDF of a certificate.
func (s *Service) render(ctx context.Context, d document) (Signed, string, string, error) {
	r, err := s.loadRenderer()
	if err != nil {
		return Signed{}, "", "", err
	}
	ps, err := s.loadPDFSigner(ctx)
	if err != nil {
		return Signed{}, "", "", err
	}
	key, err := TokenSigner(ctx, s.db, s.secret, s.tokenAlg)
	if errors.Is(err, ErrNoActiveKey) && s.tokenAlg == AlgSM2 {
		if _, _, err = EnsureTokenKey(ctx, s.db, s.secret, AlgSM2); err == nil {
			key, err = TokenSigner(ctx, s.db, s.secret, s.tokenAlg)
		}
	}
	if err != nil {
		return Signed{}, "", "", err
	}
	token, err := key.SignToken(OfflineClaims{Number: d.Number, MaskedName: d.HolderName, Occupation: d.OccupationCode,
		Level: d.Level, IssuedOn: d.IssuedOn, ExpiresOn: d.ExpiresOn})
	if err != nil {
		return Signed{}, "", "", err
	}
	titles, err := LevelTitles(d.OccupationCode, d.Level)
	if err != nil {
		return Signed{}, "", "", err
	}
	doc := Document{
		Number: d.Number, Code: d.Code, QRContent: QRLink(s.baseURL, d.Code, token),
		HolderName: d.HolderName, Photo: d.Photo,
		OccupationZH: titles.OccupationZH, OccupationEN: titles.OccupationEN, LevelZH: titles.LevelZH, LevelEN: titles.LevelEN,
		TrainingCentreZH: d.CentreName, TrainingCentreEN: d.CentreNameEN,
		IssuedOn: d.IssuedOn, ExpiresOn: d.ExpiresOn,
	}
	if doc.TrainingCentreEN == "" {
		doc.TrainingCentreEN = d.CentreName
	}
	signed, err := Produce(ctx, r, ps, doc, s.now().UTC().Truncate(time.Second))
	if errors.Is(err, ErrPhotoUnsupported) {
		doc.Photo = nil // a bad photo must not block a certificate; it is printed without one
		signed, err = Produce(ctx, r, ps, doc, s.now().UTC().Truncate(time.Second))
	}
	if err != nil {
		return Signed{}, "", "", err
	}
	if sum := sha256.Sum256(signed.PDF); sum != signed.SHA256 {
		return Signed{}, "", "", errors.New("signed pdf digest mismatch")
	}
	return signed, token, key.KeyID(), nil
}

// IssueWorker is the background job that issues the certificate of one request.
type IssueWorker struct {
	river.WorkerDefaults[IssueArgs]
	Service *Service
}

// Work issues the certificate; on the last failed attempt it marks the request failed, so that the
// centre sees it in its progress.
func (w *IssueWorker) Work(ctx context.Context, job *river.Job[IssueArgs]) error {
	_, err := w.Service.issueOnly(ctx, job.Args.RequestID, time.Time{})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrRequestNotFound):
		return river.JobCancel(err)
	case errors.Is(err, ErrUnknownLevel):
		// No certificate type for it: retrying cannot help until someone adds the type.
		w.Service.markFailed(ctx, job.Args.RequestID, err)
		return river.JobCancel(err)
	case job.Attempt >= job.MaxAttempts:
		w.Service.markFailed(ctx, job.Args.RequestID, err)
	}
	return err
}

func (s *Service) markFailed(ctx context.Context, requestID int64, cause error) {
	_, _ = s.db.Exec(context.WithoutCancel(ctx), `UPDATE certificate_requests SET status = 'failed', error = $2 WHERE id = $1 AND status = 'pending'`,
		requestID, cause.Error())
}

// Progress counts a centre's issuance requests by state.
type Progress struct {
	Pending, Issued, Failed int
	// Existing counts the passes whose holder already had a valid certificate of that level: they
	// point to it and issued none.
	Existing int
}

// CentreProgress tells a centre how its issuance is going.
func (s *Service) CentreProgress(ctx context.Context, centreID int64) (Progress, error) {
	var p Progress
	err := s.db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'issued'),
		count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status = 'existing')
		FROM certificate_requests WHERE centre_id = $1`, centreID).Scan(&p.Pending, &p.Issued, &p.Failed, &p.Existing)
	return p, err
}

// IssuePending issues every request still pending, one after the other, and says how many it
// issued: for the demo seed and for catching up by hand when no job workers ran.
func (s *Service) IssuePending(ctx context.Context) (int, error) {
	rows, err := s.db.Query(ctx, `SELECT id FROM certificate_requests WHERE status = 'pending' ORDER BY id`)
	if err != nil {
		return 0, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, err
	}
	for i, id := range ids {
		if _, err := s.Issue(ctx, id); err != nil {
			return i, fmt.Errorf("request %d: %w", id, err)
		}
	}
	return len(ids), nil
}

// RequestAndIssue records a request (as the exams domain does) and issues it at once, without the job
// queue: for the demo seed, benchmarks and tests.
func (s *Service) RequestAndIssue(ctx context.Context, r IssuanceRequest, issuedOn time.Time) (Certificate, error) {
	var id int64
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := recordRequest(ctx, tx, r); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT id FROM certificate_requests WHERE result_ref = $1`, r.ResultRef).Scan(&id)
	})
	if err != nil {
		return Certificate{}, err
	}
	return s.issue(ctx, id, startOfDayOrZero(issuedOn))
}

func startOfDayOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return startOfDay(t)
}

// PendingFor counts a centre's requests still pending whose result reference starts with prefix. It
// reads only the pending rows (through the partial index on them), so that a batch can be watched
// closely without the watching costing more as the table grows.
func (s *Service) PendingFor(ctx context.Context, centreID int64, prefix string) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM certificate_requests WHERE centre_id = $1 AND status = 'pending' AND starts_with(result_ref, $2)`,
		centreID, prefix).Scan(&n)
	return n, err
}

// Tally counts the requests whose result reference starts with prefix by state, with the average
// size of the PDFs issued for them: for benchmarks and bulk runs that watch a batch.
func (s *Service) Tally(ctx context.Context, prefix string) (issued, failed int, avgPDFBytes float64, err error) {
	err = s.db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE r.status = 'issued'), count(*) FILTER (WHERE r.status = 'failed'),
		coalesce(avg(octet_length(c.pdf)), 0)::float8
		FROM certificate_requests r LEFT JOIN certificates c ON c.id = r.certificate_id WHERE starts_with(r.result_ref, $1)`, prefix).
		Scan(&issued, &failed, &avgPDFBytes)
	return issued, failed, avgPDFBytes, err
}
