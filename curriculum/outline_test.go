package curriculum

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"shanyu/internal/failure"
)

func TestOutlineRoundTrip(t *testing.T) {
	t.Parallel()
	mods := sampleCourse("x").Modules
	mods[0].Lessons[1].VideoURL = "https://example.org/v.mp4"
	mods[0].Lessons[1].Body = "第一段\n\n- 要点"
	got, err := ParseOutline(FormatOutline(mods))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(mods, got); d != "" {
		t.Fatalf("round trip (-want +got):\n%s", d)
	}
}

func TestOutlineErrorsNameTheLine(t *testing.T) {
	t.Parallel()
	for name, text := range map[string]string{
		"lesson before module": "--- 喂养 | 1 | 60\n",
		"bad hours":            "=== 模块\n--- 喂养 | 一 | 60\n",
		"missing fields":       "=== 模块\n--- 喂养\n",
		"stray text":           "前言\n=== 模块\n",
	} {
		_, err := ParseOutline(text)
		if e := failure.As(err); e.Kind != failure.Invalid || e.Fields["outline"].Key == "" {
			t.Errorf("%s: %v", name, err)
		}
	}
}
