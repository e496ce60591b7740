package server_test

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	qrcode "github.com/piglig/go-qr"

	"shanyu/certificates"
	"shanyu/internal/browsertest"
	"shanyu/internal/servertest"
)

// demoQRLink is what the demo caregiver's certificate QR code carries: the verification link with the
// signed offline token in its fragment, as the certificates domain printed it.
func demoQRLink(t *testing.T, srv *servertest.Instance) string {
	t.Helper()
	var code, token string
	err := srv.Pool.QueryRow(context.Background(), `SELECT c.code, c.token FROM certificates c JOIN users u ON u.person_id = c.person_id
		WHERE u.username = 'caregiver' AND c.pdf IS NOT NULL AND c.token <> '' ORDER BY c.id DESC LIMIT 1`).Scan(&code, &token)
	if err != nil {
		t.Fatalf("demo caregiver's certificate: %v", err)
	}
	return certificates.QRLink(srv.App.Certificates.BaseURL(), code, token)
}

// qrVideo writes a camera picture of a QR code held in front of a phone: the code on a white card
// in a grey room, as a Y4M still video for Chromium's fake camera.
func qrVideo(t *testing.T, content string) string {
	t.Helper()
	q, err := qrcode.EncodeText(content, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	code, err := q.ToImage(qrcode.NewQrCodeImgConfig(max(1, 320/(q.Size()+8)), 4))
	if err != nil {
		t.Fatal(err)
	}
	frame := image.NewRGBA(image.Rect(0, 0, 640, 480))
	draw.Draw(frame, frame.Bounds(), &image.Uniform{color.RGBA{150, 150, 150, 255}}, image.Point{}, draw.Src)
	draw.Draw(frame, image.Rect(140, 60, 500, 420), &image.Uniform{color.White}, image.Point{}, draw.Src)
	draw.Draw(frame, image.Rect(160, 80, 480, 400), code, image.Point{}, draw.Src)
	path := filepath.Join(t.TempDir(), "qr.y4m")
	if err := browsertest.WriteY4M(path, frame, 20); err != nil {
		t.Fatal(err)
	}
	return path
}

// openDemoInspection signs the demo inspector in on ctx and opens the open demo inspection.
func openDemoInspection(t *testing.T, ctx context.Context, srv *servertest.Instance) {
	t.Helper()
	signIn(t, ctx, srv.URL, "/inspections", "inspector")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(".inspection-list a"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(".inspection-list a")))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#code"))); err != nil {
		t.Fatal(err)
	}
}

