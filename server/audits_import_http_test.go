package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"shanyu/audits"
	"shanyu/internal/servertest"
)

// A roster file in the user's words imports: 保育人员 and 保育师 as well as codes; a bad line shows
// every problem at once, each naming the accepted values, in the reader's language; the template
// offers the accepted values as drop-downs; and no rendered message carries a formatting error (%!).
func TestRosterImportInTheUsersLanguage(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	inst := mustLogin(t, srv, "institution")

	tpl := inst.do("GET", "/api/v1/institutions/roster-template.xlsx", nil, nil)
	if tpl.Status != http.StatusOK {
		t.Fatalf("template: %d", tpl.Status)
	}
	x, err := excelize.OpenReader(bytes.NewReader(tpl.Body))
	if err != nil {
		t.Fatal(err)
	}
	sheet := x.GetSheetName(0)
	dvs, err := x.GetDataValidations(sheet)
	if err != nil || len(dvs) != 3 {
		t.Fatalf("template drop-downs: %d %v", len(dvs), err)
	}
	post, _ := x.GetCellValue(sheet, "D2")
	occ, _ := x.GetCellValue(sheet, "I2")
	values, _ := x.GetRows("values")
	if post != "保育人员" || occ != "保育师" || len(values) < 4 || strings.Contains(post+occ, "4-10") {
		t.Errorf("template example %q %q, accepted values %v", post, occ, values)
	}

	birth := time.Date(1993, 7, 8, 0, 0, 0, 0, time.UTC)
	good := audits.SyntheticCitizenID("330106", birth, 31)
	csv := "姓名,身份证号,岗位,班级,健康证明有效期至,证书编号,证书职业,证书等级,证明材料\n" +
		"孙丽," + good + ",保育人员,托小班,2027-06-30,ZJ-EXT-31,保育师,4,复印件已存档\n" +
		"周," + good[:17] + "0,宇航员、保安,火星班,2027-13-01,ZJ-EXT-32,厨师,9,\n"
	u, err := srv.App.Accounts.UserByUsername(context.Background(), "institution")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"zh-CN", "en"} {
		if err := srv.App.Accounts.SetLanguage(context.Background(), u.ID, lang); err != nil {
			t.Fatal(err)
		}
		r := inst.multipart("/api/v1/institutions/HZI001/roster/import", map[string]string{}, "file", "roster.csv", []byte(csv),
			map[string]string{"X-CSRF-Token": inst.csrf, "Accept-Language": lang})
		if r.Status != http.StatusOK {
			t.Fatalf("%s preview: %d %s", lang, r.Status, r.Body)
		}
		if bytes.Contains(r.Body, []byte("%!")) {
			t.Errorf("%s: a message with a formatting error:\n%s", lang, r.Body)
		}
		var out struct {
			Rows []struct {
				Line     int      `json:"line"`
				Error    string   `json:"error"`
				Message  string   `json:"message"`
				Messages []string `json:"messages"`
			} `json:"rows"`
		}
		if err := json.Unmarshal(r.Body, &out); err != nil || len(out.Rows) != 2 {
			t.Fatalf("%s: %s %v", lang, r.Body, err)
		}
		if out.Rows[0].Error != "" {
			t.Errorf("%s: the line with 保育人员 refused: %s", lang, out.Rows[0].Message)
		}
		bad := out.Rows[1]
		if len(bad.Messages) < 6 {
			t.Errorf("%s: only %d problems of the bad line shown: %v", lang, len(bad.Messages), bad.Messages)
		}
		all := strings.Join(bad.Messages, "\n")
		wants := map[string][]string{"zh-CN": {"宇航员", "可填：保育人员", "厨师", "保育师", "火星班", "2027-13-01"}, "en": {"宇航员", "accepted: Caregiver", "厨师", "Childcare Worker", "火星班"}}[lang]
		for _, want := range wants {
			if !strings.Contains(all, want) {
				t.Errorf("%s: problems lack %q:\n%s", lang, want, all)
			}
		}
	}
	if err := srv.App.Accounts.SetLanguage(context.Background(), u.ID, "zh-CN"); err != nil {
		t.Fatal(err)
	}
	// The page shows the same, with the accepted values, and imports the good line.
	page := inst.multipart("/institutions/HZI001/roster/import", map[string]string{"_csrf": inst.csrf}, "file", "roster.csv", []byte(csv), nil)
	if page.Status != http.StatusOK || bytes.Contains(page.Body, []byte("%!")) || !bytes.Contains(page.Body, []byte("可填的岗位：")) || !bytes.Contains(page.Body, []byte("宇航员")) {
		t.Errorf("import page: %d (formatting error or accepted values missing)", page.Status)
	}
	r := inst.multipart("/api/v1/institutions/HZI001/roster/import", map[string]string{"commit": "true"}, "file", "roster.csv", []byte(csv), map[string]string{"X-CSRF-Token": inst.csrf})
	var done struct {
		Imported int `json:"imported"`
	}
	if err := json.Unmarshal(r.Body, &done); err != nil || done.Imported != 1 {
		t.Fatalf("commit: %s %v", r.Body, err)
	}
	comp := inst.do("GET", "/api/v1/institutions/HZI001/compliance", nil, nil)
	if !bytes.Contains(comp.Body, []byte("孙丽")) {
		t.Errorf("孙丽 not on the roster after the import")
	}
}

// A roster preview answers the counts and only the first page of good lines and of lines with
// problems (100 each, in file order), not every line of the file.
func TestRosterPreviewAnswersCountsAndTheFirstPage(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	inst := mustLogin(t, srv, "institution")
	var csv strings.Builder
	csv.WriteString("姓名,身份证号,岗位\n")
	birth := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 250 {
		if i%5 == 4 { // every fifth line names a post that does not exist
			fmt.Fprintf(&csv, "员工%d,%s,宇航员\n", i, audits.SyntheticCitizenID("330106", birth.AddDate(0, 0, i), i%1000))
			continue
		}
		fmt.Fprintf(&csv, "员工%d,%s,保育人员\n", i, audits.SyntheticCitizenID("330106", birth.AddDate(0, 0, i), i%1000))
	}
	r := inst.multipart("/api/v1/institutions/HZI001/roster/import", map[string]string{}, "file", "roster.csv", []byte(csv.String()),
		map[string]string{"X-CSRF-Token": inst.csrf})
	if r.Status != http.StatusOK {
		t.Fatalf("preview: %d %s", r.Status, r.Body)
	}
	var out struct {
		Rows []struct {
			Line     int      `json:"line"`
			Messages []string `json:"messages"`
		} `json:"rows"`
		PageSize int `json:"page_size"`
		Lines    int `json:"line_count"`
		Good     int `json:"good_count"`
		Problems int `json:"problem_count"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	var good, bad int
	for i, row := range out.Rows {
		if len(row.Messages) > 0 {
			bad++
		} else {
			good++
		}
		if i > 0 && row.Line <= out.Rows[i-1].Line {
			t.Fatalf("rows out of file order at %d: line %d after %d", i, row.Line, out.Rows[i-1].Line)
		}
	}
	if out.Lines != 250 || out.Good != 200 || out.Problems != 50 || out.PageSize != 100 || good != 100 || bad != 50 {
		t.Errorf("counts %d lines, %d good, %d with problems (page %d); listed %d good and %d with problems, want 250/200/50 (100), 100 and 50",
			out.Lines, out.Good, out.Problems, out.PageSize, good, bad)
	}
}
