package exams

import (
	"context"
	"sync"

	"shanyu/internal/pg"
)

// What never changes once written is kept in memory, so that the reads every exam-day request makes
// (the session's settings for the eligibility check and the scope, an attempt's owner and centre for
// the scope of every save and poll) cost no round trip after the first. A session's settings never
// change after its creation except its publication and its pool, which the cached copy leaves out:
// every decision that depends on them reads the row in its transaction.

// maxPlaces bounds the attempts whose place is kept; the map starts again when it is full.
const maxPlaces = 100_000

type placeCache struct {
	mu sync.Mutex
	m  map[int64][2]int64 // attempt → person, centre
}

func (c *placeCache) get(id int64) ([2]int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[id]
	return v, ok
}

func (c *placeCache) put(id int64, v [2]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxPlaces {
		c.m = make(map[int64][2]int64)
	}
	c.m[id] = v
}

// settings returns a session's settings (no pool, PublishedAt as it was when first read), from
// memory after the first read.
func (s *Service) settings(ctx context.Context, id int64) (Session, error) {
	if v, ok := s.sessions.Load(id); ok {
		return v.(Session), nil
	}
	x, err := scanSettings(s.db.QueryRow(ctx, `SELECT `+sessionColumnsNoPool+`, `+settingsColumns+` FROM exam_sessions x
		JOIN exam_blueprints b ON b.id = x.blueprint_id WHERE x.id = $1`, id))
	if err != nil {
		return Session{}, err
	}
	x.PublishedAt = nil // changes: read in the transaction that depends on it
	s.sessions.Store(id, x)
	return x, nil
}

// SessionCentre returns the centre a session belongs to (for permission checks), from memory after
// the first read: a session never moves.
func (s *Service) SessionCentre(ctx context.Context, id int64) (int64, error) {
	x, err := s.settings(ctx, id)
	return x.CentreID, err
}

// AttemptPlace returns the person an attempt belongs to and its session's centre, for permission
// checks (from memory after the first read: neither ever changes).
func (s *Service) AttemptPlace(ctx context.Context, attemptID int64) (personID, centreID int64, err error) {
	if v, ok := s.places.get(attemptID); ok {
		return v[0], v[1], nil
	}
	err = s.db.QueryRow(ctx, `SELECT a.person_id, x.organisation_id FROM exam_attempts a JOIN exam_sessions x ON x.id = a.session_id WHERE a.id = $1`,
		attemptID).Scan(&personID, &centreID)
	if pg.IsNoRows(err) {
		return 0, 0, ErrNotFound
	}
	if err == nil {
		s.places.put(attemptID, [2]int64{personID, centreID})
	}
	return personID, centreID, err
}
