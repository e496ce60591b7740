package failure

import (
	"errors"
	"fmt"
	"testing"
)

var errNoCourse = New(NotFound, "curriculum.course_not_found")

func TestSentinelSurvivesWrapping(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("load course 7: %w", errNoCourse.Wrap(errors.New("no rows")))
	if !errors.Is(err, errNoCourse) {
		t.Fatal("errors.Is lost the sentinel")
	}
	if got := As(err); got.Kind != NotFound || got.Msg.Key != "curriculum.course_not_found" {
		t.Fatalf("As = %+v", got)
	}
}

func TestFields(t *testing.T) {
	t.Parallel()
	var f Fields
	if f.Err() != nil {
		t.Fatal("empty fields gave an error")
	}
	f.Add("phone", "accounts.phone_invalid")
	f.Add("phone", "accounts.phone_taken")
	e := As(f.Err())
	if e.Kind != Invalid || e.Fields["phone"].Key != "accounts.phone_invalid" {
		t.Fatalf("got %+v", e)
	}
}

func TestUnknownErrorIsInternal(t *testing.T) {
	t.Parallel()
	if k := As(errors.New("boom")).Kind; k != Internal {
		t.Fatalf("kind = %v", k)
	}
}
