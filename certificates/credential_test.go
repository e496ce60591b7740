package certificates

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"shanyu/internal/pgtest"
)

// obSchema compiles the 1EdTech OB 3.0 AchievementCredential schema. A copy lives in testdata, so
// that the tests do not depend on where the repository is checked out; where the project's shared
// folder sits beside the repository, the copy must still equal the schema kept there.
func obSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	const name = "ob_v3p0_achievementcredential.schema.json"
	local, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("OB 3.0 schema: %v", err)
	}
	if root, err := pgtest.RepoRoot(); err == nil {
		if shared, err := os.ReadFile(filepath.Join(root, "..", "shared", "schemas", name)); err == nil && !bytes.Equal(shared, local) {
			t.Fatalf("testdata/%s differs from ../shared/schemas/%s: copy the shared one", name, name)
		}
	}
	f := bytes.NewReader(local)
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("file:///ob_v3p0_achievementcredential.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("file:///ob_v3p0_achievementcredential.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func badgeInput(t *testing.T) BadgeInput {
	t.Helper()
	titles, err := LevelTitles("4-10-01-03", 4)
	if err != nil {
		t.Fatal(err)
	}
	return BadgeInput{
		BaseURL:        "https://shanyu.example.cn",
		Code:           codeEncoding.EncodeToString(bytes.Repeat([]byte{1}, codeBytes)),
		Number:         "S000033000001254001234",
		HolderName:     "王晓雯",
		OccupationCode: "4-10-01-03",
		Level:          4,
		Titles:         titles,
		IssuerName:     "杭州市西湖区托育综合服务中心",
		IssuedOn:       time.Date(2025, 6, 18, 0, 0, 0, 0, time.UTC),
		ExpiresOn:      time.Date(2028, 6, 17, 0, 0, 0, 0, time.UTC),
		Status:         &StatusEntry{ListURL: "https://shanyu.example.cn/status/revocation/1", Index: 94567, Purpose: "revocation"},
	}
}

func TestOpenBadgeCredentialValidatesAgainstOB3Schema(t *testing.T) {
	t.Parallel()
	schema := obSchema(t)
	jwt, err := testKey.OpenBadgeCredential(badgeInput(t))
	if err != nil {
		t.Fatal(err)
	}
	header, _, err := verifyJWS(jwt, JWKSet{Keys: []JWK{testKey.PublicJWK()}})
	if err != nil {
		t.Fatal(err)
	}
	// The kid is a URL where the key is published, so that a verifier finds it from the credential.
	if header.Alg != "EdDSA" || !strings.HasSuffix(header.Kid, "/keys/"+testKey.KeyID()) || !strings.HasPrefix(header.Kid, "https://") {
		t.Fatalf("header = %+v", header)
	}
	cred, err := VerifyCredential(jwt, JWKSet{Keys: []JWK{testKey.PublicJWK()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(cred); err != nil {
		t.Fatalf("OB 3.0 schema: %v", err)
	}
	subject := cred["credentialSubject"].(map[string]any)
	if subject["licenseNumber"] != "S000033000001254001234" {
		t.Errorf("licenseNumber = %v", subject["licenseNumber"])
	}
	if cred["iss"] != cred["issuer"].(map[string]any)["id"] || cred["jti"] != cred["id"] {
		t.Errorf("registered claims do not mirror the credential: iss %v jti %v", cred["iss"], cred["jti"])
	}
	status := cred["credentialStatus"].(map[string]any)
	if status["type"] != "BitstringStatusListEntry" || status["statusListIndex"] != "94567" {
		t.Errorf("credentialStatus = %v", status)
	}
}

func TestOpenBadgeCredentialHasNoIDNumber(t *testing.T) {
	t.Parallel()
	in := badgeInput(t)
	jwt, err := testKey.OpenBadgeCredential(in)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := VerifyCredential(jwt, JWKSet{Keys: []JWK{testKey.PublicJWK()}})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(cred)
	if strings.Contains(string(raw), "nationalIdentityNumber") {
		t.Fatalf("credential carries an ID number: %s", raw)
	}
	if !strings.Contains(string(raw), in.HolderName) {
		t.Fatalf("credential does not name its holder: %s", raw)
	}
}

func TestSchemaRejectsABrokenCredential(t *testing.T) {
	t.Parallel()
	// The check above is only worth something if the schema can fail: drop a required field.
	schema := obSchema(t)
	jwt, err := testKey.OpenBadgeCredential(badgeInput(t))
	if err != nil {
		t.Fatal(err)
	}
	cred, err := VerifyCredential(jwt, JWKSet{Keys: []JWK{testKey.PublicJWK()}})
	if err != nil {
		t.Fatal(err)
	}
	delete(cred["credentialSubject"].(map[string]any)["achievement"].(map[string]any), "criteria")
	if err := schema.Validate(cred); err == nil {
		t.Fatal("schema accepted an achievement without criteria")
	}
}

func TestStatusListRoundTrip(t *testing.T) {
	t.Parallel()
	l := NewStatusList(0)
	if l.Len() < MinStatusListBits {
		t.Fatalf("list of %d bits", l.Len())
	}
	set := []int{0, 7, 8, 94567, l.Len() - 1}
	for _, i := range set {
		if err := l.Set(i, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Set(l.Len(), true); !errors.Is(err, ErrStatusIndex) {
		t.Fatalf("out of range: %v", err)
	}
	enc, err := l.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if enc[0] != 'u' || strings.ContainsAny(enc[1:], "+/=") {
		t.Fatalf("not multibase base64url: %.20s…", enc)
	}
	// Bit 0 is the first byte's most significant bit (W3C Bitstring Status List §4).
	if l.bits[0] != 0x81 || l.bits[1] != 0x80 {
		t.Fatalf("bit order: % x", l.bits[:2])
	}
	jwt, err := testKey.StatusListCredential(StatusListInput{
		URL: "https://shanyu.example.cn/status/revocation/1", IssuerID: "https://shanyu.example.cn/",
		Purpose: "revocation", List: l, ValidFrom: time.Date(2025, 6, 18, 8, 0, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := VerifyCredential(jwt, JWKSet{Keys: []JWK{testKey.PublicJWK()}})
	if err != nil {
		t.Fatal(err)
	}
	if types := cred["type"].([]any); types[1] != "BitstringStatusListCredential" {
		t.Fatalf("type = %v", types)
	}
	subject := cred["credentialSubject"].(map[string]any)
	if subject["statusPurpose"] != "revocation" || subject["type"] != "BitstringStatusList" {
		t.Fatalf("subject = %v", subject)
	}
	back, err := DecodeStatusList(subject["encodedList"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if back.Len() != l.Len() {
		t.Fatalf("decoded %d bits, want %d", back.Len(), l.Len())
	}
	want := map[int]bool{}
	for _, i := range set {
		want[i] = true
	}
	for i := 0; i < back.Len(); i++ {
		if back.Get(i) != want[i] {
			t.Fatalf("bit %d = %v after the round trip", i, back.Get(i))
		}
	}
	if _, err := DecodeStatusList("u" + b64.EncodeToString([]byte("not gzip"))); err == nil {
		t.Fatal("decoded garbage")
	}
}
