package server

import (
	"fmt"
	"html/template"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"shanyu/curriculum"
	"shanyu/internal/failure"
)

// The course editor builds a version's structure with fields: modules and lessons, each lesson's
// title, hours, minimum time, video and Markdown body. Its fields are named as the domain names them
// (modules.0.lessons.1.hours), so a refusal lands beside the field it is about. Adding, removing and
// moving modules and lessons are submit buttons (op=…) that come back with the form rearranged and
// nothing saved: they work without a script, with the keyboard and on a phone. The === / --- text is
// kept as an import into the fields.

// lessonForm is one lesson's fields as typed.
type lessonForm struct {
	Title, Hours, MinSeconds, VideoURL, Body string
}

// moduleForm is one module's fields as typed.
type moduleForm struct {
	Title   string
	Lessons []lessonForm
}

// structureForm is the structure part of the course editor.
type structureForm struct {
	Modules []moduleForm
	Focus   string // the id of the control to put the cursor on after a rearrangement
}

func (m moduleForm) input() curriculum.ModuleInput { return curriculum.ModuleInput{Title: m.Title} }

// structureOf turns saved modules into their fields.
func structureOf(mods []curriculum.ModuleInput) structureForm {
	var sf structureForm
	for _, m := range mods {
		mf := moduleForm{Title: m.Title}
		for _, l := range m.Lessons {
			mf.Lessons = append(mf.Lessons, lessonForm{Title: l.Title, Hours: fmtHours(l.Hours), MinSeconds: strconv.Itoa(l.MinSeconds), VideoURL: l.VideoURL, Body: l.Body})
		}
		sf.Modules = append(sf.Modules, mf)
	}
	if len(sf.Modules) == 0 {
		sf.Modules = []moduleForm{{Lessons: []lessonForm{{}}}}
	}
	return sf
}

// readStructure reads the structure fields of a submitted form, no more than the domain accepts plus
// one (so that validation can say there are too many). ok is false when the form has none.
func readStructure(c *fiber.Ctx) (sf structureForm, ok bool) {
	for i := 0; i <= curriculum.MaxModules; i++ {
		p := "modules." + strconv.Itoa(i) + "."
		if !hasFormKey(c, p+"title") {
			break
		}
		m := moduleForm{Title: c.FormValue(p + "title")}
		for j := 0; j <= curriculum.MaxLessons; j++ {
			lp := p + "lessons." + strconv.Itoa(j) + "."
			if !hasFormKey(c, lp+"title") {
				break
			}
			m.Lessons = append(m.Lessons, lessonForm{Title: c.FormValue(lp + "title"), Hours: c.FormValue(lp + "hours"),
				MinSeconds: c.FormValue(lp + "min_seconds"), VideoURL: c.FormValue(lp + "video_url"), Body: c.FormValue(lp + "body")})
		}
		sf.Modules = append(sf.Modules, m)
	}
	return sf, len(sf.Modules) > 0
}

func hasFormKey(c *fiber.Ctx, key string) bool {
	return c.Request().PostArgs().Has(key)
}

// inputs turns the fields into the domain's modules; a number that does not read is a field error.
func (sf structureForm) inputs() ([]curriculum.ModuleInput, failure.Fields) {
	var f failure.Fields
	mods := make([]curriculum.ModuleInput, len(sf.Modules))
	for i, m := range sf.Modules {
		mods[i] = m.input()
		for j, l := range m.Lessons {
			lp := fmt.Sprintf("modules.%d.lessons.%d.", i, j)
			li := curriculum.LessonInput{Title: l.Title, Body: l.Body, VideoURL: l.VideoURL}
			var err error
			if li.Hours, err = strconv.ParseFloat(strings.TrimSpace(l.Hours), 64); err != nil {
				f.Add(lp+"hours", "curriculum.number_invalid")
			}
			if li.MinSeconds, err = strconv.Atoi(strings.TrimSpace(l.MinSeconds)); err != nil {
				f.Add(lp+"min_seconds", "curriculum.number_invalid")
			}
			mods[i].Lessons = append(mods[i].Lessons, li)
		}
	}
	return mods, f
}

var opPattern = regexp.MustCompile(`^(add-module|add-lesson|del-module|del-lesson|up-module|down-module|up-lesson|down-lesson)(?:\.(\d{1,3}))?(?:\.(\d{1,3}))?$`)

