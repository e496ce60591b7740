package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/exams"
	"shanyu/internal/clock"
	"shanyu/internal/servertest"
)

// The signed-in home counts what is really there: a registration awaiting the centre shows on the
// centre's home (first as an ID card to check, then as one to approve) and leaves it once approved;
// the learner's home follows the same registration from "you may register" to "the exam is open".
// Signing in lands on /home.
func TestHomeCountsAreLiveForCentreAndLearner(t *testing.T) {
	t.Parallel()
	var sessionID int64
	srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Setup: func(pool *pgxpool.Pool) error {
		var err error
		sessionID, err = seedOpenSession(pool, "首页测试卷", "首页批次", func(ctx context.Context, acc *accounts.Service) error {
			// The centre administrator also runs an institution: their home shows both parts.
			cu, err := acc.UserByUsername(ctx, "centre")
			if err != nil {
				return err
			}
			return acc.AddGrant(ctx, 0, cu.ID, "institution_admin", "org:HZI001")
		})
		return err
	}})
	sid := strconv.FormatInt(sessionID, 10)
	regs := `href="/exams/sessions/` + sid + `/registrations"`
	home := func(c *client) string {
		t.Helper()
		r := c.do("GET", "/home", nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("/home: %d %s", r.Status, r.Body)
		}
		return string(r.Body)
	}

	// The sign-in form lands on the home page.
	anon := newClient(t, srv)
	if r := anon.postForm("/login", url.Values{"username": {"centre"}, "password": {"shanyu-demo"}, "next": {"/"}}); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/home" {
		t.Fatalf("sign-in: %d → %q, want 303 → /home", r.Status, r.Header.Get("Location"))
	}

	cg := mustLogin(t, srv, "caregiver")
	if h := home(cg); !strings.Contains(h, "可报名：首页批次") || !strings.Contains(h, "选一门课程开始学习") {
		t.Fatalf("learner home before registering lacks the session or the first step:\n%s", h)
	}
	centre := mustLogin(t, srv, "centre")
	if h := home(centre); strings.Contains(h, regs) || !strings.Contains(h, "今日考试：首页批次") ||
		!strings.Contains(h, "培训机构待办") || !strings.Contains(h, "托育机构待办") || !strings.Contains(h, `href="/institutions/HZI001/compliance#`) {
		t.Fatalf("centre home before any registration: a registrations link, or no exam today:\n%s", h)
	}
	if r := cg.do("POST", "/api/v1/exam-sessions/"+sid+"/registrations", nil, map[string]string{"X-CSRF-Token": cg.csrf}); r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	if h := home(centre); !strings.Contains(h, "1 位考生待核对身份证") || !strings.Contains(h, regs) || strings.Contains(h, "份报名待审核") {
		t.Fatalf("centre home after an unverified registration:\n%s", h)
	}
	if h := home(cg); !strings.Contains(h, "待审核") {
		t.Fatalf("learner home does not show the registration's state:\n%s", h)
	}
	var regID int64
	if err := srv.Pool.QueryRow(context.Background(), `SELECT id FROM exam_registrations WHERE session_id = $1`, sessionID).Scan(&regID); err != nil {
		t.Fatal(err)
	}
	rid := strconv.FormatInt(regID, 10)
	if r := pageForm(centre, "/exams/registrations/"+rid+"/identity", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("verify identity: %d", r.Status)
	}
	if h := home(centre); !strings.Contains(h, "1 份报名待审核") || strings.Contains(h, "待核对身份证") {
		t.Fatalf("centre home after the ID check:\n%s", h)
	}
	if r := pageForm(centre, "/exams/registrations/"+rid+"/decision", map[string]string{"approve": "true", "extra_minutes": "0"}); r.Status != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	if h := home(centre); strings.Contains(h, regs) || strings.Contains(h, "待审核") {
		t.Fatalf("centre home still lists the approved registration:\n%s", h)
	}
	if h := home(cg); !strings.Contains(h, `href="/exams/sessions/`+sid+`/take"`) || !strings.Contains(h, "考试已开放") {
		t.Fatalf("learner home does not lead to the open exam:\n%s", h)
	}

	// In English the counts are plural-aware.
	if r := centre.do("GET", "/lang/en?next=/home", nil, nil); r.Status != http.StatusSeeOther {
		t.Fatalf("switch language: %d", r.Status)
	}
	if h := home(centre); !strings.Contains(h, "Exam today: 首页批次") {
		t.Fatalf("English centre home:\n%s", h)
	}
}

