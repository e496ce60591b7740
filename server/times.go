package server

import (
	"time"

	"shanyu/internal/clock"
)

// Every time a page, a PDF or a file shows goes through the language's clock.Formatter, whose layouts
// are in locales/<lang>/time.json: zh-CN 2026年12月1日 18:41, English 1 Dec 2026, 18:41 CST, always in
// the product's zone (SHANYU_TIMEZONE), never the process's.
//
// In templates:
//
//	{{when .Lang .X}}  an instant, date and time      {{day .Lang .X}}  the date of an instant
//	{{date .Lang .X}}  a civil date (a DATE column)   {{hm .Lang .X}}   the time of day of an instant
//
// Each takes a time.Time or a *time.Time (nil and the zero time show nothing).

// Times is the formatter of lang.
func (c *catalog) Times(lang string) clock.Formatter {
	return clock.Formatter{DateTimeLayout: c.T(lang, "time.layout.datetime"), DateLayout: c.T(lang, "time.layout.date"),
		TimeLayout: c.T(lang, "time.layout.time"), SecondsLayout: c.T(lang, "time.layout.seconds")}
}

// timeFuncs are the template functions above.
func timeFuncs(c *catalog) map[string]any {
	show := func(f func(clock.Formatter, time.Time) string) func(string, any) string {
		return func(lang string, v any) string {
			var t time.Time
			switch x := v.(type) {
			case time.Time:
				t = x
			case *time.Time:
				if x != nil {
					t = *x
				}
			}
			if t.IsZero() {
				return ""
			}
			return f(c.Times(lang), t)
		}
	}
	return map[string]any{
		"when": show(clock.Formatter.DateTime),
		"day":  show(clock.Formatter.Day),
		"date": show(clock.Formatter.CivilDate),
		"hm":   show(clock.Formatter.TimeOfDay),
	}
}
