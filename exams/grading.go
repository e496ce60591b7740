package exams

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"

	"shanyu/accounts"
	"shanyu/certificates"
	"shanyu/exams/bank"
	"shanyu/internal/pg"
	"shanyu/internal/safecsv"
)

// Submit ends an attempt, once: objective items are scored now, subjective ones go to the marking
// queue. Submitting again returns the submitted attempt unchanged. A candidate's submit must come from
// the device holding the attempt; the deadline job passes personID 0 and no device.
func (s *Service) Submit(ctx context.Context, attemptID, personID int64, device, reason string) (Attempt, error) {
	var out Attempt
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		var err error
		out, err = s.submitTx(ctx, tx, attemptID, personID, device, reason)
		return err
	})
	return out, err
}

func (s *Service) submitTx(ctx context.Context, tx pgx.Tx, attemptID, personID int64, device, reason string) (Attempt, error) {
	a, err := s.ownAttempt(ctx, tx, attemptID, personID, device, " FOR UPDATE")
	if err != nil {
		return Attempt{}, err
	}
	if a.Status != Active {
		return a, nil
	}
	if reason == ByDeadline && s.now().Before(a.AcceptUntil) {
		return a, nil // not due yet: the caller retries later
	}
	at := s.now()
	if _, err := tx.Exec(ctx, `UPDATE exam_attempts SET submitted_at = $2, submit_reason = $3, status = 'marking' WHERE id = $1`,
		a.ID, at, reason); err != nil {
		return Attempt{}, err
	}
	out, err := s.grade(ctx, tx, a)
	if err != nil {
		return Attempt{}, err
	}
	out.SubmittedAt, out.Reason = &at, reason
	// Graded after the session's results were published: its result follows in this transaction.
	return out, s.publishLate(ctx, tx, out)
}

// grade scores the objective items of an attempt and sets its status and totals.
func (s *Service) grade(ctx context.Context, tx pgx.Tx, a Attempt) (Attempt, error) {
	paper, err := loadPaper(ctx, tx, a.ID)
	if err != nil {
		return a, err
	}
	answers, err := latestAnswers(ctx, tx, a.ID)
	if err != nil {
		return a, err
	}
	var positions []int32
	var earned []float64
	marking := false
	for _, p := range paper {
		it, err := s.version(ctx, tx, p.VersionID)
		if err != nil {
			return a, err
		}
		if !it.Type.Objective() {
			marking = true
			continue
		}
		positions = append(positions, int32(p.Position))
		earned = append(earned, scoreItem(p, it, answers[p.Position]))
	}
	// The attempt leaves 'active': its positions become rows of exam_attempt_items (see materialise),
	// written with their scores in one statement; an item left to examiners has none yet.
	if _, err := tx.Exec(ctx, `INSERT INTO exam_attempt_items (attempt_id, position, section, part, item_id, version_id, points, option_order,
			earned, scored_version_id)
		SELECT p.attempt_id, p.position, p.section, p.part, p.item_id, p.version_id, p.points, p.option_order,
			t.e, CASE WHEN t.p IS NOT NULL THEN p.version_id END
		FROM exam_attempt_paper p LEFT JOIN unnest($2::int[], $3::float8[]) AS t(p, e) ON t.p = p.position
		WHERE p.attempt_id = $1
		ON CONFLICT (attempt_id, position) DO UPDATE SET earned = EXCLUDED.earned, scored_version_id = EXCLUDED.scored_version_id
		WHERE EXCLUDED.scored_version_id IS NOT NULL`, a.ID, positions, earned); err != nil {
		return a, fmt.Errorf("store scores: %w", err)
	}
	a.Status = Graded
	if marking {
		a.Status = Marking
	}
	return s.totals(ctx, tx, a)
}

