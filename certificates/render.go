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
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
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
	font   *Font
	labels labels
}

// NewRenderer makes a renderer printing with font (see LoadFont; the file is config.Config.CJKFont).
func NewRenderer(font *Font) (*Renderer, error) {
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
	// gofpdf names an embedded font "utf8" + family and gives it no subset tag; Render swaps that name,
	// byte for byte, for a tag and a name of the same length (see tagSubset).
	fontFamily   = "shanyusubset"
	gofpdfName   = "/utf8" + fontFamily
	subsetPSName = "ShanyuCJK"
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

	pdf := gofpdf.New("L", "mm", "A4", "")
	stamp := time.Date(d.IssuedOn.Year(), d.IssuedOn.Month(), d.IssuedOn.Day(), 0, 0, 0, 0, time.UTC)
	pdf.SetCreationDate(stamp)
	pdf.SetModificationDate(stamp)
	pdf.SetCatalogSort(true)
	pdf.SetProducer(creatorLabel, false)
	pdf.SetCreator(creatorLabel, false)
	pdf.SetTitle(l.TitleEN+" "+d.Number, false)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(0, 0, 0)
	pdf.AddUTF8FontFromBytes(fontFamily, "", subset)
	pdf.AddPage()
	p := &page{pdf: pdf, font: r.font}

	// Paper, double frame and corner ornaments.
	p.fill(colourPaper)
	pdf.Rect(0, 0, pageW, pageH, "F")
	p.draw(colourRed)
	pdf.SetLineWidth(1.4)
	pdf.Rect(8, 8, pageW-16, pageH-16, "D")
	p.draw(colourGold)
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
	p.ink(colourRed)
	p.size(30)
	p.spaced(pageW/2, 36, l.TitleZH, 4)
	p.ink(colourLabel)
	p.size(12.5)
	p.centred(pageW/2, 45, strings.ToUpper(l.TitleEN))
	p.draw(colourGold)
	pdf.SetLineWidth(0.4)
	pdf.Line(pageW/2-48, 50, pageW/2+48, 50)
	pdf.Line(pageW/2-30, 51.2, pageW/2+30, 51.2)
	p.ink(colourMuted)
	p.size(10)
	p.centred(pageW/2, 58.5, l.IntroZH+"  "+l.IntroEN)

	// Photo.
	if len(d.Photo) > 0 {
		if err := p.photo(d.Photo, 26, 70, 33, 45); err != nil {
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
		p.ink(colourLabel)
		p.size(11)
		p.text(labelX, y, row.labelZH)
		p.ink(colourMuted)
		p.size(7.5)
		p.text(labelX, y+4.2, row.labelEN)
		p.ink(colourInk)
		size := 15.0
		if i == 0 {
			size = 19
		}
		p.fit(row.valueZH, size, valueMaxW)
		p.text(valueX, y+0.8, row.valueZH)
		if row.valueEN != "" {
			p.ink(colourMuted)
			p.fit(row.valueEN, 8.5, valueMaxW)
			p.text(valueX, y+5.2, row.valueEN)
		}
		p.draw(colourGold)
		pdf.SetLineWidth(0.15)
		pdf.Line(labelX, y+7.6, valueX+valueMaxW, y+7.6)
	}

	// QR code, drawn as vector modules merged along rows.
	m := qrModulePt / ptPerMM
	qx, qy := qrXPt/ptPerMM, qrYPt/ptPerMM
	qsize := float64(qr.Size()) * m
	p.fill([3]int{255, 255, 255})
	pdf.Rect(qx-4*m, qy-4*m, qsize+8*m, qsize+8*m, "F")
	p.fill(colourInk)
	pdf.RawWriteStr(qrPath(qr, pageH*ptPerMM))
	cx := qx + qsize/2
	p.ink(colourLabel)
	p.size(11)
	p.centred(cx, qy+qsize+7, l.ScanZH)
	p.ink(colourMuted)
	p.size(7.5)
	p.centred(cx, qy+qsize+11, l.ScanEN)
	p.size(6.5)
	p.centred(cx, qy+qsize+16, l.CodeZH+" "+l.CodeEN)
	p.size(7.5)
	p.centred(cx, qy+qsize+19.5, d.Code)

	// Footer.
	p.ink(colourMuted)
	p.size(8.5)
	p.centred(pageW/2, 180, fmt.Sprintf(l.FooterZH, host))
	p.size(7.5)
	p.centred(pageW/2, 184.5, fmt.Sprintf(l.FooterEN, host))

	if p.err != nil {
		return Rendered{}, p.err
	}
	var buf bytes.Buffer
	buf.Grow(64 << 10)
	if err := pdf.Output(&buf); err != nil {
		return Rendered{}, fmt.Errorf("write pdf: %w", err)
	}
	out := tagSubset(buf.Bytes(), subset)
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

// tagSubset renames the embedded font to "ABCDEF+ShanyuCJK", with the six-letter tag derived from
// the subset: PDF 32000 §9.6.4 marks subset fonts so, and readers (pdffonts, Acrobat) rely on it.
// The new name has the old one's length, so every byte offset in the file stays right.
func tagSubset(pdf, subset []byte) []byte {
	sum := sha256.Sum256(subset)
	tag := make([]byte, 0, len(gofpdfName))
	tag = append(tag, '/')
	for _, b := range sum[:6] {
		tag = append(tag, 'A'+b%26)
	}
	tag = append(tag, '+')
	tag = append(tag, subsetPSName...)
	if len(tag) != len(gofpdfName) {
		panic("certificates: subset tag and font name differ in length")
	}
	return bytes.ReplaceAll(pdf, []byte(gofpdfName), tag)
}

func (r *Renderer) dateZH(t time.Time) string {
	return fmt.Sprintf(r.labels.DateZH, t.Year(), int(t.Month()), t.Day())
}

func (r *Renderer) dateEN(t time.Time) string {
	return fmt.Sprintf("%d %s %d", t.Day(), r.labels.MonthsEN[t.Month()-1], t.Year())
}

// page draws text on a gofpdf page. gofpdf reads only the Basic Multilingual Plane of a font and
// panics on characters beyond it (such as 𠮷, U+20BB7, found in real names), so those are drawn as
// vector outlines taken from the font, and characters the font lacks as a framed code point.
type page struct {
	pdf   *gofpdf.Fpdf
	font  *Font
	pt    float64 // current font size
	inkC  [3]int
	err   error
	cache map[rune]glyphOutline
}

type glyphOutline struct {
	segs    sfnt.Segments
	advance float64 // font units
}

func (p *page) ink(c [3]int)  { p.inkC = c; p.pdf.SetTextColor(c[0], c[1], c[2]) }
func (p *page) fill(c [3]int) { p.pdf.SetFillColor(c[0], c[1], c[2]) }
func (p *page) draw(c [3]int) { p.pdf.SetDrawColor(c[0], c[1], c[2]) }

func (p *page) size(pt float64) {
	p.pt = pt
	p.pdf.SetFont(fontFamily, "", pt)
}

// fit sets the largest size up to pt at which s fits in width w.
func (p *page) fit(s string, pt, w float64) {
	p.size(pt)
	for p.width(s) > w && pt > 6 {
		pt -= 0.5
		p.size(pt)
	}
}

// span is a piece of a line: plain text for gofpdf, or one character drawn another way.
type span struct {
	text string
	r    rune
	kind int
}

const (
	spanText = iota
	spanOutline
	spanMissing
)

func (p *page) spans(s string) []span {
	var out []span
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, span{text: cur.String()})
			cur.Reset()
		}
	}
	for _, r := range s {
		if r < 0x20 {
			continue
		}
		_, has := p.font.glyph(r)
		switch {
		case has && r <= 0xFFFF:
			cur.WriteRune(r)
		case has:
			flush()
			out = append(out, span{r: r, kind: spanOutline})
		default:
			flush()
			out = append(out, span{r: r, kind: spanMissing})
		}
	}
	flush()
	return out
}

