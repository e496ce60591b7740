package server

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
	"shanyu/audits"
	"shanyu/internal/clock"
)

// Templates: templates/layout.html and templates/partials/*.html are shared; every other file in
// templates/ is a page that defines "content" (and may define "head"). All are parsed at start-up.
//
//go:embed templates static
var viewFiles embed.FS

type asset struct {
	body        []byte
	contentType string
}

type views struct {
	pages  map[string]*template.Template
	assets map[string]asset  // hashed name → file
	hashed map[string]string // plain name → hashed name
}

func loadViews(i18n *catalog) (*views, error) {
	v := &views{pages: map[string]*template.Template{}, assets: map[string]asset{}, hashed: map[string]string{}}
	err := fs.WalkDir(viewFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := viewFiles.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(body)
		ext := path.Ext(name)
		hashedName := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:])[:12] + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		v.assets[hashedName] = asset{body: body, contentType: ct}
		v.hashed[name] = hashedName
		return nil
	})
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"t": i18n.T,
		// forms is a plural message's texts by CLDR category, as JSON for a script (learn.js).
		"forms": func(lang, key string) (string, error) {
			b, err := json.Marshal(i18n.Forms(lang, key))
			return string(b), err
		},
		// num writes a number as people read it (2.5, 6): hours and points with their real value.
		"num": func(v any) string {
			if n, ok := number(v); ok {
				return Number(n)
			}
			return fmt.Sprint(v)
		},
		// explain is a qualification decision in words, in lang (inspections_workflow.go).
		"explain":  func(lang string, d audits.Decision) string { return explainDecision(i18n, lang, d) },
		"certname": func(lang string, c audits.Cert) string { return explainWords(i18n, lang).CertName(c) },
		"add":      func(a, b int) int { return a + b },
		"list":     func(s ...string) []string { return s },
		"join":     strings.Join,
		// dict passes several values to a partial: dict "A" 1 "B" 2.
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict: odd arguments")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict: key %v", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		"has": func(list []string, v string) bool {
			for _, x := range list {
				if x == v {
					return true
				}
			}
			return false
		},
		"asset": func(name string) (string, error) {
			h, ok := v.hashed[name]
			if !ok {
				return "", fmt.Errorf("no static asset %q", name)
			}
			return "/static/" + h, nil
		},
	}
	for name, f := range timeFuncs(i18n) {
		funcs[name] = f
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(viewFiles, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(viewFiles, "templates")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() || e.Name() == "layout.html" || !strings.HasSuffix(e.Name(), ".html") {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(viewFiles, "templates/"+e.Name())
		if err != nil {
			return nil, err
		}
		v.pages[strings.TrimSuffix(e.Name(), ".html")] = t
	}
	return v, nil
}

// page is what every template receives; Data is the handler's own.
type page struct {
	Lang      string
	OtherLang string
	Zone      string // the product's zone, for scripts that show times (internal/clock)
	Title     string
	Path      string
	Nav       []navLink
	Bar, Menu []navLink // the phone's bottom bar and its menu (phoneNav)
	Focus     bool      // a page that is the only thing to do (the exam): no navigation at all
	RequestID string
	User      *accounts.User // the signed-in user, or nil
	CSRF      string         // the session's CSRF token, for forms
	Unread    int            // the signed-in user's unread notifications (the bell)
	Data      any
}

// render writes a full HTML page. Rendering goes to a buffer first so that a template error becomes
// a clean 500 instead of half a page.
func (s *Server) render(c *fiber.Ctx, name string, p page) error {
	t, ok := s.views.pages[name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	p.Lang = langOf(c)
	p.OtherLang = "en"
	if p.Lang == "en" {
		p.OtherLang = "zh-CN"
	}
	p.Path = c.OriginalURL()
	p.Zone = clock.Zone().String()
	if !p.Focus {
		p.Nav = s.navFor(c)
		p.Bar, p.Menu = phoneNav(p.Nav)
	}
	p.RequestID = requestID(c)
	if who := principalOf(c); who != nil {
		p.User, p.CSRF = &who.User, who.Session.CSRFToken
		if !p.Focus {
			n, err := s.accounts.Unread(c.UserContext(), who.User.ID)
			if err != nil && name != "error" {
				return err
			}
			// An error page is drawn without the count it could not read: it may be telling of
			// that very fault (the database unreachable while the session was known).
			p.Unread = n
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderContentLanguage, p.Lang)
	return c.Send(buf.Bytes())
}

func (s *Server) routesStatic() {
	s.publicGet("/static/:file", func(c *fiber.Ctx) error {
		name := c.Params("file")
		a, ok := s.views.assets[name]
		if !ok {
			// An old hashed name or a plain one: send the current file without long caching.
			if h, found := s.views.hashed[name]; found {
				c.Set(fiber.HeaderCacheControl, "no-cache")
				c.Set(fiber.HeaderContentType, s.views.assets[h].contentType)
				return c.Send(s.views.assets[h].body)
			}
			return fiber.ErrNotFound
		}
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		c.Set(fiber.HeaderContentType, a.contentType)
		return c.Send(a.body)
	})
}
