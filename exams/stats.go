package exams

import (
	"context"
	"sort"
)

// ItemStat describes how one item behaved in a session.
type ItemStat struct {
	ItemID int64  `json:"item_id"`
	Stem   string `json:"stem"`
	Type   string `json:"type"`
	N      int    `json:"n"` // scored answers
	// Difficulty is the mean share of the points earned (the classical p value: higher is easier).
	Difficulty float64 `json:"difficulty"`
	// Discrimination is the p value among the top 27 % of candidates by total score minus that among
	// the bottom 27 %; near 0 or negative flags an item that does not separate strong from weak.
	Discrimination float64 `json:"discrimination"`
}

// ItemStats computes the statistics of every item scored in a session, hardest first.
func (s *Service) ItemStats(ctx context.Context, sessionID int64) ([]ItemStat, error) {
	rows, err := s.db.Query(ctx, `SELECT a.id, a.theory_earned::float8 + a.practical_earned::float8, i.item_id, i.version_id,
		i.earned::float8 / nullif(i.points::float8, 0)
		FROM exam_attempts a JOIN exam_attempt_items i ON i.attempt_id = a.id
		WHERE a.session_id = $1 AND a.status <> 'active' AND i.earned IS NOT NULL`, sessionID)
	if err != nil {
		return nil, err
	}
	type obs struct {
		attempt int64
		share   float64
	}
	totals := map[int64]float64{}
	byItem := map[int64][]obs{}
	version := map[int64]int64{}
	for rows.Next() {
		var attempt, item, v int64
		var total float64
		var share *float64
		if err := rows.Scan(&attempt, &total, &item, &v, &share); err != nil {
			rows.Close()
			return nil, err
		}
		if share == nil {
			continue
		}
		totals[attempt] = total
		byItem[item] = append(byItem[item], obs{attempt, *share})
		version[item] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// rank candidates by total; the top and bottom 27 % form the comparison groups
	ranked := make([]int64, 0, len(totals))
	for a := range totals {
		ranked = append(ranked, a)
	}
	sort.Slice(ranked, func(i, j int) bool {
		if totals[ranked[i]] != totals[ranked[j]] {
			return totals[ranked[i]] > totals[ranked[j]]
		}
		return ranked[i] < ranked[j]
	})
	k := int(float64(len(ranked))*0.27 + 0.5)
	group := map[int64]int{} // 1 upper, -1 lower
	for i, a := range ranked {
		switch {
		case i < k:
			group[a] = 1
		case i >= len(ranked)-k:
			group[a] = -1
		}
	}
	var out []ItemStat
	for item, list := range byItem {
		st := ItemStat{ItemID: item, N: len(list)}
		var sum, up, low float64
		var nu, nl int
		for _, o := range list {
			sum += o.share
			switch group[o.attempt] {
			case 1:
				up += o.share
				nu++
			case -1:
				low += o.share
				nl++
			}
		}
		st.Difficulty = round2(sum / float64(len(list)))
		if nu > 0 && nl > 0 {
			st.Discrimination = round2(up/float64(nu) - low/float64(nl))
		}
		if it, err := s.version(ctx, s.db, version[item]); err == nil {
			st.Stem, st.Type = it.Stem, string(it.Type)
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Difficulty != out[j].Difficulty {
			return out[i].Difficulty < out[j].Difficulty
		}
		return out[i].ItemID < out[j].ItemID
	})
	return out, nil
}
