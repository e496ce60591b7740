package pdfdoc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"sync"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// Font is a TrueType font parsed once. A CJK font is large (the default is 15 MB with ~29,000 glyphs)
// and gofpdf parses every font it is given in full, twice, for each document; so each document gets a
// tiny font cut from this one with only the glyphs it uses (microseconds), and gofpdf works on that.
// A Font is safe for concurrent use.
type Font struct {
	raw         []byte
	tables      map[string][]byte
	outline     *sfnt.Font
	numGlyphs   int
	numHMetrics int
	loca        []uint32
	unitsPerEm  int
	buffers     sync.Pool
}

// LoadFont reads and parses a TrueType font file.
func LoadFont(path string) (*Font, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read font: %w", err)
	}
	return ParseFont(b)
}

// ParseFont parses a TrueType font held in memory; b must not be modified afterwards.
func ParseFont(b []byte) (*Font, error) {
	if len(b) < 12 {
		return nil, errors.New("font: file too short")
	}
	switch binary.BigEndian.Uint32(b) {
	case 0x00010000, 0x74727565: // TrueType outlines
	default:
		return nil, errors.New("font: not a TrueType (glyf) font; TTC collections and CFF fonts are not supported")
	}
	f := &Font{raw: b, tables: map[string][]byte{}}
	n := int(binary.BigEndian.Uint16(b[4:]))
	if len(b) < 12+16*n {
		return nil, errors.New("font: truncated table directory")
	}
	for i := 0; i < n; i++ {
		rec := b[12+16*i:]
		tag := string(rec[:4])
		off, size := binary.BigEndian.Uint32(rec[8:]), binary.BigEndian.Uint32(rec[12:])
		if uint64(off)+uint64(size) > uint64(len(b)) {
			return nil, fmt.Errorf("font: table %q out of bounds", tag)
		}
		f.tables[tag] = b[off : off+size]
	}
	for _, t := range []string{"head", "hhea", "maxp", "hmtx", "loca", "glyf", "cmap", "name", "OS/2", "post"} {
		if f.tables[t] == nil {
			return nil, fmt.Errorf("font: missing %q table", t)
		}
	}
	head, hhea, maxp := f.tables["head"], f.tables["hhea"], f.tables["maxp"]
	if len(head) < 54 || len(hhea) < 36 || len(maxp) < 6 || len(f.tables["post"]) < 32 {
		return nil, errors.New("font: short head, hhea, maxp or post table")
	}
	f.unitsPerEm = int(binary.BigEndian.Uint16(head[18:]))
	f.numGlyphs = int(binary.BigEndian.Uint16(maxp[4:]))
	f.numHMetrics = int(binary.BigEndian.Uint16(hhea[34:]))
	if f.numHMetrics == 0 || f.numHMetrics > f.numGlyphs || len(f.tables["hmtx"]) < 4*f.numHMetrics+2*(f.numGlyphs-f.numHMetrics) {
		return nil, errors.New("font: bad hmtx")
	}
	loca := f.tables["loca"]
	f.loca = make([]uint32, f.numGlyphs+1)
	long := binary.BigEndian.Uint16(head[50:]) == 1
	for i := range f.loca {
		if long {
			if len(loca) < 4*(i+1) {
				return nil, errors.New("font: short loca")
			}
			f.loca[i] = binary.BigEndian.Uint32(loca[4*i:])
		} else {
			if len(loca) < 2*(i+1) {
				return nil, errors.New("font: short loca")
			}
			f.loca[i] = 2 * uint32(binary.BigEndian.Uint16(loca[2*i:]))
		}
		if f.loca[i] > uint32(len(f.tables["glyf"])) || (i > 0 && f.loca[i] < f.loca[i-1]) {
			return nil, errors.New("font: bad loca")
		}
	}
	var err error
	if f.outline, err = sfnt.Parse(b); err != nil {
		return nil, fmt.Errorf("font: %w", err)
	}
	f.buffers.New = func() any { return new(sfnt.Buffer) }
	return f, nil
}

// Has reports whether the font can print r (a BMP code point with a glyph): what a text printed
// with it may contain.
func (f *Font) Has(r rune) bool {
	if r > 0xFFFF {
		return false // gofpdf's font reader covers the Basic Multilingual Plane only
	}
	_, ok := f.glyph(r)
	return ok
}

// glyph returns the font's glyph for r, and false when the font has none.
func (f *Font) glyph(r rune) (uint16, bool) {
	buf := f.buffers.Get().(*sfnt.Buffer)
	defer f.buffers.Put(buf)
	g, err := f.outline.GlyphIndex(buf, r)
	return uint16(g), err == nil && g != 0
}

