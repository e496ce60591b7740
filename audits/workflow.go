package audits

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"

	"shanyu/accounts"
	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// Inspection states: open (being done) → signed (the first signature froze a snapshot) → finished
// (every inspector signed; the result is public). "Ready" is not stored: it is what Assess says.
const (
	StatusOpen     = "open"
	StatusSigned   = "signed"
	StatusFinished = "finished"
)

// Workflow errors.
var (
	ErrFrozen       = failure.New(failure.Conflict, "audits.inspection_signed") // signed: withdraw to change
	ErrChanged      = failure.New(failure.Conflict, "audits.inspection_changed")
	ErrNotSigned    = failure.New(failure.Conflict, "audits.inspection_not_signed")
	ErrNotFinished  = failure.New(failure.Conflict, "audits.inspection_not_finished")
	ErrNotInspector = failure.New(failure.Invalid, "audits.not_an_inspector")
)

// errNotReady names what still stands between an inspection and its first signature.
func errNotReady(m Missing) error {
	switch {
	case len(m.Uncounted) == 0:
		return failure.New(failure.Conflict, "audits.not_ready_roster", len(m.Unchecked), strings.Join(m.Unchecked, "、"))
	case len(m.Unchecked) == 0:
		return failure.New(failure.Conflict, "audits.not_ready_classes", len(m.Uncounted), strings.Join(m.Uncounted, "、"))
	}
	return failure.New(failure.Conflict, "audits.not_ready", len(m.Unchecked), strings.Join(m.Unchecked, "、"), len(m.Uncounted), strings.Join(m.Uncounted, "、"))
}

// Assessment is an inspection judged at one moment, from the roster, posts, classes and certificates
// as they stand then (certificates by their live status) and what the inspectors recorded. Before the
// first signature the page shows it live; the first signature freezes it, and the report, the public
// result and the page print that same frozen assessment.
type Assessment struct {
	At           time.Time
	Staff        int
	People       []PersonCheck
	Classes      []ClassCount
	MissingPosts []string
	Findings     []Finding // without photos (those are printed from their table)
	Unknown      []UnknownScan
	CertProblems []CertProblem
	Missing      Missing
	Kind         string // centre or home_point
	Capacity     int    // a home point's limit on children in all
	PerCarer     int    // and its children per carer
	OverCapacity bool   // a home point counted more children than that
	Passed       bool
	Faults       []string // why not passed: posts_missing, unqualified, barred, check_record_found, checks_required, certificates, unknown_codes, classes, home_point_capacity, major_findings
}

// PersonCheck is one roster member as the inspection saw them.
type PersonCheck struct {
	RosterID     int64
	Name         string
	IDLast4      string
	Scanned      bool
	Absent       bool
	AbsentReason string
	Presented    []Cert // the certificates scanned on site, with their status at the moment of the assessment
	Barred       bool
	Posts        []PostCheck
	Checks       []Check      // the latest background check of each kind
	CheckIssues  []CheckIssue // missing, outdated or adverse checks
}

// PostCheck is the decision for one post of a person.
type PostCheck struct {
	Post      string
	ClassName string
	Decision  Decision
}

// ClassCount is one class against its type, with the day's count.
type ClassCount struct {
	ClassID      int64
	Name, Type   string
	TypeName     string
	Counted      bool
	Children     int // counted on site
	Caregivers   int // present on site
	MaxChildren  int
	PerCaregiver int // the rule: at most this many children per caregiver
	Needed       int
	OverSize     bool
	UnderStaffed bool
}

// Observed is the ratio counted on site as "1:n" (children per caregiver, rounded up), or "" with no
// caregiver present.
func (c ClassCount) Observed() string {
	if c.Caregivers == 0 {
		return ""
	}
	return fmt.Sprintf("1:%d", (c.Children+c.Caregivers-1)/c.Caregivers)
}

// UnknownScan is a code read on site that led to no one on the roster.
type UnknownScan struct {
	Code string
	Cert *Cert // the certificate, when the code resolved to one of a person off the roster
}

// Missing is what keeps an inspection from being ready to sign.
type Missing struct {
	Unchecked []string // roster members neither scanned nor marked absent
	Uncounted []string // classes without a head count
}

