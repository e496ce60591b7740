package accounts

import (
	"context"
	"runtime"
	"time"

	"github.com/alexedwards/argon2id"
	"golang.org/x/sync/semaphore"

	"shanyu/internal/failure"
)

// argonParams: 64 MiB is argon2id's recommended default; with 2 cores we use 1 pass less than the
// library default would to keep logins under ~100 ms while still memory-hard.
var argonParams = &argon2id.Params{Memory: 64 * 1024, Iterations: 1, Parallelism: 2, SaltLength: 16, KeyLength: 32}

// dummyHash is compared against when a login names no user, so that "no such user" and "wrong
// password" take the same time: the stored form of a password nobody has, made with argonParams
// (TestDummyHashHasTheLiveParameters keeps the two together).
const dummyHash = "$argon2id$v=19$m=65536,t=1,p=2$SOm5rG7VlSW3FbDglFSO0w$1CU2SmSzqeJ43xEMMUwYQia9cHp0RAGWGnLfaS1kSWM"

// hashCost is the memory one argon2id hash holds while it runs.
const hashCost = int64(64 << 20)

// ErrBusy says the server is hashing as many passwords as its memory budget allows and this one
// waited its whole queue deadline: try again shortly (503 with Retry-After).
var ErrBusy = &failure.Error{Kind: failure.Unavailable, Msg: failure.Msg{Key: "accounts.busy"}, RetryAfter: 5}

// hasher runs argon2id under a memory budget (OWASP ASVS 5.0 V6 leaves the cost to us; the budget
// keeps it from becoming a denial of service). A weighted semaphore admits as many hashes as fit;
// the others wait, each for at most the queue deadline, and then get ErrBusy.
type hasher struct {
	sem   *semaphore.Weighted
	queue time.Duration
	// garbage counts finished hashes whose 64 MiB the collector has not yet reclaimed: their slots
	// are released only once it has, so that memory live or not yet collected stays within the
	// budget. With GOGC at 400 the collector would otherwise let gigabytes of it pile up.
	garbage chan struct{}
}

func newHasher(budget int64, queue time.Duration) *hasher {
	h := &hasher{sem: semaphore.NewWeighted(max(budget, hashCost)), queue: queue, garbage: make(chan struct{}, max(budget/hashCost, 1))}
	go h.collect()
	return h
}

// collect runs a collection whenever hashes have finished, then gives back their slots: one cycle
// for all that finished meanwhile. The blocks hold no pointers, so marking is cheap, and the sign-in
// answers do not wait for it.
func (h *hasher) collect() {
	for range h.garbage {
		n := int64(1)
		for drained := false; !drained; {
			select {
			case <-h.garbage:
				n++
			default:
				drained = true
			}
		}
		runtime.GC()
		h.sem.Release(n * hashCost)
	}
}

func (h *hasher) run(ctx context.Context, f func() error) error {
	wait, cancel := context.WithTimeout(ctx, h.queue)
	defer cancel()
	if err := h.sem.Acquire(wait, hashCost); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return ErrBusy
	}
	err := f()
	h.garbage <- struct{}{} // never blocks: at most budget/hashCost slots are out at once
	return err
}

// hash makes the stored form of a new password.
func (h *hasher) hash(ctx context.Context, pw string) (string, error) {
	var out string
	err := h.run(ctx, func() (err error) {
		out, err = argon2id.CreateHash(pw, argonParams)
		return err
	})
	return out, err
}

// compare reports whether pw matches the stored hash. A malformed hash is a mismatch.
func (h *hasher) compare(ctx context.Context, pw, hash string) (bool, error) {
	var ok bool
	err := h.run(ctx, func() error {
		var cmpErr error
		ok, cmpErr = argon2id.ComparePasswordAndHash(pw, hash)
		if cmpErr != nil {
			ok = false
		}
		return nil
	})
	return ok, err
}

// MeasureHash times one argon2id hash with the product's parameters, outside any budget: benches
// compare the server's sign-in rate with it.
func MeasureHash() time.Duration {
	t := time.Now()
	_, _ = argon2id.CreateHash("a password to time", argonParams)
	return time.Since(t)
}
