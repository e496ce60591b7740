package exams

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/failure"
	"shanyu/internal/gzsplice"
	"shanyu/internal/pg"
)

// Attempt statuses.
const (
	Active  = "active"  // being answered
	Marking = "marking" // submitted; subjective items wait for an examiner
	Graded  = "graded"  // submitted and fully scored
)

// Submit reasons.
const (
	ByCandidate       = "candidate"
	ByDeadline        = "deadline"
	ByAccountDisabled = "account_disabled"      // the candidate's account was disabled during the attempt
	ByRejection       = "registration_rejected" // the registration was rejected during the attempt: no result
)

// Attempt is one sitting of a candidate.
type Attempt struct {
	ID          int64      `json:"id"`
	SessionID   int64      `json:"session_id"`
	PersonID    int64      `json:"-"`
	Number      int        `json:"number"`
	Seed        int64      `json:"-"`
	StartedAt   time.Time  `json:"started_at"`
	Deadline    time.Time  `json:"deadline"`
	AcceptUntil time.Time  `json:"accept_until"` // Deadline plus the grace period
	Status      string     `json:"status"`
	SubmittedAt *time.Time `json:"submitted_at,omitempty"`
	Reason      string     `json:"submit_reason,omitempty"`
	Theory      Score      `json:"-"`
	Practical   Score      `json:"-"`
	Device      int        `json:"device"` // number of the device holding it (1 for the first; each takeover adds one)
	device      string
}

// Score is earned out of possible points in one part.
type Score struct {
	Earned   float64 `json:"earned"`
	Possible float64 `json:"possible"`
}

// Percent is the score out of 100; a part with nothing to score has none (ok false).
func (s Score) Percent() (float64, bool) {
	if s.Possible <= 0 {
		return 0, false
	}
	return round2(s.Earned / s.Possible * 100), true
}

// Started is what Start returns: the attempt and the token of the device that now holds it.
type Started struct {
	Attempt     Attempt `json:"attempt"`
	DeviceToken string  `json:"device_token"`
	Resumed     bool    `json:"resumed"`
	// Paper is a new attempt's paper as GET /attempts/:id/paper answers it (no answers yet), so that a
	// candidate pressing start waits for one request, not two; absent when an attempt in progress was
	// resumed or taken over, whose answers the page reads with its paper.
	Paper *View `json:"paper,omitempty"`
}

const attemptColumns = `a.id, a.session_id, a.person_id, a.number, a.seed, a.started_at, a.deadline_at,
	a.deadline_at + a.grace_s * interval '1 second', a.status, a.submitted_at, coalesce(a.submit_reason, ''),
	a.theory_earned::float8, a.theory_possible::float8, a.practical_earned::float8, a.practical_possible::float8, a.devices, a.device_token`

func scanAttempt(row pgx.Row) (Attempt, error) {
	var a Attempt
	err := row.Scan(&a.ID, &a.SessionID, &a.PersonID, &a.Number, &a.Seed, &a.StartedAt, &a.Deadline, &a.AcceptUntil,
		&a.Status, &a.SubmittedAt, &a.Reason, &a.Theory.Earned, &a.Theory.Possible, &a.Practical.Earned,
		&a.Practical.Possible, &a.Device, &a.device)
	if pg.IsNoRows(err) {
		return Attempt{}, ErrNotFound
	}
	return a, err
}

func newDeviceToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Start begins the person's attempt at a session. When one is in progress it is refused with
// ErrHeldElsewhere: a device takes an attempt over only by asking to (TakeOver), so that a reload or a
// second tab never takes it back silently.
//
// A province's candidates start together, so a start is one short transaction of two round trips,
// with no drawing and no item loading, and the starts that arrive while others run share it
// (startQueue, start_queue.go): the BEGIN travels with one batch that locks the registrations (in id
// order; the lock serialises two starts of the same candidate, and the partial unique index
// exam_attempts_one_active backs it), reads their attempts and the papers built before the start
// (papers.go), draws the new attempts' ids, and asks the eligibility checks of the other domains;
// then the one statement that inserts the attempts, each sat on its paper where it is stored (not a
// copy of it: insertAttempts), travels with the COMMIT. Deadlines are enforced by the periodic sweep
// (jobs.go), not by a job per attempt.
func (s *Service) Start(ctx context.Context, sessionID, personID int64) (Started, error) {
	if s.canQueueEligible() {
		x0, err := s.settings(ctx, sessionID)
		if err != nil {
			return Started{}, err
		}
		if out, err, decided := s.starts.start(s, x0, personID); decided {
			return out, err
		}
	}
	return s.start(ctx, sessionID, personID, false)
}

