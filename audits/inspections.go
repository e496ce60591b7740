package audits

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/accounts"
	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// RoundInput is what the regulator decides when defining a round.
type RoundInput struct {
	RegionCode    string
	Name          string
	Count         int     // how many institutions; or
	Share         float64 // a share of the register, when Count is 0
	PerInspection int     // at least 2
	RiskWeighted  bool    // institutions with compliance faults are drawn more often
	Seed          uint64  // 0: a fresh random seed
	On            time.Time
}

// Round is a stored draw.
type Round struct {
	ID            int64
	RegionCode    string
	Name          string
	Seed          uint64
	Count         int
	PerInspection int
	RiskWeighted  bool
	InputDigest   string
	CreatedAt     time.Time
	Assignments   []Assignment
}

// roundRecord is the stored input of a draw: enough to run it again.
type roundRecord struct {
	Targets    []Target    `json:"targets"`
	Inspectors []Inspector `json:"inspectors"`
}

// CreateRound draws the institutions and inspectors of a round, stores the draw with its seed and
// inputs, opens one inspection per drawn institution and writes the audit log, in one transaction.
func (s *Service) CreateRound(ctx context.Context, actorID int64, in RoundInput) (Round, error) {
	in.Name = strings.TrimSpace(in.Name)
	var f failure.Fields
	if in.Name == "" {
		f.Add("name", "audits.field_required")
	}
	if in.PerInspection < 2 {
		f.Add("per_inspection", "audits.draw_invalid")
	}
	if in.Count < 0 || in.Share < 0 || in.Share > 1 || (in.Count == 0 && in.Share == 0) {
		f.Add("count", "audits.draw_invalid")
	}
	if err := f.Err(); err != nil {
		return Round{}, err
	}
	if in.Seed == 0 {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return Round{}, err
		}
		in.Seed = binary.BigEndian.Uint64(b[:]) >> 1 // fits a bigint
	}
	if in.On.IsZero() {
		in.On = time.Now()
	}
	var orgs []accounts.Organisation
	for off := 0; ; off += 200 {
		page, total, err := s.accounts.ListOrganisations(ctx, accounts.OrgFilter{Kind: accounts.KindInstitution, Region: in.RegionCode, Limit: 200, Offset: off})
		if err != nil {
			return Round{}, err
		}
		orgs = append(orgs, page...)
		if off+200 >= total || len(page) == 0 {
			break
		}
	}
	ids := make([]int64, len(orgs))
	for i, o := range orgs {
		ids[i] = o.ID
	}
	var rec roundRecord
	reports := map[int64]Report{}
	if in.RiskWeighted && len(ids) > 0 {
		var err error
		if reports, err = s.ComplianceOf(ctx, ids, in.On); err != nil {
			return Round{}, err
		}
	}
	for _, id := range ids {
		risk := 1
		if r, ok := reports[id]; ok && !r.Compliant() {
			risk = 3
		}
		rec.Targets = append(rec.Targets, Target{ID: id, Risk: risk})
	}
	users, err := s.inspectorPool(ctx, in.RegionCode)
	if err != nil {
		return Round{}, err
	}
	conflicts := map[int64][]int64{}
	rows, err := s.db.Query(ctx, `SELECT user_id, organisation_id FROM audit_inspector_conflicts`)
	if err != nil {
		return Round{}, err
	}
	var uid, oid int64
	if _, err := pgx.ForEachRow(rows, []any{&uid, &oid}, func() error { conflicts[uid] = append(conflicts[uid], oid); return nil }); err != nil {
		return Round{}, err
	}
	for _, u := range users {
		rec.Inspectors = append(rec.Inspectors, Inspector{ID: u.ID, Conflicts: conflicts[u.ID]})
	}
	count := in.Count
	if count == 0 {
		count = CountForShare(in.Share, len(rec.Targets))
	}
	if count > len(rec.Targets) {
		return Round{}, failure.Field("count", "audits.draw_invalid")
	}
	res, err := Draw(DrawInput{Seed: in.Seed, Targets: rec.Targets, Inspectors: rec.Inspectors, Count: count, PerInspection: in.PerInspection})
	if err != nil {
		return Round{}, err
	}
	r := Round{RegionCode: in.RegionCode, Name: in.Name, Seed: in.Seed, Count: count, PerInspection: in.PerInspection,
		RiskWeighted: in.RiskWeighted, InputDigest: res.InputDigest, Assignments: res.Assignments}
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		input, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO audit_rounds (region_code, name, seed, target_count, per_inspection, risk_weighted, input, input_digest, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id, created_at`,
			r.RegionCode, r.Name, int64(r.Seed), r.Count, r.PerInspection, r.RiskWeighted, input, r.InputDigest, actorID).Scan(&r.ID, &r.CreatedAt)
		if _, bad := pg.HasCode(err, pg.CodeForeignKeyViolation); bad {
			return failure.Field("region_code", "accounts.region_not_found")
		}
		if err != nil {
			return err
		}
		for _, a := range r.Assignments {
			var inspID int64
			if err := tx.QueryRow(ctx, `INSERT INTO audit_inspections (round_id, organisation_id) VALUES ($1, $2) RETURNING id`, r.ID, a.TargetID).Scan(&inspID); err != nil {
				return err
			}
			for _, u := range a.Inspectors {
				if _, err := tx.Exec(ctx, `INSERT INTO audit_inspection_inspectors (inspection_id, user_id) VALUES ($1, $2)`, inspID, u); err != nil {
					return err
				}
			}
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "inspection_round.draw", Subject: fmt.Sprintf("inspection_round:%d", r.ID),
			Details: map[string]any{"seed": fmt.Sprint(r.Seed), "input_digest": r.InputDigest, "targets": len(rec.Targets), "inspectors": len(rec.Inspectors), "drawn": len(r.Assignments)}})
	})
	return r, err
}

// inspectorPool lists the inspector register of a region: users holding the inspector role in the
// region, in a region above it (3301 covers 330106) or in a district below it.
func (s *Service) inspectorPool(ctx context.Context, region string) ([]accounts.User, error) {
	if len(region) < 2 {
		return nil, failure.Field("region_code", "accounts.region_not_found")
	}
	var out []accounts.User
	for off := 0; ; off += 200 {
		page, total, err := s.accounts.ListUsers(ctx, accounts.UserFilter{Role: accounts.RoleInspector, Domain: accounts.RegionDomain(region[:2]), Limit: 200, Offset: off})
		if err != nil {
			return nil, err
		}
		for _, u := range page {
			grants, err := s.accounts.GrantsOf(ctx, u.ID)
			if err != nil {
				return nil, err
			}
			for _, g := range grants {
				r, ok := strings.CutPrefix(g.Domain, "region:")
				if ok && g.Role == accounts.RoleInspector && (accounts.Contains(r, region) || accounts.Contains(region, r)) {
					out = append(out, u)
					break
				}
			}
		}
		if off+200 >= total || len(page) == 0 {
			break
		}
	}
	return out, nil
}

// RoundByID loads a round and its drawn inspections.
func (s *Service) RoundByID(ctx context.Context, id int64) (Round, error) {
	list, err := s.rounds(ctx, `id = $1`, id)
	if err != nil {
		return Round{}, err
	}
	if len(list) == 0 {
		return Round{}, ErrNotFound
	}
	return list[0], nil
}

// Rounds lists the rounds of a region and the regions below it, newest first (the latest 100), in
// two queries whatever their number.
func (s *Service) Rounds(ctx context.Context, region string) ([]Round, error) {
	return s.rounds(ctx, `starts_with(region_code, $1) ORDER BY id DESC LIMIT 100`, region)
}

// rounds reads the rounds a condition selects, then the drawn inspections of all of them at once.
func (s *Service) rounds(ctx context.Context, where string, args ...any) ([]Round, error) {
	rows, err := s.db.Query(ctx, `SELECT id, region_code, name, seed, target_count, per_inspection, risk_weighted, input_digest, created_at
		FROM audit_rounds WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Round, error) {
		var r Round
		var seed int64
		err := row.Scan(&r.ID, &r.RegionCode, &r.Name, &seed, &r.Count, &r.PerInspection, &r.RiskWeighted, &r.InputDigest, &r.CreatedAt)
		r.Seed, r.Assignments = uint64(seed), []Assignment{}
		return r, err
	})
	if err != nil || len(list) == 0 {
		return list, err
	}
	ids := make([]int64, len(list))
	at := make(map[int64]int, len(list))
	for i, r := range list {
		ids[i], at[r.ID] = r.ID, i
	}
	rows, err = s.db.Query(ctx, `SELECT i.round_id, i.organisation_id, array_agg(ii.user_id ORDER BY ii.user_id) FROM audit_inspections i
		JOIN audit_inspection_inspectors ii ON ii.inspection_id = i.id WHERE i.round_id = ANY($1)
		GROUP BY i.round_id, i.organisation_id ORDER BY i.round_id, i.organisation_id`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var round int64
		var a Assignment
		if err := rows.Scan(&round, &a.TargetID, &a.Inspectors); err != nil {
			return nil, err
		}
		list[at[round]].Assignments = append(list[at[round]].Assignments, a)
	}
	return list, rows.Err()
}