func (p *page) emMM() float64 { return p.pt / ptPerMM }

func (p *page) outline(r rune) (glyphOutline, bool) {
	if o, ok := p.cache[r]; ok {
		return o, true
	}
	g, _ := p.font.glyph(r)
	segs, adv, err := p.font.segments(g)
	if err != nil {
		p.err = fmt.Errorf("glyph U+%04X: %w", r, err)
		return glyphOutline{}, false
	}
	if p.cache == nil {
		p.cache = map[rune]glyphOutline{}
	}
	o := glyphOutline{segs: segs, advance: adv}
	p.cache[r] = o
	return o, true
}

func missingLabel(r rune) string { return fmt.Sprintf("U+%04X", r) }

func (p *page) spanWidth(sp span) float64 {
	switch sp.kind {
	case spanOutline:
		o, ok := p.outline(sp.r)
		if !ok {
			return 0
		}
		return o.advance / float64(p.font.unitsPerEm) * p.emMM()
	case spanMissing:
		pt := p.pt
		p.size(pt * 0.38)
		w := p.pdf.GetStringWidth(missingLabel(sp.r))
		p.size(pt)
		return w + 0.2*p.emMM()
	}
	return p.pdf.GetStringWidth(sp.text)
}

func (p *page) width(s string) float64 {
	var w float64
	for _, sp := range p.spans(s) {
		w += p.spanWidth(sp)
	}
	return w
}

