package curriculum

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/accounts"
	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// Sign-up states.
const (
	SignupConfirmed = "confirmed"
	SignupWaiting   = "waiting"
	SignupCancelled = "cancelled"
)

// SessionInput describes a practical session (实训) at a training base.
type SessionInput struct {
	BaseID         int64     `json:"base_id"`
	CourseID       int64     `json:"course_id"`
	Title          string    `json:"title"`
	OccupationCode string    `json:"occupation_code"`
	Level          int       `json:"level"`
	StartsAt       time.Time `json:"starts_at"`
	EndsAt         time.Time `json:"ends_at"`
	Capacity       int       `json:"capacity"`
	TrainerID      int64     `json:"trainer_id"`
	Hours          float64   `json:"hours"`
}

// Session is a scheduled practical session with its sign-up counts.
type Session struct {
	ID, OrganisationID, BaseID, CourseID int64
	OrgCode, RegionCode                  string
	BaseName, BaseAddress                string
	Title, OccupationCode                string
	Level                                int
	StartsAt, EndsAt                     time.Time
	Capacity                             int
	TrainerID                            int64
	TrainerName                          string
	Hours                                float64
	Confirmed, Waiting                   int
}

// Signup is one person's place in a session.
type Signup struct {
	SessionID, PersonID int64
	Name                string
	Status              string
	SignedUpAt          time.Time
	CheckedInAt         *time.Time
	CheckedOutAt        *time.Time
}

func (s *Service) validateSession(in *SessionInput) error {
	var f failure.Fields
	in.Title = strings.TrimSpace(in.Title)
	if !validTitle(in.Title) {
		f.Add("title", "curriculum.title_invalid", titleMinRunes, titleMaxRunes)
	}
	if _, _, err := s.opts.Levels(in.OccupationCode, in.Level); err != nil {
		f.Add("occupation_code", "curriculum.occupation_invalid")
	}
	if in.BaseID <= 0 {
		f.Add("base_id", "curriculum.base_invalid")
	}
	if in.StartsAt.IsZero() || !in.EndsAt.After(in.StartsAt) || in.EndsAt.Sub(in.StartsAt) > 24*time.Hour {
		f.Add("ends_at", "curriculum.times_invalid")
	}
	if in.Capacity < 1 || in.Capacity > 1000 {
		f.Add("capacity", "curriculum.capacity_invalid")
	}
	if in.Hours <= 0 || in.Hours > 24 {
		f.Add("hours", "curriculum.session_hours_invalid")
	}
	if in.TrainerID <= 0 {
		f.Add("trainer_id", "curriculum.trainer_invalid")
	}
	return f.Err()
}

// CreateSession schedules a practical session of a centre. The caller checks that the base and the
// trainer belong to the centre (accounts owns them).
func (s *Service) CreateSession(ctx context.Context, actorID, orgID int64, in SessionInput) (Session, error) {
	if err := s.validateSession(&in); err != nil {
		return Session{}, err
	}
	var id int64
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO practical_sessions (organisation_id, base_id, course_id, title, occupation_code, level, starts_at, ends_at, capacity, trainer_id, hours)
			VALUES ($1, $2, nullif($3, 0), $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
			orgID, in.BaseID, in.CourseID, in.Title, in.OccupationCode, in.Level, in.StartsAt, in.EndsAt, in.Capacity, in.TrainerID, in.Hours).Scan(&id)
		if c, fk := pg.HasCode(err, pg.CodeForeignKeyViolation); fk {
			field := "base_id"
			switch {
			case strings.Contains(c, "trainer"):
				field = "trainer_id"
			case strings.Contains(c, "course"):
				field = "course_id"
			}
			return failure.Field(field, "curriculum.reference_invalid")
		}
		if err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "session.create", Subject: fmt.Sprintf("session:%d", id)})
	})
	if err != nil {
		return Session{}, err
	}
	return s.Session(ctx, id)
}