// ReplayRound runs a stored round's draw again from its recorded seed and inputs and reports
// whether it gives the stored result and digest.
func (s *Service) ReplayRound(ctx context.Context, id int64) (bool, error) {
	r, err := s.RoundByID(ctx, id)
	if err != nil {
		return false, err
	}
	var raw []byte
	if err := s.db.QueryRow(ctx, `SELECT input FROM audit_rounds WHERE id = $1`, id).Scan(&raw); err != nil {
		return false, err
	}
	var rec roundRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return false, err
	}
	res, err := Draw(DrawInput{Seed: r.Seed, Targets: rec.Targets, Inspectors: rec.Inspectors, Count: r.Count, PerInspection: r.PerInspection})
	if err != nil {
		return false, err
	}
	if res.InputDigest != r.InputDigest || len(res.Assignments) != len(r.Assignments) {
		return false, nil
	}
	for i := range res.Assignments {
		a, b := res.Assignments[i], r.Assignments[i]
		if a.TargetID != b.TargetID || fmt.Sprint(a.Inspectors) != fmt.Sprint(b.Inspectors) {
			return false, nil
		}
	}
	return true, nil
}

// AddConflict records that an inspector must not inspect an institution.
func (s *Service) AddConflict(ctx context.Context, actorID, userID, orgID int64, reason string) error {
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO audit_inspector_conflicts (user_id, organisation_id, reason) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, userID, orgID, reason); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "inspector.conflict", Subject: fmt.Sprintf("user:%d", userID),
			Details: map[string]any{"organisation_id": orgID}})
	})
}

