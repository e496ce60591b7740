package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"shanyu/exams"
	"shanyu/server"
)

// A submit waits for a slot (at most half the pool marks papers at once). When every slot stays
// taken for the whole wait, the submit is refused with 503 error.busy and a Retry-After, in the
// candidate's language, and nothing of it is done: the attempt is still active and its answer kept.
// Once a slot is free, the same submit goes through.
func TestSubmitWithNoSlotFreeIs503AndLeavesTheAttemptActive(t *testing.T) {
	t.Parallel()
	srv, sessionID := startOneQuestionExam(t, func(s *server.Server) { s.ShortenSubmitWait(300 * time.Millisecond) })
	cand := &recorder{client: mustLogin(t, srv, "caregiver")}
	st := decodeJSON[startOut](t, cand.call("POST", fmt.Sprintf("/api/v1/exam-sessions/%d/start", sessionID), nil, ""))
	base := fmt.Sprintf("/api/v1/attempts/%d", st.Attempt.ID)
	p := decodeJSON[paperOut](t, cand.call("GET", base+"/paper", nil, st.DeviceToken))
	if len(p.Questions) != 1 {
		t.Fatalf("paper: %d questions", len(p.Questions))
	}
	if r := cand.call("POST", base+"/answers", map[string]any{"seq": 1, "item": p.Questions[0].Position, "response": exams.Answer{Choices: []int{0}}}, st.DeviceToken); r.Status != http.StatusOK {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}

	release := srv.Server.HoldSubmitSlots()
	t0 := time.Now()
	r := cand.call("POST", base+"/submit", nil, st.DeviceToken)
	waited := time.Since(t0)
	if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
		release()
		t.Fatalf("submit with every slot taken: %d, Retry-After %q: %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	if waited < 300*time.Millisecond {
		t.Errorf("refused after %v, before the slot wait (300 ms) was over", waited)
	}
	var e struct {
		Error struct {
			Code, Key, Message string
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &e); err != nil || e.Error.Key != "error.busy" || e.Error.Message == "" || e.Error.Message == e.Error.Key {
		t.Errorf("the refusal does not say busy in the candidate's language: %s", r.Body)
	}
	state := decodeJSON[exams.State](t, cand.call("GET", base+"/state", nil, st.DeviceToken))
	if state.Status != "active" {
		t.Errorf("after the refused submit the attempt is %q, want still active", state.Status)
	}

	release()
	if r := cand.call("POST", base+"/submit", nil, st.DeviceToken); r.Status != http.StatusOK {
		t.Fatalf("the same submit once a slot is free: %d %s", r.Status, r.Body)
	}
	if state := decodeJSON[exams.State](t, cand.call("GET", base+"/state", nil, st.DeviceToken)); state.Status == "active" {
		t.Errorf("after the submit the attempt is still %q", state.Status)
	}
}
