package curriculum

import (
	"fmt"
	"strconv"
	"strings"

	"shanyu/internal/failure"
)

// The course editor lets an author write a course's modules and lessons as one Markdown text:
//
//	=== Module title
//	--- Lesson title | hours | minimum seconds | video URL (optional)
//	Lesson body in Markdown (headings included)…
//
// ParseOutline and FormatOutline turn that text into modules and back, so a page needs no script.

// Line marks of the outline.
const (
	moduleMark = "=== "
	lessonMark = "--- "
)

// ParseOutline reads modules and lessons from the editor's text.
func ParseOutline(text string) ([]ModuleInput, error) {
	var mods []ModuleInput
	var body *strings.Builder
	var f failure.Fields
	flush := func() {
		if body != nil && len(mods) > 0 {
			ls := mods[len(mods)-1].Lessons
			ls[len(ls)-1].Body = strings.TrimSpace(body.String())
		}
		body = nil
	}
	for n, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, moduleMark):
			flush()
			mods = append(mods, ModuleInput{Title: strings.TrimSpace(line[len(moduleMark):])})
		case strings.HasPrefix(line, lessonMark):
			flush()
			if len(mods) == 0 {
				f.Add("outline", "curriculum.outline_lesson_outside_module", n+1)
				continue
			}
			l, ok := parseLessonHeader(line[len(lessonMark):])
			if !ok {
				f.Add("outline", "curriculum.outline_bad_lesson", n+1)
				continue
			}
			m := &mods[len(mods)-1]
			m.Lessons = append(m.Lessons, l)
			body = &strings.Builder{}
		default:
			if body != nil {
				body.WriteString(line + "\n")
			} else if strings.TrimSpace(line) != "" {
				f.Add("outline", "curriculum.outline_text_outside_lesson", n+1)
			}
		}
	}
	flush()
	return mods, f.Err()
}

func parseLessonHeader(h string) (LessonInput, bool) {
	parts := strings.Split(h, "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	if len(parts) < 3 || len(parts) > 4 {
		return LessonInput{}, false
	}
	hours, err1 := strconv.ParseFloat(parts[1], 64)
	secs, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil {
		return LessonInput{}, false
	}
	l := LessonInput{Title: parts[0], Hours: hours, MinSeconds: secs}
	if len(parts) == 4 {
		l.VideoURL = parts[3]
	}
	return l, true
}

// FormatOutline writes modules as the editor's text.
func FormatOutline(mods []ModuleInput) string {
	var b strings.Builder
	for _, m := range mods {
		fmt.Fprintf(&b, "%s%s\n", moduleMark, m.Title)
		for _, l := range m.Lessons {
			fmt.Fprintf(&b, "%s%s | %s | %d", lessonMark, l.Title, strconv.FormatFloat(l.Hours, 'f', -1, 64), l.MinSeconds)
			if l.VideoURL != "" {
				b.WriteString(" | " + l.VideoURL)
			}
			b.WriteString("\n")
			if l.Body != "" {
				b.WriteString(l.Body + "\n")
			}
			b.WriteString("\n")
		}
	}
	return strings.TrimSpace(b.String()) + "\n"
}