// Ready is true when every roster member is scanned or marked absent and every class counted.
func (m Missing) Ready() bool { return len(m.Unchecked) == 0 && len(m.Uncounted) == 0 }

// Summary is the published counts of an assessment.
func (a Assessment) Summary() Summary {
	s := Summary{StaffOnRoster: a.Staff, Findings: map[string]int{}, RequiredMissing: len(a.MissingPosts), UnknownCodes: len(a.Unknown),
		CertificatesNotValid: len(a.CertProblems)}
	for _, p := range a.People {
		if p.Scanned {
			s.StaffChecked++
		}
		if p.Absent && !p.Scanned {
			s.StaffAbsent++
		}
		for _, pc := range p.Posts {
			s.PostsChecked++
			if pc.Decision.Qualified {
				s.PostsQualified++
			}
		}
	}
	for _, c := range a.Classes {
		if c.Counted {
			s.ClassesCounted++
			if !c.OverSize && !c.UnderStaffed {
				s.ClassesInRatio++
			}
		}
	}
	for _, f := range a.Findings {
		s.Findings[f.Severity]++
	}
	return s
}

// Absence is a roster member marked absent with a reason.
type Absence struct {
	RosterID   int64
	Reason     string
	RecordedBy int64
	RecordedAt time.Time
}

// Addendum is a signed correction after an inspection finished; it references the report.
type Addendum struct {
	ID           int64
	Note         string
	ReportSHA256 []byte
	CreatedBy    int64
	CreatedAt    time.Time
}

// Assess judges an inspection now, as a first signature would freeze it.
func (s *Service) Assess(ctx context.Context, x Inspection, now time.Time) (Assessment, error) {
	a := Assessment{At: now}
	w, err := s.load(ctx, s.db, []int64{x.OrganisationID}, now)
	if err != nil {
		return a, err
	}
	rep, err := s.report(s.Policy(), w, x.OrganisationID, now)
	if err != nil {
		return a, err
	}
	a.Staff, a.MissingPosts, a.CertProblems = rep.Staff, rep.MissingPosts, rep.CertProblems
	a.Findings = make([]Finding, 0, len(x.Findings))
	for _, f := range x.Findings {
		f.Photos = nil
		a.Findings = append(a.Findings, f)
	}
	classNames := map[int64]string{}
	for _, c := range w.classes[x.OrganisationID] {
		classNames[c.ID] = c.Name
	}
	posts := map[int64][]PostCheck{}
	for _, ac := range rep.Assignments {
		posts[ac.RosterID] = append(posts[ac.RosterID], PostCheck{Post: ac.Post, ClassName: classNames[ac.ClassID], Decision: ac.Decision})
	}
	scans := map[int64][]Scan{}
	for _, sc := range x.Scans {
		scans[sc.RosterID] = append(scans[sc.RosterID], sc)
	}
	onRoster := map[int64]bool{}
	for _, m := range w.members[x.OrganisationID] {
		onRoster[m.ID] = true
		p := PersonCheck{RosterID: m.ID, Name: m.Name, IDLast4: m.IDLast4, Barred: w.barred[m.PersonID], Posts: posts[m.ID],
			CheckIssues: checkIssues(m, w.checks[m.ID], now, policyChecks(decisionsOf(posts[m.ID])))}
		latest := latestChecks(w.checks[m.ID])
		for _, k := range CheckKinds {
			if c, ok := latest[k]; ok {
				p.Checks = append(p.Checks, c)
			}
		}
		if ab, ok := x.Absences[m.ID]; ok {
			p.Absent, p.AbsentReason = true, ab.Reason
		}
		seen := map[string]bool{}
		for _, sc := range scans[m.ID] {
			p.Scanned = true
			c := sc.Result.Certificate
			if c == nil || seen[strings.ToUpper(c.Number)] {
				continue
			}
			seen[strings.ToUpper(c.Number)] = true
			cur := *c
			for _, held := range w.certs[m.PersonID] { // the status now, not the one at the scan
				if strings.EqualFold(held.Number, c.Number) {
					cur = held
				}
			}
			p.Presented = append(p.Presented, cur)
		}
		if !p.Scanned && !p.Absent {
			a.Missing.Unchecked = append(a.Missing.Unchecked, m.Name)
		}
		a.People = append(a.People, p)
	}
	for _, sc := range x.Scans {
		if sc.Result.Known && sc.Result.OnRoster && onRoster[sc.RosterID] {
			continue
		}
		a.Unknown = append(a.Unknown, UnknownScan{Code: sc.Code, Cert: sc.Result.Certificate})
	}
	a.Kind, a.Capacity, a.PerCarer = rep.Kind, rep.Capacity, rep.PerCarer
	counted := 0
	for _, c := range w.classes[x.OrganisationID] {
		ct := w.classType(x.OrganisationID, c.Type)
		cc := ClassCount{ClassID: c.ID, Name: c.Name, Type: c.Type, TypeName: ct.Name, MaxChildren: ct.MaxChildren, PerCaregiver: ct.ChildrenPerCaregiver}
		if h, ok := x.Headcounts[c.ID]; ok {
			chk := CheckClass(ct, h.Children, h.Caregivers)
			cc.Counted, cc.Children, cc.Caregivers, cc.Needed, cc.OverSize, cc.UnderStaffed = true, h.Children, h.Caregivers, chk.NeededCaregivers, chk.OverSize, chk.UnderStaffed
			counted += h.Children
		} else {
			a.Missing.Uncounted = append(a.Missing.Uncounted, c.Name)
		}
		a.Classes = append(a.Classes, cc)
	}
	a.OverCapacity = a.Kind == KindHomePoint && counted > a.Capacity
	a.Faults = a.faults()
	a.Passed = len(a.Faults) == 0
	return a, nil
}

