package server

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

// Translations live in locales/<lang>/<area>.json as flat {"key": "text"} objects; one file per area
// (home, accounts, exams…) so that work on different areas never edits the same file. A text may hold
// fmt verbs (%d, %s) filled from the message's arguments.
//
//go:embed locales
var localeFiles embed.FS

type catalog struct {
	texts map[string]map[string]string // lang → key → text
}

func loadCatalog() (*catalog, error) { return loadCatalogFS(localeFiles) }

func loadCatalogFS(fsys fs.FS) (*catalog, error) {
	c := &catalog{texts: map[string]map[string]string{}}
	for _, lang := range languages {
		c.texts[lang] = map[string]string{}
		dir := path.Join("locales", lang)
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".json") {
				continue
			}
			b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
			if err != nil {
				return nil, err
			}
			m, err := decodeTexts(b)
			if err != nil {
				return nil, fmt.Errorf("%s/%s: %w", dir, e.Name(), err)
			}
			for k, v := range m {
				if _, dup := c.texts[lang][k]; dup {
					return nil, fmt.Errorf("%s/%s: key %q is defined twice", dir, e.Name(), k)
				}
				c.texts[lang][k] = v
			}
		}
	}
	return c, nil
}

// T translates key into lang, falling back to the default language, then to the key itself (which a
// test makes sure never happens for keys the code and templates use).
func (c *catalog) T(lang, key string, args ...any) string {
	text, ok := c.texts[lang][key]
	if !ok && len(args) > 0 {
		// A plural message (key|one, key|other …) counts its first argument.
		if _, plural := c.texts[languages[0]][key+pluralSep+"other"]; plural {
			if n, isNumber := number(args[0]); isNumber {
				return c.N(lang, key, n, args[1:]...)
			}
		}
	}
	if !ok {
		if text, ok = c.texts[languages[0]][key]; !ok {
			return key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(text, args...)
	}
	return text
}

// Messages about a number of things have one text per CLDR plural category of the language:
// key|one, key|other (English "1 hour" / "2 hours", "1.5 hours"); Chinese has no plural, so only
// key|other. The number is formatted by Number and given to the text as its first argument (%s).

// pluralSep joins a plural message's key and its category: "curriculum.hours_n|one".
const pluralSep = "|"

// pluralForms names the CLDR categories as key suffixes.
var pluralForms = map[plural.Form]string{plural.Zero: "zero", plural.One: "one", plural.Two: "two", plural.Few: "few", plural.Many: "many", plural.Other: "other"}

// Number formats n for people: at most two decimals, trailing zeros dropped (2.5, 6, 0.25).
func Number(n float64) string {
	return strconv.FormatFloat(roundTo(n, 2), 'f', -1, 64)
}

func roundTo(n float64, decimals int) float64 {
	p := 1.0
	for range decimals {
		p *= 10
	}
	if n < 0 {
		return -float64(int64(-n*p+0.5)) / p
	}
	return float64(int64(n*p+0.5)) / p
}

// number reads a count given to a message: any integer or float, or a number already written out.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case float32:
		return float64(x), true
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// pluralCategory is the CLDR cardinal category of the number as written (Number's text), in lang.
func pluralCategory(lang, written string) string {
	tag, err := language.Parse(lang)
	if err != nil {
		tag = language.Chinese
	}
	written = strings.TrimPrefix(written, "-")
	intPart, frac, _ := strings.Cut(written, ".")
	i, _ := strconv.Atoi(intPart)
	v := len(frac)
	t := strings.TrimRight(frac, "0")
	f, _ := strconv.Atoi("0" + frac)
	tv, _ := strconv.Atoi("0" + t)
	return pluralForms[plural.Cardinal.MatchPlural(tag, i, v, len(t), f, tv)]
}

// N translates a message about n things in lang, choosing key|<category> by the language's plural
// rules (falling back to key|other); n, formatted by Number, is the first argument, args follow.
func (c *catalog) N(lang, key string, n float64, args ...any) string {
	written := Number(n)
	all := append([]any{written}, args...)
	for i, a := range all {
		switch x := a.(type) { // other quantities in the message read like the count (2.5, not 2.500000)
		case float64:
			all[i] = Number(x)
		case float32:
			all[i] = Number(float64(x))
		}
	}
	for _, k := range []string{key + pluralSep + pluralCategory(lang, written), key + pluralSep + "other"} {
		if _, ok := c.texts[lang][k]; ok {
			return c.T(lang, k, all...)
		}
	}
	return c.T(languages[0], key+pluralSep+"other", all...)
}

// Forms returns a plural message's texts in lang by CLDR category, for scripts that count on the
// page (with Intl.PluralRules, the same CLDR rules); the number goes where the text has %s.
func (c *catalog) Forms(lang, key string) map[string]string {
	out := map[string]string{}
	for _, f := range pluralForms {
		if text, ok := c.texts[lang][key+pluralSep+f]; ok {
			out[f] = text
		}
	}
	if len(out) == 0 {
		if text, ok := c.texts[languages[0]][key+pluralSep+"other"]; ok {
			out["other"] = text
		}
	}
	return out
}

// Has reports whether every language defines key (for a plural message, key|other).
func (c *catalog) Has(key string) bool {
	for _, lang := range languages {
		_, ok := c.texts[lang][key]
		_, plural := c.texts[lang][key+pluralSep+"other"]
		if !ok && !plural {
			return false
		}
	}
	return true
}

// pluralBase is the message a plural category key belongs to ("x.hours" of "x.hours|one").
func pluralBase(key string) (string, bool) {
	base, form, ok := strings.Cut(key, pluralSep)
	return base, ok && form != "other"
}

// missing lists keys defined in one language but not in another, as "lang: key".
func (c *catalog) missing() []string {
	all := map[string]bool{}
	for _, lang := range languages {
		for k := range c.texts[lang] {
			all[k] = true
		}
	}
	var out []string
	for k := range all {
		for _, lang := range languages {
			if _, ok := c.texts[lang][k]; ok {
				continue
			}
			// A category the other language needs ("one" in English) is not missing from a
			// language that has no such form (Chinese) as long as it defines the message's other.
			if base, ok := pluralBase(k); ok {
				if _, ok := c.texts[lang][base+pluralSep+"other"]; ok {
					continue
				}
			}
			out = append(out, lang+": "+k)
		}
	}
	sort.Strings(out)
	return out
}

// decodeTexts reads a flat JSON object of strings, refusing a key given twice: encoding/json keeps
// the last silently, so a merge that repeats a key would change a text without a word.
func decodeTexts(b []byte) (map[string]string, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	m := map[string]string{}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil, err
		}
		k, _ := t.(string)
		var v string
		if err := d.Decode(&v); err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("key %q is defined twice", k)
		}
		m[k] = v
	}
	return m, nil
}
