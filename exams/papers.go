package exams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"shanyu/exams/bank"
	"shanyu/internal/gzsplice"
	"shanyu/internal/pg"
)

// Papers are built before the start. When a registration is approved its paper for the next attempt
// is drawn from the registration's recorded seed and the session's pool as it is now, and stored as
// the exam page reads it (BuildPaper, run by a job enqueued in the approving transaction, and by the
// paper sweep for any that is missing). Starting then copies the stored paper into the attempt, with
// no drawing and no item loading; a paper missing or stale at the start is built there, in the
// start's transaction.
//
// A session's pool follows the bank and its blueprint until the last start: retiring, reactivating,
// correcting or refiling an item (ChangeBank), or changing the blueprint (UpdateBlueprint), resolves
// the pool again in the same transaction and gives it the next revision, and a job rebuilds the
// papers not yet started (RebuildPapers). Start refuses a paper of an older revision and builds
// another, so a retired item or an old key never reaches a new starter even before the job has run.
// A paper on which an attempt started never changes, and every revision of a pool is kept
// (exam_session_pools), so that an attempt can be rebuilt from its seed (Rebuild).

// paperRow is a stored paper: the attempt number it is for, its seed, the pool revision it was
// drawn from, and how many positions it has (a start needs no more: the attempt reads its paper
// where it is stored, exam_attempt_paper).
type paperRow struct {
	number    int
	seed      int64
	rev       int
	positions int
}

// storedItem is a position as exam_papers.items stores it (short keys: a paper is read at every start).
type storedItem struct {
	Position  int     `json:"p"`
	Section   int     `json:"s"`
	Part      string  `json:"t"`
	ItemID    int64   `json:"i"`
	VersionID int64   `json:"v"`
	Points    float64 `json:"x"`
	Order     []int   `json:"o,omitempty"`
}

func encodeItems(paper []PaperItem) ([]byte, error) {
	out := make([]storedItem, len(paper))
	for i, p := range paper {
		out[i] = storedItem{p.Position, p.Section, p.Part, p.ItemID, p.VersionID, p.Points, p.OptionOrder}
	}
	return json.Marshal(out)
}

// regState is a registration locked for a start or a paper build, with its session (without the
// pool, which only a build reads), the session's pool revision, its attempts, and its stored paper
// for the next attempt.
type regState struct {
	x        Session
	rev      int
	regID    int64
	personID int64
	status   string
	extra    int
	activeID *int64
	used     int
	paper    *paperRow // nil: none stored for attempt used+1
	// questions is the stored paper's questions as the exam page reads them (lockStart only: a new
	// attempt's start answers with its paper): compressed (built since migration 0498), or as json
	// text. Its fields are []byte, which pgx fills with the bytes as they came: into a
	// json.RawMessage it would run json.Unmarshal on them.
	questions paperQuestions
	// nextID is the id a new attempt will have, drawn in lockStart's batch (so that the attempt's
	// INSERT, whose result is then known beforehand, can go with the COMMIT). A start that begins no
	// attempt leaves a gap in the ids.
	nextID int64
}

// lockRegistration locks a registration (the first lock of a start or a build: docs/architecture.md)
// and reads what both need in two statements. cond selects the registration (r) of the session (x).
func lockRegistration(ctx context.Context, tx pgx.Tx, cond string, args ...any) (regState, error) {
	var st regState
	if err := st.scanLocked(tx.QueryRow(ctx, lockRegistrationQuery(cond), args...)); err != nil {
		return st, err
	}
	// Read the attempts only now that the registration is locked: a statement that waited for the
	// lock of a concurrent start would otherwise see the attempts as they were before that start.
	err := st.scanAttempts(tx.QueryRow(ctx, `WITH c AS (SELECT max(id) FILTER (WHERE status = 'active') AS active, count(*)::int AS n
			FROM exam_attempts WHERE registration_id = $1)
		SELECT c.active, c.n, p.seed, p.pool_rev, jsonb_array_length(p.items) FROM c
		LEFT JOIN exam_papers p ON p.registration_id = $1 AND p.number = c.n + 1`, st.regID))
	return st, err
}

