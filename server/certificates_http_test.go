package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/app/demo"
	"shanyu/certificates"
	"shanyu/internal/browsertest"
	"shanyu/internal/config"
	"shanyu/internal/servertest"
)

// Fixtures seeded once per test binary into a template database, each server getting its own clone
// (servertest.Seeded): the whole demo, its accounts only, the exam-setup bank, the curriculum's.
var (
	demoSeeded         = &servertest.Seeded{Name: "demo", Setup: seedDemo}
	demoAccountsSeeded = &servertest.Seeded{Name: "demo-accounts", Setup: seedDemoAccounts}
	setupBankSeeded    = &servertest.Seeded{Name: "setup-bank", Setup: seedSetupBank}
	curriculumSeeded   = &servertest.Seeded{Name: "curriculum", Setup: seedCurriculumAccounts}
)

// seedDemo gives a test server the whole demo, certificates included.
func seedDemo(pool *pgxpool.Pool) error {
	cfg, err := config.Parse(func(string) string { return "" })
	if err != nil {
		return err
	}
	return demo.Seed(context.Background(), cfg, pool, io.Discard)
}

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed (apt-get install poppler-utils zbar-tools)", name)
	}
	out, _ := exec.Command(name, args...).CombinedOutput()
	return string(out)
}

// TestCertificateChainFromOutside follows the demo data as an outsider would: the caregiver lists
// their certificate and downloads its PDF; pdfsig validates it; the QR code read from a rendering of
// it leads to a valid verification whose token checks out with the published keys; the centre
// revokes it and the next verification says revoked.
func TestCertificateChainFromOutside(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	cg := mustLogin(t, srv, "caregiver")
	list := cg.send("GET", "/api/v1/certificates?limit=10", nil)
	if list.Status != http.StatusOK {
		t.Fatalf("list: %d %s", list.Status, list.Body)
	}
	var items struct {
		Items []struct{ Number, Code, Status string } `json:"items"`
	}
	if err := json.Unmarshal(list.Body, &items); err != nil || len(items.Items) != 1 || items.Items[0].Status != "valid" {
		t.Fatalf("caregiver's certificates: %s", list.Body)
	}
	number, code := items.Items[0].Number, items.Items[0].Code

	pdfRes := cg.send("GET", "/api/v1/certificates/"+number+"/pdf", nil)
	if pdfRes.Status != http.StatusOK || pdfRes.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("pdf: %d %s", pdfRes.Status, pdfRes.Header)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "c.pdf")
	if err := os.WriteFile(path, pdfRes.Body, 0o600); err != nil {
		t.Fatal(err)
	}
	if out := runTool(t, "pdfsig", path); !strings.Contains(out, "Signature is Valid") {
		t.Fatalf("pdfsig:\n%s", out)
	}
	runTool(t, "pdftoppm", "-r", "150", "-png", "-singlefile", path, filepath.Join(dir, "page"))
	link := strings.TrimSpace(runTool(t, "zbarimg", "--nodbus", "-q", "--raw", filepath.Join(dir, "page.png")))
	qrCode, token, ok := certificates.SplitQRLink(link)
	if !ok || qrCode != code {
		t.Fatalf("QR link %q; want code %s", link, code)
	}

	anon := newClient(t, srv)
	v := anon.do("GET", "/api/v1/verify/"+qrCode, nil, nil).json(t)
	if v["status"] != "valid" || v["number"] != number || v["masked_name"] != "李*" || v["issuer"] != "杭州市婴幼儿照护服务实训中心" {
		t.Fatalf("verification: %v", v)
	}
	var jwks certificates.JWKSet
	if err := json.Unmarshal(anon.do("GET", "/.well-known/jwks.json", nil, nil).Body, &jwks); err != nil {
		t.Fatal(err)
	}
	if claims, err := certificates.VerifyToken(token, jwks); err != nil || claims.Number != number {
		t.Fatalf("offline token: %+v %v", claims, err)
	}
	badge := cg.send("GET", "/api/v1/certificates/"+number+"/ob3", nil)
	cred, err := certificates.VerifyCredential(string(badge.Body), jwks)
	if err != nil || cred["credentialSubject"].(map[string]any)["licenseNumber"] != number {
		t.Fatalf("OB3: %v %v", cred, err)
	}

	// The genuine file is recognised; a one-byte change is not.
	if r := uploadPDF(t, anon, pdfRes.Body); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"status":"valid"`) {
		t.Errorf("genuine upload: %d %s", r.Status, r.Body)
	}
	changed := append([]byte(nil), pdfRes.Body...)
	changed[len(changed)/3] ^= 0x20
	if r := uploadPDF(t, anon, changed); r.Status != http.StatusNotFound {
		t.Errorf("changed upload: %d %s", r.Status, r.Body)
	}

	// Neither the holder nor another organisation may revoke; the issuing centre may.
	reason := map[string]string{"reason": "证书信息有误"}
	if r := cg.send("POST", "/api/v1/certificates/"+number+"/revoke", reason); r.Status != http.StatusForbidden {
		t.Errorf("caregiver revokes: %d %s", r.Status, r.Body)
	}
	inst := mustLogin(t, srv, "institution")
	if r := inst.send("POST", "/api/v1/certificates/"+number+"/suspend", reason); r.Status != http.StatusNotFound {
		t.Errorf("institution suspends: %d %s", r.Status, r.Body)
	}
	centre := mustLogin(t, srv, "centre")
	if r := centre.send("POST", "/api/v1/certificates/"+number+"/revoke", map[string]string{"reason": " "}); r.Status != http.StatusBadRequest && r.Status != http.StatusUnprocessableEntity {
		t.Errorf("revoke without reason: %d %s", r.Status, r.Body)
	}
	if r := centre.send("POST", "/api/v1/certificates/"+number+"/revoke", reason); r.Status != http.StatusOK {
		t.Fatalf("centre revokes: %d %s", r.Status, r.Body)
	}
	if v := anon.do("GET", "/api/v1/verify/"+code, nil, nil).json(t); v["status"] != "revoked" {
		t.Errorf("after revocation: %v", v)
	}
	page := anon.do("GET", "/v/"+code, nil, nil)
	if page.Status != http.StatusOK || !strings.Contains(string(page.Body), "证书已撤销") {
		t.Errorf("verification page after revocation: %d", page.Status)
	}
	if r := anon.do("GET", "/api/v1/verify/aaaaaaaaaaaaaaaaaaaaaaaaaa", nil, nil).json(t); r["status"] != "unknown" {
		t.Errorf("unknown code: %v", r)
	}
}

func uploadPDF(t *testing.T, c *client, file []byte) response {
	t.Helper()
	return c.multipart("/api/v1/verify/pdf", nil, "file", "c.pdf", file, nil)
}

// TestCertificateListsAreScoped: the regulator sees the province, a centre its own, an institution
// administrator none; the centre's zip holds its PDFs.
func TestCertificateListsAreScoped(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	total := func(user, query string) float64 {
		t.Helper()
		r := mustLogin(t, srv, user).send("GET", "/api/v1/certificates"+query, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", user, r.Status, r.Body)
		}
		return r.json(t)["total"].(float64)
	}
	all, hz := total("admin", ""), total("centre", "")
	if all < 4 || hz < 3 || hz >= all {
		t.Errorf("regulator sees %v, centre HZ001 %v", all, hz)
	}
	if n := total("institution", ""); n != 0 {
		t.Errorf("institution administrator sees %v", n)
	}
	if n := total("admin", "?status=revoked"); n < 1 {
		t.Errorf("revoked: %v", n)
	}
	if n := total("centre", "?expiring_days=31"); n < 1 {
		t.Errorf("expiring within 31 days: %v", n)
	}
	zipRes := mustLogin(t, srv, "centre").send("GET", "/api/v1/certificates/archive", nil)
	if zipRes.Status != http.StatusOK || !bytes.HasPrefix(zipRes.Body, []byte("PK")) {
		t.Errorf("archive: %d %.40q", zipRes.Status, zipRes.Body)
	}
	if r := mustLogin(t, srv, "caregiver").send("GET", "/api/v1/certificates/archive", nil); r.Status != http.StatusForbidden {
		t.Errorf("caregiver archive: %d", r.Status)
	}
}

// TestManualLookup: the right number, name and last 4 verify; anything else says the same "no match".
func TestManualLookup(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	cg := mustLogin(t, srv, "caregiver")
	var items struct {
		Items []struct{ Number string } `json:"items"`
	}
	_ = json.Unmarshal(cg.send("GET", "/api/v1/certificates", nil).Body, &items)
	if len(items.Items) != 1 {
		t.Fatal("no certificate")
	}
	anon := newClient(t, srv)
	ok := anon.do("POST", "/api/v1/verify/lookup", map[string]string{"number": items.Items[0].Number, "name": "李小燕", "id_last4": "4525"}, nil)
	if ok.Status != http.StatusOK || ok.json(t)["status"] != "valid" {
		t.Fatalf("lookup: %d %s", ok.Status, ok.Body)
	}
	a := anon.do("POST", "/api/v1/verify/lookup", map[string]string{"number": items.Items[0].Number, "name": "李小燕", "id_last4": "4526"}, nil)
	b := anon.do("POST", "/api/v1/verify/lookup", map[string]string{"number": items.Items[0].Number, "name": "李小", "id_last4": "4525"}, nil)
	strip := func(r response) string {
		m := r.json(t)["error"].(map[string]any)
		return m["code"].(string) + m["message"].(string)
	}
	if a.Status != http.StatusNotFound || b.Status != a.Status || strip(a) != strip(b) {
		t.Errorf("no-match answers differ: %d %s / %d %s", a.Status, a.Body, b.Status, b.Body)
	}
}

// TestVerificationPageOnAPhone shows a valid and a revoked certificate at 360 px.
func TestVerificationPageOnAPhone(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	admin := mustLogin(t, srv, "admin")
	codes := map[string]string{}
	for _, state := range []string{"valid", "revoked"} {
		var items struct {
			Items []struct{ Code string } `json:"items"`
		}
		_ = json.Unmarshal(admin.send("GET", "/api/v1/certificates?status="+state, nil).Body, &items)
		if len(items.Items) == 0 {
			t.Fatalf("no %s certificate in the demo", state)
		}
		codes[state] = items.Items[0].Code
	}
	ctx := browsertest.New(t, browsertest.Phone)
	for state, want := range map[string]string{"valid": "有效证书", "revoked": "证书已撤销"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/v/"+codes[state]), chromedp.WaitVisible(chromedp.CSS(".verdict h1"))); err != nil {
			t.Fatal(err)
		}
		h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".verdict h1")))
		if err != nil || h1 != want {
			t.Errorf("%s: heading %q, want %q (%v)", state, h1, want, err)
		}
		cls, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.querySelector('.verdict').className"))
		if err != nil || !strings.Contains(cls, "verdict-"+state) {
			t.Errorf("%s: verdict class %q", state, cls)
		}
		// The verdict is visible without scrolling: its bottom lies within the first screen.
		bottom, err := chromedp.Run(ctx, chromedp.Evaluate[float64]("document.querySelector('.verdict').getBoundingClientRect().bottom"))
		if err != nil || bottom > 740 {
			t.Errorf("%s: verdict ends at %v px", state, bottom)
		}
		browsertest.AssertFits(t, ctx, browsertest.Phone)
		browsertest.Screenshot(t, ctx, "verify-"+state+"-phone")
	}
}

// TestCertificatePagesOnAPhone: the caregiver's certificates and the centre's list hold at 360 px.
func TestCertificatePagesOnAPhone(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	for _, tc := range []struct{ user, path, shot, want string }{
		{"caregiver", "/certificates/mine", "certificates-mine-phone", "下载 PDF"},
		{"centre", "/certificates", "certificates-centre-phone", "批量下载"},
	} {
		ctx := browsertest.New(t, browsertest.Phone)
		signIn(t, ctx, srv.URL, "/", tc.user)
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+tc.path), chromedp.WaitVisible(chromedp.CSS("main h1"))); err != nil {
			t.Fatal(err)
		}
		body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		if err != nil || !strings.Contains(body, tc.want) {
			t.Errorf("%s: page lacks %q (%v)", tc.path, tc.want, err)
		}
		browsertest.AssertFits(t, ctx, browsertest.Phone)
		browsertest.Screenshot(t, ctx, tc.shot)
	}
}
