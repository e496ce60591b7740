package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/audits"
	"shanyu/internal/servertest"
)

// demoCaregiverID is the ID number the demo caregiver (李小燕) signed up with.
const demoCaregiverID = "330106199305064525"

// shape is a JSON value with every leaf replaced by its type: what a client can tell apart.
func shape(tb testing.TB, body []byte) any {
	tb.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		tb.Fatalf("body is not JSON (%v): %s", err, body)
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, e := range x {
				out[k] = walk(e)
			}
			return out
		case []any:
			out := []any{}
			for _, e := range x {
				out = append(out, walk(e))
			}
			return out
		default:
			return fmt.Sprintf("%T", x)
		}
	}
	return walk(v)
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// OWASP ASVS 5.0 V6.3.8 (no account enumeration; a response does not tell whether an account or an
// identity exists) at sign-up: signing up with an ID number a centre already bound to an account, or
// with one nobody holds, gives the same status, the same headers and body shape, and takes about the
// same time (medians of interleaved runs within 50 ms). Each run comes from an address of its own so
// the per-address sign-up allowance (tested in TestSignupRateLimitedPerAddress) stays out of the way.
// Not parallel: Go runs it before the package's parallel tests start, so their load does not drown a
// 50 ms difference.
func TestSignupRevealsNothingAboutIDNumberV6_3_8(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Env: map[string]string{"SHANYU_TRUSTED_PROXIES": "127.0.0.1"}, Setup: func(pool *pgxpool.Pool) error {
		if err := seedDemoAccounts(pool); err != nil {
			return err
		}
		_, err := verifyIdentityOf(pool, "caregiver") // the number is bound, not only claimed
		return err
	}})
	c := newClient(t, srv)
	n := 0
	signup := func(idNumber string) (response, time.Duration) {
		n++
		body := map[string]string{"name": "王小丽", "phone": fmt.Sprintf("1381234%04d", n), "id_number": idNumber, "password": "xiaoli-2024-pw"}
		start := time.Now()
		r := c.do("POST", "/api/v1/auth/signup", body, map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", n)})
		return r, time.Since(start)
	}
	signup(audits.SyntheticCitizenID("330106", time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), 1)) // warm up
	// Rounds alternate the order (ABBA) so a drift in the machine's load falls on both alike. The
	// machine is shared and its noise only ever adds time, so the fastest run of each kind is the
	// estimate of what the server does (medians and the median of paired differences are logged).
	// When 12 runs of each do not settle it, 12 more (and then 12 more) are pooled with them:
	// pooling (not "best of") keeps a real difference in the work done visible — a 120 ms delay
	// injected for registered numbers fails this test — while giving the estimate more runs to find
	// the quiet moments.
	const rounds, batches = 12, 3
	var registered, fresh, paired []time.Duration
	var diff time.Duration
	for batch := range batches {
		for i := range rounds {
			var a, b response
			var da, db time.Duration
			freshID := audits.SyntheticCitizenID("330106", time.Date(1990, time.Month(1+batch), 1+i, 0, 0, 0, 0, time.UTC), 100+i)
			if i%2 == 0 {
				a, da = signup(demoCaregiverID)
				b, db = signup(freshID)
			} else {
				b, db = signup(freshID)
				a, da = signup(demoCaregiverID)
			}
			if a.Status != http.StatusCreated || b.Status != a.Status {
				t.Fatalf("round %d: registered number %d %s, unregistered %d %s", i, a.Status, a.Body, b.Status, b.Body)
			}
			if ha, hb := headerNames(a.Header), headerNames(b.Header); !reflect.DeepEqual(ha, hb) {
				t.Fatalf("round %d: headers differ: %v vs %v", i, ha, hb)
			}
			if sa, sb := shape(t, a.Body), shape(t, b.Body); !reflect.DeepEqual(sa, sb) {
				t.Fatalf("round %d: body shapes differ:\n%v\n%v", i, sa, sb)
			}
			registered, fresh, paired = append(registered, da), append(fresh, db), append(paired, da-db)
		}
		minR, minF := slices.Min(registered), slices.Min(fresh)
		diff = (minR - minF).Abs()
		t.Logf("sign-up over %d runs each: fastest registered %v, unregistered %v (difference %v); medians %v and %v; median paired difference %v",
			len(registered), minR, minF, diff, median(registered), median(fresh), median(paired))
		if diff <= 50*time.Millisecond {
			break
		}
	}
	if diff > 50*time.Millisecond {
		t.Fatalf("sign-up timing tells a registered number apart: the fastest runs differ by %v (> 50 ms)", diff)
	}
	// The phone is the username: reusing it is refused, whatever the ID number.
	body := map[string]string{"name": "王小丽", "phone": "13812340001", "id_number": demoCaregiverID, "password": "xiaoli-2024-pw"}
	if r := c.do("POST", "/api/v1/auth/signup", body, map[string]string{"X-Forwarded-For": "203.0.113.99"}); r.Status != http.StatusConflict {
		t.Fatalf("a phone already registered: %d %s", r.Status, r.Body)
	}
}

