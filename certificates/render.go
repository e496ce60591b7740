package certificates

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jung-kurt/gofpdf"
	qrcode "github.com/piglig/go-qr"

	"shanyu/internal/pdfdoc"
)

// Document is everything printed on a certificate. The caller supplies names in both languages;
// Occupation and Level texts for the known occupations come from LevelTitles.
type Document struct {
	Number           string // 22-character national number
	Code             string // verification code
	QRContent        string // the QR link, QRLink(base, code, token)
	HolderName       string
	Photo            []byte // JPEG or PNG; nil prints no photo
	OccupationZH     string // 保育师
	OccupationEN     string // Childcare Worker
	LevelZH          string // 四级/中级工
	LevelEN          string // Level 4 (Intermediate)
	TrainingCentreZH string
	TrainingCentreEN string
	IssuedOn         time.Time // dates: only year, month and day are printed
	ExpiresOn        time.Time
}

// Rendered is an unsigned certificate PDF. Equal documents render to equal bytes.
type Rendered struct {
	PDF    []byte
	SHA256 [32]byte
}

//go:embed data/labels.json
var labelsJSON []byte

type labels struct {
	TitleZH, TitleEN           string
	IntroZH, IntroEN           string
	NameZH, NameEN             string
	OccupationZH, OccupationEN string
	LevelZH, LevelEN           string
	CentreZH, CentreEN         string
	NumberZH, NumberEN         string
	IssuedZH, IssuedEN         string
	ExpiresZH, ExpiresEN       string
	ScanZH, ScanEN             string
	CodeZH, CodeEN             string
	FooterZH, FooterEN         string
	DateZH                     string
	MonthsEN                   []string
}

func (l *labels) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	fields := map[string]*string{
		"title_zh": &l.TitleZH, "title_en": &l.TitleEN, "intro_zh": &l.IntroZH, "intro_en": &l.IntroEN,
		"name_zh": &l.NameZH, "name_en": &l.NameEN, "occupation_zh": &l.OccupationZH, "occupation_en": &l.OccupationEN,
		"level_zh": &l.LevelZH, "level_en": &l.LevelEN, "centre_zh": &l.CentreZH, "centre_en": &l.CentreEN,
		"number_zh": &l.NumberZH, "number_en": &l.NumberEN, "issued_zh": &l.IssuedZH, "issued_en": &l.IssuedEN,
		"expires_zh": &l.ExpiresZH, "expires_en": &l.ExpiresEN, "scan_zh": &l.ScanZH, "scan_en": &l.ScanEN,
		"code_zh": &l.CodeZH, "code_en": &l.CodeEN, "footer_zh": &l.FooterZH, "footer_en": &l.FooterEN,
		"date_zh": &l.DateZH,
	}
	for k, p := range fields {
		if err := json.Unmarshal(m[k], p); err != nil || *p == "" {
			return fmt.Errorf("labels: %s missing", k)
		}
	}
	if err := json.Unmarshal(m["months_en"], &l.MonthsEN); err != nil || len(l.MonthsEN) != 12 {
		return errors.New("labels: months_en must list 12 months")
	}
	return nil
}

// Renderer lays certificates out. It holds the parsed font and is safe for concurrent use; make one
// per process.
type Renderer struct {
	font   *pdfdoc.Font
	labels labels
}

// NewRenderer makes a renderer printing with font (see LoadFont; the file is config.Config.CJKFont).
func NewRenderer(font *pdfdoc.Font) (*Renderer, error) {
	r := &Renderer{font: font}
	if err := json.Unmarshal(labelsJSON, &r.labels); err != nil {
		return nil, err
	}
	return r, nil
}

// Page geometry, in millimetres unless the name says pt.
const (
	pageW, pageH = 297.0, 210.0
	ptPerMM      = 72 / 25.4
	// The QR code has version 13 (69 modules, up to 331 bytes at level M: room for the link and its
	// token) or, for a long host name, 14 (73 modules, 362 bytes), with modules of exactly 1.5 pt on
	// whole-point positions: 36.5 or 38.6 mm wide. Keeping modules on the point grid keeps them on the
	// pixel grid of a 72-dpi render: measured with zbarimg, an exactly 35 mm code with modules of
	// 1.44 pt did not decode there, while 1.5 pt modules did; and 0.5+ mm modules suit phone cameras
	// reading paper.
	qrMinVersion = 13
	qrMaxVersion = 14
	qrModulePt   = 1.5
	qrXPt        = 648.0
	qrYPt        = 195.0
)

