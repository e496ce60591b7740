package accounts

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// Roles.
const (
	RoleCaregiver        = "caregiver"
	RoleTrainer          = "trainer"
	RoleExaminer         = "examiner"
	RoleCentreAdmin      = "centre_admin"
	RoleInstitutionAdmin = "institution_admin"
	RoleInspector        = "inspector"
	RoleRegulatorAdmin   = "regulator_admin"
)

// AllRoles in the order administration pages list them.
var AllRoles = []string{RoleCaregiver, RoleTrainer, RoleExaminer, RoleCentreAdmin, RoleInstitutionAdmin, RoleInspector, RoleRegulatorAdmin}

// DomainAll is the domain of grants that hold everywhere (a caregiver's own learning).
const DomainAll = "*"

// OrgDomain and RegionDomain name the domains of grants.
func OrgDomain(code string) string    { return "org:" + code }
func RegionDomain(code string) string { return "region:" + code }
func subject(userID int64) string     { return "user:" + strconv.FormatInt(userID, 10) }
func isRegionDomain(d string) bool    { return strings.HasPrefix(d, "region:") }
func regionOfDomain(d string) string  { return strings.TrimPrefix(d, "region:") }
func validRole(r string) bool         { return contains(AllRoles, r) }
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// regionMatch is casbin's domain matching function: a grant held in pattern applies to the request
// domain when they are equal, when the pattern is "*", or when both are regions and the request's
// region lies inside the pattern's (3301 covers 330106, not 330201).
func regionMatch(request, pattern string) bool {
	if request == pattern || pattern == DomainAll {
		return true
	}
	return isRegionDomain(request) && isRegionDomain(pattern) && Contains(regionOfDomain(pattern), regionOfDomain(request))
}

//go:embed access_model.conf
var accessModel string

//go:embed access_policy.csv
var accessPolicy string

// notifyChannel carries "the access policy changed" between replicas.
const notifyChannel = "shanyu_access"

// Access enforces the access policy. It reloads from PostgreSQL when any replica announces a change.
type Access struct {
	db       *pgxpool.Pool
	enforcer *casbin.SyncedEnforcer
	log      *slog.Logger
	loads    atomic.Int64
	// decided remembers casbin's answers, which depend on nothing but the loaded policy: an answer
	// costs casbin ~100 µs of expression evaluation, and every request asks one or more. Reload
	// replaces it after loading, so an answer of an older policy is never served afterwards.
	decided atomic.Pointer[decisions]
	// onReload, when set, runs after each reload (the principals cache drops what it holds).
	onReload func()
}

// decisions are the answers of one loaded policy, by subject, domain, object and action; at most
// maxDecisions of them, after which they start again empty.
type decisions struct {
	m sync.Map
	n atomic.Int32
}

const maxDecisions = 100_000

type decisionKey struct{ sub, dom, obj, act string }

// enforce is casbin's answer, from memory after the first time.
func (a *Access) enforce(sub, dom, obj, act string) (bool, error) {
	d := a.decided.Load()
	k := decisionKey{sub, dom, obj, act}
	if v, ok := d.m.Load(k); ok {
		return v.(bool), nil
	}
	ok, err := a.enforcer.Enforce(sub, dom, obj, act)
	if err != nil {
		return false, err
	}
	if d.n.Add(1) > maxDecisions {
		a.decided.CompareAndSwap(d, &decisions{})
		return ok, nil
	}
	// Stored in the map of the policy it was loaded under at the time: after a reload that map is
	// no longer read.
	d.m.Store(k, ok)
	return ok, nil
}

