package accounts

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// Organisation kinds.
const (
	KindCommission     = "commission"
	KindTrainingCentre = "training_centre"
	KindInstitution    = "institution"
)

// InstitutionTypes is the "5+X" list (standards.md §1): public, community, employer-run,
// kindergarten toddler classes, home-based points, and other forms.
var InstitutionTypes = []string{"public", "community", "employer", "kindergarten", "home", "other"}

// ClassTypes are the class types whose licensed places an institution records (standards.md §4).
var ClassTypes = []string{"infant", "toddler_young", "toddler_old", "mixed"}

// Organisation is a health commission, a training centre or a childcare institution.
type Organisation struct {
	ID              int64
	Kind            string
	Code            string
	Name            string
	NameEN          string
	RegionCode      string
	Address         string
	CreditCode      string
	InstitutionType string
	LicensedPlaces  map[string]int
	CreatedAt       time.Time
}

// Domain is the access-policy domain of the organisation.
func (o Organisation) Domain() string { return OrgDomain(o.Code) }

// Domains are every access-policy domain the organisation lies in: its own and its region's, so that
// a grant in the region (or a region above it) covers the organisation.
func (o Organisation) Domains() []string { return []string{o.Domain(), RegionDomain(o.RegionCode)} }

// Organisation errors.
var (
	ErrOrganisationNotFound = failure.New(failure.NotFound, "accounts.organisation_not_found")
	ErrOrganisationExists   = failure.New(failure.Conflict, "accounts.organisation_exists")
)

var orgCodePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_-]{1,31}$`)

// CreateOrganisation validates and stores an organisation.
func (s *Service) CreateOrganisation(ctx context.Context, actorID int64, o Organisation) (Organisation, error) {
	o.Code = strings.ToUpper(strings.TrimSpace(o.Code))
	o.Name = strings.TrimSpace(o.Name)
	o.CreditCode = strings.ToUpper(strings.TrimSpace(o.CreditCode))
	var f failure.Fields
	if !contains([]string{KindCommission, KindTrainingCentre, KindInstitution}, o.Kind) {
		f.Add("kind", "accounts.org_kind_invalid")
	}
	if !orgCodePattern.MatchString(o.Code) {
		f.Add("code", "accounts.org_code_invalid")
	}
	if n := len([]rune(o.Name)); n < 2 || n > 100 {
		f.Add("name", "accounts.org_name_invalid")
	}
	if o.Kind == KindInstitution {
		if !ValidCreditCode(o.CreditCode) {
			f.Add("credit_code", "accounts.credit_code_invalid")
		}
		if !contains(InstitutionTypes, o.InstitutionType) {
			f.Add("institution_type", "accounts.institution_type_invalid")
		}
		for class, n := range o.LicensedPlaces {
			if !contains(ClassTypes, class) || n < 0 || n > 1000 {
				f.Add("licensed_places", "accounts.licensed_places_invalid")
			}
		}
	} else {
		o.InstitutionType, o.LicensedPlaces = "", nil
		if o.CreditCode != "" && !ValidCreditCode(o.CreditCode) {
			f.Add("credit_code", "accounts.credit_code_invalid")
		}
	}
	if err := f.Err(); err != nil {
		return o, err
	}
	if o.LicensedPlaces == nil {
		o.LicensedPlaces = map[string]int{}
	}
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := RegionByCode(ctx, tx, o.RegionCode); err != nil {
			if err == ErrRegionNotFound {
				return failure.Field("region_code", "accounts.region_not_found")
			}
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO organisations (kind, code, name, name_en, region_code, address, credit_code, institution_type, licensed_places)
			VALUES ($1, $2, $3, $4, $5, $6, nullif($7, ''), nullif($8, ''), $9) RETURNING id, created_at`,
			o.Kind, o.Code, o.Name, o.NameEN, o.RegionCode, o.Address, o.CreditCode, o.InstitutionType, o.LicensedPlaces).Scan(&o.ID, &o.CreatedAt)
		if _, dup := pg.HasCode(err, pg.CodeUniqueViolation); dup {
			return ErrOrganisationExists
		}
		if err != nil {
			return err
		}
		return Audit(ctx, tx, Event{ActorID: actorID, Action: "organisation.create", Subject: "org:" + o.Code})
	})
	return o, err
}

const orgColumns = `id, kind, code, name, name_en, region_code, address, coalesce(credit_code, ''), coalesce(institution_type, ''), licensed_places, created_at`

func scanOrg(row pgx.Row) (Organisation, error) {
	var o Organisation
	err := row.Scan(&o.ID, &o.Kind, &o.Code, &o.Name, &o.NameEN, &o.RegionCode, &o.Address, &o.CreditCode, &o.InstitutionType, &o.LicensedPlaces, &o.CreatedAt)
	if pg.IsNoRows(err) {
		return o, ErrOrganisationNotFound
	}
	return o, err
}

