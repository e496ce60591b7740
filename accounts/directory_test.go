package accounts

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/internal/pgtest"
)

// addStaff inserts n accounts holding a trainer grant in the organisation's domain (plain SQL: the
// password hashing CreateUser does would make a 30-person list slow to build).
func addStaff(t *testing.T, s *Service, domain, prefix string, n int) {
	t.Helper()
	if _, err := s.db.Exec(context.Background(), `WITH p AS (INSERT INTO people (name) SELECT '员工' || $2 || g FROM generate_series(1, $1) g RETURNING id, name),
		u AS (INSERT INTO users (person_id, username, password_hash) SELECT p.id, 'staff.' || $2 || p.id, 'x' FROM p RETURNING id)
		INSERT INTO role_grants (user_id, role, domain) SELECT id, 'trainer', $3 FROM u`, n, prefix, domain); err != nil {
		t.Fatal(err)
	}
}

// TestStaffListQueriesDoNotGrowWithItsLength counts the statements a staff list sends, with a pgx
// tracer, for 3 and for 30 members: the same number (it was one per member before).
// countingService is a service on a fresh database with the regions, whose statements a test may count.
func countingService(t *testing.T) (*Service, *pgxpool.Pool) {
	t.Helper()
	db := pgtest.NewCounting(t)
	if _, err := SeedRegions(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	s, err := New(db, testSecret, DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	return s, db
}

func TestStaffListQueriesDoNotGrowWithItsLength(t *testing.T) {
	t.Parallel()
	s, db := countingService(t)
	ctx := context.Background()
	if _, err := db.Exec(ctx, `INSERT INTO organisations (kind, code, name, region_code) VALUES ('training_centre', 'CNT01', '计数培训中心', '33')`); err != nil {
		t.Fatal(err)
	}
	domain := OrgDomain("CNT01")
	addStaff(t, s, "region:33", "elsewhere", 2) // grants elsewhere are not listed
	count := func(want int) int {
		t.Helper()
		cctx, q := pgtest.CountQueries(ctx)
		list, total, err := s.Staff(cctx, domain, 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != want || total != want {
			t.Fatalf("staff: %d listed, total %d; want %d", len(list), total, want)
		}
		for _, m := range list {
			if m.Grant.Domain != domain || m.User.ID != m.Grant.UserID || m.User.Name == "" {
				t.Fatalf("staff member %+v", m)
			}
		}
		return q.N()
	}
	addStaff(t, s, domain, "a", 3)
	small := count(3)
	addStaff(t, s, domain, "b", 27)
	large := count(30)
	if small != large || small == 0 {
		t.Fatalf("a staff list of 3 sent %d statements, of 30 sent %d: want the same", small, large)
	}
	// A page is a page: the total still says how many there are.
	cctx, _ := pgtest.CountQueries(ctx)
	page, total, err := s.Staff(cctx, domain, 20, 20)
	if err != nil || len(page) != 10 || total != 30 {
		t.Fatalf("second page: %d of %d (%v); want 10 of 30", len(page), total, err)
	}
}

// TestStaffAccountIsCreatedWithItsRoleOrNotAtAll: a grant that cannot be made (unknown domain)
// leaves no account behind, since the user and the grant are one transaction.
func TestStaffAccountIsCreatedWithItsRoleOrNotAtAll(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	in := CreateUserInput{Username: "new.trainer", Name: "新培训师", Password: "a long enough Passw0rd!", Role: RoleTrainer, Domain: OrgDomain("NOSUCH")}
	if _, err := s.CreateUser(ctx, 0, in); err == nil || fieldsOf(err)["domain"] == "" {
		t.Fatalf("grant in an unknown organisation: %v (fields %v)", err, fieldsOf(err))
	}
	if _, err := s.UserByUsername(ctx, "new.trainer"); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("the account was kept without its grant: %v", err)
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO organisations (kind, code, name, region_code) VALUES ('training_centre', 'OK01', '培训中心', '33')`); err != nil {
		t.Fatal(err)
	}
	in.Domain = OrgDomain("OK01")
	u, err := s.CreateUser(ctx, 0, in)
	if err != nil {
		t.Fatal(err)
	}
	grants, err := s.GrantsOf(ctx, u.ID)
	if err != nil || len(grants) != 1 || grants[0].Role != RoleTrainer || grants[0].Domain != in.Domain {
		t.Fatalf("grants of the new account: %v %v", grants, err)
	}
	var audited int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE subject = $1 AND action IN ('user.create', 'grant')`, fmt.Sprintf("user:%d", u.ID)).Scan(&audited); err != nil || audited != 2 {
		t.Fatalf("audit rows: %d (%v); want user.create and grant", audited, err)
	}
}

// TestUserListGrantsInConstantQueries counts the statements the admin's user list sends (the page of
// users, then their grants) for 3 and for 30 users: the same number (it read grants once per user).
func TestUserListGrantsInConstantQueries(t *testing.T) {
	t.Parallel()
	s, _ := countingService(t)
	ctx := context.Background()
	count := func(want int) int {
		t.Helper()
		cctx, q := pgtest.CountQueries(ctx)
		users, total, err := s.ListUsers(cctx, UserFilter{Query: "staff.", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]int64, len(users))
		for i, u := range users {
			ids[i] = u.ID
		}
		grants, err := s.GrantsOfUsers(cctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(users) != want || total != want {
			t.Fatalf("users: %d listed, total %d; want %d", len(users), total, want)
		}
		for _, u := range users {
			if g := grants[u.ID]; len(g) != 1 || g[0].UserID != u.ID || g[0].Role != RoleTrainer {
				t.Fatalf("grants of %s: %+v; want its one trainer grant", u.Username, g)
			}
		}
		return q.N()
	}
	addStaff(t, s, "region:33", "a", 3)
	small := count(3)
	addStaff(t, s, "region:33", "b", 27)
	large := count(30)
	if small != large || small == 0 {
		t.Fatalf("a user list of 3 sent %d statements, of 30 sent %d: want the same", small, large)
	}
}
