package certificates

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"shanyu/internal/pg"
)

// Ways a certificate is verified, as logged.
const (
	MethodPage   = "page"
	MethodAPI    = "api"
	MethodLookup = "lookup"
	MethodPDF    = "pdf"
)

// How describes one verification for the log.
type How struct {
	Method        string
	IP            string
	InspectionRef string // the inspection it happened in, if any
}

// Verification is what the public sees of a certificate: no full name, no ID number.
type Verification struct {
	State          string // valid, expired, suspended, revoked, unknown
	Number         string
	Code           string
	MaskedName     string
	HasPhoto       bool
	OccupationCode string
	Level          int
	Titles         Titles
	Hours          float64
	IssuerName     string
	IssuerNameEN   string
	IssuedOn       time.Time
	ExpiresOn      time.Time
	StatusSince    *time.Time // when it was suspended or revoked
	Version        int
	KeyID          string
	PDFSHA256      string // hex, of the current signed PDF
	Superseded     bool   // (PDF check) the file is a genuine earlier version of a renewed certificate
}

// Verify looks a certificate up by its verification code and logs the verification (in the
// background, see verificationLog). An unknown or malformed code gives the unknown state, not an error.
func (s *Service) Verify(ctx context.Context, code string, how How) (Verification, error) {
	norm, ok := NormaliseCode(code)
	if !ok {
		norm = "" // matches nothing, and is still logged
	}
	var v Verification
	var hash []byte
	var id int64
	err := s.public.QueryRow(ctx, `SELECT c.id, `+stateExpr+`, c.number, c.code, c.holder_masked, c.has_photo, c.occupation_code, c.level,
			c.hours::float8, c.issuer_name, c.issuer_name_en, c.issued_on, c.expires_on, c.status_changed_at, c.version, c.key_id, c.pdf_sha256
		FROM certificates c WHERE c.code = $1 AND c.pdf IS NOT NULL`, norm).
		Scan(&id, &v.State, &v.Number, &v.Code, &v.MaskedName, &v.HasPhoto, &v.OccupationCode, &v.Level, &v.Hours, &v.IssuerName, &v.IssuerNameEN,
			&v.IssuedOn, &v.ExpiresOn, &v.StatusSince, &v.Version, &v.KeyID, &hash)
	rec := verificationRecord{at: s.now(), method: how.Method, ip: how.IP, inspectionRef: how.InspectionRef}
	if pg.IsNoRows(err) {
		rec.result = StateUnknown
		s.logVerification(ctx, rec)
		return Verification{State: StateUnknown}, nil
	}
	if err != nil {
		return Verification{}, fmt.Errorf("verify: %w", err)
	}
	rec.certificateID, rec.result = &id, v.State
	s.logVerification(ctx, rec)
	v.Titles, _ = LevelTitles(v.OccupationCode, v.Level)
	v.PDFSHA256 = hex.EncodeToString(hash)
	if v.State != StateSuspended && v.State != StateRevoked {
		v.StatusSince = nil
	}
	return v, nil
}

// Photo returns the holder's photo of the certificate with that code, for its verification page.
func (s *Service) Photo(ctx context.Context, code string) ([]byte, string, error) {
	norm, ok := NormaliseCode(code)
	if !ok {
		return nil, "", ErrNotFound
	}
	var b []byte
	var typ *string
	err := s.public.QueryRow(ctx, `SELECT p.photo, p.photo_type FROM certificates c JOIN people p ON p.id = c.person_id
		WHERE c.code = $1 AND c.pdf IS NOT NULL AND p.photo IS NOT NULL`, norm).Scan(&b, &typ)
	if pg.IsNoRows(err) {
		return nil, "", ErrNotFound
	}
	if err != nil {
		return nil, "", err
	}
	ct := "image/jpeg"
	if typ != nil && *typ != "" {
		ct = *typ
	}
	return b, ct, nil
}

// LookupLimit is how many manual look-ups one client may make in LookupWindow.
const (
	LookupLimit  = 10
	LookupWindow = 10 * time.Minute
)

