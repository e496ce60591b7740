package audits

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/internal/failure"
	"shanyu/internal/pgtest"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

type fixture struct {
	pool  *pgxpool.Pool
	acc   *accounts.Service
	svc   *Service
	org   accounts.Organisation
	admin int64
	seq   int
}

// newFixture builds a service on a fresh database; with adds collaborators (report tools, say).
func newFixture(t *testing.T, with ...func(*Deps)) *fixture {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.NewCounting(t) // a plain pool whose statements a test may count
	if _, err := accounts.SeedRegions(ctx, pool); err != nil {
		t.Fatal(err)
	}
	acc, err := accounts.New(pool, testSecret, accounts.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	// No platform certificate (the institutions' recorded ones are what the tests check), no exam
	// result, no report made here: the tests that need more say so in with.
	d := Deps{Accounts: acc, Certificates: platformCerts{}, Exams: &fakeExams{}, ReportsElsewhere: true}
	for _, w := range with {
		w(&d)
	}
	svc, err := New(ctx, pool, d)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{pool: pool, acc: acc, svc: svc}
	f.org = f.institution(t, 1)
	f.admin = f.user(t, "regulator", accounts.RoleRegulatorAdmin, "region:33")
	return f
}

// platformCerts is a CertificateSource holding the given platform certificates by holder: the
// certificates domain itself is wired in by app (whose adapter this package cannot import), and
// tested with it in server and app/demo.
type platformCerts map[int64][]Cert

func (p platformCerts) ForPeople(_ context.Context, people []int64) (map[int64][]Cert, error) {
	out := map[int64][]Cert{}
	for _, id := range people {
		if cs, ok := p[id]; ok {
			out[id] = cs
		}
	}
	return out, nil
}

func (p platformCerts) ByCode(_ context.Context, code, _ string) (Cert, int64, error) {
	for id, cs := range p {
		for _, c := range cs {
			if strings.EqualFold(c.Number, code) {
				return c, id, nil
			}
		}
	}
	return Cert{}, 0, ErrCodeUnknown
}

func (f *fixture) institution(t *testing.T, n int) accounts.Organisation {
	t.Helper()
	o, err := f.acc.CreateOrganisation(context.Background(), 0, accounts.Organisation{Kind: accounts.KindInstitution, Code: fmt.Sprintf("TI%03d", n),
		Name: fmt.Sprintf("测试托育园%d", n), RegionCode: "330106", CreditCode: SyntheticCreditCode("330106", n), InstitutionType: "community"})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (f *fixture) user(t *testing.T, username, role, domain string) int64 {
	t.Helper()
	ctx := context.Background()
	u, err := f.acc.CreateUser(ctx, 0, accounts.CreateUserInput{Username: username, Name: "测试用户", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.acc.AddGrant(ctx, 0, u.ID, role, domain); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// staff puts a person on the roster with valid documents and, when occ is set, a certificate.
func (f *fixture) staff(t *testing.T, orgID int64, name, occ string, level int, posts []string, class string) Member {
	t.Helper()
	ctx := context.Background()
	f.seq++
	m, err := f.svc.AddStaff(ctx, orgID, StaffInput{Name: name, IDNumber: SyntheticCitizenID("330106", time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), f.seq),
		HealthValidUntil: today.AddDate(1, 0, 0), NoCriminalRecordOn: today.AddDate(0, -3, 0), Posts: posts, Class: class})
	if err != nil {
		t.Fatal(err)
	}
	if occ != "" {
		if _, err := f.svc.RecordExternalCertificate(ctx, f.admin, ExternalCert{OrganisationID: orgID, PersonID: m.PersonID,
			Number: fmt.Sprintf("CERT-%s-%d", occ, f.seq), Occupation: occ, Level: level, ExpiresOn: today.AddDate(2, 0, 0), Evidence: "复印件"}); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func (f *fixture) class(t *testing.T, name, typ string, children int) Class {
	t.Helper()
	c, err := f.svc.SaveClass(context.Background(), Class{OrganisationID: f.org.ID, Name: name, Type: typ, Children: children})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestComplianceRatiosSizesAndRequiredPosts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	// 托小班 (1:5, at most 15): 11 children need 3 qualified caregivers.
	f.class(t, "小一班", "toddler_young", 11)
	f.class(t, "乳儿班", "infant", 11) // over the size of 10
	for i := 0; i < 2; i++ {
		f.staff(t, f.org.ID, "保育员甲"+strings.Repeat("一", i+1), "4-10-01-03", 4, []string{"caregiver"}, "小一班")
	}
	unqualified := f.staff(t, f.org.ID, "无证人员", "", 0, []string{"caregiver"}, "小一班") // does not count
	for i := 0; i < 4; i++ {
		f.staff(t, f.org.ID, "乳儿保育"+strings.Repeat("二", i+1), "4-10-01-02", 5, []string{"caregiver"}, "乳儿班")
	}
	f.staff(t, f.org.ID, "园长", "director-training", 5, []string{"director"}, "")
	r, err := f.svc.Compliance(ctx, f.org.ID, today)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]ClassReport{}
	for _, c := range r.Classes {
		byName[c.Class.Name] = c
	}
	if c := byName["小一班"]; !c.UnderStaffed || c.Caregivers != 2 || c.NeededCaregivers != 3 || c.OverSize {
		t.Errorf("小一班: %+v", c)
	}
	if c := byName["乳儿班"]; !c.OverSize || c.UnderStaffed {
		t.Errorf("乳儿班: %+v", c)
	}
	if strings.Join(r.MissingPosts, ",") != "security" || r.Unqualified != 1 || r.Compliant() {
		t.Errorf("missing %v, unqualified %d", r.MissingPosts, r.Unqualified)
	}
	for _, a := range r.Assignments {
		if a.Name == "无证人员" && (a.Decision.Qualified || a.Decision.Gaps[0].Reason != "absent") {
			t.Errorf("unqualified caregiver: %+v", a.Decision)
		}
	}
	// A third qualified caregiver, a guard and one child fewer in the infant class: compliant. With
	// 150 children a health post becomes required.
	f.staff(t, f.org.ID, "保育员丙", "4-10-01-03", 3, []string{"caregiver"}, "小一班")
	f.staff(t, f.org.ID, "保安", "security-guard", 5, []string{"security"}, "")
	f.class(t, "乳儿班", "infant", 10)
	if err := f.svc.RemoveMember(ctx, f.org.ID, unqualified.ID); err != nil {
		t.Fatal(err)
	}
	if r, _ = f.svc.Compliance(ctx, f.org.ID, today); !r.Compliant() {
		t.Fatalf("should comply now: %+v", r)
	}
	f.class(t, "托大班", "toddler_old", 129) // 150 children in all, and far over size
	r, _ = f.svc.Compliance(ctx, f.org.ID, today)
	if r.Children != 150 || strings.Join(r.MissingPosts, ",") != "health" {
		t.Fatalf("at 150 children: %d children, missing %v", r.Children, r.MissingPosts)
	}
	// Expiring within 60 days is a warning.
	if _, err := f.svc.AddStaff(ctx, f.org.ID, StaffInput{Name: "保安", IDNumber: SyntheticCitizenID("330106", time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), f.seq),
		HealthValidUntil: today.AddDate(0, 0, 30), NoCriminalRecordOn: today}); err != nil {
		t.Fatal(err)
	}
	r, _ = f.svc.Compliance(ctx, f.org.ID, today)
	if len(r.Expiring) != 1 || r.Expiring[0].What != "health" {
		t.Fatalf("expiring: %+v", r.Expiring)
	}
}

func TestBarredPersonIsFlaggedOnEveryRoster(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	m := f.staff(t, f.org.ID, "被禁人员", "4-10-01-03", 1, []string{"caregiver"}, "")
	other := f.institution(t, 2)
	f.staff(t, other.ID, "另一人", "4-10-01-03", 1, []string{"caregiver"}, "")
	if _, err := f.svc.RecordBar(ctx, f.admin, Bar{PersonID: m.PersonID, LegalBasis: "《未成年人保护法》第六十二条", Authority: "杭州市西湖区人民法院",
		StartsOn: today.AddDate(-1, 0, 0), Evidence: "判决书 (2025) 浙0106刑初123号"}); err != nil {
		t.Fatal(err)
	}
	reps, err := f.svc.ComplianceOf(ctx, nil, today)
	if err != nil {
		t.Fatal(err)
	}
	r := reps[f.org.ID]
	if len(r.BarredOnRoster) != 1 || r.BarredOnRoster[0] != m.ID || r.Assignments[0].Decision.Gaps[0].Reason != "barred" {
		t.Fatalf("barred person not flagged: %+v", r)
	}
	if len(reps[other.ID].BarredOnRoster) != 0 {
		t.Fatal("another institution flagged")
	}
	// A bar that ended yesterday no longer applies.
	if _, err := f.pool.Exec(ctx, `UPDATE audit_barred_persons SET ends_on = $1`, today.AddDate(0, 0, -1)); err != nil {
		t.Fatal(err)
	}
	if r, _ := f.svc.Compliance(ctx, f.org.ID, today); len(r.BarredOnRoster) != 0 {
		t.Fatal("ended bar still flagged")
	}
}

func TestRegionalRuleReachesEveryReplicaWithPreview(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	other, err := New(ctx, f.pool, Deps{Accounts: f.acc, Certificates: platformCerts{}, Exams: &fakeExams{}, ReportsElsewhere: true}) // a second replica
	if err != nil {
		t.Fatal(err)
	}
	go other.Listen(ctx)
	f.staff(t, f.org.ID, "新岗位人员", "4-10-01-03", 4, []string{"lead_caregiver"}, "")
	f.staff(t, f.org.ID, "高级保育", "4-10-01-03", 2, []string{"lead_caregiver"}, "")
	line := "p, qual:4-10-01-03:3, post:lead_caregiver, qualification, allow"
	changes, err := f.svc.PreviewRule(ctx, line, today)
	if err != nil {
		t.Fatal(err)
	}
	// lead_caregiver is unknown until the rule exists: only the level-2 holder would become qualified
	// (level 4 is too low, and the post also needs the background group, which post:* gives).
	if len(changes) != 1 || changes[0].Name != "高级保育" || changes[0].Before || !changes[0].After {
		t.Fatalf("preview: %+v", changes)
	}
	if _, err := NormaliseRule("p, qual:x, caregiver, qualification, allow"); !errors.Is(err, ErrRuleInvalid) {
		t.Fatalf("a rule without post: is invalid: %v", err)
	}
	before := other.Loads()
	if _, err := f.svc.AddRule(ctx, f.admin, line, "区级试点"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for other.Loads() == before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	d, err := other.Policy().Decide("lead_caregiver", complete(cert("4-10-01-03", 2, CertValid)))
	if err != nil || !d.Qualified {
		t.Fatalf("the other replica does not know the rule: %+v %v", d, err)
	}
}

func TestRoundIsStoredReproducibleAndAudited(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	orgs := []accounts.Organisation{f.org}
	for i := 2; i <= 12; i++ {
		orgs = append(orgs, f.institution(t, i))
	}
	var inspectors []int64
	for i := 0; i < 4; i++ {
		inspectors = append(inspectors, f.user(t, fmt.Sprintf("insp%d", i), accounts.RoleInspector, "region:3301"))
	}
	if err := f.svc.AddConflict(ctx, f.admin, inspectors[0], orgs[3].ID, "前雇主"); err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.CreateRound(ctx, f.admin, RoundInput{RegionCode: "3301", Name: "2026 下半年", Share: 0.5, PerInspection: 2, RiskWeighted: true, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	if r.Count != 6 || len(r.Assignments) != 6 {
		t.Fatalf("drew %d of 12", len(r.Assignments))
	}
	for _, a := range r.Assignments {
		if len(a.Inspectors) < 2 {
			t.Errorf("inspection of %d has %v", a.TargetID, a.Inspectors)
		}
		for _, u := range a.Inspectors {
			if u == inspectors[0] && a.TargetID == orgs[3].ID {
				t.Error("conflicted inspector drawn")
			}
		}
	}
	ok, err := f.svc.ReplayRound(ctx, r.ID)
	if err != nil || !ok {
		t.Fatalf("replay: %v %v", ok, err)
	}
	// The stored draw is the one the stored inputs give; tampering with the stored result is detected.
	if _, err := f.pool.Exec(ctx, `UPDATE audit_inspections SET organisation_id = $1 WHERE round_id = $2 AND organisation_id = $3`,
		orgs[0].ID+1000, r.ID, r.Assignments[0].TargetID); err == nil {
		t.Fatal("an inspection moved to a missing institution")
	}
	var n int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'inspection_round.draw' AND details->>'input_digest' = $1`, r.InputDigest).Scan(&n); err != nil || n != 1 {
		t.Fatalf("audit log: %d %v", n, err)
	}
	mine, err := f.svc.InspectionsFor(ctx, r.Assignments[0].Inspectors[0])
	if err != nil || len(mine) == 0 {
		t.Fatalf("inspector sees %d inspections: %v", len(mine), err)
	}
}

func TestOfflineScansAreStoredOnceAndInspectionFinishes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.class(t, "小一班", "toddler_young", 5)
	f.staff(t, f.org.ID, "保育员", "4-10-01-03", 4, []string{"caregiver"}, "小一班")
	f.staff(t, f.org.ID, "园长", "director-training", 5, []string{"director"}, "")
	f.staff(t, f.org.ID, "保安", "security-guard", 5, []string{"security"}, "")
	a := f.user(t, "insp-a", accounts.RoleInspector, "region:3301")
	b := f.user(t, "insp-b", accounts.RoleInspector, "region:3301")
	r, err := f.svc.CreateRound(ctx, f.admin, RoundInput{RegionCode: "330106", Name: "专项", Count: 1, PerInspection: 2, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	insp, err := f.svc.InspectionsFor(ctx, a)
	if err != nil || len(insp) != 1 || insp[0].ID == 0 || r.Assignments[0].TargetID != f.org.ID {
		t.Fatalf("%+v %v", insp, err)
	}
	id := insp[0].ID
	in := ScanInput{ClientID: "offline-0001", Code: "cert-4-10-01-03-1", ScannedAt: time.Now().Add(-time.Hour), Offline: true}
	first, created, err := f.svc.RecordScan(ctx, a, id, in)
	if err != nil || !created {
		t.Fatal(created, err)
	}
	if !first.Result.Known || first.Result.Verified || !first.Result.OnRoster || len(first.Result.Decisions) != 1 || !first.Result.Decisions[0].Qualified {
		t.Fatalf("scan result: %+v", first.Result)
	}
	// The phone sends the same queued scan again when the network returns.
	again, created, err := f.svc.RecordScan(ctx, a, id, in)
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("resend: created=%v id %d vs %d, %v", created, again.ID, first.ID, err)
	}
	if _, _, err := f.svc.RecordScan(ctx, a, id, ScanInput{ClientID: "bad"}); err == nil {
		t.Fatal("short client id accepted")
	}
	outsider := f.user(t, "insp-c", accounts.RoleInspector, "region:3301")
	if _, _, err := f.svc.RecordScan(ctx, outsider, id, ScanInput{ClientID: "offline-0002", Code: "x"}); !errors.Is(err, ErrNotAssigned) {
		t.Fatalf("outsider: %v", err)
	}
	x, _ := f.svc.Inspection(ctx, id)
	if len(x.Scans) != 1 || !x.Scans[0].Offline || !first.Offline || !again.Offline {
		t.Fatalf("%d scans stored: %+v", len(x.Scans), x.Scans)
	}
	classes, _ := f.svc.Classes(ctx, f.org.ID)
	if err := f.svc.SetHeadcount(ctx, a, id, Headcount{ClassID: classes[0].ID, Children: 5, Caregivers: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AddFinding(ctx, b, id, "minor", "消毒记录不全"); err != nil {
		t.Fatal(err)
	}
	// Two of three staff neither scanned nor marked absent: signing is refused, naming them.
	_, err = f.svc.Sign(ctx, a, id)
	if e := failure.As(err); e == nil || e.Msg.Key != "audits.not_ready_roster" || e.Msg.Args[0] != 2 || !strings.Contains(e.Msg.Args[1].(string), "园长") {
		t.Fatalf("sign before ready: %v", err)
	}
	roster, _ := f.svc.Roster(ctx, f.org.ID)
	for _, m := range roster {
		if m.Name != "保育员" {
			if err := f.svc.MarkAbsent(ctx, a, id, m.ID, "外出培训"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if x, err = f.svc.Sign(ctx, a, id); err != nil || x.Status != StatusSigned || x.Snapshot == nil || !x.Snapshot.Passed {
		t.Fatalf("one signature: %s %v", x.Status, err)
	}
	// Signed means frozen: a change needs the signature withdrawn first, and that is audited.
	if _, err := f.svc.AddFinding(ctx, b, id, "major", "签名后补充"); !errors.Is(err, ErrFrozen) {
		t.Fatalf("finding after a signature: %v", err)
	}
	if _, err := f.svc.Sign(ctx, a, id); !errors.Is(err, ErrSigned) {
		t.Fatalf("signing twice: %v", err)
	}
	if err := f.svc.Withdraw(ctx, a, id, "补录发现"); err != nil {
		t.Fatal(err)
	}
	var withdrawn int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'inspection.withdraw' AND details->>'reason' = '补录发现'`).Scan(&withdrawn); err != nil || withdrawn != 1 {
		t.Fatalf("withdrawal audited: %d %v", withdrawn, err)
	}
	if x, err = f.svc.Sign(ctx, a, id); err != nil || x.Status != StatusSigned {
		t.Fatalf("signed again: %s %v", x.Status, err)
	}
	if x, err = f.svc.Sign(ctx, b, id); err != nil || x.Status != "finished" || x.Passed == nil || !*x.Passed {
		t.Fatalf("both signed: %+v %v", x, err)
	}
	if x.Summary.StaffChecked != 1 || x.Summary.StaffAbsent != 2 || x.Summary.PostsQualified != 3 || x.Summary.ClassesInRatio != 1 || x.Summary.Findings["minor"] != 1 {
		t.Fatalf("summary: %+v", x.Summary)
	}
	if _, err := f.svc.AddFinding(ctx, a, id, "major", "late"); !errors.Is(err, ErrClosed) {
		t.Fatalf("finding after finishing: %v", err)
	}
	pub, err := f.svc.PublicResults(ctx, 10)
	if err != nil || len(pub) != 1 || pub[0].OrganisationID != f.org.ID {
		t.Fatalf("public: %+v %v", pub, err)
	}
}

// A regulator replaces an inspector whose grant was revoked after the other had signed: the
// remaining signature stays (nothing can change after it), the new inspector countersigns, and the
// replacement is audited with its reason. Replacing the first signer drops the snapshot.
func TestReassignmentKeepsOnlyUnchangedSignatures(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.class(t, "小一班", "toddler_young", 5)
	f.staff(t, f.org.ID, "保育员", "4-10-01-03", 4, []string{"caregiver"}, "小一班")
	a := f.user(t, "insp-a", accounts.RoleInspector, "region:3301")
	b := f.user(t, "insp-b", accounts.RoleInspector, "region:3301")
	c := f.user(t, "insp-c", accounts.RoleInspector, "region:3301")
	if _, err := f.svc.CreateRound(ctx, f.admin, RoundInput{RegionCode: "330106", Name: "专项", Count: 1, PerInspection: 2, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	insp, _ := f.svc.InspectionsFor(ctx, a)
	id := insp[0].ID
	x, _ := f.svc.Inspection(ctx, id)
	var spare int64 // the pool has three inspectors; two were drawn
	for _, u := range []int64{a, b, c} {
		if !x.HasInspector(u) {
			spare = u
		}
	}
	first, second := x.Inspectors[0].UserID, x.Inspectors[1].UserID
	roster, _ := f.svc.Roster(ctx, f.org.ID)
	if err := f.svc.MarkAbsent(ctx, first, id, roster[0].ID, "病假"); err != nil {
		t.Fatal(err)
	}
	classes, _ := f.svc.Classes(ctx, f.org.ID)
	if err := f.svc.SetHeadcount(ctx, first, id, Headcount{ClassID: classes[0].ID, Children: 5, Caregivers: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Sign(ctx, first, id); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Reassign(ctx, f.admin, id, second, spare, ""); err == nil {
		t.Fatal("reassigned without a reason")
	}
	if err := f.svc.Reassign(ctx, f.admin, id, second, spare, "原检查人员授权已撤销"); err != nil {
		t.Fatal(err)
	}
	x, _ = f.svc.Inspection(ctx, id)
	if x.Status != StatusSigned || x.Snapshot == nil || !x.HasInspector(spare) || x.HasInspector(second) {
		t.Fatalf("after replacing the unsigned inspector: %s %v", x.Status, x.Inspectors)
	}
	var n int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'inspection.reassign' AND details->>'reason' = '原检查人员授权已撤销'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("reassignment audited: %d %v", n, err)
	}
	// Replacing the one who signed first takes their signature and the snapshot with them.
	if err := f.svc.Reassign(ctx, f.admin, id, first, second, "回避"); err != nil {
		t.Fatal(err)
	}
	x, _ = f.svc.Inspection(ctx, id)
	if x.Status != StatusOpen || x.Snapshot != nil {
		t.Fatalf("after replacing the first signer: %s, snapshot %v", x.Status, x.Snapshot != nil)
	}
	for _, u := range []int64{spare, second} {
		if x, err := f.svc.Sign(ctx, u, id); err != nil {
			t.Fatal(err)
		} else if u == second && x.Status != StatusFinished {
			t.Fatalf("countersigned: %s", x.Status)
		}
	}
	if err := f.svc.Reassign(ctx, f.admin, id, second, first, "太晚"); !errors.Is(err, ErrClosed) {
		t.Fatalf("reassigning a finished inspection: %v", err)
	}
}

// A home childcare point is judged by its own row of the class table: at most 5 children in all and
// one carer per 3, whatever its classes' types; it needs a caregiver, not a director or a guard.
func TestHomeChildcarePointHasItsOwnLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.class(t, "家庭班", "toddler_old", 4)
	f.staff(t, f.org.ID, "刘阿姨", "4-10-01-03", 4, []string{"caregiver"}, "家庭班")
	before, err := f.svc.Compliance(ctx, f.org.ID, today)
	if err != nil || before.Kind != KindCentre || len(before.MissingPosts) == 0 {
		t.Fatalf("as a centre: %+v %v", before, err)
	}
	if err := f.svc.SetInstitutionKind(ctx, f.admin, f.org.ID, KindHomePoint); err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.Compliance(ctx, f.org.ID, today)
	if err != nil || r.Kind != KindHomePoint || r.Capacity != 5 || len(r.MissingPosts) != 0 {
		t.Fatalf("as a home point: %+v %v", r, err)
	}
	// 4 children, one carer: the 1:3 rule needs two (a centre's toddler class would need one).
	if c := r.Classes[0]; !c.UnderStaffed || c.NeededCaregivers != 2 || r.Compliant() {
		t.Fatalf("home point ratio: %+v", c)
	}
	f.class(t, "家庭班", "toddler_old", 6)
	if r, _ = f.svc.Compliance(ctx, f.org.ID, today); !r.OverCapacity || r.Compliant() {
		t.Fatalf("6 children in a home point: %+v", r)
	}
	// The limits are data: the regulator edits the row, and the check follows.
	if err := f.svc.SetClassType(ctx, f.admin, ClassType{Code: KindHomePoint, MinMonths: 0, MaxMonths: 36, MaxChildren: 6, ChildrenPerCaregiver: 6}); err != nil {
		t.Fatal(err)
	}
	if r, _ = f.svc.Compliance(ctx, f.org.ID, today); r.OverCapacity || !r.Compliant() {
		t.Fatalf("after the table allows 6 at 1:6: %+v", r)
	}
	if err := f.svc.SetInstitutionKind(ctx, f.admin, f.org.ID, "castle"); err == nil {
		t.Fatal("unknown kind accepted")
	}
}

// A rule for a region, stored and previewed, changes the decisions of institutions in that region
// and below only: a Hangzhou rule leaves a Ningbo institution as it was.
func TestRegionalRuleStoredAndPreviewedInItsRegionOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	ningbo, err := f.acc.CreateOrganisation(ctx, 0, accounts.Organisation{Kind: accounts.KindInstitution, Code: "TNB001",
		Name: "宁波测试托育园", RegionCode: "3302", CreditCode: SyntheticCreditCode("330200", 1), InstitutionType: "community"})
	if err != nil {
		t.Fatal(err)
	}
	f.staff(t, f.org.ID, "杭州育婴", "4-10-01-02", 4, []string{"caregiver"}, "")
	f.staff(t, ningbo.ID, "宁波育婴", "4-10-01-02", 4, []string{"caregiver"}, "")
	line := "p, qual:4-10-01-02:5, region:3301*, post:caregiver, qualification, deny"
	changes, err := f.svc.PreviewRule(ctx, line, today)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].OrganisationID != f.org.ID || changes[0].Name != "杭州育婴" || changes[0].After {
		t.Fatalf("preview of a Hangzhou rule: %+v", changes)
	}
	if _, err := f.svc.AddRule(ctx, f.admin, line, "杭州试点"); err != nil {
		t.Fatal(err)
	}
	qualified := func(orgID int64) bool {
		t.Helper()
		r, err := f.svc.Compliance(ctx, orgID, today)
		if err != nil || len(r.Assignments) != 1 {
			t.Fatalf("compliance: %+v %v", r.Assignments, err)
		}
		return r.Assignments[0].Decision.Qualified
	}
	if qualified(f.org.ID) || !qualified(ningbo.ID) {
		t.Fatalf("after the Hangzhou rule: Hangzhou qualified=%v, Ningbo qualified=%v", qualified(f.org.ID), qualified(ningbo.ID))
	}
	rules, err := f.svc.Rules(ctx)
	if err != nil || len(rules) != 1 || rules[0].Region() != "3301" {
		t.Fatalf("stored rules: %+v %v", rules, err)
	}
}