// Inspection is one institution's on-site inspection.
type Inspection struct {
	ID             int64
	RoundID        int64
	RoundName      string
	OrganisationID int64
	Status         string // open, signed, finished
	Passed         *bool
	FinishedAt     *time.Time
	Summary        Summary
	Inspectors     []Signature
	Scans          []Scan
	Headcounts     map[int64]Headcount
	Findings       []Finding
	Revision       int64             // counts the changes (workflow.go)
	Snapshot       *Assessment       // frozen by the first signature
	SnapshotAt     *time.Time        // when
	Absences       map[int64]Absence // by roster id
	Addenda        []Addendum        // corrections after finishing
}

// Signature is an inspector of the inspection and when they signed.
type Signature struct {
	UserID   int64
	SignedAt *time.Time
}

// Headcount is the day's count in one class.
type Headcount struct {
	ClassID    int64
	Children   int
	Caregivers int
}

// Finding is a note of the inspection.
type Finding struct {
	ID        int64
	Severity  string
	Note      string
	CreatedBy int64
	CreatedAt time.Time
	Photos    []PhotoMeta
}

// Scan is one certificate checked on site.
type Scan struct {
	ID         int64
	ClientID   string
	Code       string
	RosterID   int64
	Verified   bool
	Offline    bool // read offline, checked on the phone from the signed token, sent later
	Result     ScanResult
	ScannedAt  time.Time
	ReceivedAt time.Time
}

