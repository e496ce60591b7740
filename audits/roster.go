package audits

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/accounts"
	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// Class is a group of children of one class type at an institution.
type Class struct {
	ID             int64
	OrganisationID int64
	Name           string
	Type           string
	Children       int
}

// Member is a person on an institution's roster with their documents.
type Member struct {
	ID                 int64
	OrganisationID     int64
	PersonID           int64
	Name               string
	IDLast4            string
	HealthValidUntil   time.Time // zero: none
	NoCriminalRecordOn time.Time // zero: none
}

// Post is one assignment of a roster member to a post (and, for caregivers, a class).
type Post struct {
	ID       int64
	RosterID int64
	Post     string
	ClassID  int64 // 0: no class
}

// ExternalCert is a certificate from elsewhere recorded by an institution, with its evidence.
type ExternalCert struct {
	ID             int64
	OrganisationID int64
	PersonID       int64
	Number         string
	Occupation     string
	Level          int
	ExpiresOn      time.Time
	Evidence       string
}

// ClassTypes lists the stored class types.
func (s *Service) ClassTypes(ctx context.Context) ([]ClassType, error) {
	rows, err := s.db.Query(ctx, `SELECT code, name, name_en, min_months, max_months, max_children, children_per_caregiver FROM audit_class_types ORDER BY min_months, code`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ClassType, error) {
		var c ClassType
		return c, r.Scan(&c.Code, &c.Name, &c.NameEN, &c.MinMonths, &c.MaxMonths, &c.MaxChildren, &c.ChildrenPerCaregiver)
	})
}

// SetClassType edits a class type's limits (the regulator's table).
func (s *Service) SetClassType(ctx context.Context, actorID int64, ct ClassType) error {
	if ct.MaxChildren <= 0 || ct.ChildrenPerCaregiver <= 0 || ct.MaxMonths < ct.MinMonths || ct.MinMonths < 0 {
		return failure.Field("max_children", "audits.class_type_invalid")
	}
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE audit_class_types SET min_months = $2, max_months = $3, max_children = $4, children_per_caregiver = $5 WHERE code = $1`,
			ct.Code, ct.MinMonths, ct.MaxMonths, ct.MaxChildren, ct.ChildrenPerCaregiver)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "class_type.update", Subject: "class_type:" + ct.Code,
			Details: map[string]any{"max_children": ct.MaxChildren, "children_per_caregiver": ct.ChildrenPerCaregiver}})
	})
}

// validate trims the class's name and checks its name and head count.
func (c *Class) validate() error {
	c.Name = strings.TrimSpace(c.Name)
	var f failure.Fields
	if n := len([]rune(c.Name)); n < 1 || n > 40 {
		f.Add("name", "audits.class_name_invalid")
	}
	if c.Children < 0 || c.Children > 1000 {
		f.Add("children", "audits.children_invalid")
	}
	return f.Err()
}

// SaveClass creates a class, or updates it when the institution already has one of that name.
func (s *Service) SaveClass(ctx context.Context, c Class) (Class, error) {
	if err := c.validate(); err != nil {
		return c, err
	}
	err := s.db.QueryRow(ctx, `INSERT INTO audit_classes (organisation_id, name, class_type, children) VALUES ($1, $2, $3, $4)
		ON CONFLICT (organisation_id, name) DO UPDATE SET class_type = excluded.class_type, children = excluded.children RETURNING id`,
		c.OrganisationID, c.Name, c.Type, c.Children).Scan(&c.ID)
	if _, bad := pg.HasCode(err, pg.CodeForeignKeyViolation); bad {
		return c, failure.Field("type", "audits.class_type_unknown")
	}
	return c, err
}

// Classes lists an institution's classes.
func (s *Service) Classes(ctx context.Context, orgID int64) ([]Class, error) {
	rows, err := s.db.Query(ctx, `SELECT id, organisation_id, name, class_type, children FROM audit_classes WHERE organisation_id = $1 ORDER BY name`, orgID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Class, error) {
		var c Class
		return c, r.Scan(&c.ID, &c.OrganisationID, &c.Name, &c.Type, &c.Children)
	})
}

// StaffInput is one roster line as an institution enters or imports it.
type StaffInput struct {
	Name, Phone, IDNumber string
	HealthValidUntil      time.Time
	NoCriminalRecordOn    time.Time
	Posts                 []string // posts held
	Class                 string   // class name, for caregivers
}

// AddStaff puts a person on the roster (recording the person when new), sets their documents and
// adds their posts. Running it again with the same line changes nothing.
func (s *Service) AddStaff(ctx context.Context, orgID int64, in StaffInput) (Member, error) {
	personID, err := s.accounts.EnsurePerson(ctx, strings.TrimSpace(in.Name), strings.TrimSpace(in.Phone), in.IDNumber)
	if err != nil {
		return Member{}, err
	}
	id := accounts.NormaliseCitizenID(in.IDNumber)
	m := Member{OrganisationID: orgID, PersonID: personID, Name: strings.TrimSpace(in.Name), IDLast4: id[len(id)-4:],
		HealthValidUntil: in.HealthValidUntil, NoCriminalRecordOn: in.NoCriminalRecordOn}
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO audit_roster (organisation_id, person_id, name, id_last4, health_valid_until, no_criminal_record_on)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (organisation_id, person_id) DO UPDATE SET name = excluded.name, health_valid_until = excluded.health_valid_until,
				no_criminal_record_on = excluded.no_criminal_record_on RETURNING id`,
			orgID, personID, m.Name, m.IDLast4, nullDate(m.HealthValidUntil), nullDate(m.NoCriminalRecordOn)).Scan(&m.ID); err != nil {
			return err
		}
		for _, post := range in.Posts {
			if err := assign(ctx, tx, m.ID, orgID, post, in.Class); err != nil {
				return err
			}
		}
		return nil
	})
	return m, err
}

