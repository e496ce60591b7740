package server_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/exams"
	"shanyu/exams/bank"
	"shanyu/internal/servertest"
)

// testPNG is a small valid PNG of one colour.
func testPNG(tb testing.TB, c color.Color) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 20))
	for x := range 40 {
		for y := range 20 {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// imageItems: an HTML item whose stem shows its picture inline, and a plain item with a picture
// shown below the stem.
func imageItems(tb testing.TB) []bank.Item {
	return []bank.Item{
		{Type: bank.SingleChoice, Format: bank.HTML, Points: 1, Stem: `<p>下图中的婴儿睡姿是否安全？<img src="@@PLUGINFILE@@/sleep.png" alt="睡姿"></p>`,
			Images:  []bank.Image{{Name: "sleep.png", MediaType: "image/png", Data: testPNG(tb, color.RGBA{200, 30, 30, 255})}},
			Choices: []bank.Option{{Text: "安全"}, {Text: "不安全", Weight: 1}}},
		{Type: bank.TrueFalse, Format: bank.Plain, Points: 1, Stem: "图示奶瓶已正确消毒。", Truth: true,
			Images: []bank.Image{{Name: "bottle 1.png", MediaType: "image/png", Data: testPNG(tb, color.RGBA{30, 30, 200, 255})}}},
	}
}

// The candidate's paper names each picture by a URL of the attempt; the owner gets the image with its
// type, another candidate and a made-up name get 404, and nothing reveals the key.
func TestExamItemImagesServedToTheOwnerOnly(t *testing.T) {
	t.Parallel()
	var sessionID int64
	srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Setup: func(pool *pgxpool.Pool) (err error) {
		sessionID, err = seedExam(pool, imageItems(t), []exams.Section{{Name: "看图", Part: exams.Theory, Count: 2, Points: 50}}, time.Hour)
		if err != nil {
			return err
		}
		acc, err := demoAccounts(pool)
		if err != nil {
			return err
		}
		u, err := acc.CreateUser(context.Background(), 0, accounts.CreateUserInput{Username: "other.cand", Name: "另一考生", Password: accounts.DemoPassword})
		if err != nil {
			return err
		}
		return acc.AddGrant(context.Background(), 0, u.ID, accounts.RoleCaregiver, "*")
	}})
	cand := mustLogin(t, srv, "caregiver")
	r := cand.send("POST", fmt.Sprintf("/api/v1/exam-sessions/%d/start", sessionID), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	st := decodeJSON[startOut](t, r)
	p := decodeJSON[paperOut](t, cand.do("GET", fmt.Sprintf("/api/v1/attempts/%d/paper", st.Attempt.ID), nil,
		map[string]string{"X-Exam-Device": st.DeviceToken}))
	base := fmt.Sprintf("/exams/attempts/%d/", st.Attempt.ID)
	var urls []string
	for _, q := range p.Questions {
		if len(q.Images) != 1 {
			t.Fatalf("question %d has %d images, want 1", q.Position, len(q.Images))
		}
		im := q.Images[0]
		urls = append(urls, base+im.URL)
		if q.Format == "html" {
			if !im.Inline || !strings.Contains(q.Stem, `src="`+im.URL+`"`) || strings.Contains(q.Stem, "@@PLUGINFILE@@") {
				t.Errorf("html stem not rewritten to the attempt's URL: %+v %s", im, q.Stem)
			}
		} else if im.Inline {
			t.Errorf("plain question's image marked inline: %+v", im)
		}
	}
	other := mustLogin(t, srv, "other.cand")
	for _, u := range urls {
		res := cand.do("GET", u, nil, nil)
		if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(res.Body, []byte("\x89PNG")) {
			t.Errorf("owner GET %s: %d %s", u, res.Status, res.Header.Get("Content-Type"))
		}
		if res := other.do("GET", u, nil, nil); res.Status != http.StatusNotFound {
			t.Errorf("another candidate GET %s: %d, want 404", u, res.Status)
		}
	}
	if res := cand.do("GET", base+"images/0/nosuch.png", nil, nil); res.Status != http.StatusNotFound {
		t.Errorf("unknown image: %d, want 404", res.Status)
	}
	if res := newClient(t, srv).do("GET", urls[0], nil, nil); res.Status == http.StatusOK {
		t.Errorf("anonymous GET answered 200")
	}
}