var (
	colourInk    = [3]int{34, 30, 28}
	colourLabel  = [3]int{110, 86, 62}
	colourMuted  = [3]int{120, 114, 108}
	colourRed    = [3]int{142, 27, 31}
	colourGold   = [3]int{178, 142, 66}
	colourPaper  = [3]int{253, 250, 242}
	creatorLabel = "Shanyu"
)

// Render lays out and writes an unsigned certificate PDF: A4 landscape, fonts embedded and subset,
// fixed dates and ids so that the same document always gives the same bytes.
func (r *Renderer) Render(ctx context.Context, d Document) (Rendered, error) {
	if err := ctx.Err(); err != nil {
		return Rendered{}, err
	}
	if _, err := ParseNumber(d.Number); err != nil {
		return Rendered{}, err
	}
	if strings.TrimSpace(d.HolderName) == "" || d.QRContent == "" || d.IssuedOn.IsZero() || d.ExpiresOn.IsZero() {
		return Rendered{}, ErrDocumentInvalid
	}
	qr, err := encodeQR(d.QRContent)
	if err != nil {
		return Rendered{}, ErrDocumentInvalid.Wrap(fmt.Errorf("qr code: %w", err))
	}

	l := r.labels
	host := d.QRContent
	if u, err := url.Parse(d.QRContent); err == nil && u.Host != "" {
		host = u.Host
	}
	texts := []string{
		l.TitleZH, l.TitleEN, l.IntroZH, l.IntroEN, l.NameZH, l.NameEN, l.OccupationZH, l.OccupationEN,
		l.LevelZH, l.LevelEN, l.CentreZH, l.CentreEN, l.NumberZH, l.NumberEN, l.IssuedZH, l.IssuedEN,
		l.ExpiresZH, l.ExpiresEN, l.ScanZH, l.ScanEN, l.CodeZH, l.CodeEN,
		fmt.Sprintf(l.FooterZH, host), fmt.Sprintf(l.FooterEN, host),
		d.HolderName, d.OccupationZH, d.OccupationEN, d.LevelZH, d.LevelEN, d.TrainingCentreZH, d.TrainingCentreEN,
		d.Number, d.Code, r.dateZH(d.IssuedOn), r.dateEN(d.IssuedOn), r.dateZH(d.ExpiresOn), r.dateEN(d.ExpiresOn),
		// ASCII always, for code points shown in place of glyphs the font lacks.
		" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
	}
	var runes []rune
	for _, t := range texts {
		runes = append(runes, []rune(t)...)
	}
	subset, err := r.font.Subset(runes)
	if err != nil {
		return Rendered{}, err
	}

	stamp := time.Date(d.IssuedOn.Year(), d.IssuedOn.Month(), d.IssuedOn.Day(), 0, 0, 0, 0, time.UTC)
	pdf := pdfdoc.NewDocument("L", stamp, creatorLabel, l.TitleEN+" "+d.Number)
	p := pdfdoc.NewPage(pdf, r.font, subset)
	pdf.AddPage()

	// Paper, double frame and corner ornaments.
	p.Fill(colourPaper)
	pdf.Rect(0, 0, pageW, pageH, "F")
	p.Draw(colourRed)
	pdf.SetLineWidth(1.4)
	pdf.Rect(8, 8, pageW-16, pageH-16, "D")
	p.Draw(colourGold)
	pdf.SetLineWidth(0.35)
	pdf.Rect(11.5, 11.5, pageW-23, pageH-23, "D")
	pdf.SetLineWidth(0.6)
	for _, c := range [][2]float64{{14, 14}, {pageW - 14, 14}, {14, pageH - 14}, {pageW - 14, pageH - 14}} {
		dx, dy := 10.0, 10.0
		if c[0] > pageW/2 {
			dx = -dx
		}
		if c[1] > pageH/2 {
			dy = -dy
		}
		pdf.Line(c[0], c[1], c[0]+dx, c[1])
		pdf.Line(c[0], c[1], c[0], c[1]+dy)
		pdf.Line(c[0]+dx*0.3, c[1]+dy*0.3, c[0]+dx*0.6, c[1]+dy*0.3)
		pdf.Line(c[0]+dx*0.3, c[1]+dy*0.3, c[0]+dx*0.3, c[1]+dy*0.6)
	}

	// Titles.
	p.Ink(colourRed)
	p.Size(30)
	p.Spaced(pageW/2, 36, l.TitleZH, 4)
	p.Ink(colourLabel)
	p.Size(12.5)
	p.Centred(pageW/2, 45, strings.ToUpper(l.TitleEN))
	p.Draw(colourGold)
	pdf.SetLineWidth(0.4)
	pdf.Line(pageW/2-48, 50, pageW/2+48, 50)
	pdf.Line(pageW/2-30, 51.2, pageW/2+30, 51.2)
	p.Ink(colourMuted)
	p.Size(10)
	p.Centred(pageW/2, 58.5, l.IntroZH+"  "+l.IntroEN)

	// Photo.
	if len(d.Photo) > 0 {
		if err := photo(p, d.Photo, 26, 70, 33, 45); err != nil {
			return Rendered{}, err
		}
	}

	// Fields: a Chinese label over its English one, the value beside, its English beneath.
	rows := []struct{ labelZH, labelEN, valueZH, valueEN string }{
		{l.NameZH, l.NameEN, d.HolderName, ""},
		{l.OccupationZH, l.OccupationEN, d.OccupationZH, d.OccupationEN},
		{l.LevelZH, l.LevelEN, d.LevelZH, d.LevelEN},
		{l.CentreZH, l.CentreEN, d.TrainingCentreZH, d.TrainingCentreEN},
		{l.NumberZH, l.NumberEN, d.Number, ""},
		{l.IssuedZH, l.IssuedEN, r.dateZH(d.IssuedOn), r.dateEN(d.IssuedOn)},
		{l.ExpiresZH, l.ExpiresEN, r.dateZH(d.ExpiresOn), r.dateEN(d.ExpiresOn)},
	}
	const labelX, valueX, rowY, rowH, valueMaxW = 70.0, 112.0, 72.0, 14.5, 106.0
	for i, row := range rows {
		y := rowY + float64(i)*rowH
		p.Ink(colourLabel)
		p.Size(11)
		p.Text(labelX, y, row.labelZH)
		p.Ink(colourMuted)
		p.Size(7.5)
		p.Text(labelX, y+4.2, row.labelEN)
		p.Ink(colourInk)
		size := 15.0
		if i == 0 {
			size = 19
		}
		p.Fit(row.valueZH, size, valueMaxW)
		p.Text(valueX, y+0.8, row.valueZH)
		if row.valueEN != "" {
			p.Ink(colourMuted)
			p.Fit(row.valueEN, 8.5, valueMaxW)
			p.Text(valueX, y+5.2, row.valueEN)
		}
		p.Draw(colourGold)
		pdf.SetLineWidth(0.15)
		pdf.Line(labelX, y+7.6, valueX+valueMaxW, y+7.6)
	}

	// QR code, drawn as vector modules merged along rows.
	m := qrModulePt / ptPerMM
	qx, qy := qrXPt/ptPerMM, qrYPt/ptPerMM
	qsize := float64(qr.Size()) * m
	p.Fill([3]int{255, 255, 255})
	pdf.Rect(qx-4*m, qy-4*m, qsize+8*m, qsize+8*m, "F")
	p.Fill(colourInk)
	pdf.RawWriteStr(qrPath(qr, pageH*ptPerMM))
	cx := qx + qsize/2
	p.Ink(colourLabel)
	p.Size(11)
	p.Centred(cx, qy+qsize+7, l.ScanZH)
	p.Ink(colourMuted)
	p.Size(7.5)
	p.Centred(cx, qy+qsize+11, l.ScanEN)
	p.Size(6.5)
	p.Centred(cx, qy+qsize+16, l.CodeZH+" "+l.CodeEN)
	p.Size(7.5)
	p.Centred(cx, qy+qsize+19.5, d.Code)

	// Footer.
	p.Ink(colourMuted)
	p.Size(8.5)
	p.Centred(pageW/2, 180, fmt.Sprintf(l.FooterZH, host))
	p.Size(7.5)
	p.Centred(pageW/2, 184.5, fmt.Sprintf(l.FooterEN, host))

	if err := p.Err(); err != nil {
		return Rendered{}, err
	}
	var buf bytes.Buffer
	buf.Grow(64 << 10)
	if err := pdf.Output(&buf); err != nil {
		return Rendered{}, fmt.Errorf("write pdf: %w", err)
	}
	out := pdfdoc.TagSubset(buf.Bytes(), subset)
	return Rendered{PDF: out, SHA256: sha256.Sum256(out)}, nil
}

