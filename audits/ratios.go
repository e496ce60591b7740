package audits

import (
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

//go:embed data/class_types.csv
var classTypesCSV string

//go:embed data/staffing.json
var staffingJSON []byte

// ClassType is a kind of class with its size limit and staffing ratio (editable data).
type ClassType struct {
	Code                 string
	Name, NameEN         string
	MinMonths, MaxMonths int
	MaxChildren          int
	ChildrenPerCaregiver int
}

// DefaultClassTypes reads the built-in class types (standards.md §4).
func DefaultClassTypes() ([]ClassType, error) {
	r := csv.NewReader(strings.NewReader(classTypesCSV))
	r.Comment = '#'
	r.TrimLeadingSpace = true
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("class_types.csv: %w", err)
	}
	var out []ClassType
	for i, rec := range recs {
		if len(rec) != 7 {
			return nil, fmt.Errorf("class_types.csv record %d: want 7 fields", i+1)
		}
		n := make([]int, 4)
		for j := range n {
			if n[j], err = strconv.Atoi(rec[3+j]); err != nil {
				return nil, fmt.Errorf("class_types.csv record %d: %w", i+1, err)
			}
		}
		out = append(out, ClassType{Code: rec[0], Name: rec[1], NameEN: rec[2], MinMonths: n[0], MaxMonths: n[1], MaxChildren: n[2], ChildrenPerCaregiver: n[3]})
	}
	return out, nil
}

// Staffing holds the institution-wide rules (editable data).
type Staffing struct {
	RequiredPosts           []string `json:"required_posts"`
	HomePointRequiredPosts  []string `json:"home_point_required_posts"`
	HealthStaffFromChildren int      `json:"health_staff_from_children"`
	ExpiryWarningDays       int      `json:"expiry_warning_days"`
}

// DefaultStaffing reads the built-in institution-wide rules.
func DefaultStaffing() (Staffing, error) {
	var s Staffing
	err := json.Unmarshal(staffingJSON, &s)
	return s, err
}

// ClassCheck is the outcome of checking one class against its type.
type ClassCheck struct {
	Children, Caregivers int
	NeededCaregivers     int
	OverSize             bool // more children than the type allows
	UnderStaffed         bool // fewer qualified caregivers than the ratio needs
}

// CheckClass compares a class's head counts with its type: size at most MaxChildren, and at least one
// qualified caregiver per ChildrenPerCaregiver children (rounded up).
func CheckClass(ct ClassType, children, qualifiedCaregivers int) ClassCheck {
	need := 0
	if children > 0 && ct.ChildrenPerCaregiver > 0 {
		need = (children + ct.ChildrenPerCaregiver - 1) / ct.ChildrenPerCaregiver
	}
	return ClassCheck{
		Children: children, Caregivers: qualifiedCaregivers, NeededCaregivers: need,
		OverSize:     children > ct.MaxChildren,
		UnderStaffed: qualifiedCaregivers < need,
	}
}

// RequiredPosts lists the posts an institution must fill given its number of children.
func (s Staffing) Required(totalChildren int) []string {
	out := append([]string(nil), s.RequiredPosts...)
	if s.HealthStaffFromChildren > 0 && totalChildren >= s.HealthStaffFromChildren {
		out = append(out, "health")
	}
	return out
}

// Institution kinds (audit_institution_kinds); no row is a centre.
const (
	KindCentre    = "centre"
	KindHomePoint = "home_point" // 家庭托育点: judged by the home_point class type as a whole
)
