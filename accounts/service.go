package accounts

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Policy holds the tunable numbers of sign-in and sessions.
type Policy struct {
	SessionIdle       time.Duration // a session unused this long ends
	SessionAbsolute   time.Duration // no session lives longer than this
	PairFree          int           // failures of one account from one address before delays start
	AccountFailures   int           // failures of one account from anywhere before addresses that failed are delayed
	AddressFailures   int           // failures from one client address per window before it is refused
	SignupsPerAddress int           // sign-up attempts from one client address per window
	ThrottleWindow    time.Duration
	MinPasswordChars  int
	HashMemory        int64         // bytes that password hashes may hold at once (SHANYU_AUTH_MEMORY_MB)
	HashQueue         time.Duration // how long a hash waits for that memory before ErrBusy (SHANYU_AUTH_QUEUE_S)
}

// DefaultPolicy is what the product runs with unless configured otherwise.
var DefaultPolicy = Policy{
	SessionIdle:       2 * time.Hour,
	SessionAbsolute:   12 * time.Hour,
	PairFree:          3,
	AccountFailures:   10,
	AddressFailures:   20,
	SignupsPerAddress: 10,
	ThrottleWindow:    15 * time.Minute,
	MinPasswordChars:  10,
	HashMemory:        512 << 20,
	HashQueue:         30 * time.Second,
}

// PolicyFrom is the default policy with the hashing budget of the configuration.
func PolicyFrom(hashMemory int64, hashQueue time.Duration) Policy {
	p := DefaultPolicy
	p.HashMemory, p.HashQueue = hashMemory, hashQueue
	return p
}

// Service is the accounts domain: it owns its tables and is safe for concurrent use.
type Service struct {
	db     *pgxpool.Pool
	seal   *sealer
	policy Policy
	now    func() time.Time
	hasher *hasher
	// principals is Authenticate's cache (principals.go).
	principals principals
}

// New makes the accounts service. secret is the 32-byte key that protects ID numbers.
func New(db *pgxpool.Pool, secret []byte, policy Policy) (*Service, error) {
	s, err := newSealer(secret)
	if err != nil {
		return nil, err
	}
	if policy.HashQueue <= 0 {
		policy.HashQueue = DefaultPolicy.HashQueue
	}
	hs := newHasher(policy.HashMemory, policy.HashQueue)
	return &Service{db: db, seal: s, policy: policy, now: time.Now, hasher: hs}, nil
}

// DB exposes the pool for other domains' seeding and for tests.
func (s *Service) DB() *pgxpool.Pool { return s.db }
