package exams

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/accounts"
	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// Session (考试批次) is one sitting of an exam: when it is open, how long an attempt lasts, how it is
// passed, and the item pool its papers are drawn from (resolved again when the bank or the blueprint
// changes, until the last start; each revision is kept).
type Session struct {
	ID              int64         `json:"id"`
	CentreID        int64         `json:"centre_id"`
	BlueprintID     int64         `json:"blueprint_id"`
	Name            string        `json:"name"`
	Occupation      string        `json:"occupation"`
	Level           int           `json:"level"`
	Venue           string        `json:"venue"` // empty: online
	OpensAt         time.Time     `json:"opens_at"`
	ClosesAt        time.Time     `json:"closes_at"`
	LatestStartAt   time.Time     `json:"latest_start_at"`
	Duration        time.Duration `json:"-"`
	Grace           time.Duration `json:"-"`
	AttemptsAllowed int           `json:"attempts_allowed"`
	TheoryPass      float64       `json:"theory_pass"`
	PracticalPass   float64       `json:"practical_pass"`
	MinHours        float64       `json:"min_hours"`
	DoubleMarking   bool          `json:"double_marking"`
	ArbitrationGap  float64       `json:"arbitration_gap"` // points of an item
	PublishedAt     *time.Time    `json:"published_at,omitempty"`
	// RequireVerifiedIdentity: only candidates whose identity staff verified may be approved (anyone
	// eligible may register, then show the ID card at the centre). nil means the default, true.
	RequireVerifiedIdentity *bool `json:"require_verified_identity"`

	mode      string
	pool      []PoolSection
	fixedSeed int64
}

// Default pass rule: theory ≥ 60 and practical ≥ 60 out of 100 (an administrator may change it per
// session).
const (
	DefaultTheoryPass    = 60
	DefaultPracticalPass = 60
)

// RequiresIdentity tells whether candidates must have a verified identity (the default).
func (x Session) RequiresIdentity() bool {
	return x.RequireVerifiedIdentity == nil || *x.RequireVerifiedIdentity
}

func (x Session) check() error {
	var f failure.Fields
	if strings.TrimSpace(x.Name) == "" {
		f.Add("name", "exams.name_required")
	}
	if !x.OpensAt.Before(x.ClosesAt) {
		f.Add("closes_at", "exams.window_invalid")
	}
	if x.LatestStartAt.Before(x.OpensAt) || x.LatestStartAt.After(x.ClosesAt) {
		f.Add("latest_start_at", "exams.latest_start_invalid")
	}
	if x.Duration < time.Minute || x.Duration > 24*time.Hour {
		f.Add("duration", "exams.duration_invalid")
	}
	if x.Grace < 0 || x.Grace > time.Hour {
		f.Add("grace", "exams.grace_invalid")
	}
	if x.AttemptsAllowed < 1 || x.AttemptsAllowed > 10 {
		f.Add("attempts_allowed", "exams.attempts_invalid")
	}
	if x.TheoryPass < 0 || x.TheoryPass > 100 || x.PracticalPass < 0 || x.PracticalPass > 100 {
		f.Add("theory_pass", "exams.pass_invalid")
	}
	if x.ArbitrationGap < 0 {
		f.Add("arbitration_gap", "exams.gap_invalid")
	}
	if x.MinHours < 0 {
		f.Add("min_hours", "exams.hours_invalid")
	}
	return f.Err()
}

