package accounts

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// Errors of people and users.
var (
	ErrUserNotFound   = failure.New(failure.NotFound, "accounts.user_not_found")
	ErrPersonExists   = failure.New(failure.Conflict, "accounts.person_exists")
	ErrUsernameTaken  = failure.New(failure.Conflict, "accounts.username_taken")
	ErrWrongPassword  = failure.New(failure.Invalid, "accounts.current_password_wrong")
	ErrBadCredentials = failure.New(failure.Unauthenticated, "accounts.bad_credentials")
)

// User is an account with the person it belongs to. The ID number is never loaded in clear here.
type User struct {
	ID                 int64
	PersonID           int64
	Username           string
	Name               string
	Phone              string
	IDLast4            string
	Language           string
	Disabled           bool
	MustChangePassword bool
	CreatedAt          time.Time
}

// MaskedID is the ID number as anyone not entitled to it sees it.
func (u User) MaskedID() string { return MaskIDNumber(u.IDLast4) }

// SignupInput is what a caregiver types to create an account.
type SignupInput struct {
	Name     string
	Phone    string
	IDNumber string
	Password string
	Language string
	IP       string // the client address; sign-ups are rate limited per address
}

var (
	phonePattern    = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
	usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,63}$`)
)

// validName accepts a real name as an ID card or passport prints it: letters of any script (Chinese
// characters, Latin, …, with their combining accents), the middle dot of transliterated names
// (U+00B7, as in 阿依古丽·买买提, also U+30FB and U+2027) and single spaces between parts; 2–40
// characters. Emoji, digits, punctuation, symbols and control characters are refused.
func validName(name string) bool {
	n := utf8.RuneCountInString(name)
	if n < 2 || n > 40 || !utf8.ValidString(name) {
		return false
	}
	prevSep := true // a name starts with a letter
	for _, r := range name {
		switch {
		case unicode.Is(unicode.Variation_Selector, r): // emoji presentation, never in a name
			return false
		case unicode.IsLetter(r):
			prevSep = false
		case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r):
			if prevSep {
				return false
			}
		case r == ' ' || r == '\u00b7' || r == '\u30fb' || r == '\u2027':
			if prevSep {
				return false
			}
			prevSep = true
		default:
			return false
		}
	}
	return !prevSep
}

// Signup creates a person and a caregiver account for them (username = phone number). The ID number
// is only claimed: whether another account claims it, or a centre already bound it to someone, does
// not change the answer (OWASP ASVS 5.0 V6.3.8: no account enumeration), and a centre's check of the
// ID card settles it later (VerifyIdentity). A phone number already registered is refused: it is the
// username.
func (s *Service) Signup(ctx context.Context, in SignupInput) (User, error) {
	// Every attempt counts against the address (OWASP ASVS 5.0 V2.4.1 anti-automation): sign-up
	// costs a password hash and would otherwise let anyone probe ID numbers without limit.
	if in.IP != "" {
		if err := s.throttleSignup(ctx, in.IP); err != nil {
			return User{}, err
		}
	}
	in.Name = strings.TrimSpace(in.Name)
	in.Phone = strings.TrimSpace(in.Phone)
	in.IDNumber = NormaliseCitizenID(in.IDNumber)
	var f failure.Fields
	if !validName(in.Name) {
		f.Add("name", "accounts.name_invalid")
	}
	if !phonePattern.MatchString(in.Phone) {
		f.Add("phone", "accounts.phone_invalid")
	}
	if !ValidCitizenID(in.IDNumber) {
		f.Add("id_number", "accounts.id_number_invalid")
	}
	s.validatePassword(&f, "password", in.Password, passwordContext{Username: in.Phone, Phone: in.Phone, IDNumber: in.IDNumber})
	if in.Language != "en" {
		in.Language = "zh-CN"
	}
	if err := f.Err(); err != nil {
		return User{}, err
	}
	hash, err := s.hasher.hash(ctx, in.Password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		personID, err := s.insertPerson(ctx, tx, in.Name, in.Phone, in.IDNumber, true)
		if err != nil {
			return err
		}
		u, err = insertUser(ctx, tx, personID, in.Phone, hash, in.Language, false)
		if err != nil {
			return err
		}
		if err := insertGrant(ctx, tx, u.ID, RoleCaregiver, DomainAll, 0); err != nil {
			return err
		}
		return Audit(ctx, tx, Event{ActorID: u.ID, Action: "signup", Subject: userSubject(u.ID)})
	})
	if err != nil {
		return User{}, err
	}
	u.Name, u.Phone, u.IDLast4 = in.Name, in.Phone, in.IDNumber[14:]
	return u, nil
}

func userSubject(id int64) string { return fmt.Sprintf("user:%d", id) }

// sealedID is an ID number as people stores it: encrypted, its keyed hash, its last four characters,
// and the birth date and gender it encodes. The zero value is "no ID number".
type sealedID struct {
	enc, hash     []byte
	last4         string
	birth, gender any
}

func (s *Service) sealID(idNumber string) sealedID {
	if idNumber == "" {
		return sealedID{}
	}
	v := sealedID{enc: s.seal.seal(idNumber, "people.id_number"), hash: s.seal.lookupHash(idNumber), last4: idNumber[14:]}
	if facts, ok := ParseCitizenID(idNumber); ok {
		v.birth, v.gender = facts.Birth, "female"
		if facts.Male {
			v.gender = "male"
		}
	}
	return v
}

// insertPerson records a person; claimed tells that the ID number was typed by the account holder
// (a claim, of which there may be several per number) rather than recorded by an organisation for
// a person without an account (one per number: a second is ErrPersonExists).
func (s *Service) insertPerson(ctx context.Context, tx pgx.Tx, name, phone, idNumber string, claimed bool) (int64, error) {
	var id int64
	v := s.sealID(idNumber)
	err := tx.QueryRow(ctx, `INSERT INTO people (name, phone, id_number_enc, id_number_hash, id_last4, birth_date, gender, id_claimed)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, name, phone, v.enc, v.hash, v.last4, v.birth, v.gender, claimed).Scan(&id)
	if _, dup := pg.HasCode(err, pg.CodeUniqueViolation); dup {
		return 0, ErrPersonExists
	}
	return id, err
}

