package server_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"shanyu/accounts"
	"shanyu/audits"
	"shanyu/internal/servertest"
)

// The demo inspector's open inspection is finished by both inspectors; its signed report is made on
// finishing and served to its inspectors, the institution's admins and the regulator, nobody else.
func TestInspectionReportPDFAccess(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	ctx := context.Background()
	var id int64
	var code, name string
	if err := srv.Pool.QueryRow(ctx, `SELECT i.id, o.code, o.name FROM audit_inspections i JOIN organisations o ON o.id = i.organisation_id
		JOIN audit_inspection_inspectors ii ON ii.inspection_id = i.id JOIN users u ON u.id = ii.user_id
		WHERE u.username = 'inspector' AND i.status = 'open' LIMIT 1`).Scan(&id, &code, &name); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/inspections/" + strconv.FormatInt(id, 10) + "/report.pdf"
	insp := mustLogin(t, srv, "inspector")
	if r := insp.do("GET", path, nil, nil); r.Status != http.StatusNotFound {
		t.Fatalf("report of an open inspection: %d %s", r.Status, r.Body)
	}
	rows, err := srv.Pool.Query(ctx, `SELECT user_id FROM audit_inspection_inspectors WHERE inspection_id = $1`, id)
	if err != nil {
		t.Fatal(err)
	}
	var signers []int64
	for rows.Next() {
		var u int64
		if err := rows.Scan(&u); err != nil {
			t.Fatal(err)
		}
		signers = append(signers, u)
	}
	rows.Close()
	// One certificate of the roster is checked, a finding noted, then both sign.
	var number string
	if err := srv.Pool.QueryRow(ctx, `SELECT e.number FROM audit_external_certificates e JOIN audit_roster r ON r.person_id = e.person_id AND r.organisation_id = e.organisation_id
		JOIN audit_inspections i ON i.organisation_id = e.organisation_id WHERE i.id = $1 ORDER BY e.number LIMIT 1`, id).Scan(&number); err != nil {
		t.Fatal(err)
	}
	if sc, _, err := srv.App.Audits.RecordScan(ctx, signers[0], id, audits.ScanInput{ClientID: "report-test-1", Code: number}); err != nil || len(sc.Result.Decisions) == 0 {
		t.Fatalf("scan %s: %+v %v", number, sc.Result, err)
	}
	if _, err := srv.App.Audits.AddFinding(ctx, signers[1], id, "major", "消防通道堆放杂物"); err != nil {
		t.Fatal(err)
	}
	// Signing with the roster unchecked and classes uncounted is refused, naming what is missing.
	sign := "/api/v1/inspections/" + strconv.FormatInt(id, 10) + "/sign"
	if r := insp.send("POST", sign, map[string]any{}); r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "还不能签名") || !strings.Contains(string(r.Body), "班级未点名") {
		t.Fatalf("signing an unready inspection: %d %s", r.Status, r.Body)
	}
	makeReady(t, srv, id, signers[0])
	for _, u := range signers {
		if _, err := srv.App.Audits.Sign(ctx, u, id); err != nil {
			t.Fatal(err)
		}
	}
	var stored int
	if err := srv.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_inspection_reports WHERE inspection_id = $1`, id).Scan(&stored); err != nil || stored != 1 {
		t.Fatalf("report stored on finishing: %d %v", stored, err)
	}
	r := insp.do("GET", path, nil, nil)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(r.Body), "%PDF") {
		t.Fatalf("inspector: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	file := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(file, r.Body, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, _ := exec.Command("pdfsig", file).CombinedOutput(); !strings.Contains(string(out), "Signature is Valid") {
		t.Fatalf("pdfsig:\n%s", out)
	}
	txt, err := exec.Command("pdftotext", "-layout", file, "-").Output()
	// The report's words come from the locales, Chinese and English side by side.
	for _, want := range []string{"托育机构监督检查报告", "Childcare institution inspection report", "岗位核查 Posts checked", "检查发现 Findings", "保育人员 Caregiver"} {
		if !strings.Contains(string(txt), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if err != nil || !strings.Contains(string(txt), name) || !strings.Contains(string(txt), "ualified — ") || !strings.Contains(string(txt), "消防通道堆放杂物") {
		t.Fatalf("report text (%v):\n%s", err, txt)
	}
	// The inspection page links the report once finished.
	if p := insp.do("GET", "/inspections/"+strconv.FormatInt(id, 10), nil, nil); !strings.Contains(string(p.Body), path) {
		t.Errorf("no report link on the finished inspection page: %d %.600s", p.Status, p.Body)
	}

	mk := func(username, role, domain string) *client {
		u, err := srv.App.Accounts.CreateUser(ctx, 0, accounts.CreateUserInput{Username: username, Name: "测试人员", Password: accounts.DemoPassword})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.App.Accounts.AddGrant(ctx, 0, u.ID, role, domain); err != nil {
			t.Fatal(err)
		}
		return mustLogin(t, srv, username)
	}
	other := "HZI001"
	if code == other {
		other = "HZI002"
	}
	for _, c := range []struct {
		who  string
		cl   *client
		want int
	}{
		{"another inspector", mk("insp.other", accounts.RoleInspector, "region:3301"), http.StatusForbidden},
		{"the institution's admin", mk("inst.admin", accounts.RoleInstitutionAdmin, "org:"+code), http.StatusOK},
		{"the regulator", mustLogin(t, srv, "admin"), http.StatusOK},
		{"a caregiver", mustLogin(t, srv, "caregiver"), http.StatusForbidden},
		{"another institution's admin", mk("inst.other", accounts.RoleInstitutionAdmin, "org:"+other), http.StatusForbidden},
	} {
		if r := c.cl.do("GET", path, nil, nil); r.Status != c.want {
			t.Errorf("%s: %d, want %d", c.who, r.Status, c.want)
		}
	}
	if r := newClient(t, srv).do("GET", path, nil, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", r.Status)
	}
}

// makeReady marks every roster member not scanned absent and counts every class not counted, through
// the API as the inspector's phone would.
func makeReady(t *testing.T, srv *servertest.Instance, inspectionID, userID int64) {
	t.Helper()
	ctx := context.Background()
	x, err := srv.App.Audits.Inspection(ctx, inspectionID)
	if err != nil {
		t.Fatal(err)
	}
	a, err := srv.App.Audits.Assess(ctx, x, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range a.People {
		if !p.Scanned && !p.Absent {
			if err := srv.App.Audits.MarkAbsent(ctx, userID, inspectionID, p.RosterID, "病假"); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range a.Classes {
		if !c.Counted {
			if err := srv.App.Audits.SetHeadcount(ctx, userID, inspectionID, audits.Headcount{ClassID: c.ClassID, Children: 3, Caregivers: 1}); err != nil {
				t.Fatal(err)
			}
		}
	}
}
