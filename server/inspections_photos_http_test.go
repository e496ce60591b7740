package server_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"shanyu/accounts"
	"shanyu/internal/servertest"
)

// photoForm posts a multipart page form (with the session's CSRF token) holding one file as "photo".
func (c *client) photoForm(path string, fields map[string]string, name string, data []byte, lang string) response {
	c.tb.Helper()
	all := map[string]string{"_csrf": c.csrf}
	for k, v := range fields {
		all[k] = v
	}
	headers := map[string]string{}
	if lang != "" {
		headers["Accept-Language"] = lang
	}
	return c.multipart(path, all, "photo", name, data, headers)
}

func pngPhoto(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := 0; x < 64; x++ {
		img.Set(x, x%48, color.RGBA{180, 20, 20, 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// openDemoInspectionID returns the id of the demo inspector's open inspection.
func openDemoInspectionID(t *testing.T, c *client) int64 {
	t.Helper()
	r := c.do("GET", "/api/v1/inspections/mine", nil, nil)
	list, _ := r.json(t)["inspections"].([]any)
	for _, x := range list {
		m := x.(map[string]any)
		if m["status"] == "open" {
			return int64(m["id"].(float64))
		}
	}
	t.Fatalf("no open inspection: %s", r.Body)
	return 0
}

// An inspector adds a finding with a photo taken on site and another photo to it; both show as
// thumbnails and download with their sniffed type. A PDF sent as a photo is refused with a
// translated message (Chinese and English) and records nothing; an inspector who is not on the
// inspection gets 403 for the photo and for adding one.
func TestFindingPhotosUploadTypeAndOwner(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	insp := mustLogin(t, srv, "inspector")
	id := openDemoInspectionID(t, insp)
	base := fmt.Sprintf("/inspections/%d", id)
	photo := pngPhoto(t)

	r := insp.photoForm(base+"/finding", map[string]string{"severity": "minor", "note": "午睡室消毒记录缺两天"}, "IMG_0001.png", photo, "")
	if r.Status != http.StatusSeeOther || !strings.HasSuffix(r.Header.Get("Location"), "#findings") {
		t.Fatalf("finding with photo: %d %s %s", r.Status, r.Header.Get("Location"), r.Body)
	}
	x := insp.do("GET", "/api/v1/inspections/"+fmt.Sprint(id), nil, nil).json(t)
	findings, _ := x["findings"].([]any)
	if len(findings) != 1 {
		t.Fatalf("findings: %v", x["findings"])
	}
	f := findings[0].(map[string]any)
	photos, _ := f["photos"].([]any)
	if len(photos) != 1 {
		t.Fatalf("photos: %v", f)
	}
	findingID, photoID := int64(f["id"].(float64)), int64(photos[0].(float64))

	// A second photo on the same finding; then the PDF renamed as a JPEG, refused.
	if r := insp.photoForm(fmt.Sprintf("%s/findings/%d/photos", base, findingID), nil, "IMG_0002.png", photo, ""); r.Status != http.StatusSeeOther {
		t.Fatalf("second photo: %d %s", r.Status, r.Body)
	}
	pdf := []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n")
	for _, c := range []struct{ lang, want string }{{"zh-CN", "只接受 JPEG、PNG 或 WebP 格式的照片"}, {"en", "Only JPEG, PNG or WebP photos are accepted"}} {
		// The refusal comes back on the page, translated, beside the photo field, with the note kept
		// (a signed-in user's page language is their setting unless the language cookie says otherwise).
		r := insp.multipart(base+"/finding", map[string]string{"_csrf": insp.csrf, "severity": "major", "note": "伪装的照片"}, "photo", "photo.jpg", pdf,
			map[string]string{"Cookie": "lang=" + c.lang, "Accept": "text/html"})
		if r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("pdf as photo: %d, want 422", r.Status)
		}
		if msg := formMessage(t, r, "photo", "", ""); msg != c.want+"。" && !strings.HasPrefix(msg, c.want) {
			t.Errorf("%s: beside the photo field: %q", c.lang, msg)
		}
		if !strings.Contains(string(r.Body), ">伪装的照片</textarea>") {
			t.Errorf("%s: the note typed is not kept", c.lang)
		}
	}
	x = insp.do("GET", "/api/v1/inspections/"+fmt.Sprint(id), nil, nil).json(t)
	findings, _ = x["findings"].([]any)
	if len(findings) != 1 || len(findings[0].(map[string]any)["photos"].([]any)) != 2 {
		t.Fatalf("after the refusal: %v", x["findings"])
	}

	page := insp.do("GET", base, nil, nil)
	if !strings.Contains(string(page.Body), fmt.Sprintf(`<img src="%s/photos/%d"`, base, photoID)) || !strings.Contains(string(page.Body), `capture="environment"`) {
		t.Errorf("inspection page lacks the thumbnail or the camera field")
	}
	got := insp.do("GET", fmt.Sprintf("%s/photos/%d", base, photoID), nil, nil)
	if got.Status != http.StatusOK || got.Header.Get("Content-Type") != "image/png" || got.Header.Get("X-Content-Type-Options") != "nosniff" || !bytes.Equal(got.Body, photo) {
		t.Fatalf("download: %d %q %q %d bytes", got.Status, got.Header.Get("Content-Type"), got.Header.Get("X-Content-Type-Options"), len(got.Body))
	}
	if r := insp.do("GET", fmt.Sprintf("/inspections/%d/photos/%d", id+1000, photoID), nil, nil); r.Status != http.StatusNotFound && r.Status != http.StatusForbidden {
		t.Errorf("photo under another inspection's path: %d", r.Status)
	}

	// An inspector of the same region who is not on this inspection.
	ctx := context.Background()
	u, err := srv.App.Accounts.CreateUser(ctx, 0, accounts.CreateUserInput{Username: "inspector9", Name: "周检", Password: accounts.DemoPassword})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.App.Accounts.AddGrant(ctx, 0, u.ID, accounts.RoleInspector, "region:3301"); err != nil {
		t.Fatal(err)
	}
	other := mustLogin(t, srv, "inspector9")
	if r := other.do("GET", fmt.Sprintf("%s/photos/%d", base, photoID), nil, nil); r.Status != http.StatusForbidden {
		t.Errorf("other inspector downloads the photo: %d", r.Status)
	}
	if r := other.photoForm(fmt.Sprintf("%s/findings/%d/photos", base, findingID), nil, "x.png", photo, ""); r.Status != http.StatusForbidden {
		t.Errorf("other inspector adds a photo: %d %s", r.Status, r.Header.Get("Location"))
	}
	if r := newClient(t, srv).do("GET", fmt.Sprintf("%s/photos/%d", base, photoID), nil, nil); r.Status == http.StatusOK {
		t.Errorf("anonymous download: %d", r.Status)
	}
}
