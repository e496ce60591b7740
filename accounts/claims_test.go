package accounts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
)

// The claim model (issue #14 item 4; OWASP ASVS 5.0 V6.3.8, no account enumeration at sign-up, and
// V6.4.x, identity proofing before the account is trusted): several accounts may claim one ID
// number; a centre's check of the card binds it to one of them, drops the other accounts' claims and
// audits each drop; the organisations' record of the number stays; a dropped claimant enters their
// own number and is checked like anyone, and cannot bind a number already bound.
func TestIDNumberClaimsBindOnCheckV6_3_8(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	const number, own = "11010519491231002X", "33010619880301901X"
	staff, err := s.CreateUser(ctx, 0, CreateUserInput{Username: "staff.claims", Name: "王审核", Password: "long-enough-pw"})
	if err != nil {
		t.Fatal(err)
	}
	owner, err := s.Signup(ctx, SignupInput{Name: "李小燕", Phone: "13800000101", IDNumber: number, Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	squatter, err := s.Signup(ctx, SignupInput{Name: "冒用者", Phone: "13800000102", IDNumber: number, Password: "correct horse"})
	if err != nil {
		t.Fatalf("a second claim of the number: %v", err)
	}
	other, err := s.Signup(ctx, SignupInput{Name: "另一人", Phone: "13800000103", IDNumber: number, Password: "correct horse"})
	if err != nil {
		t.Fatalf("a third claim of the number: %v", err)
	}
	// An institution's roster line for the number is a record of its own, never an account's claim.
	record, err := s.EnsurePerson(ctx, "李小燕", "", number)
	if err != nil {
		t.Fatal(err)
	}
	if record == owner.PersonID || record == squatter.PersonID || record == other.PersonID {
		t.Fatalf("the roster's record %d is an account's unchecked claim", record)
	}
	if again, err := s.EnsurePerson(ctx, "李小燕", "", number); err != nil || again != record {
		t.Fatalf("second roster line = %d, %v; want the record %d", again, err, record)
	}

	if err := s.VerifyIdentity(ctx, owner.PersonID, staff.ID); err != nil {
		t.Fatal(err)
	}
	ids, err := s.Identities(ctx, []int64{owner.PersonID, squatter.PersonID, other.PersonID, record})
	if err != nil {
		t.Fatal(err)
	}
	if o := ids[owner.PersonID]; !o.Verified || !o.HasIDNumber || o.ClaimDropped {
		t.Fatalf("owner after the check: %+v", o)
	}
	for _, p := range []int64{squatter.PersonID, other.PersonID} {
		if d := ids[p]; d.Verified || d.HasIDNumber || !d.ClaimDropped {
			t.Fatalf("claimant %d after the check: %+v, want no ID number and the claim dropped", p, d)
		}
		if _, err := s.RevealIDNumber(ctx, p); !errors.Is(err, ErrUserNotFound) {
			t.Fatalf("claimant %d still holds an ID number: %v", p, err)
		}
	}
	if u, err := s.UserByID(ctx, squatter.ID); err != nil || u.IDLast4 != "" || u.Disabled {
		t.Fatalf("squatter's account after the drop: %+v, %v; want an enabled account with no ID number", u, err)
	}
	if r := ids[record]; !r.HasIDNumber {
		t.Fatalf("the roster's record lost its number: %+v", r)
	}
	// Organisations keep naming their own record of the number (its roster lines and bars stay together).
	if id, err := s.PersonByIDNumber(ctx, number); err != nil || id != record {
		t.Fatalf("look-up after the check = %d, %v; want the organisations' record %d", id, err, record)
	}
	var drops int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'person.id_number.claim_dropped' AND actor_id = $1
		AND subject = ANY($2) AND details->>'bound_to' = $3`, staff.ID,
		[]string{userSubjectPerson(squatter.PersonID), userSubjectPerson(other.PersonID)}, userSubjectPerson(owner.PersonID)).Scan(&drops); err != nil {
		t.Fatal(err)
	}
	if drops != 2 {
		t.Fatalf("audited drops = %d, want 2", drops)
	}

	// The squatter claims the bound number again: accepted like any claim (nothing revealed), but a
	// centre cannot bind it twice.
	if err := s.ClaimIDNumber(ctx, squatter.ID, number); err != nil {
		t.Fatalf("claiming a bound number answers differently: %v", err)
	}
	if err := s.VerifyIdentity(ctx, squatter.PersonID, staff.ID); !errors.Is(err, ErrIDNumberBound) {
		t.Fatalf("binding a bound number again: %v, want ErrIDNumberBound", err)
	}
	// The other claimant enters their own number and is checked like anyone.
	if err := s.ClaimIDNumber(ctx, other.ID, "110105194912310021"); fieldsOf(err)["id_number"] != "accounts.id_number_invalid" {
		t.Fatalf("a number with a wrong check character: %v", err)
	}
	if err := s.ClaimIDNumber(ctx, other.ID, own); err != nil {
		t.Fatal(err)
	}
	if d := mustIdentity(t, s, other.PersonID); !d.HasIDNumber || !d.ClaimDropped || d.Verified {
		t.Fatalf("after entering their own number, before the check: %+v", d)
	}
	if err := s.VerifyIdentity(ctx, other.PersonID, staff.ID); err != nil {
		t.Fatal(err)
	}
	if d := mustIdentity(t, s, other.PersonID); !d.Verified || d.ClaimDropped {
		t.Fatalf("after the check of their own card: %+v", d)
	}
	if err := s.ClaimIDNumber(ctx, other.ID, number); !errors.Is(err, ErrIdentityFixed) {
		t.Fatalf("changing a checked number: %v, want ErrIdentityFixed", err)
	}
	if _, err := VerifyAudit(ctx, s.db); err != nil {
		t.Fatalf("audit chain: %v", err)
	}
}

// Two centres checking two claimants of one number at the same moment: exactly one binds it, the
// other is told the number is bound elsewhere (no deadlock, no two verified holders).
func TestIDNumberBindOnceUnderConcurrentChecks(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	staff, err := s.CreateUser(ctx, 0, CreateUserInput{Username: "staff.race", Name: "王审核", Password: "long-enough-pw"})
	if err != nil {
		t.Fatal(err)
	}
	var people [4]int64
	for i := range people {
		u, err := s.Signup(ctx, SignupInput{Name: "考生", Phone: fmt.Sprintf("1380000020%d", i), IDNumber: "33010619880301901X", Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		people[i] = u.PersonID
	}
	errs := make([]error, len(people))
	var wg sync.WaitGroup
	for i := range people {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.VerifyIdentity(ctx, people[i], staff.ID) }()
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, ErrIDNumberBound), errors.Is(err, ErrNoIDNumber): // bound elsewhere, or dropped before its turn
		default:
			t.Errorf("check %d: %v", i, err)
		}
	}
	var verified int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM people WHERE id = ANY($1) AND identity_verified_at IS NOT NULL`, people[:]).Scan(&verified); err != nil {
		t.Fatal(err)
	}
	if won != 1 || verified != 1 {
		t.Fatalf("%d checks succeeded and %d people are verified, want 1 and 1", won, verified)
	}
	// With no organisation's record of the number, organisations' look-ups find the bound person.
	bound := people[slices.IndexFunc(errs, func(err error) bool { return err == nil })]
	if id, err := s.PersonByIDNumber(ctx, "33010619880301901X"); err != nil || id != bound {
		t.Fatalf("look-up after the check = %d, %v; want the bound person %d", id, err, bound)
	}
	if again, err := s.EnsurePerson(ctx, "考生", "", "33010619880301901X"); err != nil || again != bound {
		t.Fatalf("a roster line after the check = %d, %v; want the bound person %d", again, err, bound)
	}
}

func userSubjectPerson(id int64) string { return fmt.Sprintf("person:%d", id) }

func mustIdentity(t *testing.T, s *Service, person int64) Identity {
	t.Helper()
	m, err := s.Identities(context.Background(), []int64{person})
	if err != nil {
		t.Fatal(err)
	}
	return m[person]
}