// totals recomputes the part totals of an attempt from its item scores.
func (s *Service) totals(ctx context.Context, tx pgx.Tx, a Attempt) (Attempt, error) {
	err := tx.QueryRow(ctx, `UPDATE exam_attempts a SET status = $2,
		theory_earned = t.te, theory_possible = t.tp, practical_earned = t.pe, practical_possible = t.pp
		FROM (SELECT coalesce(sum(earned) FILTER (WHERE part = 'theory'), 0) te, coalesce(sum(points) FILTER (WHERE part = 'theory'), 0) tp,
			coalesce(sum(earned) FILTER (WHERE part = 'practical'), 0) pe, coalesce(sum(points) FILTER (WHERE part = 'practical'), 0) pp
			FROM exam_attempt_items WHERE attempt_id = $1) t
		WHERE a.id = $1 RETURNING a.theory_earned::float8, a.theory_possible::float8, a.practical_earned::float8, a.practical_possible::float8`,
		a.ID, a.Status).Scan(&a.Theory.Earned, &a.Theory.Possible, &a.Practical.Earned, &a.Practical.Possible)
	return a, err
}

// Passes applies a session's pass rule to part percentages; a part the paper does not have does not
// count against the candidate.
func (x Session) Passes(theory, practical Score) bool {
	if t, ok := theory.Percent(); ok && t < x.TheoryPass {
		return false
	}
	if p, ok := practical.Percent(); ok && p < x.PracticalPass {
		return false
	}
	_, hasT := theory.Percent()
	_, hasP := practical.Percent()
	return hasT || hasP
}

// MarkTask is a subjective answer waiting for an examiner; the candidate is not named.
type MarkTask struct {
	AttemptID int64     `json:"attempt_id"`
	Position  int       `json:"position"`
	Round     int       `json:"round"` // 1 or 2: an independent marking; 3: arbitration
	Stem      string    `json:"stem"`
	Rubric    []string  `json:"rubric"`
	Max       []float64 `json:"max"` // the points of each rubric criterion
	Points    float64   `json:"points"`
	Answer    string    `json:"answer"`
}

// MarkingQueue lists the subjective answers of a session that still need a mark from this examiner:
// never one they marked already, so that the two markings of double marking are independent.
func (s *Service) MarkingQueue(ctx context.Context, sessionID, examinerID int64) ([]MarkTask, error) {
	rows, err := s.db.Query(ctx, `SELECT i.attempt_id, i.position, i.version_id, i.points::float8,
		coalesce((SELECT e.response->>'text' FROM exam_answers e WHERE e.attempt_id = i.attempt_id AND e.position = i.position ORDER BY e.device_no DESC, e.seq DESC LIMIT 1), ''),
		(SELECT count(*) FROM exam_marks m WHERE m.attempt_id = i.attempt_id AND m.position = i.position) + 1
		FROM exam_attempt_items i JOIN exam_attempts a ON a.id = i.attempt_id
		WHERE a.session_id = $1 AND a.status = 'marking' AND i.earned IS NULL
			AND NOT EXISTS (SELECT 1 FROM exam_marks m WHERE m.attempt_id = i.attempt_id AND m.position = i.position AND m.examiner_id = $2)
		ORDER BY i.attempt_id, i.position`, sessionID, examinerID)
	if err != nil {
		return nil, err
	}
	type row struct {
		t MarkTask
		v int64
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.t.AttemptID, &x.t.Position, &x.v, &x.t.Points, &x.t.Answer, &x.t.Round)
		return x, err
	})
	if err != nil {
		return nil, err
	}
	var out []MarkTask
	for _, x := range list {
		it, err := s.version(ctx, s.db, x.v)
		if err != nil {
			return nil, err
		}
		x.t.Stem = it.Stem
		for _, c := range it.Rubric {
			x.t.Rubric = append(x.t.Rubric, c.Text)
			x.t.Max = append(x.t.Max, c.Points)
		}
		if len(it.Rubric) == 0 {
			x.t.Max = []float64{it.Points} // one mark for the whole item
		}
		out = append(out, x.t)
	}
	return out, nil
}

