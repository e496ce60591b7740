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
)

// testTools prints with the certificates' font and signs with a demo CA.
type testTools struct {
	font   *certificates.Font
	signer *certificates.PDFSigner
}

func (t testTools) ReportFont() (*certificates.Font, error) { return t.font, nil }
func (t testTools) ReportSigner(context.Context) (*certificates.PDFSigner, error) {
	return t.signer, nil
}

func newTestTools(t *testing.T) testTools {
	t.Helper()
	font, err := certificates.LoadFont(certificates.FontPathFromEnv(os.Getenv))
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
	f := newFixture(t)
	f.svc.SetReportTools(newTestTools(t))
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
	if _, err := f.svc.AddFinding(ctx, b, id, "minor", "消毒记录不全，负责人𠮷田已整改"); err != nil {
		t.Fatal(err)
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
	txt, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(txt)
	for _, want := range []string{f.org.Name, f.org.Code, "王保育", "合格 Qualified", "消毒记录不全", "1:", "测试用户", "检查日期"} {
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

func TestExplainNamesTheRuleOrTheGap(t *testing.T) {
	if got := Explain(Decision{Post: "caregiver", Qualified: true, Matched: []string{"p, 4-10-01-03:4, caregiver"}}); !strings.Contains(got, "4-10-01-03:4") {
		t.Fatal(got)
	}
	got := Explain(Decision{Post: "caregiver", Gaps: []Gap{{Group: "qualification", Reason: "expired", Detail: "N1"}, {Group: "*", Reason: "barred", Detail: "secret"}}})
	if !strings.Contains(got, "expired") || !strings.Contains(got, "N1") || strings.Contains(got, "secret") || !strings.Contains(got, "not permitted") {
		t.Fatal(got)
	}
}
