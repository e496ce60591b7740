package audits

import "testing"

func TestClassBoundaries(t *testing.T) {
	t.Parallel()
	types, err := DefaultClassTypes()
	if err != nil {
		t.Fatal(err)
	}
	byCode := map[string]ClassType{}
	for _, ct := range types {
		byCode[ct.Code] = ct
	}
	cases := []struct {
		class               string
		children, caregiver int
		overSize, under     bool
		need                int
	}{
		{"infant", 10, 4, false, false, 4}, // 10 / 3 → 4 caregivers
		{"infant", 9, 3, false, false, 3},  // exactly 1:3
		{"infant", 10, 3, false, true, 4},  // one short
		{"infant", 11, 4, true, false, 4},  // over the maximum of 10
		{"toddler_young", 15, 3, false, false, 3},
		{"toddler_young", 16, 4, true, false, 4},
		{"toddler_old", 20, 3, false, false, 3},
		{"toddler_old", 21, 3, true, false, 3},
		{"toddler_old", 22, 3, true, true, 4},
		{"mixed", 18, 4, false, false, 4},
		{"mixed", 0, 0, false, false, 0},
	}
	for _, c := range cases {
		got := CheckClass(byCode[c.class], c.children, c.caregiver)
		if got.OverSize != c.overSize || got.UnderStaffed != c.under || got.NeededCaregivers != c.need {
			t.Errorf("%s %d children, %d caregivers: %+v", c.class, c.children, c.caregiver, got)
		}
	}
}

func TestRequiredPosts(t *testing.T) {
	t.Parallel()
	s, err := DefaultStaffing()
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Required(149); len(got) != 2 {
		t.Errorf("149 children: %v", got)
	}
	if got := s.Required(150); len(got) != 3 || got[2] != "health" {
		t.Errorf("150 children: %v", got)
	}
}
