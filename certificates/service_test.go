package certificates

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/internal/failure"
	"shanyu/internal/jobs"
	"shanyu/internal/pg"
	"shanyu/internal/pgtest"
)

// fixture is a fresh database with a centre, signing keys and a service that issues into it.
type fixture struct {
	db      *pgxpool.Pool
	svc     *Service
	acc     *accounts.Service
	centre  int64
	hours   *fakeHours
	results atomic.Int64
}

type fakeHours struct {
	mu    sync.Mutex
	hours float64
}

func (f *fakeHours) CompletedHours(context.Context, int64, string, time.Time, time.Time) (float64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hours, nil
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db := pgtest.NewCounting(t) // a plain pool whose statements a test may count
	if _, err := accounts.SeedRegions(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, _, err := EnsureSigningKey(ctx, db, testSecret); err != nil {
		t.Fatal(err)
	}
	if _, _, err := EnsurePDFSigner(ctx, db, testSecret, "Shanyu Test CA", "http://127.0.0.1:1", time.Now()); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, hours: &fakeHours{}}
	if err := db.QueryRow(ctx, `INSERT INTO organisations (kind, code, name, name_en, region_code)
		VALUES ('training_centre', 'HZ001', '杭州市婴幼儿照护服务实训中心', 'Hangzhou Infant Care Training Centre', '330106') RETURNING id`).Scan(&f.centre); err != nil {
		t.Fatal(err)
	}
	acc, err := accounts.New(db, testSecret, accounts.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	f.acc = acc
	q, err := jobs.NewInserter(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = New(db, Config{BaseURL: "https://shanyu.example.cn", Secret: testSecret, Hours: f.hours, Directory: acc, Notices: accounts.NewNotices(q)})
	r := testRenderer(t)
	f.svc.renderOnce.Do(func() { f.svc.renderer = r })
	return f
}

// person inserts a person with a name and the last four characters of an ID number.
func (f *fixture) person(t *testing.T, name, last4 string) int64 {
	t.Helper()
	var id int64
	if err := f.db.QueryRow(context.Background(), `INSERT INTO people (name, id_last4) VALUES ($1, $2) RETURNING id`, name, last4).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// request records an issuance request for a passing result of the person and returns its id.
func (f *fixture) request(t *testing.T, personID int64) int64 {
	t.Helper()
	ctx := context.Background()
	ref := fmt.Sprintf("exam_result:%d", f.results.Add(1))
	var id int64
	err := pg.WithTx(ctx, f.db, func(tx pgx.Tx) error {
		if _, err := recordRequest(ctx, tx, IssuanceRequest{ResultRef: ref, PersonID: personID, CentreID: f.centre,
			OccupationCode: "4-10-01-03", Level: 4, PassedOn: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), Hours: 120}); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT id FROM certificate_requests WHERE result_ref = $1`, ref).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) issue(t *testing.T, name string) Certificate {
	t.Helper()
	c, err := f.svc.Issue(context.Background(), f.request(t, f.person(t, name, "4525")))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) verify(t *testing.T, code string) Verification {
	t.Helper()
	v, err := f.svc.Verify(context.Background(), code, How{Method: MethodAPI, IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestIssuedCertificateFollowsFromQRToValid issues a certificate from a request and follows it as an
// inspector would: pdfsig accepts the stored PDF, the QR code read from a rendering of the page by
// zbarimg leads to a valid verification, its token verifies with the JWKS, and the uploaded file is
// recognised while a one-byte change is not.
func TestIssuedCertificateFollowsFromQRToValid(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	c := f.issue(t, "李小燕")
	if len(c.Number) != NumberLength || !strings.HasPrefix(c.Number, "S000033") || c.Number[15] != '4' || !strings.HasSuffix(c.Number, "000001") {
		t.Errorf("number %q", c.Number)
	}
	if c.State != StateValid || c.Version != 1 || !c.ExpiresOn.Equal(c.IssuedOn.AddDate(3, 0, -1)) {
		t.Errorf("certificate: %+v", c)
	}
	pdfBytes, err := f.svc.PDF(ctx, c.Number)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "c.pdf")
	if err := os.WriteFile(path, pdfBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := tool(t, "pdfsig", path); err != nil || !strings.Contains(out, "Signature is Valid") {
		t.Fatalf("pdfsig: %v\n%s", err, out)
	}
	links := decodeQR(t, renderPNG(t, pdfBytes, 150))
	if len(links) != 1 || !strings.HasPrefix(links[0], "https://shanyu.example.cn/v/") {
		t.Fatalf("QR codes: %q", links)
	}
	code, token, ok := SplitQRLink(links[0])
	if !ok || code != c.Code {
		t.Fatalf("QR link %q: code %q, want %q", links[0], code, c.Code)
	}
	v := f.verify(t, code)
	if v.State != StateValid || v.Number != c.Number || v.MaskedName != "李*" || v.Hours != 120 || v.IssuerName != "杭州市婴幼儿照护服务实训中心" {
		t.Errorf("verification: %+v", v)
	}
	jwks, err := JWKS(ctx, f.db)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := VerifyToken(token, jwks)
	if err != nil || claims.Number != c.Number || claims.MaskedName != "李*" || !claims.ExpiresOn.Equal(c.ExpiresOn) {
		t.Errorf("offline token: %+v, %v", claims, err)
	}

	got, err := f.svc.CheckPDF(ctx, pdfBytes, How{Method: MethodPDF})
	if err != nil || got.Number != c.Number || got.State != StateValid || got.File != FileIssued {
		t.Errorf("genuine PDF: %+v, %v", got, err)
	}
	changed := append([]byte(nil), pdfBytes...)
	changed[len(changed)/2] ^= 1
	if _, err := f.svc.CheckPDF(ctx, changed, How{Method: MethodPDF}); !errors.Is(err, ErrPDFUnknown) {
		t.Errorf("changed PDF: %v, want unknown", err)
	}
	// An incremental update appended after the signature: the file begins with the issued one.
	appended := append(append([]byte(nil), pdfBytes...), "\n99 0 obj\n(changed)\nendobj\n%%EOF\n"...)
	if got, err := f.svc.CheckPDF(ctx, appended, How{Method: MethodPDF}); err != nil || got.Number != c.Number || got.File != FileChangedAfterSigning {
		t.Errorf("appended PDF: %+v, %v; want changed after signing", got, err)
	}
	f.svc.FlushVerifications(ctx)
	var logged, unknown int
	if err := f.db.QueryRow(ctx, `SELECT count(*) FROM certificate_verifications WHERE certificate_id = $1`, c.ID).Scan(&logged); err != nil || logged != 3 {
		t.Errorf("verifications logged: %d, %v; want 3 (api and two pdf)", logged, err)
	}
	if err := f.db.QueryRow(ctx, `SELECT count(*) FROM certificate_verifications WHERE certificate_id IS NULL AND result = 'no_match' AND method = 'pdf'`).Scan(&unknown); err != nil || unknown != 1 {
		t.Errorf("failed PDF checks logged: %d, %v; want 1", unknown, err)
	}
	var audits int
	if err := f.db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'certificate.issue' AND subject = $1`, "certificate:"+c.Number).Scan(&audits); err != nil || audits != 1 {
		t.Errorf("issue audit entries: %d, %v", audits, err)
	}
}

// TestIssuingOneRequestManyTimesMakesOneCertificate races workers on one request, then repeats the
// request for the same result: one certificate, one number, one audit entry.
func TestIssuingOneRequestManyTimesMakesOneCertificate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	person := f.person(t, "王晓雯", "1234")
	req := f.request(t, person)
	var wg sync.WaitGroup
	numbers := make([]string, 4)
	errs := make([]error, 4)
	for i := range numbers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := f.svc.Issue(ctx, req)
			numbers[i], errs[i] = c.Number, err
		}()
	}
	wg.Wait()
	for i := range numbers {
		if errs[i] != nil || numbers[i] != numbers[0] {
			t.Errorf("worker %d: %q, %v; first got %q", i, numbers[i], errs[i], numbers[0])
		}
	}
	// The exams domain publishing the same result again requests nothing new.
	err := pg.WithTx(ctx, f.db, func(tx pgx.Tx) error {
		_, err := recordRequest(ctx, tx, IssuanceRequest{ResultRef: "exam_result:1", PersonID: person, CentreID: f.centre,
			OccupationCode: "4-10-01-03", Level: 4, PassedOn: time.Now()})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var certs, audits int
	var status string
	_ = f.db.QueryRow(ctx, `SELECT count(*) FROM certificates`).Scan(&certs)
	_ = f.db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'certificate.issue'`).Scan(&audits)
	_ = f.db.QueryRow(ctx, `SELECT status FROM certificate_requests WHERE id = $1`, req).Scan(&status)
	if certs != 1 || audits != 1 || status != "issued" {
		t.Errorf("certificates %d, audit entries %d, request %s; want 1, 1, issued", certs, audits, status)
	}
	p, err := f.svc.CentreProgress(ctx, f.centre)
	if err != nil || p != (Progress{Issued: 1}) {
		t.Errorf("progress %+v, %v", p, err)
	}
}

// TestSerialsHaveNoGapsUnderConcurrency issues for many requests of one centre and level at once.
func TestSerialsHaveNoGapsUnderConcurrency(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	const n = 12
	reqs := make([]int64, n)
	for i := range reqs {
		reqs[i] = f.request(t, f.person(t, fmt.Sprintf("张%c%c", '一'+rune(i), '明'), "0000"))
	}
	var wg sync.WaitGroup
	for _, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.svc.Issue(ctx, r); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	rows, _ := f.db.Query(ctx, `SELECT right(number, 6)::int FROM certificates ORDER BY 1`)
	serials, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range serials {
		if int(s) != i+1 {
			t.Fatalf("serials %v, want 1..%d", serials, n)
		}
	}
	if len(serials) != n {
		t.Fatalf("%d certificates, want %d", len(serials), n)
	}
}

// TestSerialLimitIsEnforced fills a counter to the last serial the number format allows: the next
// issuance fails without making a certificate or using up a serial, and the one before it ends in
// 999999.
func TestSerialLimitIsEnforced(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	year := f.svc.today().Year()
	if _, err := f.db.Exec(ctx, `INSERT INTO certificate_serials (centre_id, year, level, last_serial) VALUES ($1, $2, 4, 999998)`,
		f.centre, year); err != nil {
		t.Fatal(err)
	}
	c := f.issue(t, "王晓雯")
	want, _ := Number{EvaluatorType: 'S', EvaluatorCode: "0000", Province: "33", SiteSerial: int(f.centre), Year: year, Level: 4, Serial: 999999}.Format()
	if c.Number != want {
		t.Fatalf("number %s, want %s", c.Number, want)
	}
	req := f.request(t, f.person(t, "李思远", "1234"))
	if _, err := f.svc.Issue(ctx, req); err == nil || !strings.Contains(err.Error(), "certificate_serials_last_serial_check") {
		t.Fatalf("issuing past serial 999999: %v", err)
	}
	var n, last int
	if err := f.db.QueryRow(ctx, `SELECT (SELECT count(*) FROM certificates), (SELECT last_serial FROM certificate_serials WHERE centre_id = $1 AND year = $2 AND level = 4)`,
		f.centre, year).Scan(&n, &last); err != nil {
		t.Fatal(err)
	}
	if n != 1 || last != 999999 {
		t.Fatalf("%d certificates, last serial %d; want 1 and 999999", n, last)
	}
}

// TestStatusChangesShowOnTheNextVerification suspends, reinstates, expires and revokes.
func TestStatusChangesShowOnTheNextVerification(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	c := f.issue(t, "陈一鸣")
	step := func(action, reason, want string, wantErr error) {
		t.Helper()
		_, err := f.svc.ChangeStatus(ctx, 0, "192.0.2.9", c.Number, action, reason)
		if !errors.Is(err, wantErr) && !(wantErr == nil && err == nil) {
			t.Fatalf("%s: %v, want %v", action, err, wantErr)
		}
		if v := f.verify(t, c.Code); v.State != want {
			t.Fatalf("after %s: %s, want %s", action, v.State, want)
		}
	}
	step(ActionSuspend, "", StateValid, ErrReasonRequired)
	step(ActionSuspend, "投诉调查中", StateSuspended, nil)
	step(ActionSuspend, "again", StateSuspended, ErrStatusTransition)
	step(ActionReinstate, "调查结束", StateValid, nil)

	if _, err := f.db.Exec(ctx, `UPDATE certificates SET issued_on = '2020-01-01', expires_on = '2022-12-31' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if v := f.verify(t, c.Code); v.State != StateExpired {
		t.Fatalf("past expiry: %s", v.State)
	}
	step(ActionRevoke, "以欺骗手段取得", StateRevoked, nil)
	step(ActionReinstate, "undo", StateRevoked, ErrStatusTransition)

	var audits int
	_ = f.db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE subject = $1 AND action IN ('certificate.suspend', 'certificate.reinstate', 'certificate.revoke')`,
		"certificate:"+c.Number).Scan(&audits)
	if audits != 3 {
		t.Errorf("%d status audit entries, want 3", audits)
	}

	// The status list published for offline verifiers has the certificate's bit set.
	jwt, err := f.svc.StatusListCredential(ctx, PurposeRevocation)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := JWKS(ctx, f.db)
	cred, err := VerifyCredential(jwt, jwks)
	if err != nil {
		t.Fatal(err)
	}
	list, err := DecodeStatusList(cred["credentialSubject"].(map[string]any)["encodedList"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if !list.Get(c.StatusIndex) || list.Get(c.StatusIndex+1) {
		t.Errorf("revocation bit %d not set alone", c.StatusIndex)
	}
	if v := f.verify(t, "aaaaaaaaaaaaaaaaaaaaaaaaaa"); v.State != StateUnknown {
		t.Errorf("unknown code: %s", v.State)
	}
}

// TestOldCertificatesVerifyAfterRotation issues, rotates the key, issues again: both tokens verify.
func TestOldCertificatesVerifyAfterRotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	before := f.issue(t, "刘佳琪")
	if _, err := RotateKey(ctx, f.db, testSecret); err != nil {
		t.Fatal(err)
	}
	after := f.issue(t, "赵子涵")
	if before.KeyID == after.KeyID {
		t.Fatalf("same key %s before and after rotation", before.KeyID)
	}
	jwks, _ := JWKS(ctx, f.db)
	for _, c := range []Certificate{before, after} {
		var token string
		_ = f.db.QueryRow(ctx, `SELECT token FROM certificates WHERE id = $1`, c.ID).Scan(&token)
		if claims, err := VerifyToken(token, jwks); err != nil || claims.KeyID != c.KeyID {
			t.Errorf("%s: %+v, %v", c.Number, claims, err)
		}
	}
}

// TestLookupRevealsNothingAndIsRateLimited: any wrong part gives the same error; then the limit.
func TestLookupRevealsNothingAndIsRateLimited(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	c := f.issue(t, "周雨桐")
	how := How{Method: MethodLookup, IP: "198.51.100.7"}
	v, err := f.svc.Lookup(ctx, strings.ToLower(c.Number), "周雨桐", "4525", how)
	if err != nil || v.Number != c.Number || v.State != StateValid {
		t.Fatalf("right look-up: %+v, %v", v, err)
	}
	wrong := [][3]string{{c.Number, "周雨", "4525"}, {c.Number, "周雨桐", "4526"}, {"S000033000001264000009", "周雨桐", "4525"}, {"", "", ""}}
	var first error
	for _, w := range wrong {
		_, err := f.svc.Lookup(ctx, w[0], w[1], w[2], how)
		if !errors.Is(err, ErrNoMatch) {
			t.Fatalf("%q: %v", w, err)
		}
		if first == nil {
			first = err
		} else if err.Error() != first.Error() {
			t.Errorf("different no-match errors: %v and %v", err, first)
		}
	}
	for i := len(wrong) + 1; i < LookupLimit; i++ {
		_, _ = f.svc.Lookup(ctx, c.Number, "x", "0000", how)
	}
	if _, err := f.svc.Lookup(ctx, c.Number, "周雨桐", "4525", how); !errors.Is(err, ErrTooManyLookups) {
		t.Fatalf("after %d look-ups: %v, want too many", LookupLimit, err)
	}
	if _, err := f.svc.Lookup(ctx, c.Number, "周雨桐", "4525", How{Method: MethodLookup, IP: "198.51.100.8"}); err != nil {
		t.Errorf("another address is not limited: %v", err)
	}
}

// TestRenewalNeedsTheHours renews once the hours are met: same number, new version, new validity;
// the old PDF is then recognised as genuine but superseded.
func TestRenewalNeedsTheHours(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	c := f.issue(t, "吴思远")
	old, _ := f.svc.PDF(ctx, c.Number)
	if _, err := f.db.Exec(ctx, `UPDATE certificates SET issued_on = issued_on - 1000, expires_on = expires_on - 1000 WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	f.hours.hours = 30
	_, err := f.svc.Renew(ctx, 0, c.Number)
	if !errors.Is(err, ErrRenewalHours) {
		t.Fatalf("with 30 of 60 hours: %v", err)
	}
	// The refusal says how many hours are missing, then how many are done and required.
	if fe := failure.As(err); fe == nil || fmt.Sprint(fe.Msg.Args) != "[30 30 60]" {
		t.Errorf("refusal's figures: %v, want missing 30, done 30, required 60", fe)
	}
	f.hours.hours = 64
	r, err := f.svc.Renew(ctx, 0, c.Number)
	if err != nil {
		t.Fatal(err)
	}
	if r.Number != c.Number || r.Code != c.Code || r.Version != 2 || !r.IssuedOn.After(c.IssuedOn.AddDate(0, 0, -1000)) || sha256.Sum256(old) == [32]byte(r.PDFSHA256) {
		t.Errorf("renewed: %+v", r)
	}
	v, err := f.svc.CheckPDF(ctx, old, How{Method: MethodPDF})
	if err != nil || !v.Superseded || v.Version != 2 {
		t.Errorf("old PDF: %+v, %v", v, err)
	}
}

// TestListIsScoped: a person sees their own; a centre scope sees its centre's; other regions nothing.
func TestListIsScoped(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a := f.issue(t, "甲乙丙")
	f.issue(t, "丁戊己")
	cases := []struct {
		name  string
		scope Scope
		want  int
	}{
		{"own", Scope{PersonID: a.PersonID}, 1},
		{"centre", Scope{Centres: []string{"HZ001"}}, 2},
		{"region", Scope{Regions: []string{"3301"}}, 2},
		{"other region", Scope{Regions: []string{"3302"}}, 0},
		{"nothing", Scope{}, 0},
	}
	for _, tc := range cases {
		items, total, err := f.svc.List(ctx, Filter{Scope: tc.scope})
		if err != nil || total != tc.want || len(items) != tc.want {
			t.Errorf("%s: %d items, total %d, %v; want %d", tc.name, len(items), total, err, tc.want)
		}
	}
	soon, _, err := f.svc.List(ctx, Filter{Scope: Scope{All: true}, ExpiresUntil: time.Now().AddDate(3, 1, 0)})
	if err != nil || len(soon) != 2 {
		t.Errorf("expiring within 3 years and a month: %d, %v", len(soon), err)
	}
}

// TestIssuedCertificateAsOpenBadge: the holder's OB 3.0 download validates against the 1EdTech
// schema, verifies with the JWKS, carries the number as licenseNumber and points at the status list.
func TestIssuedCertificateAsOpenBadge(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	c := f.issue(t, "郑思齐")
	jwt, err := f.svc.OpenBadge(ctx, c.Number)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := JWKS(ctx, f.db)
	cred, err := VerifyCredential(jwt, jwks)
	if err != nil {
		t.Fatal(err)
	}
	if err := obSchema(t).Validate(cred); err != nil {
		t.Fatalf("OB 3.0 schema: %v", err)
	}
	if cred["credentialSubject"].(map[string]any)["licenseNumber"] != c.Number {
		t.Errorf("licenseNumber: %v", cred["credentialSubject"])
	}
	st := cred["credentialStatus"].(map[string]any)
	if st["statusListCredential"] != f.svc.StatusListURL(PurposeRevocation) || st["statusListIndex"] != fmt.Sprint(c.StatusIndex) {
		t.Errorf("credentialStatus: %v", st)
	}
}

// TestEveryVerificationIsLoggedUnderLoad verifies through a separate public pool from many goroutines,
// more times than one batch of the log holds, and expects every verification in the log: the batches
// are taken whole and none is dropped, and the full-batch flush does not lose the records that
// arrive while it writes.
func TestEveryVerificationIsLoggedUnderLoad(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	c := f.issue(t, "赵六")
	side, err := pg.Side(ctx, f.db, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer side.Close()
	svc := New(f.db, Config{BaseURL: "https://shanyu.example.cn", Secret: testSecret, Public: side, Hours: f.hours, Directory: f.acc, Notices: f.svc.notices})
	const workers, each = 16, 200 // 3,200 > logBatchMax
	var wg sync.WaitGroup
	var failed atomic.Int32
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				code := c.Code
				if i%20 == 0 {
					code = "unknown-code"
				}
				v, err := svc.Verify(ctx, code, How{Method: MethodAPI, IP: "192.0.2.7"})
				if err != nil || (code == c.Code && v.State != StateValid) {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d verifications failed", failed.Load())
	}
	n, err := svc.VerificationCount(ctx, c.ID)
	if err != nil || n != workers*each*19/20 {
		t.Errorf("verifications of the certificate logged: %d, %v; want %d", n, err, workers*each*19/20)
	}
	var unknown int
	if err := f.db.QueryRow(ctx, `SELECT count(*) FROM certificate_verifications WHERE certificate_id IS NULL AND result = 'unknown' AND ip = '192.0.2.7'`).Scan(&unknown); err != nil || unknown != workers*each/20 {
		t.Errorf("unknown codes logged: %d, %v; want %d", unknown, err, workers*each/20)
	}
}

// TestCertificateKeepsHolderAndIssuerAsIssued renames the holder and the centre after issuance (as
// accounts may) and expects the certificate to keep what it printed: the OB 3.0 credential asserts
// the old names, the look-up by name matches the printed name and not the new one, and lists and the
// verification show the old issuer.
func TestCertificateKeepsHolderAndIssuerAsIssued(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	c := f.issue(t, "林晓梅")
	if _, err := f.db.Exec(ctx, `UPDATE people SET name = '林晓雪' WHERE id = $1`, c.PersonID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Exec(ctx, `UPDATE organisations SET name = '改名后的中心', name_en = 'Renamed Centre', code = 'HZ009' WHERE id = $1`, f.centre); err != nil {
		t.Fatal(err)
	}
	jwt, err := f.svc.OpenBadge(ctx, c.Number)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := JWKS(ctx, f.db)
	cred, err := VerifyCredential(jwt, jwks)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(cred)
	for _, want := range []string{"林晓梅", "杭州市婴幼儿照护服务实训中心"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("credential lacks %q: %s", want, raw)
		}
	}
	for _, unwanted := range []string{"林晓雪", "改名后的中心"} {
		if strings.Contains(string(raw), unwanted) {
			t.Errorf("credential follows the later edit %q: %s", unwanted, raw)
		}
	}
	how := How{Method: MethodLookup, IP: "198.51.100.20"}
	if v, err := f.svc.Lookup(ctx, c.Number, "林晓梅", "4525", how); err != nil || v.Number != c.Number {
		t.Errorf("look-up by the printed name: %+v, %v", v, err)
	}
	if _, err := f.svc.Lookup(ctx, c.Number, "林晓雪", "4525", how); !errors.Is(err, ErrNoMatch) {
		t.Errorf("look-up by the later name: %v, want no match", err)
	}
	items, _, err := f.svc.List(ctx, Filter{Scope: Scope{Centres: []string{"HZ001"}}})
	if err != nil || len(items) != 1 || items[0].HolderName != "林晓梅" || items[0].CentreName != "杭州市婴幼儿照护服务实训中心" {
		t.Errorf("list by the issuing centre's code: %+v, %v", items, err)
	}
	if v := f.verify(t, c.Code); v.IssuerName != "杭州市婴幼儿照护服务实训中心" {
		t.Errorf("verification issuer: %+v", v)
	}
}