func insertUser(ctx context.Context, tx pgx.Tx, personID int64, username, hash, lang string, mustChange bool) (User, error) {
	u := User{PersonID: personID, Username: username, Language: lang, MustChangePassword: mustChange}
	err := tx.QueryRow(ctx, `INSERT INTO users (person_id, username, password_hash, language, must_change_password)
		VALUES ($1, $2, $3, $4, $5) RETURNING id, created_at`, personID, username, hash, lang, mustChange).Scan(&u.ID, &u.CreatedAt)
	if c, dup := pg.HasCode(err, pg.CodeUniqueViolation); dup {
		if strings.Contains(c, "person") {
			return u, ErrPersonExists
		}
		return u, ErrUsernameTaken
	}
	return u, err
}

// CreateUserInput is what an administrator enters to create an account for someone.
type CreateUserInput struct {
	Username string
	Name     string
	Phone    string
	IDNumber string // optional for staff accounts
	Password string
	// Role and Domain, when Role is set, grant the new account a role in the same transaction (a
	// staff account is created with its role or not at all).
	Role, Domain string
}

// CreateUser makes a person and an account (by an administrator, or by the demo seed); the person must
// change the password at first sign-in unless the creator is the seed (actorID 0).
func (s *Service) CreateUser(ctx context.Context, actorID int64, in CreateUserInput) (User, error) {
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	in.Name = strings.TrimSpace(in.Name)
	in.IDNumber = NormaliseCitizenID(in.IDNumber)
	var f failure.Fields
	if !usernamePattern.MatchString(in.Username) {
		f.Add("username", "accounts.username_invalid")
	}
	if !validName(in.Name) {
		f.Add("name", "accounts.name_invalid")
	}
	if in.Phone != "" && !phonePattern.MatchString(in.Phone) {
		f.Add("phone", "accounts.phone_invalid")
	}
	if in.IDNumber != "" && !ValidCitizenID(in.IDNumber) {
		f.Add("id_number", "accounts.id_number_invalid")
	}
	s.validatePassword(&f, "password", in.Password, passwordContext{Username: in.Username, Phone: in.Phone, IDNumber: in.IDNumber})
	if in.Role != "" && !validRole(in.Role) {
		f.Add("role", "accounts.role_invalid")
	}
	if err := f.Err(); err != nil {
		return User{}, err
	}
	hash, err := s.hasher.hash(ctx, in.Password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		personID, err := s.insertPerson(ctx, tx, in.Name, in.Phone, in.IDNumber, true)
		if err != nil {
			return err
		}
		if u, err = insertUser(ctx, tx, personID, in.Username, hash, "zh-CN", actorID != 0); err != nil {
			return err
		}
		if in.Role != "" {
			if err := s.validateDomain(ctx, tx, in.Domain); err != nil {
				return err
			}
			if err := insertGrant(ctx, tx, u.ID, in.Role, in.Domain, actorID); err != nil {
				return err
			}
		}
		// The audit rows last, just before commit (docs/architecture.md, Transactions and locks).
		if err := Audit(ctx, tx, Event{ActorID: actorID, Action: "user.create", Subject: userSubject(u.ID)}); err != nil || in.Role == "" {
			return err
		}
		return Audit(ctx, tx, Event{ActorID: actorID, Action: "grant", Subject: userSubject(u.ID), Details: map[string]any{"role": in.Role, "domain": in.Domain}})
	})
	u.Name, u.Phone = in.Name, in.Phone
	if in.IDNumber != "" {
		u.IDLast4 = in.IDNumber[14:]
	}
	return u, err
}