// Mark records an examiner's marks (one per rubric criterion) for a subjective answer. With double
// marking the answer is scored once two examiners agree within the session's arbitration gap (the mean
// of their marks), or by a third examiner's arbitration otherwise. When every item of the attempt is
// scored the attempt becomes graded.
func (s *Service) Mark(ctx context.Context, examinerID, attemptID int64, position int, marks []float64) error {
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		a, err := s.ownAttempt(ctx, tx, attemptID, 0, "", " FOR UPDATE")
		if err != nil {
			return err
		}
		if a.Status != Marking {
			return ErrMarkInvalid
		}
		x, err := s.getSession(ctx, tx, a.SessionID)
		if err != nil {
			return err
		}
		var p PaperItem
		var scored bool
		if err := tx.QueryRow(ctx, `SELECT version_id, points::float8, earned IS NOT NULL FROM exam_attempt_items WHERE attempt_id = $1 AND position = $2`,
			attemptID, position).Scan(&p.VersionID, &p.Points, &scored); err != nil {
			return ErrNotFound
		}
		it, err := s.version(ctx, tx, p.VersionID)
		if err != nil {
			return err
		}
		if it.Type.Objective() || scored {
			return ErrMarkInvalid
		}
		earned, possible := bank.ScoreRubric(it, marks)
		total := 0.0
		if possible > 0 {
			total = round2(earned / possible * p.Points)
		}
		rows, err := tx.Query(ctx, `SELECT examiner_id, total::float8 FROM exam_marks WHERE attempt_id = $1 AND position = $2 ORDER BY round`, attemptID, position)
		if err != nil {
			return err
		}
		type mark struct {
			by    int64
			total float64
		}
		prior, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mark, error) {
			var m mark
			return m, r.Scan(&m.by, &m.total)
		})
		if err != nil {
			return err
		}
		for _, m := range prior {
			if m.by == examinerID {
				return ErrMarkedAlready
			}
		}
		round := len(prior) + 1
		var final *float64
		switch {
		case !x.DoubleMarking || round == 3:
			final = &total
		case round == 2:
			if gap := prior[0].total - total; gap <= x.ArbitrationGap && -gap <= x.ArbitrationGap {
				mean := round2((prior[0].total + total) / 2)
				final = &mean
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO exam_marks (attempt_id, position, round, examiner_id, marks, total) VALUES ($1, $2, $3, $4, $5, $6)`,
			attemptID, position, round, examinerID, marks, total); err != nil {
			return err
		}
		if final != nil {
			if _, err := tx.Exec(ctx, `UPDATE exam_attempt_items SET earned = $3 WHERE attempt_id = $1 AND position = $2`, attemptID, position, *final); err != nil {
				return err
			}
			var open int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM exam_attempt_items WHERE attempt_id = $1 AND earned IS NULL`, attemptID).Scan(&open); err != nil {
				return err
			}
			if open == 0 {
				a.Status = Graded
			}
			if _, err := s.totals(ctx, tx, a); err != nil {
				return err
			}
			if err := s.publishLate(ctx, tx, a); err != nil {
				return err
			}
		}
		return audit(ctx, tx, examinerID, "exam.mark", attemptSubject(attemptID), map[string]any{"position": position, "round": round, "total": total})
	})
}

// Result is a candidate's published outcome.
type Result struct {
	ID        int64     `json:"id"`
	SessionID int64     `json:"session_id"`
	PersonID  int64     `json:"-"`
	Name      string    `json:"name,omitempty"`
	Session   string    `json:"session"`
	Theory    float64   `json:"theory"`
	Practical *float64  `json:"practical,omitempty"`
	Passed    bool      `json:"passed"`
	Published time.Time `json:"published_at"`
	// SubmitReason is why the attempt behind the result was submitted (ByCandidate, ByDeadline,
	// ByAccountDisabled); empty for a result without an attempt.
	SubmitReason string `json:"submit_reason,omitempty"`
	// AttemptID is the attempt behind the result; Reviewable tells whether its session lets the
	// candidate review their wrong answers (ReviewAttempt).
	AttemptID  int64 `json:"attempt_id,omitempty"`
	Reviewable bool  `json:"reviewable"`
}

