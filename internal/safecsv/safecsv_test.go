package safecsv

import (
	"bytes"
	"encoding/csv"
	"testing"
)

// OWASP CSV injection: every cell a spreadsheet would take for a formula comes back prefixed with a
// quote, and reading the CSV back gives the escaped text, never the formula.
func TestFormulaCellsAreEscaped(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		`=HYPERLINK("https://evil.example","点我")`: `'=HYPERLINK("https://evil.example","点我")`,
		"+1+cmd|' /C calc'!A0":                    "'+1+cmd|' /C calc'!A0",
		"-2+3+cmd|' /C calc'!A0":                  "'-2+3+cmd|' /C calc'!A0",
		"@SUM(1+1)*cmd|' /C calc'!A0":             "'@SUM(1+1)*cmd|' /C calc'!A0",
		"\t=1+1":                                  "'\t=1+1",
		"\r=1+1":                                  "'\r=1+1",
		"-3.5":                                    "-3.5",
		"+7":                                      "+7",
		"王晓梅":                                     "王晓梅",
		"":                                        "",
		"a=b":                                     "a=b",
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	var in, want []string
	for k, v := range cases {
		in, want = append(in, k), append(want, v)
	}
	if err := w.Write(in); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	got, err := csv.NewReader(&buf).Read()
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%q was written as %q, want %q", in[i], got[i], want[i])
		}
	}
}
