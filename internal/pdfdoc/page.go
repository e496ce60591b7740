package pdfdoc

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/jung-kurt/gofpdf"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

const (
	ptPerMM = 72 / 25.4
	// gofpdf names an embedded font "utf8" + family and gives it no subset tag; TagSubset swaps that
	// name, byte for byte, for a tag and a name of the same length.
	fontFamily   = "shanyusubset"
	gofpdfName   = "/utf8" + fontFamily
	subsetPSName = "ShanyuCJK"
)

// NewDocument starts an A4 document ("P" portrait, "L" landscape, in mm) whose bytes depend only on
// what is drawn: its dates are stamp, its dictionaries sorted; creator is its producer and creator.
// It has no margins and no automatic page break: the caller lays out every line.
func NewDocument(orientation string, stamp time.Time, creator, title string) *gofpdf.Fpdf {
	pdf := gofpdf.New(orientation, "mm", "A4", "")
	pdf.SetCreationDate(stamp)
	pdf.SetModificationDate(stamp)
	pdf.SetCatalogSort(true)
	pdf.SetProducer(creator, false)
	pdf.SetCreator(creator, false)
	pdf.SetTitle(title, false)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(0, 0, 0)
	return pdf
}

// NewPage adds subset (from font.Subset, holding every character the document prints) to pdf as its
// font and returns a Page drawing with it.
func NewPage(pdf *gofpdf.Fpdf, font *Font, subset []byte) *Page {
	pdf.AddUTF8FontFromBytes(fontFamily, "", subset)
	return &Page{pdf: pdf, font: font}
}

// PDF is the document the page draws on.
func (p *Page) PDF() *gofpdf.Fpdf { return p.pdf }

// Err is the first error met while drawing.
func (p *Page) Err() error { return p.err }

// Page draws text on a gofpdf page. gofpdf reads only the Basic Multilingual Plane of a font and
// panics on characters beyond it (such as 𠮷, U+20BB7, found in real names), so those are drawn as
// vector outlines taken from the font, and characters the font lacks as a framed code point.
type Page struct {
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

// Ink, Fill and Draw set the text, fill and line colours (RGB).
func (p *Page) Ink(c [3]int)  { p.inkC = c; p.pdf.SetTextColor(c[0], c[1], c[2]) }
func (p *Page) Fill(c [3]int) { p.pdf.SetFillColor(c[0], c[1], c[2]) }
func (p *Page) Draw(c [3]int) { p.pdf.SetDrawColor(c[0], c[1], c[2]) }

// Size sets the font size in points.
func (p *Page) Size(pt float64) {
	p.pt = pt
	p.pdf.SetFont(fontFamily, "", pt)
}

// Fit sets the largest size up to pt at which s fits in width w.
func (p *Page) Fit(s string, pt, w float64) {
	p.Size(pt)
	for p.Width(s) > w && pt > 6 {
		pt -= 0.5
		p.Size(pt)
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

func (p *Page) spans(s string) []span {
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

func (p *Page) emMM() float64 { return p.pt / ptPerMM }

func (p *Page) outline(r rune) (glyphOutline, bool) {
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

func (p *Page) spanWidth(sp span) float64 {
	switch sp.kind {
	case spanOutline:
		o, ok := p.outline(sp.r)
		if !ok {
			return 0
		}
		return o.advance / float64(p.font.unitsPerEm) * p.emMM()
	case spanMissing:
		pt := p.pt
		p.Size(pt * 0.38)
		w := p.pdf.GetStringWidth(missingLabel(sp.r))
		p.Size(pt)
		return w + 0.2*p.emMM()
	}
	return p.pdf.GetStringWidth(sp.text)
}

// Width is the width of s in mm at the current size.
func (p *Page) Width(s string) float64 {
	var w float64
	for _, sp := range p.spans(s) {
		w += p.spanWidth(sp)
	}
	return w
}

// Text writes s with its baseline at y, starting at x.
func (p *Page) Text(x, y float64, s string) {
	for _, sp := range p.spans(s) {
		w := p.spanWidth(sp)
		switch sp.kind {
		case spanText:
			p.pdf.Text(x, y, sp.text)
		case spanOutline:
			p.drawOutline(x, y, sp.r)
		case spanMissing:
			em := p.emMM()
			p.Draw(p.inkC)
			p.pdf.SetLineWidth(0.15)
			p.pdf.Rect(x+0.05*em, y-0.8*em, w-0.1*em, 0.95*em, "D")
			pt := p.pt
			p.Size(pt * 0.38)
			p.pdf.Text(x+0.1*em, y-0.22*em, missingLabel(sp.r))
			p.Size(pt)
		}
		x += w
	}
}

func (p *Page) drawOutline(x, y float64, r rune) {
	o, ok := p.outline(r)
	if !ok {
		return
	}
	scale := p.emMM() / float64(p.font.unitsPerEm) / 64 // segments are 26.6 fixed point
	pt := func(v fixed.Point26_6) (float64, float64) {
		return x + float64(v.X)*scale, y + float64(v.Y)*scale
	}
	p.Fill(p.inkC)
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

// Centred writes s centred on cx.
func (p *Page) Centred(cx, y float64, s string) { p.Text(cx-p.Width(s)/2, y, s) }

// Spaced centres s with extra space between its characters, as titles are set.
func (p *Page) Spaced(cx, y float64, s string, gap float64) {
	rs := []rune(s)
	total := p.Width(s) + gap*float64(len(rs)-1)
	x := cx - total/2
	for _, r := range rs {
		p.Text(x, y, string(r))
		x += p.Width(string(r)) + gap
	}
}

// TagSubset renames the embedded font to "ABCDEF+ShanyuCJK", with the six-letter tag derived from
// the subset: PDF 32000 §9.6.4 marks subset fonts so, and readers (pdffonts, Acrobat) rely on it.
// The new name has the old one's length, so every byte offset in the file stays right.
func TagSubset(pdf, subset []byte) []byte {
	sum := sha256.Sum256(subset)
	tag := make([]byte, 0, len(gofpdfName))
	tag = append(tag, '/')
	for _, b := range sum[:6] {
		tag = append(tag, 'A'+b%26)
	}
	tag = append(tag, '+')
	tag = append(tag, subsetPSName...)
	if len(tag) != len(gofpdfName) {
		panic("pdfdoc: subset tag and font name differ in length")
	}
	return bytes.ReplaceAll(pdf, []byte(gofpdfName), tag)
}