// Publish publishes a session's results: each approved candidate's latest submitted attempt. Every
// passing result records a certificate-issuance request in the same transaction.
//
// It decides under the session's row lock (docs/architecture.md, Transactions and locks): of
// several concurrent publishes exactly one writes the results and the audit row; the others wait
// for it and then get ErrAlreadyPublished. Regrade takes the same lock first, so the two take turns.
func (s *Service) Publish(ctx context.Context, actorID, sessionID int64) (int, error) {
	n := 0
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		x, err := s.lockSession(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		if x.PublishedAt != nil {
			return ErrAlreadyPublished
		}
		// Attempts still being answered do not hold publication back: the session closes to new
		// starts, and each of them gets its result when it is graded (publishLate). Submitted answers
		// waiting for an examiner do hold it back, as the centre can finish marking them now.
		var open int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM exam_attempts a JOIN exam_registrations r ON r.id = a.registration_id
			WHERE a.session_id = $1 AND a.status = 'marking' AND r.status = 'approved'`, sessionID).Scan(&open); err != nil {
			return err
		}
		if open > 0 {
			return ErrMarkingOpen
		}
		if n, err = s.writeResults(ctx, tx, x, 0); err != nil {
			return err
		}
		if tag, err := tx.Exec(ctx, `UPDATE exam_sessions SET published_at = $2 WHERE id = $1 AND published_at IS NULL`, sessionID, s.now()); err != nil {
			return err
		} else if tag.RowsAffected() != 1 {
			return ErrAlreadyPublished
		}
		return audit(ctx, tx, actorID, "exam.results.publish", fmt.Sprintf("exam_session:%d", sessionID), map[string]any{"results": n})
	})
	return n, err
}

// Sitter is a candidate whose attempt is in progress.
type Sitter struct {
	AttemptID int64     `json:"attempt_id"`
	PersonID  int64     `json:"-"`
	Name      string    `json:"name"`
	Deadline  time.Time `json:"deadline"`
}

// Sitting lists who is still answering in a session (approved registrations only), by deadline: what
// the centre is told before publishing, since those candidates get their results as they finish.
func (s *Service) Sitting(ctx context.Context, sessionID int64) ([]Sitter, error) {
	rows, err := s.db.Query(ctx, `SELECT a.id, a.person_id, a.deadline_at FROM exam_attempts a
		JOIN exam_registrations r ON r.id = a.registration_id
		WHERE a.session_id = $1 AND a.status = 'active' AND r.status = 'approved' ORDER BY a.deadline_at, a.id`, sessionID)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Sitter, error) {
		var v Sitter
		return v, row.Scan(&v.AttemptID, &v.PersonID, &v.Deadline)
	})
	if err != nil || len(list) == 0 {
		return list, err
	}
	names, err := namesOf(ctx, s, list, func(v Sitter) int64 { return v.PersonID })
	for i := range list {
		list[i].Name = names[list[i].PersonID]
	}
	return list, err
}

// lockSession locks a session's row until tx ends and returns the session as it stands then.
func (s *Service) lockSession(ctx context.Context, tx pgx.Tx, sessionID int64) (Session, error) {
	var id int64
	if err := tx.QueryRow(ctx, `SELECT id FROM exam_sessions WHERE id = $1 FOR UPDATE`, sessionID).Scan(&id); err != nil {
		if pg.IsNoRows(err) {
			return Session{}, ErrNotFound
		}
		return Session{}, err
	}
	return s.getSession(ctx, tx, sessionID)
}

// publishLate publishes the result of an attempt graded after its session's results were
// published (the candidate was sitting then), with its certificate request, in the grading
// transaction. It takes the session's row in key-share mode, which Publish's lock excludes: a
// grading that runs while a publication commits waits for it and then sees the session published,
// and a publication that starts while a grading commits waits and then reads the graded attempt, so
// no graded attempt of a published session is left without a result.
func (s *Service) publishLate(ctx context.Context, tx pgx.Tx, a Attempt) error {
	if a.Status != Graded {
		return nil
	}
	var published bool
	if err := tx.QueryRow(ctx, `SELECT published_at IS NOT NULL FROM exam_sessions WHERE id = $1 FOR KEY SHARE`, a.SessionID).Scan(&published); err != nil {
		return err
	}
	if !published {
		return nil
	}
	x, err := s.getSession(ctx, tx, a.SessionID)
	if err != nil {
		return err
	}
	n, err := s.writeResults(ctx, tx, x, a.PersonID)
	if err != nil || n == 0 {
		return err
	}
	return audit(ctx, tx, 0, "exam.result.publish_late", attemptSubject(a.ID), map[string]any{"session_id": a.SessionID})
}

// writeResults upserts the results of a session (in registration order), or only the person's when
// personID is not 0, and requests certificates for the passes. Only approved registrations get one:
// an attempt whose registration was rejected ends without a result.
func (s *Service) writeResults(ctx context.Context, tx pgx.Tx, x Session, personID int64) (int, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT ON (a.registration_id) a.registration_id, a.id, a.person_id, r.hours::float8,
		a.theory_earned::float8, a.theory_possible::float8, a.practical_earned::float8, a.practical_possible::float8, a.submitted_at
		FROM exam_attempts a JOIN exam_registrations r ON r.id = a.registration_id
		WHERE a.session_id = $1 AND a.status = 'graded' AND r.status = 'approved' AND ($2::bigint = 0 OR a.person_id = $2)
		ORDER BY a.registration_id, a.number DESC`, x.ID, personID)
	if err != nil {
		return 0, err
	}
	type rec struct {
		reg, attempt, person int64
		hours                float64
		t, p                 Score
		at                   time.Time
	}
	recs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (rec, error) {
		var v rec
		err := r.Scan(&v.reg, &v.attempt, &v.person, &v.hours, &v.t.Earned, &v.t.Possible, &v.p.Earned, &v.p.Possible, &v.at)
		return v, err
	})
	if err != nil {
		return 0, err
	}
	for _, v := range recs {
		theory, _ := v.t.Percent()
		var practical *float64
		if p, ok := v.p.Percent(); ok {
			practical = &p
		}
		passed := x.Passes(v.t, v.p)
		var id int64
		var fresh bool
		if err := tx.QueryRow(ctx, `INSERT INTO exam_results (session_id, registration_id, attempt_id, person_id, theory, practical, passed, published_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (registration_id) DO UPDATE SET attempt_id = $3, theory = $5, practical = $6, passed = $7
			RETURNING id, xmax = 0`, x.ID, v.reg, v.attempt, v.person, theory, practical, passed, s.now()).Scan(&id, &fresh); err != nil {
			return 0, fmt.Errorf("store result: %w", err)
		}
		// A result published for the first time tells the candidate (a regrade's update does not).
		if fresh {
			if err := s.notices.Notify(ctx, tx, accounts.Notice{PersonID: v.person, Kind: accounts.NoticeResultPublished,
				Key: fmt.Sprintf("exam_result:%d:published", id), Args: []string{x.Name}, Link: "/exams/results"}); err != nil {
				return 0, err
			}
		}
		if passed {
			if err := certificates.RequestIssuance(ctx, tx, s.jobs, certificates.IssuanceRequest{
				ResultRef: fmt.Sprintf("exam_result:%d", id), PersonID: v.person, CentreID: x.CentreID,
				OccupationCode: x.Occupation, Level: x.Level, PassedOn: v.at, Hours: v.hours,
			}); err != nil {
				return 0, err
			}
		}
	}
	return len(recs), nil
}

