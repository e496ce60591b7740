package server

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
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

// Has reports whether every language defines key.
func (c *catalog) Has(key string) bool {
	for _, lang := range languages {
		if _, ok := c.texts[lang][key]; !ok {
			return false
		}
	}
	return true
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
			if _, ok := c.texts[lang][k]; !ok {
				out = append(out, lang+": "+k)
			}
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
