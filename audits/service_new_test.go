package audits

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestNewRequiresItsCollaborators: New panics, naming the field, without the accounts service, the
// certificates, the exam results, or (unless ReportsElsewhere) the report tools and words; and
// ReportsElsewhere with tools given is refused as contradictory.
func TestNewRequiresItsCollaborators(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tools, labels := testTools{}, testLabels()
	full := func() Deps {
		return Deps{Accounts: f.acc, Certificates: platformCerts{}, Exams: &fakeExams{}, Reports: tools, Labels: &labels}
	}
	built := func(d Deps) (s *Service, msg string) {
		defer func() {
			if r := recover(); r != nil {
				msg = fmt.Sprint(r)
			}
		}()
		s, err := New(context.Background(), f.pool, d)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return s, ""
	}
	if s, msg := built(full()); s == nil || msg != "" {
		t.Fatalf("with every collaborator: %v, panic %q", s, msg)
	}
	elsewhere := Deps{Accounts: f.acc, Certificates: platformCerts{}, Exams: &fakeExams{}, ReportsElsewhere: true}
	if s, msg := built(elsewhere); s == nil || msg != "" {
		t.Fatalf("ReportsElsewhere without tools: %v, panic %q", s, msg)
	}
	for _, c := range []struct {
		name, want string
		change     func(*Deps)
	}{
		{"no accounts", "Deps.Accounts ", func(d *Deps) { d.Accounts = nil }},
		{"no certificates", "Deps.Certificates ", func(d *Deps) { d.Certificates = nil }},
		{"no exam results", "Deps.Exams ", func(d *Deps) { d.Exams = nil }},
		{"no report tools", "Deps.Reports ", func(d *Deps) { d.Reports = nil }},
		{"no report words", "Deps.Labels ", func(d *Deps) { d.Labels = nil }},
		{"reports elsewhere, yet tools given", "Deps.ReportsElsewhere ", func(d *Deps) { d.ReportsElsewhere = true }},
	} {
		d := full()
		c.change(&d)
		if s, msg := built(d); s != nil || !strings.Contains(msg, c.want) {
			t.Errorf("%s: built %v, panic %q; want a panic naming %s", c.name, s != nil, msg, strings.TrimSpace(c.want))
		}
	}
}

// TestRosterCertificateStatusesAskTheCertificates: the statuses an offline inspection page carries
// are the certificates domain's, for the people on the roster and no one else.
func TestRosterCertificateStatusesAskTheCertificates(t *testing.T) {
	t.Parallel()
	certs := platformCerts{}
	f := newFixture(t, func(d *Deps) { d.Certificates = certs })
	ctx := context.Background()
	on := f.staff(t, f.org.ID, "在册保育员", "", 0, []string{"caregiver"}, "")
	other := f.institution(t, 2)
	off := f.staff(t, other.ID, "他园保育员", "", 0, []string{"caregiver"}, "")
	certs[on.PersonID] = []Cert{{Number: "330100202600001", Occupation: "4-10-01-03", Level: 4, Status: CertRevoked, Verified: true},
		{Number: "330100202600002", Occupation: "4-10-01-03", Level: 3, Status: CertValid, Verified: true}}
	certs[off.PersonID] = []Cert{{Number: "330100202600003", Occupation: "4-10-01-03", Level: 4, Status: CertSuspended, Verified: true}}
	got, err := f.svc.RosterCertificateStatuses(ctx, f.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"330100202600001": CertRevoked, "330100202600002": CertValid}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}
}