const userColumns = `u.id, u.person_id, u.username, p.name, p.phone, p.id_last4, u.language,
	u.disabled_at IS NOT NULL, u.must_change_password, u.created_at`

func scanUser(row pgx.Row) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.PersonID, &u.Username, &u.Name, &u.Phone, &u.IDLast4, &u.Language, &u.Disabled, &u.MustChangePassword, &u.CreatedAt)
	if pg.IsNoRows(err) {
		return u, ErrUserNotFound
	}
	return u, err
}

// UserByID loads one user.
func (s *Service) UserByID(ctx context.Context, id int64) (User, error) {
	return scanUser(s.db.QueryRow(ctx, `SELECT `+userColumns+` FROM users u JOIN people p ON p.id = u.person_id WHERE u.id = $1`, id))
}

// UserByUsername loads one user by username.
func (s *Service) UserByUsername(ctx context.Context, username string) (User, error) {
	return scanUser(s.db.QueryRow(ctx, `SELECT `+userColumns+` FROM users u JOIN people p ON p.id = u.person_id WHERE u.username = $1`,
		strings.ToLower(strings.TrimSpace(username))))
}

// PersonByIDNumber finds, through its keyed hash, the person organisations mean by a citizen ID
// number: their own record of it (made by a roster line or a bar before anyone's card was checked),
// else the person a centre's check bound it to. An account's unchecked claim is never the answer:
// anyone may claim any number, and a roster line or a bar must not attach to whoever typed it first.
// The record wins over the bound person so that every roster line and every bar of one number keep
// naming one person: a bar recorded before the check is never missed by a roster line added after
// it (the bound person's platform certificates then do not show on that line until the two are
// merged, which fails safe).
func (s *Service) PersonByIDNumber(ctx context.Context, idNumber string) (int64, error) {
	var id int64
	err := s.db.QueryRow(ctx, `SELECT id FROM people WHERE id_number_hash = $1 AND (identity_verified_at IS NOT NULL OR NOT id_claimed)
		ORDER BY id_claimed, id LIMIT 1`, s.seal.lookupHash(NormaliseCitizenID(idNumber))).Scan(&id)
	if pg.IsNoRows(err) {
		return 0, ErrUserNotFound
	}
	return id, err
}

// RevealIDNumber decrypts a person's ID number for a caller entitled to it; the caller audits why.
func (s *Service) RevealIDNumber(ctx context.Context, personID int64) (string, error) {
	var enc []byte
	err := s.db.QueryRow(ctx, `SELECT id_number_enc FROM people WHERE id = $1`, personID).Scan(&enc)
	if pg.IsNoRows(err) || (err == nil && enc == nil) {
		return "", ErrUserNotFound
	}
	if err != nil {
		return "", err
	}
	return s.seal.open(enc, "people.id_number")
}

// UserFilter narrows ListUsers.
type UserFilter struct {
	Query  string // matches username, name or phone
	Role   string
	Domain string // users holding a role in this organisation, or in this region or below it
	// Within, when not nil, keeps only users whose every grant (a learner's caregiver grant
	// everywhere aside) lies in these regions (or below) or organisations, holding at least one:
	// the list an administrator of those domains may see.
	Within *Within
	Limit  int
	Offset int
}

