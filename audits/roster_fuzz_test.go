package audits

import (
	"testing"

	"shanyu/internal/limits"
)

// The roster reader, on CSV and Excel input of any shape, returns records within the bounds or an
// error; it never panics and never hands on more lines, columns or longer cells than it promises.
func FuzzRosterRecords(f *testing.F) {
	tpl, err := RosterTemplate(Vocabulary{}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("xlsx", tpl)
	f.Add("csv", []byte("姓名,身份证号,岗位\n王晓梅,330106199001010012,caregiver\n"))
	f.Add("csv", []byte("\xef\xbb\xbfname,id_number,posts\n\"a\"\"b\",1,\n"))
	f.Fuzz(func(t *testing.T, format string, data []byte) {
		records, err := rosterRecords(format, data)
		if err != nil {
			return
		}
		if len(records) > MaxRosterRows+1 {
			t.Fatalf("%d records", len(records))
		}
		for _, r := range records {
			if len(r) > maxRosterCols {
				t.Fatalf("%d columns", len(r))
			}
			for _, c := range r {
				if len(c) > limits.Text {
					t.Fatalf("a %d-byte cell", len(c))
				}
			}
		}
	})
}
