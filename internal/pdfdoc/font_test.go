package pdfdoc

import (
	"reflect"
	"sync"
	"testing"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"

	"shanyu/internal/config"
)

var (
	fontOnce sync.Once
	fontVal  *Font
	fontErr  error
)

// testFont parses the CJK font once for all tests.
func testFont(tb testing.TB) *Font {
	tb.Helper()
	fontOnce.Do(func() { fontVal, fontErr = LoadFont(config.DefaultCJKFont) })
	if fontErr != nil {
		tb.Fatalf("font: %v (install fonts-lxgw-wenkai or set SHANYU_CJK_FONT)", fontErr)
	}
	return fontVal
}

// compositeRune finds a character whose glyph is built from other glyphs, to test that they come along.
func compositeRune(t *testing.T, f *Font) rune {
	t.Helper()
	for r := rune(0x20); r < 0xFFFF; r++ {
		if g, ok := f.glyph(r); ok && len(compositeComponents(f.glyphData(g))) > 0 {
			return r
		}
	}
	t.Skip("the font has no composite glyph in the BMP")
	return 0
}

func TestSubsetKeepsTheGlyphsAsked(t *testing.T) {
	t.Parallel()
	f := testFont(t)
	runes := append([]rune("王晓雯保育师 Level 4, S000033"), compositeRune(t, f))
	sub, err := f.Subset(runes)
	if err != nil {
		t.Fatal(err)
	}
	if len(sub) > 64<<10 {
		t.Fatalf("subset of %d characters is %d bytes", len(runes), len(sub))
	}
	small, err := sfnt.Parse(sub)
	if err != nil {
		t.Fatalf("subset does not parse: %v", err)
	}
	var b1, b2 sfnt.Buffer
	ppem := fixed.I(f.unitsPerEm)
	for _, r := range runes {
		og, _ := f.outline.GlyphIndex(&b1, r)
		sg, err := small.GlyphIndex(&b2, r)
		if err != nil || sg == 0 {
			t.Fatalf("U+%04X missing from the subset", r)
		}
		want, err1 := f.outline.LoadGlyph(&b1, og, ppem, nil)
		got, err2 := small.LoadGlyph(&b2, sg, ppem, nil)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("U+%04X outline differs (%v, %v)", r, err1, err2)
		}
		wa, _ := f.outline.GlyphAdvance(&b1, og, ppem, 0)
		ga, _ := small.GlyphAdvance(&b2, sg, ppem, 0)
		if wa != ga {
			t.Fatalf("U+%04X advance %v, want %v", r, ga, wa)
		}
	}
	if g, _ := small.GlyphIndex(&b2, '龙'); g != 0 {
		t.Fatal("subset holds a character not asked for")
	}
}

func TestParseFontRejectsNonTrueType(t *testing.T) {
	t.Parallel()
	for name, b := range map[string][]byte{
		"TTC":   append([]byte("ttcf"), make([]byte, 64)...),
		"CFF":   append([]byte("OTTO"), make([]byte, 64)...),
		"short": []byte("\x00\x01"),
	} {
		if _, err := ParseFont(b); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}
