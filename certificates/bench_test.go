package certificates

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkSignedPDF renders and signs certificates on every core, with the font parsed and the
// signing material loaded once, as a bulk issuance job does. Each PDF has its own holder name, so
// each gets its own font subset.
//
//	go test -run '^$' -bench SignedPDF -benchtime 5s ./certificates/
func BenchmarkSignedPDF(b *testing.B) {
	r := testRenderer(b)
	signer := testPDFSigner(b)
	base := testDocument(b, docOptions{Photo: testPhoto(b)})
	names := []string{"王晓雯", "李思远", "张欣怡", "陈一鸣", "刘佳琪", "赵子涵", "𠮷田春", "周雨桐"}
	var n, bytesOut atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			d := base
			i := n.Add(1)
			d.HolderName = names[i%int64(len(names))]
			s, err := Produce(ctx, r, signer, d, signedAt)
			if err != nil {
				b.Error(err)
				return
			}
			bytesOut.Add(int64(len(s.PDF)))
		}
	})
	elapsed := time.Since(start)
	b.ReportMetric(float64(n.Load())/elapsed.Seconds(), "PDFs/s")
	b.ReportMetric(float64(bytesOut.Load())/float64(n.Load()), "bytes/PDF")
}
