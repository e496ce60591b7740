package exams

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/pg"
)

// A sitting's candidates press start within the same second. Each start alone is a short
// transaction, but two thousand of them at once are two thousand of everything PostgreSQL does per
// statement and per commit (measured on two cores: about 0.8 ms of its processor time a start, most
// of it not the rows' own work). So the starts that arrive while others are being written share a
// transaction: startQueue keeps the starts waiting, by session, and a few runners take them in
// batches, each batch one transaction of the same statements as a single start (lockStart,
// insertAttempts) with arrays for arguments. A start that arrives when a runner is free runs at once,
// alone; only under a burst do they gather, up to startBatchMax.
//
// Every guarantee of a single start holds in a batch: the registrations are locked in id order
// before their attempts are read (so two batches, or a batch and any other start, take turns on a
// shared registration and never deadlock); one person appears at most once in a batch (a second
// start of the same person waits for the next, and then finds the first's attempt); the
// eligibility checks, the session's window and the attempts left are decided per person under the
// locks, with the same refusals. What a batch cannot decide without further statements (a paper
// missing or drawn from an older pool, which is drawn in the start's transaction) it hands back,
// and that start runs alone (Service.start); so does every start of a batch whose transaction fails,
// so that one person's failure is that person's alone.
type startQueue struct {
	mu      sync.Mutex
	pending map[int64][]*startRequest // by session
	running int
	runners int // at most this many run at once: startRunners, or half the pool if that is fewer
	// batches is how many batches were taken, largest the most starts one held (tests, the bench).
	batches, largest int
}

const (
	// startRunners is how many batches are written at once, at most half the pool's connections:
	// enough to keep two cores of PostgreSQL busy while a batch's answers travel, few enough that the
	// starts gather and that the rest of the product keeps connections.
	startRunners = 4
	// startBatchMax bounds a batch (its arrays, its locks and its answer).
	startBatchMax = 128
	// startBatchTimeout bounds a batch's transaction, which no one request's context owns.
	startBatchTimeout = 30 * time.Second
)

// startRequest is one start waiting in the queue, and, once done is closed, its outcome.
type startRequest struct {
	x        Session // its settings (cached: PublishedAt is read under the lock)
	personID int64
	done     chan struct{}
	out      Started
	err      error
	alone    bool // not decided: run it alone
}

// start queues one person's start and waits for it; decided is false when the start is to run alone.
func (q *startQueue) start(s *Service, x Session, personID int64) (out Started, err error, decided bool) {
	r := &startRequest{x: x, personID: personID, done: make(chan struct{})}
	q.mu.Lock()
	if q.pending == nil {
		q.pending = map[int64][]*startRequest{}
	}
	q.pending[x.ID] = append(q.pending[x.ID], r)
	spawn := q.running < max(1, q.runners)
	if spawn {
		q.running++
	}
	q.mu.Unlock()
	if spawn {
		go q.run(s)
	}
	<-r.done
	return r.out, r.err, !r.alone
}

// run writes batches until none is waiting.
func (q *startQueue) run(s *Service) {
	for {
		q.mu.Lock()
		batch := q.take()
		if batch == nil {
			q.running--
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		s.startBatch(batch)
	}
}

// take removes the next batch from the queue: the oldest waiting starts of one session, at most
// startBatchMax and one per person. The caller holds q.mu.
func (q *startQueue) take() []*startRequest {
	for sessionID, list := range q.pending {
		batch := make([]*startRequest, 0, min(len(list), startBatchMax))
		rest := list[:0:0]
		in := make(map[int64]bool, cap(batch))
		for _, r := range list {
			if len(batch) < startBatchMax && !in[r.personID] {
				in[r.personID] = true
				batch = append(batch, r)
			} else {
				rest = append(rest, r)
			}
		}
		q.batches++
		q.largest = max(q.largest, len(batch))
		if len(rest) == 0 {
			delete(q.pending, sessionID)
		} else {
			q.pending[sessionID] = rest
		}
		return batch
	}
	return nil
}

// startBatch starts the attempts of a batch of people at one session in one transaction (see
// startQueue) and closes each request's done with its outcome.
func (s *Service) startBatch(batch []*startRequest) {
	defer func() {
		for _, r := range batch {
			close(r.done)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), startBatchTimeout)
	defer cancel()
	x0 := batch[0].x
	people := make([]int64, len(batch))
	for i, r := range batch {
		people[i] = r.personID
	}
	now := s.now()
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		var es *eligibilities
		states, err := lockStart(ctx, tx, x0.ID, people, func(b *pgx.Batch) { es = s.queueEligible(b, x0, people) })
		if err != nil {
			return err
		}
		news := make([]newAttempt, 0, len(batch))
		for _, r := range batch {
			r.out, r.err, r.alone = Started{}, nil, false // a retried transaction decides again
			st, ok := states[r.personID]
			switch {
			case !ok, st.status != Approved: // the session exists: its settings were read
				r.err = ErrNotApproved
			case st.activeID != nil:
				r.err = ErrHeldElsewhere
			default:
				r.err = st.mayBegin(now, es.of(r.personID).verdict(x0, true))
				if r.err == nil && !st.current() {
					r.alone = true // its paper is drawn in a start of its own
				}
				if r.err == nil && !r.alone {
					n := st.newAttempt(now, newDeviceToken())
					news = append(news, n)
					r.out = n.started(now, nil, st.questions)
				}
			}
		}
		return insertAttempts(ctx, tx, news)
	})
	if err != nil {
		// Each start runs again alone and meets, or not, the failure itself.
		for _, r := range batch {
			r.out, r.err, r.alone = Started{}, nil, true
		}
		return
	}
	for _, r := range batch {
		if r.err == nil && !r.alone {
			// The attempt's first save needs no read for its scope.
			s.places.put(r.out.Attempt.ID, [2]int64{r.personID, x0.CentreID})
		}
	}
}