// segments returns glyph g's outline in font units (y grows downwards) and its advance width.
func (f *Font) segments(g uint16) (sfnt.Segments, float64, error) {
	buf := new(sfnt.Buffer) // the segments live in the buffer, so it is not pooled
	ppem := fixed.I(f.unitsPerEm)
	segs, err := f.outline.LoadGlyph(buf, sfnt.GlyphIndex(g), ppem, nil)
	if err != nil {
		return nil, 0, err
	}
	adv, err := f.outline.GlyphAdvance(buf, sfnt.GlyphIndex(g), ppem, 0)
	if err != nil {
		return nil, 0, err
	}
	return segs, float64(adv) / 64, nil
}

// Subset builds a small TrueType font holding .notdef and the glyphs of the given runes (those of
// them inside the Basic Multilingual Plane that the font has; gofpdf reads only a format 4 cmap).
func (f *Font) Subset(runes []rune) ([]byte, error) {
	type mapping struct {
		r rune
		g uint16
	}
	var maps []mapping
	old := []uint16{0}
	newID := map[uint16]uint16{0: 0}
	add := func(g uint16) uint16 {
		if id, ok := newID[g]; ok {
			return id
		}
		id := uint16(len(old))
		newID[g] = id
		old = append(old, g)
		return id
	}
	rs := slices.Clone(runes)
	slices.Sort(rs)
	rs = slices.Compact(rs)
	for _, r := range rs {
		if r < 0x20 || r > 0xFFFD {
			continue
		}
		if g, ok := f.glyph(r); ok {
			maps = append(maps, mapping{r, add(g)})
		}
	}
	// Composite glyphs refer to other glyphs, which must come along; old grows while we walk it.
	for i := 0; i < len(old); i++ {
		for _, c := range compositeComponents(f.glyphData(old[i])) {
			add(c)
		}
	}

	glyf := make([]byte, 0, 256*len(old))
	loca := make([]byte, 0, 4*(len(old)+1))
	hmtx := make([]byte, 0, 4*len(old))
	srcHmtx := f.tables["hmtx"]
	for _, g := range old {
		loca = binary.BigEndian.AppendUint32(loca, uint32(len(glyf)))
		data := f.glyphData(g)
		if len(compositeComponents(data)) > 0 {
			data = remapComposite(data, newID)
		}
		glyf = append(glyf, data...)
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
		var adv, lsb uint16
		if int(g) < f.numHMetrics {
			adv = binary.BigEndian.Uint16(srcHmtx[4*int(g):])
			lsb = binary.BigEndian.Uint16(srcHmtx[4*int(g)+2:])
		} else {
			adv = binary.BigEndian.Uint16(srcHmtx[4*(f.numHMetrics-1):])
			lsb = binary.BigEndian.Uint16(srcHmtx[4*f.numHMetrics+2*(int(g)-f.numHMetrics):])
		}
		hmtx = binary.BigEndian.AppendUint16(hmtx, adv)
		hmtx = binary.BigEndian.AppendUint16(hmtx, lsb)
	}
	loca = binary.BigEndian.AppendUint32(loca, uint32(len(glyf)))

	// cmap: one format 4 subtable (Windows, Unicode BMP), one segment per rune plus the final 0xFFFF.
	segCount := len(maps) + 1
	cmap := make([]byte, 0, 12+16+8*segCount)
	cmap = binary.BigEndian.AppendUint16(cmap, 0) // version
	cmap = binary.BigEndian.AppendUint16(cmap, 1) // one subtable
	cmap = binary.BigEndian.AppendUint16(cmap, 3)
	cmap = binary.BigEndian.AppendUint16(cmap, 1)
	cmap = binary.BigEndian.AppendUint32(cmap, 12)
	entrySelector := 0
	for 1<<(entrySelector+1) <= segCount {
		entrySelector++
	}
	searchRange := 2 << entrySelector
	for _, v := range []int{4, 16 + 8*segCount, 0, 2 * segCount, searchRange, entrySelector, 2*segCount - searchRange} {
		cmap = binary.BigEndian.AppendUint16(cmap, uint16(v))
	}
	for _, m := range maps {
		cmap = binary.BigEndian.AppendUint16(cmap, uint16(m.r))
	}
	cmap = binary.BigEndian.AppendUint16(cmap, 0xFFFF)
	cmap = binary.BigEndian.AppendUint16(cmap, 0) // reservedPad
	for _, m := range maps {
		cmap = binary.BigEndian.AppendUint16(cmap, uint16(m.r))
	}
	cmap = binary.BigEndian.AppendUint16(cmap, 0xFFFF)
	for _, m := range maps {
		cmap = binary.BigEndian.AppendUint16(cmap, m.g-uint16(m.r)) // idDelta, modulo 65536
	}
	cmap = binary.BigEndian.AppendUint16(cmap, 1)
	for range segCount {
		cmap = binary.BigEndian.AppendUint16(cmap, 0) // idRangeOffset
	}

	head := slices.Clone(f.tables["head"])
	binary.BigEndian.PutUint32(head[8:], 0) // checkSumAdjustment, recomputed below
	binary.BigEndian.PutUint16(head[50:], 1)
	hhea := slices.Clone(f.tables["hhea"])
	binary.BigEndian.PutUint16(hhea[34:], uint16(len(old)))
	maxp := slices.Clone(f.tables["maxp"])
	binary.BigEndian.PutUint16(maxp[4:], uint16(len(old)))
	post := slices.Clone(f.tables["post"][:32])
	binary.BigEndian.PutUint32(post, 0x00030000) // no glyph names

	out := map[string][]byte{
		"head": head, "hhea": hhea, "maxp": maxp, "OS/2": f.tables["OS/2"], "name": f.tables["name"],
		"post": post, "cmap": cmap, "hmtx": hmtx, "loca": loca, "glyf": glyf,
	}
	for _, t := range []string{"cvt ", "fpgm", "prep", "gasp"} {
		if b := f.tables[t]; b != nil {
			out[t] = b
		}
	}
	return assembleFont(out), nil
}

