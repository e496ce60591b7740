package accounts

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"syscall"
	"time"

	"github.com/alexedwards/argon2id"
	"golang.org/x/sync/semaphore"

	"shanyu/internal/failure"
)

// argonParams: 64 MiB and one pass, above OWASP's argon2id minimum (46 MiB, t=1, p=1). One lane:
// more lanes would only split one hash over several cores (shorter latency when the server is idle,
// the same total work for an attacker) while under a sign-in storm the cores are all busy with
// other hashes anyway, and the lanes' synchronisation costs CPU. With one lane, one hash is one
// core's work, so cores ÷ the time of one hash is what the server can sign in per second. Hashes
// stored with more lanes still verify: their parameters are read from the stored form.
var argonParams = &argon2id.Params{Memory: 64 * 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// dummyHash is compared against when a login names no user, so that "no such user" and "wrong
// password" take the same time: the stored form of a password nobody has, made with argonParams
// (TestDummyHashHasTheLiveParameters keeps the two together).
const dummyHash = "$argon2id$v=19$m=65536,t=1,p=1$AGtNr8Cl/Y9b0FoGOdIefw$kTct+MbiUhbeEqQQ1n76G9CiiEyS2UCPyojTqjCpCLM"

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
	// batch is how many finished hashes one collection waits for (half the slots): while they
	// wait, the other half keeps the cores hashing, and a storm pays for one collection per batch
	// rather than one per hash (a forced collection cost ~10 ms of CPU each on 2 cores, 5% of a
	// storm's CPU when it ran after every hash).
	batch int
}

// collectDelay bounds how long a finished hash's slot waits for its batch to fill: when sign-ins
// are few, the slot comes back after this long even if no other hash finished.
const collectDelay = 20 * time.Millisecond

func newHasher(budget int64, queue time.Duration) *hasher {
	slots := max(budget/hashCost, 1)
	h := &hasher{sem: semaphore.NewWeighted(max(budget, hashCost)), queue: queue, garbage: make(chan struct{}, slots), batch: int(max(slots/2, 1))}
	go h.collect()
	return h
}

// collect runs a collection once a batch of hashes has finished (or collectDelay after the first
// of them), then gives back their slots. The blocks hold no pointers, so marking is cheap, and the
// sign-in answers do not wait for it.
func (h *hasher) collect() {
	timer := time.NewTimer(collectDelay)
	timer.Stop()
	for range h.garbage {
		n := 1
		timer.Reset(collectDelay)
	gather:
		for n < h.batch {
			select {
			case <-h.garbage:
				n++
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		// Those that finished while the batch filled come along too.
		for drained := false; !drained; {
			select {
			case <-h.garbage:
				n++
			default:
				drained = true
			}
		}
		runtime.GC()
		h.sem.Release(int64(n) * hashCost)
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
// compare the server's sign-in rate with it. It is the median of five, so that one hash the machine
// happened to interrupt does not decide the target; cpu is the median's processor time.
func MeasureHash() (wall, cpu time.Duration) {
	type sample struct{ wall, cpu time.Duration }
	var s [5]sample
	for i := range s {
		c, t := processCPU(), time.Now()
		_, _ = argon2id.CreateHash("a password to time", argonParams)
		s[i] = sample{time.Since(t), processCPU() - c}
	}
	slices.SortFunc(s[:], func(a, b sample) int { return cmp.Compare(a.wall, b.wall) })
	return s[2].wall, s[2].cpu
}

// HashParamsCurrent reports whether a stored hash was made with the product's parameters.
func HashParamsCurrent(stored string) bool {
	p, _, _, err := argon2id.DecodeHash(stored)
	return err == nil && *p == *argonParams
}

// NewHash makes a stored form of pw with the product's parameters, outside any budget (fixtures).
func NewHash(pw string) (string, error) { return argon2id.CreateHash(pw, argonParams) }

func processCPU() time.Duration {
	var r syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}
