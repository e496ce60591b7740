package demo_test

import (
	"context"
	"io"
	"testing"
	"time"

	"shanyu/accounts"
	"shanyu/app/demo"
	"shanyu/audits"
	"shanyu/internal/config"
	"shanyu/internal/pgtest"
	"shanyu/internal/servertest"
)

// The audits demo: 20 Hangzhou institutions, the home childcare point HZH001 and NBI001 in Ningbo with
// ~200 staff, some unqualified or expiring, one class over its ratio, a finished round and one open
// inspection for the demo inspector; seeding twice adds nothing.
func TestSeedAudits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	cfg, err := config.Parse(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := demo.Seed(ctx, cfg, pool, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	full, err := servertest.Services(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	svc, acc := full.Audits, full.Accounts
	reports, err := svc.ComplianceOf(ctx, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	staff, unqualified, expiring, overRatio := 0, 0, 0, 0
	for _, r := range reports {
		staff += r.Staff
		unqualified += r.Unqualified
		expiring += len(r.Expiring)
		for _, c := range r.Classes {
			if c.UnderStaffed {
				overRatio++
			}
		}
	}
	if len(reports) != 22 || staff < 180 || staff > 260 || unqualified == 0 || expiring == 0 || overRatio == 0 {
		t.Errorf("%d institutions, %d staff, %d unqualified, %d expiring, %d classes over ratio", len(reports), staff, unqualified, expiring, overRatio)
	}
	hzi3, _ := acc.OrganisationByCode(ctx, "HZI003")
	for _, c := range reports[hzi3.ID].Classes {
		if c.Class.Type == "toddler_young" && !c.UnderStaffed {
			t.Errorf("HZI003's 托小班 should be over ratio: %+v", c)
		}
	}
	inspector, _ := acc.UserByUsername(ctx, "inspector")
	mine, err := svc.InspectionsFor(ctx, inspector.ID)
	if err != nil {
		t.Fatal(err)
	}
	open := 0
	for _, x := range mine {
		if x.Status == "open" {
			open++
		}
	}
	pub, _ := svc.PublicResults(ctx, 50)
	if open != 1 || len(pub) == 0 {
		t.Errorf("inspector has %d open inspections; %d published results", open, len(pub))
	}
	homePoint(t, ctx, svc, acc, reports)
}

// The demo home point is judged by the home_point row of the class table (at most 5 children, at
// most 3 per carer): as seeded (5 children, 2 carers) it complies; 6 children fail; 4 children with
// one carer fail; 3 with one carer comply.
func homePoint(t *testing.T, ctx context.Context, svc *audits.Service, acc *accounts.Service, reports map[int64]audits.Report) {
	t.Helper()
	hp, err := acc.OrganisationByCode(ctx, "HZH001")
	if err != nil {
		t.Fatal(err)
	}
	r := reports[hp.ID]
	if r.Kind != audits.KindHomePoint || r.Capacity != 5 || r.PerCarer != 3 || r.Staff != 2 || r.Children != 5 || !r.Compliant() {
		t.Fatalf("demo home point: kind %s capacity %d per carer %d staff %d children %d compliant %v (%d issues: %+v %v)",
			r.Kind, r.Capacity, r.PerCarer, r.Staff, r.Children, r.Compliant(), r.Issues(), r.Classes, r.MissingPosts)
	}
	class := func(children int) {
		t.Helper()
		if _, err := svc.SaveClass(ctx, audits.Class{OrganisationID: hp.ID, Name: "混龄组", Type: "mixed", Children: children}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string, wantCompliant bool) audits.Report {
		t.Helper()
		r, err := svc.Compliance(ctx, hp.ID, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if r.Compliant() != wantCompliant {
			t.Errorf("%s: compliant=%v, want %v (%+v, over capacity %v)", what, r.Compliant(), wantCompliant, r.Classes, r.OverCapacity)
		}
		return r
	}
	class(6)
	if r := check("6 children", false); !r.OverCapacity || !r.Classes[0].OverSize {
		t.Errorf("6 children: over capacity %v, class %+v", r.OverCapacity, r.Classes[0])
	}
	roster, err := svc.Roster(ctx, hp.ID)
	if err != nil || len(roster) != 2 {
		t.Fatalf("roster: %v %v", roster, err)
	}
	if err := svc.RemoveMember(ctx, hp.ID, roster[1].ID); err != nil {
		t.Fatal(err)
	}
	class(4)
	if r := check("4 children with one carer", false); !r.Classes[0].UnderStaffed || r.Classes[0].NeededCaregivers != 2 || r.OverCapacity {
		t.Errorf("4 children with one carer: %+v", r.Classes[0])
	}
	class(3)
	check("3 children with one carer", true)
}
