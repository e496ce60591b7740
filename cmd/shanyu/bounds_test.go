package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/zlib"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"shanyu/accounts"
	"shanyu/audits"
	"shanyu/internal/config"
	"shanyu/internal/pgtest"
	"shanyu/internal/servertest"
)

// uploadBudget is the most one upload may add to the server's resident memory (README, "Bounds").
const uploadBudget = 256 << 20

// loginBudget is the most a storm of sign-ins may add: SHANYU_AUTH_MEMORY_MB (512) plus slack.
const loginBudget = 600 << 20

// The server, built without the race detector as it is deployed, is sent a bomb of each kind one
// after the other; for each, its peak resident memory (VmHWM, reset before the request) may grow by
// at most uploadBudget over what it held before, and the answer must be a refusal or a bounded
// preview, never a 5xx. Then a storm of sign-ins may grow it by at most loginBudget, with no errors.
func TestBombsStayWithinTheMemoryBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the real binary")
	}
	srv := startBinary(t)
	inst := srv.login(t, "institution")
	centre := srv.login(t, "centre")

	type bomb struct {
		name   string
		client *benchHTTP
		path   string
		fields map[string]string
		file   string // the file's name, after "field:" when its form field is not "file"
		data   func() []byte
		want   int
		says   []string // the answer names one of these (the refusal, or that the file was kept)
	}
	roster, bankPreview := "/api/v1/institutions/HZI001/roster/import", "/api/v1/centres/HZ001/bank/import/preview"
	gift := map[string]string{"format": "gift"}
	// A background check's document is a photo or a PDF, stored as sent (typed by its content,
	// never decoded): for a staff member on the roster (a fixture row), so that it is stored.
	var rosterID int64
	if err := pgtest.Open(t, srv.dbURL).QueryRow(context.Background(), `WITH p AS (INSERT INTO people (name) VALUES ('核查测试') RETURNING id)
		INSERT INTO audit_roster (organisation_id, person_id, name) SELECT o.id, p.id, '核查测试' FROM organisations o, p
		WHERE o.code = 'HZI001' RETURNING id`).Scan(&rosterID); err != nil {
		t.Fatal(err)
	}
	// A lesson attachment (a PDF or picture, at most 10 MB, stored as sent) on a course of the centre
	// admin's own centre, and a photo of a finding on an open inspection the demo inspector holds.
	courseID, lessonID := srv.course(t, centre)
	attach := fmt.Sprintf("/centre/courses/%d/lessons/%d/attachments", courseID, lessonID)
	inspector := srv.login(t, "inspector")
	inspectionID, findingID := srv.openFinding(t)
	photos := fmt.Sprintf("/inspections/%d/findings/%d/photos", inspectionID, findingID)
	attached, attachTooLarge := []string{"附件已上传到草稿", "attachment was added"}, []string{"文件不能超过 10 MB", "larger than 10 MB"}
	// The inspection page links a kept photo; a refused one is said (the too-large one goes first).
	photoKept, photoTooLarge := []string{fmt.Sprintf("/inspections/%d/photos/", inspectionID)}, []string{"照片不能超过 8 MB", "at most 8 MB"}
	check := map[string]string{"roster_id": fmt.Sprint(rosterID), "kind": "employment_ban", "checked_on": time.Now().Format("2006-01-02"), "result": "clear"}
	bombs := []bomb{
		{"roster xlsx: a 200 MiB worksheet", inst, roster, nil, "r.xlsx", func() []byte { return xlsxBomb(t, 200<<20, false, sheetRows) }, 422, nil},
		{"roster xlsx: a worksheet that lies about its size", inst, roster, nil, "r.xlsx", func() []byte { return xlsxBomb(t, 200<<20, true, sheetRows) }, 422, nil},
		{"roster xlsx: 60 MiB of rows inside the limits", inst, roster, nil, "r.xlsx", func() []byte { return xlsxBomb(t, 60<<20, false, sheetRows) }, 422, nil},
		{"roster csv: 5 MB of lines", inst, roster, nil, "r.csv", func() []byte { return csvBomb(5 << 20) }, 422, nil},
		// Between preview and import the page carries the file as base64 in a form field, decoded and
		// read by the same bounds.
		{"roster xlsx carried from the preview: a 200 MiB worksheet", inst, roster, carried(t, "xlsx", xlsxBomb(t, 200<<20, false, sheetRows)), "", func() []byte { return nil }, 422, nil},
		{"roster xlsx carried from the preview: 60 MiB of rows", inst, roster, carried(t, "xlsx", xlsxBomb(t, 60<<20, false, sheetRows)), "", func() []byte { return nil }, 422, nil},
		{"roster csv carried from the preview: 12 MB of base64", inst, roster, carried(t, "csv", csvBomb(9<<20)), "", func() []byte { return nil }, 422, nil},
		{"bank xlsx: a 200 MiB worksheet", centre, bankPreview, map[string]string{"format": "xlsx"}, "b.xlsx", func() []byte { return xlsxBomb(t, 200<<20, false, sheetRows) }, 422, nil},
		{"bank xlsx: 60 MiB of question rows", centre, bankPreview, map[string]string{"format": "xlsx"}, "b.xlsx", func() []byte { return xlsxBomb(t, 60<<20, false, bankRows) }, 422, nil},
		{"bank xlsx: 30 MiB of shared strings", centre, bankPreview, map[string]string{"format": "xlsx"}, "b.xlsx", func() []byte { return xlsxBomb(t, 30<<20, false, sharedStrings) }, 422, nil},
		{"gift: 15 MB, 350,000 questions", centre, bankPreview, gift, "b.gift", func() []byte { return giftBomb(350000, 15<<20) }, 422, nil},
		{"gift: 20,000 questions, the most a file may hold", centre, bankPreview, gift, "b.gift", func() []byte { return giftBomb(20000, 15<<20) }, 200, nil},
		{"moodle xml: 200,000 nested elements", centre, bankPreview, map[string]string{"format": "moodlexml"}, "b.xml", func() []byte { return deepXML(200000) }, 422, nil},
		{"moodle xml: 15 MB of base64 picture", centre, bankPreview, map[string]string{"format": "moodlexml"}, "b.xml", func() []byte { return bigImageXML(15 << 20) }, 200, nil},
		{"pdf verification: 15 MB, over the 4 MB a PDF may be", inst, "/api/v1/verify/pdf", nil, "c.pdf", func() []byte { return pdfBomb(15 << 20) }, 422, nil},
		{"check document: a PNG of 100,000 × 100,000 pixels", inst, "/institutions/HZI001/checks", check, "document:p.png", func() []byte { return pngBomb(t, 100000, 100000) }, 200, nil},
		{"check document: an 8 MiB JPEG, the most one may be", inst, "/institutions/HZI001/checks", check, "document:p.jpg", func() []byte { return jpegSized(8 << 20) }, 200, nil},
		{"check document: a 12 MB PDF, over the limit", inst, "/institutions/HZI001/checks", check, "document:p.pdf", func() []byte { return pdfBomb(12 << 20) }, 422, nil},
		{"lesson attachment: a 12 MB PDF, over the 10 MB", centre, attach, map[string]string{}, "a.pdf", func() []byte { return pdfBomb(12 << 20) }, 422, attachTooLarge},
		{"lesson attachment: a PDF whose streams inflate to 6 GiB", centre, attach, map[string]string{}, "a.pdf", func() []byte { return pdfInflateBomb(t, 96) }, 200, attached},
		{"lesson attachment: a PNG of 100,000 × 100,000 pixels", centre, attach, map[string]string{}, "a.png", func() []byte { return pngBomb(t, 100000, 100000) }, 200, attached},
		{"finding photo: a 9 MiB JPEG, over the 8 MB", inspector, photos, map[string]string{}, "photo:p.jpg", func() []byte { return jpegSized(9 << 20) }, 200, photoTooLarge},
		{"finding photo: a PNG of 100,000 × 100,000 pixels", inspector, photos, map[string]string{}, "photo:p.png", func() []byte { return pngBomb(t, 100000, 100000) }, 200, photoKept},
	}
	for _, b := range bombs {
		data := b.data()
		if !strings.HasPrefix(b.path, "/api/") {
			b.fields["_csrf"] = b.client.csrf // a page's form, not the API
		}
		before, _ := srv.rss(t)
		if err := resetPeakRSS(srv.pid); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		status, body := b.client.multipart(t, b.path, b.fields, b.file, data)
		_, peak := srv.rss(t)
		growth := peak - before
		sent := len(data)
		for _, v := range b.fields {
			sent += len(v)
		}
		t.Logf("%-50s %6.1f MB sent → %d in %5.2fs; RSS %4.0f MiB, peak %4.0f MiB (+%.0f MiB)",
			b.name, float64(sent)/1e6, status, time.Since(t0).Seconds(), mib(before), mib(peak), mib(growth))
		if status != b.want {
			t.Errorf("%s: status %d, want %d: %.300s", b.name, status, b.want, body)
		}
		if status == b.want && strings.HasPrefix(b.path, "/institutions/") {
			// The compliance page says what became of the document: saved (200), or refused as too
			// large (422, the form shown again with the message).
			saved := bytes.Contains(body, []byte("核查已记录")) || bytes.Contains(body, []byte("Check recorded"))
			refused := bytes.Contains(body, []byte("照片不能超过 8 MB")) || bytes.Contains(body, []byte("at most 8 MB"))
			if tooLarge := len(data) > 8<<20; saved == tooLarge || refused != tooLarge {
				title, _, _ := bytes.Cut(body[min(len(body), bytes.Index(body, []byte("<title>"))+7):], []byte("</title>"))
				t.Errorf("%s: saved %v, refused as too large %v, for %d bytes (the limit is 8 MiB); page %q", b.name, saved, refused, len(data), title)
			}
		}
		if said := slices.ContainsFunc(b.says, func(m string) bool { return bytes.Contains(body, []byte(m)) }); b.says != nil && !said {
			title, _, _ := bytes.Cut(body[min(len(body), bytes.Index(body, []byte("<title>"))+7):], []byte("</title>"))
			t.Errorf("%s: the answer does not say %q; page %q", b.name, b.says, title)
		}
		if status == 200 && len(body) > 1<<20 {
			t.Errorf("%s: a %d-byte answer: a preview must answer counts and a first page", b.name, len(body))
		}
		if growth > uploadBudget {
			t.Errorf("%s: RSS grew by %.0f MiB, more than the %d MiB an upload may add", b.name, mib(growth), uploadBudget>>20)
		}
	}

	// The verification API also takes the PDF as the raw body: over 4 MB it is refused too.
	before, _ := srv.rss(t)
	if err := resetPeakRSS(srv.pid); err != nil {
		t.Fatal(err)
	}
	r, err := http.Post(srv.base+"/api/v1/verify/pdf", "application/pdf", bytes.NewReader(pdfBomb(15<<20)))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, r.Body)
	_ = r.Body.Close()
	_, peak := srv.rss(t)
	t.Logf("%-50s %6.1f MB sent → %d; RSS %4.0f MiB, peak %4.0f MiB (+%.0f MiB)", "pdf verification: 15 MB raw body", 15.7, r.StatusCode, mib(before), mib(peak), mib(peak-before))
	if r.StatusCode != http.StatusUnprocessableEntity || peak-before > uploadBudget {
		t.Errorf("pdf verification, raw body: status %d, RSS +%.0f MiB", r.StatusCode, mib(peak-before))
	}

	// A storm of sign-ins: more at once than the hashing budget admits, so that some queue.
	names, err := prepareLoginBench(context.Background(), srv.cfg, pgtest.Open(t, srv.dbURL), 48)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	res, err := runLoginBench(context.Background(), srv.base, names, 48, srv.pid, &log)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("login storm: %+v", res)
	if res.Errors != 0 {
		t.Errorf("%d of %d sign-ins failed while the queue was within its deadline:\n%s", res.Errors, len(names), log.String())
	}
	if res.RSSGrowthMB > loginBudget>>20 {
		t.Errorf("a storm of %d sign-ins grew the server by %.0f MiB, more than %d MiB", len(names), res.RSSGrowthMB, loginBudget>>20)
	}
}