func decisionsOf(pcs []PostCheck) []Decision {
	out := make([]Decision, 0, len(pcs))
	for _, pc := range pcs {
		out = append(out, pc.Decision)
	}
	return out
}

// faults is the one verdict: every page, report and public result prints it from here.
func (a Assessment) faults() []string {
	var out []string
	add := func(cond bool, f string) {
		if cond {
			out = append(out, f)
		}
	}
	unqualified, barred, classes, major, records, required := false, false, false, false, false, false
	for _, p := range a.People {
		barred = barred || p.Barred
		for _, ci := range p.CheckIssues {
			records = records || ci.Reason == "record_found"
			required = required || (ci.Required && ci.Reason != "record_found")
		}
		for _, pc := range p.Posts {
			unqualified = unqualified || !pc.Decision.Qualified
		}
	}
	for _, c := range a.Classes {
		classes = classes || c.OverSize || c.UnderStaffed
	}
	for _, f := range a.Findings {
		major = major || f.Severity == "major"
	}
	add(len(a.MissingPosts) > 0, "posts_missing")
	add(unqualified, "unqualified")
	add(barred, "barred")
	add(records, "check_record_found")
	add(required, "checks_required")
	add(len(a.CertProblems) > 0, "certificates")
	add(len(a.Unknown) > 0, "unknown_codes")
	add(classes, "classes")
	add(a.OverCapacity, "home_point_capacity")
	add(major, "major_findings")
	return out
}

// View is what an inspection page shows: the frozen snapshot once signed, else the live assessment.
func (s *Service) View(ctx context.Context, x Inspection, now time.Time) (Assessment, error) {
	if x.Snapshot != nil {
		return *x.Snapshot, nil
	}
	return s.Assess(ctx, x, now)
}

