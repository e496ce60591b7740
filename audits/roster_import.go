package audits

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"shanyu/accounts"
	"shanyu/internal/failure"
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
	Line  int // 1-based line of the file, heading included
	Staff StaffInput
	Cert  *ExternalCert // when the line names a certificate from elsewhere
	Error string        // a translation key; empty when the line can be imported
	Arg   string        // what the message names (a post, a class, a field)
}

// RosterTemplate is the Excel template institutions fill in.
func RosterTemplate() ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	for i, c := range RosterColumns {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		if err := f.SetCellValue(sheet, cell, c[0]+" "+c[1]); err != nil {
			return nil, err
		}
	}
	example := []string{"王晓梅", "13700000000", "330106199001010012", "caregiver", "托小班", "2027-06-30", "2026-05-01", "S000033000001255000001", "4-10-01-03", "4", "2029-06-30", "证书复印件已存档"}
	for i, v := range example {
		cell, _ := excelize.CoordinatesToCellName(i+1, 2)
		if err := f.SetCellValue(sheet, cell, v); err != nil {
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
// policy's posts and the institution's classes, without changing anything.
func (s *Service) ParseRoster(ctx context.Context, orgID int64, format string, data []byte) ([]ImportRow, error) {
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
			records = append(records, rec)
		}
	case "xlsx":
		f, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			return nil, ErrImportFile.Wrap(err)
		}
		defer f.Close()
		if records, err = f.GetRows(f.GetSheetName(0)); err != nil {
			return nil, ErrImportFile.Wrap(err)
		}
	default:
		return nil, ErrImportFile
	}
	if len(records) < 1 {
		return nil, ErrImportFile
	}
	// Columns are found by heading (Chinese, English or both), so their order may differ.
	index := map[string]int{}
	for i, h := range records[0] {
		for _, c := range RosterColumns {
			h = strings.TrimSpace(h)
			if h == c[0] || h == c[1] || h == c[0]+" "+c[1] {
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
	for _, c := range classes {
		haveClass[c.Name] = true
	}
	knownPost := map[string]bool{}
	for _, p := range s.Policy().Posts() {
		knownPost[p] = true
	}
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
		fail := func(key, arg string) {
			if row.Error == "" {
				row.Error, row.Arg = key, arg
			}
		}
		id := accounts.NormaliseCitizenID(get("id_number"))
		row.Staff = StaffInput{Name: get("name"), Phone: get("phone"), IDNumber: id, Class: get("class")}
		if n := len([]rune(row.Staff.Name)); n < 2 || n > 40 {
			fail("accounts.name_invalid", "")
		}
		if !accounts.ValidCitizenID(id) {
			fail("accounts.id_number_invalid", "")
		} else if prev, dup := seen[id]; dup {
			fail("audits.import.duplicate", strconv.Itoa(prev))
		}
		seen[id] = row.Line
		for _, p := range strings.FieldsFunc(get("posts"), func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == ';' || r == ' ' }) {
			if !knownPost[p] {
				fail("audits.post_invalid", p)
			}
			row.Staff.Posts = append(row.Staff.Posts, p)
		}
		if len(row.Staff.Posts) == 0 {
			fail("audits.post_invalid", "")
		}
		if row.Staff.Class != "" && !haveClass[row.Staff.Class] {
			fail("audits.class_unknown", row.Staff.Class)
		}
		date := func(k string) time.Time {
			v := get(k)
			if v == "" {
				return time.Time{}
			}
			t, err := time.Parse("2006-01-02", v)
			if err != nil {
				fail("audits.date_invalid", k)
			}
			return t
		}
		row.Staff.HealthValidUntil, row.Staff.NoCriminalRecordOn = date("health_valid_until"), date("no_criminal_record_on")
		if num := get("cert_number"); num != "" {
			level, err := strconv.Atoi(get("level"))
			if err != nil || level < 1 || level > 5 {
				fail("audits.level_invalid", "")
			}
			c := &ExternalCert{OrganisationID: orgID, Number: num, Occupation: get("occupation"), Level: level, ExpiresOn: date("cert_expires_on"), Evidence: get("evidence")}
			if c.Occupation == "" {
				fail("audits.occupation_invalid", "")
			}
			if c.Evidence == "" {
				fail("audits.evidence_required", "")
			}
			row.Cert = c
		}
		out = append(out, row)
	}
	return out, nil
}

// ImportRoster parses the file again and imports every good line; it returns the lines and how many
// were imported. Importing the same file twice changes nothing the second time.
func (s *Service) ImportRoster(ctx context.Context, actorID, orgID int64, format string, data []byte) ([]ImportRow, int, error) {
	rows, err := s.ParseRoster(ctx, orgID, format, data)
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
			rows[i].Error = e.Msg.Key
			for _, m := range e.Fields {
				rows[i].Error = m.Key
			}
			continue
		}
		if err != nil {
			return nil, done, fmt.Errorf("line %d: %w", r.Line, err)
		}
		done++
	}
	return rows, done, nil
}
