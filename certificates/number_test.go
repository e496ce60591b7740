package certificates

import (
	"errors"
	"strings"
	"testing"

	"shanyu/internal/failure"
)

func TestNumberFormatAndParse(t *testing.T) {
	t.Parallel()
	n := Number{EvaluatorType: 'S', EvaluatorCode: "0000", Province: "33", SiteSerial: 1, Year: 2025, Level: 5, Serial: 1}
	s, err := n.Format()
	if err != nil {
		t.Fatal(err)
	}
	// The example shape of standards.md §3.
	if s != "S000033000001255000001" || len(s) != NumberLength {
		t.Fatalf("Format = %q", s)
	}
	back, err := ParseNumber(" s000033000001255000001 ")
	if err != nil {
		t.Fatal(err)
	}
	if back != n {
		t.Fatalf("ParseNumber = %+v, want %+v", back, n)
	}
	y := Number{EvaluatorType: 'Y', EvaluatorCode: "1234", Province: "33", SiteSerial: 654321, Year: 2031, Level: 1, Serial: 999999}
	if s := y.String(); s != "Y123433654321311999999" {
		t.Fatalf("String = %q", s)
	}
}

func TestNumberFormatNamesTheWrongPart(t *testing.T) {
	t.Parallel()
	good := Number{EvaluatorType: 'S', EvaluatorCode: "0000", Province: "33", SiteSerial: 1, Year: 2025, Level: 4, Serial: 1}
	cases := map[string]func(*Number){
		"evaluator_type": func(n *Number) { n.EvaluatorType = 'X' },
		"evaluator_code": func(n *Number) { n.EvaluatorCode = "12a4" },
		"province":       func(n *Number) { n.Province = "330" },
		"site_serial":    func(n *Number) { n.SiteSerial = 1000000 },
		"year":           func(n *Number) { n.Year = 1999 },
		"level":          func(n *Number) { n.Level = 6 },
		"serial":         func(n *Number) { n.Serial = 0 },
	}
	for field, breakIt := range cases {
		n := good
		breakIt(&n)
		_, err := n.Format()
		e := failure.As(err)
		if e.Kind != failure.Invalid || e.Fields[field].Key != "certificates.number_"+field {
			t.Errorf("%s: err = %v", field, err)
		}
		if n.String() != "" {
			t.Errorf("%s: String of an invalid number = %q", field, n.String())
		}
	}
}

func TestParseNumberRejects(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"",
		"S00003300000125500000",   // 21 characters
		"S0000330000012550000011", // 23
		"X000033000001255000001",  // evaluator type
		"S0000330000012550O0001",  // a letter O for a zero
		"S000033000001256000001",  // level 6
		"S000033000001250000001",  // level 0
		"S000033000001255000000",  // serial 0
	} {
		if _, err := ParseNumber(s); !errors.Is(err, ErrNumberInvalid) {
			t.Errorf("ParseNumber(%q) = %v, want ErrNumberInvalid", s, err)
		}
	}
}

func TestNewCodeIsUnguessableAndURLSafe(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		c, err := NewCode()
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != CodeLength || strings.Trim(c, "abcdefghijklmnopqrstuvwxyz234567") != "" {
			t.Fatalf("code %q is not 26 lower-case base32 characters", c)
		}
		if seen[c] {
			t.Fatalf("code %q twice", c)
		}
		seen[c] = true
		if n, ok := NormaliseCode(" " + strings.ToUpper(c)); !ok || n != c {
			t.Fatalf("NormaliseCode(%q) = %q, %v", strings.ToUpper(c), n, ok)
		}
	}
	if codeBytes*8 < 128 {
		t.Fatalf("codes carry %d bits", codeBytes*8)
	}
	for _, bad := range []string{"", "abc", strings.Repeat("a", 25) + "1", strings.Repeat("a", 27)} {
		if _, ok := NormaliseCode(bad); ok {
			t.Errorf("NormaliseCode(%q) accepted", bad)
		}
	}
}

func TestMaskName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"张三": "张*", "欧阳娜娜": "欧*", "𠮷田": "𠮷*", " 李 ": "李*", "": ""} {
		if got := MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
}
