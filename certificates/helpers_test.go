package certificates

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"shanyu/internal/config"
	"shanyu/internal/pdfdoc"
)

var (
	fontOnce sync.Once
	fontVal  *pdfdoc.Font
	fontErr  error

	signerOnce sync.Once
	signerVal  *pdfdoc.PDFSigner
	signerErr  error
)

// testFont parses the CJK font once for all tests.
func testFont(tb testing.TB) *pdfdoc.Font {
	tb.Helper()
	fontOnce.Do(func() { fontVal, fontErr = pdfdoc.LoadFont(config.DefaultCJKFont) })
	if fontErr != nil {
		tb.Fatalf("font: %v (install fonts-lxgw-wenkai or set SHANYU_CJK_FONT)", fontErr)
	}
	return fontVal
}

func testRenderer(tb testing.TB) *Renderer {
	tb.Helper()
	r, err := NewRenderer(testFont(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// testPDFSigner is one demo CA and issuing certificate shared by the tests (ECDSA keys are cheap, but
// sharing keeps the outputs comparable).
func testPDFSigner(tb testing.TB) *pdfdoc.PDFSigner {
	tb.Helper()
	signerOnce.Do(func() { signerVal, signerErr = DemoPDFSigner("Shanyu Test Centre", time.Now()) })
	if signerErr != nil {
		tb.Fatal(signerErr)
	}
	return signerVal
}

var testKey = NewSigner(mustEd25519Seed(bytes.Repeat([]byte{7}, 32)))

// docOptions are the overrides of testDocument's defaults.
type docOptions struct {
	Name  string
	Photo []byte
	Host  string
}

// testDocument builds a realistic certificate with its signed QR link.
func testDocument(tb testing.TB, opts docOptions) Document {
	tb.Helper()
	if opts.Name == "" {
		opts.Name = "王晓雯"
	}
	if opts.Host == "" {
		opts.Host = "https://shanyu.wsjkw.zj.gov.cn"
	}
	number := Number{EvaluatorType: 'S', EvaluatorCode: "0000", Province: "33", SiteSerial: 1, Year: 2025, Level: 4, Serial: 1234}.String()
	issued := time.Date(2025, 6, 18, 0, 0, 0, 0, time.UTC)
	expires := issued.AddDate(3, 0, -1)
	token, err := testKey.SignToken(OfflineClaims{Number: number, MaskedName: opts.Name, Occupation: "4-10-01-03", Level: 4, IssuedOn: issued, ExpiresOn: expires})
	if err != nil {
		tb.Fatal(err)
	}
	code := codeEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, codeBytes))
	titles, err := LevelTitles("4-10-01-03", 4)
	if err != nil {
		tb.Fatal(err)
	}
	return Document{
		Number:           number,
		Code:             code,
		QRContent:        QRLink(opts.Host, code, token),
		HolderName:       opts.Name,
		Photo:            opts.Photo,
		OccupationZH:     titles.OccupationZH,
		OccupationEN:     titles.OccupationEN,
		LevelZH:          titles.LevelZH,
		LevelEN:          titles.LevelEN,
		TrainingCentreZH: "杭州市西湖区托育综合服务中心",
		TrainingCentreEN: "Xihu District Childcare Service Centre, Hangzhou",
		IssuedOn:         issued,
		ExpiresOn:        expires,
	}
}

// testPhoto is a small generated portrait-shaped JPEG.
func testPhoto(tb testing.TB) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 300, 420))
	for y := 0; y < 420; y++ {
		for x := 0; x < 300; x++ {
			c := color.RGBA{R: 70, G: 120, B: 190, A: 255} // a blue backdrop as on ID photos
			dx, dy := x-150, y-170
			if dx*dx+dy*dy < 80*80 || (y > 280 && dx*dx < (y-200)*(y-200)) {
				c = color.RGBA{R: 235, G: 205, B: 180, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// tool runs an external program, failing the test when it is not installed (make test installs
// poppler-utils and zbar-tools).
func tool(tb testing.TB, name string, args ...string) (string, error) {
	tb.Helper()
	if _, err := exec.LookPath(name); err != nil {
		tb.Fatalf("%s is not installed (apt-get install poppler-utils zbar-tools): %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}

// renderPNG renders the first page of a PDF at the given resolution and returns the PNG's path.
func renderPNG(tb testing.TB, pdfBytes []byte, dpi int) string {
	tb.Helper()
	dir := tb.TempDir()
	in := filepath.Join(dir, "c.pdf")
	if err := os.WriteFile(in, pdfBytes, 0o600); err != nil {
		tb.Fatal(err)
	}
	out := filepath.Join(dir, "page")
	if msg, err := tool(tb, "pdftoppm", "-r", strconv.Itoa(dpi), "-png", "-singlefile", in, out); err != nil {
		tb.Fatalf("pdftoppm: %v: %s", err, msg)
	}
	return out + ".png"
}

// decodeQR reads every QR code in a PNG with zbarimg, an independent decoder.
func decodeQR(tb testing.TB, png string) []string {
	tb.Helper()
	if _, err := exec.LookPath("zbarimg"); err != nil {
		tb.Fatalf("zbarimg is not installed (apt-get install zbar-tools)")
	}
	cmd := exec.Command("zbarimg", "--nodbus", "-q", "--raw", png)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	_ = cmd.Run() // exit status 4 means no symbol found, which the caller reports
	var out []string
	for _, l := range strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func mustEd25519Seed(seed []byte) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(seed) }