// PracticalScore is the practical percentage, 0 when the paper had no practical part.
func (r Result) PracticalScore() float64 {
	if r.Practical == nil {
		return 0
	}
	return *r.Practical
}

// Results lists a session's published results with the candidates' names.
func (s *Service) Results(ctx context.Context, sessionID int64) ([]Result, error) {
	return s.results(ctx, `r.session_id = $1`, sessionID)
}

// PersonResults lists a person's published results.
func (s *Service) PersonResults(ctx context.Context, personID int64) ([]Result, error) {
	return s.results(ctx, `r.person_id = $1`, personID)
}

func (s *Service) results(ctx context.Context, where string, arg int64) ([]Result, error) {
	rows, err := s.db.Query(ctx, `SELECT r.id, r.session_id, r.person_id, x.name, r.theory::float8, r.practical::float8, r.passed, r.published_at,
			coalesce(a.submit_reason, ''), coalesce(r.attempt_id, 0), x.review_wrong_answers AND r.attempt_id IS NOT NULL
		FROM exam_results r JOIN exam_sessions x ON x.id = r.session_id LEFT JOIN exam_attempts a ON a.id = r.attempt_id
		WHERE `+where+` ORDER BY r.session_id DESC, r.id`, arg)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Result, error) {
		var r Result
		err := row.Scan(&r.ID, &r.SessionID, &r.PersonID, &r.Session, &r.Theory, &r.Practical, &r.Passed, &r.Published, &r.SubmitReason, &r.AttemptID, &r.Reviewable)
		return r, err
	})
	if err != nil {
		return nil, err
	}
	names, err := namesOf(ctx, s, list, func(r Result) int64 { return r.PersonID })
	for i := range list {
		list[i].Name = names[list[i].PersonID]
	}
	return list, err
}

