package server_test

import (
	"net/http"
	"testing"
)

// TestBankImportReadsTheFormatFromTheFile: a GIFT file uploaded with the format left on Excel (or on
// nothing) is previewed as GIFT instead of failing with an empty format error.
func TestBankImportReadsTheFormatFromTheFile(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	trainer := mustLogin(t, srv, "trainer")
	for _, chosen := range []string{"xlsx", "moodlexml", ""} {
		r := trainer.upload("/api/v1/centres/HZ001/bank/import/preview", chosen, "small.txt", []byte(smallGIFT), "")
		if r.Status != http.StatusOK {
			t.Fatalf("GIFT sent as %q: %d %s", chosen, r.Status, r.Body)
		}
		if m := r.json(t); m["format"] != "gift" || m["questions"] != float64(3) {
			t.Errorf("GIFT sent as %q: read as %v with %v questions", chosen, m["format"], m["questions"])
		}
	}
}
