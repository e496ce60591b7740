package server

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"shanyu/exams/bank"
	"shanyu/internal/failure"
)

// The bank editor's preview of a cloze item: the text in Moodle's syntax is read by the server (the
// one parser that imports and grades), and the page draws the gaps with the exam's own player, as
// the candidate sees them, with the key listed gap by gap.

type clozePreviewJSON struct {
	Stem   string            `json:"stem"`
	Format string            `json:"format"`
	Gaps   []clozeGapPreview `json:"gaps"`
}

// clozeGapPreview is a gap as the paper shows it (kind, display, choices in their order: a preview
// does not shuffle) with its key and weight for the author.
type clozeGapPreview struct {
	Kind    string   `json:"kind"`
	Display string   `json:"display,omitempty"`
	Options []string `json:"options,omitempty"`
	Key     string   `json:"key"`
	Weight  float64  `json:"weight"`
}

var clozePreviewSchema = object([]string{"stem", "format", "gaps"}, map[string]any{"stem": str, "format": str, "gaps": map[string]any{"type": "array"}})

func (s *Server) routesBankCloze() {
	s.api(apiRoute{Method: "POST", Path: "/api/v1/centres/:code/bank/cloze-preview", Scope: byOrg("code"),
		Summary: "Read a cloze text in Moodle's syntax as the candidate will see it, with each gap's key (nothing is saved)", Tag: "bank",
		Perm: can("bank.items", "read"), Request: object([]string{"cloze_text"}, map[string]any{"cloze_text": str, "format": str}),
		Response: clozePreviewSchema}, s.apiBankClozePreview)
}

func (s *Server) apiBankClozePreview(c *fiber.Ctx) error {
	if _, err := s.bankCentre(c, "read"); err != nil {
		return err
	}
	var body struct {
		ClozeText string `json:"cloze_text"`
		Format    string `json:"format"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	if len(body.ClozeText) > bank.MaxTextBytes {
		return failure.Field("stem", "bank.item.text_too_long")
	}
	stem, gaps, err := bank.ParseCloze(body.ClozeText)
	var ce *bank.ClozeError
	if errors.As(err, &ce) {
		return failure.Field("stem", ce.Key)
	} else if err != nil {
		return err
	}
	it := bank.Item{Type: bank.Cloze, Stem: stem, Format: bank.Plain, Points: 1, Gaps: gaps}
	if body.Format == string(bank.HTML) {
		it.Format, it.Stem = bank.HTML, bank.SanitizeHTML(stem)
	}
	if p := it.Check(); len(p) > 0 {
		return failure.Field("stem", p[0])
	}
	out := clozePreviewJSON{Stem: it.Stem, Format: string(it.Format), Gaps: []clozeGapPreview{}}
	for _, g := range gaps {
		gp := clozeGapPreview{Kind: string(g.Kind), Display: g.Display, Key: bank.GapKey(g), Weight: g.Weight}
		if g.Kind == bank.GapChoice || g.Kind == bank.GapMulti {
			for _, o := range g.Options {
				gp.Options = append(gp.Options, o.Text)
			}
		}
		out.Gaps = append(out.Gaps, gp)
	}
	return c.JSON(out)
}
