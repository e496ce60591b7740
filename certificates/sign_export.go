package certificates

import (
	"context"

	"shanyu/internal/pdfdoc"
)

// This file gives other domains' signed PDF reports (the audits' inspection report, wired in app)
// the font certificates print with and the PDF signer stored with the certificates' keys; the
// plumbing itself is internal/pdfdoc.

// ReportFont is the font certificates print with, loaded once.
func (s *Service) ReportFont() (*pdfdoc.Font, error) {
	r, err := s.loadRenderer()
	if err != nil {
		return nil, err
	}
	return r.font, nil
}

// ReportSigner is the PDF signer certificates are signed with (environment files or the stored one).
func (s *Service) ReportSigner(ctx context.Context) (*pdfdoc.PDFSigner, error) {
	return s.loadPDFSigner(ctx)
}
