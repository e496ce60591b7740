package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// A paper is compressed once, when it is built: to a client that accepts gzip the start's and the
// paper's answers are gzip streams with the stored segment spliced in (no compressor runs for them),
// and decompressed they are the JSON that a client accepting no compression gets.
func TestPapersGoOutWithTheCompressionStoredWithThem(t *testing.T) {
	t.Parallel()
	srv, sessionID := startOneQuestionExam(t)
	ctx := context.Background()
	// The approval queued the paper's build; the start should find it stored.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var n int
		if err := srv.Pool.QueryRow(ctx, `SELECT count(*) FROM exam_papers WHERE session_id = $1 AND questions_gz IS NOT NULL`, sessionID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the approved registration's paper was not built within 30 s")
		}
	}
	cand := &recorder{client: mustLogin(t, srv, "caregiver")}
	gunzip := func(what string, r response) []byte {
		t.Helper()
		if r.Status != http.StatusOK || r.Header.Get("Content-Encoding") != "gzip" || r.Header.Get("Vary") == "" {
			t.Fatalf("%s with Accept-Encoding gzip: %d, Content-Encoding %q, Vary %q", what, r.Status, r.Header.Get("Content-Encoding"), r.Header.Get("Vary"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(r.Body))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		b, err := io.ReadAll(zr) // checks the stream's CRC-32 and length
		if err != nil || !json.Valid(b) {
			t.Fatalf("%s: decompressed: %v, JSON %v: %.200s", what, err, json.Valid(b), b)
		}
		return b
	}
	h := map[string]string{"X-CSRF-Token": cand.csrf, "Accept-Encoding": "gzip"} // set by hand: Go's client then leaves the body as sent
	started := gunzip("start", cand.do("POST", fmt.Sprintf("/api/v1/exam-sessions/%d/start", sessionID), nil, h))
	var st struct {
		Attempt     struct{ ID int64 }
		DeviceToken string `json:"device_token"`
		Paper       *struct {
			Questions []json.RawMessage `json:"questions"`
		} `json:"paper"`
	}
	if err := json.Unmarshal(started, &st); err != nil || st.Paper == nil || len(st.Paper.Questions) != 1 || st.DeviceToken == "" {
		t.Fatalf("the start's answer: %v: %.300s", err, started)
	}
	path := fmt.Sprintf("/api/v1/attempts/%d/paper", st.Attempt.ID)
	h["X-Exam-Device"] = st.DeviceToken
	zipped := gunzip("paper", cand.do("GET", path, nil, h))
	h["Accept-Encoding"] = "identity"
	plain := cand.do("GET", path, nil, h)
	if plain.Status != http.StatusOK || plain.Header.Get("Content-Encoding") != "" {
		t.Fatalf("paper without compression: %d, Content-Encoding %q", plain.Status, plain.Header.Get("Content-Encoding"))
	}
	var a, b, s map[string]any
	for _, x := range []struct {
		raw []byte
		to  *map[string]any
	}{{zipped, &a}, {plain.Body, &b}, {started, &s}} {
		if err := json.Unmarshal(x.raw, x.to); err != nil {
			t.Fatal(err)
		}
		delete(*x.to, "server_time")
	}
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("the paper decompressed differs from the paper sent plain:\n%v\n%v", a, b)
	}
	if paper := s["paper"].(map[string]any); fmt.Sprint(paper["questions"]) != fmt.Sprint(b["questions"]) {
		t.Errorf("the start's questions differ from the paper's:\n%v\n%v", paper["questions"], b["questions"])
	}
}
