// Package gzsplice sends a large stored text, compressed once when it is stored, inside a response
// whose other bytes differ per request, as one ordinary gzip stream: the exam page's paper, built
// before the start, sits inside the start's answer between the attempt's own fields.
//
// A Segment is the text compressed as deflate blocks that end on a byte boundary and are not the
// final block (a sync flush), with the text's CRC-32 and length. Such blocks can follow any
// byte-aligned, non-final deflate blocks: their back-references only reach into their own text, which
// keeps its offsets wherever it is placed. Gzip writes the per-request head and tail around it as
// stored (uncompressed) blocks, so a response costs a copy and a checksum of the head and tail, and
// nothing for the text: no compressor runs while candidates wait. RFC 1951 (deflate) §3.2.4 and
// RFC 1952 (gzip).
package gzsplice

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// header is a Segment's prefix: the text's CRC-32 (IEEE) and length, both little-endian uint32.
const header = 8

// MaxText is the longest text a Segment holds: a paper's questions are a few KB, and at the bank's
// bounds (texts of 64 KB) a few MB. Text refuses a segment whose header claims more before it reads.
const MaxText = 64 << 20

// Segment is a text compressed to be spliced into gzip streams: an 8-byte header and the deflate
// blocks. It is stored as it is (a bytea).
type Segment []byte

// Compress makes a text's Segment.
func Compress(text []byte) (Segment, error) {
	if len(text) > MaxText {
		return nil, fmt.Errorf("gzsplice: text of %d bytes is longer than %d", len(text), MaxText)
	}
	var b bytes.Buffer
	b.Grow(header + len(text)/3)
	var h [header]byte
	binary.LittleEndian.PutUint32(h[0:], crc32.ChecksumIEEE(text))
	binary.LittleEndian.PutUint32(h[4:], uint32(len(text)))
	b.Write(h[:])
	w, err := flate.NewWriter(&b, flate.BestCompression) // once per text, when it is stored
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(text); err != nil {
		return nil, err
	}
	// Flush, not Close: the blocks end byte-aligned with an empty stored block and none is final.
	if err := w.Flush(); err != nil {
		return nil, err
	}
	return Segment(b.Bytes()), nil
}

var errBadSegment = errors.New("gzsplice: not a segment")

func (s Segment) parse() (crc uint32, n int, blocks []byte, err error) {
	if len(s) < header {
		return 0, 0, nil, errBadSegment
	}
	n = int(binary.LittleEndian.Uint32(s[4:]))
	if n > MaxText {
		return 0, 0, nil, fmt.Errorf("gzsplice: segment claims %d bytes, more than %d", n, MaxText)
	}
	return binary.LittleEndian.Uint32(s), n, s[header:], nil
}

// finalEmpty is an empty final stored block: it ends a deflate stream made of non-final blocks.
var finalEmpty = []byte{0x01, 0x00, 0x00, 0xff, 0xff}

// Text decompresses the segment, and checks its length and checksum.
func (s Segment) Text() ([]byte, error) {
	crc, n, blocks, err := s.parse()
	if err != nil {
		return nil, err
	}
	r := flate.NewReader(io.MultiReader(bytes.NewReader(blocks), bytes.NewReader(finalEmpty)))
	defer r.Close()
	// One byte more than the header says is enough to tell a damaged segment; it cannot grow further.
	out, err := io.ReadAll(io.LimitReader(r, int64(n)+1))
	if err != nil {
		return nil, fmt.Errorf("gzsplice: %w", err)
	}
	if len(out) != n || crc32.ChecksumIEEE(out) != crc {
		return nil, errors.New("gzsplice: segment damaged (length or checksum)")
	}
	return out, nil
}

// AppendGzip appends to dst one gzip member whose content is head, the segment's text and tail, in
// that order. head and tail go in stored blocks.
func AppendGzip(dst, head []byte, s Segment, tail []byte) ([]byte, error) {
	crc, n, blocks, err := s.parse()
	if err != nil {
		return dst, err
	}
	// RFC 1952 member header: ID1 ID2, CM = 8 (deflate), no flags, no mtime, XFL 0, OS 255 (unknown).
	dst = append(dst, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff)
	dst = appendStored(dst, head, false)
	dst = append(dst, blocks...)
	dst = appendStored(dst, tail, true)
	sum := crc32.ChecksumIEEE(head)
	sum = combine(sum, crc, int64(n))
	sum = crc32.Update(sum, crc32.IEEETable, tail)
	return binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(dst, sum), uint32(len(head)+n+len(tail))), nil
}

// appendStored appends p as stored deflate blocks (at most 65,535 bytes each) starting on a byte
// boundary; the last one is final when final is set. An empty p still writes one (empty) block.
func appendStored(dst, p []byte, final bool) []byte {
	for {
		m := min(len(p), 0xffff)
		last := m == len(p)
		var bfinal byte
		if last && final {
			bfinal = 1
		}
		dst = append(dst, bfinal) // BFINAL, BTYPE 00 (stored), then padding to the byte boundary
		dst = binary.LittleEndian.AppendUint16(dst, uint16(m))
		dst = binary.LittleEndian.AppendUint16(dst, ^uint16(m))
		dst = append(dst, p[:m]...)
		p = p[m:]
		if last {
			return dst
		}
	}
}

// combine returns the CRC-32 of A followed by B from crcA, crcB and B's length: CRC-32 is linear over
// GF(2), so crc(A‖B) is crc(A) multiplied by x^(8·len(B)) modulo the polynomial, plus crc(B).
func combine(crcA, crcB uint32, lenB int64) uint32 {
	if lenB <= 0 {
		return crcA
	}
	return mulMod(xPow8n(lenB), crcA) ^ crcB
}

// Polynomials here are bit-reflected, as in CRC-32 (IEEE): the top bit is x^0.
const poly = 0xedb88320

// mulMod multiplies a and b modulo the CRC polynomial.
func mulMod(a, b uint32) uint32 {
	var p uint32
	for m := uint32(1) << 31; m != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
		}
		// b ← b·x mod poly
		if b&1 != 0 {
			b = b>>1 ^ poly
		} else {
			b >>= 1
		}
	}
	return p
}

// powers[k] is x^(2^k) modulo the polynomial.
var powers = func() (t [64]uint32) {
	p := uint32(1) << 30 // x^1
	for k := range t {
		t[k] = p
		p = mulMod(p, p)
	}
	return t
}()

// xPow8n returns x^(8n) modulo the polynomial: the shift of a CRC over n bytes.
func xPow8n(n int64) uint32 {
	p := uint32(1) << 31 // x^0
	for k := 3; n != 0; k, n = k+1, n>>1 {
		if n&1 != 0 {
			p = mulMod(powers[k], p)
		}
	}
	return p
}
