package certificates

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
	File           string // (PDF check) FileIssued or FileChangedAfterSigning
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
	err := s.public.QueryRow(ctx, `SELECT holder_photo, holder_photo_type FROM certificates
		WHERE code = $1 AND pdf IS NOT NULL AND holder_photo IS NOT NULL`, norm).Scan(&b, &typ)
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
	err = s.db.QueryRow(ctx, `SELECT code FROM certificates
		WHERE number = $1 AND holder_name = $2 AND holder_id_last4 <> '' AND holder_id_last4 = $3 AND pdf IS NOT NULL`,
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

// What the PDF check found the uploaded file to be (Verification.File).
const (
	FileIssued              = "issued"                // exactly a file this service issued
	FileChangedAfterSigning = "changed_after_signing" // an issued file with bytes appended after its signature
)

// maxRevisions bounds how many revisions (%%EOF markers) of an upload are looked up.
const maxRevisions = 32

// CheckPDF tells what an uploaded file is: exactly a signed certificate PDF this service issued
// (File FileIssued); such a file with something appended after it, an incremental update that PDF
// readers may show while the signature still "verifies" for the part it covers
// (FileChangedAfterSigning); or neither (ErrPDFUnknown). A signed PDF ends at a %%EOF marker, so the
// prefixes ending at each marker are looked up by digest with the whole file. It returns the
// certificate's verification, Superseded when the file is (or begins with) an earlier version of a
// renewed certificate.
func (s *Service) CheckPDF(ctx context.Context, file []byte, how How) (Verification, error) {
	whole := sha256.Sum256(file)
	digests := [][]byte{whole[:]}
	for at, n := 0, 0; n < maxRevisions; n++ {
		i := bytes.Index(file[at:], []byte("%%EOF"))
		if i < 0 {
			break
		}
		end := at + i + len("%%EOF")
		for _, eol := range []string{"", "\n", "\r\n", "\r"} {
			if e := end + len(eol); e < len(file) && string(file[end:e]) == eol {
				sum := sha256.Sum256(file[:e])
				digests = append(digests, sum[:])
			}
		}
		at = end
	}
	rows, err := s.db.Query(ctx, `SELECT code, pdf_sha256, false FROM certificates WHERE pdf_sha256 = ANY($1)
		UNION ALL
		SELECT c.code, v.pdf_sha256, true FROM certificate_versions v JOIN certificates c ON c.id = v.certificate_id WHERE v.pdf_sha256 = ANY($1)`, digests)
	if err != nil {
		return Verification{}, err
	}
	type match struct {
		code       string
		sum        []byte
		superseded bool
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (match, error) {
		var m match
		return m, r.Scan(&m.code, &m.sum, &m.superseded)
	})
	if err != nil {
		return Verification{}, err
	}
	if len(found) == 0 {
		s.logVerification(ctx, verificationRecord{at: s.now(), method: how.Method, result: "no_match", ip: how.IP, inspectionRef: how.InspectionRef})
		return Verification{}, ErrPDFUnknown
	}
	// The whole file wins; otherwise the longest issued prefix (the digests are in file order), and
	// the current version before a superseded one.
	best, bestAt := found[0], -1
	for _, m := range found {
		at := slices.IndexFunc(digests, func(d []byte) bool { return bytes.Equal(d, m.sum) })
		if at == 0 {
			at = len(digests)
		}
		if at > bestAt || (at == bestAt && best.superseded && !m.superseded) {
			best, bestAt = m, at
		}
	}
	v, err := s.Verify(ctx, best.code, how)
	v.Superseded = best.superseded
	v.File = FileIssued
	if !bytes.Equal(best.sum, whole[:]) {
		v.File = FileChangedAfterSigning
	}
	return v, err
}

// VerificationCount is how many times a certificate was verified (any way), for its holder's page.
func (s *Service) VerificationCount(ctx context.Context, certificateID int64) (int, error) {
	s.FlushVerifications(ctx)
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM certificate_verifications WHERE certificate_id = $1`, certificateID).Scan(&n)
	return n, err
}