// NewAccess loads the model and the policy stored in the database, adding the default rules first.
func NewAccess(ctx context.Context, db *pgxpool.Pool, log *slog.Logger) (*Access, error) {
	m, err := model.NewModelFromString(accessModel)
	if err != nil {
		return nil, fmt.Errorf("access model: %w", err)
	}
	if err := EnsureDefaultAccessRules(ctx, db); err != nil {
		return nil, err
	}
	e, err := casbin.NewSyncedEnforcer(m, &pgAdapter{db: db})
	if err != nil {
		return nil, fmt.Errorf("access policy: %w", err)
	}
	e.EnableAutoSave(false)
	e.AddNamedDomainMatchingFunc("g", "regionMatch", regionMatch)
	if err := e.LoadPolicy(); err != nil {
		return nil, fmt.Errorf("load access policy: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	a := &Access{db: db, enforcer: e, log: log}
	a.decided.Store(&decisions{})
	a.loads.Add(1)
	return a, nil
}

// EnsureDefaultAccessRules stores the built-in rules (idempotent).
func EnsureDefaultAccessRules(ctx context.Context, db pg.DB) error {
	return pg.WithTx(ctx, db, func(tx pgx.Tx) error {
		for _, line := range strings.Split(accessPolicy, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			f := strings.Split(line, ",")
			for i := range f {
				f[i] = strings.TrimSpace(f[i])
			}
			if len(f) != 4 || f[0] != "p" {
				return fmt.Errorf("access_policy.csv: bad line %q", line)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO access_rules (ptype, v0, v1, v2) VALUES ('p', $1, $2, $3) ON CONFLICT DO NOTHING`, f[1], f[2], f[3]); err != nil {
				return err
			}
		}
		return nil
	})
}

// Allowed reports whether the user may act on obj in any of the domains (or, when domains is empty,
// in any domain where they hold a grant).
func (a *Access) Allowed(p Principal, obj, act string, domains ...string) bool {
	sub := subject(p.User.ID)
	if len(domains) == 0 {
		for _, g := range p.Grants {
			domains = append(domains, g.Domain)
		}
	}
	for _, d := range domains {
		if ok, err := a.enforce(sub, d, obj, act); err == nil && ok {
			return true
		} else if err != nil {
			a.log.Error("access enforce", slog.Any("err", err))
		}
	}
	return false
}

// Reload rereads the policy from the database.
func (a *Access) Reload() error {
	if err := a.enforcer.LoadPolicy(); err != nil {
		return err
	}
	a.decided.Store(&decisions{})
	a.loads.Add(1)
	if a.onReload != nil {
		a.onReload()
	}
	return nil
}

// OnReload sets what runs after each reload of the policy (before Listen runs).
func (a *Access) OnReload(f func()) { a.onReload = f }

// Loads counts policy loads (for tests and metrics).
func (a *Access) Loads() int64 { return a.loads.Load() }

// Listen reloads the policy whenever a replica announces a change, until ctx ends.
func (a *Access) Listen(ctx context.Context) {
	pg.Listen(ctx, a.db, notifyChannel, func(context.Context) error { return a.Reload() }, a.log)
}

// announce tells every replica (this one included) to reload, when tx commits.
func announce(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, notifyChannel)
	return err
}

// pgAdapter is the casbin adapter: p rules come from access_rules, g rules from role_grants.
type pgAdapter struct{ db *pgxpool.Pool }

func (ad *pgAdapter) LoadPolicy(m model.Model) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := ad.db.Query(ctx, `SELECT ptype, v0, v1, v2 FROM access_rules WHERE ptype = 'p'`)
	if err != nil {
		return err
	}
	rules, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]string, error) {
		var a, b, c, d string
		err := r.Scan(&a, &b, &c, &d)
		return []string{a, b, c, d}, err
	})
	if err != nil {
		return err
	}
	rows, err = ad.db.Query(ctx, `SELECT user_id, role, domain FROM role_grants`)
	if err != nil {
		return err
	}
	grants, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]string, error) {
		var id int64
		var role, dom string
		err := r.Scan(&id, &role, &dom)
		return []string{"g", subject(id), role, dom}, err
	})
	if err != nil {
		return err
	}
	for _, r := range append(rules, grants...) {
		if err := persist.LoadPolicyArray(r, m); err != nil {
			return err
		}
	}
	return nil
}

var errReadOnlyAdapter = fmt.Errorf("access rules are changed through the accounts service, not through casbin")

func (ad *pgAdapter) SavePolicy(model.Model) error                { return errReadOnlyAdapter }
func (ad *pgAdapter) AddPolicy(string, string, []string) error    { return errReadOnlyAdapter }
func (ad *pgAdapter) RemovePolicy(string, string, []string) error { return errReadOnlyAdapter }
func (ad *pgAdapter) RemoveFilteredPolicy(string, string, int, ...string) error {
	return errReadOnlyAdapter
}

// Grant is a role held by a user in a domain.
type Grant struct {
	ID        int64
	UserID    int64
	Role      string
	Domain    string
	GrantedBy int64
	GrantedAt time.Time
}

// Grant errors.
var (
	ErrGrantNotFound = failure.New(failure.NotFound, "accounts.grant_not_found")
	ErrGrantExists   = failure.New(failure.Conflict, "accounts.grant_exists")
)

// GrantsOf lists a user's grants.
func (s *Service) GrantsOf(ctx context.Context, userID int64) ([]Grant, error) {
	rows, err := s.db.Query(ctx, `SELECT id, user_id, role, domain, coalesce(granted_by, 0), granted_at FROM role_grants WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanGrant)
}

// GrantsOfUsers lists the grants of several users in one query, by user.
func (s *Service) GrantsOfUsers(ctx context.Context, userIDs []int64) (map[int64][]Grant, error) {
	rows, err := s.db.Query(ctx, `SELECT id, user_id, role, domain, coalesce(granted_by, 0), granted_at FROM role_grants WHERE user_id = ANY($1) ORDER BY user_id, id`, userIDs)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, scanGrant)
	if err != nil {
		return nil, err
	}
	by := make(map[int64][]Grant, len(userIDs))
	for _, g := range list {
		by[g.UserID] = append(by[g.UserID], g)
	}
	return by, nil
}

func scanGrant(r pgx.CollectableRow) (Grant, error) {
	var g Grant
	err := r.Scan(&g.ID, &g.UserID, &g.Role, &g.Domain, &g.GrantedBy, &g.GrantedAt)
	return g, err
}

func insertGrant(ctx context.Context, tx pgx.Tx, userID int64, role, domain string, by int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO role_grants (user_id, role, domain, granted_by) VALUES ($1, $2, $3, nullif($4, 0))`, userID, role, domain, by)
	if _, dup := pg.HasCode(err, pg.CodeUniqueViolation); dup {
		return ErrGrantExists
	}
	if err != nil {
		return err
	}
	return announce(ctx, tx)
}

// validateDomain checks that a domain names an existing organisation or region.
func (s *Service) validateDomain(ctx context.Context, tx pgx.Tx, domain string) error {
	var ok bool
	var err error
	switch {
	case domain == DomainAll:
		return nil
	case strings.HasPrefix(domain, "org:"):
		err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM organisations WHERE code = $1)`, strings.TrimPrefix(domain, "org:")).Scan(&ok)
	case isRegionDomain(domain):
		err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM regions WHERE code = $1)`, regionOfDomain(domain)).Scan(&ok)
	}
	if err != nil {
		return err
	}
	if !ok {
		return failure.Field("domain", "accounts.domain_invalid")
	}
	return nil
}

// AddGrant gives a user a role in a domain; every replica applies it within moments (NOTIFY).
func (s *Service) AddGrant(ctx context.Context, actorID, userID int64, role, domain string) error {
	var f failure.Fields
	if !validRole(role) {
		f.Add("role", "accounts.role_invalid")
	}
	if err := f.Err(); err != nil {
		return err
	}
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if err := s.validateDomain(ctx, tx, domain); err != nil {
			return err
		}
		if err := insertGrant(ctx, tx, userID, role, domain, actorID); err != nil {
			if _, fk := pg.HasCode(err, pg.CodeForeignKeyViolation); fk {
				return ErrUserNotFound
			}
			return err
		}
		return Audit(ctx, tx, Event{ActorID: actorID, Action: "grant", Subject: userSubject(userID), Details: map[string]any{"role": role, "domain": domain}})
	})
}

// RemoveGrant takes a role away.
func (s *Service) RemoveGrant(ctx context.Context, actorID, grantID int64) error {
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		var g Grant
		err := tx.QueryRow(ctx, `DELETE FROM role_grants WHERE id = $1 RETURNING user_id, role, domain`, grantID).Scan(&g.UserID, &g.Role, &g.Domain)
		if pg.IsNoRows(err) {
			return ErrGrantNotFound
		}
		if err != nil {
			return err
		}
		if err := announce(ctx, tx); err != nil {
			return err
		}
		return Audit(ctx, tx, Event{ActorID: actorID, Action: "revoke", Subject: userSubject(g.UserID), Details: map[string]any{"role": g.Role, "domain": g.Domain}})
	})
}

// GrantByID loads one grant.
func (s *Service) GrantByID(ctx context.Context, id int64) (Grant, error) {
	var g Grant
	err := s.db.QueryRow(ctx, `SELECT id, user_id, role, domain, coalesce(granted_by, 0), granted_at FROM role_grants WHERE id = $1`, id).
		Scan(&g.ID, &g.UserID, &g.Role, &g.Domain, &g.GrantedBy, &g.GrantedAt)
	if pg.IsNoRows(err) {
		return g, ErrGrantNotFound
	}
	return g, err
}