// Within is a set of regions (each covering the regions below it) and organisations.
type Within struct {
	Regions []string // region codes, e.g. 3302
	Orgs    []string // organisation codes, e.g. NB001
	// Learners are people holding no grant (the learner's caregiver grant everywhere aside) who
	// are nevertheless within: they have a relationship (an enrolment, an exam registration, a
	// roster place) with an organisation inside Regions or Orgs. The server collects them from the
	// domains that own those relationships.
	Learners []int64
}

// cond is the SQL condition "the user whose id is userCol has a grant, and every grant (a learner's
// caregiver grant everywhere aside) lies within w"; arg numbers its parameters.
func (w *Within) cond(userCol string, arg func(any) string) string {
	regions, orgs := arg(w.Regions), arg(w.Orgs)
	inside := `(g.domain LIKE 'region:%' AND EXISTS (SELECT 1 FROM unnest(` + regions + `::text[]) r WHERE starts_with(substr(g.domain, 8), r)))
		OR (o.code IS NOT NULL AND (o.code = ANY(` + orgs + `::text[]) OR EXISTS (SELECT 1 FROM unnest(` + regions + `::text[]) r WHERE starts_with(o.region_code, r))))`
	counted := `g.user_id = ` + userCol + ` AND NOT (g.role = 'caregiver' AND g.domain = '*')`
	staff := `(EXISTS (SELECT 1 FROM role_grants g WHERE ` + counted + `) AND NOT EXISTS (SELECT 1 FROM role_grants g LEFT JOIN organisations o ON g.domain = 'org:' || o.code WHERE ` + counted + ` AND NOT (` + inside + `)))`
	if len(w.Learners) == 0 {
		return staff
	}
	learner := `(NOT EXISTS (SELECT 1 FROM role_grants g WHERE ` + counted + `) AND ` + userCol + ` IN (SELECT id FROM users WHERE person_id = ANY(` + arg(w.Learners) + `::bigint[])))`
	return `(` + staff + ` OR ` + learner + `)`
}

