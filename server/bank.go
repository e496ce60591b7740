package server

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"shanyu/accounts"
	"shanyu/exams/bank"
	"shanyu/internal/failure"
)

// routesBank registers the bank pages and JSON endpoints. Every handler works on the bank of the
// training centre named in the path, and checks the caller's permission in that centre (and its
// region), because a trainer of one centre must never touch another's questions.
func (s *Server) routesBank() {
	const base = "/api/v1/centres/:code/bank"
	read, write := can("bank.items", "read"), can("bank.items", "write")
	filters := []string{"q", "category", "tag", "type", "difficulty", "status", "limit", "offset"}
	s.api(apiRoute{Method: "GET", Path: base + "/items", Scope: byOrg("code"), Summary: "Search a centre's question bank", Tag: "bank", Perm: read,
		Query: filters, Response: itemsOf[summaryJSON](paging)}, s.apiBankList)
	s.api(apiRoute{Method: "GET", Path: base + "/categories", Scope: byOrg("code"), Summary: "A centre's category tree", Tag: "bank", Perm: read, Response: itemsOf[categoryJSON](nil)}, s.apiBankCategories)
	s.api(apiRoute{Method: "GET", Path: base + "/items/:id", Scope: byOrg("code"), Summary: "One question, current version", Tag: "bank", Perm: read,
		Response: itemSchema}, s.apiBankGet)
	s.api(apiRoute{Method: "POST", Path: base + "/items", Scope: byOrg("code"), Summary: "Write a new question", Tag: "bank", Perm: write,
		Request: itemSchema, Response: itemSchema}, s.apiBankCreate)
	s.api(apiRoute{Method: "PUT", Path: base + "/items/:id", Scope: byOrg("code"), Summary: "Edit a question (a delivered version is kept; the edit becomes a new version)", Tag: "bank", Perm: write,
		Request: itemSchema, Response: itemSchema}, s.apiBankUpdate)
	s.api(apiRoute{Method: "POST", Path: base + "/bulk", Scope: byOrg("code"), Summary: "Tag, move, retire or reactivate several questions", Tag: "bank", Perm: write,
		Request: object([]string{"action", "ids"}, map[string]any{"action": map[string]any{"type": "string", "enum": bulkActions},
			"ids": map[string]any{"type": "array", "items": integer}, "tags": map[string]any{"type": "array", "items": str}, "category": str}),
		Response: props(map[string]any{"affected": integer})}, s.apiBankBulk)
	s.api(apiRoute{Method: "POST", Path: base + "/import/preview", Scope: byOrg("code"), Summary: "Upload a file (multipart: format gift|moodlexml|xlsx|qti, file); answers what an import would create and skip, and a token", Tag: "bank", Perm: write,
		Response: importPreviewSchema}, s.apiBankImportPreview)
	s.api(apiRoute{Method: "POST", Path: base + "/import/commit", Scope: byOrg("code"), Summary: "Import the previewed file (multipart: format, file, token) in one transaction; re-importing creates nothing new", Tag: "bank", Perm: write,
		Response: object(nil, map[string]any{"questions": integer, "created": integer, "skipped": map[string]any{"type": "array"}})}, s.apiBankImportCommit)
	s.api(apiRoute{Method: "GET", Path: base + "/export", Scope: byOrg("code"), Summary: "Download the bank as Moodle XML or Excel (format=moodlexml|xlsx|gift|qti; same filters as the list)", Tag: "bank", Perm: read,
		Query: append([]string{"format"}, filters[:6]...), Produces: "application/octet-stream"}, s.apiBankExport)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/bank/template.xlsx", Scope: scopeHeld, Summary: "The Excel import template", Tag: "bank", Perm: read, Produces: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}, s.apiBankTemplate)

	s.page("GET", "/centres/:code/bank", read, byOrg("code"), s.bankPage)
	s.page("POST", "/centres/:code/bank/bulk", write, byOrg("code"), s.bankBulkSubmit)
	s.page("GET", "/centres/:code/bank/items/new", write, byOrg("code"), s.bankEditorPage)
	s.page("GET", "/centres/:code/bank/items/:id", read, byOrg("code"), s.bankEditorPage)
	s.page("GET", "/centres/:code/bank/import", write, byOrg("code"), s.bankImportPage)
	s.routesBankCloze()
}