// carried is the form of a file carried over from the preview: its format and its bytes in base64.
func carried(t *testing.T, format string, data []byte) map[string]string {
	t.Helper()
	return map[string]string{"format": format, "data": base64.StdEncoding.EncodeToString(data)}
}

// binaryServer is `shanyu serve` built and started by a test.
type binaryServer struct {
	base, dbURL string
	pid         int
	cfg         config.Config
}

func startBinary(t *testing.T) *binaryServer {
	t.Helper()
	bin := shanyuBinary(t)
	dbURL := pgtest.NewURL(t)
	env := map[string]string{"DATABASE_URL": dbURL}
	cfg, err := config.Parse(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pool := pgtest.Open(t, dbURL)
	if _, err := accounts.SeedRegions(ctx, pool); err != nil {
		t.Fatal(err)
	}
	acc, err := accounts.New(pool, cfg.SecretKey, accounts.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := acc.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cmd := exec.Command(bin, "serve")
	// The sign-in queue's deadline is longer than the default 30 s: on a loaded test machine (make
	// test runs packages in parallel on few cores) 48 sign-ins can take longer than that, and what
	// the storm checks is that none fails within the configured bound and memory stays bounded.
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "SHANYU_ADDR="+addr, "SHANYU_LOG_LEVEL=warn", "SHANYU_AUTH_QUEUE_S=120")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	s := &binaryServer{base: "http://" + addr, dbURL: dbURL, pid: cmd.Process.Pid, cfg: cfg}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if r, err := http.Get(s.base + "/readyz"); err == nil {
			_ = r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not become ready:\n%s", logs.String())
		}
	}
	return s
}

