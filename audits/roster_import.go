package audits

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"shanyu/accounts"
	"shanyu/internal/failure"
	"shanyu/internal/limits"
)

// RosterColumns are the columns of the roster template, Chinese heading and English key.
var RosterColumns = [][2]string{
	{"姓名", "name"}, {"手机号", "phone"}, {"身份证号", "id_number"}, {"岗位", "posts"}, {"班级", "class"},
	{"健康证明有效期至", "health_valid_until"}, {"无犯罪记录证明开具日期", "no_criminal_record_on"},
	{"证书编号", "cert_number"}, {"证书职业", "occupation"}, {"证书等级", "level"}, {"证书有效期至", "cert_expires_on"}, {"证明材料", "evidence"},
}

// ErrImportFile says a roster file could not be read at all.
var ErrImportFile = failure.New(failure.Invalid, "audits.import.bad_file")

// ImportRow is one parsed line of a roster file.
type ImportRow struct {
	Line     int // 1-based line of the file, heading included
	Staff    StaffInput
	Cert     *ExternalCert // when the line names a certificate from elsewhere
	Error    string        // the first problem's translation key; empty when the line can be imported
	Arg      string        // what the first message names (a post, a class, a field)
	Problems []Problem     // every problem of the line, in column order
}

// Problem is one thing wrong with a roster line: a translation key and exactly the arguments its
// message takes.
type Problem struct {
	Field string
	Key   string
	Args  []any
}

// Term is an accepted value: its code and the names a person may type for it; Names[0] is the name in
// the reader's language, listed in messages and in the template's drop-downs.
type Term struct {
	Code  string
	Names []string
}

// Vocabulary is what a roster file may say for posts and occupations, in the reader's language
// first (the server builds it from its locales and the occupation catalogue).
type Vocabulary struct {
	Posts       []Term
	Occupations []Term
}

// find resolves what was typed (a code or any name, case and spacing aside) to its code.
func find(terms []Term, v string) (string, bool) {
	v = strings.TrimSpace(v)
	for _, t := range terms {
		if strings.EqualFold(v, t.Code) {
			return t.Code, true
		}
		for _, n := range t.Names {
			if strings.EqualFold(v, strings.TrimSpace(n)) {
				return t.Code, true
			}
		}
	}
	return "", false
}

// Shown lists the terms by their first name, as messages and drop-downs offer them.
func Shown(terms []Term) []string {
	out := make([]string, 0, len(terms))
	for _, t := range terms {
		if len(t.Names) > 0 {
			out = append(out, t.Names[0])
		} else {
			out = append(out, t.Code)
		}
	}
	return out
}

// Occupations lists the occupation codes the policy names in its qualification tokens.
func (p *Policy) Occupations() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range p.rules {
		parts := strings.Split(r[0], ":")
		if len(parts) == 3 && parts[0] == "qual" && !seen[parts[1]] {
			seen[parts[1]] = true
			out = append(out, parts[1])
		}
	}
	return out
}

// Bounds of a roster file, checked as it is read: an institution's staff fit well inside them.
const (
	MaxRosterFile = 5 << 20 // bytes, as uploaded
	MaxRosterRows = 5000    // lines after the heading
	maxRosterCols = 64
)

// ErrRosterTooLarge says a roster file is over one of the bounds above.
var ErrRosterTooLarge = failure.New(failure.Invalid, "audits.import.too_large", MaxRosterRows)

func checkRosterRecord(n int, rec []string) error {
	if n > MaxRosterRows || len(rec) > maxRosterCols {
		return ErrRosterTooLarge
	}
	for _, v := range rec {
		if len(v) > limits.Text {
			return ErrRosterTooLarge
		}
	}
	return nil
}

// rosterRecords reads the lines of a CSV or Excel roster within the bounds, checking nothing else.
func rosterRecords(format string, data []byte) ([][]string, error) {
	var records [][]string
	switch format {
	case "csv":
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
		r.FieldsPerRecord = -1
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, ErrImportFile.Wrap(err)
			}
			if err := checkRosterRecord(len(records), rec); err != nil {
				return nil, err
			}
			records = append(records, rec)
		}
	case "xlsx":
		var err error
		if records, err = xlsxRecords(data); err != nil {
			return nil, err
		}
	default:
		return nil, ErrImportFile
	}
	return records, nil
}

