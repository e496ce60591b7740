package gzsplice

import (
	"bytes"
	"compress/gzip"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
)

func TestCombineIsTheChecksumOfTheConcatenation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range [][2]int{{0, 0}, {0, 5}, {5, 0}, {1, 1}, {17, 100_000}, {3000, 1}, {8192, 65_537}} {
		a, b := make([]byte, n[0]), make([]byte, n[1])
		for i := range a {
			a[i] = byte(rng.Uint32())
		}
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		want := crc32.ChecksumIEEE(append(append([]byte{}, a...), b...))
		if got := combine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), int64(len(b))); got != want {
			t.Errorf("lengths %v: combine %08x, checksum of both %08x", n, got, want)
		}
	}
}

// paperText is JSON like a stored paper's questions: repetitive, as the compressor will find it.
func paperText(n int) []byte {
	var b strings.Builder
	b.WriteString("[")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"position":` + strings.Repeat("7", i%5+1) + `,"type":"single","stem":"婴幼儿发热时，保育师首先应当","options":["测量体温","喂退烧药","通知家长","继续观察"]}`)
	}
	b.WriteString("]")
	return []byte(b.String())
}

func TestSplicedStreamIsOrdinaryGzip(t *testing.T) {
	big := make([]byte, 70_000) // a tail longer than one stored block
	for i := range big {
		big[i] = 'a' + byte(i%26)
	}
	for _, tc := range []struct {
		name             string
		head, text, tail []byte
	}{
		{"paper", []byte(`{"attempt":{"id":1},"paper":{"questions":`), paperText(36), []byte(`,"answers":{}}}`)},
		{"empty head and tail", nil, paperText(3), nil},
		{"empty text", []byte(`{"questions":`), []byte{}, []byte(`}`)},
		{"long tail", []byte(`[`), paperText(1), big},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seg, err := Compress(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.text) > 1000 && len(seg) > len(tc.text)/2 {
				t.Errorf("segment of %d bytes for a text of %d", len(seg), len(tc.text))
			}
			gz, err := AppendGzip([]byte("kept"), tc.head, seg, tc.tail)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(gz, []byte("kept")) {
				t.Fatal("dst not kept")
			}
			gz = gz[4:]
			want := append(append(append([]byte{}, tc.head...), tc.text...), tc.tail...)
			r, err := gzip.NewReader(bytes.NewReader(gz))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r) // checks the CRC and the length at the end
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("decompressed %d bytes, want %d", len(got), len(want))
			}
			// An independent decoder: gzip(1), which also checks the trailer.
			if path, err := exec.LookPath("gzip"); err == nil {
				cmd := exec.Command(path, "-dc")
				cmd.Stdin = bytes.NewReader(gz)
				out, err := cmd.Output()
				if err != nil || !bytes.Equal(out, want) {
					t.Fatalf("gzip -dc: %v (%d bytes, want %d)", err, len(out), len(want))
				}
			}
			text, err := seg.Text()
			if err != nil || !bytes.Equal(text, tc.text) {
				t.Fatalf("Text: %v", err)
			}
		})
	}
}

func TestDamagedSegmentsAreRefused(t *testing.T) {
	seg, err := Compress(paperText(10))
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]Segment{
		"short":                 seg[:5],
		"checksum":              append(Segment{seg[0] ^ 1}, seg[1:]...),
		"length":                append(append(Segment{}, seg[:4]...), append([]byte{1, 0, 0, 0}, seg[8:]...)...),
		"length too big":        append(append(Segment{}, seg[:4]...), append([]byte{0, 0, 0, 1}, seg[8:]...)...),
		"length over the bound": append(append(Segment{}, seg[:4]...), append([]byte{0xff, 0xff, 0xff, 0xff}, seg[8:]...)...),
	} {
		if _, err := s.Text(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Compress(make([]byte, MaxText+1)); err == nil {
		t.Error("Compress of a text over MaxText: no error")
	}
	if _, err := AppendGzip(nil, nil, seg[:3], nil); err == nil {
		t.Error("AppendGzip of a short segment: no error")
	}
}
