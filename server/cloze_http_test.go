package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/exams"
	"shanyu/exams/bank"
	"shanyu/internal/servertest"
)

// TestMarkingPageReadsClozeAnswersByText: a cloze answer received after submission is listed on the
// marking page by the texts the candidate chose (a list and check boxes), with each gap's key and the
// share of the gap it earned, never by the index of a choice.
func TestMarkingPageReadsClozeAnswersByText(t *testing.T) {
	t.Parallel()
	stem, gaps, err := bank.ParseCloze("婴儿满 {2:MC:=6个月~4个月~1岁} 起添加辅食；每日晨检看 {1:MR:=体温~=精神~身高} ；补液首选 {1:SA:=ORS}。")
	if err != nil {
		t.Fatal(err)
	}
	var sessionID int64
	srv := servertest.Start(t, servertest.Options{Setup: func(pool *pgxpool.Pool) (err error) {
		sessionID, err = seedExam(pool, []bank.Item{{Type: bank.Cloze, Stem: stem, Format: bank.Plain, Points: 4, Gaps: gaps}},
			[]exams.Section{{Name: "完形填空", Part: exams.Theory, Count: 1, Points: 100, Type: bank.Cloze}}, time.Hour)
		return err
	}})
	cand := &recorder{client: mustLogin(t, srv, "caregiver")}
	r := cand.call("POST", fmt.Sprintf("/api/v1/exam-sessions/%d/start", sessionID), nil, "")
	if r.Status != http.StatusOK {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	st := decodeJSON[startOut](t, r)
	base := fmt.Sprintf("/api/v1/attempts/%d", st.Attempt.ID)
	p := decodeJSON[paperOut](t, cand.call("GET", base+"/paper", nil, st.DeviceToken))
	if len(p.Questions) != 1 || len(p.Questions[0].Gaps) != 3 || p.Questions[0].Gaps[1].Kind != "multi" {
		t.Fatalf("paper %+v", p.Questions)
	}
	save := func(seq int, given ...string) response {
		return cand.call("POST", base+"/answers", map[string]any{"seq": seq, "item": 0, "response": exams.Answer{Gaps: given}}, st.DeviceToken)
	}
	if r := save(1, "0", "0,1", "ors"); r.Status != http.StatusOK {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}
	if r := cand.call("POST", base+"/submit", nil, st.DeviceToken); r.Status != http.StatusOK {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	// After submission: kept as evidence, not counted.
	if r := save(2, "1", "0,2", ""); r.Status == http.StatusOK {
		t.Fatalf("a save after submission was accepted: %s", r.Body)
	}
	examiner := mustLogin(t, srv, "examiner")
	page := examiner.do("GET", fmt.Sprintf("/exams/sessions/%d/marking", sessionID), nil, nil)
	body := string(page.Body)
	if page.Status != http.StatusOK {
		t.Fatalf("marking page: %d", page.Status)
	}
	for _, want := range []string{
		"（1）4个月 —— 正确答案：6个月；得该空 0%",
		"（2）体温; 身高 —— 正确答案：体温; 精神；得该空 0%",
		"（3）（未作答） —— 正确答案：ORS；得该空 0%",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("marking page lacks %q", want)
		}
	}
	if strings.Contains(body, "(1) 1") || strings.Contains(body, "(2) 0,2") {
		t.Error("the marking page shows a choice by its index")
	}
}