// xlsxRecords reads the first sheet row by row, after the workbook's zip directory has been checked
// against the shared limits, so that a zip bomb is refused before anything is inflated.
func xlsxRecords(data []byte) ([][]string, error) {
	f, err := limits.DefaultXLSX.OpenXLSX(data)
	if errors.Is(err, limits.ErrTooLarge) {
		return nil, ErrRosterTooLarge.Wrap(err)
	}
	if err != nil {
		return nil, ErrImportFile.Wrap(err)
	}
	defer f.Close()
	rows, err := f.Rows(f.GetSheetName(0))
	if err != nil {
		return nil, ErrImportFile.Wrap(err)
	}
	defer rows.Close()
	var records [][]string
	for rows.Next() {
		rec, err := rows.Columns()
		if err != nil {
			return nil, ErrImportFile.Wrap(err)
		}
		if err := checkRosterRecord(len(records), rec); err != nil {
			return nil, err
		}
		records = append(records, rec)
	}
	if err := rows.Error(); err != nil {
		return nil, ErrImportFile.Wrap(err)
	}
	return records, nil
}

// RosterTemplate is the Excel template institutions fill in, headed and exemplified in the reader's
// language, with drop-downs (data validation) of the accepted posts, occupations and levels, and a
// second sheet listing every accepted value.
func RosterTemplate(v Vocabulary, headings [][2]string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	if len(headings) != len(RosterColumns) {
		headings = RosterColumns
	}
	for i, c := range headings {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		h := c[0] + " " + c[1]
		if c[0] == c[1] {
			h = c[1]
		}
		if err := f.SetCellValue(sheet, cell, h); err != nil {
			return nil, err
		}
	}
	first := func(ts []Term, code string) string {
		for _, t := range ts {
			if t.Code == code && len(t.Names) > 0 {
				return t.Names[0]
			}
		}
		return code
	}
	example := []string{"王晓梅", "13700000000", "330106199001010012", first(v.Posts, "caregiver"), "托小班", "2027-06-30", "2026-05-01", "S000033000001255000001", first(v.Occupations, "4-10-01-03"), "4", "2029-06-30", "证书复印件已存档"}
	for i, val := range example {
		cell, _ := excelize.CoordinatesToCellName(i+1, 2)
		if err := f.SetCellValue(sheet, cell, val); err != nil {
			return nil, err
		}
	}
	// The accepted values, on a sheet of their own, feed the drop-downs.
	const values = "values"
	if _, err := f.NewSheet(values); err != nil {
		return nil, err
	}
	lists := [][]string{Shown(v.Posts), Shown(v.Occupations), {"1", "2", "3", "4", "5"}}
	for col, list := range lists {
		for row, val := range list {
			cell, _ := excelize.CoordinatesToCellName(col+1, row+1)
			if err := f.SetCellValue(values, cell, val); err != nil {
				return nil, err
			}
		}
	}
	column := func(key string) string {
		for i, c := range RosterColumns {
			if c[1] == key {
				name, _ := excelize.ColumnNumberToName(i + 1)
				return name
			}
		}
		return ""
	}
	for i, key := range []string{"posts", "occupation", "level"} {
		if len(lists[i]) == 0 {
			continue
		}
		src, _ := excelize.ColumnNumberToName(i + 1)
		dv := excelize.NewDataValidation(true)
		dv.Sqref = fmt.Sprintf("%s2:%s1000", column(key), column(key))
		dv.SetSqrefDropList(fmt.Sprintf("%s!$%s$1:$%s$%d", values, src, src, len(lists[i])))
		if err := f.AddDataValidation(sheet, dv); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ParseRoster reads a CSV or Excel roster (format "csv" or "xlsx") and checks every line against the
// policy's posts, the occupations and the institution's classes, without changing anything. Posts
// and occupations may be typed by code or by any of their names in v; every problem of a line is
// reported, each naming what is accepted.
func (s *Service) ParseRoster(ctx context.Context, orgID int64, format string, data []byte, v Vocabulary) ([]ImportRow, error) {
	records, err := rosterRecords(format, data)
	if err != nil {
		return nil, err
	}
	if len(records) < 1 {
		return nil, ErrImportFile
	}
	// Columns are found by heading (Chinese, English or both), so their order may differ.
	index := map[string]int{}
	for i, h := range records[0] {
		h = strings.TrimSpace(h)
		for _, c := range RosterColumns {
			if h == c[0] || h == c[1] || h == c[0]+" "+c[1] || strings.HasSuffix(h, " "+c[1]) {
				index[c[1]] = i
			}
		}
	}
	for _, need := range []string{"name", "id_number", "posts"} {
		if _, ok := index[need]; !ok {
			return nil, ErrImportFile
		}
	}
	classes, err := s.Classes(ctx, orgID)
	if err != nil {
		return nil, err
	}
	haveClass := map[string]bool{}
	var classNames []string
	for _, c := range classes {
		haveClass[c.Name] = true
		classNames = append(classNames, c.Name)
	}
	// Only the posts the policy knows are accepted, by code or name.
	known := map[string]bool{}
	for _, p := range s.Policy().Posts() {
		known[p] = true
	}
	var posts []Term
	for _, t := range v.Posts {
		if known[t.Code] {
			posts = append(posts, t)
		}
	}
	for _, p := range s.Policy().Posts() {
		if _, ok := find(posts, p); !ok {
			posts = append(posts, Term{Code: p, Names: []string{p}})
		}
	}
	postList, occList := strings.Join(Shown(posts), "、"), strings.Join(Shown(v.Occupations), "、")
	var out []ImportRow
	seen := map[string]int{}
	for n, rec := range records[1:] {
		get := func(k string) string {
			if i, ok := index[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if strings.Join(rec, "") == "" {
			continue
		}
		row := ImportRow{Line: n + 2}
		fail := func(field, key string, args ...any) {
			row.Problems = append(row.Problems, Problem{Field: field, Key: key, Args: args})
		}
		id := accounts.NormaliseCitizenID(get("id_number"))
		row.Staff = StaffInput{Name: get("name"), Phone: get("phone"), IDNumber: id, Class: get("class")}
		if n := len([]rune(row.Staff.Name)); n < 2 || n > 40 {
			fail("name", "accounts.name_invalid")
		}
		if !accounts.ValidCitizenID(id) {
			fail("id_number", "accounts.id_number_invalid")
		} else if prev, dup := seen[id]; dup {
			fail("id_number", "audits.import.duplicate", strconv.Itoa(prev))
		}
		seen[id] = row.Line
		for _, p := range strings.FieldsFunc(get("posts"), func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == ';' || r == '；' || r == '/' }) {
			code, ok := find(posts, p)
			if !ok {
				fail("posts", "audits.import.post_invalid", strings.TrimSpace(p), postList)
				continue
			}
			row.Staff.Posts = append(row.Staff.Posts, code)
		}
		if strings.TrimSpace(get("posts")) == "" {
			fail("posts", "audits.import.post_missing", postList)
		}
		if row.Staff.Class != "" && !haveClass[row.Staff.Class] {
			list := strings.Join(classNames, "、")
			if list == "" {
				list = "—"
			}
			fail("class", "audits.import.class_unknown", row.Staff.Class, list)
		}
		date := func(k string) time.Time {
			v := get(k)
			if v == "" {
				return time.Time{}
			}
			t, err := time.Parse("2006-01-02", v)
			if err != nil {
				fail(k, "audits.import.date_invalid", v)
			}
			return t
		}
		row.Staff.HealthValidUntil, row.Staff.NoCriminalRecordOn = date("health_valid_until"), date("no_criminal_record_on")
		if num := get("cert_number"); num != "" {
			level, err := strconv.Atoi(get("level"))
			if err != nil || level < 1 || level > 5 {
				fail("level", "audits.level_invalid")
			}
			c := &ExternalCert{OrganisationID: orgID, Number: num, Level: level, ExpiresOn: date("cert_expires_on"), Evidence: get("evidence")}
			if occ := get("occupation"); occ == "" {
				fail("occupation", "audits.import.occupation_missing", occList)
			} else if code, ok := find(v.Occupations, occ); ok {
				c.Occupation = code
			} else if len(v.Occupations) > 0 {
				fail("occupation", "audits.import.occupation_invalid", occ, occList)
			} else {
				c.Occupation = occ
			}
			if c.Evidence == "" {
				fail("evidence", "audits.evidence_required")
			}
			row.Cert = c
		}
		if len(row.Problems) > 0 {
			row.Error = row.Problems[0].Key
			if len(row.Problems[0].Args) > 0 {
				row.Arg = fmt.Sprint(row.Problems[0].Args[0])
			}
		}
		out = append(out, row)
	}
	return out, nil
}

// ImportRoster parses the file again and imports every good line; it returns the lines and how many
// were imported. Importing the same file twice changes nothing the second time.
func (s *Service) ImportRoster(ctx context.Context, actorID, orgID int64, format string, data []byte, v Vocabulary) ([]ImportRow, int, error) {
	rows, err := s.ParseRoster(ctx, orgID, format, data, v)
	if err != nil {
		return nil, 0, err
	}
	done := 0
	for i, r := range rows {
		if r.Error != "" {
			continue
		}
		m, err := s.AddStaff(ctx, orgID, r.Staff)
		if err == nil && r.Cert != nil {
			c := *r.Cert
			c.PersonID = m.PersonID
			_, err = s.RecordExternalCertificate(ctx, actorID, c)
		}
		if e := failure.As(err); e != nil && e.Kind != failure.Internal {
			p := Problem{Key: e.Msg.Key, Args: e.Msg.Args}
			for f, m := range e.Fields {
				p = Problem{Field: f, Key: m.Key, Args: m.Args}
			}
			rows[i].Error, rows[i].Problems = p.Key, append(rows[i].Problems, p)
			continue
		}
		if err != nil {
			return nil, done, fmt.Errorf("line %d: %w", r.Line, err)
		}
		done++
	}
	return rows, done, nil
}