// sessionSelect reads sessions without their organisation's code and region, base and trainer's
// name, which withPlaces fills from the accounts domain.
const sessionSelect = `SELECT ps.id, ps.organisation_id, ps.base_id, coalesce(ps.course_id, 0),
	ps.title, ps.occupation_code, ps.level, ps.starts_at, ps.ends_at, ps.capacity, ps.trainer_id, ps.hours::float8,
	(SELECT count(*) FROM session_signups su WHERE su.session_id = ps.id AND su.status = 'confirmed'),
	(SELECT count(*) FROM session_signups su WHERE su.session_id = ps.id AND su.status = 'waiting')
	FROM practical_sessions ps`

func scanSession(r pgx.Row) (Session, error) {
	var x Session
	err := r.Scan(&x.ID, &x.OrganisationID, &x.BaseID, &x.CourseID, &x.Title, &x.OccupationCode,
		&x.Level, &x.StartsAt, &x.EndsAt, &x.Capacity, &x.TrainerID, &x.Hours, &x.Confirmed, &x.Waiting)
	if pg.IsNoRows(err) {
		return x, ErrSessionNotFound
	}
	return x, err
}

// Session loads one session.
func (s *Service) Session(ctx context.Context, id int64) (Session, error) {
	x, err := scanSession(s.db.QueryRow(ctx, sessionSelect+` WHERE ps.id = $1`, id))
	if err != nil {
		return x, err
	}
	list := []Session{x}
	err = s.withPlaces(ctx, list)
	return list[0], err
}

// sessions reads the sessions a query selects and fills in their places.
func (s *Service) sessions(ctx context.Context, sql string, args ...any) ([]Session, error) {
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Session, error) { return scanSession(r) })
	if err != nil {
		return nil, err
	}
	return list, s.withPlaces(ctx, list)
}

// SessionFilter narrows session lists.
type SessionFilter struct {
	OrgID  int64
	From   time.Time // sessions ending after this
	Limit  int
	Offset int
}

// Sessions lists sessions in time order.
func (s *Service) Sessions(ctx context.Context, f SessionFilter) ([]Session, error) {
	conds := []string{"ps.ends_at > $1"}
	args := []any{f.From}
	if f.OrgID != 0 {
		args = append(args, f.OrgID)
		conds = append(conds, "ps.organisation_id = $2")
	}
	limit := f.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	return s.sessions(ctx, sessionSelect+` WHERE `+strings.Join(conds, " AND ")+
		fmt.Sprintf(` ORDER BY ps.starts_at, ps.id LIMIT %d OFFSET %d`, limit, max(f.Offset, 0)), args...)
}

// MySession is a session with the person's sign-up.
type MySession struct {
	Session Session
	Signup  Signup
}

// SessionsOf lists the sessions a person signed up for (not cancelled), in time order, in a fixed
// number of queries whatever their number.
func (s *Service) SessionsOf(ctx context.Context, personID int64) ([]MySession, error) {
	sessions, err := s.sessions(ctx, sessionSelect+` WHERE ps.id IN (SELECT su.session_id FROM session_signups su
		WHERE su.person_id = $1 AND su.status <> 'cancelled') ORDER BY ps.starts_at, ps.id`, personID)
	if err != nil {
		return nil, err
	}
	signups, err := s.signups(ctx, signupSelect+` WHERE su.person_id = $1 AND su.status <> 'cancelled'`, personID)
	if err != nil {
		return nil, err
	}
	bySession := make(map[int64]Signup, len(signups))
	for _, su := range signups {
		bySession[su.SessionID] = su
	}
	out := make([]MySession, len(sessions))
	for i, x := range sessions {
		out[i] = MySession{Session: x, Signup: bySession[x.ID]}
	}
	return out, nil
}

// signupSelect reads sign-ups without the person's name, which withNames fills from accounts.
const signupSelect = `SELECT su.session_id, su.person_id, su.status, su.signed_up_at, su.checked_in_at, su.checked_out_at
	FROM session_signups su`