// CreateSession opens a sitting of a blueprint; the blueprint's sections are resolved against the bank
// now. The pool follows later bank changes until the last start (ChangeBank, papers.go); a paper
// on which an attempt started never changes.
func (s *Service) CreateSession(ctx context.Context, actorID int64, x Session) (Session, error) {
	if x.AttemptsAllowed == 0 {
		x.AttemptsAllowed = 1
	}
	if err := x.check(); err != nil {
		return Session{}, err
	}
	b, err := s.GetBlueprint(ctx, x.BlueprintID)
	if err != nil {
		return Session{}, err
	}
	if b.CentreID != x.CentreID {
		return Session{}, ErrNotFound
	}
	pool, short, err := resolve(ctx, s.db, b.CentreID, b.Sections)
	if err != nil {
		return Session{}, err
	}
	if len(short) > 0 {
		return Session{}, ErrBlueprintShort
	}
	x.Occupation, x.Level, x.mode, x.pool = b.Occupation, b.Level, b.Mode, pool
	required := x.RequiresIdentity()
	x.RequireVerifiedIdentity = &required
	x.fixedSeed = rand.Int64()
	poolJSON, err := json.Marshal(pool)
	if err != nil {
		return Session{}, err
	}
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO exam_sessions (organisation_id, blueprint_id, name, occupation, level, venue,
			opens_at, closes_at, latest_start_at, duration_s, grace_s, attempts_allowed, theory_pass, practical_pass, min_hours,
			pool, fixed_seed, created_by, double_marking, arbitration_gap, require_verified_identity)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, nullif($18, 0), $19, $20, $21) RETURNING id`,
			x.CentreID, x.BlueprintID, strings.TrimSpace(x.Name), x.Occupation, x.Level, x.Venue, x.OpensAt, x.ClosesAt,
			x.LatestStartAt, int(x.Duration/time.Second), int(x.Grace/time.Second), x.AttemptsAllowed, x.TheoryPass,
			x.PracticalPass, x.MinHours, poolJSON, x.fixedSeed, actorID, x.DoubleMarking, x.ArbitrationGap, x.RequiresIdentity()).Scan(&x.ID); err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO exam_session_pools (session_id, rev, pool) VALUES ($1, 1, $2)`, x.ID, poolJSON); err != nil {
			return fmt.Errorf("insert session pool: %w", err)
		}
		return audit(ctx, tx, actorID, "exam.session.create", fmt.Sprintf("exam_session:%d", x.ID), nil)
	})
	return x, err
}

const sessionColumns = `x.id, x.organisation_id, x.blueprint_id, x.name, x.occupation, x.level, x.venue, x.opens_at,
	x.closes_at, x.latest_start_at, x.duration_s, x.grace_s, x.attempts_allowed, x.theory_pass::float8,
	x.practical_pass::float8, x.min_hours::float8, x.published_at, b.mode, x.pool, x.fixed_seed, x.double_marking,
	x.arbitration_gap::float8`

func scanSession(row pgx.Row) (Session, error) {
	var x Session
	var dur, grace int
	var pool []byte
	err := row.Scan(&x.ID, &x.CentreID, &x.BlueprintID, &x.Name, &x.Occupation, &x.Level, &x.Venue, &x.OpensAt,
		&x.ClosesAt, &x.LatestStartAt, &dur, &grace, &x.AttemptsAllowed, &x.TheoryPass, &x.PracticalPass, &x.MinHours,
		&x.PublishedAt, &x.mode, &pool, &x.fixedSeed, &x.DoubleMarking, &x.ArbitrationGap)
	if pg.IsNoRows(err) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, err
	}
	x.Duration, x.Grace = time.Duration(dur)*time.Second, time.Duration(grace)*time.Second
	return x, json.Unmarshal(pool, &x.pool)
}

// GetSession returns one session.
func (s *Service) GetSession(ctx context.Context, id int64) (Session, error) {
	return s.getSession(ctx, s.db, id)
}

func (s *Service) getSession(ctx context.Context, db pg.DB, id int64) (Session, error) {
	return scanSettings(db.QueryRow(ctx, `SELECT `+sessionColumns+`, `+settingsColumns+` FROM exam_sessions x
		JOIN exam_blueprints b ON b.id = x.blueprint_id WHERE x.id = $1`, id))
}

// settingsColumns are the settings added after sessionColumns, which other queries scan as they
// are; scanSettings reads a row of sessionColumns followed by them.
const settingsColumns = `x.require_verified_identity`

