// Package pdfdoc is the PDF plumbing the domains that hand out signed documents share: a CJK
// TrueType font cut into per-document subsets (Font), a page that draws any character with it
// (Page: outlines beyond the Basic Multilingual Plane, a framed code point for missing glyphs), the
// subset tag PDF readers expect (TagSubset), and the PAdES signer with its RFC 3161 timestamp client
// (PDFSigner, TSAClient; the vendored digitorus/pdfsign in pdfdoc/pdfsign). certificates prints
// certificates with it and audits inspection reports.
//
// It owns no table and imports no domain: where a signer is stored (certificates' tables) and which
// files or TSA to use (internal/config) are decided by its callers.
package pdfdoc
