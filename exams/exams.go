// Package exams owns blueprints, exam sessions, registrations, attempts, grading and results; the
// question bank lives in exams/bank. Publishing a passing result records a certificate-issuance
// request in the same transaction. It must not import server, fiber or any HTTP package.
//
// The attempt engine's promise is that an acknowledged answer is never lost: Save writes the answer
// row before it returns, in one statement that also checks the device and the deadline. A paper is
// built before the start from the registration's recorded seed and the session's pool as the bank
// now is (papers.go); once an attempt started on it, it never changes, and it can be rebuilt from
// its seed and the pool revision it was drawn from.
package exams

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/internal/failure"
	"shanyu/internal/jobs"
)

// HoursSource tells how many training hours a person completed for an occupation in a period; the
// curriculum domain implements it.
type HoursSource interface {
	CompletedHours(ctx context.Context, personID int64, occupationCode string, from, to time.Time) (float64, error)
}

// IdentitySource tells whether staff verified people's identity against their ID documents; the
// accounts domain implements it.
type IdentitySource interface {
	Identities(ctx context.Context, personIDs []int64) (map[int64]accounts.Identity, error)
}

// ConductSource tells whether a person's conduct records are clear on a day (no employment bar in
// force, no record found by a background check); the audits domain implements it, wired in app/.
type ConductSource interface {
	ConductClear(ctx context.Context, personID int64, on time.Time) (bool, error)
}

// Notifier tells a person of an event inside the transaction that causes it (accounts.Notices).
type Notifier interface {
	Notify(ctx context.Context, tx pgx.Tx, n accounts.Notice) error
}

// NameSource gives people's names by id in one call; the accounts domain implements it (exams reads
// no table of accounts).
type NameSource interface {
	Names(ctx context.Context, personIDs []int64) (map[int64]string, error)
}

// Errors of the exams domain.
var (
	ErrNotFound           = failure.New(failure.NotFound, "exams.not_found")
	ErrBlueprintInvalid   = failure.New(failure.Invalid, "exams.blueprint_invalid")
	ErrBlueprintShort     = failure.New(failure.Invalid, "exams.blueprint_infeasible")
	ErrSessionInvalid     = failure.New(failure.Invalid, "exams.session_invalid")
	ErrAlreadyRegistered  = failure.New(failure.Conflict, "exams.already_registered")
	ErrNotEligible        = failure.New(failure.Forbidden, "exams.not_eligible")
	ErrNotApproved        = failure.New(failure.Forbidden, "exams.not_approved")
	ErrNotOpen            = failure.New(failure.Conflict, "exams.not_open")
	ErrStartClosed        = failure.New(failure.Conflict, "exams.start_closed")
	ErrSessionPublished   = failure.New(failure.Conflict, "exams.session_published") // results are out: no new starts
	ErrNoAttemptsLeft     = failure.New(failure.Conflict, "exams.no_attempts_left")
	ErrTakenOver          = failure.New(failure.Conflict, "exams.taken_over")
	ErrLate               = failure.New(failure.Conflict, "exams.late")
	ErrSubmitted          = failure.New(failure.Conflict, "exams.submitted")
	ErrSeqReused          = failure.New(failure.Conflict, "exams.seq_reused")
	ErrHeldElsewhere      = failure.New(failure.Conflict, "exams.held_elsewhere")      // another device holds the attempt: take it over explicitly
	ErrRecordedTakenOver  = failure.New(failure.Conflict, "exams.recorded_taken_over") // not counted: the device no longer holds the attempt; kept as evidence
	ErrRecordedLate       = failure.New(failure.Conflict, "exams.recorded_late")       // not counted: arrived after submission or time; kept as evidence
	ErrBadAnswer          = failure.New(failure.Invalid, "exams.answer_invalid")
	ErrMarkingOpen        = failure.New(failure.Conflict, "exams.marking_open")
	ErrAlreadyPublished   = failure.New(failure.Conflict, "exams.already_published")
	ErrAlreadyDecided     = failure.New(failure.Conflict, "exams.already_decided")
	ErrMarkInvalid        = failure.New(failure.Invalid, "exams.mark_invalid")
	ErrMarkedAlready      = failure.New(failure.Conflict, "exams.marked_already") // an examiner marks an answer once
	ErrSignalInvalid      = failure.New(failure.Invalid, "exams.signal_invalid")
	ErrRegistrationClosed = failure.New(failure.Conflict, "exams.registration_closed")
	ErrIdentityUnverified = failure.New(failure.Forbidden, "exams.identity_unverified")
	ErrIDNumberDropped    = failure.New(failure.Forbidden, "exams.id_number_dropped") // a centre bound the claimed number to someone else
	ErrConductRecord      = failure.New(failure.Forbidden, "exams.conduct_record")    // barred, or a background check found a record
)

// Service is the exams domain, built once per process.
type Service struct {
	db      *pgxpool.Pool
	jobs    jobs.Inserter // papers, paper rebuilds and certificate issuance are enqueued in the deciding transaction
	hours   HoursSource
	ids     IdentitySource
	conduct ConductSource
	names   NameSource
	notices Notifier
	now     func() time.Time

	// Delivered bank versions never change (a trigger in the bank forbids it), so their content can
	// be kept in memory by any replica without going stale.
	versions sync.Map // int64 → versionInfo
	sessions sync.Map // int64 → Session: settings, which never change (cache.go)
	places   placeCache
	starts   startQueue // the starts that arrive together share a transaction (start_queue.go)
}

// Options configure a Service. Every collaborator is required (New panics without one): a missing
// one would not make the service simpler, it would silently skip its part of the rules (no hours, no
// identity check, no conduct record, no paper or certificate job).
type Options struct {
	Jobs     jobs.Inserter    // enqueues papers, paper rebuilds and certificate issuance (a River client)
	Hours    HoursSource      // the training hours completed (the curriculum service)
	Identity IdentitySource   // whose identity staff verified (the accounts service)
	Conduct  ConductSource    // conduct records: bars and background checks (the audits domain)
	Names    NameSource       // people's names (the accounts service)
	Notices  Notifier         // tells candidates of decisions, results and exams starting soon (accounts.Notices)
	Now      func() time.Time // the clock; tests move it (time.Now when nil)
}

// New builds the service; it panics when a collaborator is missing.
func New(db *pgxpool.Pool, o Options) *Service {
	switch {
	case o.Jobs == nil:
		panic("exams.New: Options.Jobs (a River client) is required")
	case o.Hours == nil:
		panic("exams.New: Options.Hours (the curriculum service) is required")
	case o.Identity == nil:
		panic("exams.New: Options.Identity (the accounts service) is required")
	case o.Conduct == nil:
		panic("exams.New: Options.Conduct (the audits domain's conduct records) is required")
	case o.Names == nil:
		panic("exams.New: Options.Names (the accounts service) is required")
	case o.Notices == nil:
		panic("exams.New: Options.Notices (accounts.Notices) is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{db: db, jobs: o.Jobs, hours: o.Hours, ids: o.Identity, conduct: o.Conduct, names: o.Names, notices: o.Notices, now: o.Now,
		starts: startQueue{runners: max(1, min(startRunners, int(db.Config().MaxConns)/2))}}
}