func scanSettings(row pgx.Row) (Session, error) {
	var required bool
	x, err := scanSession(settingsRow{row: row, required: &required})
	x.RequireVerifiedIdentity = &required
	return x, err
}

// settingsRow appends the settings columns' destinations to scanSession's.
type settingsRow struct {
	row      pgx.Row
	required *bool
}

func (r settingsRow) Scan(dest ...any) error { return r.row.Scan(append(dest, r.required)...) }

// Sessions lists a centre's sessions, latest first; centreID 0 lists every centre's.
func (s *Service) Sessions(ctx context.Context, centreID int64) ([]Session, error) {
	rows, err := s.db.Query(ctx, `SELECT `+sessionColumns+`, `+settingsColumns+` FROM exam_sessions x
		JOIN exam_blueprints b ON b.id = x.blueprint_id WHERE $1 = 0 OR x.organisation_id = $1
		ORDER BY x.opens_at DESC, x.id DESC LIMIT 200`, centreID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		x, err := scanSettings(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// Registration (报名) of a person for a session; the centre approves it.
type Registration struct {
	ID        int64     `json:"id"`
	SessionID int64     `json:"session_id"`
	PersonID  int64     `json:"person_id"`
	Name      string    `json:"name,omitempty"`
	Status    string    `json:"status"`
	ExtraTime int       `json:"extra_seconds"`
	Hours     float64   `json:"hours"`
	CreatedAt time.Time `json:"created_at"`
	// IdentityVerified: staff checked the candidate's ID document (filled in lists for the centre).
	IdentityVerified bool `json:"identity_verified"`
}

// Registration statuses.
const (
	Pending  = "pending"
	Approved = "approved"
	Rejected = "rejected"
)

// Register records a person's registration, checking eligibility: the session must not be closed,
// and the person must have completed the hours the session asks for, counted by the HoursSource over
// the year before the session opens. The identity is not checked here but at approval (Decide): a
// candidate registers online, then shows the ID card to the centre, whose staff record the check on
// the registrations list and approve.
func (s *Service) Register(ctx context.Context, sessionID, personID int64) (Registration, error) {
	x, err := s.GetSession(ctx, sessionID)
	if err != nil {
		return Registration{}, err
	}
	if !s.now().Before(x.LatestStartAt) {
		return Registration{}, ErrRegistrationClosed
	}
	// A learner whose claimed ID number a centre bound to someone else holds no number: they enter
	// their own on the account page first, and a centre checks that card before approval.
	if id, err := s.identity(ctx, personID); err != nil {
		return Registration{}, err
	} else if id.ClaimDropped && !id.HasIDNumber {
		return Registration{}, ErrIDNumberDropped
	}
	hours, err := s.checkEligible(ctx, x, personID, false)
	if err != nil {
		return Registration{}, err
	}
	r := Registration{SessionID: sessionID, PersonID: personID, Status: Pending, Hours: hours}
	err = s.db.QueryRow(ctx, `INSERT INTO exam_registrations (session_id, person_id, hours) VALUES ($1, $2, $3)
		RETURNING id, created_at`, sessionID, personID, hours).Scan(&r.ID, &r.CreatedAt)
	if _, ok := pg.HasCode(err, pg.CodeUniqueViolation); ok {
		return Registration{}, ErrAlreadyRegistered
	}
	return r, err
}

// Decide approves or rejects a registration; extra is the candidate's extra time (accommodation).
func (s *Service) Decide(ctx context.Context, actorID, registrationID int64, approve bool, extra time.Duration) error {
	if extra < 0 || extra > 4*time.Hour {
		return failure.Field("extra_seconds", "exams.extra_invalid")
	}
	status := Rejected
	if approve {
		status = Approved
	}
	personID, sessionID, err := s.RegistrationPerson(ctx, registrationID)
	if err != nil {
		return err
	}
	x, err := s.getSession(ctx, s.db, sessionID)
	if err != nil {
		return err
	}
	if approve {
		// Eligibility is asked again (the ledger may have been corrected since the registration) of
		// the curriculum, accounts and audits domains, through the pool: before the transaction,
		// never while holding the registration's lock.
		if _, err := s.checkEligible(ctx, x, personID, true); err != nil {
			return err
		}
	}
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		// Decided under the registration's lock: the same decision sent twice at once is made
		// (and audited) once; the other gets ErrAlreadyDecided.
		var prev string
		var prevExtra int
		err := tx.QueryRow(ctx, `SELECT status, extra_s FROM exam_registrations WHERE id = $1 FOR UPDATE`, registrationID).Scan(&prev, &prevExtra)
		if pg.IsNoRows(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if prev == status && prevExtra == int(extra/time.Second) {
			return ErrAlreadyDecided
		}
		if _, err := tx.Exec(ctx, `UPDATE exam_registrations SET status = $2, extra_s = $3, decided_by = nullif($4, 0), decided_at = now()
			WHERE id = $1`, registrationID, status, int(extra/time.Second), actorID); err != nil {
			return err
		}
		if prev != status {
			kind := accounts.NoticeRegistrationRefused
			if approve {
				kind = accounts.NoticeRegistrationApproved
			}
			if err := s.notices.Notify(ctx, tx, accounts.Notice{PersonID: personID, Kind: kind,
				Key:  fmt.Sprintf("exam_registration:%d:%s:%s", registrationID, prev, status),
				Args: []string{x.Name, x.OpensAt.UTC().Format(time.RFC3339)}, Link: "/exams"}); err != nil {
				return err
			}
		}
		details := map[string]any{"extra_seconds": int(extra / time.Second)}
		if err := s.applyToRunningAttempt(ctx, tx, x, registrationID, approve, extra, details); err != nil {
			return err
		}
		// The paper is built before the start, by a job enqueued here (papers.go).
		if approve {
			if _, err := s.jobs.InsertTx(ctx, tx, BuildPaperArgs{RegistrationID: registrationID}, nil); err != nil {
				return fmt.Errorf("enqueue paper: %w", err)
			}
		}
		return audit(ctx, tx, actorID, "exam.registration."+status, fmt.Sprintf("exam_registration:%d", registrationID), details)
	})
	return err
}

// applyToRunningAttempt carries a decision over to the registration's attempt in progress, under the
// registration's lock (which Start takes too): a rejection ends it with ByRejection (it gets no
// result: results are written for approved registrations only); an approval with another extra time
// moves its deadline, as the deadline counts from its start (and never past the session's close).
// What it did goes into the decision's audit details.
func (s *Service) applyToRunningAttempt(ctx context.Context, tx pgx.Tx, x Session, registrationID int64, approve bool, extra time.Duration, details map[string]any) error {
	var attemptID int64
	var started time.Time
	err := tx.QueryRow(ctx, `SELECT id, started_at FROM exam_attempts WHERE registration_id = $1 AND status = 'active' FOR UPDATE`,
		registrationID).Scan(&attemptID, &started)
	if pg.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	details["attempt_id"] = attemptID
	if !approve {
		if _, err := tx.Exec(ctx, `UPDATE exam_attempts SET status = 'graded', submitted_at = $2, submit_reason = $3 WHERE id = $1`,
			attemptID, s.now(), ByRejection); err != nil {
			return err
		}
		details["attempt_ended"] = ByRejection
		return materialise(ctx, tx, attemptID)
	}
	deadline := Deadline(started, x.Duration, extra, x.ClosesAt)
	if _, err := tx.Exec(ctx, `UPDATE exam_attempts SET deadline_at = $2 WHERE id = $1`, attemptID, deadline); err != nil {
		return err
	}
	details["deadline"] = deadline.UTC().Format(time.RFC3339)
	return nil
}

// Registrations lists a session's registrations with the candidates' names, for the centre.
func (s *Service) Registrations(ctx context.Context, sessionID int64) ([]Registration, error) {
	rows, err := s.db.Query(ctx, `SELECT r.id, r.session_id, r.person_id, r.status, r.extra_s, r.hours::float8, r.created_at
		FROM exam_registrations r WHERE r.session_id = $1 ORDER BY r.id`, sessionID)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Registration, error) {
		var r Registration
		err := row.Scan(&r.ID, &r.SessionID, &r.PersonID, &r.Status, &r.ExtraTime, &r.Hours, &r.CreatedAt)
		return r, err
	})
	if err != nil {
		return nil, err
	}
	names, err := namesOf(ctx, s, list, func(r Registration) int64 { return r.PersonID })
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Name = names[list[i].PersonID]
	}
	if len(list) == 0 {
		return list, nil
	}
	people := make([]int64, len(list))
	for i, r := range list {
		people[i] = r.PersonID
	}
	ids, err := s.ids.Identities(ctx, people)
	if err != nil {
		return nil, fmt.Errorf("identities: %w", err)
	}
	for i := range list {
		list[i].IdentityVerified = ids[list[i].PersonID].Verified
	}
	return list, nil
}