func assign(ctx context.Context, tx pgx.Tx, rosterID, orgID int64, post, class string) error {
	post = strings.TrimSpace(post)
	var classID *int64
	if class = strings.TrimSpace(class); class != "" && post == "caregiver" {
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM audit_classes WHERE organisation_id = $1 AND name = $2`, orgID, class).Scan(&id)
		if pg.IsNoRows(err) {
			return failure.Field("class", "audits.class_unknown", class)
		}
		if err != nil {
			return err
		}
		classID = &id
	}
	_, err := tx.Exec(ctx, `INSERT INTO audit_assignments (roster_id, post, class_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, rosterID, post, classID)
	if _, bad := pg.HasCode(err, pg.CodeCheckViolation); bad {
		return failure.Field("post", "audits.post_invalid", post)
	}
	return err
}

// Roster lists an institution's roster members.
func (s *Service) Roster(ctx context.Context, orgID int64) ([]Member, error) {
	rows, err := s.db.Query(ctx, `SELECT id, organisation_id, person_id, name, id_last4, health_valid_until, no_criminal_record_on
		FROM audit_roster WHERE organisation_id = $1 ORDER BY name, id`, orgID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanMember)
}

func scanMember(r pgx.CollectableRow) (Member, error) {
	var m Member
	var h, n *time.Time
	err := r.Scan(&m.ID, &m.OrganisationID, &m.PersonID, &m.Name, &m.IDLast4, &h, &n)
	if h != nil {
		m.HealthValidUntil = *h
	}
	if n != nil {
		m.NoCriminalRecordOn = *n
	}
	return m, err
}

// RemoveMember takes a person off the roster with their posts.
func (s *Service) RemoveMember(ctx context.Context, orgID, rosterID int64) error {
	tag, err := s.db.Exec(ctx, `DELETE FROM audit_roster WHERE id = $1 AND organisation_id = $2`, rosterID, orgID)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}

// RecordExternalCertificate stores a certificate from elsewhere with its evidence; it stays unverified.
func (s *Service) RecordExternalCertificate(ctx context.Context, actorID int64, c ExternalCert) (ExternalCert, error) {
	c.Number, c.Occupation, c.Evidence = strings.TrimSpace(c.Number), strings.TrimSpace(c.Occupation), strings.TrimSpace(c.Evidence)
	var f failure.Fields
	if c.Number == "" || len(c.Number) > 64 {
		f.Add("number", "audits.cert_number_invalid")
	}
	if c.Occupation == "" {
		f.Add("occupation", "audits.occupation_invalid")
	}
	if c.Level < 1 || c.Level > 5 {
		f.Add("level", "audits.level_invalid")
	}
	if c.Evidence == "" {
		f.Add("evidence", "audits.evidence_required")
	}
	if err := f.Err(); err != nil {
		return c, err
	}
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO audit_external_certificates (organisation_id, person_id, number, occupation, level, expires_on, evidence, recorded_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (person_id, number) DO UPDATE SET occupation = excluded.occupation,
			level = excluded.level, expires_on = excluded.expires_on, evidence = excluded.evidence RETURNING id`,
			c.OrganisationID, c.PersonID, c.Number, c.Occupation, c.Level, nullDate(c.ExpiresOn), c.Evidence, actorID).Scan(&c.ID)
		if err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "external_certificate.record",
			Subject: fmt.Sprintf("person:%d", c.PersonID), Details: map[string]any{"number": c.Number, "organisation_id": c.OrganisationID}})
	})
	return c, err
}

// ExternalCertificates lists the certificates an institution recorded from elsewhere.
func (s *Service) ExternalCertificates(ctx context.Context, orgID int64) ([]ExternalCert, error) {
	rows, err := s.db.Query(ctx, `SELECT id, organisation_id, person_id, number, occupation, level, expires_on, evidence
		FROM audit_external_certificates WHERE organisation_id = $1 ORDER BY id`, orgID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ExternalCert, error) {
		var c ExternalCert
		var exp *time.Time
		err := r.Scan(&c.ID, &c.OrganisationID, &c.PersonID, &c.Number, &c.Occupation, &c.Level, &exp, &c.Evidence)
		if exp != nil {
			c.ExpiresOn = *exp
		}
		return c, err
	})
}

func nullDate(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// Bar is a 从业禁止 record: a person barred from childcare work.
type Bar struct {
	ID         int64
	PersonID   int64
	LegalBasis string
	Authority  string
	StartsOn   time.Time
	EndsOn     time.Time // zero: for life
	Evidence   string
	RecordedBy int64
	CreatedAt  time.Time
}

// RecordBar records that a person is barred from childcare work (the regulator only).
func (s *Service) RecordBar(ctx context.Context, actorID int64, b Bar) (Bar, error) {
	b.LegalBasis, b.Authority, b.Evidence = strings.TrimSpace(b.LegalBasis), strings.TrimSpace(b.Authority), strings.TrimSpace(b.Evidence)
	var f failure.Fields
	if b.LegalBasis == "" {
		f.Add("legal_basis", "audits.field_required")
	}
	if b.Authority == "" {
		f.Add("authority", "audits.field_required")
	}
	if b.Evidence == "" {
		f.Add("evidence", "audits.evidence_required")
	}
	if b.StartsOn.IsZero() || (!b.EndsOn.IsZero() && b.EndsOn.Before(b.StartsOn)) {
		f.Add("starts_on", "audits.period_invalid")
	}
	if err := f.Err(); err != nil {
		return b, err
	}
	b.RecordedBy = actorID
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO audit_barred_persons (person_id, legal_basis, authority, starts_on, ends_on, evidence, recorded_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, created_at`,
			b.PersonID, b.LegalBasis, b.Authority, b.StartsOn, nullDate(b.EndsOn), b.Evidence, actorID).Scan(&b.ID, &b.CreatedAt); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "conduct.bar", Subject: fmt.Sprintf("person:%d", b.PersonID)})
	})
	return b, err
}