func scanSignup(r pgx.Row) (Signup, error) {
	var x Signup
	err := r.Scan(&x.SessionID, &x.PersonID, &x.Status, &x.SignedUpAt, &x.CheckedInAt, &x.CheckedOutAt)
	if pg.IsNoRows(err) {
		return x, ErrNotSignedUp
	}
	return x, err
}

// signups reads the sign-ups a query selects and fills in the names.
func (s *Service) signups(ctx context.Context, sql string, args ...any) ([]Signup, error) {
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Signup, error) { return scanSignup(r) })
	if err != nil {
		return nil, err
	}
	return list, s.withNames(ctx, list)
}

// SignupOf returns a person's sign-up for a session, or ErrNotSignedUp.
func (s *Service) SignupOf(ctx context.Context, sessionID, personID int64) (Signup, error) {
	su, err := scanSignup(s.db.QueryRow(ctx, signupSelect+` WHERE su.session_id = $1 AND su.person_id = $2`, sessionID, personID))
	if err != nil {
		return su, err
	}
	list := []Signup{su}
	err = s.withNames(ctx, list)
	return list[0], err
}

// Signups is the attendance sheet: confirmed first, then the waiting list, each in sign-up order.
func (s *Service) Signups(ctx context.Context, sessionID int64) ([]Signup, error) {
	return s.signups(ctx, signupSelect+` WHERE su.session_id = $1 AND su.status <> 'cancelled'
		ORDER BY su.status = 'waiting', su.signed_up_at, su.person_id`, sessionID)
}

// ErrSessionClosed refuses sign-ups once a session has ended.
var ErrSessionClosed = failure.New(failure.Conflict, "curriculum.session_closed")

// SignUp puts a person in a session, or on its waiting list when it is full.
func (s *Service) SignUp(ctx context.Context, personID, sessionID int64) (Signup, error) {
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		var capacity int
		var ends time.Time
		err := tx.QueryRow(ctx, `SELECT capacity, ends_at FROM practical_sessions WHERE id = $1 FOR UPDATE`, sessionID).Scan(&capacity, &ends)
		if pg.IsNoRows(err) {
			return ErrSessionNotFound
		}
		if err != nil {
			return err
		}
		if !ends.After(s.now()) {
			return ErrSessionClosed
		}
		var status string
		err = tx.QueryRow(ctx, `SELECT status FROM session_signups WHERE session_id = $1 AND person_id = $2`, sessionID, personID).Scan(&status)
		if err == nil && status != SignupCancelled {
			return ErrAlreadySignedUp
		}
		if err != nil && !pg.IsNoRows(err) {
			return err
		}
		var confirmed int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM session_signups WHERE session_id = $1 AND status = 'confirmed'`, sessionID).Scan(&confirmed); err != nil {
			return err
		}
		next := SignupConfirmed
		if confirmed >= capacity {
			next = SignupWaiting
		}
		_, err = tx.Exec(ctx, `INSERT INTO session_signups (session_id, person_id, status, signed_up_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (session_id, person_id) DO UPDATE SET status = excluded.status, signed_up_at = excluded.signed_up_at`,
			sessionID, personID, next, s.now())
		return err
	})
	if err != nil {
		return Signup{}, err
	}
	return s.SignupOf(ctx, sessionID, personID)
}

// CancelSignUp withdraws a person; the first on the waiting list takes a freed place.
func (s *Service) CancelSignUp(ctx context.Context, personID, sessionID int64) error {
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM practical_sessions WHERE id = $1 FOR UPDATE`, sessionID); err != nil {
			return err
		}
		var status string
		var in *time.Time
		err := tx.QueryRow(ctx, `SELECT status, checked_in_at FROM session_signups WHERE session_id = $1 AND person_id = $2`, sessionID, personID).Scan(&status, &in)
		if pg.IsNoRows(err) || status == SignupCancelled {
			return ErrNotSignedUp
		}
		if err != nil {
			return err
		}
		if in != nil {
			return ErrAlreadyAttended
		}
		if _, err := tx.Exec(ctx, `UPDATE session_signups SET status = 'cancelled' WHERE session_id = $1 AND person_id = $2`, sessionID, personID); err != nil {
			return err
		}
		if status == SignupConfirmed {
			_, err = tx.Exec(ctx, `UPDATE session_signups SET status = 'confirmed' WHERE (session_id, person_id) = (
				SELECT session_id, person_id FROM session_signups WHERE session_id = $1 AND status = 'waiting' ORDER BY signed_up_at, person_id LIMIT 1)`, sessionID)
		}
		return err
	})
}

