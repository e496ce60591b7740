package server_test

import (
	"archive/zip"
	"bytes"
	"net/http"
	"testing"
)

// TestBankQTIExportImportsBackOverHTTP: the export page's QTI package is a zip with a manifest, and
// uploading it with the form's format left on Excel is read as QTI (detected from its content): into
// the same bank its question is recognised as already there.
func TestBankQTIExportImportsBackOverHTTP(t *testing.T) {
	t.Parallel()
	srv := startWithDemo(t)
	trainer := mustLogin(t, srv, "trainer")
	if r := trainer.send("POST", "/api/v1/centres/HZ001/bank/items", map[string]any{"type": "true_false", "stem": "奶瓶应每次使用后清洗。", "points": 1, "truth": true}); r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	r := trainer.do("GET", "/api/v1/centres/HZ001/bank/export?format=qti", nil, nil)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("export: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	zr, err := zip.NewReader(bytes.NewReader(r.Body), int64(len(r.Body)))
	if err != nil {
		t.Fatal(err)
	}
	if zr.File[len(zr.File)-1].Name != "imsmanifest.xml" {
		t.Errorf("package files: %v", zr.File)
	}
	p := decode[previewJSON](t, trainer.upload("/api/v1/centres/HZ001/bank/import/preview", "xlsx", "bank-qti.zip", r.Body, ""))
	if p.Questions == 0 || len(p.Create) != 0 || len(p.Skipped) != p.Questions || p.Skipped[0].Reason != "bank.import.exists" {
		t.Fatalf("preview = %+v", p)
	}
}