// lockStart is lockRegistration for the starts of several people at one session, in one round
// trip: their registrations are locked in id order (the lock order of docs/architecture.md), then
// their attempts and stored papers are read, in one batch with whatever queue adds (the
// eligibility checks). The batch's statements run one after the other in the transaction, each with
// a snapshot of its own, so the attempts are still read only once the registrations are locked. A
// person without a registration is absent from the map.
func lockStart(ctx context.Context, tx pgx.Tx, sessionID int64, personIDs []int64, queue func(*pgx.Batch)) (map[int64]*regState, error) {
	states := make(map[int64]*regState, len(personIDs))
	var b pgx.Batch
	b.Queue(registrationSelect+` WHERE x.id = $1 AND r.person_id = ANY($2) ORDER BY r.id FOR UPDATE OF r`, sessionID, personIDs).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				st := new(regState)
				if err := st.scanLocked(rows); err != nil {
					return err
				}
				states[st.personID] = st
			}
			return rows.Err()
		})
	b.Queue(`WITH r AS (SELECT id, person_id FROM exam_registrations WHERE session_id = $1 AND person_id = ANY($2)),
			c AS (SELECT r.id, r.person_id, max(a.id) FILTER (WHERE a.status = 'active') AS active, count(a.id)::int AS n
				FROM r LEFT JOIN exam_attempts a ON a.registration_id = r.id GROUP BY r.id, r.person_id)
		SELECT c.person_id, c.active, c.n, p.seed, p.pool_rev, jsonb_array_length(p.items), p.questions_gz, p.questions,
			nextval('exam_attempts_id_seq') FROM c
		LEFT JOIN exam_papers p ON p.registration_id = c.id AND p.number = c.n + 1`, sessionID, personIDs).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var person int64
				var st regState
				if err := st.scanAttempts(extraRow{row: rows, first: []any{&person},
					extra: []any{&st.questions.gz, &st.questions.text, &st.nextID}}); err != nil {
					return err
				}
				if locked, ok := states[person]; ok {
					locked.activeID, locked.used, locked.paper, locked.questions, locked.nextID = st.activeID, st.used, st.paper, st.questions, st.nextID
				}
			}
			return rows.Err()
		})
	queue(&b)
	err := tx.SendBatch(ctx, &b).Close()
	return states, err
}

// registrationSelect reads a registration (r) with its session (x), without the pool.
var registrationSelect = `SELECT ` + sessionColumnsNoPool + `, x.pool_rev, r.id, r.person_id, r.status, r.extra_s
		FROM exam_sessions x JOIN exam_blueprints b ON b.id = x.blueprint_id
		JOIN exam_registrations r ON r.session_id = x.id`

func lockRegistrationQuery(cond string) string {
	return registrationSelect + ` WHERE ` + cond + ` FOR UPDATE OF r`
}

// scanLocked reads lockRegistrationQuery's row.
func (st *regState) scanLocked(row pgx.Row) error {
	x, err := scanSession(withExtra(row, &st.rev, &st.regID, &st.personID, &st.status, &st.extra))
	st.x = x
	return err
}

// scanAttempts reads the registration's attempts and the paper stored for the next one.
func (st *regState) scanAttempts(row pgx.Row) error {
	var seed *int64
	var rev, positions *int
	if err := row.Scan(&st.activeID, &st.used, &seed, &rev, &positions); err != nil {
		return err
	}
	if seed != nil {
		st.paper = &paperRow{number: st.used + 1, seed: *seed, rev: *rev, positions: *positions}
	}
	return nil
}

// sessionColumnsNoPool are sessionColumns without the pool (read as JSON null), which a start on a
// stored paper does not need.
var sessionColumnsNoPool = strings.Replace(sessionColumns, "x.pool,", "'null'::jsonb,", 1)

// current tells whether the stored paper was drawn from the session's pool as it is now.
func (st regState) current() bool { return st.paper != nil && st.paper.rev == st.rev }

// drawn is a paper drawn in a transaction: its positions, the page's questions, and the bank
// versions it loaded (remembered once the transaction commits: they are delivered then).
type drawn struct {
	items     []PaperItem
	questions []Question
	loaded    map[int64]bank.Item
}