// checkEligible checks a person against a session at one of its gates (registration, approval,
// start) and returns the hours counted: the training hours completed over the year before the
// session opens, read from the ledger as it stands now (a correction since the last gate counts);
// the conduct records as of today; and, at approval and start (withIdentity), the verified
// identity when the session requires it. At registration the identity is not asked: a candidate
// registers online, then shows the ID card to the centre, whose staff record the check on the
// registrations list before approving.
func (s *Service) checkEligible(ctx context.Context, x Session, personID int64, withIdentity bool) (float64, error) {
	e := eligibility{conductClear: true, identity: accounts.Identity{PersonID: personID}}
	var err error
	if e.hours, err = s.HoursTowards(ctx, personID, x); err != nil {
		return 0, fmt.Errorf("completed hours: %w", err)
	}
	if e.hours < x.MinHours {
		return e.hours, e.verdict(x, false)
	}
	if e.conductClear, err = s.conduct.ConductClear(ctx, personID, s.now()); err != nil {
		return e.hours, fmt.Errorf("conduct: %w", err)
	}
	if withIdentity && e.conductClear {
		if e.identity, err = s.identity(ctx, personID); err != nil {
			return e.hours, err
		}
	}
	return e.hours, e.verdict(x, withIdentity)
}

// eligibility is what the gates ask the other domains about a person.
type eligibility struct {
	hours        float64
	conductClear bool
	identity     accounts.Identity
}

