package certificates

import (
	"context"

	"github.com/jung-kurt/gofpdf"
)

// This file exposes, for other domains' signed PDF reports (the audits' inspection report), the
// certificates' font handling and PDF signer without changing how certificates use them.

// ReportFont is the font certificates print with, loaded once.
func (s *Service) ReportFont() (*Font, error) {
	r, err := s.loadRenderer()
	if err != nil {
		return nil, err
	}
	return r.font, nil
}

// ReportSigner is the PDF signer certificates are signed with (environment files or the stored one).
func (s *Service) ReportSigner(ctx context.Context) (*PDFSigner, error) { return s.loadPDFSigner(ctx) }

// TextWriter writes text on a gofpdf document with a subset of font, drawing characters beyond the
// Basic Multilingual Plane as outlines and those the font lacks as a framed code point, like
// certificates do.
type TextWriter struct{ p *page }

// NewTextWriter adds subset (from font.Subset) to pdf and returns a writer using it.
func NewTextWriter(pdf *gofpdf.Fpdf, font *Font, subset []byte) *TextWriter {
	pdf.AddUTF8FontFromBytes(fontFamily, "", subset)
	return &TextWriter{p: &page{pdf: pdf, font: font}}
}

// Size sets the font size in points.
func (w *TextWriter) Size(pt float64) { w.p.size(pt) }

// Ink sets the text colour.
func (w *TextWriter) Ink(r, g, b int) { w.p.ink([3]int{r, g, b}) }

// Text writes s with its baseline starting at x, y (mm).
func (w *TextWriter) Text(x, y float64, s string) { w.p.text(x, y, s) }

// Width is the width of s in mm at the current size.
func (w *TextWriter) Width(s string) float64 { return w.p.width(s) }

// Err is the first error met while drawing.
func (w *TextWriter) Err() error { return w.p.err }

// TagSubset renames the embedded subset font as certificates do (PDF 32000 §9.6.4).
func TagSubset(pdf, subset []byte) []byte { return tagSubset(pdf, subset) }