// Sign records an inspector's signature. The first signature needs a ready inspection and freezes
// its assessment; a later one countersigns that snapshot, and when every inspector has signed the
// inspection is finished and its result (counts only) becomes public.
func (s *Service) Sign(ctx context.Context, userID, inspectionID int64) (Inspection, error) {
	x, err := s.Inspection(ctx, inspectionID)
	if err != nil {
		return x, err
	}
	if !x.HasInspector(userID) {
		return x, ErrNotAssigned
	}
	switch x.Status {
	case StatusFinished:
		return x, ErrClosed
	case StatusOpen:
		// Judged outside the transaction (the certificates domain answers on its own connections);
		// the revision then tells whether anything moved in between.
		a, err := s.Assess(ctx, x, time.Now())
		if err != nil {
			return x, err
		}
		if !a.Missing.Ready() {
			return x, errNotReady(a.Missing)
		}
		snap, err := json.Marshal(a)
		if err != nil {
			return x, err
		}
		err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `UPDATE audit_inspections SET status = 'signed', snapshot = $3, snapshot_at = $4, revision = revision + 1
				WHERE id = $1 AND status = 'open' AND revision = $2`, inspectionID, x.Revision, snap, a.At)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return ErrChanged
			}
			if _, err := tx.Exec(ctx, `UPDATE audit_inspection_inspectors SET signed_at = now() WHERE inspection_id = $1 AND user_id = $2`, inspectionID, userID); err != nil {
				return err
			}
			return accounts.Audit(ctx, tx, accounts.Event{ActorID: userID, Action: "inspection.sign", Subject: fmt.Sprintf("inspection:%d", inspectionID),
				Details: map[string]any{"revision": x.Revision, "passed": a.Passed}})
		})
		if err != nil {
			return x, err
		}
	case StatusSigned:
		finished := false
		err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
			var status string
			var snap []byte
			if err := tx.QueryRow(ctx, `SELECT status, snapshot FROM audit_inspections WHERE id = $1 FOR UPDATE`, inspectionID).Scan(&status, &snap); err != nil {
				return err
			}
			if status != StatusSigned {
				return ErrChanged
			}
			tag, err := tx.Exec(ctx, `UPDATE audit_inspection_inspectors SET signed_at = now() WHERE inspection_id = $1 AND user_id = $2 AND signed_at IS NULL`, inspectionID, userID)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return ErrSigned
			}
			if err := accounts.Audit(ctx, tx, accounts.Event{ActorID: userID, Action: "inspection.countersign", Subject: fmt.Sprintf("inspection:%d", inspectionID)}); err != nil {
				return err
			}
			var unsigned int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM audit_inspection_inspectors WHERE inspection_id = $1 AND signed_at IS NULL`, inspectionID).Scan(&unsigned); err != nil {
				return err
			}
			if unsigned > 0 {
				return nil
			}
			var a Assessment
			if err := json.Unmarshal(snap, &a); err != nil {
				return err
			}
			sum, err := json.Marshal(a.Summary())
			if err != nil {
				return err
			}
			finished = true
			_, err = tx.Exec(ctx, `UPDATE audit_inspections SET status = 'finished', passed = $2, summary = $3, finished_at = now() WHERE id = $1`, inspectionID, a.Passed, sum)
			return err
		})
		if err != nil {
			return x, err
		}
		if finished {
			s.reportOnFinish(ctx, inspectionID) // the signed report PDF (report.go)
		}
	}
	return s.Inspection(ctx, inspectionID)
}

// Withdraw takes back the signatures of a signed inspection so that it can be changed again; the
// snapshot goes, and the reason is in the audit log.
func (s *Service) Withdraw(ctx context.Context, userID, inspectionID int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 500 {
		return failure.Field("reason", "audits.reason_required")
	}
	if err := s.Printable("reason", reason); err != nil {
		return err
	}
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		var status string
		var mine bool
		err := tx.QueryRow(ctx, `SELECT status, EXISTS (SELECT 1 FROM audit_inspection_inspectors WHERE inspection_id = i.id AND user_id = $2)
			FROM audit_inspections i WHERE id = $1 FOR UPDATE`, inspectionID, userID).Scan(&status, &mine)
		if pg.IsNoRows(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if !mine {
			return ErrNotAssigned
		}
		if status != StatusSigned {
			return ErrNotSigned
		}
		if err := unsign(ctx, tx, inspectionID); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: userID, Action: "inspection.withdraw", Subject: fmt.Sprintf("inspection:%d", inspectionID),
			Details: map[string]any{"reason": reason}})
	})
}

func unsign(ctx context.Context, tx pgx.Tx, inspectionID int64) error {
	if _, err := tx.Exec(ctx, `UPDATE audit_inspections SET status = 'open', snapshot = NULL, snapshot_at = NULL, revision = revision + 1 WHERE id = $1`, inspectionID); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE audit_inspection_inspectors SET signed_at = NULL WHERE inspection_id = $1`, inspectionID)
	return err
}