var integer = map[string]any{"type": "integer"}

var itemSchema = object([]string{"type", "stem"}, map[string]any{
	"id": integer, "version": integer, "status": str, "delivered": map[string]any{"type": "boolean"},
	"type": map[string]any{"type": "string", "enum": bank.Types}, "title": str, "stem": str, "format": str,
	"points": map[string]any{"type": "number"}, "explanation": str, "scoring": str, "truth": map[string]any{"type": "boolean"},
	"choices": map[string]any{"type": "array"}, "blanks": map[string]any{"type": "array"}, "numbers": map[string]any{"type": "array"},
	"pairs": map[string]any{"type": "array"}, "sequence": map[string]any{"type": "array", "items": str}, "gaps": map[string]any{"type": "array"}, "cloze_text": str, "rubric": map[string]any{"type": "array"}, "images": map[string]any{"type": "array"},
	"category": str, "tags": map[string]any{"type": "array", "items": str}, "difficulty": integer, "occupation": str, "level": integer,
})

// bankCentre loads the training centre of the path and checks act on its bank there.
func (s *Server) bankCentre(c *fiber.Ctx, act string) (accounts.Organisation, error) {
	o, err := s.accounts.OrganisationByCode(c.UserContext(), c.Params("code"))
	if err != nil {
		return o, err
	}
	if err := s.allowedIn(c, "bank.items", act, o.Domains()...); err != nil {
		return o, err
	}
	if o.Kind != accounts.KindTrainingCentre {
		return o, failure.New(failure.NotFound, "bank.centre_not_found")
	}
	return o, nil
}

// bankFilter reads the list filters from the query string.
func bankFilter(c *fiber.Ctx) bank.Filter {
	f := bank.Filter{Text: c.Query("q"), Tag: strings.TrimSpace(c.Query("tag")), Type: bank.Type(c.Query("type")),
		Status: bank.Status(c.Query("status"))}
	f.CategoryID, _ = strconv.ParseInt(c.Query("category"), 10, 64)
	f.Difficulty, _ = strconv.Atoi(c.Query("difficulty"))
	if !f.Type.Valid() {
		f.Type = ""
	}
	if f.Status != bank.Active && f.Status != bank.Retired {
		f.Status = ""
	}
	f.Limit, f.Offset = pageParams(c)
	return f
}

