package server

import (
	"encoding/base64"
	"io"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"shanyu/audits"
	"shanyu/internal/failure"
)

// Roster import: a CSV or Excel file is previewed (every line checked, bad lines named) and then
// committed; commit parses the file again, so nothing from the preview is trusted.
func (s *Server) routesRosterImport() {
	write := can("institution.roster", "write")
	s.api(apiRoute{Method: "GET", Path: "/api/v1/institutions/roster-template.xlsx", Scope: scopeHeld, Summary: "The Excel template of a roster", Tag: "audits", Perm: write}, s.apiRosterTemplate)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/institutions/:code/roster/import", Scope: byOrg("code"), Summary: "Upload a roster (multipart: file .csv or .xlsx; commit=true to import); answers every line with its error, if any", Tag: "audits", Perm: write,
		Response: object(nil, map[string]any{"rows": map[string]any{"type": "array"}, "imported": integer})}, s.apiRosterImport)
	s.page("GET", "/institutions/:code/roster/import", write, byOrg("code"), s.rosterImportPage)
	s.page("POST", "/institutions/:code/roster/import", write, byOrg("code"), s.rosterImportSubmit)
}

func (s *Server) apiRosterTemplate(c *fiber.Ctx) error {
	b, err := audits.RosterTemplate()
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
		data, err = io.ReadAll(io.LimitReader(f, 5<<20))
		format = strings.TrimPrefix(strings.ToLower(path.Ext(fh.Filename)), ".")
	}
	if err != nil || (format != "csv" && format != "xlsx") {
		return "", nil, failure.Field("file", "audits.import.bad_file")
	}
	return format, data, nil
}

type importLine struct {
	Line    int    `json:"line"`
	Name    string `json:"name"`
	Posts   string `json:"posts"`
	Error   string `json:"error,omitempty"`
	Message string `json:"message,omitempty"`
}

func (s *Server) importLines(c *fiber.Ctx, rows []audits.ImportRow) (lines []importLine, good int) {
	for _, r := range rows {
		l := importLine{Line: r.Line, Name: r.Staff.Name, Posts: strings.Join(r.Staff.Posts, ", "), Error: r.Error}
		if r.Error != "" {
			l.Message = s.i18n.T(langOf(c), "audits.import.row_error", r.Line, s.i18n.T(langOf(c), r.Error, r.Arg))
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
		rows, imported, err = s.domains.Audits.ImportRoster(c.UserContext(), principalOf(c).User.ID, o.ID, format, data)
	} else {
		rows, err = s.domains.Audits.ParseRoster(c.UserContext(), o.ID, format, data)
	}
	if err != nil {
		return
	}
	lines, good = s.importLines(c, rows)
	return
}

func (s *Server) apiRosterImport(c *fiber.Ctx) error {
	lines, _, imported, _, _, err := s.runRosterImport(c, c.FormValue("commit") == "true")
	if err != nil {
		return err
	}
	if lines == nil {
		lines = []importLine{}
	}
	return c.JSON(fiber.Map{"rows": lines, "imported": imported})
}

func (s *Server) rosterImportPage(c *fiber.Ctx) error {
	o, err := s.institution(c, "institution.roster", "write")
	if err != nil {
		return err
	}
	return s.render(c, "institution_import", page{Title: s.i18n.T(langOf(c), "audits.import.title"), Data: fiber.Map{"Org": o}})
}

func (s *Server) rosterImportSubmit(c *fiber.Ctx) error {
	o, err := s.institution(c, "institution.roster", "write")
	if err != nil {
		return err
	}
	commit := c.FormValue("commit") == "true"
	lines, good, imported, format, data, err := s.runRosterImport(c, commit)
	d := fiber.Map{"Org": o, "Lines": lines, "Good": good, "Committed": commit, "Imported": imported, "Format": format,
		"Data": base64.StdEncoding.EncodeToString(data)}
	if e := failure.As(err); e != nil && e.Kind != failure.Internal {
		d["Message"] = s.i18n.T(langOf(c), "audits.import.bad_file")
	} else if err != nil {
		return err
	}
	return s.render(c, "institution_import", page{Title: s.i18n.T(langOf(c), "audits.import.title"), Data: d})
}
