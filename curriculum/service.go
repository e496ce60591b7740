package curriculum

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// LevelNames names an occupation at a level in Chinese and English, or fails for an unknown pair.
// The certificates domain owns that catalogue; app wires it in so this package need not import it.
type LevelNames func(occupationCode string, level int) (zh, en string, err error)

// Subsetter makes a TrueType subset holding the given runes (pdfdoc.Font does).
type Subsetter interface {
	Subset(runes []rune) ([]byte, error)
}

// Options are what the service borrows from elsewhere; only Directory is required.
type Options struct {
	Levels LevelNames
	// Font loads the CJK font for PDF transcripts; it is called once, on the first transcript.
	Font func() (Subsetter, error)
	// CodeTTL is how long a check-in code stays valid (default 60 s: one 30-s refresh plus scanning).
	CodeTTL time.Duration
	// Directory gives people's names, organisations and training bases (the accounts service):
	// curriculum reads no table of accounts. Required.
	Directory Directory
}

// Service is the curriculum domain.
type Service struct {
	db       *pgxpool.Pool
	opts     Options
	codeKey  []byte
	now      func() time.Time
	fontOnce sync.Once
	font     Subsetter
	fontErr  error
}

var occupationPattern = regexp.MustCompile(`^[0-9]-[0-9]{2}-[0-9]{2}-[0-9]{2}$`)

// New builds the service. secret is the installation's secret key; check-in codes are signed with a
// key derived from it.
func New(db *pgxpool.Pool, secret []byte, opts Options) *Service {
	if opts.Directory == nil {
		panic("curriculum.New: Options.Directory (the accounts service) is required")
	}
	if opts.Levels == nil {
		opts.Levels = func(code string, level int) (string, string, error) {
			if !occupationPattern.MatchString(code) || level < 1 || level > 5 {
				return "", "", fmt.Errorf("unknown occupation %q level %d", code, level)
			}
			return code, code, nil
		}
	}
	if opts.CodeTTL <= 0 {
		opts.CodeTTL = 60 * time.Second
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("shanyu curriculum check-in codes v1"))
	return &Service{db: db, opts: opts, codeKey: m.Sum(nil), now: time.Now}
}

// SetClock replaces the clock (tests move time instead of sleeping).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) loadFont() (Subsetter, error) {
	s.fontOnce.Do(func() {
		if s.opts.Font == nil {
			s.fontErr = fmt.Errorf("no font configured")
			return
		}
		s.font, s.fontErr = s.opts.Font()
	})
	return s.font, s.fontErr
}