// Check-in codes: "<session>.<issued unix seconds>.<nonce>.<signature>", signed with HMAC-SHA-256
// under a key derived from the installation secret. The trainer's screen shows a fresh one every 30 s.
func (s *Service) sign(payload string) string {
	m := hmac.New(sha256.New, s.codeKey)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// IssueCode makes a fresh signed check-in code for a session and says until when it is valid.
func (s *Service) IssueCode(sessionID int64) (code string, expires time.Time) {
	nonce := make([]byte, 9)
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	now := s.now()
	payload := fmt.Sprintf("%d.%d.%s", sessionID, now.Unix(), base64.RawURLEncoding.EncodeToString(nonce))
	return payload + "." + s.sign(payload), now.Add(s.opts.CodeTTL)
}

type checkinCode struct {
	sessionID int64
	issued    time.Time
	nonce     string
}

func (s *Service) parseCode(code string) (checkinCode, error) {
	parts := strings.Split(code, ".")
	if len(code) > 200 || len(parts) != 4 {
		return checkinCode{}, ErrCodeInvalid
	}
	payload := strings.Join(parts[:3], ".")
	if !hmac.Equal([]byte(s.sign(payload)), []byte(parts[3])) {
		return checkinCode{}, ErrCodeInvalid
	}
	id, err1 := strconv.ParseInt(parts[0], 10, 64)
	unix, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil {
		return checkinCode{}, ErrCodeInvalid
	}
	return checkinCode{sessionID: id, issued: time.Unix(unix, 0), nonce: parts[2]}, nil
}

// Attendance is the result of a check-in or check-out.
type Attendance struct {
	Session  Session
	Action   string // "in" or "out"
	At       time.Time
	Credited float64 // hours credited (at check-out)
}

// Scanning is open from an hour before a session starts until two hours after it ends; the trainer
// can still record attendance by hand outside that window.
const (
	scanOpensBefore = time.Hour
	scanClosesAfter = 2 * time.Hour
)

// ErrOutsideSessionTime refuses a scan far from the session's time.
var ErrOutsideSessionTime = failure.New(failure.Conflict, "curriculum.outside_session_time")

// allowedSkew tolerates a trainer's screen served by a replica whose clock runs slightly ahead.
const allowedSkew = 10 * time.Second

// Scan handles a caregiver's scan of the trainer's code for a session: the first valid scan checks the
// person in, a later one (with a fresh code) checks them out and credits the session's hours. A code
// that is forged, expired, of another session or already used by this person is refused, and so is
// anyone not confirmed for the session.
func (s *Service) Scan(ctx context.Context, personID, sessionID int64, code string) (Attendance, error) {
	c, err := s.parseCode(strings.TrimSpace(code))
	if err != nil {
		return Attendance{}, err
	}
	if c.sessionID != sessionID {
		return Attendance{}, ErrCodeOtherSession
	}
	now := s.now()
	if now.Sub(c.issued) > s.opts.CodeTTL || c.issued.Sub(now) > allowedSkew {
		return Attendance{}, ErrCodeExpired
	}
	var a Attendance
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		var starts, ends time.Time
		if err := tx.QueryRow(ctx, `SELECT starts_at, ends_at FROM practical_sessions WHERE id = $1`, sessionID).Scan(&starts, &ends); err != nil {
			if pg.IsNoRows(err) {
				return ErrSessionNotFound
			}
			return err
		}
		if now.Before(starts.Add(-scanOpensBefore)) || now.After(ends.Add(scanClosesAfter)) {
			return ErrOutsideSessionTime
		}
		if err := s.confirmedSignup(ctx, tx, sessionID, personID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO checkin_redemptions (nonce, person_id, session_id, used_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			c.nonce, personID, sessionID, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrCodeReplayed
		}
		a, err = s.attend(ctx, tx, sessionID, personID, "", now)
		return err
	})
	if err != nil {
		return Attendance{}, err
	}
	a.Session, err = s.Session(ctx, sessionID)
	return a, err
}