func (f *Font) glyphData(g uint16) []byte {
	if int(g) >= f.numGlyphs {
		return nil
	}
	return f.tables["glyf"][f.loca[g]:f.loca[g+1]]
}

// Composite glyph flags (OpenType glyf table).
const (
	argsAreWords   = 0x0001
	haveScale      = 0x0008
	moreComponents = 0x0020
	haveXYScale    = 0x0040
	haveTwoByTwo   = 0x0080
)

// compositeComponents lists the glyphs a composite glyph is made of (none for a simple glyph).
func compositeComponents(data []byte) []uint16 {
	var out []uint16
	walkComposite(data, func(pos int) { out = append(out, binary.BigEndian.Uint16(data[pos:])) })
	return out
}

// remapComposite returns a copy of a composite glyph with its component ids renumbered.
func remapComposite(data []byte, ids map[uint16]uint16) []byte {
	c := slices.Clone(data)
	walkComposite(c, func(pos int) {
		binary.BigEndian.PutUint16(c[pos:], ids[binary.BigEndian.Uint16(c[pos:])])
	})
	return c
}

// walkComposite calls fn with the offset of each component's glyph index.
func walkComposite(data []byte, fn func(pos int)) {
	if len(data) < 10 || int16(binary.BigEndian.Uint16(data)) >= 0 {
		return
	}
	pos := 10
	for pos+4 <= len(data) {
		flags := binary.BigEndian.Uint16(data[pos:])
		fn(pos + 2)
		pos += 4
		if flags&argsAreWords != 0 {
			pos += 4
		} else {
			pos += 2
		}
		switch {
		case flags&haveScale != 0:
			pos += 2
		case flags&haveXYScale != 0:
			pos += 4
		case flags&haveTwoByTwo != 0:
			pos += 8
		}
		if flags&moreComponents == 0 {
			return
		}
	}
}

// assembleFont writes an sfnt file: table directory sorted by tag, tables 4-byte aligned, checksums.
func assembleFont(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	size := 12
	for t, b := range tables {
		tags = append(tags, t)
		size += 16 + (len(b)+3)&^3
	}
	sort.Strings(tags)
	n := len(tags)
	entrySelector := 0
	for 1<<(entrySelector+1) <= n {
		entrySelector++
	}
	out := make([]byte, 12+16*n, size)
	binary.BigEndian.PutUint32(out, 0x00010000)
	binary.BigEndian.PutUint16(out[4:], uint16(n))
	binary.BigEndian.PutUint16(out[6:], uint16(16<<entrySelector))
	binary.BigEndian.PutUint16(out[8:], uint16(entrySelector))
	binary.BigEndian.PutUint16(out[10:], uint16(16*n-16<<entrySelector))
	headAt := 0
	for i, t := range tags {
		b := tables[t]
		rec := out[12+16*i:]
		copy(rec, t)
		binary.BigEndian.PutUint32(rec[4:], tableChecksum(b))
		binary.BigEndian.PutUint32(rec[8:], uint32(len(out)))
		binary.BigEndian.PutUint32(rec[12:], uint32(len(b)))
		if t == "head" {
			headAt = len(out)
		}
		out = append(out, b...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	binary.BigEndian.PutUint32(out[headAt+8:], 0xB1B0AFBA-tableChecksum(out))
	return out
}

func tableChecksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}
