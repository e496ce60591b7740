package server

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"shanyu/exams/bank"
	"shanyu/internal/failure"
)

// bankView is what the bank templates receive.
type bankView struct {
	formPage
	Org        orgJSON
	Base       string // /centres/CODE/bank
	CanWrite   bool
	Query      url.Values
	Back       string // this list with its filters, for the bulk form to return to
	Items      []summaryJSON
	Categories []categoryJSON
	Types      []bank.Type
	Total      int
	PrevURL    string
	NextURL    string
	ItemJSON   string // the item the editor opens, as JSON for bank.js
	ItemID     int64
	Item       *itemJSON
	API        string // the JSON API of this bank
	MaxMB      int    // the largest upload the server takes
}

func (s *Server) bankView(c *fiber.Ctx, act string) (bankView, error) {
	o, err := s.bankCentre(c, act)
	if err != nil {
		return bankView{}, err
	}
	v := bankView{Org: toOrgJSON(o), Base: "/centres/" + o.Code + "/bank", API: "/api/v1/centres/" + o.Code + "/bank", Types: bank.Types}
	v.CanWrite = s.allowedIn(c, "bank.items", "write", o.Domain()) == nil
	return v, nil
}

func (s *Server) bankPage(c *fiber.Ctx) error {
	v, err := s.bankView(c, "read")
	if err != nil {
		return err
	}
	f := bankFilter(c)
	pg, err := bank.List(c.UserContext(), s.pool, v.Org.ID, f)
	if err != nil {
		return err
	}
	if v.Categories, err = s.bankCategories(c, v.Org.ID); err != nil {
		return err
	}
	for _, x := range pg.Items {
		v.Items = append(v.Items, toSummaryJSON(x))
	}
	lang := langOf(c)
	if n := c.Query("notice"); n != "" {
		count, _ := strconv.Atoi(c.Query("n"))
		v.Notice = s.i18n.T(lang, "bank.notice."+noticeKey(n), count)
	}
	if e := c.Query("error"); e != "" {
		v.Message = s.i18n.T(lang, "bank.bulk."+noticeKey(e))
	}
	v.Query = queryValues(c, "q", "category", "tag", "type", "difficulty", "status")
	v.Total = pg.Total
	v.PrevURL, v.NextURL = pager(v.Base, v.Query, pg.Total, f.Limit, f.Offset)
	v.Back = v.Base
	if q := v.Query.Encode(); q != "" {
		v.Back += "?" + q
	}
	return s.render(c, "bank", page{Title: s.i18n.T(lang, "bank.title"), Data: v})
}

// noticeKey keeps a notice named in a query string to the few that exist.
func noticeKey(n string) string {
	switch n {
	case "tag", "move", "retire", "reactivate", "none_selected", "tags_empty", "action_unknown":
		return n
	}
	return "unknown"
}

func (s *Server) bankBulkSubmit(c *fiber.Ctx) error {
	v, err := s.bankView(c, "write")
	if err != nil {
		return err
	}
	back := c.FormValue("back")
	if back != v.Base && !strings.HasPrefix(back, v.Base+"?") {
		back = v.Base
	}
	sep := "?"
	if strings.Contains(back, "?") {
		sep = "&"
	}
	b := bulkBody{Action: c.FormValue("action"), Category: c.FormValue("category")}
	for _, raw := range c.Request().PostArgs().PeekMulti("ids") {
		if id, err := strconv.ParseInt(string(raw), 10, 64); err == nil && id > 0 {
			b.IDs = append(b.IDs, id)
		}
	}
	for _, t := range strings.FieldsFunc(c.FormValue("tags"), func(r rune) bool { return strings.ContainsRune(",，、;；", r) }) {
		b.Tags = append(b.Tags, strings.TrimSpace(t))
	}
	n, err := s.bulk(c, v.Org.ID, b)
	if err != nil {
		// Only a field's message goes back to the list (as a bank.bulk.* key the list translates).
		if f, _ := s.failedFormBack(langOf(c), err, "ids", "tags", "action"); f != nil && f.Kind == failure.Invalid && len(f.Fields) > 0 {
			return c.Redirect(back+sep+"error="+url.QueryEscape(strings.TrimPrefix(f.Fields[0].Msg.Key, "bank.bulk.")), fiber.StatusSeeOther)
		}
		return err
	}
	return c.Redirect(back+sep+"notice="+url.QueryEscape(b.Action)+"&n="+strconv.Itoa(n), fiber.StatusSeeOther)
}

func (s *Server) bankEditorPage(c *fiber.Ctx) error {
	v, err := s.bankView(c, "read")
	if err != nil {
		return err
	}
	lang := langOf(c)
	title := s.i18n.T(lang, "bank.editor.new")
	if c.Params("id") != "" {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		st, err := bank.Get(c.UserContext(), s.pool, v.Org.ID, id)
		if err != nil {
			return err
		}
		j := toItemJSON(st)
		for i := range j.Images {
			j.Images[i].Data = "" // the editor keeps images as they are; the API fills the bytes back in
		}
		b, err := json.Marshal(j)
		if err != nil {
			return err
		}
		v.ItemJSON, v.ItemID, v.Item = string(b), id, &j
		title = s.i18n.T(lang, "bank.editor.edit", id)
	} else if !v.CanWrite {
		return failure.New(failure.Forbidden, "error.forbidden")
	}
	return s.render(c, "bank_item", page{Title: title, Data: v})
}

func (s *Server) bankImportPage(c *fiber.Ctx) error {
	v, err := s.bankView(c, "write")
	if err != nil {
		return err
	}
	// The request body limit may be below the importers' own limit; the smaller one is what counts.
	v.MaxMB = min(s.cfg.BodyLimit, bank.MaxFileSize) >> 20
	return s.render(c, "bank_import", page{Title: s.i18n.T(langOf(c), "bank.import.title"), Data: v})
}
