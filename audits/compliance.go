package audits

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/pg"
)

// AssignmentCheck is the policy's decision for one post held by one roster member.
type AssignmentCheck struct {
	AssignmentID int64
	RosterID     int64
	Name         string
	IDLast4      string
	Post         string
	ClassID      int64
	Decision     Decision
	Barred       bool // "not permitted to work in childcare"; the record itself is the regulator's
}

// ClassReport is one class against its type.
type ClassReport struct {
	Class    Class
	TypeName string
	MaxSize  int
	Ratio    int
	ClassCheck
}

// Expiry is a document that runs out within the warning window.
type Expiry struct {
	RosterID int64
	Name     string
	What     string // "health" or a certificate number
	On       time.Time
}

// Report is an institution's compliance on one day.
type Report struct {
	OrganisationID int64
	On             time.Time
	Children       int
	Staff          int
	Assignments    []AssignmentCheck
	Classes        []ClassReport
	MissingPosts   []string
	Expiring       []Expiry
	BarredOnRoster []int64 // roster ids
	Unqualified    int
	// Kind is centre or home_point; a home point's children are counted against the home_point class
	// type as a whole (OverCapacity) and every class is judged by its ratio.
	Kind         string
	OverCapacity bool
	Capacity     int
	PerCarer     int // a home point's children per carer
	// CheckIssues are missing, outdated or adverse background checks; a check that found a record, or a
	// missing or outdated one the policy requires for the person's post, is a fault; the others are
	// flags (the law requiring yearly checks is a draft).
	CheckIssues []CheckIssue
	// CertProblems are the roster's certificates that are expired, suspended or revoked now (and not
	// replaced by a valid one of the same occupation and level or better): each is a fault.
	CertProblems []CertProblem
}

// CertProblem is a certificate a check touched that is not valid now.
type CertProblem struct {
	RosterID int64
	Name     string
	Cert     Cert
	State    string // expired, suspended, revoked
}

// certProblems lists the certificates of a person that are not valid on day on, leaving out those
// a valid certificate of the same occupation at the same level or better replaces.
func certProblems(m Member, certs []Cert, on time.Time) []CertProblem {
	var out []CertProblem
	for _, c := range certs {
		if c.Valid(on) {
			continue
		}
		replaced := false
		for _, o := range certs {
			if o.Valid(on) && o.Occupation == c.Occupation && o.Level <= c.Level {
				replaced = true
			}
		}
		if !replaced {
			out = append(out, CertProblem{RosterID: m.ID, Name: m.Name, Cert: c, State: c.StateOn(on)})
		}
	}
	return out
}

// Compliant is true when nothing is wrong (expiring documents are warnings, not faults).
func (r Report) Compliant() bool {
	if r.Unqualified > 0 || len(r.MissingPosts) > 0 || len(r.BarredOnRoster) > 0 || len(r.CertProblems) > 0 || r.OverCapacity || r.CheckFaults() > 0 {
		return false
	}
	for _, c := range r.Classes {
		if c.OverSize || c.UnderStaffed {
			return false
		}
	}
	return true
}

// CheckFaults counts background-check issues that are faults: a record found, or a check the policy
// requires for the person's post missing or older than 12 months.
func (r Report) CheckFaults() int {
	n := 0
	for _, c := range r.CheckIssues {
		if c.Fault() {
			n++
		}
	}
	return n
}

// RecordsFound counts background checks whose latest result found a record.
func (r Report) RecordsFound() int {
	n := 0
	for _, c := range r.CheckIssues {
		if c.Reason == "record_found" {
			n++
		}
	}
	return n
}

// Issues counts the faults.
func (r Report) Issues() int {
	n := r.Unqualified + len(r.MissingPosts) + len(r.BarredOnRoster) + len(r.CertProblems)
	if r.OverCapacity {
		n++
	}
	n += r.CheckFaults()
	for _, c := range r.Classes {
		if c.OverSize {
			n++
		}
		if c.UnderStaffed {
			n++
		}
	}
	return n
}

// QualifiedShare is the share of assignments held by qualified staff (1 when there are none).
func (r Report) QualifiedShare() float64 {
	if len(r.Assignments) == 0 {
		return 1
	}
	return float64(len(r.Assignments)-r.Unqualified) / float64(len(r.Assignments))
}

