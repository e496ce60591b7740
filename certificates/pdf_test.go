package certificates

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shanyu/internal/pgtest"
)

var signedAt = time.Date(2025, 6, 18, 9, 30, 0, 0, time.UTC)

func produce(t *testing.T, d Document) Signed {
	t.Helper()
	s, err := Produce(context.Background(), testRenderer(t), testPDFSigner(t), d, signedAt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeTemp(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "certificate.pdf")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSignedCertificatePDF follows a certificate as a reader and an inspector would: the signature is
// valid, the QR code decodes (from a coarse 72-dpi render and a 150-dpi one) to the intended link, and
// the link's token verifies with the published keys.
func TestSignedCertificatePDF(t *testing.T) {
	t.Parallel()
	d := testDocument(t, docOptions{Photo: testPhoto(t)})
	s := produce(t, d)
	if len(s.PDF) > 100<<10 {
		t.Errorf("signed PDF is %d bytes, more than 100 KB", len(s.PDF))
	}
	if s.SHA256 != sha256.Sum256(s.PDF) {
		t.Error("SHA256 is not the digest of the PDF")
	}
	path := writeTemp(t, s.PDF)

	out, err := tool(t, "pdfsig", path)
	if err != nil || !strings.Contains(out, "Signature is Valid") {
		t.Fatalf("pdfsig: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Total document signed") {
		t.Errorf("pdfsig: the signature does not cover the whole document:\n%s", out)
	}

	fonts, err := tool(t, "pdffonts", path)
	if err != nil {
		t.Fatal(err)
	}
	// One font, embedded (emb) and subset (sub), with a ToUnicode map (uni) so text can be copied.
	lines := strings.Split(strings.TrimSpace(fonts), "\n")
	if len(lines) != 3 || !strings.Contains(lines[2], "+ShanyuCJK") || !strings.Contains(lines[2], "yes yes yes") {
		t.Errorf("pdffonts:\n%s", fonts)
	}

	text, err := tool(t, "pdftotext", "-layout", path, "-")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{d.HolderName, d.Number, "保育师", "四级/中级工", "Childcare Worker", "2028年6月17日", "17 June 2028", d.TrainingCentreZH} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not say %q:\n%s", want, text)
		}
	}

	jwks := JWKSet{Keys: []JWK{testKey.PublicJWK()}}
	for _, dpi := range []int{72, 150} {
		got := decodeQR(t, renderPNG(t, s.PDF, dpi))
		if len(got) != 1 || got[0] != d.QRContent {
			t.Fatalf("%d dpi: QR decodes to %q, want %q", dpi, got, d.QRContent)
		}
		code, token, ok := SplitQRLink(got[0])
		if !ok || code != d.Code {
			t.Fatalf("%d dpi: link %q has no code", dpi, got[0])
		}
		claims, err := VerifyToken(token, jwks)
		if err != nil {
			t.Fatalf("%d dpi: token: %v", dpi, err)
		}
		if claims.Number != d.Number || claims.MaskedName != "王*" || claims.Level != 4 || !claims.ExpiresOn.Equal(d.ExpiresOn) {
			t.Fatalf("%d dpi: claims %+v", dpi, claims)
		}
	}
}

// TestQRDecodesWithTheLongestLink checks the QR still reads at 72 dpi when the link is as long as it
// can be: a long host name and a holder name whose first character takes four bytes.
func TestQRDecodesWithTheLongestLink(t *testing.T) {
	t.Parallel()
	d := testDocument(t, docOptions{Name: "𠮷田", Host: "https://zhengshu.weijianwei.zhejiang.gov.cn:8443"})
	s := produce(t, d)
	got := decodeQR(t, renderPNG(t, s.PDF, 72))
	if len(got) != 1 || got[0] != d.QRContent {
		t.Fatalf("QR decodes to %q, want %q", got, d.QRContent)
	}
}

// TestOneChangedByteInvalidatesTheSignature changes one byte inside the signed range, as a forger
// would (the level, in the document title), and expects pdfsig to see it.
func TestOneChangedByteInvalidatesTheSignature(t *testing.T) {
	t.Parallel()
	s := produce(t, testDocument(t, docOptions{}))
	i := bytes.Index(s.PDF, []byte("S000033000001254001234"))
	if i < 0 {
		t.Fatal("number not found in the PDF's metadata")
	}
	forged := bytes.Clone(s.PDF)
	forged[i+15] = '1' // level 4 → level 1
	out, _ := tool(t, "pdfsig", writeTemp(t, forged))
	if strings.Contains(out, "Signature is Valid") || !strings.Contains(out, "Digest Mismatch") {
		t.Fatalf("pdfsig on a changed file:\n%s", out)
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	t.Parallel()
	r := testRenderer(t)
	d := testDocument(t, docOptions{Photo: testPhoto(t)})
	a, err := r.Render(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Render(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.PDF, b.PDF) || a.SHA256 != b.SHA256 {
		t.Fatal("the same document rendered to different bytes")
	}
	d.HolderName = "王晓雲"
	c, err := r.Render(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if c.SHA256 == a.SHA256 {
		t.Fatal("a different name rendered to the same bytes")
	}
}

// inkIn counts dark pixels inside a rectangle given in millimetres of a page rendered at dpi.
func inkIn(t *testing.T, pngPath string, dpi int, x0, y0, x1, y1 float64) int {
	t.Helper()
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	px := func(mm float64) int { return int(mm / 25.4 * float64(dpi)) }
	n := 0
	for y := px(y0); y < px(y1); y++ {
		for x := px(x0); x < px(x1); x++ {
			if g := color.GrayModel.Convert(img.At(x, y)).(color.Gray); g.Y < 110 {
				n++
			}
		}
	}
	return n
}

// TestNameOutsideTheBMPRenders prints 𠮷 (U+20BB7), which gofpdf cannot take: the character must be
// drawn, not dropped and not crash the renderer.
func TestNameOutsideTheBMPRenders(t *testing.T) {
	t.Parallel()
	const dpi = 150
	ink := map[string]int{}
	for _, name := range []string{"𠮷田", "吉田", "田"} {
		s := produce(t, testDocument(t, docOptions{Name: name}))
		if out, _ := tool(t, "pdfsig", writeTemp(t, s.PDF)); !strings.Contains(out, "Signature is Valid") {
			t.Fatalf("%s: pdfsig:\n%s", name, out)
		}
		// The name's row: value column, first line.
		ink[name] = inkIn(t, renderPNG(t, s.PDF, dpi), dpi, 110, 62, 200, 76)
	}
	t.Logf("ink in the name row: %v", ink)
	extra, bmp := ink["𠮷田"]-ink["田"], ink["吉田"]-ink["田"]
	// 𠮷 is 吉 with a longer stroke: it should add about as much ink as 吉 does.
	if bmp <= 0 || extra < bmp*6/10 || extra > bmp*16/10 {
		t.Fatalf("𠮷 adds %d dark pixels, 吉 adds %d", extra, bmp)
	}
}

// TestCharacterMissingFromTheFontShowsItsCodePoint prints a character the font does not have: it
// appears as a framed code point, which text extraction finds.
func TestCharacterMissingFromTheFontShowsItsCodePoint(t *testing.T) {
	t.Parallel()
	const missing = '\U0002A6D6'
	if testFont(t).Has(missing) {
		t.Skip("the font has U+2A6D6")
	}
	s := produce(t, testDocument(t, docOptions{Name: "李" + string(missing)}))
	text, err := tool(t, "pdftotext", writeTemp(t, s.PDF), "-")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "U+2A6D6") {
		t.Fatalf("no U+2A6D6 on the page:\n%s", text)
	}
}

func TestPhotoPNGAndRejectedPhoto(t *testing.T) {
	t.Parallel()
	img := image.NewNRGBA(image.Rect(0, 0, 60, 80))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	r := testRenderer(t)
	if _, err := r.Render(context.Background(), testDocument(t, docOptions{Photo: b.Bytes()})); err != nil {
		t.Fatalf("PNG photo: %v", err)
	}
	_, err := r.Render(context.Background(), testDocument(t, docOptions{Photo: []byte("GIF89a…")}))
	if !errors.Is(err, ErrPhotoUnsupported) {
		t.Fatalf("GIF photo: err = %v", err)
	}
}

// TestSaveSample keeps a rendered sample for people to look at, in var/screenshots (not committed),
// when SHANYU_SAVE_SAMPLES is set.
func TestSaveSample(t *testing.T) {
	t.Parallel()
	if os.Getenv("SHANYU_SAVE_SAMPLES") == "" {
		t.Skip("set SHANYU_SAVE_SAMPLES=1 to write var/screenshots/certificate-sample.png")
	}
	root, err := pgtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "var", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Skip("var/ is not writable")
	}
	s := produce(t, testDocument(t, docOptions{Photo: testPhoto(t), Name: "𠮷晓雯"}))
	png := renderPNG(t, s.PDF, 110)
	b, err := os.ReadFile(png)
	if err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(dir, "certificate-sample.png"), b, 0o644)
	_ = os.WriteFile(filepath.Join(dir, "certificate-sample.pdf"), s.PDF, 0o644)
}

// TestAppendHundredthsPrintsAsPercentDotTwoF checks the number formatting of the QR code's path
// against fmt's %.2f for the values it prints.
func TestAppendHundredthsPrintsAsPercentDotTwoF(t *testing.T) {
	for _, v := range []float64{0, 1.5, -1.5, 648, 400.2756, 400.2756 - 1.5*68, 0.04, -0.04, 103.5, 595.2756} {
		got := string(appendHundredths(nil, int64(math.Round(v*100))))
		if want := fmt.Sprintf("%.2f", v); got != want && !(want == "-0.00" && got == "0.00") {
			t.Errorf("%v: %s, want %s", v, got, want)
		}
	}
}
