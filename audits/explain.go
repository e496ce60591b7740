package audits

import (
	"fmt"
	"strconv"
	"strings"
)

// Words for explaining a decision from its rule, in one language. The caller (the server, from its
// locales) supplies them. Formats take the verbs noted.
type ExplainWords struct {
	Requires    string // %s post, %s requirements: "保育人员须持有%s"
	Holds       string // %s: what met the requirements
	Lacks       string // %s: what is missing
	And, Or     string
	QualAny     string            // %s occupation: a certificate of any level
	QualAtLeast string            // %s occupation, %s level: at that level or above
	QualHeld    string            // %s occupation, %s level: the certificate held
	Tokens      map[string]string // doc:health, doc:no-criminal-record, qual:director-training, …
	Lang        string            // "zh" or "en": which names of the occupation catalogue
	Titles      OccupationTitles  // the occupation catalogue; required
}

// OccupationTitles names an occupation and a level in Chinese and English, or fails for a pair the
// catalogue does not know. The certificates domain owns the catalogue; the server passes its
// certificates.LevelTitles in, so that audits imports no other domain.
type OccupationTitles func(code string, level int) (occupationZH, levelZH, occupationEN, levelEN string, err error)

// tokenWords names a qualification token in words; held says it is a certificate held (a level, not
// "or above").
func (w ExplainWords) tokenWords(tok string, held bool) string {
	parts := strings.Split(tok, ":")
	if len(parts) == 3 && parts[0] == "qual" {
		level, _ := strconv.Atoi(parts[2])
		if occZH, lvZH, occEN, lvEN, err := w.Titles(parts[1], level); err == nil {
			occ, lv := occZH, lvZH
			if w.Lang == "en" {
				occ, lv = occEN, lvEN
			}
			lv = shortLevel(lv)
			switch {
			case held:
				return fmt.Sprintf(w.QualHeld, occ, lv)
			case level >= 5:
				return fmt.Sprintf(w.QualAny, occ)
			default:
				return fmt.Sprintf(w.QualAtLeast, occ, lv)
			}
		}
		if v, ok := w.Tokens["qual:"+parts[1]]; ok {
			return v
		}
	}
	if v, ok := w.Tokens[tok]; ok {
		return v
	}
	return tok
}

// shortLevel keeps a level's first name: "四级/中级工" → "四级", "Level 4 (Intermediate)" → "Level 4".
func shortLevel(s string) string {
	if i := strings.IndexAny(s, "/ ("); i > 0 && !strings.HasPrefix(s, "Level") {
		return s[:i]
	}
	if i := strings.Index(s, " ("); i > 0 {
		return s[:i]
	}
	return s
}

// CertName names a certificate in words ("保育师四级证书").
func (w ExplainWords) CertName(c Cert) string {
	return w.tokenWords(fmt.Sprintf("qual:%s:%d", c.Occupation, c.Level), true)
}

// list joins words as a sentence does: "A、B和C", "A, B and C".
func (w ExplainWords) list(items []string) string {
	if len(items) <= 2 {
		return strings.Join(items, w.And)
	}
	sep := "、"
	if w.Lang == "en" {
		sep = ", "
	}
	return strings.Join(items[:len(items)-1], sep) + w.And + items[len(items)-1]
}

func (w ExplainWords) needWords(n Need) string {
	alts := make([]string, 0, len(n.Accepted))
	for _, t := range n.Accepted {
		alts = append(alts, w.tokenWords(t, false))
	}
	return strings.Join(alts, w.Or)
}

// Sentence explains a decision in words: what the post requires, what the person holds, what is
// missing and why ("保育人员须持有保育师证书（任一等级）和有效健康证明；已持有保育师四级证书；缺少：健康证明").
// postName is the post in this language; reasons names the gap reasons (revoked, expired, …).
func (w ExplainWords) Sentence(postName string, d Decision, reasons map[string]string) string {
	for _, g := range d.Gaps {
		if g.Reason == "barred" || g.Reason == "unknown_post" {
			return postName + ": " + lookup(reasons, g.Reason)
		}
	}
	var req, held, missing []string
	unmet := map[string]Gap{}
	for _, g := range d.Gaps {
		unmet[g.Group] = g
	}
	for _, n := range d.Needs {
		req = append(req, w.needWords(n))
		if n.MetBy != "" {
			held = append(held, w.tokenWords(n.MetBy, true))
			continue
		}
		g, ok := unmet[n.Group]
		if !ok {
			continue
		}
		m := w.needWords(n)
		if g.Reason != "absent" {
			open, shut := "（", "）"
			if w.Lang == "en" {
				open, shut = " (", ")"
			}
			m += open + lookup(reasons, g.Reason)
			if g.Detail != "" && !strings.Contains(g.Detail, ":") {
				m += " " + g.Detail
			}
			m += shut
		}
		missing = append(missing, m)
	}
	out := []string{fmt.Sprintf(w.Requires, postName, w.list(req))}
	if len(held) > 0 {
		out = append(out, fmt.Sprintf(w.Holds, w.list(held)))
	}
	if len(missing) > 0 {
		out = append(out, fmt.Sprintf(w.Lacks, w.list(missing)))
	}
	sep := "；"
	if w.Lang == "en" {
		sep = "; "
	}
	return strings.Join(out, sep)
}
