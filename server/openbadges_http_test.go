package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shanyu/internal/servertest"
)

// obverify runs the independent verifier of tools/obverify (jose and ajv from npm, installed by
// scripts/deps test) on a credential; it starts from the credential alone.
func obverify(t *testing.T, credential []byte) (map[string]any, string, error) {
	t.Helper()
	dir, _ := filepath.Abs("../tools/obverify")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "jose")); err != nil {
		t.Fatalf("tools/obverify is not installed: run scripts/deps test (npm ci in tools/obverify): %v", err)
	}
	p := filepath.Join(t.TempDir(), "credential.jwt")
	if err := os.WriteFile(p, credential, 0o600); err != nil {
		t.Fatal(err)
	}
	schema, _ := filepath.Abs("../certificates/testdata/ob_v3p0_achievementcredential.schema.json")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, "verify.mjs"), p, schema)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, stderr.String(), err
	}
	var res map[string]any
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("obverify printed %q: %v", out, err)
	}
	return res, stderr.String(), nil
}

// TestOpenBadgeVerifiedByAStranger gives an independent verifier only a demo holder's Open Badges
// credential: it must find the key at the kid URL, the training centre's issuer profile at issuer.id,
// the achievement at its id and the status list, and validate the credential against the OB 3.0
// schema. The revoked demo certificate comes out revoked; a changed credential fails.
func TestOpenBadgeVerifiedByAStranger(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	badge := func(user string) []byte {
		t.Helper()
		c := mustLogin(t, srv, user)
		var items struct {
			Items []struct{ Number string } `json:"items"`
		}
		if err := json.Unmarshal(c.send("GET", "/api/v1/certificates?limit=10", nil).Body, &items); err != nil || len(items.Items) == 0 {
			t.Fatalf("%s's certificates: %v", user, err)
		}
		r := c.send("GET", "/api/v1/certificates/"+items.Items[0].Number+"/ob3", nil)
		if r.Status != http.StatusOK {
			t.Fatalf("ob3 of %s: %d %s", user, r.Status, r.Body)
		}
		return r.Body
	}
	res, stderr, err := obverify(t, badge("caregiver"))
	if err != nil {
		t.Fatalf("obverify: %v\n%s", err, stderr)
	}
	if res["verified"] != true || res["status"] != "clear" || res["issuer"] != srv.URL+"/issuers/HZ001" ||
		!strings.HasPrefix(res["kid"].(string), srv.URL+"/keys/") || !strings.Contains(res["issuer_name"].(string), "杭州市婴幼儿照护服务实训中心") {
		t.Errorf("caregiver's credential: %v", res)
	}
	if res, stderr, err := obverify(t, badge("cg.chenym")); err != nil || res["status"] != "revoked" {
		t.Errorf("revoked demo certificate: %v %v\n%s", res, err, stderr)
	}
	if res, _, err := obverify(t, badge("cg.zhangxy")); err != nil || res["issuer"] != srv.URL+"/issuers/NB001" {
		t.Errorf("the Ningbo centre is its own issuer: %v %v", res, err)
	}

	// A changed payload: the signature no longer holds.
	cred := badge("caregiver")
	parts := strings.Split(string(cred), ".")
	forged := []byte(parts[0] + "." + parts[1][:len(parts[1])-4] + "AAAA" + "." + parts[2])
	if res, _, err := obverify(t, forged); err == nil {
		t.Errorf("a changed credential verifies: %v", res)
	}

	anon := newClient(t, srv)
	if r := anon.do("GET", "/issuers/NOPE1", nil, nil); r.Status != http.StatusNotFound {
		t.Errorf("unknown issuer: %d", r.Status)
	}
	if r := anon.do("GET", "/keys/nokey", nil, nil); r.Status != http.StatusNotFound {
		t.Errorf("unknown key: %d", r.Status)
	}
}