// Bars lists the bar records (the regulator's view).
func (s *Service) Bars(ctx context.Context) ([]Bar, error) {
	rows, err := s.db.Query(ctx, `SELECT id, person_id, legal_basis, authority, starts_on, ends_on, evidence, recorded_by, created_at
		FROM audit_barred_persons ORDER BY id DESC`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Bar, error) {
		var b Bar
		var ends *time.Time
		err := r.Scan(&b.ID, &b.PersonID, &b.LegalBasis, &b.Authority, &b.StartsOn, &ends, &b.Evidence, &b.RecordedBy, &b.CreatedAt)
		if ends != nil {
			b.EndsOn = *ends
		}
		return b, err
	})
}

// RosterCertificateStatuses returns, for the platform certificates held by an institution's roster,
// each certificate number's status now (valid, expired, suspended, revoked). An inspection page
// carries it so that a phone without a network can say more than "genuine": whether the platform
// listed the certificate as revoked or suspended when the page was loaded.
func (s *Service) RosterCertificateStatuses(ctx context.Context, orgID int64) (map[string]string, error) {
	out := map[string]string{}
	members, err := s.Roster(ctx, orgID)
	if err != nil {
		return nil, err
	}
	people := make([]int64, 0, len(members))
	for _, m := range members {
		people = append(people, m.PersonID)
	}
	if len(people) == 0 {
		return out, nil
	}
	certs, err := s.certs.ForPeople(ctx, people)
	if err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	for _, cs := range certs {
		for _, c := range cs {
			if c.Verified && c.Number != "" {
				out[c.Number] = c.Status
			}
		}
	}
	return out, nil
}