// rearrange applies one add, remove or move button to the fields and says which control takes the
// cursor afterwards. ok is false for anything that is not such a button (saving, importing).
func (sf *structureForm) rearrange(op string) bool {
	m := opPattern.FindStringSubmatch(op)
	if m == nil {
		return false
	}
	i, _ := strconv.Atoi(m[2])
	j, _ := strconv.Atoi(m[3])
	mods := sf.Modules
	inModule := i < len(mods)
	inLesson := inModule && j < len(mods[i].Lessons)
	switch m[1] {
	case "add-module":
		if len(mods) < curriculum.MaxModules {
			mods = append(mods, moduleForm{Lessons: []lessonForm{{}}})
		}
		sf.Focus = fmt.Sprintf("m%d-title", len(mods)-1)
	case "add-lesson":
		if inModule && len(mods[i].Lessons) < curriculum.MaxLessons {
			mods[i].Lessons = append(mods[i].Lessons, lessonForm{})
			sf.Focus = fmt.Sprintf("m%d-l%d-title", i, len(mods[i].Lessons)-1)
		}
	case "del-module":
		if inModule && len(mods) > 1 {
			mods = append(mods[:i], mods[i+1:]...)
			sf.Focus = fmt.Sprintf("m%d-title", min(i, len(mods)-1))
		}
	case "del-lesson":
		if inLesson && len(mods[i].Lessons) > 1 {
			mods[i].Lessons = append(mods[i].Lessons[:j], mods[i].Lessons[j+1:]...)
			sf.Focus = fmt.Sprintf("m%d-l%d-title", i, min(j, len(mods[i].Lessons)-1))
		}
	case "up-module", "down-module":
		k := i - 1
		if m[1] == "down-module" {
			k = i + 1
		}
		if inModule && k >= 0 && k < len(mods) {
			mods[i], mods[k] = mods[k], mods[i]
			sf.Focus = fmt.Sprintf("%s.%d", m[1], k)
		}
	case "up-lesson", "down-lesson":
		if !inLesson {
			break
		}
		sf.Focus = moveLesson(mods, i, j, m[1] == "up-lesson")
	}
	sf.Modules = mods
	return true
}

// moveLesson moves a lesson one place up or down; past the first or last place of its module it goes
// to the end of the module before or the start of the one after (a module keeps at least one lesson).
// It answers the id of the same button at the lesson's new place.
func moveLesson(mods []moduleForm, i, j int, up bool) string {
	ls := mods[i].Lessons
	op := "down-lesson"
	if up {
		op = "up-lesson"
	}
	switch {
	case up && j > 0:
		ls[j], ls[j-1] = ls[j-1], ls[j]
		return fmt.Sprintf("%s.%d.%d", op, i, j-1)
	case !up && j < len(ls)-1:
		ls[j], ls[j+1] = ls[j+1], ls[j]
		return fmt.Sprintf("%s.%d.%d", op, i, j+1)
	case len(ls) == 1 || (up && i == 0) || (!up && i == len(mods)-1):
		return fmt.Sprintf("%s.%d.%d", op, i, j)
	}
	l := ls[j]
	mods[i].Lessons = append(ls[:j:j], ls[j+1:]...)
	if up {
		mods[i-1].Lessons = append(mods[i-1].Lessons, l)
		return fmt.Sprintf("%s.%d.%d", op, i-1, len(mods[i-1].Lessons)-1)
	}
	mods[i+1].Lessons = append([]lessonForm{l}, mods[i+1].Lessons...)
	return fmt.Sprintf("%s.%d.0", op, i+1)
}

// placeMessages puts the module and lesson a structure field belongs to in front of its message
// ("第 2 单元第 3 课：学时…"), so that a message read alone, or in the summary, says where it is.
func (s *Server) placeMessages(lang string, fp *formPage) {
	for field, msg := range fp.Errors {
		parts := strings.Split(field, ".")
		if len(parts) < 3 || parts[0] != "modules" {
			continue
		}
		i, err := strconv.Atoi(parts[1])
		if err != nil {
			continue
		}
		place := s.i18n.T(lang, "curriculum.structure.module_place", i+1)
		if len(parts) >= 5 && parts[2] == "lessons" {
			if j, err := strconv.Atoi(parts[3]); err == nil {
				place = s.i18n.T(lang, "curriculum.structure.lesson_place", i+1, j+1)
			}
		}
		fp.Errors[field] = place + msg
	}
}

// markdownPreview renders a lesson body as the lesson page renders it (curriculum.RenderMarkdown: the
// sanitised HTML), for the editor's live preview. The body is bounded as the domain bounds it.
func (s *Server) markdownPreview(c *fiber.Ctx) error {
	body := c.FormValue("body")
	if len(body) > 4*curriculum.MaxBodyRunes || utf8.RuneCountInString(body) > curriculum.MaxBodyRunes {
		return failure.Field("body", "curriculum.body_too_long", curriculum.MaxBodyRunes)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.SendString(curriculum.RenderMarkdown(body))
}

// lessonPreviews renders every lesson body of the form, for the editor's preview beside each body
// when the page is drawn (the script keeps it live as one types).
func lessonPreviews(sf structureForm) map[string]template.HTML {
	out := map[string]template.HTML{}
	for i, m := range sf.Modules {
		for j, l := range m.Lessons {
			if strings.TrimSpace(l.Body) != "" {
				out[fmt.Sprintf("%d.%d", i, j)] = template.HTML(curriculum.RenderMarkdown(l.Body)) //nolint:gosec // sanitised by bluemonday
			}
		}
	}
	return out
}
