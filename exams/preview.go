package exams

import (
	"context"
	"math/rand/v2"

	"shanyu/exams/bank"
)

// PreviewSection is one section of a sample paper, every question with its full content and key.
type PreviewSection struct {
	Section   Section           `json:"section"`
	Questions []PreviewQuestion `json:"questions"`
	Missing   int               `json:"missing"` // questions the bank could not supply
}

// PreviewQuestion is a question of a sample paper, as the bank holds it (key included).
type PreviewQuestion struct {
	ItemID int64     `json:"item_id"`
	Item   bank.Item `json:"item"`
}

// PreviewBlueprint draws a sample paper of a blueprint against the bank as it is now, with the same
// draw a session's papers get (buildPaper over the resolved pool), so the preview never drifts from
// what candidates receive. A section the bank cannot fill shows what it has and how many are missing.
// It is for centre staff: the questions carry their keys.
func (s *Service) PreviewBlueprint(ctx context.Context, b Blueprint) ([]PreviewSection, error) {
	pool, _, err := resolve(ctx, s.db, b.CentreID, b.Sections)
	if err != nil {
		return nil, err
	}
	out := make([]PreviewSection, len(b.Sections))
	for i, sec := range b.Sections {
		out[i] = PreviewSection{Section: sec, Questions: []PreviewQuestion{}}
	}
	drawable := make([]PoolSection, len(pool))
	for i, ps := range pool {
		if ps.Count > len(ps.Versions) {
			out[ps.Section].Missing = ps.Count - len(ps.Versions)
			ps.Count = len(ps.Versions)
		}
		drawable[i] = ps
	}
	var loadErr error
	items := map[int64]bank.Item{}
	load := func(versionID int64) bank.Item {
		if it, ok := items[versionID]; ok {
			return it
		}
		it, err := s.version(ctx, s.db, versionID)
		if err != nil && loadErr == nil {
			loadErr = err
		}
		items[versionID] = it
		return it
	}
	seed := rand.Int64()
	paper := buildPaper(b.Mode, seed, seed, drawable, func(v int64) int { return optionCount(load(v)) })
	if loadErr != nil {
		return nil, loadErr
	}
	for _, p := range paper {
		out[p.Section].Questions = append(out[p.Section].Questions, PreviewQuestion{ItemID: p.ItemID, Item: items[p.VersionID]})
	}
	return out, nil
}
