package audits

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shanyu/accounts"
	"shanyu/certificates"
	"shanyu/internal/config"
	"shanyu/internal/failure"
	"shanyu/internal/pdfdoc"
)

// testTools prints with the certificates' font and signs with a demo CA.
type testTools struct {
	font   *pdfdoc.Font
	signer *pdfdoc.PDFSigner
}

// testTitles is the certificates domain's occupation catalogue, as the server passes it in.
func testTitles(code string, level int) (string, string, string, string, error) {
	t, err := certificates.LevelTitles(code, level)
	return t.OccupationZH, t.LevelZH, t.OccupationEN, t.LevelEN, err
}

func (t testTools) ReportFont() (*pdfdoc.Font, error) { return t.font, nil }
func (t testTools) ReportSigner(context.Context) (*pdfdoc.PDFSigner, error) {
	return t.signer, nil
}

func newTestTools(t *testing.T) testTools {
	t.Helper()
	font, err := pdfdoc.LoadFont(config.DefaultCJKFont)
	if err != nil {
		t.Fatalf("font: %v", err)
	}
	signer, err := certificates.DemoPDFSigner("Shanyu Test Regulator", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return testTools{font: font, signer: signer}
}

func TestReportIsMadeSignedAndStoredOnFinishing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withReports(t))
	ctx := context.Background()
	f.class(t, "小一班", "toddler_young", 5)
	f.staff(t, f.org.ID, "王保育", "4-10-01-03", 4, []string{"caregiver"}, "小一班")
	f.staff(t, f.org.ID, "李园长", "", 0, []string{"director"}, "")
	f.staff(t, f.org.ID, "保安", "security-guard", 5, []string{"security"}, "")
	a := f.user(t, "insp-a", accounts.RoleInspector, "region:3301")
	b := f.user(t, "insp-b", accounts.RoleInspector, "region:3301")
	if _, err := f.svc.CreateRound(ctx, f.admin, RoundInput{RegionCode: "330106", Name: "专项", Count: 1, PerInspection: 2, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	insp, err := f.svc.InspectionsFor(ctx, a)
	if err != nil || len(insp) != 1 {
		t.Fatalf("%+v %v", insp, err)
	}
	id := insp[0].ID
	if _, _, err := f.svc.RecordScan(ctx, a, id, ScanInput{ClientID: "report-0001", Code: "cert-4-10-01-03-1"}); err != nil {
		t.Fatal(err)
	}
	classes, _ := f.svc.Classes(ctx, f.org.ID)
	if err := f.svc.SetHeadcount(ctx, a, id, Headcount{ClassID: classes[0].ID, Children: 5, Caregivers: 1}); err != nil {
		t.Fatal(err)
	}
	// Characters the report's font cannot print are refused at input, naming the field: an emoji, and
	// a CJK character outside the Basic Multilingual Plane.
	for _, bad := range []string{"午睡室很好👶", "负责人𠮷田已整改"} {
		_, err := f.svc.AddFinding(ctx, b, id, "minor", bad)
		if e := failure.As(err); e == nil || e.Fields["note"].Key != "audits.unprintable" {
			t.Fatalf("%q accepted: %v", bad, err)
		}
	}
	if _, err := f.svc.AddFinding(ctx, b, id, "minor", "消毒记录不全，负责人已整改", testImage(t, "jpeg"), testImage(t, "png")); err != nil {
		t.Fatal(err)
	}
	roster, _ := f.svc.Roster(ctx, f.org.ID)
	for _, m := range roster {
		if m.Name != "王保育" {
			if err := f.svc.MarkAbsent(ctx, a, id, m.ID, "休假"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := f.svc.InspectionReportPDF(ctx, id); err == nil {
		t.Fatal("report of an open inspection")
	}
	if _, err := f.svc.Sign(ctx, a, id); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM audit_inspection_reports WHERE inspection_id = $1`, id).Scan(&n); err != nil || n != 0 {
		t.Fatalf("report after one signature: %d %v", n, err)
	}
	if _, err := f.svc.Sign(ctx, b, id); err != nil {
		t.Fatal(err)
	}
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM audit_inspection_reports WHERE inspection_id = $1 AND sha256 = sha256(pdf)`, id).Scan(&n); err != nil || n != 1 {
		t.Fatalf("report stored on finishing: %d %v", n, err)
	}
	rep, err := f.svc.InspectionReportPDF(ctx, id)
	if err != nil || len(rep.PDF) < 1000 {
		t.Fatalf("%d bytes, %v", len(rep.PDF), err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "report.pdf")
	if err := os.WriteFile(path, rep.PDF, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command("pdfsig", path).CombinedOutput()
	if !strings.Contains(string(out), "Signature is Valid") {
		t.Fatalf("pdfsig:\n%s", out)
	}
	// The finding's two photos are printed as images on the report.
	if imgs, err := exec.Command("pdfimages", "-list", path).Output(); err != nil || strings.Count(string(imgs), "\n") < 2+2 {
		t.Errorf("report images (%v):\n%s", err, imgs)
	}
	txt, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(txt)
	for _, want := range []string{f.org.Name, f.org.Code, "王保育", "合格 Qualified", "消毒记录不全", "1:", "测试用户", "检查日期", "现场照片", "[一般] 消毒", "休假"} {
		if !strings.Contains(text, want) {
			t.Errorf("report text lacks %q:\n%s", want, text)
		}
	}
	if png := os.Getenv("SHANYU_REPORT_PNG"); png != "" {
		if err := exec.Command("pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", path, png).Run(); err != nil {
			t.Fatal(err)
		}
	}
}

// testLabels are report words for the tests (the server's come from its locales).
func testLabels() ReportLabels {
	zh := ReportWords{Title: "托育机构监督检查报告", InspectionNo: "检查编号", Institution: "机构", Code: "机构代码", Date: "检查日期", Inspectors: "检查人员",
		Posts: "岗位核查", None: "无", UnknownCodes: "未知证书", Classes: "班级", WithinRatio: "符合", Children: "幼儿", Caregivers: "保育人员",
		OverSize: "超额（上限 %d）", UnderStaffed: "不足（需 %d）", Findings: "检查发现", Photos: "现场照片", PhotoNotPrinted: "未印入",
		Result: "结论", Passed: "通过", NotPassed: "不通过", StaffChecked: "核查人员", PostsQualified: "合格岗位", ClassesCounted: "班级",
		Qualified: "合格", NotQualified: "不合格", Footer: "签名",
		PostNames: map[string]string{"caregiver": "保育人员"}, Groups: map[string]string{"qualification": "资格"},
		Reasons: map[string]string{"expired": "已过期", "revoked": "已撤销", "barred": "不得从事托育工作"}, Severities: map[string]string{"minor": "一般"},
		Explain: ExplainWords{Requires: "%s须持有%s", Holds: "已持有%s", Lacks: "缺少：%s", And: "和", Or: "或", QualAny: "%s证书（任一等级）",
			QualAtLeast: "%s%s及以上证书", QualHeld: "%s%s证书", Tokens: map[string]string{"doc:health": "有效健康证明"}, Lang: "zh", Titles: testTitles},
		Absent: "缺席：%s", NotScanned: "未核验", Snapshot: "截至 %s", Observed: "实际 %s", Rule: "标准 %s",
		CertStates: map[string]string{"valid": "有效", "revoked": "已撤销"}, CertProblems: "无效证书", NotIssuedHere: "非本平台签发，未核验",
		Faults: map[string]string{"classes": "班级问题"}, MissingPosts: "缺岗"}
	en := zh
	en.Qualified, en.NotQualified, en.Title = "Qualified", "Not qualified", "Inspection report"
	en.Reasons = map[string]string{"expired": "expired", "revoked": "revoked", "barred": "not permitted to work in childcare"}
	en.Explain = ExplainWords{Requires: "%s requires %s", Holds: "holds %s", Lacks: "missing: %s", And: " and ", Or: " or ", QualAny: "a %s certificate (any level)",
		QualAtLeast: "a %s certificate at %s or above", QualHeld: "a %s certificate at %s", Tokens: map[string]string{"doc:health": "a valid health certificate"}, Lang: "en", Titles: testTitles}
	en.Groups = map[string]string{"qualification": "Qualification"}
	return ReportLabels{ZH: zh, EN: en}
}

func TestExplainNamesTheRuleOrTheGap(t *testing.T) {
	l := testLabels()
	need := []Need{{Group: "qualification", Accepted: []string{"qual:4-10-01-03:4"}, MetBy: "qual:4-10-01-03:4"}, {Group: "health", Accepted: []string{"doc:health"}}}
	got := l.Explain(Decision{Post: "caregiver", Matched: []string{"p, qual:4-10-01-03:4, post:caregiver, qualification, allow"}, Needs: need,
		Gaps: []Gap{{Group: "health", Reason: "absent", Detail: "doc:health"}}})
	for _, want := range []string{"保育人员须持有保育师四级及以上证书和有效健康证明", "已持有保育师四级证书", "缺少：有效健康证明", "不合格"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "p, ") || strings.Contains(got, "post:") || strings.Contains(got, "%!") {
		t.Errorf("policy code or a bad format in words: %q", got)
	}
	need[0].MetBy = ""
	got = l.Explain(Decision{Post: "caregiver", Needs: need, Gaps: []Gap{{Group: "qualification", Reason: "revoked", Detail: "N1"}, {Group: "*", Reason: "barred", Detail: "secret"}}})
	if strings.Contains(got, "secret") || !strings.Contains(got, "不得从事托育工作") || !strings.Contains(got, "not permitted") {
		t.Fatal(got)
	}
	got = l.Explain(Decision{Post: "caregiver", Needs: need, Gaps: []Gap{{Group: "qualification", Reason: "revoked", Detail: "N1"}}})
	if !strings.Contains(got, "保育师四级及以上证书（已撤销 N1）") {
		t.Fatal(got)
	}
}

// withReports gives the service the test font, signer and words.
func withReports(t *testing.T) func(*Deps) {
	tools, labels := newTestTools(t), testLabels()
	return func(d *Deps) { d.Reports, d.Labels, d.ReportsElsewhere = tools, &labels, false }
}
