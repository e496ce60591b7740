package curriculum

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/accounts"
	"shanyu/internal/clock"
	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// Ledger entry kinds.
const (
	KindLesson     = "lesson"
	KindSession    = "session"
	KindCorrection = "correction"
)

// Entry is one line of the append-only hours ledger.
type Entry struct {
	ID             int64
	PersonID       int64
	Kind           string
	OccupationCode string
	Level          int
	CourseID       int64
	LessonID       int64
	SessionID      int64
	CorrectsID     int64
	Hours          float64
	EarnedAt       time.Time
	Reason         string
	ActorID        int64
	CreatedAt      time.Time
	Title          string // the course version or session it came from, for display
	VersionNumber  int    // the course version whose lesson earned it (0 for sessions)
}

// Source names where the hours came from: a lesson's course with the version studied (the course may
// have a newer version under another title), or a session.
func (e Entry) Source() string {
	if e.VersionNumber == 0 {
		return e.Title
	}
	return fmt.Sprintf("%s · v%d", e.Title, e.VersionNumber)
}

func credit(ctx context.Context, tx pgx.Tx, e Entry) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO hours_ledger (person_id, kind, occupation_code, level, course_id, lesson_id, session_id, corrects_id, hours, earned_at, reason, actor_id)
		VALUES ($1, $2, $3, $4, nullif($5, 0), nullif($6, 0), nullif($7, 0), nullif($8, 0), $9, $10, $11, nullif($12, 0)) RETURNING id`,
		e.PersonID, e.Kind, e.OccupationCode, e.Level, e.CourseID, e.LessonID, e.SessionID, e.CorrectsID, e.Hours, e.EarnedAt, e.Reason, e.ActorID).Scan(&id)
	return id, err
}

const entrySelect = `SELECT h.id, h.person_id, h.kind, h.occupation_code, h.level, coalesce(h.course_id, 0), coalesce(h.lesson_id, 0), coalesce(h.session_id, 0),
	coalesce(h.corrects_id, 0), h.hours::float8, h.earned_at, h.reason, coalesce(h.actor_id, 0), h.created_at,
	coalesce((SELECT v.title FROM lessons l JOIN course_modules m ON m.id = l.module_id JOIN course_versions v ON v.id = m.version_id WHERE l.id = coalesce(h.lesson_id, o.lesson_id)),
		(SELECT v.title FROM courses c JOIN course_versions v ON v.id = coalesce(c.published_version_id, (SELECT max(x.id) FROM course_versions x WHERE x.course_id = c.id))
		WHERE c.id = coalesce(h.course_id, o.course_id)), (SELECT s.title FROM practical_sessions s WHERE s.id = coalesce(h.session_id, o.session_id)), ''),
	coalesce((SELECT v.number FROM lessons l JOIN course_modules m ON m.id = l.module_id JOIN course_versions v ON v.id = m.version_id WHERE l.id = coalesce(h.lesson_id, o.lesson_id)), 0)
	FROM hours_ledger h LEFT JOIN hours_ledger o ON o.id = h.corrects_id`

func scanEntry(r pgx.Row) (Entry, error) {
	var e Entry
	err := r.Scan(&e.ID, &e.PersonID, &e.Kind, &e.OccupationCode, &e.Level, &e.CourseID, &e.LessonID, &e.SessionID, &e.CorrectsID,
		&e.Hours, &e.EarnedAt, &e.Reason, &e.ActorID, &e.CreatedAt, &e.Title, &e.VersionNumber)
	if pg.IsNoRows(err) {
		return e, ErrEntryNotFound
	}
	return e, err
}

// Entry loads one ledger entry.
func (s *Service) Entry(ctx context.Context, id int64) (Entry, error) {
	return scanEntry(s.db.QueryRow(ctx, entrySelect+` WHERE h.id = $1`, id))
}

// EntryOrganisation is the training centre whose course or session an entry (or the entry it
// corrects) came from; only that centre may correct it.
func (s *Service) EntryOrganisation(ctx context.Context, id int64) (int64, error) {
	var org int64
	err := s.db.QueryRow(ctx, `SELECT coalesce(c.organisation_id, ps.organisation_id, 0)
		FROM hours_ledger h LEFT JOIN hours_ledger o ON o.id = h.corrects_id
		LEFT JOIN courses c ON c.id = coalesce(h.course_id, o.course_id)
		LEFT JOIN practical_sessions ps ON ps.id = coalesce(h.session_id, o.session_id)
		WHERE h.id = $1`, id).Scan(&org)
	if pg.IsNoRows(err) {
		return 0, ErrEntryNotFound
	}
	return org, err
}

// Correct appends a correction of delta hours (negative to take hours away) to an entry; the entry
// itself is never changed. The corrected entry may not fall below zero in total.
func (s *Service) Correct(ctx context.Context, actorID, entryID int64, delta float64, reason string) (Entry, error) {
	reason = strings.TrimSpace(reason)
	var f failure.Fields
	if n := len([]rune(reason)); n < 2 || n > 500 {
		f.Add("reason", "curriculum.reason_required")
	}
	if delta == 0 || math.IsNaN(delta) || math.Abs(delta) > maxRequiredHours {
		f.Add("hours", "curriculum.correction_invalid")
	}
	if actorID == 0 {
		f.Add("actor", "curriculum.actor_required")
	}
	if err := f.Err(); err != nil {
		return Entry{}, err
	}
	var id int64
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		orig, err := scanEntry(tx.QueryRow(ctx, entrySelect+` WHERE h.id = $1 FOR UPDATE OF h`, entryID))
		if err != nil {
			return err
		}
		if orig.Kind == KindCorrection {
			// Corrections chain to the original entry, so its total stays one sum.
			entryID = orig.CorrectsID
			if orig, err = scanEntry(tx.QueryRow(ctx, entrySelect+` WHERE h.id = $1 FOR UPDATE OF h`, entryID)); err != nil {
				return err
			}
		}
		var total float64
		if err := tx.QueryRow(ctx, `SELECT sum(hours)::float8 FROM hours_ledger WHERE id = $1 OR corrects_id = $1`, entryID).Scan(&total); err != nil {
			return err
		}
		if total+delta < -0.001 {
			return ErrOverCorrection
		}
		// A correction counts in the period of the entry it corrects.
		id, err = credit(ctx, tx, Entry{PersonID: orig.PersonID, Kind: KindCorrection, OccupationCode: orig.OccupationCode, Level: orig.Level,
			CorrectsID: entryID, Hours: delta, EarnedAt: orig.EarnedAt, Reason: reason, ActorID: actorID})
		if err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "hours.correct", Subject: fmt.Sprintf("hours:%d", entryID),
			Details: map[string]any{"correction_id": id, "hours": delta, "reason": reason}})
	})
	if err != nil {
		return Entry{}, err
	}
	return s.Entry(ctx, id)
}

// CompletedHours is the total credited in the ledger to a person for an occupation (e.g. "4-10-01-03"),
// for learning done in [from, to), corrections included. Exams use it for eligibility and
// certificates for renewal.
func (s *Service) CompletedHours(ctx context.Context, personID int64, occupationCode string, from, to time.Time) (float64, error) {
	var h float64
	err := s.db.QueryRow(ctx, completedHoursQuery, personID, occupationCode, from, to).Scan(&h)
	return h, err
}

const completedHoursQuery = `SELECT coalesce(sum(hours), 0)::float8 FROM hours_ledger
	WHERE person_id = $1 AND occupation_code = $2 AND earned_at >= $3 AND earned_at < $4`

// QueueCompletedHours is CompletedHours of several people queued on b, for a caller that sends it
// with statements of its own in one round trip (the exam start's transaction, which starts a
// sitting's candidates together); out is given each person's hours, 0 for none, when b's results are
// read.
func (s *Service) QueueCompletedHours(b *pgx.Batch, personIDs []int64, occupationCode string, from, to time.Time, out map[int64]float64) {
	b.Queue(`SELECT p.id, coalesce(sum(h.hours), 0)::float8 FROM unnest($1::bigint[]) AS p(id)
		LEFT JOIN hours_ledger h ON h.person_id = p.id AND h.occupation_code = $2 AND h.earned_at >= $3 AND h.earned_at < $4
		GROUP BY p.id`, personIDs, occupationCode, from, to).Query(func(rows pgx.Rows) error {
		var id int64
		var h float64
		_, err := pgx.ForEachRow(rows, []any{&id, &h}, func() error {
			out[id] = h
			return nil
		})
		return err
	})
}

// HoursReport is a person's hours over a period, grouped three ways.
type HoursReport struct {
	From, To     time.Time
	Total        float64
	ByCourse     []HoursGroup
	ByOccupation []HoursGroup
	ByMonth      []HoursGroup
	Entries      []Entry
}

// HoursGroup is a subtotal.
type HoursGroup struct {
	Key   string // course id, occupation code or YYYY-MM
	Label string
	Hours float64
}

// Hours reports a person's ledger for [from, to), newest entries first.
func (s *Service) Hours(ctx context.Context, personID int64, from, to time.Time) (HoursReport, error) {
	r := HoursReport{From: from, To: to}
	rows, err := s.db.Query(ctx, entrySelect+` WHERE h.person_id = $1 AND h.earned_at >= $2 AND h.earned_at < $3 ORDER BY h.earned_at DESC, h.id DESC`, personID, from, to)
	if err != nil {
		return r, err
	}
	if r.Entries, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Entry, error) { return scanEntry(row) }); err != nil {
		return r, err
	}
	// Corrections belong to their original entry's course or session.
	origin := map[int64]Entry{}
	for _, e := range r.Entries {
		if e.Kind != KindCorrection {
			origin[e.ID] = e
		}
	}
	group := func(list *[]HoursGroup, key, label string, h float64) {
		for i := range *list {
			if (*list)[i].Key == key {
				(*list)[i].Hours += h
				return
			}
		}
		*list = append(*list, HoursGroup{Key: key, Label: label, Hours: h})
	}
	for _, e := range r.Entries {
		r.Total += e.Hours
		src := e
		if o, ok := origin[e.CorrectsID]; ok {
			src = o
		}
		switch {
		case src.CourseID != 0:
			group(&r.ByCourse, fmt.Sprintf("course:%d", src.CourseID), e.Title, e.Hours)
		case src.SessionID != 0:
			group(&r.ByCourse, fmt.Sprintf("session:%d", src.SessionID), e.Title, e.Hours)
		}
		label := e.OccupationCode
		if zh, _, err := s.opts.Levels(e.OccupationCode, e.Level); err == nil {
			label = zh
		}
		group(&r.ByOccupation, e.OccupationCode, label, e.Hours)
		month := clock.Format(e.EarnedAt, "2006-01")
		group(&r.ByMonth, month, month, e.Hours)
	}
	r.Total = math.Round(r.Total*100) / 100
	return r, nil
}
