package audits

import (
	"context"
	"errors"
	"testing"
)

// Posts are given, changed and taken away only within the institution and only for posts the policy
// knows; a class an inspection counted cannot be removed; every change is audit-logged.
func TestRosterEditsStayInTheInstitutionAndAreAudited(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	other := f.institution(t, 2)
	f.class(t, "小一班", "toddler_young", 5)
	m := f.staff(t, f.org.ID, "王保育", "4-10-01-03", 4, nil, "")
	if err := f.svc.AssignPost(ctx, f.admin, other.ID, m.ID, "caregiver", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("assign through another institution: %v", err)
	}
	if err := f.svc.AssignPost(ctx, f.admin, f.org.ID, m.ID, "astronaut", ""); err == nil {
		t.Fatal("unknown post accepted")
	}
	if err := f.svc.AssignPost(ctx, f.admin, f.org.ID, m.ID, "caregiver", "no such class"); err == nil {
		t.Fatal("unknown class accepted")
	}
	if err := f.svc.AssignPost(ctx, f.admin, f.org.ID, m.ID, "caregiver", "小一班"); err != nil {
		t.Fatal(err)
	}
	rep, err := f.svc.Compliance(ctx, f.org.ID, today)
	if err != nil || len(rep.Assignments) != 1 || rep.Assignments[0].Post != "caregiver" || rep.Assignments[0].ClassID == 0 {
		t.Fatalf("%+v %v", rep.Assignments, err)
	}
	a := rep.Assignments[0].AssignmentID
	if err := f.svc.ChangeAssignment(ctx, f.admin, other.ID, a, "director", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("change through another institution: %v", err)
	}
	if err := f.svc.ChangeAssignment(ctx, f.admin, f.org.ID, a, "director", ""); err != nil {
		t.Fatal(err)
	}
	rep, _ = f.svc.Compliance(ctx, f.org.ID, today)
	if len(rep.Assignments) != 1 || rep.Assignments[0].Post != "director" || rep.Assignments[0].ClassID != 0 {
		t.Fatalf("changed: %+v", rep.Assignments)
	}
	if err := f.svc.RemoveAssignment(ctx, f.admin, f.org.ID, rep.Assignments[0].AssignmentID); err != nil {
		t.Fatal(err)
	}
	if rep, _ = f.svc.Compliance(ctx, f.org.ID, today); len(rep.Assignments) != 0 {
		t.Fatalf("removed: %+v", rep.Assignments)
	}

	c, err := f.svc.EditClass(ctx, f.admin, Class{OrganisationID: f.org.ID, Name: "乳儿班", Type: "infant", Children: 4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.EditClass(ctx, f.admin, Class{ID: c.ID, OrganisationID: f.org.ID, Name: "小一班", Type: "infant", Children: 4}); err == nil {
		t.Fatal("renamed onto an existing class")
	}
	if _, err := f.svc.EditClass(ctx, f.admin, Class{ID: c.ID, OrganisationID: other.ID, Name: "乳儿班", Type: "infant", Children: 5}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("edit through another institution: %v", err)
	}
	if _, err := f.svc.EditClass(ctx, f.admin, Class{ID: c.ID, OrganisationID: f.org.ID, Name: "乳儿一班", Type: "infant", Children: 6}); err != nil {
		t.Fatal(err)
	}
	// A class counted by an inspection stays.
	f.user(t, "insp-a", "inspector", "region:3301")
	insp := f.user(t, "insp-b", "inspector", "region:3301")
	if _, err := f.svc.CreateRound(ctx, f.admin, RoundInput{RegionCode: "330106", Name: "班级", Count: 2, PerInspection: 2, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	xs, _ := f.svc.InspectionsFor(ctx, insp)
	var target int64
	for _, x := range xs {
		if x.OrganisationID == f.org.ID {
			target = x.ID
		}
	}
	if target == 0 {
		t.Fatalf("the round drew no inspection of %s: %+v", f.org.Code, xs)
	}
	if err := f.svc.SetHeadcount(ctx, insp, target, Headcount{ClassID: c.ID, Children: 6, Caregivers: 2}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RemoveClass(ctx, f.admin, f.org.ID, c.ID); !errors.Is(err, ErrClassInUse) {
		t.Fatalf("counted class removed: %v", err)
	}
	classes, _ := f.svc.Classes(ctx, f.org.ID)
	for _, x := range classes {
		if x.Name == "小一班" {
			if err := f.svc.RemoveClass(ctx, f.admin, f.org.ID, x.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.svc.RemoveClass(ctx, f.admin, other.ID, c.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove through another institution: %v", err)
	}
	var n int
	if err := f.pool.QueryRow(ctx, `SELECT count(DISTINCT action) FROM audit_log WHERE action IN ('roster.assign', 'roster.assignment_change', 'roster.unassign', 'class.save', 'class.remove')`).Scan(&n); err != nil || n != 5 {
		t.Fatalf("audited actions: %d %v", n, err)
	}
}