// With Chromium's fake camera playing a picture of the demo caregiver's real certificate QR code,
// the inspector taps "scan with the camera" on a phone; the page decodes the code from the video,
// checks it, and shows the caregiver verified by the platform with the policy's explanation, and
// the roster marks her checked.
func TestInspectorScansACertificateWithTheCamera(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	video := qrVideo(t, demoQRLink(t, srv))
	ctx := browsertest.New(t, browsertest.Phone, browsertest.FakeCamera(video)...)
	openDemoInspection(t, ctx, srv)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#camera-start"))); err != nil {
		t.Fatal(err)
	}
	// The video shows only until the code is found (a few frames), and then the page submits it: a
	// wait for the video can miss it on a busy machine, so the test waits for the result, and keeps
	// a picture of the video when it catches one.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#camera-start"))); err != nil {
		t.Fatal(err)
	}
	if shown, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function(){var v=document.getElementById("camera");return !!v&&!v.hidden;})()`)); shown {
		browsertest.Screenshot(t, ctx, "inspection-camera-phone")
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#result"))); err != nil {
		browsertest.Screenshot(t, ctx, "inspection-camera-failed-phone")
		t.Fatal(err)
	}
	result, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#result")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"李小燕", "本平台签发", "有效", "保育", "须持有", "资质合格"} {
		if !strings.Contains(result, want) {
			t.Errorf("result lacks %q:\n%s", want, result)
		}
	}
	roster, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#roster")))
	if err != nil {
		t.Fatal(err)
	}
	checked := false
	for _, line := range strings.Split(roster, "\n") {
		if strings.Contains(line, "李小燕") && strings.Contains(line, "已核验") {
			checked = true
		}
	}
	if !checked {
		t.Errorf("roster does not show 李小燕 checked:\n%s", roster)
	}
	browsertest.AssertFits(t, ctx, browsertest.Phone)
	browsertest.Screenshot(t, ctx, "inspection-camera-result-phone")
}

// cutNetwork cuts the page's network (requests fail, navigator.onLine is false and the "offline"
// event fires) or gives it back.
func cutNetwork(t *testing.T, ctx context.Context, offline bool) {
	t.Helper()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	rules := []*network.Conditions{}
	if offline {
		rules = append(rules, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
	}
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: rules}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		t.Fatal(err)
	}
	online, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("navigator.onLine"))
	if err != nil || online == offline {
		t.Fatalf("navigator.onLine = %v after cutNetwork(%v): %v", online, offline, err)
	}
}

// With the network gone, the inspector enters the demo caregiver's QR link and a forged one: the
// phone checks both signed tokens against the certificates' keys the page carries, shows the genuine
// one's masked holder and the forged one refused, and queues both. Nothing reaches the server until
// the network returns; then the queue is sent, the page shows the server's result marked as an
// offline scan, and the database holds one scan per code, flagged offline, and one verification
// log entry naming the inspection as offline. Sending the same queued scan again stores nothing.
func TestOfflineScansAreCheckedOnThePhoneAndSynchronisedOnce(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	bg := context.Background()
	link := demoQRLink(t, srv)
	code, token, ok := certificates.SplitQRLink(link)
	if !ok {
		t.Fatalf("link %q", link)
	}
	parts := strings.Split(token, ".")
	sig := []byte(parts[2])
	sig[20] = map[bool]byte{true: 'B', false: 'A'}[sig[20] == 'A']
	forged := srv.URL + "/v/ZZZZZZZZZZ#" + parts[0] + "." + parts[1] + "." + string(sig)

	ctx := browsertest.New(t, browsertest.Phone)
	openDemoInspection(t, ctx, srv)
	inspectionID, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.getElementById('scan-form').dataset.inspection"))
	if err != nil {
		t.Fatal(err)
	}
	countScans := func() (all, offline int) {
		t.Helper()
		if err := srv.Pool.QueryRow(bg, `SELECT count(*), count(*) FILTER (WHERE offline) FROM audit_scans WHERE inspection_id = $1`, inspectionID).Scan(&all, &offline); err != nil {
			t.Fatal(err)
		}
		return all, offline
	}
	queued := func() int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int]("JSON.parse(localStorage.getItem('shanyu.scans."+inspectionID+"') || '[]').length"))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	cutNetwork(t, ctx, true)
	enter := func(text string) string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#code"), text), chromedp.Click(chromedp.CSS("#scan-form button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("#offline-result"))); err != nil {
			t.Fatal(err)
		}
		verdict, err := chromedp.Run(ctx, chromedp.Poll[string](`(function(){ var v = document.querySelector('#offline-result .offline-verdict').textContent; return v || null; })()`))
		if err != nil {
			t.Fatal(err)
		}
		return verdict
	}
	if v := enter(forged); !strings.Contains(v, "签名无效") {
		t.Errorf("forged token: %q", v)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("document.querySelector('#offline-result .offline-verdict').textContent = ''; true")); err != nil {
		t.Fatal(err)
	}
	if v := enter(link); !strings.Contains(v, "签名真实") || !strings.Contains(v, "平台记录该证书有效") {
		t.Errorf("genuine token: %q", v)
	}
	claims, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#offline-result .offline-claims")))
	for _, want := range []string{"李*", "4-10-01-03", "有效期至"} {
		if !strings.Contains(claims, want) {
			t.Errorf("offline claims lack %q: %q", want, claims)
		}
	}
	if strings.Contains(claims, "李小燕") {
		t.Errorf("offline claims show the full name: %q", claims)
	}
	status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#scan-status")))
	if !strings.Contains(status, "离线") || !strings.Contains(status, "(2)") {
		t.Errorf("status %q", status)
	}
	if n := queued(); n != 2 {
		t.Errorf("%d scans queued, want 2", n)
	}
	if all, _ := countScans(); all != 0 {
		t.Fatalf("%d scans reached the server while offline", all)
	}
	browsertest.AssertFits(t, ctx, browsertest.Phone)
	browsertest.Screenshot(t, ctx, "inspection-offline-phone")

	// The network returns: the page sends the queue and shows the server's result of the last scan.
	item, err := chromedp.Run(ctx, chromedp.Evaluate[string]("JSON.stringify(JSON.parse(localStorage.getItem('shanyu.scans."+inspectionID+"'))[1])"))
	if err != nil {
		t.Fatal(err)
	}
	cutNetwork(t, ctx, false)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#offline-tag"))); err != nil {
		browsertest.Screenshot(t, ctx, "inspection-offline-sync-failed-phone")
		t.Fatal(err)
	}
	result, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#result")))
	for _, want := range []string{"离线扫码", "李小燕", "本平台签发", "须持有"} {
		if !strings.Contains(result, want) {
			t.Errorf("synchronised result lacks %q:\n%s", want, result)
		}
	}
	if n := queued(); n != 0 {
		t.Errorf("%d scans still queued", n)
	}
	if all, offline := countScans(); all != 2 || offline != 2 {
		t.Errorf("scans stored: %d (%d offline), want 2 offline", all, offline)
	}
	var mine int
	if err := srv.Pool.QueryRow(bg, `SELECT count(*) FROM audit_scans WHERE inspection_id = $1 AND code = $2 AND offline AND received_at >= scanned_at`, inspectionID, code).Scan(&mine); err != nil || mine != 1 {
		t.Errorf("scans of %s: %d %v", code, mine, err)
	}
	browsertest.AssertFits(t, ctx, browsertest.Phone)
	browsertest.Screenshot(t, ctx, "inspection-offline-synced-phone")

	// The phone sends the same scan again (a lost response, a second tab): nothing more is stored.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("localStorage.setItem('shanyu.scans."+inspectionID+"', JSON.stringify(["+item+"])); true")); err != nil {
		t.Fatal(err)
	}
	if n := queued(); n != 1 {
		t.Fatalf("re-queued %d", n)
	}
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#offline-tag"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool]("JSON.parse(localStorage.getItem('shanyu.scans."+inspectionID+"') || '[]').length === 0 || null")); err != nil {
		t.Fatal(err)
	}
	if n := queued(); n != 0 {
		t.Errorf("resent scan still queued: %d", n)
	}
	if all, _ := countScans(); all != 2 {
		t.Errorf("a resend stored another scan: %d", all)
	}
	// One verification of the certificate in the certificates' log, naming the inspection as offline.
	srv.App.Certificates.FlushVerifications(bg)
	var logged int
	var ref string
	if err := srv.Pool.QueryRow(bg, `SELECT count(*), coalesce(max(v.inspection_ref), '') FROM certificate_verifications v JOIN certificates c ON c.id = v.certificate_id
		WHERE c.code = $1 AND v.inspection_ref LIKE 'inspection:%'`, code).Scan(&logged, &ref); err != nil {
		t.Fatal(err)
	}
	if logged != 1 || ref != "inspection:"+inspectionID+":offline" {
		t.Errorf("verification log: %d entries, ref %q", logged, ref)
	}
}

// A certificate revoked before the inspector loaded the page is genuine by its signature but shown
// as revoked offline too: the page carries what the platform said of the roster's certificates.
func TestOfflineCheckKnowsRevocationsAsOfThePageLoad(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	link := demoQRLink(t, srv)
	var number string
	if err := srv.Pool.QueryRow(context.Background(), `SELECT c.number FROM certificates c JOIN users u ON u.person_id = c.person_id
		WHERE u.username = 'caregiver' AND c.pdf IS NOT NULL AND c.token <> '' ORDER BY c.id DESC LIMIT 1`).Scan(&number); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.App.Certificates.ChangeStatus(context.Background(), 0, "", number, "revoke", "测试：离线吊销名单"); err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t, browsertest.Phone)
	openDemoInspection(t, ctx, srv)
	cutNetwork(t, ctx, true)
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#code"), link), chromedp.Click(chromedp.CSS("#scan-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#offline-result"))); err != nil {
		t.Fatal(err)
	}
	verdict, err := chromedp.Run(ctx, chromedp.Poll[string](`(function(){ var v = document.querySelector('#offline-result .offline-verdict').textContent; return v || null; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(verdict, "签名真实") || !strings.Contains(verdict, "已撤销") {
		t.Errorf("revoked certificate offline: %q", verdict)
	}
	if cls, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.getElementById('offline-result').className")); !strings.Contains(cls, "bad") {
		t.Errorf("revoked certificate not marked bad: %q", cls)
	}
	browsertest.Screenshot(t, ctx, "inspection-offline-revoked-phone")
}