// OrganisationByCode loads one organisation.
func (s *Service) OrganisationByCode(ctx context.Context, code string) (Organisation, error) {
	return scanOrg(s.db.QueryRow(ctx, `SELECT `+orgColumns+` FROM organisations WHERE code = $1`, strings.ToUpper(code)))
}

// OrganisationByID loads one organisation.
func (s *Service) OrganisationByID(ctx context.Context, id int64) (Organisation, error) {
	return scanOrg(s.db.QueryRow(ctx, `SELECT `+orgColumns+` FROM organisations WHERE id = $1`, id))
}

// OrgFilter narrows ListOrganisations.
type OrgFilter struct {
	Kind   string
	Region string // this region and those below it
	Query  string
	Limit  int
	Offset int
}

// ListOrganisations pages through organisations ordered by code, with the total.
func (s *Service) ListOrganisations(ctx context.Context, f OrgFilter) ([]Organisation, int, error) {
	conds := []string{"true"}
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if f.Kind != "" {
		conds = append(conds, "kind = "+arg(f.Kind))
	}
	if f.Region != "" {
		conds = append(conds, "starts_with(region_code, "+arg(f.Region)+")")
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		p := arg("%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%")
		conds = append(conds, fmt.Sprintf("(code ILIKE %s OR name ILIKE %s OR name_en ILIKE %s)", p, p, p))
	}
	where := strings.Join(conds, " AND ")
	var total int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM organisations WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	limit := f.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	rows, err := s.db.Query(ctx, `SELECT `+orgColumns+` FROM organisations WHERE `+where+` ORDER BY code LIMIT `+arg(limit)+` OFFSET `+arg(max(f.Offset, 0)), args...)
	if err != nil {
		return nil, 0, err
	}
	orgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Organisation, error) { return scanOrg(r) })
	return orgs, total, err
}

// TrainingBase is a site where a training centre runs practical sessions.
type TrainingBase struct {
	ID             int64
	OrganisationID int64
	Name           string
	Address        string
	RegionCode     string
}

// AddTrainingBase records a training base of a centre.
func (s *Service) AddTrainingBase(ctx context.Context, actorID int64, b TrainingBase) (TrainingBase, error) {
	b.Name = strings.TrimSpace(b.Name)
	if n := len([]rune(b.Name)); n < 2 || n > 100 {
		return b, failure.Field("name", "accounts.org_name_invalid")
	}
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		var kind string
		if err := tx.QueryRow(ctx, `SELECT kind FROM organisations WHERE id = $1`, b.OrganisationID).Scan(&kind); err != nil {
			if pg.IsNoRows(err) {
				return ErrOrganisationNotFound
			}
			return err
		}
		if kind != KindTrainingCentre {
			return failure.Field("organisation_id", "accounts.not_a_training_centre")
		}
		err := tx.QueryRow(ctx, `INSERT INTO training_bases (organisation_id, name, address, region_code) VALUES ($1, $2, $3, $4) RETURNING id`,
			b.OrganisationID, b.Name, b.Address, b.RegionCode).Scan(&b.ID)
		if _, fk := pg.HasCode(err, pg.CodeForeignKeyViolation); fk {
			return failure.Field("region_code", "accounts.region_not_found")
		}
		if err != nil {
			return err
		}
		return Audit(ctx, tx, Event{ActorID: actorID, Action: "training_base.create", Subject: fmt.Sprintf("training_base:%d", b.ID)})
	})
	return b, err
}

// TrainingBases lists a centre's bases.
func (s *Service) TrainingBases(ctx context.Context, orgID int64) ([]TrainingBase, error) {
	rows, err := s.db.Query(ctx, `SELECT id, organisation_id, name, address, region_code FROM training_bases WHERE organisation_id = $1 ORDER BY id`, orgID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (TrainingBase, error) {
		var b TrainingBase
		err := r.Scan(&b.ID, &b.OrganisationID, &b.Name, &b.Address, &b.RegionCode)
		return b, err
	})
}

// OrganisationRegions gives the region code of every organisation of a kind, by id, in one query:
// what a province-wide computation needs without paging through whole organisations.
func OrganisationRegions(ctx context.Context, db pg.DB, kind string) (map[int64]string, error) {
	rows, err := db.Query(ctx, `SELECT id, region_code FROM organisations WHERE kind = $1`, kind)
	if err != nil {
		return nil, err
	}
	out := map[int64]string{}
	var id int64
	var region string
	if _, err := pgx.ForEachRow(rows, []any{&id, &region}, func() error { out[id] = region; return nil }); err != nil {
		return nil, fmt.Errorf("organisation regions: %w", err)
	}
	return out, nil
}
