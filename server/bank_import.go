package server

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"shanyu/exams/bank"
	"shanyu/internal/failure"
)

// An import is two requests: a preview, which answers a token, and a commit, which sends the same file
// again with that token. The token is an HMAC over the centre, the user, the format and the file's
// digest, so the commit imports exactly the bytes that were previewed, and nothing is kept between the
// two requests: any replica can take the commit.
const importTokenTTL = time.Hour

// previewPage is how many rows of each list a preview shows.
const previewPage = 100

var importPreviewSchema = object(nil, map[string]any{
	"format": str, "questions": integer, "token": str, "page_size": integer, "create_count": integer, "skipped_count": integer,
	"create":  map[string]any{"type": "array", "items": object(nil, map[string]any{"line": integer, "element": str, "type": str, "text": str, "category": str})},
	"skipped": map[string]any{"type": "array", "items": object(nil, map[string]any{"line": integer, "element": str, "type": str, "reason": str, "message": str, "detail": str, "existing_item": integer})},
})

// importToken signs what a preview saw; expires is a Unix time.
func (s *Server) importToken(centreID, userID int64, f bank.Format, digest []byte, expires int64) string {
	mac := hmac.New(sha256.New, s.cfg.SecretKey)
	fmt.Fprintf(mac, "bank-import\x00%d\x00%d\x00%s\x00%d\x00", centreID, userID, f, expires)
	mac.Write(digest)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(expires))
	return base64.RawURLEncoding.EncodeToString(append(b[:], mac.Sum(nil)...))
}

func (s *Server) checkImportToken(token string, centreID, userID int64, f bank.Format, digest []byte) error {
	bad := failure.Field("token", "bank.import.token_invalid")
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 8+sha256.Size {
		return bad
	}
	expires := int64(binary.BigEndian.Uint64(raw[:8]))
	if time.Now().Unix() > expires {
		return bad
	}
	if !hmac.Equal([]byte(s.importToken(centreID, userID, f, digest, expires)), []byte(token)) {
		return bad
	}
	return nil
}

// upload reads the format and the file of an import request. The file's content decides the format
// (bank.DetectFormat): a GIFT file sent with the format left on Excel is read as GIFT; the format
// field is then only checked when given. A missing file is a validation error naming the field.
func upload(c *fiber.Ctx) (bank.Format, []byte, error) {
	if v := c.FormValue("format"); v != "" {
		if _, err := bank.ParseFormat(v); err != nil {
			return "", nil, failure.Field("format", "bank.import.format_unknown")
		}
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return "", nil, failure.Field("file", "bank.import.no_file")
	}
	if fh.Size > bank.MaxFileSize {
		return "", nil, bank.ErrFileTooLarge
	}
	r, err := fh.Open()
	if err != nil {
		return "", nil, fmt.Errorf("open upload: %w", err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, bank.MaxFileSize+1))
	if err != nil {
		return "", nil, fmt.Errorf("read upload: %w", err)
	}
	if len(data) > bank.MaxFileSize {
		return "", nil, bank.ErrFileTooLarge
	}
	return bank.DetectFormat(data), data, nil
}

type previewCreate struct {
	Line     int       `json:"line,omitempty"`
	Element  string    `json:"element,omitempty"`
	Type     bank.Type `json:"type"`
	TypeName string    `json:"type_name"`
	Text     string    `json:"text"`
	Category string    `json:"category"`
}

type skipJSON struct {
	bank.Skip
	Message string `json:"message"`
}

func (s *Server) skipsJSON(c *fiber.Ctx, skips []bank.Skip) []skipJSON {
	out := make([]skipJSON, len(skips))
	for i, k := range skips {
		out[i] = skipJSON{Skip: k, Message: s.i18n.T(langOf(c), k.Reason, k.Args...)}
	}
	return out
}

// previewText is the start of a question as plain text, for the preview table.
func previewText(it bank.Item) string {
	t := it.Stem
	if it.Type == bank.Cloze {
		t = bank.ClozeText(it) // the gaps as written, not their markers
	}
	if it.Format == bank.HTML {
		t = bank.PlainText(t)
	}
	if it.Title != "" {
		t = it.Title + " · " + t
	}
	t = strings.Join(strings.Fields(t), " ")
	if r := []rune(t); len(r) > 120 {
		t = string(r[:120]) + "…"
	}
	return t
}

