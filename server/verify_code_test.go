package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"shanyu/internal/servertest"
)

// TestVerifyByCode: the public checks the 核验码 printed on a certificate at /verify, typed in
// capitals with spaces or pasted as the scanned link; a code of the wrong shape or one that matches
// nothing comes back on the form with what was typed and the message beside the field; a failed
// look-up by number keeps all three fields.
func TestVerifyByCode(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	var items struct {
		Items []struct{ Number, Code string } `json:"items"`
	}
	_ = json.Unmarshal(mustLogin(t, srv, "caregiver").send("GET", "/api/v1/certificates", nil).Body, &items)
	if len(items.Items) != 1 || len(items.Items[0].Code) != 26 {
		t.Fatalf("no certificate: %+v", items)
	}
	code := items.Items[0].Code
	anon := newClient(t, srv)
	spaced := strings.ToUpper(code[:5] + " " + code[5:13] + "-" + code[13:])
	for _, typed := range []string{code, spaced, "  " + srv.URL + "/v/" + code + "#eyJhbGciOi  "} {
		r := anon.postForm("/verify/code", url.Values{"code": {typed}})
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "verdict-valid") || !strings.Contains(string(r.Body), items.Items[0].Number) {
			t.Errorf("code %q: %d, not the valid certificate", typed, r.Status)
		}
	}
	for typed, want := range map[string]int{"abc": http.StatusUnprocessableEntity, strings.Repeat("a", 26): http.StatusNotFound, code[:25] + "1": http.StatusUnprocessableEntity} {
		r := anon.postForm("/verify/code", url.Values{"code": {typed}})
		body := string(r.Body)
		if r.Status != want || !strings.Contains(body, `value="`+typed+`"`) || !strings.Contains(body, `aria-invalid="true"`) ||
			!strings.Contains(body, `class="field-error"`) || strings.Index(body, `class="field-error"`) > strings.Index(body, `action="/verify"`) {
			t.Errorf("code %q: %d (want %d) without the typed value and the message beside the code field", typed, r.Status, want)
		}
	}
	r := anon.postForm("/verify", url.Values{"number": {items.Items[0].Number}, "name": {"李小"}, "id_last4": {"4525"}})
	for _, v := range []string{`value="` + items.Items[0].Number + `"`, `value="李小"`, `value="4525"`} {
		if r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), v) {
			t.Errorf("a failed look-up by number: %d, lost %s", r.Status, v)
		}
	}
}