// MarkAbsent records that a roster member was not met on site, with the reason.
func (s *Service) MarkAbsent(ctx context.Context, userID, inspectionID, rosterID int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 200 {
		return failure.Field("reason", "audits.reason_required")
	}
	if err := s.Printable("reason", reason); err != nil {
		return err
	}
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		orgID, err := s.assigned(ctx, tx, userID, inspectionID, true)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO audit_absences (inspection_id, roster_id, reason, recorded_by)
			SELECT $1, id, $3, $4 FROM audit_roster WHERE id = $2 AND organisation_id = $5
			ON CONFLICT (inspection_id, roster_id) DO UPDATE SET reason = excluded.reason, recorded_by = excluded.recorded_by, recorded_at = now()`,
			inspectionID, rosterID, reason, userID, orgID)
		if err == nil && tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return err
	})
}

// Reassign replaces an inspector of an unfinished inspection (the regulator, with a reason). The
// replaced inspector's signature goes with them; if they had given the first signature, the snapshot
// goes too and the inspection is open again. A signature by someone who stays remains valid, since
// nothing can change after a signature.
func (s *Service) Reassign(ctx context.Context, actorID, inspectionID, fromUser, toUser int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 500 {
		return failure.Field("reason", "audits.reason_required")
	}
	x, err := s.Inspection(ctx, inspectionID)
	if err != nil {
		return err
	}
	if x.Status == StatusFinished {
		return ErrClosed
	}
	if !x.HasInspector(fromUser) {
		return failure.Field("from", "audits.not_assigned")
	}
	if x.HasInspector(toUser) {
		return failure.Field("to", "audits.exists")
	}
	o, err := s.accounts.OrganisationByID(ctx, x.OrganisationID)
	if err != nil {
		return err
	}
	pool, err := s.inspectorPool(ctx, o.RegionCode)
	if err != nil {
		return err
	}
	eligible := false
	for _, u := range pool {
		eligible = eligible || u.ID == toUser
	}
	if !eligible {
		return failure.Field("to", "audits.not_an_inspector")
	}
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		var conflict bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM audit_inspector_conflicts WHERE user_id = $1 AND organisation_id = $2)`, toUser, x.OrganisationID).Scan(&conflict); err != nil {
			return err
		}
		if conflict {
			return failure.Field("to", "audits.inspector_conflict")
		}
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM audit_inspections WHERE id = $1 FOR UPDATE`, inspectionID).Scan(&status); err != nil {
			return err
		}
		if status == StatusFinished {
			return ErrClosed
		}
		var signed *time.Time
		err := tx.QueryRow(ctx, `DELETE FROM audit_inspection_inspectors WHERE inspection_id = $1 AND user_id = $2 RETURNING signed_at`, inspectionID, fromUser).Scan(&signed)
		if pg.IsNoRows(err) {
			return ErrChanged
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO audit_inspection_inspectors (inspection_id, user_id) VALUES ($1, $2)`, inspectionID, toUser); err != nil {
			return err
		}
		if signed != nil && status == StatusSigned {
			var others int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM audit_inspection_inspectors WHERE inspection_id = $1 AND signed_at IS NOT NULL`, inspectionID).Scan(&others); err != nil {
				return err
			}
			if others == 0 { // the first signer left: their snapshot goes with them
				if err := unsign(ctx, tx, inspectionID); err != nil {
					return err
				}
			}
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "inspection.reassign", Subject: fmt.Sprintf("inspection:%d", inspectionID),
			Details: map[string]any{"from": fromUser, "to": toUser, "reason": reason, "signature_dropped": signed != nil}})
	})
}

// AddAddendum records a correction to a finished inspection, referencing its signed report.
func (s *Service) AddAddendum(ctx context.Context, userID, inspectionID int64, note string) (Addendum, error) {
	ad := Addendum{Note: strings.TrimSpace(note), CreatedBy: userID}
	if ad.Note == "" || len([]rune(ad.Note)) > 2000 {
		return ad, failure.Field("note", "audits.note_invalid")
	}
	if err := s.Printable("note", ad.Note); err != nil {
		return ad, err
	}
	x, err := s.Inspection(ctx, inspectionID)
	if err != nil {
		return ad, err
	}
	if !x.HasInspector(userID) {
		return ad, ErrNotAssigned
	}
	if x.Status != StatusFinished {
		return ad, ErrNotFinished
	}
	rep, err := s.InspectionReportPDF(ctx, inspectionID)
	if err != nil {
		return ad, err
	}
	sum := rep.SHA256[:]
	ad.ReportSHA256 = sum
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO audit_addenda (inspection_id, note, report_sha256, created_by) VALUES ($1, $2, $3, $4) RETURNING id, created_at`,
			inspectionID, ad.Note, sum, userID).Scan(&ad.ID, &ad.CreatedAt); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: userID, Action: "inspection.addendum", Subject: fmt.Sprintf("inspection:%d", inspectionID),
			Details: map[string]any{"addendum": ad.ID, "report_sha256": fmt.Sprintf("%x", sum)}})
	})
	return ad, err
}

