package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"shanyu/internal/servertest"
)

// TestStaffCertificatePageNamesTheHolderAndItsHistory: before acting, centre staff see whose
// certificate it is (name and masked ID number, never the whole number) and every status change with
// who made it, when and why, and how often it was verified.
func TestStaffCertificatePageNamesTheHolderAndItsHistory(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	var items struct {
		Items []struct{ Number, Code string } `json:"items"`
	}
	_ = json.Unmarshal(mustLogin(t, srv, "caregiver").send("GET", "/api/v1/certificates", nil).Body, &items)
	if len(items.Items) != 1 {
		t.Fatal("no certificate")
	}
	number := items.Items[0].Number
	centre := mustLogin(t, srv, "centre")
	if r := centre.send("POST", "/api/v1/certificates/"+number+"/suspend", map[string]string{"reason": "投诉调查中"}); r.Status != http.StatusOK {
		t.Fatalf("suspend: %d %s", r.Status, r.Body)
	}
	if r := centre.send("POST", "/api/v1/certificates/"+number+"/reinstate", map[string]string{"reason": "调查结束，投诉不成立"}); r.Status != http.StatusOK {
		t.Fatalf("reinstate: %d %s", r.Status, r.Body)
	}
	r := centre.do("GET", "/certificates/"+number, nil, map[string]string{"Accept-Language": "zh-CN"})
	body := string(r.Body)
	hist := body[strings.Index(body, `id="history"`):]
	for _, want := range []string{"李小燕", "4525", "暂停", "投诉调查中", "恢复", "调查结束，投诉不成立", "签发"} {
		if r.Status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("the staff page lacks %q (%d)", want, r.Status)
		}
	}
	if !strings.Contains(hist, "投诉调查中") || strings.Count(hist, "<tr>") < 4 {
		t.Errorf("history: %.600s", hist)
	}
	if strings.Contains(body, "330106") { // the demo ID numbers start with the region; only the last 4 show
		t.Errorf("the page shows more of the ID number than its last four characters")
	}
}