// text writes s with its baseline at y, starting at x.
func (p *page) text(x, y float64, s string) {
	for _, sp := range p.spans(s) {
		w := p.spanWidth(sp)
		switch sp.kind {
		case spanText:
			p.pdf.Text(x, y, sp.text)
		case spanOutline:
			p.drawOutline(x, y, sp.r)
		case spanMissing:
			em := p.emMM()
			p.draw(p.inkC)
			p.pdf.SetLineWidth(0.15)
			p.pdf.Rect(x+0.05*em, y-0.8*em, w-0.1*em, 0.95*em, "D")
			pt := p.pt
			p.size(pt * 0.38)
			p.pdf.Text(x+0.1*em, y-0.22*em, missingLabel(sp.r))
			p.size(pt)
		}
		x += w
	}
}

func (p *page) drawOutline(x, y float64, r rune) {
	o, ok := p.outline(r)
	if !ok {
		return
	}
	scale := p.emMM() / float64(p.font.unitsPerEm) / 64 // segments are 26.6 fixed point
	pt := func(v fixed.Point26_6) (float64, float64) {
		return x + float64(v.X)*scale, y + float64(v.Y)*scale
	}
	p.fill(p.inkC)
	var curX, curY float64
	for _, s := range o.segs {
		switch s.Op {
		case sfnt.SegmentOpMoveTo:
			curX, curY = pt(s.Args[0])
			p.pdf.MoveTo(curX, curY)
		case sfnt.SegmentOpLineTo:
			curX, curY = pt(s.Args[0])
			p.pdf.LineTo(curX, curY)
		case sfnt.SegmentOpQuadTo:
			// PDF has only cubic curves: raise the degree.
			qx, qy := pt(s.Args[0])
			ex, ey := pt(s.Args[1])
			p.pdf.CurveBezierCubicTo(curX+2.0/3*(qx-curX), curY+2.0/3*(qy-curY), ex+2.0/3*(qx-ex), ey+2.0/3*(qy-ey), ex, ey)
			curX, curY = ex, ey
		case sfnt.SegmentOpCubeTo:
			c1x, c1y := pt(s.Args[0])
			c2x, c2y := pt(s.Args[1])
			curX, curY = pt(s.Args[2])
			p.pdf.CurveBezierCubicTo(c1x, c1y, c2x, c2y, curX, curY)
		}
	}
	p.pdf.DrawPath("F")
}

func (p *page) centred(cx, y float64, s string) { p.text(cx-p.width(s)/2, y, s) }

// spaced centres s with extra space between its characters, as titles are set.
func (p *page) spaced(cx, y float64, s string, gap float64) {
	rs := []rune(s)
	total := p.width(s) + gap*float64(len(rs)-1)
	x := cx - total/2
	for _, r := range rs {
		p.text(x, y, string(r))
		x += p.width(string(r)) + gap
	}
}

// photo places a JPEG or PNG inside the box, keeping its proportions, with a thin frame.
func (p *page) photo(img []byte, x, y, w, h float64) error {
	var typ string
	switch {
	case bytes.HasPrefix(img, []byte{0xFF, 0xD8, 0xFF}):
		typ = "JPG"
	case bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")):
		typ = "PNG"
	default:
		return ErrPhotoUnsupported
	}
	info := p.pdf.RegisterImageOptionsReader("photo", gofpdf.ImageOptions{ImageType: typ}, bytes.NewReader(img))
	if p.pdf.Err() || info == nil {
		return ErrPhotoUnsupported.Wrap(p.pdf.Error())
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
	p.pdf.ImageOptions("photo", ox, oy, dw, dh, false, gofpdf.ImageOptions{ImageType: typ}, 0, "")
	p.draw(colourGold)
	p.pdf.SetLineWidth(0.3)
	p.pdf.Rect(ox-1, oy-1, dw+2, dh+2, "D")
	return nil
}
