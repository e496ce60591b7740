package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Another learner's practice run and review are refused as if they did not exist; the owner gets
// feedback that names the right answer; a practice answer is bounded and counts for nothing.
func TestPracticeAndReviewAreTheLearnersOwn(t *testing.T) {
	t.Parallel()
	srv, attempt := startPractice(t)
	owner := mustLogin(t, srv, "caregiver")
	other := newClient(t, srv)
	body := map[string]string{"name": "王小丽", "phone": "13812345678", "id_number": "11010519491231002X", "password": "xiaoli-2024"}
	if r := other.do("POST", "/api/v1/auth/signup", body, nil); r.Status != http.StatusCreated {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	if r := other.login(body["phone"], body["password"]); r.Status != http.StatusOK {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	var category int64
	if err := srv.Pool.QueryRow(t.Context(), `SELECT category_id FROM exam_practice_categories`).Scan(&category); err != nil {
		t.Fatal(err)
	}
	var run int64
	if err := srv.Pool.QueryRow(t.Context(), `INSERT INTO exam_practice_runs (person_id, organisation_id, category_id, item_count, started_at)
		SELECT u.person_id, c.organisation_id, c.category_id, 1, now() FROM users u, exam_practice_categories c WHERE u.username = 'caregiver'
		RETURNING id`).Scan(&run); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("/api/v1/practice-runs/%d", run)
	if r := owner.send("POST", base+"/next", nil); r.Status != http.StatusOK {
		t.Fatalf("owner draws: %d %s", r.Status, r.Body)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", base}, {"POST", base + "/next"}, {"POST", base + "/answers"},
		{"GET", fmt.Sprintf("/exams/practice/%d", run)},
		{"GET", fmt.Sprintf("/api/v1/attempts/%d/review", attempt)},
		{"GET", fmt.Sprintf("/exams/attempts/%d/review", attempt)},
	} {
		r := other.do(c.method, c.path, map[string]any{"item": 0, "response": map[string]any{}}, map[string]string{"X-CSRF-Token": other.csrf, "Accept": "application/json"})
		if r.Status != http.StatusNotFound {
			t.Errorf("another learner %s %s: %d %s, want 404", c.method, c.path, r.Status, r.Body)
		}
	}
	// Bounds: a position no run has, an answer too big; both named in zh-CN.
	if r := owner.send("POST", base+"/answers", map[string]any{"item": 99, "response": map[string]any{}}); r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "item") {
		t.Errorf("answer at position 99: %d %s", r.Status, r.Body)
	}
	if r := owner.send("POST", base+"/answers", map[string]any{"item": 0, "response": map[string]any{"text": strings.Repeat("字", 8000)}}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("oversized answer: %d %s", r.Status, r.Body)
	}
	r := owner.send("POST", base+"/answers", map[string]any{"item": 0, "response": map[string]any{"gaps": []string{"0", "37.5"}}})
	if r.Status != http.StatusOK {
		t.Fatalf("owner answers: %d %s", r.Status, r.Body)
	}
	if fb := r.json(t); fb["correct"] != true || fmt.Sprint(fb["solution"]) != "map[gaps:[0 37.5]]" {
		t.Errorf("feedback %v", fb)
	}
	if r := owner.do("GET", fmt.Sprintf("/api/v1/attempts/%d/review", attempt), nil, nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"wrong":[{`) {
		t.Errorf("owner's review: %d %s", r.Status, r.Body)
	}
	var results int
	if err := srv.Pool.QueryRow(t.Context(), `SELECT count(*) FROM exam_results`).Scan(&results); err != nil || results != 1 {
		t.Errorf("%d results (%v), want the one published session's only", results, err)
	}
}
