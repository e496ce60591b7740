package accounts

import "testing"

func TestValidCitizenID(t *testing.T) {
	t.Parallel()
	cases := []struct {
		id   string
		want bool
	}{
		{"11010519491231002X", true},  // the standard's own example
		{"11010519491231002x", true},  // lower-case check character
		{"110105194912310021", false}, // wrong check character
		{"330106199001011234", false}, // wrong check character
		{"33010619900101123X", true},
		{"330102199203034565", true},
		{"33010619900101123", false},   // 17 characters
		{"3301061990010112388", false}, // 19 characters
		{"33010619901301123X", false},  // month 13
		{"33010630000101123X", false},  // born in the future
		{"3301061990010112A8", false},  // letter among the digits
		{"", false},
	}
	for _, c := range cases {
		if got := ValidCitizenID(c.id); got != c.want {
			t.Errorf("ValidCitizenID(%q) = %v, want %v", c.id, got, c.want)
		}
	}
}

func TestParseCitizenID(t *testing.T) {
	t.Parallel()
	// Sequence 456: the last digit is even, so the holder is female.
	f, ok := ParseCitizenID("330102199203034565")
	if !ok || f.Region != "330102" || f.Birth.Year() != 1992 || f.Male {
		t.Fatalf("got %+v %v", f, ok)
	}
}

func TestValidCreditCode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		code string
		want bool
	}{
		{"91350100M000100Y43", true},  // the standard's example with its correct check character
		{"91350100M000100Y4Z", false}, // the standard's printed example, itself invalid
		{"91330106MA2GL0X75J", false},
		{"91330106MA27XL0X76", true},
		{"12330000470051726F", true},
		{"91330106MA27XL0X7", false},  // 17 characters
		{"91330106MA27XLOX76", false}, // letter O is not in the alphabet
		{"", false},
	}
	for _, c := range cases {
		if got := ValidCreditCode(c.code); got != c.want {
			t.Errorf("ValidCreditCode(%q) = %v, want %v", c.code, got, c.want)
		}
	}
}

func TestMasks(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"张三": "张*", "欧阳娜娜": "欧***", "王": "王*", "𠮷田": "𠮷*", "": ""} {
		if got := MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := MaskIDNumber("123X"); got != "**************123X" {
		t.Errorf("MaskIDNumber = %q", got)
	}
}