// world is everything compliance looks at, loaded in a few set-wise queries.
type world struct {
	types    map[string]ClassType
	classes  map[int64][]Class // by organisation
	members  map[int64][]Member
	posts    map[int64][]Post // by roster id
	certs    map[int64][]Cert // by person
	barred   map[int64]bool
	kinds    map[int64]string  // home points; absent: a centre
	checks   map[int64][]Check // background checks by roster id
	regions  map[int64]string  // each institution's region code: regional rules apply by it
	orgOrder []int64
}

// querier runs queries on a pool or in a transaction, several in one round trip.
type querier interface {
	pg.DB
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// load reads the data of the given institutions (all when orgIDs is nil) as it stands on day on, in
// one round trip to the database.
func (s *Service) load(ctx context.Context, db querier, orgIDs []int64, on time.Time) (*world, error) {
	w := &world{types: map[string]ClassType{}, classes: map[int64][]Class{}, members: map[int64][]Member{},
		posts: map[int64][]Post{}, certs: map[int64][]Cert{}, barred: map[int64]bool{}, kinds: map[int64]string{}}
	filter, rfilter, args := "true", "true", []any{}
	if orgIDs != nil {
		filter, rfilter, args = "organisation_id = ANY($1)", "r.organisation_id = ANY($1)", []any{orgIDs}
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT code, name, name_en, min_months, max_months, max_children, children_per_caregiver FROM audit_class_types`)
	b.Queue(`SELECT id, organisation_id, name, class_type, children FROM audit_classes WHERE `+filter+` ORDER BY organisation_id, name`, args...)
	b.Queue(`SELECT id, organisation_id, person_id, name, id_last4, health_valid_until, no_criminal_record_on
		FROM audit_roster WHERE `+filter+` ORDER BY organisation_id, name, id`, args...)
	b.Queue(`SELECT a.id, a.roster_id, a.post, coalesce(a.class_id, 0) FROM audit_assignments a
		JOIN audit_roster r ON r.id = a.roster_id WHERE `+rfilter+` ORDER BY a.id`, args...)
	b.Queue(`SELECT person_id, number, occupation, level, expires_on FROM audit_external_certificates WHERE `+filter, args...)
	b.Queue(`SELECT DISTINCT person_id FROM audit_barred_persons WHERE starts_on <= $1 AND (ends_on IS NULL OR ends_on >= $1)`, day(on))
	b.Queue(`SELECT organisation_id, kind FROM audit_institution_kinds WHERE `+filter, args...)
	br := db.SendBatch(ctx, b)
	defer br.Close()

	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	var ct ClassType
	if _, err := pgx.ForEachRow(rows, []any{&ct.Code, &ct.Name, &ct.NameEN, &ct.MinMonths, &ct.MaxMonths, &ct.MaxChildren, &ct.ChildrenPerCaregiver}, func() error {
		w.types[ct.Code] = ct
		return nil
	}); err != nil {
		return nil, fmt.Errorf("class types: %w", err)
	}
	if rows, err = br.Query(); err != nil {
		return nil, err
	}
	var c Class
	if _, err := pgx.ForEachRow(rows, []any{&c.ID, &c.OrganisationID, &c.Name, &c.Type, &c.Children}, func() error {
		w.classes[c.OrganisationID] = append(w.classes[c.OrganisationID], c)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("classes: %w", err)
	}
	if rows, err = br.Query(); err != nil {
		return nil, err
	}
	members, err := pgx.CollectRows(rows, scanMember)
	if err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	var people []int64
	for _, m := range members {
		if len(w.members[m.OrganisationID]) == 0 {
			w.orgOrder = append(w.orgOrder, m.OrganisationID)
		}
		w.members[m.OrganisationID] = append(w.members[m.OrganisationID], m)
		people = append(people, m.PersonID)
	}
	if rows, err = br.Query(); err != nil {
		return nil, err
	}
	var p Post
	if _, err := pgx.ForEachRow(rows, []any{&p.ID, &p.RosterID, &p.Post, &p.ClassID}, func() error {
		w.posts[p.RosterID] = append(w.posts[p.RosterID], p)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("assignments: %w", err)
	}
	// Certificates recorded from elsewhere count, unverified, while their date allows.
	if rows, err = br.Query(); err != nil {
		return nil, err
	}
	var pid int64
	var cert Cert
	var exp *time.Time
	if _, err := pgx.ForEachRow(rows, []any{&pid, &cert.Number, &cert.Occupation, &cert.Level, &exp}, func() error {
		x := cert
		x.Status = CertValid
		if exp != nil {
			x.ExpiresOn = *exp
			if exp.Before(day(on)) {
				x.Status = CertExpired
			}
		}
		w.certs[pid] = append(w.certs[pid], x)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("external certificates: %w", err)
	}
	if rows, err = br.Query(); err != nil {
		return nil, err
	}
	if _, err := pgx.ForEachRow(rows, []any{&pid}, func() error { w.barred[pid] = true; return nil }); err != nil {
		return nil, fmt.Errorf("barred: %w", err)
	}
	if rows, err = br.Query(); err != nil {
		return nil, err
	}
	var kind string
	if _, err := pgx.ForEachRow(rows, []any{&pid, &kind}, func() error { w.kinds[pid] = kind; return nil }); err != nil {
		return nil, fmt.Errorf("institution kinds: %w", err)
	}
	if err := br.Close(); err != nil {
		return nil, err
	}
	if w.checks, err = loadChecks(ctx, db, orgIDs); err != nil {
		return nil, fmt.Errorf("background checks: %w", err)
	}
	if w.regions, err = s.regionsOf(ctx, w, orgIDs); err != nil {
		return nil, fmt.Errorf("regions: %w", err)
	}
	if len(people) > 0 {
		platform, err := s.certs.ForPeople(ctx, people)
		if err != nil {
			return nil, fmt.Errorf("certificates: %w", err)
		}
		for id, cs := range platform {
			w.certs[id] = append(w.certs[id], cs...)
		}
	}
	return w, nil
}

// classType is the type a class is judged by: its own, or for a home point the home_point row.
func (w *world) classType(orgID int64, typ string) ClassType {
	if w.kinds[orgID] == KindHomePoint {
		if ct, ok := w.types[KindHomePoint]; ok {
			return ct
		}
	}
	return w.types[typ]
}

func (w *world) facts(m Member, on time.Time) PersonFacts {
	return PersonFacts{Certificates: w.certs[m.PersonID], HealthValidUntil: m.HealthValidUntil,
		NoCriminalRecordIssued: m.NoCriminalRecordOn, Barred: w.barred[m.PersonID], On: on, Checks: w.checks[m.ID],
		Region: w.regions[m.OrganisationID]}
}

// regionsOf asks accounts for the region of every institution loaded (those asked for, or all with a
// roster or classes), so that regional rules apply by it.
func (s *Service) regionsOf(ctx context.Context, w *world, orgIDs []int64) (map[int64]string, error) {
	out := map[int64]string{}
	ids := orgIDs
	if ids == nil {
		ids = append([]int64(nil), w.orgOrder...)
		for id := range w.classes {
			if len(w.members[id]) == 0 {
				ids = append(ids, id)
			}
		}
	}
	orgs, err := s.accounts.Organisations(ctx, ids)
	if err != nil {
		return nil, err
	}
	for id, o := range orgs {
		out[id] = o.RegionCode
	}
	return out, nil
}

// report checks one institution against the policy, its class types and the staffing rules.
func (s *Service) report(p *Policy, w *world, orgID int64, on time.Time) (Report, error) {
	on = day(on)
	r := Report{OrganisationID: orgID, On: on}
	qualifiedIn := map[int64]map[int64]bool{} // class → qualified caregivers (roster ids)
	held := map[string]bool{}
	warnUntil := on.AddDate(0, 0, s.staffing.ExpiryWarningDays)
	soon := func(t time.Time) bool { return !t.IsZero() && !t.Before(on) && !t.After(warnUntil) }
	for _, m := range w.members[orgID] {
		r.Staff++
		f := w.facts(m, on)
		if f.Barred {
			r.BarredOnRoster = append(r.BarredOnRoster, m.ID)
		}
		if soon(m.HealthValidUntil) {
			r.Expiring = append(r.Expiring, Expiry{RosterID: m.ID, Name: m.Name, What: "health", On: m.HealthValidUntil})
		}
		r.CertProblems = append(r.CertProblems, certProblems(m, f.Certificates, on)...)
		for _, c := range f.Certificates {
			if c.Status == CertValid && soon(c.ExpiresOn) {
				r.Expiring = append(r.Expiring, Expiry{RosterID: m.ID, Name: m.Name, What: c.Number, On: c.ExpiresOn})
			}
		}
		var decisions []Decision
		for _, a := range w.posts[m.ID] {
			d, err := p.Decide(a.Post, f)
			if err != nil {
				return r, err
			}
			decisions = append(decisions, d)
			r.Assignments = append(r.Assignments, AssignmentCheck{AssignmentID: a.ID, RosterID: m.ID, Name: m.Name, IDLast4: m.IDLast4,
				Post: a.Post, ClassID: a.ClassID, Decision: d, Barred: f.Barred})
			if !d.Qualified {
				r.Unqualified++
				continue
			}
			held[a.Post] = true
			if a.Post == "caregiver" && a.ClassID != 0 {
				if qualifiedIn[a.ClassID] == nil {
					qualifiedIn[a.ClassID] = map[int64]bool{}
				}
				qualifiedIn[a.ClassID][m.ID] = true
			}
		}
		r.CheckIssues = append(r.CheckIssues, checkIssues(m, f.Checks, on, policyChecks(decisions))...)
	}
	r.Kind = KindCentre
	if w.kinds[orgID] == KindHomePoint {
		r.Kind = KindHomePoint
	}
	for _, c := range w.classes[orgID] {
		r.Children += c.Children
		ct := w.classType(orgID, c.Type)
		r.Classes = append(r.Classes, ClassReport{Class: c, TypeName: ct.Name, MaxSize: ct.MaxChildren, Ratio: ct.ChildrenPerCaregiver,
			ClassCheck: CheckClass(ct, c.Children, len(qualifiedIn[c.ID]))})
	}
	required := s.staffing.Required(r.Children)
	if r.Kind == KindHomePoint {
		r.Capacity, r.PerCarer = w.types[KindHomePoint].MaxChildren, w.types[KindHomePoint].ChildrenPerCaregiver
		r.OverCapacity = r.Children > r.Capacity
		required = s.staffing.HomePointRequiredPosts
	}
	for _, post := range required {
		if !held[post] {
			r.MissingPosts = append(r.MissingPosts, post)
		}
	}
	sort.Slice(r.Expiring, func(i, j int) bool { return r.Expiring[i].On.Before(r.Expiring[j].On) })
	return r, nil
}

// Compliance checks one institution on day on.
func (s *Service) Compliance(ctx context.Context, orgID int64, on time.Time) (Report, error) {
	w, err := s.load(ctx, s.db, []int64{orgID}, on)
	if err != nil {
		return Report{}, err
	}
	return s.report(s.Policy(), w, orgID, on)
}

// ComplianceOf checks many institutions at once (all with a roster when orgIDs is nil).
func (s *Service) ComplianceOf(ctx context.Context, orgIDs []int64, on time.Time) (map[int64]Report, error) {
	return s.complianceOf(ctx, s.db, orgIDs, on)
}

// complianceOf is ComplianceOf reading through db (the dashboard gives its read pool).
func (s *Service) complianceOf(ctx context.Context, db querier, orgIDs []int64, on time.Time) (map[int64]Report, error) {
	w, err := s.load(ctx, db, orgIDs, on)
	if err != nil {
		return nil, err
	}
	ids := orgIDs
	if ids == nil {
		ids = w.orgOrder
		for id := range w.classes {
			if len(w.members[id]) == 0 {
				ids = append(ids, id)
			}
		}
	}
	p := s.Policy()
	out := make(map[int64]Report, len(ids))
	for _, id := range ids {
		r, err := s.report(p, w, id, on)
		if err != nil {
			return nil, err
		}
		out[id] = r
	}
	return out, nil
}

// RuleChange is an assignment whose decision a proposed rule would change.
type RuleChange struct {
	OrganisationID int64
	AssignmentID   int64
	Name           string
	Post           string
	Before, After  bool
}

// PreviewRule lists the current assignments whose status would change if the rule were added.
func (s *Service) PreviewRule(ctx context.Context, line string, on time.Time) ([]RuleChange, error) {
	line, err := NormaliseRule(line)
	if err != nil {
		return nil, err
	}
	lines, err := s.ruleLines(ctx, s.db)
	if err != nil {
		return nil, err
	}
	next, err := NewPolicy(append(lines, line))
	if err != nil {
		return nil, ErrRuleInvalid.Wrap(err)
	}
	w, err := s.load(ctx, s.db, nil, on)
	if err != nil {
		return nil, err
	}
	now := s.Policy()
	var out []RuleChange
	for _, orgID := range w.orgOrder {
		for _, m := range w.members[orgID] {
			f := w.facts(m, day(on))
			for _, a := range w.posts[m.ID] {
				before, err := now.Decide(a.Post, f)
				if err != nil {
					return nil, err
				}
				after, err := next.Decide(a.Post, f)
				if err != nil {
					return nil, err
				}
				if before.Qualified != after.Qualified {
					out = append(out, RuleChange{OrganisationID: orgID, AssignmentID: a.ID, Name: m.Name, Post: a.Post, Before: before.Qualified, After: after.Qualified})
				}
			}
		}
	}
	return out, nil
}
