package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/xuri/excelize/v2"

	"shanyu/accounts"
	"shanyu/exams"
	"shanyu/exams/bank"
	"shanyu/internal/servertest"
)

// regradeItem is a single-choice item whose original key is its first option.
func regradeItem(stem string) bank.Item {
	return bank.Item{Type: bank.SingleChoice, Format: bank.Plain, Points: 1, Stem: stem,
		Choices: []bank.Option{{Text: "甲", Weight: 1}, {Text: "乙"}, {Text: "丙"}, {Text: "丁"}}}
}

// sitRegradeSession: two verified candidates sit a two-item paper (50 points each) and submit.
// The demo caregiver answers both items by the original key (100, pass); 王二 answers item A with its
// second option and item B right (50, fail). It returns the session and item A.
func sitRegradeSession(pool *pgxpool.Pool) (sessionID, itemA int64, err error) {
	if err := seedDemoAccounts(pool); err != nil {
		return 0, 0, err
	}
	ctx := context.Background()
	acc, err := verifyIdentityOf(pool, "caregiver")
	if err != nil {
		return 0, 0, err
	}
	second, err := acc.CreateUser(ctx, 0, accounts.CreateUserInput{Username: "wang.er", Name: "王二", IDNumber: "33010619880301901X", Password: accounts.DemoPassword})
	if err != nil {
		return 0, 0, err
	}
	if _, err := verifyIdentityOf(pool, "wang.er"); err != nil {
		return 0, 0, err
	}
	centre, err := acc.OrganisationByCode(ctx, "HZ001")
	if err != nil {
		return 0, 0, err
	}
	a, err := bank.Create(ctx, pool, centre.ID, regradeItem("题目A：婴儿俯卧睡眠是否安全？"))
	if err != nil {
		return 0, 0, err
	}
	if _, err := bank.Create(ctx, pool, centre.ID, regradeItem("题目B：奶瓶多久消毒一次？")); err != nil {
		return 0, 0, err
	}
	svc, done, err := testExams(pool)
	if err != nil {
		return 0, 0, err
	}
	defer done()
	b, err := svc.CreateBlueprint(ctx, 0, exams.Blueprint{CentreID: centre.ID, Name: "重评卷", Occupation: "4-10-01-03", Level: 4, Mode: exams.Fixed,
		Sections: []exams.Section{{Name: "单选", Part: exams.Theory, Count: 2, Points: 50, Type: bank.SingleChoice}}})
	if err != nil {
		return 0, 0, err
	}
	now := time.Now()
	x, err := svc.CreateSession(ctx, 0, exams.Session{CentreID: centre.ID, BlueprintID: b.ID, Name: "重评批次", OpensAt: now.Add(-time.Minute),
		ClosesAt: now.Add(3 * time.Hour), LatestStartAt: now.Add(2 * time.Hour), Duration: time.Hour, TheoryPass: 60, PracticalPass: 60})
	if err != nil {
		return 0, 0, err
	}
	cg, err := acc.UserByUsername(ctx, "caregiver")
	if err != nil {
		return 0, 0, err
	}
	for _, who := range []int64{cg.PersonID, second.PersonID} {
		r, err := svc.Register(ctx, x.ID, who)
		if err != nil {
			return 0, 0, err
		}
		if err := svc.Decide(ctx, 0, r.ID, true, 0); err != nil {
			return 0, 0, err
		}
		st, err := svc.Start(ctx, x.ID, who)
		if err != nil {
			return 0, 0, err
		}
		paper, err := svc.StoredPaper(ctx, st.Attempt.ID)
		if err != nil {
			return 0, 0, err
		}
		for i, p := range paper {
			want := 0 // the original key
			if who == second.PersonID && p.ItemID == a.ID {
				want = 1
			}
			shown := -1
			for k, orig := range p.OptionOrder {
				if orig == want {
					shown = k
				}
			}
			if _, err := svc.Save(ctx, st.Attempt.ID, who, st.DeviceToken, int64(i+1), p.Position, exams.Answer{Choices: []int{shown}}, nil); err != nil {
				return 0, 0, err
			}
		}
		if _, err := svc.Submit(ctx, st.Attempt.ID, who, st.DeviceToken, exams.ByCandidate); err != nil {
			return 0, 0, err
		}
	}
	// The key of item A was wrong: its second option is right.
	fixed := a.Item
	fixed.Choices[0].Weight, fixed.Choices[1].Weight = 0, 1
	if _, err := bank.Update(ctx, pool, 0, centre.ID, a.ID, fixed); err != nil {
		return 0, 0, err
	}
	return x.ID, a.ID, nil
}

