package bank

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"shanyu/internal/pgtest"
)

const benchItems = 5000

// benchCorpus returns 5,000 distinct items made from the demo bank, and the same items as GIFT,
// Moodle XML and Excel files.
func benchCorpus(tb testing.TB) (items []Item, files map[Format][]byte) {
	tb.Helper()
	wb, err := demoWorkbook()
	if err != nil {
		tb.Fatal(err)
	}
	res, err := ParseXLSX(bytes.NewReader(wb))
	if err != nil {
		tb.Fatal(err)
	}
	demo := res.Items()
	for i := 0; i < benchItems; i++ {
		it := demo[i%len(demo)]
		it.Stem = fmt.Sprintf("%s（第%d题）", it.Stem, i+1)
		items = append(items, it)
	}
	files = map[Format][]byte{}
	var buf bytes.Buffer
	if err := WriteMoodleXML(&buf, items); err != nil {
		tb.Fatal(err)
	}
	files[MoodleXML] = bytes.Clone(buf.Bytes())
	buf.Reset()
	if err := WriteXLSX(&buf, items); err != nil {
		tb.Fatal(err)
	}
	files[XLSX] = bytes.Clone(buf.Bytes())
	files[GIFT] = []byte(giftOf(items))
	return items, files
}

// giftOf writes items as GIFT (practical tasks as essays, the nearest GIFT has), for the benchmarks.
func giftOf(items []Item) string {
	esc := strings.NewReplacer(`\`, `\\`, "~", `\~`, "=", `\=`, "#", `\#`, "{", `\{`, "}", `\}`, ":", `\:`, "\n", `\n`)
	num := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	var b strings.Builder
	for _, it := range items {
		b.WriteString("$CATEGORY: " + strings.Join(it.Category, "/") + "\n\n")
		b.WriteString(esc.Replace(it.Stem) + " {")
		switch it.Type {
		case SingleChoice, MultipleChoice:
			for _, c := range it.Choices {
				if it.Type == SingleChoice && c.Weight == 1 {
					b.WriteString(" =" + esc.Replace(c.Text))
				} else {
					b.WriteString(" ~%" + num(c.Weight*100) + "%" + esc.Replace(c.Text))
				}
			}
		case TrueFalse:
			b.WriteString(map[bool]string{true: "T", false: "F"}[it.Truth])
		case FillBlank:
			for _, a := range it.Blanks[0].Accepted {
				b.WriteString(" =" + esc.Replace(a.Text))
			}
		case Numeric:
			b.WriteString("#" + num(it.Numbers[0].Value) + ":" + num(it.Numbers[0].Tolerance))
		case Matching:
			for _, p := range it.Pairs {
				b.WriteString(" =" + esc.Replace(p.Left) + " -> " + esc.Replace(p.Right))
			}
		}
		b.WriteString("}\n\n")
	}
	return b.String()
}

func TestBenchCorpusParses(t *testing.T) {
	t.Parallel()
	_, files := benchCorpus(t)
	for f, data := range files {
		res, err := Parse(f, bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if n := len(res.Items()); n != benchItems {
			t.Errorf("%s: %d of %d items parse", f, n, benchItems)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	_, files := benchCorpus(b)
	for _, f := range []Format{GIFT, MoodleXML, XLSX} {
		b.Run(string(f), func(b *testing.B) {
			b.SetBytes(int64(len(files[f])))
			for b.Loop() {
				res, err := Parse(f, bytes.NewReader(files[f]))
				if err != nil || len(res.Entries) != benchItems {
					b.Fatalf("parse: %v", err)
				}
			}
			b.ReportMetric(float64(benchItems*b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}
}

// BenchmarkImport parses each file and commits its 5,000 items into a fresh bank in PostgreSQL.
func BenchmarkImport(b *testing.B) {
	_, files := benchCorpus(b)
	pool := pgtest.New(b)
	ctx := context.Background()
	for _, f := range []Format{GIFT, MoodleXML, XLSX} {
		b.Run(string(f), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				centre := newCentre(b, pool)
				b.StartTimer()
				rep, err := Import(ctx, pool, centre, f, bytes.NewReader(files[f]), false)
				if err != nil || rep.Created != benchItems {
					b.Fatalf("import: %v (%+v)", err, rep)
				}
			}
			b.ReportMetric(float64(benchItems*b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}
}