func (s *Service) confirmedSignup(ctx context.Context, tx pgx.Tx, sessionID, personID int64) error {
	var status string
	err := tx.QueryRow(ctx, `SELECT status FROM session_signups WHERE session_id = $1 AND person_id = $2 FOR UPDATE`, sessionID, personID).Scan(&status)
	switch {
	case pg.IsNoRows(err) || status == SignupCancelled:
		return ErrNotSignedUp
	case err != nil:
		return err
	case status == SignupWaiting:
		return ErrOnWaitingList
	}
	return nil
}

// attend moves a confirmed sign-up on: not checked in → in; in → out, crediting the hours. want
// forces the step ("in" or "out") for manual attendance; empty means the next one.
func (s *Service) attend(ctx context.Context, tx pgx.Tx, sessionID, personID int64, want string, now time.Time) (Attendance, error) {
	var in, out *time.Time
	if err := tx.QueryRow(ctx, `SELECT checked_in_at, checked_out_at FROM session_signups WHERE session_id = $1 AND person_id = $2`,
		sessionID, personID).Scan(&in, &out); err != nil {
		return Attendance{}, err
	}
	a := Attendance{At: now}
	switch {
	case out != nil:
		return a, ErrAlreadyAttended
	case in == nil && want != "out":
		a.Action = "in"
		_, err := tx.Exec(ctx, `UPDATE session_signups SET checked_in_at = $3 WHERE session_id = $1 AND person_id = $2`, sessionID, personID, now)
		return a, err
	case in == nil:
		return a, ErrNotCheckedIn
	case want == "in":
		return a, failure.New(failure.Conflict, "curriculum.already_checked_in")
	}
	a.Action = "out"
	if _, err := tx.Exec(ctx, `UPDATE session_signups SET checked_out_at = $3 WHERE session_id = $1 AND person_id = $2`, sessionID, personID, now); err != nil {
		return a, err
	}
	var occ string
	var level int
	var hours float64
	var courseID int64
	if err := tx.QueryRow(ctx, `SELECT occupation_code, level, hours::float8, coalesce(course_id, 0) FROM practical_sessions WHERE id = $1`, sessionID).
		Scan(&occ, &level, &hours, &courseID); err != nil {
		return a, err
	}
	if _, err := credit(ctx, tx, Entry{PersonID: personID, Kind: KindSession, OccupationCode: occ, Level: level, SessionID: sessionID, Hours: hours, EarnedAt: now}); err != nil {
		return a, fmt.Errorf("credit session: %w", err)
	}
	a.Credited = hours
	return a, nil
}

// MarkAttendance lets the trainer record a check-in or check-out by hand; it is audit-logged.
func (s *Service) MarkAttendance(ctx context.Context, actorID, sessionID, personID int64, action string) (Attendance, error) {
	if action != "in" && action != "out" {
		return Attendance{}, failure.Field("action", "curriculum.action_invalid")
	}
	var a Attendance
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if err := s.confirmedSignup(ctx, tx, sessionID, personID); err != nil {
			return err
		}
		var err error
		if a, err = s.attend(ctx, tx, sessionID, personID, action, s.now()); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "session.attendance.manual", Subject: fmt.Sprintf("session:%d", sessionID),
			Details: map[string]any{"person_id": personID, "action": action}})
	})
	if err != nil {
		return Attendance{}, err
	}
	a.Session, err = s.Session(ctx, sessionID)
	return a, err
}
