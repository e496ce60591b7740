package app

import (
	"context"
	"errors"

	"shanyu/audits"
	"shanyu/certificates"
)

// certificateSource gives the audits domain a person's platform certificates and the certificate
// behind a code scanned on site, through the certificates domain's exported functions.
type certificateSource struct{ certs *certificates.Service }

// CertificateSource is the adapter for a caller that builds the audits service itself (the demo
// seed, the benches).
func CertificateSource(certs *certificates.Service) audits.CertificateSource {
	return certificateSource{certs: certs}
}

func toAuditCert(c certificates.Certificate) audits.Cert {
	out := audits.Cert{Number: c.Number, Occupation: c.OccupationCode, Level: c.Level, Status: c.State, ExpiresOn: c.ExpiresOn, Verified: true}
	if c.Status != "valid" {
		out.StatusReason = c.StatusReason
		if c.StatusChangedAt != nil {
			out.StatusChangedAt = *c.StatusChangedAt
		}
	}
	return out
}

// ForPeople gives each person's certificates, in one call into the certificates domain whatever the
// number of people.
func (s certificateSource) ForPeople(ctx context.Context, personIDs []int64) (map[int64][]audits.Cert, error) {
	held, err := s.certs.OfHolders(ctx, personIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[int64][]audits.Cert, len(held))
	for id, list := range held {
		for _, c := range list {
			out[id] = append(out[id], toAuditCert(c))
		}
	}
	return out, nil
}

// ByCode resolves a verification code (from the QR code) or a certificate number; the verification
// log names the inspection (ref).
func (s certificateSource) ByCode(ctx context.Context, code, ref string) (audits.Cert, int64, error) {
	number := code
	v, err := s.certs.Verify(ctx, code, certificates.How{Method: certificates.MethodAPI, InspectionRef: ref})
	if err != nil {
		return audits.Cert{}, 0, err
	}
	if v.State != "unknown" && v.Number != "" {
		number = v.Number
	}
	c, err := s.certs.ByNumber(ctx, number)
	if errors.Is(err, certificates.ErrNotFound) {
		return audits.Cert{}, 0, audits.ErrCodeUnknown
	}
	if err != nil {
		return audits.Cert{}, 0, err
	}
	return toAuditCert(c), c.PersonID, nil
}
