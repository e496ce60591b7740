package audits

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// testImage encodes a small picture as PNG or JPEG.
func testImage(t testing.TB, format string) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := 0; x < 40; x++ {
		img.Set(x, x%30, color.RGBA{200, 30, 30, 255})
	}
	var b bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&b, img)
	} else {
		err = jpeg.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDetectPhotoTypeFromContent(t *testing.T) {
	t.Parallel()
	webp := append([]byte("RIFF\x24\x00\x00\x00WEBPVP8 "), make([]byte, 24)...)
	for _, c := range []struct {
		name string
		data []byte
		want string
		err  error
	}{
		{"jpeg", testImage(t, "jpeg"), "image/jpeg", nil},
		{"png", testImage(t, "png"), "image/png", nil},
		{"webp", webp, "image/webp", nil},
		{"pdf named .jpg", []byte("%PDF-1.7\n1 0 obj"), "", ErrPhotoType},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), "", ErrPhotoType},
		{"html", []byte("<html><script>alert(1)</script>"), "", ErrPhotoType},
		{"empty", nil, "", ErrPhotoEmpty},
		{"too large", append(testImage(t, "png"), make([]byte, MaxPhotoSize)...), "", ErrPhotoTooLarge},
	} {
		got, err := DetectPhotoType(c.data)
		if got != c.want || !errors.Is(err, c.err) && !(err == nil && c.err == nil) {
			t.Errorf("%s: %q %v, want %q %v", c.name, got, err, c.want, c.err)
		}
	}
}

// An inspector adds a finding with a photo and another photo later; a bad photo stores nothing, and
// only the inspection's inspectors get a photo back.
func TestFindingPhotosAreStoredAndOwnerChecked(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a := f.user(t, "insp-a", "inspector", "region:3301")
	f.user(t, "insp-b", "inspector", "region:3301")
	outsider := f.user(t, "insp-c", "inspector", "region:3301")
	if err := f.svc.AddConflict(ctx, f.admin, outsider, f.org.ID, "亲属"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateRound(ctx, f.admin, RoundInput{RegionCode: "330106", Name: "照片", Count: 1, PerInspection: 2, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	xs, err := f.svc.InspectionsFor(ctx, a)
	if err != nil || len(xs) != 1 {
		t.Fatalf("%v %v", xs, err)
	}
	id := xs[0].ID
	jpg, pngb := testImage(t, "jpeg"), testImage(t, "png")
	if _, err := f.svc.AddFinding(ctx, a, id, "minor", "消毒柜未通电", []byte("%PDF-1.4 not a photo")); !errors.Is(err, ErrPhotoType) {
		t.Fatalf("pdf as photo: %v", err)
	}
	x, _ := f.svc.Inspection(ctx, id)
	if len(x.Findings) != 0 {
		t.Fatalf("a refused photo left a finding: %+v", x.Findings)
	}
	fd, err := f.svc.AddFinding(ctx, a, id, "minor", "消毒柜未通电", jpg)
	if err != nil || len(fd.Photos) != 1 || fd.Photos[0].ContentType != "image/jpeg" {
		t.Fatalf("finding with photo: %+v %v", fd, err)
	}
	more, err := f.svc.AddFindingPhotos(ctx, a, id, fd.ID, pngb)
	if err != nil || len(more) != 1 || more[0].ContentType != "image/png" {
		t.Fatalf("second photo: %+v %v", more, err)
	}
	if _, err := f.svc.AddFindingPhotos(ctx, outsider, id, fd.ID, pngb); !errors.Is(err, ErrNotAssigned) {
		t.Fatalf("outsider adds a photo: %v", err)
	}
	x, _ = f.svc.Inspection(ctx, id)
	if len(x.Findings) != 1 || len(x.Findings[0].Photos) != 2 {
		t.Fatalf("photos listed: %+v", x.Findings)
	}
	// Each addition is in the audit log with the photo's digest; the refused ones are not.
	sum := sha256.Sum256(pngb)
	var logged int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'inspection.finding.photos' AND subject = $1`,
		fmt.Sprintf("finding:%d", fd.ID)).Scan(&logged); err != nil || logged != 2 {
		t.Fatalf("photo additions audited: %d, %v; want 2", logged, err)
	}
	var withDigest bool
	if err := f.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM audit_log WHERE action = 'inspection.finding.photos' AND details->'sha256' ? $1)`,
		hex.EncodeToString(sum[:])).Scan(&withDigest); err != nil || !withDigest {
		t.Fatalf("photo digest not in the audit log: %v", err)
	}
	got, err := f.svc.FindingPhoto(ctx, a, more[0].ID)
	if err != nil || !bytes.Equal(got.Data, pngb) || got.InspectionID != id {
		t.Fatalf("download: %v", err)
	}
	if _, err := f.svc.FindingPhoto(ctx, outsider, more[0].ID); !errors.Is(err, ErrNotAssigned) {
		t.Fatalf("outsider downloads: %v", err)
	}
	if _, err := f.svc.FindingPhoto(ctx, a, more[0].ID+1000); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing photo: %v", err)
	}
}
