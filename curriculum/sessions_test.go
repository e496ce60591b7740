package curriculum

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"shanyu/internal/failure"
)

func (f fixture) session(t *testing.T, capacity int) Session {
	t.Helper()
	ctx := context.Background()
	bases, err := f.acc.TrainingBases(ctx, f.hz.ID)
	if err != nil || len(bases) == 0 {
		t.Fatalf("bases: %v", err)
	}
	start := f.clock.now().Add(time.Hour)
	x, err := f.svc.CreateSession(ctx, f.trainer.ID, f.hz.ID, SessionInput{BaseID: bases[0].ID, Title: "生活照料实操", OccupationCode: "4-10-01-03", Level: 4,
		StartsAt: start, EndsAt: start.Add(3 * time.Hour), Capacity: capacity, TrainerID: f.trainer.ID, Hours: 3})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestSignUpWithWaitingList(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	x := f.session(t, 1)
	a, err := f.svc.SignUp(ctx, f.learner.PersonID, x.ID)
	if err != nil || a.Status != SignupConfirmed {
		t.Fatalf("first: %+v %v", a, err)
	}
	if _, err := f.svc.SignUp(ctx, f.learner.PersonID, x.ID); !errors.Is(err, ErrAlreadySignedUp) {
		t.Fatalf("twice: %v", err)
	}
	b, err := f.svc.SignUp(ctx, f.learner2.PersonID, x.ID)
	if err != nil || b.Status != SignupWaiting {
		t.Fatalf("second (full): %+v %v", b, err)
	}
	if err := f.svc.CancelSignUp(ctx, f.learner.PersonID, x.ID); err != nil {
		t.Fatal(err)
	}
	if b, _ = f.svc.SignupOf(ctx, x.ID, f.learner2.PersonID); b.Status != SignupConfirmed {
		t.Fatalf("waiting list not promoted: %+v", b)
	}
	if again, err := f.svc.SignUp(ctx, f.learner.PersonID, x.ID); err != nil || again.Status != SignupWaiting {
		t.Fatalf("signing up again after cancelling: %+v %v", again, err)
	}
	f.clock.add(5 * time.Hour)
	if _, err := f.svc.SignUp(ctx, f.trainer.PersonID, x.ID); !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("after the end: %v", err)
	}
}

func TestBadSessionInputIsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	now := f.clock.now()
	for name, in := range map[string]SessionInput{
		"no title":       {BaseID: 1, OccupationCode: "4-10-01-03", Level: 4, StartsAt: now, EndsAt: now.Add(time.Hour), Capacity: 5, TrainerID: f.trainer.ID, Hours: 1},
		"ends first":     {BaseID: 1, Title: "实操", OccupationCode: "4-10-01-03", Level: 4, StartsAt: now, EndsAt: now, Capacity: 5, TrainerID: f.trainer.ID, Hours: 1},
		"no capacity":    {BaseID: 1, Title: "实操", OccupationCode: "4-10-01-03", Level: 4, StartsAt: now, EndsAt: now.Add(time.Hour), TrainerID: f.trainer.ID, Hours: 1},
		"no hours":       {BaseID: 1, Title: "实操", OccupationCode: "4-10-01-03", Level: 4, StartsAt: now, EndsAt: now.Add(time.Hour), Capacity: 5, TrainerID: f.trainer.ID},
		"unknown base":   {BaseID: 99999, Title: "实操", OccupationCode: "4-10-01-03", Level: 4, StartsAt: now, EndsAt: now.Add(time.Hour), Capacity: 5, TrainerID: f.trainer.ID, Hours: 1},
		"bad occupation": {BaseID: 1, Title: "实操", OccupationCode: "x", Level: 4, StartsAt: now, EndsAt: now.Add(time.Hour), Capacity: 5, TrainerID: f.trainer.ID, Hours: 1},
	} {
		if _, err := f.svc.CreateSession(ctx, f.trainer.ID, f.hz.ID, in); failure.As(err).Kind != failure.Invalid {
			t.Errorf("%s: %v", name, err)
		}
	}
	if list, err := f.svc.Sessions(ctx, SessionFilter{}); err != nil || len(list) != 0 {
		t.Fatalf("sessions stored after bad input: %d %v", len(list), err)
	}
}

