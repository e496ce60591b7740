package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/exams"
	"shanyu/exams/bank"
	"shanyu/internal/servertest"
	"shanyu/server"
)

// startOneQuestionExam starts a server with the demo accounts and an hour-long session of one
// single-choice question worth 100 points, open now, for which the demo caregiver is approved.
// before, if given, runs on the server before it serves (servertest.Options.Server).
func startOneQuestionExam(t *testing.T, before ...func(*server.Server)) (*servertest.Instance, int64) {
	t.Helper()
	var sessionID int64
	opts := servertest.Options{Seeded: demoAccountsSeeded, Setup: func(pool *pgxpool.Pool) (err error) {
		sessionID, err = seedExam(pool, examItems(), []exams.Section{
			{Name: "单选", Part: exams.Theory, Count: 1, Points: 100, Type: bank.SingleChoice},
		}, time.Hour)
		return err
	}}
	if len(before) > 0 {
		opts.Server = before[0]
	}
	srv := servertest.Start(t, opts)
	return srv, sessionID
}

// Publishing while the candidate is sitting: the results page says publishing closes the session
// and names her as still sitting; the API answers with her; she finishes, and her result is then
// on the centre's and on her own results.
func TestPublishingWhileSittingSaysWhoAndTheirResultFollows(t *testing.T) {
	t.Parallel()
	srv, sessionID := startOneQuestionExam(t)
	cand := &recorder{client: mustLogin(t, srv, "caregiver")}
	st := decodeJSON[startOut](t, cand.call("POST", fmt.Sprintf("/api/v1/exam-sessions/%d/start", sessionID), nil, ""))
	centre := mustLogin(t, srv, "centre")
	page := centre.do("GET", fmt.Sprintf("/exams/sessions/%d/results", sessionID), nil, nil)
	body := string(page.Body)
	if page.Status != http.StatusOK || !strings.Contains(body, "发布后本场考试不再允许开始新的作答") ||
		!strings.Contains(body, `id="sitting"`) || !strings.Contains(body, "李小燕") {
		t.Fatalf("results page before publishing: %d, closing notice or sitter missing", page.Status)
	}
	pub := centre.send("POST", fmt.Sprintf("/api/v1/exam-sessions/%d/publish", sessionID), nil)
	if pub.Status != http.StatusOK || !strings.Contains(string(pub.Body), `"closed_to_new_starts":true`) || !strings.Contains(string(pub.Body), "李小燕") {
		t.Fatalf("publish with one sitting: %d %s", pub.Status, pub.Body)
	}
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
		t.Fatalf("submit after publication: %d %s", r.Status, r.Body)
	}
	mine := cand.call("GET", "/api/v1/my/results", nil, "")
	if mine.Status != http.StatusOK || !strings.Contains(string(mine.Body), `"passed":true`) {
		t.Errorf("the sitter's results after she submitted: %d %s", mine.Status, mine.Body)
	}
	var requests int
	if err := srv.Pool.QueryRow(context.Background(), `SELECT count(*) FROM certificate_requests WHERE result_ref LIKE 'exam_result:%'`).Scan(&requests); err != nil || requests != 1 {
		t.Errorf("certificate requests after the late pass: %d (%v), want 1", requests, err)
	}
}