type summaryJSON struct {
	ID         int64     `json:"id"`
	Version    int       `json:"version"`
	Type       bank.Type `json:"type"`
	Text       string    `json:"text"`
	Category   string    `json:"category"`
	Tags       []string  `json:"tags"`
	Difficulty int       `json:"difficulty"`
	Status     string    `json:"status"`
	Delivered  bool      `json:"delivered"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func toSummaryJSON(x bank.Summary) summaryJSON {
	return summaryJSON{ID: x.ID, Version: x.Version, Type: x.Type, Text: x.Text, Category: strings.Join(x.Category, "/"),
		Tags: nonNil(x.Tags), Difficulty: x.Difficulty, Status: string(x.Status), Delivered: x.Delivered, UpdatedAt: x.UpdatedAt}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) apiBankList(c *fiber.Ctx) error {
	o, err := s.bankCentre(c, "read")
	if err != nil {
		return err
	}
	f := bankFilter(c)
	pg, err := bank.List(c.UserContext(), s.pool, o.ID, f)
	if err != nil {
		return err
	}
	items := make([]summaryJSON, len(pg.Items))
	for i, x := range pg.Items {
		items[i] = toSummaryJSON(x)
	}
	return c.JSON(fiber.Map{"items": items, "total": pg.Total, "limit": f.Limit, "offset": f.Offset})
}

type categoryJSON struct {
	ID       int64  `json:"id"`
	ParentID int64  `json:"parent_id,omitempty"`
	Name     string `json:"name"`
	Path     string `json:"path"`
	Depth    int    `json:"depth"`
	Items    int    `json:"items"`
}

func (s *Server) bankCategories(c *fiber.Ctx, centreID int64) ([]categoryJSON, error) {
	cats, err := bank.Categories(c.UserContext(), s.pool, centreID)
	if err != nil {
		return nil, err
	}
	out := make([]categoryJSON, len(cats))
	for i, x := range cats {
		out[i] = categoryJSON{ID: x.ID, ParentID: x.ParentID, Name: x.Name, Path: strings.Join(x.Path, "/"), Depth: len(x.Path) - 1, Items: x.Items}
	}
	return out, nil
}

func (s *Server) apiBankCategories(c *fiber.Ctx) error {
	o, err := s.bankCentre(c, "read")
	if err != nil {
		return err
	}
	cats, err := s.bankCategories(c, o.ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": cats})
}

// imageJSON carries an image's bytes as base64; on an edit, an image sent without data keeps the
// bytes the stored version has under the same name.
type imageJSON struct {
	Name      string `json:"name"`
	MediaType string `json:"media_type"`
	Data      string `json:"data,omitempty"`
}

// itemJSON is an item with its filing and, when read back, its place in the bank.
type itemJSON struct {
	bank.Item
	Images     []imageJSON `json:"images,omitempty"`
	Category   string      `json:"category"`
	Tags       []string    `json:"tags"`
	Difficulty int         `json:"difficulty"`
	Occupation string      `json:"occupation"`
	Level      int         `json:"level"`
	// ClozeText is a cloze item's stem with its gaps written in Moodle's syntax, as the editor shows
	// and takes it; when sent, it replaces stem and gaps.
	ClozeText string `json:"cloze_text,omitempty"`

	ID        int64  `json:"id,omitempty"`
	Version   int    `json:"version,omitempty"`
	Status    string `json:"status,omitempty"`
	Delivered bool   `json:"delivered"`
}

func toItemJSON(st bank.Stored) itemJSON {
	j := itemJSON{Item: st.Item, Category: strings.Join(st.Item.Category, "/"), Tags: nonNil(st.Item.Tags),
		Difficulty: st.Item.Difficulty, Occupation: st.Item.Occupation, Level: st.Item.Level,
		ID: st.ID, Version: st.Version, Status: string(st.Status), Delivered: st.Delivered}
	if st.Item.Type == bank.Cloze {
		j.ClozeText = bank.ClozeText(st.Item)
	}
	for _, im := range st.Item.Images {
		j.Images = append(j.Images, imageJSON{Name: im.Name, MediaType: im.MediaType, Data: base64.StdEncoding.EncodeToString(im.Data)})
	}
	return j
}

// item turns a request body into a bank item; old supplies image bytes the body leaves out.
func (j itemJSON) item(old []bank.Image) (bank.Item, error) {
	it := j.Item
	it.Category = splitCategory(j.Category)
	it.Tags, it.Difficulty, it.Occupation, it.Level = j.Tags, j.Difficulty, strings.TrimSpace(j.Occupation), j.Level
	if it.Format == "" {
		it.Format = bank.Plain
	}
	if it.Type == bank.Cloze && j.ClozeText != "" {
		if len(j.ClozeText) > bank.MaxTextBytes {
			return it, failure.Field("stem", "bank.item.text_too_long")
		}
		stem, gaps, err := bank.ParseCloze(j.ClozeText)
		var ce *bank.ClozeError
		if errors.As(err, &ce) {
			return it, failure.Field("stem", ce.Key)
		} else if err != nil {
			return it, err
		}
		it.Stem, it.Gaps = stem, gaps
	}
	if it.Format == bank.HTML {
		it.Stem, it.Explanation = bank.SanitizeHTML(it.Stem), bank.SanitizeHTML(it.Explanation)
	}
	if it.Type == bank.MultipleChoice && it.Scoring == "" {
		it.Scoring = bank.AllOrNothing
	}
	it.Images = nil
	for _, im := range j.Images {
		img := bank.Image{Name: im.Name, MediaType: im.MediaType}
		if im.Data == "" {
			for _, o := range old {
				if o.Name == im.Name {
					img.Data = o.Data
				}
			}
		} else {
			data, err := base64.StdEncoding.DecodeString(im.Data)
			if err != nil {
				return it, failure.Field("images", "bank.item.image_type")
			}
			img.Data = data
		}
		it.Images = append(it.Images, img)
	}
	return it, nil
}

// splitCategory reads a category path typed as a/b/c (full-width slashes too).
func splitCategory(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '／' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (s *Server) apiBankGet(c *fiber.Ctx) error {
	o, err := s.bankCentre(c, "read")
	if err != nil {
		return err
	}
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	st, err := bank.Get(c.UserContext(), s.pool, o.ID, id)
	if err != nil {
		return err
	}
	return c.JSON(toItemJSON(st))
}

func (s *Server) apiBankCreate(c *fiber.Ctx) error {
	o, err := s.bankCentre(c, "write")
	if err != nil {
		return err
	}
	var body itemJSON
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	it, err := body.item(nil)
	if err != nil {
		return err
	}
	var st bank.Stored
	err = s.domains.Exams.ChangeBank(c.UserContext(), o.ID, func(tx pgx.Tx) (err error) {
		st, err = bank.Create(c.UserContext(), tx, o.ID, it)
		return err
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toItemJSON(st))
}

func (s *Server) apiBankUpdate(c *fiber.Ctx) error {
	o, err := s.bankCentre(c, "write")
	if err != nil {
		return err
	}
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	old, err := bank.Get(c.UserContext(), s.pool, o.ID, id)
	if err != nil {
		return err
	}
	var body itemJSON
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	it, err := body.item(old.Item.Images)
	if err != nil {
		return err
	}
	var st bank.Stored
	err = s.domains.Exams.ChangeBank(c.UserContext(), o.ID, func(tx pgx.Tx) (err error) {
		st, err = bank.Update(c.UserContext(), tx, principalOf(c).User.ID, o.ID, id, it)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(toItemJSON(st))
}

var bulkActions = []string{"tag", "move", "retire", "reactivate"}

type bulkBody struct {
	Action   string   `json:"action"`
	IDs      []int64  `json:"ids"`
	Tags     []string `json:"tags"`
	Category string   `json:"category"`
}

// bulk applies one action to several items of a centre's bank and returns how many it touched.
func (s *Server) bulk(c *fiber.Ctx, centreID int64, b bulkBody) (int, error) {
	if len(b.IDs) == 0 {
		return 0, failure.Field("ids", "bank.bulk.none_selected")
	}
	ctx := c.UserContext()
	var change func(tx pgx.Tx) (int, error)
	switch b.Action {
	case "tag":
		if len(b.Tags) == 0 {
			return 0, failure.Field("tags", "bank.bulk.tags_empty")
		}
		change = func(tx pgx.Tx) (int, error) { return bank.Tag(ctx, tx, centreID, b.IDs, b.Tags) }
	case "move":
		change = func(tx pgx.Tx) (int, error) { return bank.Move(ctx, tx, centreID, b.IDs, splitCategory(b.Category)) }
	case "retire":
		change = func(tx pgx.Tx) (int, error) { return bank.Retire(ctx, tx, principalOf(c).User.ID, centreID, b.IDs) }
	case "reactivate":
		change = func(tx pgx.Tx) (int, error) { return bank.Reactivate(ctx, tx, principalOf(c).User.ID, centreID, b.IDs) }
	default:
		return 0, failure.Field("action", "bank.bulk.action_unknown")
	}
	// Through the exams domain: the pools of the centre's sessions follow the bank in the same transaction.
	var n int
	err := s.domains.Exams.ChangeBank(ctx, centreID, func(tx pgx.Tx) (err error) {
		n, err = change(tx)
		return err
	})
	return n, err
}

func (s *Server) apiBankBulk(c *fiber.Ctx) error {
	o, err := s.bankCentre(c, "write")
	if err != nil {
		return err
	}
	var b bulkBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	n, err := s.bulk(c, o.ID, b)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"affected": n})
}