// namesOf asks accounts for the names of the people key gives, in one call.
func namesOf[T any](ctx context.Context, s *Service, list []T, key func(T) int64) (map[int64]string, error) {
	ids := make([]int64, 0, len(list))
	for _, x := range list {
		ids = append(ids, key(x))
	}
	names, err := s.names.Names(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("names: %w", err)
	}
	return names, nil
}

// WriteResultsCSV writes a session's results as CSV (UTF-8 with a BOM, so that Excel reads Chinese).
func (s *Service) WriteResultsCSV(ctx context.Context, sessionID int64, w io.Writer) error {
	rs, err := s.Results(ctx, sessionID)
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte("\uFEFF")); err != nil {
		return err
	}
	cw := safecsv.NewWriter(w)
	_ = cw.Write([]string{"result_id", "name", "theory", "practical", "passed"})
	for _, r := range rs {
		p := ""
		if r.Practical != nil {
			p = strconv.FormatFloat(*r.Practical, 'f', 2, 64)
		}
		_ = cw.Write([]string{strconv.FormatInt(r.ID, 10), r.Name, strconv.FormatFloat(r.Theory, 'f', 2, 64), p, strconv.FormatBool(r.Passed)})
	}
	cw.Flush()
	return cw.Error()
}

// SheetLabels are the words of the results workbook, in the reader's language: the sheet's name,
// the headers of the CSV's columns (result id, name, theory, practical, passed) and the two verdicts.
type SheetLabels struct {
	Sheet          string
	Headers        [5]string
	Passed, Failed string
}

