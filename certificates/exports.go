package certificates

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/accounts"
	"shanyu/internal/clock"
	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// Status list purposes published for offline verifiers.
const (
	PurposeRevocation = "revocation"
	PurposeSuspension = "suspension"
)

// StatusListURL is where the status list credential of a purpose is published.
func (s *Service) StatusListURL(purpose string) string {
	return strings.TrimRight(s.baseURL, "/") + "/api/v1/status-lists/" + purpose
}

// StatusListCredential builds the current W3C Bitstring Status List credential (a VC-JWT) of a
// purpose: bit i is set when the certificate with status index i is revoked (or suspended).
func (s *Service) StatusListCredential(ctx context.Context, purpose string) (string, error) {
	if purpose != PurposeRevocation && purpose != PurposeSuspension {
		return "", ErrNotFound
	}
	stored := "revoked"
	if purpose == PurposeSuspension {
		stored = "suspended"
	}
	var size int
	if err := s.db.QueryRow(ctx, `SELECT coalesce(max(status_index), 0) + 1 FROM certificates`).Scan(&size); err != nil {
		return "", err
	}
	list := NewStatusList(size)
	rows, err := s.db.Query(ctx, `SELECT status_index FROM certificates WHERE status = $1`, stored)
	if err != nil {
		return "", err
	}
	idx, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return "", err
	}
	for _, i := range idx {
		if err := list.Set(int(i), true); err != nil {
			return "", err
		}
	}
	key, err := ActiveSigner(ctx, s.db, s.secret)
	if err != nil {
		return "", err
	}
	return key.StatusListCredential(StatusListInput{URL: s.StatusListURL(purpose), IssuerID: IssuerURL(s.baseURL, PlatformIssuer),
		Purpose: purpose, List: list, ValidFrom: s.now(), ValidUntil: s.now().Add(24 * 3600 * 1e9), KeyURL: KeyURL(s.baseURL, key.KeyID())})
}

// OpenBadge returns a certificate as an Open Badges 3.0 credential (VC-JWT) for its holder.
func (s *Service) OpenBadge(ctx context.Context, number string) (string, error) {
	c, err := s.ByNumber(ctx, number)
	if err != nil {
		return "", err
	}
	var name string        // as printed at issuance, not as the person is called now
	var issuedAt time.Time // this version's issuance: the certificate's creation, or its latest renewal
	if err := s.db.QueryRow(ctx, `SELECT c.holder_name, coalesce((SELECT max(v.superseded_at) FROM certificate_versions v WHERE v.certificate_id = c.id), c.created_at)
		FROM certificates c WHERE c.id = $1`, c.ID).Scan(&name, &issuedAt); err != nil {
		return "", err
	}
	key, err := ActiveSigner(ctx, s.db, s.secret)
	if err != nil {
		return "", err
	}
	return key.OpenBadgeCredential(BadgeInput{
		BaseURL: s.baseURL, Code: c.Code, Number: c.Number, HolderName: name, OccupationCode: c.OccupationCode, Level: c.Level,
		Titles: c.Titles(), IssuerName: c.CentreName, IssuerNameEN: c.CentreNameEN, IssuerID: IssuerURL(s.baseURL, c.CentreCode),
		IssuedOn: c.IssuedOn, ExpiresOn: c.ExpiresOn, IssuedAt: issuedAt,
		Status: &StatusEntry{ListURL: s.StatusListURL(PurposeRevocation), Index: c.StatusIndex, Purpose: PurposeRevocation},
	})
}

// RenewalCheck says how far a certificate is from renewal.
type RenewalCheck struct {
	Required  float64
	Completed float64
}

// Met reports whether enough hours were completed.
func (r RenewalCheck) Met() bool { return r.Completed >= r.Required }

// RenewalStatus counts the continuing-education hours completed within the certificate's validity.
func (s *Service) RenewalStatus(ctx context.Context, c Certificate) (RenewalCheck, error) {
	var rc RenewalCheck
	if err := s.db.QueryRow(ctx, `SELECT renewal_hours::float8 FROM certificate_types WHERE occupation_code = $1 AND level = $2`,
		c.OccupationCode, c.Level).Scan(&rc.Required); err != nil {
		return rc, err
	}
	// The validity's days are counted in the product's zone: from the start of the issue day to the end
	// of the expiry day there.
	done, err := s.hours.CompletedHours(ctx, c.PersonID, c.OccupationCode, clock.Midnight(c.IssuedOn), clock.Midnight(c.ExpiresOn.AddDate(0, 0, 1)))
	rc.Completed = done
	return rc, err
}