func (s *Server) apiBankImportPreview(c *fiber.Ctx) error {
	o, err := s.bankCentre(c, "write")
	if err != nil {
		return err
	}
	f, data, err := upload(c)
	if err != nil {
		return err
	}
	res, err := bank.Parse(f, bytes.NewReader(data))
	if err != nil {
		return err
	}
	plan, err := bank.Preview(c.UserContext(), s.pool, o.ID, res)
	if err != nil {
		return err
	}
	// A preview answers with the counts, and the first page of what it would create and skip: a
	// file of twenty thousand questions must not become a response of twenty thousand rows.
	lang := langOf(c)
	create := make([]previewCreate, min(len(plan.Create), previewPage))
	for i, e := range plan.Create[:len(create)] {
		create[i] = previewCreate{Line: e.At.Line, Element: e.At.Element, Type: e.Item.Type, TypeName: s.i18n.T(lang, "bank.type."+string(e.Item.Type)),
			Text: previewText(e.Item), Category: strings.Join(e.Item.Category, "/")}
	}
	digest := sha256.Sum256(data)
	token := s.importToken(o.ID, principalOf(c).User.ID, f, digest[:], time.Now().Add(importTokenTTL).Unix())
	return c.JSON(fiber.Map{"format": f, "questions": plan.Questions, "token": token, "page_size": previewPage,
		"create": create, "create_count": len(plan.Create),
		"skipped": s.skipsJSON(c, plan.Skipped[:min(len(plan.Skipped), previewPage)]), "skipped_count": len(plan.Skipped)})
}

func (s *Server) apiBankImportCommit(c *fiber.Ctx) error {
	o, err := s.bankCentre(c, "write")
	if err != nil {
		return err
	}
	f, data, err := upload(c)
	if err != nil {
		return err
	}
	digest := sha256.Sum256(data)
	if err := s.checkImportToken(c.FormValue("token"), o.ID, principalOf(c).User.ID, f, digest[:]); err != nil {
		return err
	}
	res, err := bank.Parse(f, bytes.NewReader(data))
	if err != nil {
		return err
	}
	var rep *bank.Report
	err = s.domains.Exams.ChangeBank(c.UserContext(), o.ID, func(tx pgx.Tx) (err error) {
		rep, err = bank.Commit(c.UserContext(), tx, o.ID, res)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"format": rep.Format, "questions": rep.Questions, "created": rep.Created,
		"categories_created": rep.Categories, "skipped": s.skipsJSON(c, rep.Skipped), "item_ids": rep.ItemIDs})
}

func (s *Server) apiBankExport(c *fiber.Ctx) error {
	o, err := s.bankCentre(c, "read")
	if err != nil {
		return err
	}
	f, err := bank.ParseFormat(c.Query("format"))
	if err != nil {
		return failure.Field("format", "bank.export.format_unknown")
	}
	filter := bankFilter(c)
	if c.Query("status") == "" {
		filter.Status = bank.Active
	}
	items, err := bank.Items(c.UserContext(), s.pool, o.ID, filter)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	name := strings.ToLower(o.Code) + "-bank"
	switch f {
	case bank.MoodleXML:
		err = bank.WriteMoodleXML(&buf, items)
		name += ".xml"
		c.Set(fiber.HeaderContentType, "application/xml; charset=utf-8")
	case bank.GIFT:
		// What GIFT cannot hold is left out; the count travels in a header for the page to say.
		var skipped []bank.Skip
		skipped, err = bank.WriteGIFT(&buf, items)
		name += ".gift"
		c.Set(fiber.HeaderContentType, "text/plain; charset=utf-8")
		c.Set("X-Shanyu-Skipped", strconv.Itoa(len(skipped)))
	case bank.QTI:
		var skipped []bank.Skip
		skipped, err = bank.WriteQTI(&buf, items)
		name += "-qti.zip"
		c.Set(fiber.HeaderContentType, "application/zip")
		c.Set("X-Shanyu-Skipped", strconv.Itoa(len(skipped)))
	default:
		err = bank.WriteXLSX(&buf, items)
		name += ".xlsx"
		c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	return c.Send(buf.Bytes())
}

func (s *Server) apiBankTemplate(c *fiber.Ctx) error {
	var buf bytes.Buffer
	if err := bank.WriteXLSXTemplate(&buf); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="shanyu-bank-template.xlsx"`)
	return c.Send(buf.Bytes())
}