// encodeQR encodes a QR link at error correction M (never boosted: the level is part of the layout),
// version qrMinVersion or, when the link needs it, qrMaxVersion, with the mask of lowest penalty as
// ISO/IEC 18004 chooses it.
func encodeQR(content string) (*qrcode.QrCode, error) {
	segs, err := qrcode.MakeSegments(content)
	if err != nil {
		return nil, err
	}
	return qrcode.EncodeSegments(segs, qrcode.Medium, qrMinVersion, qrMaxVersion, -1, false)
}

// qrPath writes the dark modules of a QR code as filled PDF rectangles, one per run of dark modules in
// a row, each module qrModulePt wide at (qrXPt, qrYPt) from the top left of a page pageHPt high: what
// gofpdf's Rect would write, without formatting every number through fmt. Each run is filled by
// itself: measured, the same runs filled as one path no longer decoded with zbarimg from a 72-dpi
// pdftoppm render (the rasteriser's anti-aliasing of the shared edges differs).
func qrPath(qr *qrcode.QrCode, pageHPt float64) string {
	n := qr.Size()
	buf := make([]byte, 0, 24*n*n/4)
	num := func(v float64) {
		buf = appendHundredths(buf, int64(math.Round(v*100)))
		buf = append(buf, ' ')
	}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if !qr.Module(x, y) {
				continue
			}
			x0 := x
			for x < n && qr.Module(x, y) {
				x++
			}
			num(qrXPt + float64(x0)*qrModulePt)
			num(pageHPt - qrYPt - float64(y)*qrModulePt)
			num(float64(x-x0) * qrModulePt)
			num(-qrModulePt)
			buf = append(buf, "re f\n"...)
		}
	}
	return string(buf)
}