// TakeOver hands the person's attempt in progress to the calling device, which the candidate
// confirmed: the new device gets the next device number and a token; the device that held the attempt
// is refused from then on (its state poll says so within seconds) and what it sends afterwards is kept
// as evidence, not counted. With no attempt in progress it starts one, as Start does.
func (s *Service) TakeOver(ctx context.Context, sessionID, personID int64) (Started, error) {
	return s.start(ctx, sessionID, personID, true)
}

// start is one person's start in a transaction of its own: a takeover, a start whose paper is missing
// or stale (drawn here), and any start the shared transaction could not decide (startQueue).
func (s *Service) start(ctx context.Context, sessionID, personID int64, takeOver bool) (Started, error) {
	// Eligibility is asked again before a new attempt, once, of the other domains' exported checks:
	// queued in the batch that locks the registration, so that they cost no round trip of their own
	// and run on the transaction's connection (never a second one). A source that cannot queue its
	// check is asked through the pool before the transaction instead. The verdict only counts when an
	// attempt is to begin: taking over or resuming one in progress is not refused by it (a centre
	// that must stop a sitting candidate rejects the registration, which ends the attempt).
	x0, err := s.settings(ctx, sessionID)
	if err != nil {
		return Started{}, err
	}
	var ineligible error
	batched := s.canQueueEligible()
	if !batched {
		if _, ineligible = s.checkEligible(ctx, x0, personID, true); ineligible != nil && failure.As(ineligible) == nil {
			return Started{}, ineligible // not a verdict: a source failed
		}
	}
	now := s.now()
	var out Started
	var d drawn
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		d = drawn{}
		var es *eligibilities
		people := []int64{personID}
		states, err := lockStart(ctx, tx, sessionID, people, func(b *pgx.Batch) {
			if batched {
				es = s.queueEligible(b, x0, people)
			}
		})
		if err != nil {
			return err
		}
		st, ok := states[personID]
		if !ok {
			// No registration, or no session: tell which.
			if _, err := s.getSession(ctx, tx, sessionID); err != nil {
				return err
			}
			return ErrNotApproved
		}
		if batched {
			ineligible = es.of(personID).verdict(x0, true)
		}
		if st.status != Approved {
			return ErrNotApproved
		}
		token := newDeviceToken()
		if st.activeID != nil {
			if !takeOver {
				return ErrHeldElsewhere
			}
			a, err := scanAttempt(tx.QueryRow(ctx, `WITH signal AS (INSERT INTO exam_signals (attempt_id, kind, at) VALUES ($1, 'device_change', $3)),
				a AS (UPDATE exam_attempts SET device_token = $2, devices = devices + 1, last_seen_at = $3 WHERE id = $1 RETURNING *),
				d AS (INSERT INTO exam_attempt_devices (attempt_id, device_no, token, held_from) SELECT id, devices, device_token, $3 FROM a)
				SELECT `+attemptColumns+` FROM a`, *st.activeID, token, now))
			if err != nil {
				return err
			}
			out = Started{Attempt: a, DeviceToken: token, Resumed: true}
			return nil
		}
		if err := st.mayBegin(now, ineligible); err != nil {
			return err
		}
		// The paper was built before the start (papers.go); one missing, or drawn from a pool the
		// bank or the blueprint has changed since, is drawn now: correct first, fast second.
		if !st.current() {
			seed := st.seedOf()
			if d, err = s.draw(ctx, tx, *st, seed); err != nil {
				return err
			}
			st.paper, st.questions = &paperRow{number: st.used + 1, seed: seed, rev: st.rev, positions: len(d.items)}, paperQuestions{}
		}
		n := st.newAttempt(now, token)
		if err := insertAttempts(ctx, tx, []newAttempt{n}); err != nil {
			return err
		}
		out = n.started(now, d.questions, st.questions)
		return nil
	})
	if err == nil {
		s.remember(d)
		// The attempt's first save needs no read for its scope.
		s.places.put(out.Attempt.ID, [2]int64{out.Attempt.PersonID, x0.CentreID})
	}
	return out, err
}

// mayBegin tells whether a new attempt may begin on a locked registration that is approved and has
// none in progress, now, given the eligibility verdict; the refusals come in the order the page tells
// them.
func (st *regState) mayBegin(now time.Time, ineligible error) error {
	x := st.x
	switch {
	// Publishing closes the session to new starts; those sitting when it was published finish (they
	// may still take their attempt over) and their results publish as they are marked.
	case x.PublishedAt != nil:
		return ErrSessionPublished
	case ineligible != nil:
		return ineligible
	case now.Before(x.OpensAt):
		return ErrNotOpen
	case now.After(x.LatestStartAt):
		return ErrStartClosed
	case st.used >= x.AttemptsAllowed:
		return ErrNoAttemptsLeft
	}
	return nil
}

