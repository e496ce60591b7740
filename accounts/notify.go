package accounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"shanyu/internal/failure"
	"shanyu/internal/jobs"
)

// Notification kinds: the events that put a message in a user's inbox and send it by SMS. Each is
// translated as "notify.<kind>" with the notice's Args.
const (
	NoticeRegistrationApproved = "registration_approved"
	NoticeRegistrationRefused  = "registration_refused"
	NoticeExamSoon             = "exam_soon"
	NoticeResultPublished      = "result_published"
	NoticeCertificateIssued    = "certificate_issued"
	NoticeCertificateExpiring  = "certificate_expiring"
	NoticeCertificateSuspended = "certificate_suspended"
	NoticeCertificateRevoked   = "certificate_revoked"
	NoticePasswordResetCode    = "password_reset_code"
)

// Notice is one event for one person. Key names the event (it is unique: a second notice with the
// same key does nothing), Args fill the kind's message, Link is the page it is about.
type Notice struct {
	PersonID int64
	Kind     string
	Key      string
	Args     []string
	Link     string
}

// ErrNotificationNotFound: no such notification in the user's own inbox.
var ErrNotificationNotFound = failure.New(failure.NotFound, "accounts.notification_not_found")

// Notices is the hook the domains call in the transaction of the event: it writes the inbox entry and
// enqueues its delivery there, so both exist exactly when the event commits.
type Notices struct{ jobs jobs.Inserter }

// NewNotices builds the hook over the job queue; a queue is required (a notice without one would be
// in the inbox and never sent).
func NewNotices(q jobs.Inserter) *Notices {
	if q == nil {
		panic("accounts.NewNotices: a job queue is required")
	}
	return &Notices{jobs: q}
}

// Notify records n for the person's account inside tx and enqueues its sending. A person without an
// account, or an event notified before (same Key), gets nothing new.
func (n *Notices) Notify(ctx context.Context, tx pgx.Tx, x Notice) error {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO notifications (user_id, kind, dedupe_key, args, link)
		SELECT u.id, $2, $3, $4, $5 FROM users u WHERE u.person_id = $1
		ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`, x.PersonID, x.Kind, x.Key, x.Args, x.Link).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("record notification: %w", err)
	}
	if _, err := n.jobs.InsertTx(ctx, tx, SendArgs{NotificationID: id}, &river.InsertOpts{MaxAttempts: 8}); err != nil {
		return fmt.Errorf("enqueue notification: %w", err)
	}
	return nil
}

// Sender delivers messages outside the product. Implementations must be safe for concurrent use.
type Sender interface {
	SendSMS(ctx context.Context, phone, text string) error
	SendEmail(ctx context.Context, to, subject, body string) error
}

// LogSender is the development sender (SHANYU_NOTIFY_SENDER=log): it writes each message to the log
// instead of sending it.
type LogSender struct{ Log *slog.Logger }

// SendSMS logs the message.
func (l LogSender) SendSMS(ctx context.Context, phone, text string) error {
	l.Log.InfoContext(ctx, "notify: sms", "to", phone, "text", text)
	return nil
}

// SendEmail logs the message.
func (l LogSender) SendEmail(ctx context.Context, to, subject, body string) error {
	l.Log.InfoContext(ctx, "notify: email", "to", to, "subject", subject, "body", body)
	return nil
}

// NoticeText renders a notice in a language (zh-CN, en): the server's translations, given by app.
type NoticeText func(lang, kind string, args []string) string

// SendArgs is the job that delivers one notification.
type SendArgs struct {
	NotificationID int64 `json:"notification_id"`
}

// Kind names the job for River.
func (SendArgs) Kind() string { return "accounts.notify" }

// SendWorker delivers notifications by SMS to the phone on file, in the recipient's language.
type SendWorker struct {
	river.WorkerDefaults[SendArgs]
	db     *pgxpool.Pool
	sender Sender
	text   NoticeText
}

// NewSendWorker builds the worker; every collaborator is required.
func NewSendWorker(db *pgxpool.Pool, sender Sender, text NoticeText) *SendWorker {
	if db == nil || sender == nil || text == nil {
		panic("accounts.NewSendWorker: pool, sender and text are required")
	}
	return &SendWorker{db: db, sender: sender, text: text}
}

// Work sends the notification on each channel it has an address for, once: the (notification,
// channel) row is claimed before sending, so a retried job skips what was sent. A failed send gives
// its claim back, so the retry sends it.
func (w *SendWorker) Work(ctx context.Context, j *river.Job[SendArgs]) error {
	var kind, lang, phone string
	var args []string
	err := w.db.QueryRow(ctx, `SELECT n.kind, n.args, u.language, p.phone FROM notifications n
		JOIN users u ON u.id = n.user_id JOIN people p ON p.id = u.person_id WHERE n.id = $1`, j.Args.NotificationID).Scan(&kind, &args, &lang, &phone)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // the account was deleted meanwhile
	}
	if err != nil {
		return err
	}
	if phone == "" {
		return nil
	}
	return deliverOnce(ctx, w.db, j.Args.NotificationID, "sms", phone, func() error {
		return w.sender.SendSMS(ctx, phone, w.text(lang, kind, args))
	})
}

// deliverOnce claims (notification, channel) and sends; a send that fails releases the claim.
func deliverOnce(ctx context.Context, db *pgxpool.Pool, id int64, channel, address string, send func() error) error {
	tag, err := db.Exec(ctx, `INSERT INTO notification_deliveries (notification_id, channel, address) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, id, channel, address)
	if err != nil || tag.RowsAffected() == 0 {
		return err
	}
	if err := send(); err != nil {
		if _, derr := db.Exec(ctx, `DELETE FROM notification_deliveries WHERE notification_id = $1 AND channel = $2`, id, channel); derr != nil {
			return errors.Join(err, derr)
		}
		return fmt.Errorf("send %s: %w", channel, err)
	}
	_, err = db.Exec(ctx, `UPDATE notification_deliveries SET sent_at = now() WHERE notification_id = $1 AND channel = $2`, id, channel)
	return err
}

