package certificates

import (
	"context"
	"strings"

	"shanyu/internal/pg"
)

// IssuerProfile is the OB 3.0 Profile of an issuer, served as JSON at its id (IssuerURL) so that a
// verifier given only a credential can resolve who issued it: a training centre by its code, or the
// platform (PlatformIssuer), which issues the status lists.
func (s *Service) IssuerProfile(ctx context.Context, code string) (map[string]any, error) {
	base := strings.TrimRight(s.baseURL, "/")
	p := map[string]any{
		"@context": []string{contextVC2, contextOB3},
		"id":       IssuerURL(base, code),
		"type":     []string{"Profile"},
		"url":      base + "/",
	}
	if code == PlatformIssuer {
		p["name"] = "善育 Shanyu"
		p["description"] = "Childcare worker training, examination and certification platform; publishes the certificates' status lists."
		return p, nil
	}
	// The profile names the centre as its latest certificate does (the snapshot taken at issuance):
	// certificates read no table of accounts, and a centre that issued nothing is no issuer.
	var name, nameEN, region string
	err := s.public.QueryRow(ctx, `SELECT issuer_name, issuer_name_en, issuer_region FROM certificates
		WHERE issuer_code = $1 AND pdf IS NOT NULL ORDER BY id DESC LIMIT 1`, strings.ToUpper(code)).
		Scan(&name, &nameEN, &region)
	if pg.IsNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	p["name"] = name
	if nameEN != "" && nameEN != name {
		p["name"] = name + " / " + nameEN
	}
	p["description"] = "Training centre issuing childcare vocational skill certificates (region " + region + ")."
	p["address"] = map[string]any{"type": []string{"Address"}, "addressCountry": "CN", "addressRegion": region}
	return p, nil
}

// AchievementJSON is the OB 3.0 Achievement of an occupation and level, served at AchievementURL.
func (s *Service) AchievementJSON(occupationCode string, level int) (map[string]any, error) {
	t, err := LevelTitles(occupationCode, level)
	if err != nil {
		return nil, ErrNotFound
	}
	a := Achievement(s.baseURL, occupationCode, level, t)
	a["@context"] = []string{contextVC2, contextOB3}
	return a, nil
}

// PublicKey is the public JWK of a signing key, active or retired, served at KeyURL.
func (s *Service) PublicKey(ctx context.Context, kid string) (JWK, error) {
	set, err := JWKS(ctx, s.public)
	if err != nil {
		return JWK{}, err
	}
	for _, k := range set.Keys {
		if k.Kid == kid {
			return k, nil
		}
	}
	return JWK{}, ErrNotFound
}