// ScanResult says what a scanned code is and what the policy decides for its holder's posts.
type ScanResult struct {
	Known       bool        `json:"known"`    // the code resolved to a certificate
	Verified    bool        `json:"verified"` // online through the certificates domain
	OnRoster    bool        `json:"on_roster"`
	RosterID    int64       `json:"roster_id,omitempty"`
	Name        string      `json:"name,omitempty"`
	Certificate *Cert       `json:"certificate,omitempty"`
	Decisions   []Decision  `json:"decisions,omitempty"`
	Barred      bool        `json:"barred,omitempty"`
	Classes     []ClassLink `json:"classes,omitempty"`
	// CheckIssues are the person's missing, outdated or adverse background checks at the scan.
	CheckIssues []CheckIssue `json:"check_issues,omitempty"`
}

// ClassLink names the class of a caregiver assignment.
type ClassLink struct {
	Post    string `json:"post"`
	ClassID int64  `json:"class_id"`
}

// Summary is the published result: counts only, never a person.
type Summary struct {
	StaffOnRoster   int            `json:"staff_on_roster"`
	StaffChecked    int            `json:"staff_checked"`
	PostsChecked    int            `json:"posts_checked"`
	PostsQualified  int            `json:"posts_qualified"`
	ClassesCounted  int            `json:"classes_counted"`
	ClassesInRatio  int            `json:"classes_in_ratio"`
	Findings        map[string]int `json:"findings"`
	UnknownCodes    int            `json:"unknown_codes"`
	RequiredMissing int            `json:"required_posts_missing"`
	StaffAbsent     int            `json:"staff_absent"`
	// CertificatesNotValid counts the roster's certificates found expired, suspended or revoked.
	CertificatesNotValid int `json:"certificates_not_valid"`
}

// Inspection errors.
var errBadClientID = failure.Field("client_id", "audits.client_id_invalid")

