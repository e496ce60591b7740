package server

import (
	"strings"
	"testing"
)

// Counts go through CLDR plural rules: English has one/other (1 hour, 1.5 hours), Chinese has none.
func TestPluralMessagesFollowCLDRRules(t *testing.T) {
	t.Parallel()
	c, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		lang, key string
		args      []any
		want      string
	}{
		{"en", "curriculum.hours_n", []any{1.0}, "1 hour"},
		{"en", "curriculum.hours_n", []any{1}, "1 hour"},
		{"en", "curriculum.hours_n", []any{"1"}, "1 hour"},
		{"en", "curriculum.hours_n", []any{2}, "2 hours"},
		{"en", "curriculum.hours_n", []any{0}, "0 hours"},
		{"en", "curriculum.hours_n", []any{1.5}, "1.5 hours"},
		{"en", "curriculum.hours_n", []any{2.5}, "2.5 hours"},
		{"en", "curriculum.lessons_n", []any{1}, "1 lesson"},
		{"en", "curriculum.lessons_done", []any{1, 0}, "0 of 1 lesson done"},
		{"en", "curriculum.lessons_done", []any{3, 2}, "2 of 3 lessons done"},
		{"en", "curriculum.hours_of", []any{"2.5", "1"}, "1 of 2.5 required hours"},
		{"en", "curriculum.hours_of", []any{"1", "0.5"}, "0.5 of 1 required hour"},
		{"en", "curriculum.min_time_hint", []any{1}, "This lesson needs a minimum study time: 1 more second before you can complete it."},
		{"zh-CN", "curriculum.hours_n", []any{1}, "1 学时"},
		{"zh-CN", "curriculum.hours_n", []any{2.5}, "2.5 学时"},
		{"zh-CN", "curriculum.hours_of", []any{"2.5", "1"}, "已获 1 / 要求 2.5 学时"},
		{"zh-CN", "curriculum.lessons_done", []any{3, 2}, "已完成 2/3 课时"},
		{"zh-CN", "exams.hours_held", []any{10.0, 6.5}, "学时 6.5 / 要求 10"},
		{"en", "bank.total", []any{1}, "1 question"},
		{"en", "bank.notice.retire", []any{2}, "Retired 2 questions"},
		{"en", "audits.import.done", []any{1}, "1 person imported."},
		{"zh-CN", "bank.total", []any{1}, "共 1 道题"},
		{"en", "exams.hours_held", []any{1.0, 0.25}, "0.25 of 1 hour required"},
		{"en", "exams.hours_held", []any{2.5, 1.0}, "1 of 2.5 hours required"},
	}
	for _, tc := range cases {
		if got := c.T(tc.lang, tc.key, tc.args...); got != tc.want {
			t.Errorf("%s %s %v = %q, want %q", tc.lang, tc.key, tc.args, got, tc.want)
		}
	}
	for n, want := range map[float64]string{2.5: "2.5", 6: "6", 0.25: "0.25", 1.0 / 3: "0.33", 10: "10"} {
		if got := Number(n); got != want {
			t.Errorf("Number(%v) = %q, want %q", n, got, want)
		}
	}
}

// Every plural message has, in each language, the categories that language's rules produce.
func TestPluralMessagesHaveTheFormsTheirLanguageNeeds(t *testing.T) {
	t.Parallel()
	c, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range languages {
		for k := range c.texts[lang] {
			base, ok := pluralBase(k)
			if !ok {
				var plural bool
				if base, plural = strings.CutSuffix(k, pluralSep+"other"); !plural {
					continue
				}
			}
			for _, l := range languages {
				for _, n := range []string{"0", "1", "2", "1.5", "5", "21", "100"} {
					cat := pluralCategory(l, n)
					if _, ok := c.texts[l][base+pluralSep+cat]; !ok {
						t.Errorf("%s: %s|%s is missing (needed for %s)", l, base, cat, n)
					}
				}
			}
		}
	}
}
