package accounts

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"shanyu/internal/failure"
	"shanyu/internal/jobs"
	"shanyu/internal/pg"
)

// Self-service password reset by a one-time code sent to the phone on file (OWASP ASVS 5.0 V6.4):
// the code is six random digits, stored only as a keyed hash, valid ResetCodeTTL, used once, and
// void after ResetCodeTries wrong tries. Asking for a code answers the same whether or not the phone
// is registered (V6.3.8), and both asking and trying are counted per phone and per address in
// PostgreSQL.
const (
	ResetCodeTTL       = 10 * time.Minute
	ResetCodeTries     = 5
	resetsPerPhone     = 5  // codes asked for one phone per throttle window
	resetsPerAddress   = 20 // codes asked, or resets tried, from one address per throttle window
	resetCodeDigits    = 6
	resetCodeAdditonal = "password_reset"
)

var errResetCode = failure.Field("code", "accounts.reset_code_wrong")

// ResetCodeArgs is the job that looks the phone up and, if an active account has it, stores the
// code's hash and sends the code. The request itself only enqueues this job, so its answer costs the
// same whether or not the phone is registered. The code travels sealed (AES-GCM under the secret
// key): neither the queue nor the reset row holds it in the clear.
type ResetCodeArgs struct {
	Phone  string `json:"phone"`
	Sealed []byte `json:"sealed"`
	IP     string `json:"ip"`
}

// Kind names the job for River.
func (ResetCodeArgs) Kind() string { return "accounts.reset_code" }

// ResetCodeWorker sends reset codes by SMS.
type ResetCodeWorker struct {
	river.WorkerDefaults[ResetCodeArgs]
	accounts *Service
	sender   Sender
	text     NoticeText
}

// NewResetCodeWorker builds the worker; every collaborator is required.
func NewResetCodeWorker(s *Service, sender Sender, text NoticeText) *ResetCodeWorker {
	if s == nil || sender == nil || text == nil {
		panic("accounts.NewResetCodeWorker: service, sender and text are required")
	}
	return &ResetCodeWorker{accounts: s, sender: sender, text: text}
}

// Work stores the code for the phone's account and sends it. A retry stores and sends the same
// code again, which replaces the first.
func (w *ResetCodeWorker) Work(ctx context.Context, j *river.Job[ResetCodeArgs]) error {
	code, err := w.accounts.seal.open(j.Args.Sealed, resetCodeAdditonal)
	if err != nil {
		return river.JobCancel(err)
	}
	lang, ok, err := w.accounts.storeResetCode(ctx, j.Args.Phone, code, j.Args.IP)
	if err != nil || !ok {
		return err
	}
	minutes := fmt.Sprint(int(ResetCodeTTL / time.Minute))
	return w.sender.SendSMS(ctx, j.Args.Phone, w.text(lang, NoticePasswordResetCode, []string{code, minutes}))
}

// randomCode draws a code of resetCodeDigits decimal digits.
func randomCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return fmt.Sprintf("%0*d", resetCodeDigits, n.Int64())
}

// RequestPasswordReset asks for a reset code to be sent to the phone if an active account has it.
// Whatever the phone, the answer is the same (nil, or a throttle or malformed-number error that
// says nothing of registration) after the same work: the code is drawn and its job enqueued, and
// only the job looks the phone up.
func (s *Service) RequestPasswordReset(ctx context.Context, q jobs.Inserter, phone, ip string) error {
	phone = strings.TrimSpace(phone)
	if !phonePattern.MatchString(phone) {
		return failure.Field("phone", "accounts.phone_invalid")
	}
	if err := s.throttleCount(ctx, "reset:ip:"+ip, resetsPerAddress, "accounts.too_many_resets"); err != nil {
		return err
	}
	if err := s.throttleCount(ctx, "reset:phone:"+phone, resetsPerPhone, "accounts.too_many_resets"); err != nil {
		return err
	}
	args := ResetCodeArgs{Phone: phone, Sealed: s.seal.seal(randomCode(), resetCodeAdditonal), IP: ip}
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := q.InsertTx(ctx, tx, args, &river.InsertOpts{MaxAttempts: 3}); err != nil {
			return fmt.Errorf("enqueue reset code: %w", err)
		}
		return nil
	})
}