// WriteResultsXLSX writes a session's results as an Excel workbook with the CSV's columns; scores and
// ids are numbers, so that the sheet can sum and sort them.
func (s *Service) WriteResultsXLSX(ctx context.Context, sessionID int64, w io.Writer, l SheetLabels) error {
	rs, err := s.Results(ctx, sessionID)
	if err != nil {
		return err
	}
	f := excelize.NewFile()
	defer f.Close()
	if l.Sheet == "" {
		l.Sheet = "results"
	}
	if err := f.SetSheetName("Sheet1", l.Sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(l.Sheet)
	if err != nil {
		return err
	}
	if err := sw.SetColWidth(2, 2, 16); err != nil {
		return err
	}
	header := make([]any, len(l.Headers))
	for i, h := range l.Headers {
		header[i] = h
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	for i, r := range rs {
		var practical any
		if r.Practical != nil {
			practical = *r.Practical
		}
		verdict := l.Failed
		if r.Passed {
			verdict = l.Passed
		}
		cell, err := excelize.CoordinatesToCellName(1, i+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(cell, []any{r.ID, r.Name, r.Theory, practical, verdict}); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}

// Change is what a regrade does to one attempt.
type Change struct {
	AttemptID    int64   `json:"attempt_id"`
	PersonID     int64   `json:"-"`
	Name         string  `json:"name"`
	TheoryBefore float64 `json:"theory_before"`
	TheoryAfter  float64 `json:"theory_after"`
	PassedBefore bool    `json:"passed_before"`
	PassedAfter  bool    `json:"passed_after"`
}

// Regrade scores a session's submitted attempts again against the current version of each item (after
// a key correction made a new version). With dryRun it only reports who changes; otherwise it stores
// the new scores and, when results were published, updates them (requesting certificates for new
// passes). Option orders are kept: a corrected item must keep its number of options.
func (s *Service) Regrade(ctx context.Context, actorID, sessionID int64, dryRun bool) ([]Change, error) {
	return s.regrade(ctx, actorID, sessionID, 0, dryRun)
}

// RegradeItem is Regrade limited to one item: only its answers are scored again, against its
// current (corrected) version.
func (s *Service) RegradeItem(ctx context.Context, actorID, sessionID, itemID int64, dryRun bool) ([]Change, error) {
	if itemID <= 0 {
		return nil, ErrNotFound
	}
	return s.regrade(ctx, actorID, sessionID, itemID, dryRun)
}

// regrade scores again the answers to itemID, or to every item when itemID is 0.
func (s *Service) regrade(ctx context.Context, actorID, sessionID, itemID int64, dryRun bool) ([]Change, error) {
	var changes []Change
	errDry := fmt.Errorf("dry run")
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		changes = nil // a retried transaction starts again
		// The session first, then its attempts in id order, then its results: the order Publish
		// follows too (docs/architecture.md, Transactions and locks).
		x, err := s.lockSession(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT a.id, a.person_id FROM exam_attempts a
			WHERE a.session_id = $1 AND a.status <> 'active' ORDER BY a.id FOR UPDATE OF a`, sessionID)
		if err != nil {
			return err
		}
		type att struct{ id, person int64 }
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (att, error) {
			var v att
			return v, r.Scan(&v.id, &v.person)
		})
		if err != nil {
			return err
		}
		current := map[int64]bank.Item{} // item id → current version's content
		currentID := map[int64]int64{}
		for _, at := range list {
			a, err := s.ownAttempt(ctx, tx, at.id, 0, "", "")
			if err != nil {
				return err
			}
			before := x.Passes(a.Theory, a.Practical)
			tb, _ := a.Theory.Percent()
			paper, err := loadPaper(ctx, tx, a.ID)
			if err != nil {
				return err
			}
			answers, err := latestAnswers(ctx, tx, a.ID)
			if err != nil {
				return err
			}
			for _, p := range paper {
				if itemID != 0 && p.ItemID != itemID {
					continue
				}
				it, ok := current[p.ItemID]
				if !ok {
					st, err := bank.Get(ctx, tx, x.CentreID, p.ItemID)
					if err != nil {
						return err
					}
					it, current[p.ItemID], currentID[p.ItemID] = st.Item, st.Item, st.VersionID
				}
				if !it.Type.Objective() || optionCount(it) != len(p.OptionOrder) {
					continue
				}
				if _, err := tx.Exec(ctx, `UPDATE exam_attempt_items SET earned = $3, scored_version_id = $4 WHERE attempt_id = $1 AND position = $2`,
					a.ID, p.Position, scoreItem(p, it, answers[p.Position]), currentID[p.ItemID]); err != nil {
					return err
				}
			}
			after, err := s.totals(ctx, tx, a)
			if err != nil {
				return err
			}
			ta, _ := after.Theory.Percent()
			if ta != tb || x.Passes(after.Theory, after.Practical) != before {
				changes = append(changes, Change{AttemptID: a.ID, PersonID: at.person, TheoryBefore: tb, TheoryAfter: ta,
					PassedBefore: before, PassedAfter: x.Passes(after.Theory, after.Practical)})
			}
		}
		if dryRun {
			return errDry // roll everything back
		}
		if x.PublishedAt != nil {
			if _, err := s.writeResults(ctx, tx, x, 0); err != nil {
				return err
			}
		}
		return audit(ctx, tx, actorID, "exam.regrade", fmt.Sprintf("exam_session:%d", sessionID), map[string]any{"changed": len(changes), "item_id": itemID})
	})
	if err == errDry {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	// Names come from accounts after the transaction (a call into another domain never runs
	// inside one).
	names, err := namesOf(ctx, s, changes, func(c Change) int64 { return c.PersonID })
	for i := range changes {
		changes[i].Name = names[changes[i].PersonID]
	}
	return changes, err
}

// Correction is an item of a session's submitted papers whose bank version changed after the papers
// were delivered (a key correction makes a new version): a regrade can score its answers again.
type Correction struct {
	ItemID    int64   `json:"item_id"`
	Stem      string  `json:"stem"` // plain text
	Delivered []int64 `json:"delivered_versions"`
	Current   int64   `json:"current_version"`
	Attempts  int     `json:"attempts"` // submitted attempts holding the item
	Regraded  bool    `json:"regraded"` // every attempt is scored against the current version already
	Eligible  bool    `json:"eligible"` // objective, and the correction kept the number of options
}

// Corrections lists the items of a session's submitted papers that changed in the bank since.
func (s *Service) Corrections(ctx context.Context, sessionID int64) ([]Correction, error) {
	x, err := s.GetSession(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT ai.item_id, array_agg(DISTINCT ai.version_id ORDER BY ai.version_id),
		array_agg(DISTINCT coalesce(ai.scored_version_id, ai.version_id)), count(DISTINCT ai.attempt_id),
		max(cardinality(ai.option_order))
		FROM exam_attempt_items ai JOIN exam_attempts a ON a.id = ai.attempt_id
		WHERE a.session_id = $1 AND a.status <> 'active' GROUP BY ai.item_id ORDER BY ai.item_id`, sessionID)
	if err != nil {
		return nil, err
	}
	type row struct {
		item              int64
		delivered, scored []int64
		attempts, options int
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var v row
		var opts *int
		err := r.Scan(&v.item, &v.delivered, &v.scored, &v.attempts, &opts)
		if opts != nil {
			v.options = *opts
		}
		return v, err
	})
	if err != nil {
		return nil, err
	}
	var out []Correction
	for _, v := range list {
		st, err := bank.Get(ctx, s.db, x.CentreID, v.item)
		if err != nil {
			return nil, err
		}
		changed := false
		for _, d := range v.delivered {
			changed = changed || d != st.VersionID
		}
		if !changed {
			continue
		}
		regraded := true
		for _, sc := range v.scored {
			regraded = regraded && sc == st.VersionID
		}
		out = append(out, Correction{ItemID: v.item, Stem: excerpt(bank.PlainText(st.Item.Stem), 80), Delivered: v.delivered,
			Current: st.VersionID, Attempts: v.attempts, Regraded: regraded,
			Eligible: st.Item.Type.Objective() && optionCount(st.Item) == v.options})
	}
	return out, nil
}

// excerpt cuts s to at most n characters.
func excerpt(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