// verdict is the gate's answer on what was asked, in the order the gates tell it: hours, conduct,
// then (withIdentity) the identity.
func (e eligibility) verdict(x Session, withIdentity bool) error {
	if e.hours < x.MinHours {
		return failure.New(ErrNotEligible.Kind, ErrNotEligible.Msg.Key, e.hours, x.MinHours, x.MinHours-e.hours).
			Wrap(fmt.Errorf("%.1f of %.1f hours", e.hours, x.MinHours))
	}
	if !e.conductClear {
		return ErrConductRecord
	}
	if withIdentity && !e.identity.Verified && (x.RequiresIdentity() || e.identity.ClaimDropped) {
		return ErrIdentityUnverified
	}
	return nil
}

// Sources whose check can travel in a batch of the caller's (the start's one round trip) implement
// these besides their interface; each fills out with the people's answers when the batch's results
// are read. A source without them is asked through the pool before each start, which then starts
// alone (app/ checks at compile time that the product's sources have them).
type (
	HoursQueuer interface {
		QueueCompletedHours(b *pgx.Batch, personIDs []int64, occupationCode string, from, to time.Time, out map[int64]float64)
	}
	IdentityQueuer interface {
		QueueIdentities(b *pgx.Batch, personIDs []int64, out map[int64]accounts.Identity)
	}
	ConductQueuer interface {
		QueueConductClear(b *pgx.Batch, personIDs []int64, on time.Time, out map[int64]bool)
	}
)