// HasInspector reports whether the user is one of the inspection's inspectors.
func (x Inspection) HasInspector(userID int64) bool {
	for _, sg := range x.Inspectors {
		if sg.UserID == userID {
			return true
		}
	}
	return false
}

// loadWorkflow reads an inspection's absences, addenda and snapshot.
func (s *Service) loadWorkflow(ctx context.Context, x *Inspection, snap []byte) error {
	if snap != nil {
		var a Assessment
		if err := json.Unmarshal(snap, &a); err != nil {
			return err
		}
		x.Snapshot = &a
	}
	x.Absences = map[int64]Absence{}
	rows, err := s.db.Query(ctx, `SELECT roster_id, reason, recorded_by, recorded_at FROM audit_absences WHERE inspection_id = $1`, x.ID)
	if err != nil {
		return err
	}
	var ab Absence
	if _, err := pgx.ForEachRow(rows, []any{&ab.RosterID, &ab.Reason, &ab.RecordedBy, &ab.RecordedAt}, func() error { x.Absences[ab.RosterID] = ab; return nil }); err != nil {
		return err
	}
	rows, err = s.db.Query(ctx, `SELECT id, note, coalesce(report_sha256, ''::bytea), created_by, created_at FROM audit_addenda WHERE inspection_id = $1 ORDER BY id`, x.ID)
	if err != nil {
		return err
	}
	x.Addenda, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Addendum, error) {
		var a Addendum
		return a, r.Scan(&a.ID, &a.Note, &a.ReportSHA256, &a.CreatedBy, &a.CreatedAt)
	})
	return err
}

// Printable refuses a text the report's font cannot print (emoji among them), naming the field and
// the first such character; line breaks and tabs are fine. Only the Basic Multilingual Plane is
// allowed, which is all gofpdf can embed; with no report font here (Deps.ReportsElsewhere), or one
// that fails to load, that is the only bound.
func (s *Service) Printable(field, text string) error {
	var has func(rune) bool
	if !s.reportsElsewhere {
		if f, err := s.tools.ReportFont(); err == nil && f != nil {
			has = f.Has
		}
	}
	for _, r := range text {
		if r == '\n' || r == '\r' || r == '\t' || r == ' ' {
			continue
		}
		ok := r <= 0xFFFF && !unicode.IsControl(r) && (r < 0xE000 || r > 0xF8FF)
		if ok && has != nil {
			ok = has(r)
		}
		if !ok {
			return failure.Field(field, "audits.unprintable", string(r))
		}
	}
	return nil
}

// InspectorPool lists the users who may inspect in a region (those a reassignment may choose).
func (s *Service) InspectorPool(ctx context.Context, region string) ([]accounts.User, error) {
	return s.inspectorPool(ctx, region)
}

// SetInstitutionKind records whether an institution is a centre or a home childcare point (as filed
// with the health commission); audited.
func (s *Service) SetInstitutionKind(ctx context.Context, actorID, orgID int64, kind string) error {
	if kind != KindCentre && kind != KindHomePoint {
		return failure.Field("kind", "audits.kind_invalid")
	}
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO audit_institution_kinds (organisation_id, kind, set_by) VALUES ($1, $2, $3)
			ON CONFLICT (organisation_id) DO UPDATE SET kind = excluded.kind, set_by = excluded.set_by, set_at = now()`, orgID, kind, actorID); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "institution.kind", Subject: fmt.Sprintf("organisation:%d", orgID),
			Details: map[string]any{"kind": kind}})
	})
}