// storeResetCode stores the code's hash for the account of the phone, replacing its open codes,
// and returns the account's language; ok is false when no active account has the phone (which is
// audited, so that an operator sees phones being probed).
func (s *Service) storeResetCode(ctx context.Context, phone, code, ip string) (lang string, ok bool, err error) {
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		var userID int64
		err := tx.QueryRow(ctx, `SELECT u.id, u.language FROM users u JOIN people p ON p.id = u.person_id
			WHERE p.phone = $1 AND u.disabled_at IS NULL ORDER BY (u.username = p.phone) DESC, u.id LIMIT 1`, phone).Scan(&userID, &lang)
		if errors.Is(err, pgx.ErrNoRows) {
			ok = false
			return Audit(ctx, tx, Event{Action: "password.reset_requested_unknown", Subject: "phone:" + MaskPhone(phone), IP: ip})
		}
		if err != nil {
			return err
		}
		ok = true
		if _, err := tx.Exec(ctx, `UPDATE password_resets SET voided_at = now() WHERE user_id = $1 AND used_at IS NULL AND voided_at IS NULL`, userID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO password_resets (user_id, phone, code_hash, expires_at) VALUES ($1, $2, $3, $4)`,
			userID, phone, s.seal.lookupHash(resetCodeAdditonal+":"+code), s.now().Add(ResetCodeTTL)); err != nil {
			return err
		}
		return Audit(ctx, tx, Event{ActorID: userID, Action: "password.reset_requested", Subject: userSubject(userID), IP: ip})
	})
	return lang, ok, err
}

// ResetPasswordWithCode sets a new password (under the password rules) for the account the phone's
// open code belongs to, ends every session of it, and uses the code up. A wrong code counts a try;
// the fifth voids it. Tries are counted per address too.
func (s *Service) ResetPasswordWithCode(ctx context.Context, phone, code, next, ip string) error {
	phone, code = strings.TrimSpace(phone), strings.TrimSpace(code)
	if !phonePattern.MatchString(phone) {
		return failure.Field("phone", "accounts.phone_invalid")
	}
	if err := s.throttleCount(ctx, "reset:try:"+ip, resetsPerAddress, "accounts.too_many_resets"); err != nil {
		return err
	}
	if len(code) != resetCodeDigits || strings.Trim(code, "0123456789") != "" {
		return errResetCode
	}
	var resetID, userID int64
	err := s.db.QueryRow(ctx, `SELECT id, user_id FROM password_resets WHERE phone = $1 AND used_at IS NULL AND voided_at IS NULL
		AND expires_at > $2 ORDER BY id DESC LIMIT 1`, phone, s.now()).Scan(&resetID, &userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return errResetCode
	}
	if err != nil {
		return err
	}
	newHash, err := s.hashNewPassword(ctx, userID, "new_password", next)
	if err != nil {
		return err
	}
	wrong := false
	err = s.sessionsTx(ctx, func(tx pgx.Tx) error {
		wrong = false
		// Decided under the code's row lock: of two resets with the right code one wins, and tries
		// are counted without losing any.
		var stored []byte
		var tries int
		var open bool
		if err := tx.QueryRow(ctx, `SELECT code_hash, tries, used_at IS NULL AND voided_at IS NULL AND expires_at > $2
			FROM password_resets WHERE id = $1 FOR UPDATE`, resetID, s.now()).Scan(&stored, &tries, &open); err != nil {
			return err
		}
		if !open {
			wrong = true
			return nil
		}
		if !hmac.Equal(stored, s.seal.lookupHash(resetCodeAdditonal+":"+code)) {
			wrong = true
			_, err := tx.Exec(ctx, `UPDATE password_resets SET tries = tries + 1,
				voided_at = CASE WHEN tries + 1 >= $2 THEN now() END WHERE id = $1`, resetID, ResetCodeTries)
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE password_resets SET used_at = now() WHERE id = $1`, resetID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, must_change_password = false, password_changed_at = now() WHERE id = $1`,
			userID, newHash); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, userID); err != nil {
			return err
		}
		return Audit(ctx, tx, Event{ActorID: userID, Action: "password.reset_by_code", Subject: userSubject(userID), IP: ip})
	})
	if err != nil {
		return err
	}
	if wrong {
		return errResetCode
	}
	return nil
}

// MaskPhone keeps a phone number's first three and last four digits (139****0011).
func MaskPhone(phone string) string {
	if len(phone) < 8 {
		return "****"
	}
	return phone[:3] + "****" + phone[len(phone)-4:]
}