// canQueueEligible reports whether every source can queue its check (queueEligible).
func (s *Service) canQueueEligible() bool {
	_, hok := s.hours.(HoursQueuer)
	_, cok := s.conduct.(ConductQueuer)
	_, iok := s.ids.(IdentityQueuer)
	return hok && cok && iok
}

// eligibilities are the answers of the queued checks, by person.
type eligibilities struct {
	hours map[int64]float64
	clear map[int64]bool
	ids   map[int64]accounts.Identity
}

// of is one person's answers: no hours when none were counted, and a clear conduct record and an
// unverified identity when the source has no row of the person.
func (es *eligibilities) of(personID int64) eligibility {
	e := eligibility{hours: es.hours[personID], conductClear: true, identity: accounts.Identity{PersonID: personID}}
	if c, ok := es.clear[personID]; ok {
		e.conductClear = c
	}
	if v, ok := es.ids[personID]; ok {
		e.identity = v
	}
	return e
}

// queueEligible queues the checks of checkEligible (with the identity) of several people on b,
// whose answers are in what it returns once b's results are read; every source must be able to
// (canQueueEligible).
func (s *Service) queueEligible(b *pgx.Batch, x Session, personIDs []int64) *eligibilities {
	hq, cq, iq := s.hours.(HoursQueuer), s.conduct.(ConductQueuer), s.ids.(IdentityQueuer)
	es := &eligibilities{hours: make(map[int64]float64, len(personIDs)), clear: make(map[int64]bool, len(personIDs)),
		ids: make(map[int64]accounts.Identity, len(personIDs))}
	from, to := x.hoursWindow()
	hq.QueueCompletedHours(b, personIDs, x.Occupation, from, to, es.hours)
	cq.QueueConductClear(b, personIDs, s.now(), es.clear)
	iq.QueueIdentities(b, personIDs, es.ids)
	return es
}

// identity asks the accounts domain about one person.
func (s *Service) identity(ctx context.Context, personID int64) (accounts.Identity, error) {
	m, err := s.ids.Identities(ctx, []int64{personID})
	if err != nil {
		return accounts.Identity{}, fmt.Errorf("identity: %w", err)
	}
	return m[personID], nil
}

// RegistrationPerson returns the person and session of a registration, for the centre's pages.
func (s *Service) RegistrationPerson(ctx context.Context, registrationID int64) (personID, sessionID int64, err error) {
	err = s.db.QueryRow(ctx, `SELECT person_id, session_id FROM exam_registrations WHERE id = $1`, registrationID).Scan(&personID, &sessionID)
	if pg.IsNoRows(err) {
		return 0, 0, ErrNotFound
	}
	return personID, sessionID, err
}

// MySession is a session as a candidate sees it in "my exams".
type MySession struct {
	Session      Session `json:"session"`
	Registration string  `json:"registration"`
	AttemptID    int64   `json:"attempt_id,omitempty"`
	Submitted    bool    `json:"submitted"`
	Open         bool    `json:"open"` // an attempt may start now
}

func sortVersions(v [][2]int64) { sort.Slice(v, func(i, j int) bool { return v[i][0] < v[j][0] }) }

func audit(ctx context.Context, tx pgx.Tx, actorID int64, action, subject string, details map[string]any) error {
	return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: action, Subject: subject, Details: details})
}

// RegistrationSession returns the session of a registration, for permission checks.
func (s *Service) RegistrationSession(ctx context.Context, registrationID int64) (int64, error) {
	var id int64
	err := s.db.QueryRow(ctx, `SELECT session_id FROM exam_registrations WHERE id = $1`, registrationID).Scan(&id)
	if pg.IsNoRows(err) {
		return 0, ErrNotFound
	}
	return id, err
}

// AttemptSession returns the session of an attempt, for permission checks.
func (s *Service) AttemptSession(ctx context.Context, attemptID int64) (int64, error) {
	var id int64
	err := s.db.QueryRow(ctx, `SELECT session_id FROM exam_attempts WHERE id = $1`, attemptID).Scan(&id)
	if pg.IsNoRows(err) {
		return 0, ErrNotFound
	}
	return id, err
}