func headerNames(h http.Header) []string {
	var out []string
	for k := range h {
		if k != "Date" && k != "Content-Length" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Bind on check (issue #14 item 4; OWASP ASVS 5.0 V6.3.8 with identity proofing by the centre): a
// stranger signs up with the demo caregiver's ID number; when the centre checks her card at her
// registration, the stranger's claim is dropped and audited. The stranger's exam registration is then
// refused with a message saying why and what to do (zh-CN and en), the account page says it too;
// after entering their own number they may register, and approval waits for the check of their card.
func TestDroppedClaimantCannotRegisterForExamsAndIsToldWhy(t *testing.T) {
	t.Parallel()
	var sessionID int64
	srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Setup: func(pool *pgxpool.Pool) error {
		var err error
		sessionID, err = seedOpenSession(pool, "测试卷", "核验批次", nil)
		return err
	}})
	ctx := context.Background()
	stranger := newClient(t, srv)
	const phone, pw = "13812348888", "stranger-pw-2024"
	if r := stranger.do("POST", "/api/v1/auth/signup", map[string]string{"name": "冒用者", "phone": phone, "id_number": demoCaregiverID, "password": pw}, nil); r.Status != http.StatusCreated {
		t.Fatalf("stranger's sign-up with the caregiver's number: %d %s", r.Status, r.Body)
	}
	if r := stranger.login(phone, pw); r.Status != http.StatusOK {
		t.Fatalf("stranger's login: %d %s", r.Status, r.Body)
	}
	regPath := "/api/v1/exam-sessions/" + strconv.FormatInt(sessionID, 10) + "/registrations"
	csrf := func(c *client) map[string]string { return map[string]string{"X-CSRF-Token": c.csrf} }

	// The stranger studies a lesson first: the hours they earned stay theirs after the drop.
	course := createPublished(t, mustLogin(t, srv, "trainer"), "HZ001", "托育照护基础")
	if r := stranger.send("POST", fmt.Sprintf("/api/v1/courses/%d/enrolments", course), nil); r.Status != http.StatusCreated {
		t.Fatalf("enrol: %d %s", r.Status, r.Body)
	}
	lessons := stranger.do("GET", fmt.Sprintf("/api/v1/courses/%d", course), nil, nil).json(t)["modules"].([]any)[0].(map[string]any)["lessons"].([]any)
	lessonID := num(lessons[0].(map[string]any)["id"])
	stranger.send("POST", fmt.Sprintf("/api/v1/lessons/%d/open", lessonID), nil)
	if r := stranger.send("POST", fmt.Sprintf("/api/v1/lessons/%d/complete", lessonID), nil); r.Status != http.StatusOK {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	hoursBefore := stranger.do("GET", "/api/v1/me/hours", nil, nil).json(t)["total_hours"]
	if hoursBefore != 1.0 {
		t.Fatalf("hours before the drop: %v, want 1", hoursBefore)
	}

	// The caregiver registers and the centre checks her card, binding the number to her.
	cg := mustLogin(t, srv, "caregiver")
	if r := cg.do("POST", regPath, nil, csrf(cg)); r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("caregiver's registration: %d %s", r.Status, r.Body)
	}
	acc, err := demoAccounts(srv.Pool)
	if err != nil {
		t.Fatal(err)
	}
	owner, _ := acc.UserByUsername(ctx, "caregiver")
	squatter, err := acc.UserByUsername(ctx, phone)
	if err != nil {
		t.Fatal(err)
	}
	var regID int64
	if err := srv.Pool.QueryRow(ctx, `SELECT id FROM exam_registrations WHERE session_id = $1 AND person_id = $2`, sessionID, owner.PersonID).Scan(&regID); err != nil {
		t.Fatal(err)
	}
	centre := mustLogin(t, srv, "centre")
	if r := pageForm(centre, "/exams/registrations/"+strconv.FormatInt(regID, 10)+"/identity", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("centre's check: %d %s", r.Status, r.Body)
	}
	var audited int
	if err := srv.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'person.id_number.claim_dropped' AND subject = $1
		AND details->>'bound_to' = $2`, fmt.Sprintf("person:%d", squatter.PersonID), fmt.Sprintf("person:%d", owner.PersonID)).Scan(&audited); err != nil {
		t.Fatal(err)
	}
	if audited != 1 {
		t.Fatalf("the dropped claim is audited %d times, want 1", audited)
	}

	if h := stranger.do("GET", "/api/v1/me/hours", nil, nil).json(t)["total_hours"]; h != hoursBefore {
		t.Fatalf("hours after the drop: %v, want %v kept", h, hoursBefore)
	}

	// The stranger is refused at registration and told why, in either language.
	for _, l := range []struct{ lang, want string }{{"en", "My account"}, {"zh-CN", "我的账号"}} {
		if err := srv.App.Accounts.SetLanguage(ctx, squatter.ID, l.lang); err != nil {
			t.Fatal(err)
		}
		r := stranger.do("POST", regPath, nil, csrf(stranger))
		if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), l.want) {
			t.Fatalf("dropped claimant registers (%s): %d %s; want 403 naming %q", l.lang, r.Status, r.Body, l.want)
		}
	}
	page := stranger.do("GET", "/account", nil, nil)
	if page.Status != http.StatusOK || !strings.Contains(string(page.Body), "已从您的账号中移除") || !strings.Contains(string(page.Body), `action="/account/id-number"`) {
		t.Fatalf("account page does not tell the dropped claimant what to do: %d", page.Status)
	}
	if me := stranger.do("GET", "/api/v1/me", nil, nil).json(t); me["id_number_masked"] != nil && me["id_number_masked"] != "" {
		t.Fatalf("the dropped claimant still shows an ID number: %v", me)
	}

	// An invalid number is refused naming the field; their own number is accepted, registration then
	// works, and approval waits for the check of their own card.
	if r := stranger.do("POST", "/api/v1/me/id-number", map[string]string{"id_number": strings.Repeat("9", 200)}, csrf(stranger)); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("an invalid own number: %d %s", r.Status, r.Body)
	} else if _, ok := errorFields(t, r)["id_number"]; !ok {
		t.Fatalf("error.fields lacks id_number: %s", r.Body)
	}
	own := audits.SyntheticCitizenID("330106", time.Date(1991, 5, 6, 0, 0, 0, 0, time.UTC), 77)
	if r := stranger.do("POST", "/api/v1/me/id-number", map[string]string{"id_number": own}, csrf(stranger)); r.Status != http.StatusOK {
		t.Fatalf("entering their own number: %d %s", r.Status, r.Body)
	}
	if r := stranger.do("POST", regPath, nil, csrf(stranger)); r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("registration with their own number: %d %s", r.Status, r.Body)
	}
	var strangerReg int64
	if err := srv.Pool.QueryRow(ctx, `SELECT id FROM exam_registrations WHERE session_id = $1 AND person_id = $2`, sessionID, squatter.PersonID).Scan(&strangerReg); err != nil {
		t.Fatal(err)
	}
	if r := pageForm(centre, "/exams/registrations/"+strconv.FormatInt(strangerReg, 10)+"/decision", map[string]string{"approve": "true", "extra_minutes": "0"}); r.Status != http.StatusForbidden {
		t.Fatalf("approving before the check of their own card: %d, want 403", r.Status)
	}
	if ids, err := acc.Identities(ctx, []int64{squatter.PersonID}); err != nil || !ids[squatter.PersonID].ClaimDropped || ids[squatter.PersonID].Verified {
		t.Fatalf("stranger's identity: %+v, %v", ids[squatter.PersonID], err)
	}
}