// Lookup finds a certificate by its number, its holder's full name and the last four characters of
// the holder's ID number, as typed by someone holding the paper. Every attempt counts against the
// client's limit, and any mismatch gives the same ErrNoMatch, so that it reveals nothing.
func (s *Service) Lookup(ctx context.Context, number, name, idLast4 string, how How) (Verification, error) {
	key := "ip:" + how.IP
	now := s.now()
	var n int
	var oldest *time.Time
	err := s.db.QueryRow(ctx, `SELECT coalesce(sum(attempts), 0), min(window_start) FROM certificate_lookup_attempts WHERE key = $1 AND window_start > $2`,
		key, now.Add(-LookupWindow)).Scan(&n, &oldest)
	if err != nil {
		return Verification{}, err
	}
	if n >= LookupLimit {
		e := *ErrTooManyLookups
		e.RetryAfter = 60
		if oldest != nil {
			e.RetryAfter = max(int(oldest.Add(LookupWindow).Sub(now).Seconds())+1, 1)
		}
		return Verification{}, &e
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO certificate_lookup_attempts (key, window_start, attempts) VALUES ($1, $2, 1)
		ON CONFLICT (key, window_start) DO UPDATE SET attempts = certificate_lookup_attempts.attempts + 1`, key, now.Truncate(time.Minute)); err != nil {
		return Verification{}, err
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM certificate_lookup_attempts WHERE window_start < $1`, now.Add(-2*LookupWindow)); err != nil {
		return Verification{}, err
	}
	var code string
	err = s.db.QueryRow(ctx, `SELECT c.code FROM certificates c JOIN people p ON p.id = c.person_id
		WHERE c.number = $1 AND p.name = $2 AND p.id_last4 <> '' AND p.id_last4 = $3 AND c.pdf IS NOT NULL`,
		strings.ToUpper(strings.TrimSpace(number)), strings.TrimSpace(name), strings.ToUpper(strings.TrimSpace(idLast4))).Scan(&code)
	if pg.IsNoRows(err) {
		s.logVerification(ctx, verificationRecord{at: s.now(), method: how.Method, result: "no_match", ip: how.IP, inspectionRef: how.InspectionRef})
		return Verification{}, ErrNoMatch
	}
	if err != nil {
		return Verification{}, err
	}
	return s.Verify(ctx, code, how)
}

// CheckPDF tells whether an uploaded file is a genuine, unmodified certificate PDF: its SHA-256 must
// be that of a signed PDF this service issued. It returns the certificate's verification, Superseded
// when the file is an earlier version of a renewed certificate, and ErrNoMatch otherwise.
func (s *Service) CheckPDF(ctx context.Context, file []byte, how How) (Verification, error) {
	sum := sha256.Sum256(file)
	var code string
	superseded := false
	err := s.db.QueryRow(ctx, `SELECT code FROM certificates WHERE pdf_sha256 = $1`, sum[:]).Scan(&code)
	if pg.IsNoRows(err) {
		superseded = true
		err = s.db.QueryRow(ctx, `SELECT c.code FROM certificate_versions v JOIN certificates c ON c.id = v.certificate_id WHERE v.pdf_sha256 = $1`, sum[:]).Scan(&code)
	}
	if pg.IsNoRows(err) {
		s.logVerification(ctx, verificationRecord{at: s.now(), method: how.Method, result: "no_match", ip: how.IP, inspectionRef: how.InspectionRef})
		return Verification{}, ErrNoMatch
	}
	if err != nil {
		return Verification{}, err
	}
	v, err := s.Verify(ctx, code, how)
	v.Superseded = superseded
	return v, err
}

// VerificationCount is how many times a certificate was verified (any way), for its holder's page.
func (s *Service) VerificationCount(ctx context.Context, certificateID int64) (int, error) {
	s.FlushVerifications(ctx)
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM certificate_verifications WHERE certificate_id = $1`, certificateID).Scan(&n)
	return n, err
}