// newAttempt is the attempt a start begins on the registration's stored paper, held by the device
// with token, its deadline set by the server.
func (st *regState) newAttempt(now time.Time, token string) newAttempt {
	x := st.x
	return newAttempt{id: st.nextID, sessionID: x.ID, registrationID: st.regID, personID: st.personID,
		number: st.paper.number, seed: st.paper.seed, poolRev: st.paper.rev, positions: st.paper.positions,
		start: now, deadline: Deadline(now, x.Duration, time.Duration(st.extra)*time.Second, x.ClosesAt), grace: x.Grace, device: token}
}

// extraRow scans a row into a domain's own columns, preceded by the caller's first ones and followed
// by its extra ones, so that a scanner such as scanSession can read a row that joins more than its
// table.
type extraRow struct {
	row          pgx.Row
	first, extra []any
}

func withExtra(row pgx.Row, extra ...any) pgx.Row { return extraRow{row: row, extra: extra} }

func (r extraRow) Scan(dest ...any) error {
	all := make([]any, 0, len(r.first)+len(dest)+len(r.extra))
	return r.row.Scan(append(append(append(all, r.first...), dest...), r.extra...)...)
}

// newAttempt is what insertAttempts records about a new attempt.
type newAttempt struct {
	id                                  int64 // drawn from exam_attempts_id_seq
	sessionID, registrationID, personID int64
	number                              int
	seed                                int64
	poolRev, positions                  int
	start, deadline                     time.Time
	grace                               time.Duration
	device                              string
}

// attempt is the attempt insertAttempts writes for n, as PostgreSQL will store and pgx read it: to
// the microsecond, in the process's zone.
func (n newAttempt) attempt() Attempt {
	start, deadline := n.start.Truncate(time.Microsecond).Local(), n.deadline.Truncate(time.Microsecond).Local()
	return Attempt{ID: n.id, SessionID: n.sessionID, PersonID: n.personID, Number: n.number, Seed: n.seed, StartedAt: start,
		Deadline: deadline, AcceptUntil: deadline.Add(n.grace.Truncate(time.Second)), Status: Active, Device: 1, device: n.device}
}

// started is what the start answers for n: the attempt with its paper, drawn in the transaction
// (questions) or stored before it.
func (n newAttempt) started(now time.Time, questions []Question, stored paperQuestions) Started {
	a := n.attempt()
	v := &View{Attempt: a, ServerTime: now, Questions: questions, Answers: map[int]Answer{}, Evidence: []Evidence{}, stored: stored}
	return Started{Attempt: a, DeviceToken: n.device, Paper: v}
}

// insertAttempts records attempts, each sat on the paper stored for it (exam_papers, registration
// and number: built before the start, or drawn in this transaction), and the devices that hold
// them, in one statement deferred to the commit's round trip (pg.Defer): the attempts are built
// beforehand from what the statement writes (newAttempt.attempt), which is why their ids are drawn
// first. The paper is not copied: exam_attempt_paper reads it from there until the attempt leaves
// 'active' (grade, materialise), so that a start writes two rows and not one per question.
func insertAttempts(ctx context.Context, tx pgx.Tx, list []newAttempt) error {
	if len(list) == 0 {
		return nil
	}
	var (
		ids, sessions, regs, people, seeds []int64
		numbers, graces, revs, positions   []int32
		starts, deadlines                  []time.Time
		devices                            []string
	)
	for _, n := range list {
		a := n.attempt()
		ids, sessions, regs, people, seeds = append(ids, n.id), append(sessions, n.sessionID), append(regs, n.registrationID),
			append(people, n.personID), append(seeds, n.seed)
		numbers, graces, revs, positions = append(numbers, int32(n.number)), append(graces, int32(n.grace/time.Second)),
			append(revs, int32(n.poolRev)), append(positions, int32(n.positions))
		starts, deadlines, devices = append(starts, a.StartedAt), append(deadlines, a.Deadline), append(devices, n.device)
	}
	err := pg.Defer(ctx, tx, `WITH a AS (
			INSERT INTO exam_attempts (id, session_id, registration_id, person_id, number, seed, started_at, deadline_at, grace_s,
				device_token, last_seen_at, pool_rev, positions)
			OVERRIDING SYSTEM VALUE
			SELECT id, session_id, registration_id, person_id, number, seed, started_at, deadline_at, grace_s,
				device_token, started_at, pool_rev, positions
			FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::int[], $6::bigint[], $7::timestamptz[],
				$8::timestamptz[], $9::int[], $10::text[], $11::int[], $12::int[])
				AS n (id, session_id, registration_id, person_id, number, seed, started_at, deadline_at, grace_s, device_token, pool_rev, positions)
			RETURNING id, device_token, started_at)
		INSERT INTO exam_attempt_devices (attempt_id, device_no, token, held_from) SELECT id, 1, device_token, started_at FROM a`,
		ids, sessions, regs, people, numbers, seeds, starts, deadlines, graces, devices, revs, positions)
	if err != nil {
		return fmt.Errorf("insert attempts: %w", err)
	}
	return nil
}

