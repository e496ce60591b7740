package audits

import (
	"strings"
	"testing"
	"time"
)

var today = time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)

// complete returns facts that satisfy every non-qualification requirement.
func complete(certs ...Cert) PersonFacts {
	return PersonFacts{Certificates: certs, HealthValidUntil: today.AddDate(0, 6, 0), NoCriminalRecordIssued: today.AddDate(-1, 0, 0), On: today}
}

func cert(occ string, level int, status string) Cert {
	return Cert{Number: "N-" + occ, Occupation: occ, Level: level, Status: status, ExpiresOn: today.AddDate(1, 0, 0), Verified: true}
}

func TestEveryPostQualificationLevelAndState(t *testing.T) {
	t.Parallel()
	p, err := NewPolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Posts(), ","); got != "caregiver,director,health,security" {
		t.Fatalf("posts = %s", got)
	}
	// What each post accepts: occupation → true when any level qualifies.
	accepts := map[string]map[string]bool{
		"caregiver": {"4-10-01-03": true, "4-10-01-02": true},
		"director":  {"director-training": true},
		"health":    {"health-staff-training": true},
		"security":  {"security-guard": true},
	}
	// The levels each occupation has (standards.md §2); occupations without levels are recorded as 5.
	levels := map[string][]int{"4-10-01-03": {1, 2, 3, 4, 5}, "4-10-01-02": {3, 4, 5},
		"director-training": {5}, "health-staff-training": {5}, "security-guard": {5}}
	occupations := []string{"4-10-01-03", "4-10-01-02", "director-training", "health-staff-training", "security-guard"}
	states := []string{CertValid, CertExpired, CertSuspended, CertRevoked}
	for _, post := range p.Posts() {
		for _, occ := range occupations {
			for _, level := range levels[occ] {
				for _, st := range states {
					d, err := p.Decide(post, complete(cert(occ, level, st)))
					if err != nil {
						t.Fatal(err)
					}
					want := accepts[post][occ] && st == CertValid
					if d.Qualified != want {
						t.Errorf("%s with %s level %d %s: qualified=%v, want %v (%+v)", post, occ, level, st, d.Qualified, want, d.Gaps)
					}
					if !want && len(d.Gaps) == 0 {
						t.Errorf("%s with %s level %d %s: refused without a reason", post, occ, level, st)
					}
					if want && len(d.Matched) != 3 {
						t.Errorf("%s: want one matched rule per group (qualification, health, background), got %v", post, d.Matched)
					}
					if accepts[post][occ] && st != CertValid {
						if d.Gaps[0].Reason != st {
							t.Errorf("%s with %s %s: reason %q", post, occ, st, d.Gaps[0].Reason)
						}
					}
				}
			}
		}
	}
}

func TestHigherLevelImpliesLower(t *testing.T) {
	t.Parallel()
	p, err := NewPolicy([]string{
		// A regional rule asking for level 3 or better in a new post.
		"p, qual:4-10-01-03:3, post:lead_caregiver, qualification, allow",
	})
	if err != nil {
		t.Fatal(err)
	}
	for level, want := range map[int]bool{1: true, 2: true, 3: true, 4: false, 5: false} {
		d, err := p.Decide("lead_caregiver", complete(cert("4-10-01-03", level, CertValid)))
		if err != nil {
			t.Fatal(err)
		}
		if d.Qualified != want {
			t.Errorf("level %d: qualified=%v, want %v", level, d.Qualified, want)
		}
		if !want && d.Gaps[0].Reason != "level_too_low" {
			t.Errorf("level %d: reason %q, want level_too_low", level, d.Gaps[0].Reason)
		}
	}
}

func TestAllRequirementsAtOnce(t *testing.T) {
	t.Parallel()
	p, err := NewPolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	f := complete(cert("4-10-01-03", 4, CertValid))
	f.HealthValidUntil = today.AddDate(0, 0, -1) // expired yesterday
	d, err := p.Decide("caregiver", f)
	if err != nil {
		t.Fatal(err)
	}
	if d.Qualified || len(d.Gaps) != 1 || d.Gaps[0].Group != "health" || d.Gaps[0].Reason != "expired" {
		t.Fatalf("expired health certificate: %+v", d)
	}
	f.HealthValidUntil, f.NoCriminalRecordIssued = time.Time{}, time.Time{}
	d, _ = p.Decide("caregiver", f)
	if len(d.Gaps) != 2 {
		t.Fatalf("missing health and background: %+v", d.Gaps)
	}
	// A certificate past its expiry date counts as expired even if its status was not updated yet.
	old := cert("4-10-01-03", 4, CertValid)
	old.ExpiresOn = today.AddDate(0, 0, -1)
	d, _ = p.Decide("caregiver", complete(old))
	if d.Qualified || d.Gaps[0].Reason != CertExpired {
		t.Fatalf("expired by date: %+v", d)
	}
}