// Renew gives a certificate a new validity from today once its holder has completed the
// continuing-education hours its type requires within the current validity: same number and code,
// a new version, a newly signed PDF. The earlier PDF stays recognisable as a superseded version.
//
// Of several concurrent renewals exactly one renews (docs/architecture.md, Transactions and locks):
// the new version is stored under the certificate's row lock only if the certificate is still at
// the version this call read; the others get ErrAlreadyRenewed. A certificate whose validity starts
// today (renewed, or issued, today) is not renewed again: it would get the same validity.
func (s *Service) Renew(ctx context.Context, actorID int64, number string) (Certificate, error) {
	c, err := s.ByNumber(ctx, number)
	if err != nil {
		return c, err
	}
	if c.Status != StateValid {
		return c, ErrNotRenewable
	}
	if !c.IssuedOn.Before(s.today()) {
		return c, ErrAlreadyRenewed
	}
	rc, err := s.RenewalStatus(ctx, c)
	if err != nil {
		return c, err
	}
	if !rc.Met() {
		return c, renewalHoursMissing(rc.Completed, rc.Required)
	}
	var months int
	if err := s.db.QueryRow(ctx, `SELECT validity_months FROM certificate_types WHERE occupation_code = $1 AND level = $2`,
		c.OccupationCode, c.Level).Scan(&months); err != nil {
		return c, err
	}
	d, _, err := s.loadDocument(ctx, s.db, c.ID)
	if err != nil {
		return c, err
	}
	d.Version = c.Version + 1
	d.IssuedOn = s.today()
	d.ExpiresOn = d.IssuedOn.AddDate(0, months, -1)
	signed, token, kid, err := s.render(ctx, d)
	if err != nil {
		return c, err
	}
	// The PDF is signed above, outside the transaction; the transaction only decides and stores.
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		var version int
		var status string
		if err := tx.QueryRow(ctx, `SELECT version, status FROM certificates WHERE id = $1 FOR UPDATE`, c.ID).Scan(&version, &status); err != nil {
			return err
		}
		switch {
		case version != c.Version:
			return ErrAlreadyRenewed // another request renewed it meanwhile
		case status != StateValid:
			return ErrNotRenewable // suspended or revoked meanwhile
		}
		if _, err := tx.Exec(ctx, `INSERT INTO certificate_versions (certificate_id, version, issued_on, expires_on, pdf_sha256)
			SELECT id, version, issued_on, expires_on, pdf_sha256 FROM certificates WHERE id = $1`, c.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE certificates SET version = $2, issued_on = $3, expires_on = $4, pdf = $5, pdf_sha256 = $6,
			token = $7, key_id = $8, holder_masked = $9, has_photo = $10, issuer_name = $11, issuer_name_en = $12 WHERE id = $1`,
			c.ID, d.Version, d.IssuedOn, d.ExpiresOn, signed.PDF, signed.SHA256[:], token, kid, MaskName(d.HolderName), d.Photo != nil,
			d.CentreName, d.CentreNameEN); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "certificate.renew", Subject: "certificate:" + c.Number,
			Details: map[string]any{"version": d.Version, "hours": rc.Completed, "expires_on": d.ExpiresOn.Format("2006-01-02"),
				"pdf_sha256": fmt.Sprintf("%x", signed.SHA256)}})
	})
	if err != nil {
		return c, err
	}
	return s.byID(ctx, c.ID)
}

// DownloadName is the file name a certificate's PDF is offered under.
func DownloadName(number string, version int) string {
	return "certificate-" + number + "-v" + strconv.Itoa(version) + ".pdf"
}

// renewalHoursMissing is ErrRenewalHours saying how many hours are missing, how many are done and
// how many are required (the message's placeholders, in that order).
func renewalHoursMissing(completed, required float64) error {
	missing := required - completed
	if missing < 0.1 {
		missing = 0.1 // what rounding hides is still missing
	}
	return failure.New(ErrRenewalHours.Kind, ErrRenewalHours.Msg.Key, missing, completed, required).
		Wrap(fmt.Errorf("%.1f of %.1f hours", completed, required))
}
