package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"shanyu/certificates"
	"shanyu/internal/servertest"
)

// postForm submits a page form with the session's CSRF token.
func postForm(t *testing.T, c *client, path string, values url.Values) response {
	t.Helper()
	if c.csrf != "" {
		values.Set("_csrf", c.csrf)
	}
	req, err := http.NewRequest("POST", c.base+path, strings.NewReader(values.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

func firstCertificate(t *testing.T, c *client, query string) (number, code string) {
	t.Helper()
	var items struct {
		Items []struct{ Number, Code string } `json:"items"`
	}
	if err := json.Unmarshal(c.send("GET", "/api/v1/certificates"+query, nil).Body, &items); err != nil || len(items.Items) == 0 {
		t.Fatalf("no certificate for %s: %v", query, err)
	}
	return items.Items[0].Number, items.Items[0].Code
}

// TestCertificatePages: the caregiver's page offers the downloads and the share link; the centre's
// list shows its certificates and progress; the centre suspends through the form (a reason is
// required) and the verification page says so; the manual look-up and the status list work.
func TestCertificatePages(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	cg := mustLogin(t, srv, "caregiver")
	number, code := firstCertificate(t, cg, "")
	mine := cg.do("GET", "/certificates/mine", nil, nil)
	for _, want := range []string{number, "/api/v1/certificates/" + number + "/pdf", "/api/v1/certificates/" + number + "/ob3", "/v/" + code} {
		if !strings.Contains(string(mine.Body), want) {
			t.Errorf("my certificates page lacks %q", want)
		}
	}
	if r := cg.do("GET", "/certificates", nil, nil); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/certificates/mine" {
		t.Errorf("caregiver on the centre list: %d %s", r.Status, r.Header.Get("Location"))
	}
	if r := cg.do("GET", "/certificates/"+number, nil, nil); r.Status != http.StatusOK || strings.Contains(string(r.Body), `name="action"`) {
		t.Errorf("holder's detail page: %d, offers status changes: %v", r.Status, strings.Contains(string(r.Body), `name="action"`))
	}

	centre := mustLogin(t, srv, "centre")
	list := string(centre.do("GET", "/certificates?expiring_days=31", nil, nil).Body)
	if !strings.Contains(list, "王晓雯") || strings.Contains(list, "李小燕") || !strings.Contains(list, "待发证") {
		t.Errorf("centre list filtered to expiring within 31 days:\n%.2000s", list)
	}
	if r := postForm(t, centre, "/certificates/"+number+"/status", url.Values{"action": {"suspend"}, "reason": {""}}); r.Status != http.StatusBadRequest && r.Status != http.StatusUnprocessableEntity {
		t.Errorf("suspend without a reason: %d", r.Status)
	} else if !strings.Contains(string(r.Body), "请填写原因") {
		t.Errorf("suspend without a reason does not say why")
	}
	if r := postForm(t, centre, "/certificates/"+number+"/status", url.Values{"action": {"suspend"}, "reason": {"投诉调查中"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("suspend: %d %s", r.Status, r.Body)
	}
	anon := newClient(t, srv)
	if page := string(anon.do("GET", "/v/"+code, nil, nil).Body); !strings.Contains(page, "证书已暂停") {
		t.Errorf("verification page after suspension does not say so")
	}
	en := anon.do("GET", "/v/"+code, nil, map[string]string{"Accept-Language": "en"})
	if !strings.Contains(string(en.Body), "Certificate suspended") {
		t.Errorf("English verification page does not say suspended")
	}
	if r := postForm(t, centre, "/certificates/"+number+"/status", url.Values{"action": {"reinstate"}, "reason": {"调查结束"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("reinstate: %d", r.Status)
	}

	// The regulator of the region may change it too.
	admin := mustLogin(t, srv, "admin")
	for _, action := range []string{"suspend", "reinstate"} {
		if r := admin.send("POST", "/api/v1/certificates/"+number+"/"+action, map[string]string{"reason": "监管抽查"}); r.Status != http.StatusOK {
			t.Errorf("regulator %s: %d %s", action, r.Status, r.Body)
		}
	}

	// Manual look-up through the page: a mismatch is a message, a match the verification.
	if r := postForm(t, anon, "/verify", url.Values{"number": {number}, "name": {"李小燕"}, "id_last4": {"0000"}}); r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), "没有找到相符的证书") {
		t.Errorf("look-up mismatch: %d", r.Status)
	}
	if r := postForm(t, anon, "/verify", url.Values{"number": {number}, "name": {"李小燕"}, "id_last4": {"4525"}}); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "有效证书") {
		t.Errorf("look-up match: %d", r.Status)
	}

	// The status list credential verifies with the published keys.
	var jwks certificates.JWKSet
	_ = json.Unmarshal(anon.do("GET", "/.well-known/jwks.json", nil, nil).Body, &jwks)
	sl := anon.do("GET", "/api/v1/status-lists/revocation", nil, nil)
	cred, err := certificates.VerifyCredential(string(sl.Body), jwks)
	if err != nil || cred["credentialSubject"].(map[string]any)["statusPurpose"] != "revocation" {
		t.Errorf("status list: %d %v %v", sl.Status, cred, err)
	}
	if r := anon.do("GET", "/api/v1/status-lists/other", nil, nil); r.Status != http.StatusNotFound {
		t.Errorf("unknown status list: %d", r.Status)
	}
}