func TestBarredPersonHoldsNoPost(t *testing.T) {
	t.Parallel()
	p, err := NewPolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	f := complete(cert("4-10-01-03", 1, CertValid), cert("director-training", 5, CertValid),
		cert("health-staff-training", 5, CertValid), cert("security-guard", 5, CertValid))
	f.Barred = true
	for _, post := range p.Posts() {
		d, err := p.Decide(post, f)
		if err != nil {
			t.Fatal(err)
		}
		if d.Qualified || len(d.Gaps) != 1 || d.Gaps[0].Reason != "barred" || !strings.Contains(d.Matched[0], "deny") {
			t.Errorf("%s: barred person decision %+v", post, d)
		}
	}
	f.Barred = false
	for _, post := range p.Posts() {
		if d, _ := p.Decide(post, f); !d.Qualified {
			t.Errorf("%s: the same person, not barred, should qualify: %+v", post, d.Gaps)
		}
	}
}

func TestUnknownPost(t *testing.T) {
	t.Parallel()
	p, _ := NewPolicy(nil)
	d, err := p.Decide("astronaut", complete(cert("4-10-01-03", 1, CertValid)))
	if err != nil || d.Qualified || d.Gaps[0].Reason != "unknown_post" {
		t.Fatalf("%+v %v", d, err)
	}
}

// A regional rule carries its region in the casbin domain: it applies in that region and every
// region below it (codes nest by prefix), nowhere else; a rule without a region applies everywhere.
func TestRegionalRuleAppliesInItsRegionAndBelow(t *testing.T) {
	t.Parallel()
	p, err := NewPolicy([]string{
		"p, qual:4-10-01-03:3, region:3301*, post:lead_caregiver, qualification, allow",
		"p, qual:4-10-01-02:5, region:3302*, post:caregiver, qualification, deny",
		"p, qual:security-guard:5, post:gatekeeper, qualification, allow", // stored before rules had a region
	})
	if err != nil {
		t.Fatal(err)
	}
	in := func(region string, post string, c Cert) bool {
		t.Helper()
		f := complete(c)
		f.Region = region
		d, err := p.Decide(post, f)
		if err != nil {
			t.Fatal(err)
		}
		return d.Qualified
	}
	cases := []struct {
		name, region, post string
		cert               Cert
		want               bool
	}{
		{"lead caregiver in the rule's district", "330106", "lead_caregiver", cert("4-10-01-03", 3, CertValid), true},
		{"lead caregiver in the rule's city", "3301", "lead_caregiver", cert("4-10-01-03", 3, CertValid), true},
		{"lead caregiver in another city", "330203", "lead_caregiver", cert("4-10-01-03", 3, CertValid), false},
		{"lead caregiver in the province above", "33", "lead_caregiver", cert("4-10-01-03", 3, CertValid), false},
		{"育婴员 caregiver where it is denied", "330203", "caregiver", cert("4-10-01-02", 4, CertValid), false},
		{"育婴员 caregiver elsewhere", "330106", "caregiver", cert("4-10-01-02", 4, CertValid), true},
		{"a rule without region, anywhere", "330203", "gatekeeper", cert("security-guard", 5, CertValid), true},
	}
	for _, c := range cases {
		if got := in(c.region, c.post, c.cert); got != c.want {
			t.Errorf("%s: qualified=%v, want %v", c.name, got, c.want)
		}
	}
	// A post that only a rule of another region names is unknown here.
	f := complete(cert("4-10-01-03", 1, CertValid))
	f.Region = "330203"
	if d, _ := p.Decide("lead_caregiver", f); len(d.Gaps) != 1 || d.Gaps[0].Reason != "unknown_post" {
		t.Errorf("lead caregiver in Ningbo: %+v", d.Gaps)
	}
}

func TestNormaliseRuleReadsTheRegion(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"p,qual:4-10-01-03:3,region:3301*,post:lead_caregiver,qualification,allow": "p, qual:4-10-01-03:3, region:3301*, post:lead_caregiver, qualification, allow",
		"p, doc:health, post:cook, health, allow":                                  "p, doc:health, region:*, post:cook, health, allow",
		"g, qual:x:1, qual:x:2":                                                    "g, qual:x:1, qual:x:2",
	} {
		got, err := NormaliseRule(in)
		if err != nil || got != want {
			t.Errorf("NormaliseRule(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{
		"p, doc:health, region:3301, post:cook, health, allow",     // no * : not a region and below
		"p, doc:health, region:abc*, post:cook, health, allow",     // not a code
		"p, doc:health, org:HZI001, post:cook, health, allow",      // not a region
		"p, doc:health, region:3301*, cook, health, allow",         // no post:
		"p, doc:health, region:3301*, post:cook, health, maybe",    // no effect
		"p, doc:health, region:3301*, post:cook, health, allow, x", // too many parts
	} {
		if _, err := NormaliseRule(bad); err == nil {
			t.Errorf("NormaliseRule(%q) accepted", bad)
		}
	}
	if r := (Rule{Line: "p, qual:4-10-01-03:3, region:3301*, post:lead_caregiver, qualification, allow"}); r.Region() != "3301" {
		t.Errorf("region of a 3301 rule: %q", r.Region())
	}
	if r := (Rule{Line: "p, doc:health, region:*, post:cook, health, allow"}); r.Region() != "" {
		t.Errorf("region of a rule everywhere: %q", r.Region())
	}
}