// materialise writes the positions of an attempt ended without grading (a rejected registration)
// into exam_attempt_items, as grade does with their scores for a submitted one: every attempt that
// has left 'active' has its rows there. An attempt that already has them gets nothing written.
func materialise(ctx context.Context, tx pgx.Tx, attemptID int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO exam_attempt_items (attempt_id, position, section, part, item_id, version_id, points, option_order)
		SELECT attempt_id, position, section, part, item_id, version_id, points, option_order FROM exam_attempt_paper
		WHERE attempt_id = $1 ON CONFLICT (attempt_id, position) DO NOTHING`, attemptID)
	if err != nil {
		return fmt.Errorf("attempt %d paper: %w", attemptID, err)
	}
	return nil
}

// intArray writes a PostgreSQL integer array literal, such as {2,0,1}.
func intArray(v []int) string {
	b := make([]byte, 0, 2+3*len(v))
	b = append(b, '{')
	for i, n := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return string(append(b, '}'))
}

const paperQuery = `SELECT position, section, part, item_id, version_id, points::float8, option_order
	FROM exam_attempt_paper WHERE attempt_id = $1 ORDER BY position`

func loadPaper(ctx context.Context, db pg.DB, attemptID int64) ([]PaperItem, error) {
	rows, err := db.Query(ctx, paperQuery, attemptID)
	if err != nil {
		return nil, err
	}
	return scanPaper(rows)
}

func scanPaper(rows pgx.Rows) ([]PaperItem, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (PaperItem, error) {
		var p PaperItem
		var order []int32
		err := row.Scan(&p.Position, &p.Section, &p.Part, &p.ItemID, &p.VersionID, &p.Points, &order)
		for _, o := range order {
			p.OptionOrder = append(p.OptionOrder, int(o))
		}
		return p, err
	})
}

// Rebuild generates an attempt's paper again from its recorded seed and the revision of the session's
// pool it was drawn from. It equals the stored paper; a check (and a test) relies on that.
func (s *Service) Rebuild(ctx context.Context, attemptID int64) ([]PaperItem, error) {
	var seed int64
	var sessionID int64
	var raw []byte
	err := s.db.QueryRow(ctx, `SELECT a.seed, a.session_id, p.pool FROM exam_attempts a
		JOIN exam_session_pools p ON p.session_id = a.session_id AND p.rev = a.pool_rev WHERE a.id = $1`, attemptID).Scan(&seed, &sessionID, &raw)
	if pg.IsNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	x, err := s.GetSession(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	var pool []PoolSection
	if err := json.Unmarshal(raw, &pool); err != nil {
		return nil, err
	}
	var loadErr error
	paper := buildPaper(x.mode, x.fixedSeed, seed, pool, func(v int64) int {
		it, err := s.version(ctx, s.db, v)
		if err != nil && loadErr == nil {
			loadErr = err
		}
		return optionCount(it)
	})
	return paper, loadErr
}

// StoredPaper returns the paper as recorded at start.
func (s *Service) StoredPaper(ctx context.Context, attemptID int64) ([]PaperItem, error) {
	return loadPaper(ctx, s.db, attemptID)
}

// View is what the candidate's page needs: the questions, the latest saved answers, the clock, and
// the answers kept as evidence but not counted (Evidence), so that a reload still tells the candidate
// which of them did not count.
type View struct {
	Attempt    Attempt        `json:"attempt"`
	ServerTime time.Time      `json:"server_time"`
	Questions  []Question     `json:"questions"`
	Answers    map[int]Answer `json:"answers"`
	LastSeq    int64          `json:"last_seq"` // the highest seq the holding device has saved
	Evidence   []Evidence     `json:"evidence"`
	// stored, when set (a start or PaperJSON on a paper built before the start), is the paper's
	// questions as stored, written out as they are instead of Questions: decoding and encoding them
	// again for every candidate of a sitting was most of the paper's cost.
	stored paperQuestions
}

// paperQuestions is a stored paper's questions as the exam page reads them: the compressed segment
// built with the paper (gz), or the json text of a paper built before migration 0498. Neither is
// set for a paper made from its positions.
type paperQuestions struct {
	gz   []byte
	text []byte
}

func (q paperQuestions) ok() bool { return q.gz != nil || q.text != nil }

// json returns the questions as json text.
func (q paperQuestions) json() ([]byte, error) {
	if q.gz == nil {
		return q.text, nil
	}
	text, err := gzsplice.Segment(q.gz).Text()
	if err != nil {
		return nil, fmt.Errorf("stored paper: %w", err)
	}
	return text, nil
}

// MarshalJSON writes the view, with the stored questions as they are when it has them.
func (v View) MarshalJSON() ([]byte, error) { return v.AppendJSON(nil) }

// AppendJSON appends the view's JSON to b. The stored questions (most of its bytes) are copied as
// they are: they are JSON the paper's builder wrote. Handlers write this themselves (AppendJSON, not
// json.Marshal), since encoding/json scans again, to check and compact it, whatever a MarshalJSON
// returns, once for each MarshalJSON it is nested in.
func (v View) AppendJSON(b []byte) ([]byte, error) {
	if !v.stored.ok() {
		type plain View
		out, err := json.Marshal(plain(v))
		return append(b, out...), err
	}
	questions, err := v.stored.json()
	if err != nil {
		return b, err
	}
	b, tail, err := v.split(b)
	if err != nil {
		return b, err
	}
	return append(append(b, questions...), tail...), nil
}

// split appends to b the view's JSON up to its stored questions, and returns what follows them.
func (v View) split(b []byte) (head, tail []byte, err error) {
	rest, err := json.Marshal(struct {
		Attempt    Attempt        `json:"attempt"`
		ServerTime time.Time      `json:"server_time"`
		Answers    map[int]Answer `json:"answers"`
		LastSeq    int64          `json:"last_seq"`
		Evidence   []Evidence     `json:"evidence"`
	}{v.Attempt, v.ServerTime, v.Answers, v.LastSeq, v.Evidence})
	if err != nil {
		return b, nil, err
	}
	rest[0] = ',' // the object's other members follow the questions
	return append(b, `{"questions":`...), rest, nil
}

// AppendGzip appends the view's JSON to b as a gzip stream, when its questions are stored compressed
// (ok false otherwise: nothing appended). The stored segment goes in as it is (internal/gzsplice): no
// compressor runs while candidates wait for their papers.
func (v View) AppendGzip(b []byte) (out []byte, ok bool, err error) { return v.appendGzip(b, nil, "") }

// appendGzip is AppendGzip for the view written after prefix and followed by suffix (a start's answer
// around its paper).
func (v View) appendGzip(b, prefix []byte, suffix string) (out []byte, ok bool, err error) {
	if v.stored.gz == nil {
		return b, false, nil
	}
	head, tail, err := v.split(prefix)
	if err != nil {
		return b, false, err
	}
	out, err = gzsplice.AppendGzip(b, head, gzsplice.Segment(v.stored.gz), append(tail, suffix...))
	return out, err == nil, err
}

// AppendJSON appends what json.Marshal writes for st to b, writing its paper with View.AppendJSON.
func (st Started) AppendJSON(b []byte) ([]byte, error) {
	head, paper, err := st.head()
	if err != nil || paper == nil {
		return append(b, head...), err
	}
	b = append(b, head...)
	if b, err = paper.AppendJSON(b); err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

// head returns st's JSON without its paper, open for the paper to follow when it has one.
func (st Started) head() ([]byte, *View, error) {
	paper := st.Paper
	st.Paper = nil
	out, err := json.Marshal(st)
	if err != nil || paper == nil {
		return out, nil, err
	}
	return append(out[:len(out)-1], `,"paper":`...), paper, nil
}

// AppendGzip is View.AppendGzip for a start's answer: ok only when it carries a paper whose
// questions are stored compressed.
func (st Started) AppendGzip(b []byte) (out []byte, ok bool, err error) {
	head, paper, err := st.head()
	if err != nil || paper == nil {
		return b, false, err
	}
	return paper.appendGzip(b, head, "}")
}

// Evidence is an answer the server received but did not count: it arrived after the attempt was
// submitted or its time (with grace) was up (reason "late"), or was sent by a device after another
// took the attempt over ("taken_over"). It is kept for an appeal and never scored automatically.
type Evidence struct {
	Position  int        `json:"item"`
	Device    int        `json:"device"`
	Seq       int64      `json:"seq"`
	Reason    string     `json:"reason"`
	Response  Answer     `json:"response"`
	TypedAt   *time.Time `json:"typed_at,omitempty"` // the phone's claim: a client clock can lie
	ArrivedAt time.Time  `json:"arrived_at"`
}

// Evidence reasons.
const (
	EvidenceLate      = "late"
	EvidenceTakenOver = "taken_over"
)

// ownAttempt loads an attempt and checks that the caller may use it (see heldBy).
func (s *Service) ownAttempt(ctx context.Context, db pg.DB, attemptID, personID int64, device string, lock string) (Attempt, error) {
	a, err := scanAttempt(db.QueryRow(ctx, `SELECT `+attemptColumns+` FROM exam_attempts a WHERE a.id = $1`+lock, attemptID))
	if err != nil {
		return Attempt{}, err
	}
	if err := a.heldBy(personID, device); err != nil {
		return Attempt{}, err
	}
	return a, nil
}

// heldBy checks a caller against the attempt. personID 0 is the system or staff (the sweep, marking),
// which need no device. A candidate must own the attempt and call from the device that holds it (or
// held it last, once it is submitted): a missing token is refused like a stale one.
func (a Attempt) heldBy(personID int64, device string) error {
	if personID == 0 {
		return nil
	}
	if a.PersonID != personID {
		return ErrNotFound
	}
	if device == "" || a.device != device {
		return ErrTakenOver
	}
	return nil
}

// Paper returns the candidate's view of an attempt (resume after a reload, a crash or on the device
// that took it over). Every candidate fetches it right after starting, so the attempt, its stored
// paper (the questions as built before the start), its answers and its evidence are read in one round
// trip, with no read per item; they are thrown away unless the attempt is the caller's. An attempt
// started before papers were stored has its questions made from its positions and bank versions.
func (s *Service) Paper(ctx context.Context, attemptID, personID int64, device string) (View, error) {
	v, err := s.PaperJSON(ctx, attemptID, personID, device)
	if err != nil || !v.stored.ok() {
		return v, err
	}
	text, err := v.stored.json()
	if err != nil {
		return View{}, err
	}
	if err := json.Unmarshal(text, &v.Questions); err != nil {
		return View{}, fmt.Errorf("stored paper: %w", err)
	}
	v.stored = paperQuestions{}
	return v, nil
}

// PaperJSON is Paper for the exam page's API: a paper built before the start keeps its questions as
// stored (Questions stays empty; the view's JSON carries them).
func (s *Service) PaperJSON(ctx context.Context, attemptID, personID int64, device string) (View, error) {
	var a Attempt
	var questions paperQuestions
	var answers []storedAnswer
	var evidence []Evidence
	var b pgx.Batch
	b.Queue(`SELECT `+attemptColumns+`, p.questions_gz, p.questions FROM exam_attempts a
		LEFT JOIN exam_papers p ON p.registration_id = a.registration_id AND p.number = a.number AND p.pool_rev = a.pool_rev AND p.seed = a.seed
		WHERE a.id = $1`, attemptID).QueryRow(func(row pgx.Row) (err error) {
		a, err = scanAttempt(withExtra(row, &questions.gz, &questions.text))
		return err
	})
	b.Queue(answersQuery, attemptID).Query(func(rows pgx.Rows) (err error) {
		answers, err = scanAnswers(rows)
		return err
	})
	b.Queue(evidenceQuery, attemptID).Query(func(rows pgx.Rows) (err error) {
		evidence, err = scanEvidence(rows)
		return err
	})
	if err := s.db.SendBatch(ctx, &b).Close(); err != nil {
		return View{}, err
	}
	if err := a.heldBy(personID, device); err != nil {
		return View{}, err
	}
	v := View{Attempt: a, ServerTime: s.now(), Answers: map[int]Answer{}, Evidence: evidence}
	if questions.ok() {
		v.stored = questions
	} else {
		paper, err := loadPaper(ctx, s.db, attemptID)
		if err != nil {
			return View{}, err
		}
		for _, p := range paper {
			it, err := s.version(ctx, s.db, p.VersionID)
			if err != nil {
				return View{}, err
			}
			v.Questions = append(v.Questions, questionOf(p, it))
		}
	}
	for _, sa := range answers {
		v.Answers[sa.position] = sa.answer
		if sa.device == a.Device {
			v.LastSeq = max(v.LastSeq, sa.seq)
		}
	}
	if v.Evidence == nil {
		v.Evidence = []Evidence{}
	}
	return v, nil
}

// The latest answer at a position is the one with the highest (device_no, seq): the device holding
// the attempt always has the highest device number, and numbers its own saves.
const answersQuery = `SELECT DISTINCT ON (position) position, response, device_no, seq FROM exam_answers
	WHERE attempt_id = $1 ORDER BY position, device_no DESC, seq DESC`

type storedAnswer struct {
	position, device int
	seq              int64
	answer           Answer
}

func latestAnswers(ctx context.Context, db pg.DB, attemptID int64) (map[int]*Answer, error) {
	rows, err := db.Query(ctx, answersQuery, attemptID)
	if err != nil {
		return nil, err
	}
	list, err := scanAnswers(rows)
	if err != nil {
		return nil, err
	}
	out := make(map[int]*Answer, len(list))
	for i := range list {
		out[list[i].position] = &list[i].answer
	}
	return out, nil
}

// scanAnswers reads the latest answer at each position.
func scanAnswers(rows pgx.Rows) ([]storedAnswer, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (storedAnswer, error) {
		var sa storedAnswer
		var raw []byte
		if err := row.Scan(&sa.position, &raw, &sa.device, &sa.seq); err != nil {
			return sa, err
		}
		return sa, json.Unmarshal(raw, &sa.answer)
	})
}

const evidenceQuery = `SELECT position, device_no, seq, reason, response, typed_at, arrived_at FROM exam_answer_evidence
	WHERE attempt_id = $1 ORDER BY arrived_at, device_no, seq`

func scanEvidence(rows pgx.Rows) ([]Evidence, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Evidence, error) {
		var e Evidence
		var raw []byte
		if err := row.Scan(&e.Position, &e.Device, &e.Seq, &e.Reason, &raw, &e.TypedAt, &e.ArrivedAt); err != nil {
			return e, err
		}
		return e, json.Unmarshal(raw, &e.Response)
	})
}

// AttemptEvidence lists the answers of an attempt kept as evidence but not counted (for staff).
func (s *Service) AttemptEvidence(ctx context.Context, attemptID int64) ([]Evidence, error) {
	rows, err := s.db.Query(ctx, evidenceQuery, attemptID)
	if err != nil {
		return nil, err
	}
	return scanEvidence(rows)
}

// Ack is the acknowledgement of a save: once the caller has it, the answer is in the database.
type Ack struct {
	Seq     int64     `json:"seq"`
	SavedAt time.Time `json:"saved_at"`
}

// Save stores one answer. seq is the sending device's own sequence number (each device numbers its
// saves from 1, so two devices never collide): sending the same save again is acknowledged again
// without a second row; a different save under a used seq is refused. typedAt is when the phone says
// the answer was typed; it is recorded, never trusted. The row is written by the statement that checks
// the device and the deadline, so the answer is durable when Save returns, and a submit that runs at
// the same time either sees it or makes it fail.
//
// A save that cannot count is not dropped: when it comes from a device that once held the attempt but
// no longer does, or arrives after the attempt was submitted or its time was up, it is kept as
// evidence (ErrRecordedTakenOver, ErrRecordedLate) with the device, the arrival time and typedAt.
func (s *Service) Save(ctx context.Context, attemptID, personID int64, device string, seq int64, position int, ans Answer, typedAt *time.Time) (Ack, error) {
	if seq <= 0 || position < 0 {
		return Ack{}, ErrBadAnswer
	}
	if err := ans.check(); err != nil {
		return Ack{}, err
	}
	raw, err := json.Marshal(ans)
	if err != nil {
		return Ack{}, err
	}
	now := s.now()
	var saved time.Time
	err = s.db.QueryRow(ctx, `INSERT INTO exam_answers (attempt_id, device_no, seq, position, response, saved_at, typed_at)
		SELECT a.id, a.devices, $2, $3, $4, $7, $8 FROM exam_attempts a
		WHERE a.id = $1 AND a.person_id = $5 AND a.device_token = $6 AND a.status = 'active'
			AND $7 <= a.deadline_at + a.grace_s * interval '1 second'
			AND $3 < a.positions
		FOR KEY SHARE OF a
		ON CONFLICT (attempt_id, device_no, seq) DO NOTHING RETURNING saved_at`,
		attemptID, seq, position, raw, personID, device, now, typedAt).Scan(&saved)
	if err == nil {
		return Ack{Seq: seq, SavedAt: saved}, nil
	}
	if !pg.IsNoRows(err) {
		return Ack{}, fmt.Errorf("save answer: %w", err)
	}
	return s.whyNotSaved(ctx, attemptID, personID, device, seq, position, raw, typedAt, now)
}

// whyNotSaved explains a save that wrote nothing: a repeat of an acknowledged save (acknowledged
// again), an answer kept as evidence, or the reason it is refused.
func (s *Service) whyNotSaved(ctx context.Context, attemptID, personID int64, device string, seq int64, position int, raw []byte,
	typedAt *time.Time, now time.Time) (Ack, error) {
	var same *bool
	var saved *time.Time
	var exists bool
	var owner int64
	var deviceNo *int
	var holder int
	var status string
	var until time.Time
	err := s.db.QueryRow(ctx, `SELECT a.person_id, a.devices, d.device_no, a.status, a.deadline_at + a.grace_s * interval '1 second',
		$3 < a.positions,
		(SELECT e.position = $3 AND e.response = $4::jsonb FROM exam_answers e WHERE e.attempt_id = a.id AND e.device_no = d.device_no AND e.seq = $2),
		(SELECT e.saved_at FROM exam_answers e WHERE e.attempt_id = a.id AND e.device_no = d.device_no AND e.seq = $2)
		FROM exam_attempts a LEFT JOIN exam_attempt_devices d ON d.attempt_id = a.id AND d.token = $5
		WHERE a.id = $1`, attemptID, seq, position, raw, device).Scan(&owner, &holder, &deviceNo, &status, &until, &exists, &same, &saved)
	if pg.IsNoRows(err) || (err == nil && owner != personID) {
		return Ack{}, ErrNotFound
	}
	if err != nil {
		return Ack{}, fmt.Errorf("save answer: %w", err)
	}
	switch {
	case same != nil && *same:
		return Ack{Seq: seq, SavedAt: *saved}, nil
	case same != nil:
		return Ack{}, ErrSeqReused
	case deviceNo == nil:
		return Ack{}, ErrTakenOver // no token, or one that never held this attempt: nothing to attribute
	case !exists:
		return Ack{}, ErrBadAnswer
	}
	reason, refusal := EvidenceLate, ErrRecordedLate
	switch {
	case status != Active, now.After(until):
	case *deviceNo != holder:
		reason, refusal = EvidenceTakenOver, ErrRecordedTakenOver
	default:
		return Ack{}, fmt.Errorf("save answer %d/%d: refused for no known reason", attemptID, seq)
	}
	var kept bool
	err = s.db.QueryRow(ctx, `WITH ins AS (
			INSERT INTO exam_answer_evidence (attempt_id, device_no, seq, position, response, reason, typed_at, arrived_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (attempt_id, device_no, seq) DO NOTHING RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM ins) OR EXISTS (SELECT 1 FROM exam_answer_evidence
			WHERE attempt_id = $1 AND device_no = $2 AND seq = $3 AND position = $4 AND response = $5::jsonb)`,
		attemptID, *deviceNo, seq, position, raw, reason, typedAt, now).Scan(&kept)
	if err != nil {
		return Ack{}, fmt.Errorf("keep answer as evidence: %w", err)
	}
	if !kept {
		return Ack{}, ErrSeqReused
	}
	return Ack{}, refusal
}

// State is the attempt's clock for the countdown (the server's time and the deadline) and whether the
// calling device still holds it; pages poll it every few seconds, so it is one read by primary key.
type State struct {
	Status      string    `json:"status"`
	ServerTime  time.Time `json:"server_time"`
	Deadline    time.Time `json:"deadline"`
	AcceptUntil time.Time `json:"accept_until"`
	Reason      string    `json:"submit_reason,omitempty"`
	Answered    *int      `json:"answered,omitempty"` // only when asked for (withAnswered): it costs a second read
}

// AttemptState returns the clock of an attempt, or ErrTakenOver when the calling device no longer
// holds it.
func (s *Service) AttemptState(ctx context.Context, attemptID, personID int64, device string, withAnswered bool) (State, error) {
	a, err := s.ownAttempt(ctx, s.db, attemptID, personID, device, "")
	if err != nil {
		return State{}, err
	}
	st := State{Status: a.Status, ServerTime: s.now(), Deadline: a.Deadline, AcceptUntil: a.AcceptUntil, Reason: a.Reason}
	if withAnswered {
		var n int
		err = s.db.QueryRow(ctx, `SELECT count(DISTINCT position) FROM exam_answers WHERE attempt_id = $1`, attemptID).Scan(&n)
		st.Answered = &n
	}
	return st, err
}

// Signal kinds.
var signalKinds = map[string]bool{"focus_lost": true, "paste": true, "offline": true}

// Signal logs a proctoring signal from the candidate's page.
func (s *Service) Signal(ctx context.Context, attemptID, personID int64, device, kind, detail string) error {
	if !signalKinds[kind] || len(detail) > 200 {
		return ErrSignalInvalid
	}
	if _, err := s.ownAttempt(ctx, s.db, attemptID, personID, device, ""); err != nil {
		return err
	}
	tag, err := s.db.Exec(ctx, `INSERT INTO exam_signals (attempt_id, kind, detail, at)
		SELECT id, $3, $4, $5 FROM exam_attempts WHERE id = $1 AND person_id = $2`, attemptID, personID, kind, detail, s.now())
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}

// SessionEvidence is an answer kept as evidence, with the attempt it belongs to (for staff: the
// marking page lists them, by attempt number as marking does, for an appeal).
type SessionEvidence struct {
	AttemptID int64 `json:"attempt_id"`
	Evidence
}

// SessionEvidence lists the answers of a session's attempts that were received but not counted.
func (s *Service) SessionEvidence(ctx context.Context, sessionID int64) ([]SessionEvidence, error) {
	rows, err := s.db.Query(ctx, `SELECT v.attempt_id, v.position, v.device_no, v.seq, v.reason, v.response, v.typed_at, v.arrived_at
		FROM exam_answer_evidence v JOIN exam_attempts a ON a.id = v.attempt_id
		WHERE a.session_id = $1 ORDER BY v.attempt_id, v.arrived_at, v.device_no, v.seq`, sessionID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (SessionEvidence, error) {
		var e SessionEvidence
		var raw []byte
		if err := row.Scan(&e.AttemptID, &e.Position, &e.Device, &e.Seq, &e.Reason, &raw, &e.TypedAt, &e.ArrivedAt); err != nil {
			return e, err
		}
		return e, json.Unmarshal(raw, &e.Response)
	})
}
