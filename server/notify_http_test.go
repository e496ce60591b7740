package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"shanyu/accounts"
	"shanyu/internal/servertest"
)

// syncBuffer collects the server's log (the development sender writes there) for several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the log lines of the development sender that contain every one of words.
func (b *syncBuffer) lines(words ...string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, l := range strings.Split(b.buf.String(), "\n") {
		match := strings.Contains(l, "notify: sms")
		for _, w := range words {
			match = match && strings.Contains(l, w)
		}
		if match {
			out = append(out, l)
		}
	}
	return out
}

// waitLines waits until n sender lines contain words, and fails if more do.
func (b *syncBuffer) waitLines(t *testing.T, n int, words ...string) []string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := b.lines(words...)
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) != n {
				t.Fatalf("sender lines with %q: %d, want %d:\n%s", words, len(got), n, strings.Join(got, "\n"))
			}
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type inboxJSON struct {
	Items []struct {
		ID   int64  `json:"id"`
		Kind string `json:"kind"`
		Text string `json:"text"`
	} `json:"items"`
	Total, Unread int
}

func inboxOf(t *testing.T, c *client) inboxJSON {
	t.Helper()
	r := c.send("GET", "/api/v1/me/notifications", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("inbox: %d %s", r.Status, r.Body)
	}
	var in inboxJSON
	if err := json.Unmarshal(r.Body, &in); err != nil {
		t.Fatal(err)
	}
	return in
}

func (in inboxJSON) count(kind, text string) int {
	n := 0
	for _, x := range in.Items {
		if x.Kind == kind && strings.Contains(x.Text, text) {
			n++
		}
	}
	return n
}

// TestNotificationsReachTheInboxAndTheSenderOnce: on the demo, each event (a certificate issued, a
// registration approved and results published while seeding, a suspension and a revocation by the centre, expiry reminders
// run twice) leaves exactly one inbox entry and one line of the development sender, in the
// recipient's language; a retried delivery job sends nothing again; a rolled-back cause leaves
// nothing; the inbox is only its owner's.
func TestNotificationsReachTheInboxAndTheSenderOnce(t *testing.T) {
	t.Parallel()
	var log syncBuffer
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	ctx := context.Background()
	cg, centre := mustLogin(t, srv, "caregiver"), mustLogin(t, srv, "centre")

	// Seeding issued the caregiver's certificate and published their result: the jobs it enqueued
	// are worked by this server.
	var items struct {
		Items []struct{ Number string } `json:"items"`
	}
	if err := json.Unmarshal(cg.send("GET", "/api/v1/certificates?limit=10", nil).Body, &items); err != nil || len(items.Items) != 1 {
		t.Fatalf("caregiver's certificates: %v %v", items, err)
	}
	number := items.Items[0].Number
	var phone string
	if err := srv.Pool.QueryRow(ctx, `SELECT p.phone FROM people p JOIN users u ON u.person_id = p.id WHERE u.username = 'caregiver'`).Scan(&phone); err != nil {
		t.Fatal(err)
	}
	log.waitLines(t, 1, "to="+phone, number, "已签发")
	in := inboxOf(t, cg)
	if in.count(accounts.NoticeCertificateIssued, number) != 1 || in.count(accounts.NoticeRegistrationApproved, "") != 1 {
		t.Errorf("caregiver's inbox after seeding: %+v", in)
	}
	var published int
	if err := srv.Pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE kind = 'result_published'`).Scan(&published); err != nil || published == 0 {
		t.Errorf("results published by the demo notified nobody: %d %v", published, err)
	}

	// The centre suspends the certificate: one entry, one message, with the reason.
	if r := centre.send("POST", "/api/v1/certificates/"+number+"/suspend", map[string]string{"reason": "核查培训记录"}); r.Status != http.StatusOK {
		t.Fatalf("suspend: %d %s", r.Status, r.Body)
	}
	lines := log.waitLines(t, 1, "to="+phone, number, "已被暂停", "核查培训记录")
	in = inboxOf(t, cg)
	if in.count(accounts.NoticeCertificateSuspended, number) != 1 {
		t.Fatalf("inbox after suspension: %+v", in)
	}
	t.Logf("sender: %s", lines[0])

	// A second delivery job for the same notification (a retry) sends nothing.
	var id int64
	for _, x := range in.Items {
		if x.Kind == accounts.NoticeCertificateSuspended {
			id = x.ID
		}
	}
	res, err := srv.App.Jobs.Insert(ctx, accounts.SendArgs{NotificationID: id}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, srv, res.Job.ID)
	log.waitLines(t, 1, "to="+phone, number, "已被暂停")

	// Expiry reminders run twice: each certificate due gets one.
	for range 2 {
		if _, err := srv.App.Certificates.RemindExpiring(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var expiring int
	if err := srv.Pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE kind = 'certificate_expiring'`).Scan(&expiring); err != nil || expiring == 0 {
		t.Fatalf("expiry reminders: %d %v (the demo has a certificate expiring within a month)", expiring, err)
	}
	wang := mustLogin(t, srv, "cg.wangxw")
	if n := inboxOf(t, wang).count(accounts.NoticeCertificateExpiring, ""); n != 1 {
		t.Errorf("cg.wangxw's expiry reminders: %d, want 1", n)
	}
	log.waitLines(t, 1, "将于", "到期")

	// A cause that rolls back leaves no entry and no job.
	tx, err := srv.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var personID int64
	if err := tx.QueryRow(ctx, `SELECT person_id FROM users WHERE username = 'caregiver'`).Scan(&personID); err != nil {
		t.Fatal(err)
	}
	if err := srv.App.Notices.Notify(ctx, tx, accounts.Notice{PersonID: personID, Kind: accounts.NoticeCertificateRevoked, Key: "test:rolled-back", Args: []string{number, "x"}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := srv.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM notifications WHERE dedupe_key = 'test:rolled-back')
		+ (SELECT count(*) FROM river_job WHERE kind = 'accounts.notify' AND NOT args->>'notification_id' = ANY(SELECT id::text FROM notifications))`).Scan(&left); err != nil || left != 0 {
		t.Errorf("a rolled-back cause left %d rows (%v)", left, err)
	}

	// The inbox is its owner's: the centre sees none of the caregiver's, and cannot mark one read.
	if n := inboxOf(t, centre).count(accounts.NoticeCertificateSuspended, number); n != 0 {
		t.Errorf("the centre sees the caregiver's notification")
	}
	if r := centre.send("POST", fmt.Sprintf("/api/v1/me/notifications/%d/read", id), nil); r.Status != http.StatusNotFound {
		t.Errorf("the centre marks the caregiver's notification read: %d", r.Status)
	}
	before := inboxOf(t, cg).Unread
	if r := cg.send("POST", fmt.Sprintf("/api/v1/me/notifications/%d/read", id), nil); r.Status != http.StatusOK {
		t.Errorf("mark read: %d %s", r.Status, r.Body)
	}
	if after := inboxOf(t, cg).Unread; after != before-1 {
		t.Errorf("unread %d → %d", before, after)
	}
	// The bell shows the count on every page, and /inbox lists the messages.
	page := cg.send("GET", "/inbox", nil)
	if page.Status != http.StatusOK || !strings.Contains(string(page.Body), `class="bell"`) || !strings.Contains(string(page.Body), number) {
		t.Errorf("/inbox: %d", page.Status)
	}
}

// waitJob waits until a River job has completed.
func waitJob(t *testing.T, srv *servertest.Instance, id int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var state string
		if err := srv.Pool.QueryRow(context.Background(), `SELECT state FROM river_job WHERE id = $1`, id).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state == "completed" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d still %s", id, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