// draw draws the paper of a registration's next attempt from seed and the session's current pool,
// and stores it (replacing a stale paper of the same attempt number). The versions it holds are
// marked delivered first, in one sorted statement (so that they are frozen before they are read: an
// edit of one of them becomes a new version), then read through the transaction.
func (s *Service) draw(ctx context.Context, tx pgx.Tx, st regState, seed int64) (drawn, error) {
	var raw []byte
	if err := tx.QueryRow(ctx, `SELECT pool FROM exam_session_pools WHERE session_id = $1 AND rev = $2`, st.x.ID, st.rev).Scan(&raw); err != nil {
		return drawn{}, fmt.Errorf("pool %d/%d: %w", st.x.ID, st.rev, err)
	}
	var pool []PoolSection
	if err := json.Unmarshal(raw, &pool); err != nil {
		return drawn{}, err
	}
	// Which versions a paper holds does not depend on their option counts (only their order does).
	var fresh []int64
	for _, p := range buildPaper(st.x.mode, st.x.fixedSeed, seed, pool, func(int64) int { return 0 }) {
		if _, ok := s.versions.Load(p.VersionID); !ok {
			fresh = append(fresh, p.VersionID)
		}
	}
	slices.Sort(fresh)
	if err := bank.MarkDelivered(ctx, tx, slices.Compact(fresh)); err != nil {
		return drawn{}, err
	}
	d := drawn{loaded: map[int64]bank.Item{}}
	var loadErr error
	item := func(v int64) bank.Item {
		if it, ok := d.loaded[v]; ok {
			return it
		}
		if c, ok := s.versions.Load(v); ok {
			return c.(versionInfo).item
		}
		stored, err := bank.Version(ctx, tx, v)
		if err != nil && loadErr == nil {
			loadErr = err
		}
		d.loaded[v] = stored.Item
		return stored.Item
	}
	d.items = buildPaper(st.x.mode, st.x.fixedSeed, seed, pool, func(v int64) int { return optionCount(item(v)) })
	if loadErr != nil {
		return drawn{}, loadErr
	}
	for _, p := range d.items {
		d.questions = append(d.questions, questionOf(p, item(p.VersionID)))
	}
	items, err := encodeItems(d.items)
	if err != nil {
		return drawn{}, err
	}
	questions, err := json.Marshal(d.questions)
	if err != nil {
		return drawn{}, err
	}
	// Compressed once here, to be spliced as it is into every answer that carries the paper.
	segment, err := gzsplice.Compress(questions)
	if err != nil {
		return drawn{}, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO exam_papers (registration_id, number, session_id, seed, pool_rev, items, questions_gz, built_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (registration_id, number) DO UPDATE SET seed = EXCLUDED.seed, pool_rev = EXCLUDED.pool_rev,
			items = EXCLUDED.items, questions = NULL, questions_gz = EXCLUDED.questions_gz, built_at = EXCLUDED.built_at`,
		st.regID, st.used+1, st.x.ID, seed, st.rev, items, []byte(segment), s.now()); err != nil {
		return drawn{}, fmt.Errorf("store paper: %w", err)
	}
	return d, nil
}

// remember keeps the versions a committed draw loaded: they are delivered, so they never change.
func (s *Service) remember(d drawn) {
	for id, it := range d.loaded {
		s.versions.Store(id, versionInfo{item: it})
	}
}

// seedOf is the seed of a registration's next paper: the stored paper's when there is one (a
// rebuild keeps it), a new one otherwise.
func (st regState) seedOf() int64 {
	if st.paper != nil {
		return st.paper.seed
	}
	return mrand.Int64()
}

// BuildPaper draws and stores the paper of an approved registration's next attempt, unless the one
// stored is drawn from the session's current pool already. Nothing is built for a registration that
// is not approved, has an attempt in progress or none left, or whose session is published or past
// its last start. It is idempotent: the approval's job, the sweep and a rebuild may all run it.
func (s *Service) BuildPaper(ctx context.Context, registrationID int64) (built bool, err error) {
	var d drawn
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		built = false
		st, err := lockRegistration(ctx, tx, `r.id = $1`, registrationID)
		if err != nil {
			return err
		}
		if st.status != Approved || st.x.PublishedAt != nil || st.activeID != nil || st.used >= st.x.AttemptsAllowed ||
			!s.now().Before(st.x.LatestStartAt) || st.current() {
			return nil
		}
		if d, err = s.draw(ctx, tx, st, st.seedOf()); err != nil {
			return err
		}
		built = true
		return nil
	})
	if err == nil && built {
		s.remember(d)
	}
	return built, err
}

// papersDue lists the approved registrations whose next paper is missing or drawn from an older
// pool, of one session (sessionID) or of every session that may still start (0), in id order.
func (s *Service) papersDue(ctx context.Context, sessionID int64, after int64, limit int) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT r.id FROM exam_registrations r JOIN exam_sessions x ON x.id = r.session_id
		CROSS JOIN LATERAL (SELECT count(*)::int AS n, bool_or(a.status = 'active') AS active FROM exam_attempts a WHERE a.registration_id = r.id) a
		WHERE r.status = 'approved' AND x.published_at IS NULL AND x.latest_start_at > $1 AND ($2 = 0 OR x.id = $2) AND r.id > $3
			AND a.active IS NOT TRUE AND a.n < x.attempts_allowed
			AND NOT EXISTS (SELECT 1 FROM exam_papers p WHERE p.registration_id = r.id AND p.number = a.n + 1 AND p.pool_rev = x.pool_rev)
		ORDER BY r.id LIMIT $4`, s.now(), sessionID, after, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// BuildPapers builds every paper due of one session (0: of every session that may still start) and
// returns how many it built. A registration that fails is reported and skipped.
func (s *Service) BuildPapers(ctx context.Context, sessionID int64) (n int, err error) {
	var errs []error
	after := int64(0)
	for {
		ids, err := s.papersDue(ctx, sessionID, after, sweepBatch)
		if err != nil {
			return n, errors.Join(append(errs, err)...)
		}
		for _, id := range ids {
			if ctx.Err() != nil {
				return n, ctx.Err()
			}
			built, err := s.BuildPaper(ctx, id)
			if err != nil {
				errs = append(errs, fmt.Errorf("paper of registration %d: %w", id, err))
			} else if built {
				n++
			}
		}
		if len(ids) < sweepBatch {
			return n, errors.Join(errs...)
		}
		after = ids[len(ids)-1]
	}
}

// refreshPools resolves again, in tx, the pools of the sessions selected by cond ($1) that may still
// start, and gives a session whose pool changed the next revision. It returns those sessions, for
// their unstarted papers to be rebuilt. When the bank can no longer fill a session's blueprint the
// change is refused (ErrBlueprintShort): no session is left unable to draw a paper.
//
// The sessions are locked FOR NO KEY UPDATE in id order, after the bank's rows the change locked:
// neither a start (which reads its session without a lock) nor a grading (FOR KEY SHARE) waits.
func (s *Service) refreshPools(ctx context.Context, tx pgx.Tx, cond string, arg int64) ([]int64, error) {
	rows, err := tx.Query(ctx, `SELECT x.id, x.organisation_id, x.pool, b.sections FROM exam_sessions x
		JOIN exam_blueprints b ON b.id = x.blueprint_id
		WHERE `+cond+` AND x.published_at IS NULL AND x.latest_start_at > $2 ORDER BY x.id FOR NO KEY UPDATE OF x`, arg, s.now())
	if err != nil {
		return nil, err
	}
	type sess struct {
		id, centre int64
		pool, secs []byte
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (sess, error) {
		var x sess
		return x, row.Scan(&x.id, &x.centre, &x.pool, &x.secs)
	})
	if err != nil {
		return nil, err
	}
	var changed []int64
	for _, x := range list {
		var sections []Section
		if err := json.Unmarshal(x.secs, &sections); err != nil {
			return nil, err
		}
		pool, short, err := resolve(ctx, tx, x.centre, sections)
		if err != nil {
			return nil, err
		}
		if len(short) > 0 {
			return nil, ErrBlueprintShort.Wrap(fmt.Errorf("session %d: section %d wants %d, the bank holds %d",
				x.id, short[0].Section, short[0].Wanted, short[0].Available))
		}
		raw, err := json.Marshal(pool)
		if err != nil {
			return nil, err
		}
		var old []PoolSection
		if err := json.Unmarshal(x.pool, &old); err != nil {
			return nil, err
		}
		if samePool(old, pool) {
			continue
		}
		if _, err := tx.Exec(ctx, `WITH x AS (UPDATE exam_sessions SET pool = $2, pool_rev = pool_rev + 1 WHERE id = $1 RETURNING id, pool_rev)
			INSERT INTO exam_session_pools (session_id, rev, pool) SELECT id, pool_rev, $2 FROM x`, x.id, raw); err != nil {
			return nil, fmt.Errorf("session %d pool: %w", x.id, err)
		}
		changed = append(changed, x.id)
	}
	for _, id := range changed {
		if _, err := s.jobs.InsertTx(ctx, tx, RebuildPapersArgs{SessionID: id}, nil); err != nil {
			return nil, fmt.Errorf("enqueue paper rebuild: %w", err)
		}
	}
	return changed, nil
}

func samePool(a, b []PoolSection) bool {
	return slices.EqualFunc(a, b, func(p, q PoolSection) bool {
		return p.Section == q.Section && p.Part == q.Part && p.Points == q.Points && p.Count == q.Count && slices.Equal(p.Versions, q.Versions)
	})
}

// ChangeBank runs a change of a centre's question bank (change gets the transaction: an edit, a
// retirement, a reactivation, a move or a tag) and, in the same transaction, resolves again the pools
// of the centre's sessions that may still start: a new starter draws from the bank as it now is
// (retired items out, corrected keys in), and the papers not yet started are rebuilt by a job.
func (s *Service) ChangeBank(ctx context.Context, centreID int64, change func(tx pgx.Tx) error) error {
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if err := change(tx); err != nil {
			return err
		}
		_, err := s.refreshPools(ctx, tx, `x.organisation_id = $1`, centreID)
		return err
	})
}

// UpdateBlueprint changes a blueprint's name and sections (its mode, occupation and level stay:
// they say what its sessions certify) after checking that the bank can fill it. The sessions of the
// blueprint that may still start are resolved again in the same transaction, and their unstarted
// papers rebuilt by a job; started papers never change.
func (s *Service) UpdateBlueprint(ctx context.Context, actorID int64, b Blueprint) (Blueprint, error) {
	old, err := s.GetBlueprint(ctx, b.ID)
	if err != nil {
		return Blueprint{}, err
	}
	if old.CentreID != b.CentreID {
		return Blueprint{}, ErrNotFound
	}
	b.Occupation, b.Level, b.Mode, b.CreatedAt = old.Occupation, old.Level, old.Mode, old.CreatedAt
	if err := s.checkBlueprint(ctx, b); err != nil {
		return Blueprint{}, err
	}
	secs, err := json.Marshal(b.Sections)
	if err != nil {
		return Blueprint{}, err
	}
	var changed []int64
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE exam_blueprints SET name = $2, sections = $3 WHERE id = $1`, b.ID, b.Name, secs); err != nil {
			return fmt.Errorf("update blueprint: %w", err)
		}
		if changed, err = s.refreshPools(ctx, tx, `x.blueprint_id = $1`, b.ID); err != nil {
			return err
		}
		return audit(ctx, tx, actorID, "exam.blueprint.update", fmt.Sprintf("exam_blueprint:%d", b.ID),
			map[string]any{"sessions_rebuilt": changed})
	})
	if err != nil {
		return Blueprint{}, err
	}
	return b, nil
}

// BuildPaperArgs is the job, enqueued by an approval, that builds the registration's paper.
type BuildPaperArgs struct {
	RegistrationID int64 `json:"registration_id"`
}

// Kind names the job for River.
func (BuildPaperArgs) Kind() string { return "exams.build_paper" }

// BuildPaperWorker works BuildPaperArgs.
type BuildPaperWorker struct {
	river.WorkerDefaults[BuildPaperArgs]
	Exams *Service
}

// Work builds the paper (nothing when it is built already).
func (w *BuildPaperWorker) Work(ctx context.Context, j *river.Job[BuildPaperArgs]) error {
	_, err := w.Exams.BuildPaper(ctx, j.Args.RegistrationID)
	return err
}

// RebuildPapersArgs is the job, enqueued when a session's pool changed, that rebuilds its unstarted
// papers.
type RebuildPapersArgs struct {
	SessionID int64 `json:"session_id"`
}

// Kind names the job for River.
func (RebuildPapersArgs) Kind() string { return "exams.rebuild_papers" }

// RebuildPapersWorker works RebuildPapersArgs.
type RebuildPapersWorker struct {
	river.WorkerDefaults[RebuildPapersArgs]
	Exams *Service
}

// Work rebuilds the session's papers that are due.
func (w *RebuildPapersWorker) Work(ctx context.Context, j *river.Job[RebuildPapersArgs]) error {
	_, err := w.Exams.BuildPapers(ctx, j.Args.SessionID)
	return err
}

// PaperSweepPeriod is how often the paper sweep builds the papers that are missing (an approval
// whose job was lost, a registration approved before a failure, a second attempt).
const PaperSweepPeriod = time.Minute

// PaperSweepArgs is the periodic job that builds every paper due.
type PaperSweepArgs struct{}

// Kind names the job for River.
func (PaperSweepArgs) Kind() string { return "exams.paper_sweep" }

// PaperSweepWorker works PaperSweepArgs.
type PaperSweepWorker struct {
	river.WorkerDefaults[PaperSweepArgs]
	Exams *Service
}

// Work builds the papers due of every session that may still start.
func (w *PaperSweepWorker) Work(ctx context.Context, _ *river.Job[PaperSweepArgs]) error {
	_, err := w.Exams.BuildPapers(ctx, 0)
	return err
}

// PeriodicPaperSweep is the paper sweep's schedule, for the job registry; it also runs when the
// client starts.
func PeriodicPaperSweep() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(PaperSweepPeriod),
		func() (river.JobArgs, *river.InsertOpts) { return PaperSweepArgs{}, &river.InsertOpts{MaxAttempts: 1} },
		&river.PeriodicJobOpts{RunOnStart: true})
}