var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// InspectionsFor lists the inspections assigned to an inspector, open first.
func (s *Service) InspectionsFor(ctx context.Context, userID int64) ([]Inspection, error) {
	rows, err := s.db.Query(ctx, `SELECT i.id FROM audit_inspections i JOIN audit_inspection_inspectors ii ON ii.inspection_id = i.id
		WHERE ii.user_id = $1 ORDER BY i.status = 'finished', i.id DESC LIMIT 200`, userID)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	out := make([]Inspection, 0, len(ids))
	for _, id := range ids {
		x, err := s.Inspection(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// Inspection loads an inspection with its inspectors, scans, head counts and findings.
func (s *Service) Inspection(ctx context.Context, id int64) (Inspection, error) {
	var x Inspection
	var summary, snap []byte
	err := s.db.QueryRow(ctx, `SELECT i.id, i.round_id, r.name, i.organisation_id, i.status, i.passed, i.finished_at, i.summary, i.revision, i.snapshot, i.snapshot_at
		FROM audit_inspections i JOIN audit_rounds r ON r.id = i.round_id WHERE i.id = $1`, id).
		Scan(&x.ID, &x.RoundID, &x.RoundName, &x.OrganisationID, &x.Status, &x.Passed, &x.FinishedAt, &summary, &x.Revision, &snap, &x.SnapshotAt)
	if pg.IsNoRows(err) {
		return x, ErrNotFound
	}
	if err != nil {
		return x, err
	}
	if err := json.Unmarshal(summary, &x.Summary); err != nil {
		return x, err
	}
	if err := s.loadWorkflow(ctx, &x, snap); err != nil {
		return x, err
	}
	rows, err := s.db.Query(ctx, `SELECT user_id, signed_at FROM audit_inspection_inspectors WHERE inspection_id = $1 ORDER BY user_id`, id)
	if err != nil {
		return x, err
	}
	if x.Inspectors, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Signature, error) {
		var sg Signature
		return sg, r.Scan(&sg.UserID, &sg.SignedAt)
	}); err != nil {
		return x, err
	}
	rows, err = s.db.Query(ctx, `SELECT id, client_id, code, coalesce(roster_id, 0), verified, offline, result, scanned_at, received_at FROM audit_scans WHERE inspection_id = $1 ORDER BY scanned_at, id`, id)
	if err != nil {
		return x, err
	}
	if x.Scans, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Scan, error) {
		var sc Scan
		var res []byte
		if err := r.Scan(&sc.ID, &sc.ClientID, &sc.Code, &sc.RosterID, &sc.Verified, &sc.Offline, &res, &sc.ScannedAt, &sc.ReceivedAt); err != nil {
			return sc, err
		}
		return sc, json.Unmarshal(res, &sc.Result)
	}); err != nil {
		return x, err
	}
	x.Headcounts = map[int64]Headcount{}
	rows, err = s.db.Query(ctx, `SELECT class_id, children, caregivers FROM audit_headcounts WHERE inspection_id = $1`, id)
	if err != nil {
		return x, err
	}
	var h Headcount
	if _, err := pgx.ForEachRow(rows, []any{&h.ClassID, &h.Children, &h.Caregivers}, func() error { x.Headcounts[h.ClassID] = h; return nil }); err != nil {
		return x, err
	}
	rows, err = s.db.Query(ctx, `SELECT id, severity, note, created_by, created_at FROM audit_findings WHERE inspection_id = $1 ORDER BY id`, id)
	if err != nil {
		return x, err
	}
	if x.Findings, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Finding, error) {
		var fd Finding
		return fd, r.Scan(&fd.ID, &fd.Severity, &fd.Note, &fd.CreatedBy, &fd.CreatedAt)
	}); err != nil {
		return x, err
	}
	photos, err := s.findingPhotos(ctx, s.db, id)
	for i := range x.Findings {
		x.Findings[i].Photos = photos[x.Findings[i].ID]
	}
	return x, err
}

// assigned checks that the user inspects this inspection and (for writes) that it is open, and locks
// the inspection's row until tx ends: writes to an inspection take turns, and signing waits for them.
func (s *Service) assigned(ctx context.Context, tx pgx.Tx, userID, inspectionID int64, forWrite bool) (orgID int64, err error) {
	return s.checkAssigned(ctx, tx, true, userID, inspectionID, forWrite)
}

// checkAssigned is assigned without the lock when lock is false: the check made before a write reads
// what it needs (certificates, roster) outside its transaction, and repeated under the lock.
func (s *Service) checkAssigned(ctx context.Context, db pg.DB, lock bool, userID, inspectionID int64, forWrite bool) (orgID int64, err error) {
	var status string
	var mine bool
	q := `SELECT i.organisation_id, i.status, EXISTS (SELECT 1 FROM audit_inspection_inspectors WHERE inspection_id = i.id AND user_id = $2)
		FROM audit_inspections i WHERE i.id = $1`
	if lock {
		q += ` FOR UPDATE`
	}
	err = db.QueryRow(ctx, q, inspectionID, userID).Scan(&orgID, &status, &mine)
	if pg.IsNoRows(err) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, err
	}
	if !mine {
		return 0, ErrNotAssigned
	}
	if forWrite {
		switch status {
		case StatusSigned:
			return 0, ErrFrozen // withdraw the signature first (workflow.go)
		case StatusOpen:
		default:
			return 0, ErrClosed
		}
		// Every change counts, so that a signature made meanwhile can tell.
		if lock {
			if _, err := db.Exec(ctx, `UPDATE audit_inspections SET revision = revision + 1 WHERE id = $1`, inspectionID); err != nil {
				return 0, err
			}
		}
	}
	return orgID, nil
}