// Notification is one entry of a user's inbox.
type Notification struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	Args      []string   `json:"args"`
	Link      string     `json:"link"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at"`
}

// InboxPageSize is how many notifications one page of the inbox shows.
const InboxPageSize = 20

// Inbox returns one page (from 1) of the user's notifications, newest first, with the total and the
// unread count.
func (s *Service) Inbox(ctx context.Context, userID int64, page int) (list []Notification, total, unread int, err error) {
	page = max(page, 1)
	if page > 10000 {
		return nil, 0, 0, failure.Field("page", "error.invalid")
	}
	if err := s.db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE read_at IS NULL) FROM notifications WHERE user_id = $1`,
		userID).Scan(&total, &unread); err != nil {
		return nil, 0, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, kind, args, link, created_at, read_at FROM notifications WHERE user_id = $1
		ORDER BY id DESC LIMIT $2 OFFSET $3`, userID, InboxPageSize, (page-1)*InboxPageSize)
	if err != nil {
		return nil, 0, 0, err
	}
	list, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Notification, error) {
		var n Notification
		return n, r.Scan(&n.ID, &n.Kind, &n.Args, &n.Link, &n.CreatedAt, &n.ReadAt)
	})
	return list, total, unread, err
}

// Unread counts the user's unread notifications (the bell in the navigation).
func (s *Service) Unread(ctx context.Context, userID int64) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL`, userID).Scan(&n)
	return n, err
}

// MarkRead marks one of the user's own notifications read (id 0: all of them). Another user's
// notification is not found.
func (s *Service) MarkRead(ctx context.Context, userID, id int64) error {
	if id == 0 {
		_, err := s.db.Exec(ctx, `UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL`, userID)
		return err
	}
	tag, err := s.db.Exec(ctx, `UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return ErrNotificationNotFound
	}
	return nil
}
