package server

import (
	"encoding/base64"
	"io"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"shanyu/audits"
	"shanyu/certificates"
	"shanyu/internal/failure"
)

// Roster import: a CSV or Excel file is previewed (every line checked, bad lines named) and then
// committed; commit parses the file again, so nothing from the preview is trusted.
func (s *Server) routesRosterImport() {
	write := can("institution.roster", "write")
	s.api(apiRoute{Method: "GET", Path: "/api/v1/institutions/roster-template.xlsx", Scope: scopeHeld, Summary: "The Excel template of a roster", Tag: "audits", Perm: write, Produces: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}, s.apiRosterTemplate)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/institutions/:code/roster/import", Scope: byOrg("code"), Summary: "Upload a roster (multipart: file .csv or .xlsx; commit=true to import); answers every line with its error, if any", Tag: "audits", Perm: write,
		Response: props(map[string]any{"rows": schemaOf[[]importLine](), "imported": integer})}, s.apiRosterImport)
	s.page("GET", "/institutions/:code/roster/import", write, byOrg("code"), s.rosterImportPage)
	s.page("POST", "/institutions/:code/roster/import", write, byOrg("code"), s.rosterImportSubmit)
}

func (s *Server) apiRosterTemplate(c *fiber.Ctx) error {
	lang := langOf(c)
	var headings [][2]string
	if lang == "en" {
		for _, col := range audits.RosterColumns {
			headings = append(headings, [2]string{col[1], col[1]})
		}
	}
	b, err := audits.RosterTemplate(s.rosterVocabulary(lang), headings)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="roster-template.xlsx"`)
	c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	return c.Send(b)
}

// rosterFile reads the uploaded file, or the file carried over from the preview.
func rosterFile(c *fiber.Ctx) (format string, data []byte, err error) {
	if carried := c.FormValue("data"); carried != "" {
		if len(carried) > base64.StdEncoding.EncodedLen(audits.MaxRosterFile) {
			return "", nil, audits.ErrRosterTooLarge // refused before it is decoded
		}
		data, err = base64.StdEncoding.DecodeString(carried)
		format = c.FormValue("format")
	} else {
		fh, ferr := c.FormFile("file")
		if ferr != nil {
			return "", nil, failure.Field("file", "audits.import.bad_file")
		}
		f, ferr := fh.Open()
		if ferr != nil {
			return "", nil, ferr
		}
		defer f.Close()
		data, err = io.ReadAll(io.LimitReader(f, audits.MaxRosterFile+1))
		format = strings.TrimPrefix(strings.ToLower(path.Ext(fh.Filename)), ".")
	}
	if err != nil || (format != "csv" && format != "xlsx") {
		return "", nil, failure.Field("file", "audits.import.bad_file")
	}
	if len(data) > audits.MaxRosterFile {
		return "", nil, audits.ErrRosterTooLarge
	}
	return format, data, nil
}

type importLine struct {
	Line     int      `json:"line"`
	Name     string   `json:"name"`
	Posts    string   `json:"posts"`
	Error    string   `json:"error,omitempty"`
	Message  string   `json:"message,omitempty"`
	Messages []string `json:"messages,omitempty"` // every problem of the line
}

// rosterVocabulary is what a roster file may say for posts and occupations: codes, and the names in
// both languages, the reader's first.
func (s *Server) rosterVocabulary(lang string) audits.Vocabulary {
	other := "en"
	if lang == "en" {
		other = "zh-CN"
	}
	var v audits.Vocabulary
	for _, p := range s.domains.Audits.Policy().Posts() {
		v.Posts = append(v.Posts, audits.Term{Code: p, Names: []string{s.i18n.T(lang, "audits.post."+p), s.i18n.T(other, "audits.post."+p)}})
	}
	for _, o := range s.domains.Audits.Policy().Occupations() {
		t := audits.Term{Code: o}
		if lt, err := certificates.LevelTitles(o, 5); err == nil {
			t.Names = []string{lt.OccupationZH, lt.OccupationEN}
			if lang == "en" {
				t.Names = []string{lt.OccupationEN, lt.OccupationZH}
			}
		} else {
			t.Names = []string{s.i18n.T(lang, "audits.token.qual:"+o), s.i18n.T(other, "audits.token.qual:"+o)}
		}
		v.Occupations = append(v.Occupations, t)
	}
	return v
}

func (s *Server) importLines(c *fiber.Ctx, rows []audits.ImportRow) (lines []importLine, good int) {
	lang := langOf(c)
	for _, r := range rows {
		var posts []string
		for _, p := range r.Staff.Posts {
			posts = append(posts, s.i18n.T(lang, "audits.post."+p))
		}
		l := importLine{Line: r.Line, Name: r.Staff.Name, Posts: strings.Join(posts, "、"), Error: r.Error}
		for _, p := range r.Problems {
			l.Messages = append(l.Messages, s.i18n.T(lang, p.Key, p.Args...))
		}
		if len(l.Messages) > 0 {
			sep := "；"
			if lang == "en" {
				sep = "; "
			}
			l.Message = s.i18n.T(lang, "audits.import.row_error", r.Line, strings.Join(l.Messages, sep))
		} else {
			good++
		}
		lines = append(lines, l)
	}
	return lines, good
}

func (s *Server) runRosterImport(c *fiber.Ctx, commit bool) (lines []importLine, good, imported int, format string, data []byte, err error) {
	o, err := s.institution(c, "institution.roster", "write")
	if err != nil {
		return
	}
	if format, data, err = rosterFile(c); err != nil {
		return
	}
	var rows []audits.ImportRow
	if commit {
		rows, imported, err = s.domains.Audits.ImportRoster(c.UserContext(), principalOf(c).User.ID, o.ID, format, data, s.rosterVocabulary(langOf(c)))
	} else {
		rows, err = s.domains.Audits.ParseRoster(c.UserContext(), o.ID, format, data, s.rosterVocabulary(langOf(c)))
	}
	if err != nil {
		return
	}
	lines, good = s.importLines(c, rows)
	return
}

func (s *Server) apiRosterImport(c *fiber.Ctx) error {
	lines, good, imported, _, _, err := s.runRosterImport(c, c.FormValue("commit") == "true")
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"rows": firstLines(lines), "imported": imported, "page_size": previewPage,
		"line_count": len(lines), "good_count": good, "problem_count": len(lines) - good})
}

// firstLines is what a roster answer lists, as a bank preview does: the counts go beside it, and
// the first page of lines with problems and of good lines, in file order; a roster of five thousand
// staff must not become five thousand rows.
func firstLines(lines []importLine) []importLine {
	out := []importLine{}
	var good, bad int
	for _, l := range lines {
		n := &good
		if len(l.Messages) > 0 {
			n = &bad
		}
		if *n++; *n <= previewPage {
			out = append(out, l)
		}
	}
	return out
}

func (s *Server) rosterImportPage(c *fiber.Ctx) error {
	o, err := s.institution(c, "institution.roster", "write")
	if err != nil {
		return err
	}
	return s.render(c, "institution_import", page{Title: s.i18n.T(langOf(c), "audits.import.title"), Data: fiber.Map{"Org": o, "Accepted": s.acceptedValues(langOf(c))}})
}

func (s *Server) rosterImportSubmit(c *fiber.Ctx) error {
	o, err := s.institution(c, "institution.roster", "write")
	if err != nil {
		return err
	}
	commit := c.FormValue("commit") == "true"
	lines, good, imported, format, data, err := s.runRosterImport(c, commit)
	d := fiber.Map{"Org": o, "Accepted": s.acceptedValues(langOf(c)), "Lines": lines, "Good": good, "Committed": commit, "Imported": imported, "Format": format,
		"Data": base64.StdEncoding.EncodeToString(data)}
	if f, err := s.failedForm(c, err); err != nil {
		return err
	} else if f != nil {
		d["Message"] = s.i18n.T(langOf(c), "audits.import.bad_file")
	}
	return s.render(c, "institution_import", page{Title: s.i18n.T(langOf(c), "audits.import.title"), Data: d})
}

// acceptedValues says, in the reader's language, which posts and occupations a roster may name.
func (s *Server) acceptedValues(lang string) string {
	v := s.rosterVocabulary(lang)
	return s.i18n.T(lang, "audits.import.values", strings.Join(audits.Shown(v.Posts), "、"), strings.Join(audits.Shown(v.Occupations), "、"))
}
