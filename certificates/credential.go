package certificates

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"shanyu/internal/clock"
)

// JSON-LD contexts of the credentials exported.
const (
	contextVC2 = "https://www.w3.org/ns/credentials/v2"
	contextOB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
)

// BadgeInput is what an Open Badges 3.0 credential says about a certificate. It carries the holder's
// name, never their ID number.
type BadgeInput struct {
	BaseURL        string // public address of the service, e.g. https://shanyu.example.cn
	Code           string // verification code: the credential's id is its verification page
	Number         string // certificate number, exported as licenseNumber
	HolderName     string
	OccupationCode string // e.g. 4-10-01-03
	Level          int
	Titles         Titles
	IssuerName     string // the training centre that issued it
	IssuerNameEN   string
	IssuerID       string       // the issuer's Profile URL (IssuerURL); BaseURL when empty
	IssuedOn       time.Time    // a civil date (UTC midnight), as printed
	ExpiresOn      time.Time    // a civil date: valid through the whole day in the product's zone
	IssuedAt       time.Time    // the instant of issuance; zero or on another day than IssuedOn: the start of IssuedOn
	Status         *StatusEntry // its entry in a published status list, if any (OB 3.0 allows one)
}

// StatusEntry places a credential in a W3C Bitstring Status List.
type StatusEntry struct {
	ListURL string // the BitstringStatusListCredential's URL
	Index   int
	Purpose string // revocation or suspension
}

func (e StatusEntry) json() map[string]any {
	i := strconv.Itoa(e.Index)
	return map[string]any{
		"id":                   e.ListURL + "#" + i,
		"type":                 "BitstringStatusListEntry",
		"statusPurpose":        e.Purpose,
		"statusListIndex":      i,
		"statusListCredential": e.ListURL,
	}
}

// OpenBadgeCredential returns the certificate as an Open Badges 3.0 OpenBadgeCredential secured as a
// VC-JWT (OB 3.0 §8.2): the payload is the credential itself plus the registered claims iss, jti, nbf
// and exp; the header names the key (EdDSA, kid).
func (s *Signer) OpenBadgeCredential(in BadgeInput) (string, error) {
	if _, err := ParseNumber(in.Number); err != nil {
		return "", err
	}
	if in.BaseURL == "" || in.Code == "" || in.IssuerName == "" || in.IssuedOn.IsZero() || in.ExpiresOn.IsZero() {
		return "", ErrDocumentInvalid
	}
	base := strings.TrimRight(in.BaseURL, "/")
	issuerID := in.IssuerID
	if issuerID == "" {
		issuerID = base + "/"
	}
	issuer := map[string]any{"id": issuerID, "type": []string{"Profile"}, "name": in.IssuerName}
	if in.IssuerNameEN != "" && in.IssuerNameEN != in.IssuerName {
		issuer["name"] = in.IssuerName + " / " + in.IssuerNameEN
	}
	id := base + "/v/" + in.Code
	// Real instants: valid from the moment of issuance (so that a credential issued now verifies now),
	// through the end of the expiry day, both counted in the product's zone.
	validFrom := clock.Midnight(in.IssuedOn)
	if !in.IssuedAt.IsZero() && clock.Date(in.IssuedAt).Equal(startOfDay(in.IssuedOn)) {
		validFrom = in.IssuedAt.Truncate(time.Second)
	}
	validFrom = validFrom.UTC()
	validUntil := clock.Midnight(in.ExpiresOn).AddDate(0, 0, 1).Add(-time.Second).UTC()
	nameZH := in.Titles.OccupationZH + " " + in.Titles.LevelZH
	nameEN := in.Titles.OccupationEN + ", " + in.Titles.LevelEN
	cred := map[string]any{
		"@context":    []string{contextVC2, contextOB3},
		"id":          id,
		"type":        []string{"VerifiableCredential", "OpenBadgeCredential"},
		"name":        nameZH + " / " + nameEN,
		"issuer":      issuer,
		"validFrom":   validFrom.Format(time.RFC3339),
		"validUntil":  validUntil.Format(time.RFC3339),
		"awardedDate": validFrom.Format(time.RFC3339),
		"credentialSubject": map[string]any{
			"type":          []string{"AchievementSubject"},
			"licenseNumber": in.Number,
			"identifier": []map[string]any{{
				"type":         "IdentityObject",
				"identityType": "name",
				"hashed":       false,
				"identityHash": in.HolderName,
			}},
			"achievement": Achievement(base, in.OccupationCode, in.Level, in.Titles),
		},
		// Registered JWT claims mirroring the credential (OB 3.0 §8.2.4.1).
		"iss": issuerID,
		"jti": id,
		"nbf": validFrom.Unix(),
		"exp": validUntil.Unix(),
	}
	if in.Status != nil {
		cred["credentialStatus"] = in.Status.json()
	}
	payload, err := json.Marshal(cred)
	if err != nil {
		return "", err
	}
	return s.signKid("JWT", KeyURL(base, s.kid), payload)
}

// Achievement is what a certificate attests, as an OB 3.0 Achievement: its id is AchievementURL,
// where the same JSON is served.
func Achievement(baseURL, occupationCode string, level int, t Titles) map[string]any {
	nameZH := t.OccupationZH + " " + t.LevelZH
	nameEN := t.OccupationEN + ", " + t.LevelEN
	return map[string]any{
		"id":              AchievementURL(baseURL, occupationCode, level),
		"type":            []string{"Achievement"},
		"achievementType": "Certification",
		"name":            nameZH + " / " + nameEN,
		"description":     fmt.Sprintf("%s (%s), %s", t.OccupationEN, occupationCode, t.LevelEN),
		"humanCode":       occupationCode + "/" + strconv.Itoa(level),
		"criteria": map[string]any{
			"narrative": "Passed the national vocational skill level assessment for this occupation and level.",
		},
		"inLanguage": "zh-CN",
	}
}

// AchievementURL is where an occupation and level's Achievement is published.
func AchievementURL(baseURL, occupationCode string, level int) string {
	return strings.TrimRight(baseURL, "/") + "/achievements/" + occupationCode + "/" + strconv.Itoa(level)
}

// IssuerURL is a training centre's id as an Open Badges issuer: the URL of its OB 3.0 Profile (JSON).
// PlatformIssuer names the platform itself, which issues the status lists.
func IssuerURL(baseURL, centreCode string) string {
	return strings.TrimRight(baseURL, "/") + "/issuers/" + centreCode
}

// PlatformIssuer is the issuer code of the platform (status lists); centre codes are upper case.
const PlatformIssuer = "platform"

// KeyURL is a signing key's URL, written as the kid of credentials and status lists so that a
// verifier finds the key from the credential alone: GET answers the public JWK.
func KeyURL(baseURL, kid string) string { return strings.TrimRight(baseURL, "/") + "/keys/" + kid }

// VerifyCredential checks a VC-JWT made by this package against the published keys and returns its
// payload, the credential.
func VerifyCredential(token string, jwks JWKSet) (map[string]any, error) {
	_, payload, err := verifyJWS(token, jwks)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, ErrTokenInvalid.Wrap(err)
	}
	return m, nil
}

func startOfDay(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
