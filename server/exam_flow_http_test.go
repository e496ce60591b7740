package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"shanyu/exams"
)

// Before publishing, the centre's results page shows each candidate's mark and pass or fail marked
// 未发布, and beside 发布成绩 how many results and certificate requests publishing will create; the
// candidate sees nothing yet. After publishing the provisional table and the summary are gone.
func TestProvisionalMarksAndPublishSummaryBeforePublishing(t *testing.T) {
	t.Parallel()
	srv, sessionID := startOneQuestionExam(t)
	cand := &recorder{client: mustLogin(t, srv, "caregiver")}
	centre := mustLogin(t, srv, "centre")
	resultsPage := func() string {
		t.Helper()
		r := centre.do("GET", fmt.Sprintf("/exams/sessions/%d/results", sessionID), nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("results page: %d", r.Status)
		}
		return string(r.Body)
	}
	if body := resultsPage(); !strings.Contains(body, "将发布 0 份成绩，为 0 人申请证书") {
		t.Errorf("before anyone sat, the publish summary is not 0/0")
	}
	st := decodeJSON[startOut](t, cand.call("POST", fmt.Sprintf("/api/v1/exam-sessions/%d/start", sessionID), nil, ""))
	base := fmt.Sprintf("/api/v1/attempts/%d", st.Attempt.ID)
	p := decodeJSON[paperOut](t, cand.call("GET", base+"/paper", nil, st.DeviceToken))
	for i, q := range p.Questions {
		for k, o := range q.Options {
			if o == "14 小时" {
				if r := cand.call("POST", base+"/answers", map[string]any{"seq": i + 1, "item": q.Position, "response": exams.Answer{Choices: []int{k}}}, st.DeviceToken); r.Status != http.StatusOK {
					t.Fatalf("save: %d %s", r.Status, r.Body)
				}
			}
		}
	}
	if r := cand.call("POST", base+"/submit", nil, st.DeviceToken); r.Status != http.StatusOK {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	body := resultsPage()
	i := strings.Index(body, `id="provisional"`)
	if i < 0 || !strings.Contains(body, "暂定成绩（未发布）") {
		t.Fatalf("no provisional marks on the results page before publishing")
	}
	row := body[i:]
	row = row[:strings.Index(row, "</table>")]
	for _, want := range []string{"李小燕", "100.0", "合格", "未发布"} {
		if !strings.Contains(row, want) {
			t.Errorf("provisional table lacks %q: %s", want, row)
		}
	}
	if !strings.Contains(body, "将发布 1 份成绩，为 1 人申请证书") {
		t.Errorf("publish summary is not 1 result / 1 certificate")
	}
	if mine := cand.call("GET", "/api/v1/my/results", nil, ""); strings.Contains(string(mine.Body), "passed") {
		t.Errorf("the candidate sees a result before publishing: %s", mine.Body)
	}
	if pub := centre.send("POST", fmt.Sprintf("/api/v1/exam-sessions/%d/publish", sessionID), nil); pub.Status != http.StatusOK || !strings.Contains(string(pub.Body), `"published":1`) {
		t.Fatalf("publish: %d %s", pub.Status, pub.Body)
	}
	if body := resultsPage(); strings.Contains(body, `id="provisional"`) || strings.Contains(body, "将发布") {
		t.Errorf("after publishing the page still shows provisional marks or the summary")
	}
}