// IsInspector reports whether the user is one of the inspection's inspectors.
func (s *Service) IsInspector(ctx context.Context, userID, inspectionID int64) (bool, error) {
	var ok bool
	err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM audit_inspection_inspectors WHERE inspection_id = $1 AND user_id = $2)`, inspectionID, userID).Scan(&ok)
	return ok, err
}

// ScanInput is one code read on site, possibly offline and sent later.
type ScanInput struct {
	ClientID  string    // generated by the phone; a resend with the same id is stored once
	Code      string    // what the QR code or the typed code carries
	ScannedAt time.Time // when it was read (the phone's clock)
	Offline   bool      // read while offline and queued on the phone
}

var codeInURL = regexp.MustCompile(`/v/([A-Za-z0-9_-]+)`)

// RecordScan resolves a code, matches it to the roster, runs the policy for the holder's posts and
// stores the result. It returns the stored scan and whether it is new (false for a resend).
func (s *Service) RecordScan(ctx context.Context, userID, inspectionID int64, in ScanInput) (Scan, bool, error) {
	if !clientIDPattern.MatchString(in.ClientID) {
		return Scan{}, false, errBadClientID
	}
	code := strings.TrimSpace(in.Code)
	if m := codeInURL.FindStringSubmatch(code); m != nil {
		code = m[1] // a verification link from a certificate QR code
	}
	if code == "" || len(code) > 512 {
		return Scan{}, false, failure.Field("code", "audits.code_required")
	}
	if in.ScannedAt.IsZero() || in.ScannedAt.After(time.Now().Add(time.Hour)) {
		in.ScannedAt = time.Now()
	}
	// Everything the scan needs from elsewhere (the certificate from the certificates domain, the
	// roster and the policy's decision) is read first, holding no lock and no transaction; only the
	// insert runs under the inspection's row lock. Resolving under that lock made every other scan
	// of the inspection wait for a lock whose holder waited for a connection they held: the whole
	// server froze (docs/architecture.md, Transactions and locks).
	orgID, err := s.checkAssigned(ctx, s.db, false, userID, inspectionID, true)
	if err != nil {
		return Scan{}, false, err
	}
	if sc, err := s.scanByClientID(ctx, s.db, inspectionID, in.ClientID); err == nil || !pg.IsNoRows(err) {
		return sc, false, err // a resend: stored once
	}
	ref := fmt.Sprintf("inspection:%d", inspectionID)
	if in.Offline {
		ref += ":offline"
	}
	result, err := s.resolve(ctx, s.db, orgID, code, ref, in.ScannedAt)
	if err != nil {
		return Scan{}, false, err
	}
	res, err := json.Marshal(result)
	if err != nil {
		return Scan{}, false, err
	}
	var sc Scan
	created := false
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		created = false
		if _, err := s.assigned(ctx, tx, userID, inspectionID, true); err != nil {
			return err
		}
		var err error
		if sc, err = s.scanByClientID(ctx, tx, inspectionID, in.ClientID); err == nil || !pg.IsNoRows(err) {
			return err // the same scan sent twice at once: the first one stored it
		}
		sc = Scan{ClientID: in.ClientID, Code: code, RosterID: result.RosterID, Verified: result.Verified, Offline: in.Offline, Result: result, ScannedAt: in.ScannedAt}
		var roster any
		if result.RosterID != 0 {
			roster = result.RosterID
		}
		if err := tx.QueryRow(ctx, `INSERT INTO audit_scans (inspection_id, client_id, code, roster_id, verified, offline, result, scanned_by, scanned_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id, received_at`,
			inspectionID, in.ClientID, code, roster, result.Verified, in.Offline, res, userID, in.ScannedAt).Scan(&sc.ID, &sc.ReceivedAt); err != nil {
			return err
		}
		created = true
		return nil
	})
	return sc, created, err
}

// scanByClientID returns the stored scan with this client id, or pgx.ErrNoRows.
func (s *Service) scanByClientID(ctx context.Context, db pg.DB, inspectionID int64, clientID string) (Scan, error) {
	var sc Scan
	var res []byte
	err := db.QueryRow(ctx, `SELECT id, client_id, code, coalesce(roster_id, 0), verified, offline, result, scanned_at, received_at FROM audit_scans
		WHERE inspection_id = $1 AND client_id = $2`, inspectionID, clientID).
		Scan(&sc.ID, &sc.ClientID, &sc.Code, &sc.RosterID, &sc.Verified, &sc.Offline, &res, &sc.ScannedAt, &sc.ReceivedAt)
	if err != nil {
		return Scan{}, err
	}
	return sc, json.Unmarshal(res, &sc.Result)
}

// resolve finds the certificate behind a code (the certificates domain's, else one the institution
// recorded) and decides the holder's posts. ref is logged with the certificates' verification. It
// asks the certificates domain, so it must run outside any transaction.
func (s *Service) resolve(ctx context.Context, db querier, orgID int64, code, ref string, on time.Time) (ScanResult, error) {
	var res ScanResult
	var personID int64
	cert, pid, err := s.certs.ByCode(ctx, code, ref)
	switch {
	case err == nil:
		res.Known, res.Verified, res.Certificate, personID = true, true, &cert, pid
	case failure.As(err) == nil || failure.As(err).Kind != failure.NotFound:
		return res, err
	}
	if !res.Known {
		var c Cert
		var exp *time.Time
		err := db.QueryRow(ctx, `SELECT person_id, number, occupation, level, expires_on FROM audit_external_certificates
			WHERE organisation_id = $1 AND upper(number) = upper($2) LIMIT 1`, orgID, code).Scan(&personID, &c.Number, &c.Occupation, &c.Level, &exp)
		switch {
		case err == nil:
			c.Status = CertValid
			if exp != nil {
				c.ExpiresOn = *exp
				if exp.Before(day(on)) {
					c.Status = CertExpired
				}
			}
			res.Known, res.Certificate = true, &c
		case !pg.IsNoRows(err):
			return res, err
		}
	}
	if !res.Known {
		return res, nil
	}
	w, err := s.load(ctx, db, []int64{orgID}, on)
	if err != nil {
		return res, err
	}
	for _, m := range w.members[orgID] {
		if m.PersonID != personID {
			continue
		}
		res.OnRoster, res.RosterID, res.Name = true, m.ID, m.Name
		f := w.facts(m, day(on))
		res.Barred = f.Barred
		for _, a := range w.posts[m.ID] {
			d, err := s.Policy().Decide(a.Post, f)
			if err != nil {
				return res, err
			}
			res.Decisions = append(res.Decisions, d)
			if a.ClassID != 0 {
				res.Classes = append(res.Classes, ClassLink{Post: a.Post, ClassID: a.ClassID})
			}
		}
		res.CheckIssues = checkIssues(m, w.checks[m.ID], day(on), policyChecks(res.Decisions))
	}
	return res, nil
}

// SetHeadcount records the day's count of children and caregivers present in a class.
func (s *Service) SetHeadcount(ctx context.Context, userID, inspectionID int64, h Headcount) error {
	if h.Children < 0 || h.Children > 1000 || h.Caregivers < 0 || h.Caregivers > 100 {
		return failure.Field("children", "audits.children_invalid")
	}
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		orgID, err := s.assigned(ctx, tx, userID, inspectionID, true)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO audit_headcounts (inspection_id, class_id, children, caregivers)
			SELECT $1, id, $3, $4 FROM audit_classes WHERE id = $2 AND organisation_id = $5
			ON CONFLICT (inspection_id, class_id) DO UPDATE SET children = excluded.children, caregivers = excluded.caregivers`,
			inspectionID, h.ClassID, h.Children, h.Caregivers, orgID)
		if err == nil && tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return err
	})
}