// theoryOf is the stored theory points of a user's attempt.
func theoryOf(tb testing.TB, pool *pgxpool.Pool, username string) float64 {
	tb.Helper()
	var v float64
	if err := pool.QueryRow(context.Background(), `SELECT a.theory_earned::float8 FROM exam_attempts a JOIN users u ON u.person_id = a.person_id
		WHERE u.username = $1`, username).Scan(&v); err != nil {
		tb.Fatal(err)
	}
	return v
}

// The centre picks the corrected item, sees the dry run (the pass that becomes a fail highlighted),
// nothing is stored until it confirms, and applying stores the new scores.
func TestExamRegradePageDryRunThenApply(t *testing.T) {
	t.Parallel()
	var sessionID, itemA int64
	srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Setup: func(pool *pgxpool.Pool) (err error) {
		sessionID, itemA, err = sitRegradeSession(pool)
		return err
	}})
	centre := mustLogin(t, srv, "centre")
	base := fmt.Sprintf("/exams/sessions/%d/regrade", sessionID)
	res := centre.do("GET", fmt.Sprintf("/exams/sessions/%d/results", sessionID), nil, nil)
	if res.Status != http.StatusOK || !strings.Contains(string(res.Body), `href="`+base+`"`) {
		t.Fatalf("results page: %d, no link to the regrade page", res.Status)
	}
	res = centre.do("GET", base, nil, nil)
	body := string(res.Body)
	if res.Status != http.StatusOK || !strings.Contains(body, fmt.Sprintf(`name="item" value="%d"`, itemA)) || !strings.Contains(body, "题目A") {
		t.Fatalf("regrade page: %d, corrected item A not offered", res.Status)
	}
	if strings.Contains(body, "题目B") {
		t.Fatal("item B, never corrected, is offered for regrading")
	}
	before := map[string]float64{"caregiver": theoryOf(t, srv.Pool, "caregiver"), "wang.er": theoryOf(t, srv.Pool, "wang.er")}
	if before["caregiver"] != 100 || before["wang.er"] != 50 {
		t.Fatalf("scores before: %v", before)
	}

	res = centre.do("GET", base+"?item="+fmt.Sprint(itemA), nil, nil)
	body = string(res.Body)
	if res.Status != http.StatusOK {
		t.Fatalf("dry run: %d %s", res.Status, body)
	}
	row := func(name string) string {
		m := regexp.MustCompile(`(?s)<tr class="([^"]*)">\s*<td>` + name + `</td><td>([0-9.]+)</td><td>([0-9.]+)</td>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("dry run has no row for %s", name)
		}
		return m[1] + " " + m[2] + " " + m[3]
	}
	if got := row("李小燕"); got != "flip-fail 100.0 50.0" {
		t.Errorf("caregiver's dry-run row = %q, want a highlighted pass→fail from 100 to 50", got)
	}
	if got := row("王二"); got != "flip-pass 50.0 100.0" {
		t.Errorf("王二's dry-run row = %q, want fail→pass from 50 to 100", got)
	}
	if !strings.Contains(body, "合格 → 不合格") || !strings.Contains(body, `data-confirm=`) {
		t.Error("dry run shows no pass→fail label or no confirmation on apply")
	}
	if theoryOf(t, srv.Pool, "caregiver") != before["caregiver"] || theoryOf(t, srv.Pool, "wang.er") != before["wang.er"] {
		t.Fatal("the dry run stored scores")
	}

	// Only centre staff with results rights may apply; a candidate may not.
	cg := mustLogin(t, srv, "caregiver")
	if r := cg.postForm(base, url.Values{"_csrf": {cg.csrf}, "item": {fmt.Sprint(itemA)}}); r.Status != http.StatusForbidden {
		t.Fatalf("candidate applies a regrade: %d", r.Status)
	}
	res = centre.postForm(base, url.Values{"_csrf": {centre.csrf}, "item": {fmt.Sprint(itemA)}})
	if res.Status != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "done=exams.regrade.applied") {
		t.Fatalf("apply: %d %s", res.Status, res.Header.Get("Location"))
	}
	if a, b := theoryOf(t, srv.Pool, "caregiver"), theoryOf(t, srv.Pool, "wang.er"); a != 50 || b != 100 {
		t.Fatalf("after apply: caregiver %v, 王二 %v; want 50 and 100", a, b)
	}
	res = centre.do("GET", base, nil, nil)
	if !strings.Contains(string(res.Body), "已按新版本评分") {
		t.Error("after apply the item is not shown as regraded")
	}
}

// The Excel export holds the CSV's rows under Chinese headers, with ids and scores stored as numbers.
func TestExamResultsExcelExport(t *testing.T) {
	t.Parallel()
	var sessionID int64
	srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded, Setup: func(pool *pgxpool.Pool) (err error) {
		sessionID, _, err = sitRegradeSession(pool)
		return err
	}})
	centre := mustLogin(t, srv, "centre")
	if r := centre.postForm(fmt.Sprintf("/exams/sessions/%d/publish", sessionID), url.Values{"_csrf": {centre.csrf}}); r.Status != http.StatusSeeOther {
		t.Fatalf("publish: %d %s", r.Status, r.Body)
	}
	res := centre.do("GET", fmt.Sprintf("/exams/sessions/%d/results.xlsx", sessionID), nil, nil)
	if res.Status != http.StatusOK || !strings.Contains(res.Header.Get("Content-Type"), "spreadsheetml") {
		t.Fatalf("xlsx: %d %s", res.Status, res.Header.Get("Content-Type"))
	}
	f, err := excelize.OpenReader(bytes.NewReader(res.Body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheet := f.GetSheetName(0)
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	csvRes := centre.do("GET", fmt.Sprintf("/exams/sessions/%d/results.csv", sessionID), nil, nil)
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(csvRes.Body), "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"成绩编号", "姓名", "理论成绩", "实操成绩", "是否合格"}, rows[0]); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	if len(rows) != len(records) || len(rows) != 3 {
		t.Fatalf("xlsx has %d rows, csv %d; want 3 each", len(rows), len(records))
	}
	for i := 1; i < len(rows); i++ {
		for col, cell := range []string{"A", "C"} {
			name := fmt.Sprintf("%s%d", cell, i+1)
			typ, err := f.GetCellType(sheet, name)
			if err != nil {
				t.Fatal(err)
			}
			if typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
				t.Errorf("%s is of type %v, want a number", name, typ)
			}
			v, err := f.GetCellValue(sheet, name, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			want := records[i][[]int{0, 2}[col]]
			if a, b := parseNum(t, v), parseNum(t, want); a != b {
				t.Errorf("%s = %v, csv says %v", name, v, want)
			}
		}
		if rows[i][1] != records[i][1] {
			t.Errorf("row %d name %q, csv %q", i, rows[i][1], records[i][1])
		}
		verdict := map[string]string{"true": "合格", "false": "不合格"}[records[i][4]]
		if rows[i][4] != verdict {
			t.Errorf("row %d verdict %q, want %q", i, rows[i][4], verdict)
		}
	}
	// The raw sheet stores the scores as numeric cells, not strings.
	xml := sheetXML(t, res.Body)
	if !strings.Contains(xml, `<c r="C3"`) {
		t.Fatalf("no C3 cell in the sheet: %.400s", xml)
	}
	if m := regexp.MustCompile(`<c r="[ACD][2-9]"[^>]*t="(s|str|inlineStr)"`).FindString(xml); m != "" {
		t.Errorf("a number is stored as text: %s", m)
	}
}

func parseNum(tb testing.TB, s string) float64 {
	tb.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		tb.Fatalf("%q is not a number", s)
	}
	return v
}

// sheetXML is the first worksheet's XML of a workbook.
func sheetXML(tb testing.TB, b []byte) string {
	tb.Helper()
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range z.File {
		if f.Name == "xl/worksheets/sheet1.xml" {
			r, err := f.Open()
			if err != nil {
				tb.Fatal(err)
			}
			defer r.Close()
			x, err := io.ReadAll(r)
			if err != nil {
				tb.Fatal(err)
			}
			return string(x)
		}
	}
	tb.Fatal("no sheet1.xml")
	return ""
}
