// Package certificates owns what makes a childcare certificate trustworthy: issuance, national-format
// numbering, the signing keys (Ed25519 for tokens and credentials, X.509 for PDF signatures) and their
// rotation, PDF rendering and signing, the compact offline token in the QR code, verification,
// revocation and the credentials exported from it (Open Badges 3.0, W3C Bitstring Status List).
//
// It keeps its own tables (migrations 0500–0599) and must not import server, fiber or anything HTTP:
// its functions take a context.Context and plain values, and its errors are failure.Error values with
// "certificates.*" translation keys.
package certificates