// OrganisationIDsWithin lists the organisations inside w's regions and organisations.
func (s *Service) OrganisationIDsWithin(ctx context.Context, w Within) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT id FROM organisations WHERE code = ANY($1::text[])
		OR EXISTS (SELECT 1 FROM unnest($2::text[]) r WHERE starts_with(region_code, r)) ORDER BY id`, w.Orgs, w.Regions)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// ListUsers pages through users, newest first, with the total count.
func (s *Service) ListUsers(ctx context.Context, f UserFilter) ([]User, int, error) {
	conds := []string{"true"}
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if q := strings.TrimSpace(f.Query); q != "" {
		p := arg("%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%")
		conds = append(conds, fmt.Sprintf("(u.username ILIKE %s OR p.name ILIKE %s OR p.phone ILIKE %s)", p, p, p))
	}
	if f.Role != "" || f.Domain != "" {
		sub := []string{"g.user_id = u.id"}
		if f.Role != "" {
			sub = append(sub, "g.role = "+arg(f.Role))
		}
		switch {
		case strings.HasPrefix(f.Domain, "region:"):
			sub = append(sub, "starts_with(g.domain, "+arg(f.Domain)+")")
		case f.Domain != "":
			sub = append(sub, "g.domain = "+arg(f.Domain))
		}
		conds = append(conds, "EXISTS (SELECT 1 FROM role_grants g WHERE "+strings.Join(sub, " AND ")+")")
	}
	if f.Within != nil {
		conds = append(conds, f.Within.cond("u.id", arg))
	}
	where := strings.Join(conds, " AND ")
	var total int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM users u JOIN people p ON p.id = u.person_id WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	limit := f.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	rows, err := s.db.Query(ctx, `SELECT `+userColumns+` FROM users u JOIN people p ON p.id = u.person_id WHERE `+where+
		` ORDER BY u.id DESC LIMIT `+arg(limit)+` OFFSET `+arg(max(f.Offset, 0)), args...)
	if err != nil {
		return nil, 0, err
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) { return scanUser(r) })
	return users, total, err
}

// ChangePassword replaces the password after checking the current one, and ends every other session.
// It compares and swaps: the new hash is stored only over the hash the current password was checked
// against, so of two concurrent changes from the same current password the second fails as a wrong
// current password instead of silently replacing the first (docs/architecture.md, Transactions and
// locks).
func (s *Service) ChangePassword(ctx context.Context, userID int64, keepSession int64, current, next string) error {
	u, err := s.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	var f failure.Fields
	s.validatePassword(&f, "new_password", next, s.passwordContextOf(ctx, u))
	if err := f.Err(); err != nil {
		return err
	}
	var hash string
	if err := s.db.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, userID).Scan(&hash); err != nil {
		if pg.IsNoRows(err) {
			return ErrUserNotFound
		}
		return err
	}
	if ok, err := s.hasher.compare(ctx, current, hash); err != nil {
		return err
	} else if !ok {
		return failure.Field("current_password", "accounts.current_password_wrong")
	}
	newHash, err := s.hasher.hash(ctx, next)
	if err != nil {
		return err
	}
	return s.sessionsTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, must_change_password = false, password_changed_at = now()
			WHERE id = $1 AND password_hash = $3`, userID, newHash, hash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return failure.Field("current_password", "accounts.current_password_wrong") // changed meanwhile
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL`, userID, keepSession); err != nil {
			return err
		}
		return Audit(ctx, tx, Event{ActorID: userID, Action: "password.change", Subject: userSubject(userID)})
	})
}

// hashNewPassword checks a password chosen for a user against the password rules (naming field when
// it fails them) and hashes it.
func (s *Service) hashNewPassword(ctx context.Context, userID int64, field, pw string) (string, error) {
	u, err := s.UserByID(ctx, userID)
	if err != nil {
		return "", err
	}
	var f failure.Fields
	s.validatePassword(&f, field, pw, s.passwordContextOf(ctx, u))
	if err := f.Err(); err != nil {
		return "", err
	}
	return s.hasher.hash(ctx, pw)
}

// ResetPassword sets a temporary password chosen by an administrator, ends all the user's sessions and
// makes them choose a new password at their next sign-in.
func (s *Service) ResetPassword(ctx context.Context, actorID, userID int64, temporary string) error {
	hash, err := s.hashNewPassword(ctx, userID, "password", temporary)
	if err != nil {
		return err
	}
	return s.sessionsTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, must_change_password = true, password_changed_at = now() WHERE id = $1`, userID, hash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrUserNotFound
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, userID); err != nil {
			return err
		}
		return Audit(ctx, tx, Event{ActorID: actorID, Action: "password.reset", Subject: userSubject(userID)})
	})
}

// SetLanguage remembers the user's interface language.
func (s *Service) SetLanguage(ctx context.Context, userID int64, lang string) error {
	if lang != "zh-CN" && lang != "en" {
		return failure.Field("language", "accounts.language_invalid")
	}
	return s.sessionsTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE users SET language = $2 WHERE id = $1`, userID, lang)
		return err
	})
}

// SetDisabled blocks or unblocks an account, audited with the reason; blocking ends its sessions
// and, in the same transaction, runs onDisable with the person (the server submits their running
// exam attempts there, so that no attempt outlives the account).
func (s *Service) SetDisabled(ctx context.Context, actorID, userID int64, disabled bool, reason string, onDisable func(tx pgx.Tx, personID int64) error) error {
	if actorID == userID && disabled {
		return failure.New(failure.Invalid, "accounts.cannot_disable_self")
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 500 {
		return failure.Field("reason", "accounts.reason_required")
	}
	return s.sessionsTx(ctx, func(tx pgx.Tx) error {
		var personID int64
		err := tx.QueryRow(ctx, `UPDATE users SET disabled_at = CASE WHEN $2 THEN now() END WHERE id = $1 RETURNING person_id`, userID, disabled).Scan(&personID)
		if pg.IsNoRows(err) {
			return ErrUserNotFound
		}
		if err != nil {
			return err
		}
		if disabled {
			if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, userID); err != nil {
				return err
			}
			if onDisable != nil {
				if err := onDisable(tx, personID); err != nil {
					return err
				}
			}
		}
		action := "user.enable"
		if disabled {
			action = "user.disable"
		}
		return Audit(ctx, tx, Event{ActorID: actorID, Action: action, Subject: userSubject(userID), Details: map[string]any{"reason": reason}})
	})
}