// appendHundredths appends c/100 with two decimals (1234 → "12.34", -150 → "-1.50"), as %.2f would
// print it, without the general float formatting that made up most of qrPath's cost.
func appendHundredths(b []byte, c int64) []byte {
	if c < 0 {
		b = append(b, '-')
		c = -c
	}
	b = strconv.AppendInt(b, c/100, 10)
	return append(b, '.', byte('0'+c/10%10), byte('0'+c%10))
}

func (r *Renderer) dateZH(t time.Time) string {
	return fmt.Sprintf(r.labels.DateZH, t.Year(), int(t.Month()), t.Day())
}

func (r *Renderer) dateEN(t time.Time) string {
	return fmt.Sprintf("%d %s %d", t.Day(), r.labels.MonthsEN[t.Month()-1], t.Year())
}

// photo places a JPEG or PNG inside the box, keeping its proportions, with a thin frame.
func photo(p *pdfdoc.Page, img []byte, x, y, w, h float64) error {
	var typ string
	switch {
	case bytes.HasPrefix(img, []byte{0xFF, 0xD8, 0xFF}):
		typ = "JPG"
	case bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")):
		typ = "PNG"
	default:
		return ErrPhotoUnsupported
	}
	info := p.PDF().RegisterImageOptionsReader("photo", gofpdf.ImageOptions{ImageType: typ}, bytes.NewReader(img))
	if p.PDF().Err() || info == nil {
		return ErrPhotoUnsupported.Wrap(p.PDF().Error())
	}
	iw, ih := info.Width(), info.Height()
	if iw <= 0 || ih <= 0 {
		return ErrPhotoUnsupported
	}
	dw, dh := w, w*ih/iw
	if dh > h {
		dw, dh = h*iw/ih, h
	}
	ox, oy := x+(w-dw)/2, y+(h-dh)/2
	p.PDF().ImageOptions("photo", ox, oy, dw, dh, false, gofpdf.ImageOptions{ImageType: typ}, 0, "")
	p.Draw(colourGold)
	p.PDF().SetLineWidth(0.3)
	p.PDF().Rect(ox-1, oy-1, dw+2, dh+2, "D")
	return nil
}