func TestQRCheckInAndCheckOut(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	x := f.session(t, 1)
	other := f.session(t, 5)
	if _, err := f.svc.SignUp(ctx, f.learner.PersonID, x.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SignUp(ctx, f.learner2.PersonID, x.ID); err != nil { // waiting list
		t.Fatal(err)
	}
	code, _ := f.svc.IssueCode(x.ID)

	// Refusals, each with its own reason; none records anything.
	forged := code[:strings.LastIndex(code, ".")+1] + "AAAAAAAAAAAAAAAAAAAAAA"
	tampered := strings.Replace(code, ".", "9.", 1)
	otherCode, _ := f.svc.IssueCode(other.ID)
	for name, tc := range map[string]struct {
		person, session int64
		code            string
		want            error
	}{
		"forged signature":   {f.learner.PersonID, x.ID, forged, ErrCodeInvalid},
		"tampered session":   {f.learner.PersonID, x.ID, tampered, ErrCodeInvalid},
		"garbage":            {f.learner.PersonID, x.ID, "hello", ErrCodeInvalid},
		"other session code": {f.learner.PersonID, x.ID, otherCode, ErrCodeOtherSession},
		"code for other url": {f.learner.PersonID, other.ID, code, ErrCodeOtherSession},
		"not signed up":      {f.trainer.PersonID, x.ID, code, ErrNotSignedUp},
		"waiting list":       {f.learner2.PersonID, x.ID, code, ErrOnWaitingList},
	} {
		if _, err := f.svc.Scan(ctx, tc.person, tc.session, tc.code); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	if su, _ := f.svc.SignupOf(ctx, x.ID, f.learner.PersonID); su.CheckedInAt != nil {
		t.Fatal("a refused scan checked in")
	}

	f.clock.add(-2 * time.Hour)
	early, _ := f.svc.IssueCode(x.ID)
	if _, err := f.svc.Scan(ctx, f.learner.PersonID, x.ID, early); !errors.Is(err, ErrOutsideSessionTime) {
		t.Fatalf("scan two hours before the start: %v", err)
	}
	f.clock.add(2 * time.Hour)

	f.clock.add(59 * time.Second)
	a, err := f.svc.Scan(ctx, f.learner.PersonID, x.ID, code)
	if err != nil || a.Action != "in" {
		t.Fatalf("check-in with a valid code: %+v %v", a, err)
	}
	// The same code again is a replay, not a check-out.
	if _, err := f.svc.Scan(ctx, f.learner.PersonID, x.ID, code); !errors.Is(err, ErrCodeReplayed) {
		t.Fatalf("replay: %v", err)
	}
	// An old code has expired.
	f.clock.add(2 * time.Second)
	if _, err := f.svc.Scan(ctx, f.learner.PersonID, x.ID, code); !errors.Is(err, ErrCodeExpired) {
		t.Fatalf("expired: %v", err)
	}
	// A code from the future (beyond clock skew) is refused too.
	f.clock.add(time.Minute)
	future, _ := f.svc.IssueCode(x.ID)
	f.clock.add(-time.Minute)
	if _, err := f.svc.Scan(ctx, f.learner.PersonID, x.ID, future); !errors.Is(err, ErrCodeExpired) {
		t.Fatalf("future code: %v", err)
	}
	if h, _ := f.svc.CompletedHours(ctx, f.learner.PersonID, "4-10-01-03", time.Time{}, f.clock.now().Add(time.Hour)); h != 0 {
		t.Fatalf("hours before check-out: %v", h)
	}
	// Far from the session's time, even a fresh valid code is refused.
	f.clock.add(7 * time.Hour)
	late, _ := f.svc.IssueCode(x.ID)
	if _, err := f.svc.Scan(ctx, f.learner.PersonID, x.ID, late); !errors.Is(err, ErrOutsideSessionTime) {
		t.Fatalf("scan long after the end: %v", err)
	}
	f.clock.add(-4 * time.Hour)
	fresh, _ := f.svc.IssueCode(x.ID)
	a, err = f.svc.Scan(ctx, f.learner.PersonID, x.ID, fresh)
	if err != nil || a.Action != "out" || a.Credited != 3 {
		t.Fatalf("check-out: %+v %v", a, err)
	}
	later, _ := f.svc.IssueCode(x.ID)
	if _, err := f.svc.Scan(ctx, f.learner.PersonID, x.ID, later); !errors.Is(err, ErrAlreadyAttended) {
		t.Fatalf("scan after check-out: %v", err)
	}
	h, err := f.svc.CompletedHours(ctx, f.learner.PersonID, "4-10-01-03", time.Time{}, f.clock.now().Add(time.Hour))
	if err != nil || h != 3 {
		t.Fatalf("hours after check-out: %v %v", h, err)
	}
	// A service with another secret does not accept this one's codes.
	stranger := New(f.svc.db, []byte("another secret of thirty-two b!!"), f.svc.opts)
	stranger.SetClock(f.clock.now)
	if _, err := stranger.Scan(ctx, f.learner.PersonID, x.ID, later); !errors.Is(err, ErrCodeInvalid) {
		t.Fatalf("code under another key: %v", err)
	}
}

func TestManualAttendanceIsAudited(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	x := f.session(t, 5)
	if _, err := f.svc.MarkAttendance(ctx, f.trainer.ID, x.ID, f.learner.PersonID, "in"); !errors.Is(err, ErrNotSignedUp) {
		t.Fatalf("not signed up: %v", err)
	}
	if _, err := f.svc.SignUp(ctx, f.learner.PersonID, x.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.MarkAttendance(ctx, f.trainer.ID, x.ID, f.learner.PersonID, "out"); !errors.Is(err, ErrNotCheckedIn) {
		t.Fatalf("out before in: %v", err)
	}
	if _, err := f.svc.MarkAttendance(ctx, f.trainer.ID, x.ID, f.learner.PersonID, "sideways"); failure.As(err).Kind != failure.Invalid {
		t.Fatalf("bad action: %v", err)
	}
	if _, err := f.svc.MarkAttendance(ctx, f.trainer.ID, x.ID, f.learner.PersonID, "in"); err != nil {
		t.Fatal(err)
	}
	a, err := f.svc.MarkAttendance(ctx, f.trainer.ID, x.ID, f.learner.PersonID, "out")
	if err != nil || a.Credited != 3 {
		t.Fatalf("manual out: %+v %v", a, err)
	}
	var n int
	if err := f.svc.db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'session.attendance.manual' AND actor_id = $1`, f.trainer.ID).Scan(&n); err != nil || n != 2 {
		t.Fatalf("audit entries: %d %v", n, err)
	}
}
