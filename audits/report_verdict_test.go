package audits

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Reports of every verdict, rendered and read back with pdftotext: the printed result is the
// assessment's, each fault is named in words, every class prints the observed ratio beside the rule,
// no policy line or code-point name is printed, and a revoked certificate shows as revoked.
func TestReportsOfEveryVerdictSayWhatTheAssessmentSays(t *testing.T) {
	t.Parallel()
	font := newTestTools(t).font
	l := testLabels()
	l.ZH.Faults = map[string]string{"posts_missing": "缺少必设岗位", "unqualified": "资质不符", "barred": "禁业人员", "certificates": "证书无效",
		"unknown_codes": "无法核实", "classes": "班级问题", "major_findings": "严重问题",
		"check_record_found": "背景核查发现记录", "checks_required": "岗位要求的背景核查缺失或过期"}
	l.ZH.CheckKinds = map[string]string{CheckEmploymentBan: "从业禁止查询", CheckNoCriminalRecord: "无犯罪记录证明"}
	l.ZH.CheckIssues = map[string]string{"missing": "未核查", "outdated": "已超过 12 个月", "record_found": "发现记录", "required_by_post": "岗位要求，不合格"}
	l.EN.Faults = map[string]string{"posts_missing": "posts missing", "unqualified": "unqualified", "barred": "barred", "certificates": "certificates not valid",
		"unknown_codes": "unknown codes", "classes": "class problems", "major_findings": "major findings",
		"check_record_found": "a check found a record", "checks_required": "a required check missing or outdated"}
	at := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	qualified := Decision{Post: "caregiver", Qualified: true, Matched: []string{"p, qual:4-10-01-03:4, post:caregiver, qualification, allow"},
		Needs: []Need{{Group: "qualification", Accepted: []string{"qual:4-10-01-03:4"}, MetBy: "qual:4-10-01-03:4"}}}
	revoked := Cert{Number: "S000033000002265000001", Occupation: "4-10-01-03", Level: 4, Status: CertRevoked, Verified: true,
		StatusReason: "冒名顶替", StatusChangedAt: time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)}
	base := func() Assessment {
		return Assessment{At: at, Staff: 1,
			People:  []PersonCheck{{RosterID: 1, Name: "王保育", Scanned: true, Presented: []Cert{{Number: "S1", Occupation: "4-10-01-03", Level: 4, Status: CertValid, Verified: true}}, Posts: []PostCheck{{Post: "caregiver", ClassName: "乳儿班", Decision: qualified}}}},
			Classes: []ClassCount{{ClassID: 1, Name: "乳儿班", TypeName: "乳儿班", Counted: true, Children: 6, Caregivers: 2, MaxChildren: 10, PerCaregiver: 3, Needed: 2}}}
	}
	cases := map[string]func(a *Assessment){
		"passed":        func(a *Assessment) {},
		"posts_missing": func(a *Assessment) { a.MissingPosts = []string{"director"} },
		"unqualified": func(a *Assessment) {
			a.People[0].Posts[0].Decision = Decision{Post: "caregiver", Gaps: []Gap{{Group: "qualification", Reason: "revoked"}}}
		},
		"barred": func(a *Assessment) { a.People[0].Barred = true },
		"certificates": func(a *Assessment) {
			a.People[0].Presented = []Cert{revoked}
			a.CertProblems = []CertProblem{{RosterID: 1, Name: "王保育", Cert: revoked, State: CertRevoked}}
		},
		"unknown_codes": func(a *Assessment) { a.Unknown = []UnknownScan{{Code: "NOPE-1"}} },
		"classes": func(a *Assessment) {
			a.Classes[0].Children, a.Classes[0].Needed, a.Classes[0].UnderStaffed = 8, 3, true
		},
		"major_findings": func(a *Assessment) { a.Findings = []Finding{{ID: 1, Severity: "major", Note: "消防通道堵塞"}} },
		"check_record_found": func(a *Assessment) {
			a.People[0].CheckIssues = []CheckIssue{{RosterID: 1, Name: "王保育", Kind: CheckNoCriminalRecord, Reason: "record_found", On: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}}
		},
		"checks_required": func(a *Assessment) {
			a.People[0].CheckIssues = []CheckIssue{{RosterID: 1, Name: "王保育", Kind: CheckEmploymentBan, Reason: "outdated", On: time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC), Required: true}}
		},
	}
	dir := t.TempDir()
	for name, change := range cases {
		a := base()
		change(&a)
		a.Faults = a.faults()
		a.Passed = len(a.Faults) == 0
		if (name == "passed") != a.Passed || (name != "passed" && (len(a.Faults) != 1 || a.Faults[0] != name)) {
			t.Fatalf("%s: verdict %v faults %v", name, a.Passed, a.Faults)
		}
		pdf, err := RenderReport(font, ReportData{InspectionID: 7, RoundName: "专项", Institution: "测试托育园", Code: "T1", SignedAt: at, FinishedAt: at, Inspectors: []string{"甲", "乙"}, A: a}, l)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".pdf")
		if err := os.WriteFile(path, pdf, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("pdftotext", path, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(strings.Fields(string(out)), " ")
		if !strings.Contains(text, "通过") {
			t.Fatalf("%s: no result printed:\n%s", name, text)
		}
		notPassed := strings.Contains(text, "不通过")
		if notPassed == a.Passed {
			t.Errorf("%s: assessment passed=%v but the report says otherwise:\n%s", name, a.Passed, text)
		}
		for _, f := range a.Faults {
			if !strings.Contains(text, l.ZH.Faults[f]) {
				t.Errorf("%s: fault %q not printed:\n%s", name, f, text)
			}
		}
		obs := a.Classes[0].Observed()
		if !strings.Contains(text, "实际 "+obs) || !strings.Contains(text, "标准 1:3") {
			t.Errorf("%s: observed %s beside the rule not printed:\n%s", name, obs, text)
		}
		if a.Classes[0].UnderStaffed == strings.Contains(text, "符合") {
			t.Errorf("%s: under-staffed=%v yet 符合 printed=%v:\n%s", name, a.Classes[0].UnderStaffed, !a.Classes[0].UnderStaffed, text)
		}
		if strings.Contains(text, "p, ") || strings.Contains(text, "post:") || strings.Contains(text, "U+") || strings.Contains(text, "%!") {
			t.Errorf("%s: policy code, code-point names or bad formats printed:\n%s", name, text)
		}
		if name == "checks_required" && !strings.Contains(text, "从业禁止查询: 已超过 12 个月 (2025-09-01) · 岗位要求，不合格") {
			t.Errorf("the required outdated check not printed per person with its date:\n%s", text)
		}
		if name == "certificates" && (!strings.Contains(text, "已撤销") || !strings.Contains(text, "冒名顶替") || !strings.Contains(text, "2026-11-20")) {
			t.Errorf("revoked certificate not printed as revoked with reason and date:\n%s", text)
		}
	}
}