// course creates a course of centre HZ001 as the centre admin (c) and returns it with its first lesson.
func (s *binaryServer) course(t *testing.T, c *benchHTTP) (course, lesson int64) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"title": "内存测试课程", "summary": "测试", "occupation_code": "4-10-01-03", "level": 4, "required_hours": 1,
		"modules": []map[string]any{{"title": "模块一", "lessons": []map[string]any{{"title": "第一课", "body": "正文", "hours": 1}}}}})
	req, _ := http.NewRequest("POST", s.base+"/api/v1/centres/HZ001/courses", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", c.csrf)
	r, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var out struct {
		ID int64 `json:"id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&out); err != nil || r.StatusCode != http.StatusCreated {
		t.Fatalf("create course: %d %v", r.StatusCode, err)
	}
	// The draft's lesson, read from the fixture database (the JSON API lists published lessons only).
	if err := pgtest.Open(t, s.dbURL).QueryRow(context.Background(), `SELECT l.id FROM lessons l JOIN course_modules m ON m.id = l.module_id
		JOIN course_versions v ON v.id = m.version_id WHERE v.course_id = $1 ORDER BY v.number DESC, m.position, l.position LIMIT 1`, out.ID).Scan(&lesson); err != nil {
		t.Fatal(err)
	}
	return out.ID, lesson
}

// openFinding draws a round of one inspection in Hangzhou for the demo inspector and records a
// finding on it, as the inspector would on the day; it returns the inspection and the finding.
func (s *binaryServer) openFinding(t *testing.T) (inspection, finding int64) {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.Open(t, s.dbURL)
	full, err := servertest.Services(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(full.Close)
	acc, svc := full.Accounts, full.Audits
	admin, err := acc.UserByUsername(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	inspector, err := acc.UserByUsername(ctx, "inspector")
	if err != nil {
		t.Fatal(err)
	}
	// An inspection takes two inspectors: the demo one and a second in Hangzhou (as the full demo has).
	second, err := acc.CreateUser(ctx, 0, accounts.CreateUserInput{Username: "inspector2", Name: "钱文静", Phone: "13900000008", Password: accounts.DemoPassword})
	if err != nil {
		t.Fatal(err)
	}
	if err := acc.AddGrant(ctx, 0, second.ID, accounts.RoleInspector, accounts.RegionDomain("3301")); err != nil {
		t.Fatal(err)
	}
	round, err := svc.CreateRound(ctx, admin.ID, audits.RoundInput{RegionCode: "3301", Name: "内存测试抽查", Count: 1, PerInspection: 2, Seed: 1, On: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	mine, err := svc.InspectionsFor(ctx, inspector.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range mine {
		if x.RoundID == round.ID {
			inspection = x.ID
		}
	}
	if inspection == 0 {
		t.Fatalf("the round %+v gave the demo inspector no inspection", round)
	}
	f, err := svc.AddFinding(ctx, inspector.ID, inspection, "minor", "内存测试")
	if err != nil {
		t.Fatal(err)
	}
	return inspection, f.ID
}

func (s *binaryServer) rss(t *testing.T) (now, peak int64) {
	t.Helper()
	now, peak, err := processRSS(s.pid)
	if err != nil {
		t.Fatal(err)
	}
	return now, peak
}

// benchHTTP is a signed-in client of the binary server.
type benchHTTP struct {
	base, csrf string
	http       *http.Client
}

func (s *binaryServer) login(t *testing.T, username string) *benchHTTP {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &benchHTTP{base: s.base, http: &http.Client{Jar: jar, Timeout: 2 * time.Minute}}
	body, _ := json.Marshal(map[string]string{"username": username, "password": accounts.DemoPassword})
	r, err := c.http.Post(s.base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.NewDecoder(r.Body).Decode(&out); err != nil || r.StatusCode != 200 {
		t.Fatalf("login %s: %d %v", username, r.StatusCode, err)
	}
	c.csrf = out.CSRF
	return c
}

func (c *benchHTTP) multipart(t *testing.T, path string, fields map[string]string, name string, data []byte) (int, []byte) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	field := "file"
	if f, n, ok := strings.Cut(name, ":"); ok {
		field, name = f, n
	}
	if name != "" { // no name: the data travels in the fields alone
		fw, _ := w.CreateFormFile(field, name)
		_, _ = fw.Write(data)
	}
	_ = w.Close()
	req, _ := http.NewRequest("POST", c.base+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("X-CSRF-Token", c.csrf)
	r, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, b
}

// Worksheet contents for xlsxBomb.
const (
	sheetRows     = iota // rows of one short inline string
	bankRows             // a 题型/题干 heading, then question rows
	sharedStrings        // a small sheet and a large shared strings table
)

// xlsxBomb is a workbook whose worksheet (or shared strings table) inflates to size bytes from a few
// hundred kilobytes. With lie, the zip's directory declares a tiny size for it, which archive/zip
// must then catch while inflating.
func xlsxBomb(t *testing.T, size int64, lie bool, kind int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(name, content string) {
		w, _ := zw.Create(name)
		_, _ = io.WriteString(w, content)
	}
	put("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`)
	put("_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	put("xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="题库" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	put("xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`)
	head := `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
	tail := `</sheetData></worksheet>`
	row := `<row><c t="inlineStr"><is><t>x</t></is></c></row>`
	bomb := "xl/worksheets/sheet1.xml"
	switch kind {
	case bankRows:
		head += `<row><c t="inlineStr"><is><t>题型</t></is></c><c t="inlineStr"><is><t>题干</t></is></c></row>`
		row = `<row><c t="inlineStr"><is><t>单选题</t></is></c><c t="inlineStr"><is><t>婴儿发热时应当怎样处理？</t></is></c></row>`
	case sharedStrings:
		put(bomb, head+`<row><c t="s"><v>0</v></c></row>`+tail)
		bomb = "xl/sharedStrings.xml"
		head, tail = `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`, `</sst>`
		row = `<si><t>婴儿发热时应当怎样处理</t></si>`
	}
	// The rows in chunks of 4,096 (longer than deflate's 32 KiB window), the rest with the tail.
	n := (size - int64(len(head)+len(tail))) / int64(len(row))
	chunk := []byte(strings.Repeat(row, 4096))
	rest := strings.Repeat(row, int(n%4096)) + tail
	raw, crc, inflated := repeatedDeflate([]byte(head), chunk, n/4096, []byte(rest))
	h := &zip.FileHeader{Name: bomb, Method: zip.Deflate, CRC32: crc, CompressedSize64: uint64(len(raw)), UncompressedSize64: uint64(inflated)}
	if lie {
		h.UncompressedSize64 = 1 << 10
	}
	w, err := zw.CreateRaw(h)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(raw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// repeatedDeflate is a raw deflate stream (RFC 1951) of head, chunk n times, and tail, with the
// CRC-32 and length of what it inflates to, built in milliseconds however large: only the first two
// chunks are compressed, and the bytes of the second are sent again for each later one. That is a
// valid stream because each chunk's bytes start on a byte boundary (a sync flush) and, chunk being
// longer than the 32 KiB window, with the same window behind them, so their back-references find
// the same bytes. TestRepeatedDeflateInflatesToItsContent inflates one to check.
func repeatedDeflate(head, chunk []byte, n int64, tail []byte) (raw []byte, crc uint32, inflated int64) {
	if len(chunk) <= 32<<10 || n < 2 {
		panic("repeatedDeflate: a chunk longer than 32 KiB, at least twice")
	}
	var out bytes.Buffer
	fw, _ := flate.NewWriter(&out, flate.BestCompression)
	_, _ = fw.Write(head)
	_, _ = fw.Write(chunk)
	_ = fw.Flush()
	first := out.Len()
	_, _ = fw.Write(chunk)
	_ = fw.Flush()
	again := bytes.Clone(out.Bytes()[first:])
	for range n - 2 {
		out.Write(again)
	}
	_, _ = fw.Write(tail)
	_ = fw.Close()
	crc = crc32.Update(0, crc32.IEEETable, head)
	for range n {
		crc = crc32.Update(crc, crc32.IEEETable, chunk)
	}
	crc = crc32.Update(crc, crc32.IEEETable, tail)
	return out.Bytes(), crc, int64(len(head)) + n*int64(len(chunk)) + int64(len(tail))
}

// csvBomb is size bytes of one-column lines.
func csvBomb(size int) []byte {
	line := "姓名,身份证号,岗位\n"
	return []byte(strings.Repeat(line, size/len(line)))
}

// giftBomb is n distinct questions in about size bytes.
func giftBomb(n, size int) []byte {
	var b bytes.Buffer
	pad := strings.Repeat("照", max(0, (size/n-60)/3))
	for i := range n {
		fmt.Fprintf(&b, "::q%d:: 第 %d 题%s {=对 ~错}\n\n", i, i, pad)
	}
	return b.Bytes()
}

func deepXML(depth int) []byte {
	return []byte(`<?xml version="1.0"?><quiz><question type="essay"><questiontext><text>` +
		strings.Repeat("<b>", depth) + strings.Repeat("</b>", depth) + `</text></questiontext></question></quiz>`)
}

func bigImageXML(size int) []byte {
	return []byte(`<?xml version="1.0"?><quiz><question type="truefalse"><name><text>图</text></name><questiontext format="html"><text>看图 <img src="@@PLUGINFILE@@/a.png"/></text><file name="a.png" encoding="base64">` +
		strings.Repeat("iVBORw0KGgoAAAANSUhEUgAA", size/24) + `</file></questiontext><answer fraction="100"><text>true</text></answer><answer fraction="0"><text>false</text></answer></question></quiz>`)
}

// pngBomb is a PNG whose header declares w × h pixels (40 GB once decoded) over a few kilobytes of
// compressed rows: a server that decoded it would try to allocate them.
func pngBomb(t *testing.T, w, h uint32) []byte {
	t.Helper()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, data []byte) {
		_ = binary.Write(&out, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		_, _ = io.WriteString(crc, kind)
		_, _ = crc.Write(data)
		out.WriteString(kind)
		out.Write(data)
		_ = binary.Write(&out, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8 bits per channel, RGBA
	chunk("IHDR", ihdr)
	var idat bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&idat, zlib.BestCompression)
	_, _ = zw.Write(make([]byte, 4<<20)) // the first rows; the rest would be more of the same
	_ = zw.Close()
	chunk("IDAT", idat.Bytes())
	chunk("IEND", nil)
	if out.Len() > 64<<10 {
		t.Fatalf("the PNG bomb is %d bytes", out.Len())
	}
	return out.Bytes()
}

// jpegSized is size bytes that begin as a JPEG does (the server types photos by their content).
func jpegSized(size int) []byte {
	b := make([]byte, size)
	copy(b, "\xff\xd8\xff\xe0\x00\x10JFIF\x00")
	return b
}

// pdfInflateBomb is a PDF of n objects whose FlateDecode streams each inflate to 64 MiB of zeros (n ×
// 64 KiB sent): a server that decoded its streams would try to hold them.
func pdfInflateBomb(t *testing.T, n int) []byte {
	t.Helper()
	// A zlib stream (RFC 1950): its header, the deflated zeros, and their Adler-32, which for n zero
	// bytes is (n mod 65521) << 16 | 1 (the first sum stays 1, the second adds it n times).
	raw, _, inflated := repeatedDeflate(nil, make([]byte, 1<<20), 64, nil)
	var z bytes.Buffer
	z.Write([]byte{0x78, 0x9c})
	z.Write(raw)
	_ = binary.Write(&z, binary.BigEndian, uint32(inflated%65521)<<16|1)
	var out bytes.Buffer
	out.WriteString("%PDF-1.7\n")
	for i := range n {
		fmt.Fprintf(&out, "%d 0 obj << /Length %d /Filter /FlateDecode >> stream\n", i+1, z.Len())
		out.Write(z.Bytes())
		out.WriteString("\nendstream endobj\n")
	}
	out.WriteString("trailer << /Root 1 0 R >>\n%%EOF\n")
	if out.Len() > 10<<20 {
		t.Fatalf("the PDF bomb is %d bytes, over the attachment limit", out.Len())
	}
	return out.Bytes()
}

func pdfBomb(size int) []byte {
	return []byte("%PDF-1.7\n" + strings.Repeat("1 0 obj << /Length 0 >> stream\nendstream endobj\n", size/50))
}

// The bombs are what they claim: the worksheet inflates to its size and matches its CRC (archive/zip
// checks it at the end), the lying one is caught, and a PDF stream inflates to 64 MiB of zeros with
// a valid Adler-32 (compress/zlib checks it at the end).
func TestRepeatedDeflateInflatesToItsContent(t *testing.T) {
	head, chunk, tail := []byte("head:"), bytes.Repeat([]byte("<row>婴儿</row>"), 3000), []byte(":tail")
	raw, crc, n := repeatedDeflate(head, chunk, 7, tail)
	want := slices.Concat(head, bytes.Repeat(chunk, 7), tail)
	got, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), int64(len(want))+1)) // one byte more shows a longer stream
	if err != nil || !bytes.Equal(got, want) || n != int64(len(want)) || crc != crc32.ChecksumIEEE(want) {
		t.Fatalf("inflated %d bytes (%v), want %d; crc %x, want %x; said %d bytes", len(got), err, len(want), crc, crc32.ChecksumIEEE(want), n)
	}
	if len(raw) > len(want)/50 {
		t.Errorf("%d bytes compressed for %d", len(raw), len(want))
	}
	for _, lie := range []bool{false, true} {
		b := xlsxBomb(t, 8<<20, lie, sheetRows)
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		f, err := zr.Open("xl/worksheets/sheet1.xml")
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, f)
		switch {
		case lie && err == nil:
			t.Errorf("the lying worksheet read %d bytes without an error", n)
		case !lie && (err != nil || n < 8<<20-4096 || n > 8<<20):
			t.Errorf("the worksheet inflated to %d bytes (%v), want about %d", n, err, 8<<20)
		}
	}
	pdf := pdfInflateBomb(t, 1)
	_, stream, _ := bytes.Cut(pdf, []byte("stream\n"))
	zr, err := zlib.NewReader(bytes.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(io.Discard, zr); err != nil || n != 64<<20 {
		t.Errorf("the PDF stream inflated to %d bytes (%v), want %d", n, err, 64<<20)
	}
}