// Severities of findings.
var Severities = []string{"info", "minor", "major"}

// AddFinding records a finding with its note and any photos taken with it; a bad photo records
// nothing.
func (s *Service) AddFinding(ctx context.Context, userID, inspectionID int64, severity, note string, photos ...[]byte) (Finding, error) {
	fd := Finding{Severity: severity, Note: strings.TrimSpace(note), CreatedBy: userID}
	var f failure.Fields
	if fd.Note == "" || len([]rune(fd.Note)) > 2000 {
		f.Add("note", "audits.note_invalid")
	}
	if !contains(Severities, severity) {
		f.Add("severity", "audits.severity_invalid")
	}
	if err := f.Err(); err != nil {
		return fd, err
	}
	if err := s.Printable("note", fd.Note); err != nil {
		return fd, err
	}
	types := make([]string, len(photos))
	for i, p := range photos {
		ct, err := DetectPhotoType(p)
		if err != nil {
			return fd, err
		}
		types[i] = ct
	}
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := s.assigned(ctx, tx, userID, inspectionID, true); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO audit_findings (inspection_id, severity, note, created_by) VALUES ($1, $2, $3, $4) RETURNING id, created_at`,
			inspectionID, fd.Severity, fd.Note, userID).Scan(&fd.ID, &fd.CreatedAt); err != nil {
			return err
		}
		var err error
		fd.Photos, err = s.insertPhotos(ctx, tx, userID, inspectionID, fd.ID, photos, types)
		return err
	})
	return fd, err
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// PublicResult is a published inspection result (一公开): the institution and counts, no person.
type PublicResult struct {
	InspectionID   int64
	RoundName      string
	OrganisationID int64
	FinishedAt     time.Time
	Passed         bool
	Summary        Summary
}

// PublicResults lists finished inspections, newest first.
func (s *Service) PublicResults(ctx context.Context, limit int) ([]PublicResult, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	list, _, err := s.PublicSearch(ctx, PublicFilter{Limit: limit})
	return list, err
}

// PublicFilter narrows the published results: to some institutions (their ids, found by name or
// district in accounts), one page at a time.
type PublicFilter struct {
	Institutions []int64 // nil: every institution; empty but not nil: none
	Limit        int     // 1–200 (default 50)
	Offset       int
}

// PublicSearch pages through finished inspections, newest first, with the number that match.
func (s *Service) PublicSearch(ctx context.Context, f PublicFilter) ([]PublicResult, int, error) {
	if f.Institutions != nil && len(f.Institutions) == 0 {
		return nil, 0, nil
	}
	limit := f.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	conds, args := []string{"i.status = 'finished'"}, []any{}
	if f.Institutions != nil {
		args = append(args, f.Institutions)
		conds = append(conds, fmt.Sprintf("i.organisation_id = ANY($%d)", len(args)))
	}
	where := strings.Join(conds, " AND ")
	var total int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM audit_inspections i WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	args = append(args, limit, max(f.Offset, 0))
	rows, err := s.db.Query(ctx, fmt.Sprintf(`SELECT i.id, r.name, i.organisation_id, i.finished_at, i.passed, i.summary FROM audit_inspections i
		JOIN audit_rounds r ON r.id = i.round_id WHERE %s ORDER BY i.finished_at DESC, i.id DESC LIMIT $%d OFFSET $%d`, where, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PublicResult, error) {
		var p PublicResult
		var raw []byte
		if err := r.Scan(&p.InspectionID, &p.RoundName, &p.OrganisationID, &p.FinishedAt, &p.Passed, &raw); err != nil {
			return p, err
		}
		return p, json.Unmarshal(raw, &p.Summary)
	})
	return list, total, err
}