// The hours a learner holds are shown against what each open session asks, on the exams list and
// the home page, counted as registration counts them: short of 100 hours the home does not offer to
// register (and registration refuses); at exactly the hours held it does.
func TestExamHoursHeldAgainstEachSession(t *testing.T) {
	t.Parallel()
	ids := map[string]int64{}
	var held float64
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded, Setup: func(pool *pgxpool.Pool) error {
		ctx := context.Background()
		acc, err := demoAccounts(pool)
		if err != nil {
			return err
		}
		u, err := acc.UserByUsername(ctx, "caregiver")
		if err != nil {
			return err
		}
		// Counted independently of the code under test: the ledger's sum over the year before now.
		if err := pool.QueryRow(ctx, `SELECT coalesce(sum(hours), 0)::float8 FROM hours_ledger WHERE person_id = $1 AND occupation_code = '4-10-01-03'
			AND earned_at >= now() - interval '1 year'`, u.PersonID).Scan(&held); err != nil {
			return err
		}
		if held <= 0 {
			return errNoDemoHours
		}
		var centreID, blueprintID int64
		if err := pool.QueryRow(ctx, `SELECT b.organisation_id, b.id FROM exam_blueprints b WHERE b.occupation = '4-10-01-03' ORDER BY b.id LIMIT 1`).Scan(&centreID, &blueprintID); err != nil {
			return err
		}
		svc, done, err := testExams(pool)
		if err != nil {
			return err
		}
		defer done()
		now := time.Now()
		for name, need := range map[string]float64{"学时不足批次": 100, "学时恰好批次": held} {
			x, err := svc.CreateSession(ctx, 0, exams.Session{CentreID: centreID, BlueprintID: blueprintID, Name: name, Occupation: "4-10-01-03", Level: 4,
				OpensAt: now.Add(time.Hour), ClosesAt: now.Add(4 * time.Hour), LatestStartAt: now.Add(3 * time.Hour), Duration: time.Hour,
				TheoryPass: 60, PracticalPass: 60, MinHours: need})
			if err != nil {
				return err
			}
			ids[name] = x.ID
		}
		return nil
	}})
	cg := mustLogin(t, srv, "caregiver")
	h := cg.do("GET", "/exams", nil, nil)
	list := string(h.Body)
	short := "学时 " + strconv.FormatFloat(held, 'f', -1, 64) + " / 要求 100"
	exact := "学时 " + strconv.FormatFloat(held, 'f', -1, 64) + " / 要求 " + strconv.FormatFloat(held, 'f', -1, 64)
	if h.Status != http.StatusOK || !strings.Contains(list, short) || !strings.Contains(list, exact) || !strings.Contains(list, `<progress max="100" value="`) {
		t.Fatalf("/exams lacks %q or %q:\n%s", short, exact, list)
	}
	home := string(cg.do("GET", "/home", nil, nil).Body)
	if !strings.Contains(home, short) || strings.Contains(home, "可报名：学时不足批次") || !strings.Contains(home, "可报名：学时恰好批次") {
		t.Fatalf("home and the hours rule disagree:\n%s", home)
	}
	if r := cg.send("POST", "/api/v1/exam-sessions/"+strconv.FormatInt(ids["学时不足批次"], 10)+"/registrations", nil); r.Status != http.StatusForbidden {
		t.Fatalf("registering short of hours: %d %s", r.Status, r.Body)
	}
	if r := cg.send("POST", "/api/v1/exam-sessions/"+strconv.FormatInt(ids["学时恰好批次"], 10)+"/registrations", nil); r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("registering with exactly the hours: %d %s", r.Status, r.Body)
	}

	// The transcript of "everything" prints the period it covers, not 2000 – 2099.
	pdf := cg.do("GET", "/hours.pdf", nil, nil)
	if pdf.Status != http.StatusOK {
		t.Fatalf("/hours.pdf: %d", pdf.Status)
	}
	file := filepath.Join(t.TempDir(), "hours.pdf")
	if err := os.WriteFile(file, pdf.Body, 0o644); err != nil {
		t.Fatal(err)
	}
	text := runTool(t, "pdftotext", "-layout", file, "-")
	today := clock.Today(time.Now())
	if strings.Contains(text, "2000年") || strings.Contains(text, "2099年") || strings.Contains(text, "2100年") ||
		!strings.Contains(text, fmt.Sprintf("%d年%d月%d日", today.Year(), today.Month(), today.Day())) {
		t.Fatalf("transcript period:\n%s", text)
	}
}

var errNoDemoHours = errors.New("the demo caregiver holds no hours of 4-10-01-03")
