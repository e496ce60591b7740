package certificates

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"shanyu/accounts"
	"shanyu/internal/clock"
	"shanyu/internal/jobs"
	"shanyu/internal/pg"
)

// Expiry reminders: a periodic job tells each holder of a valid certificate that it expires within
// 60 days, and again within 7, once per certificate and threshold (the notification's unique key
// decides, so overlapping runs remind once). Days are counted in the product's zone.

// expiryThresholds are the days before expiry at which a holder is reminded.
var expiryThresholds = []int{60, 7}

// ExpiryPeriod is how often the expiry reminder runs.
const ExpiryPeriod = time.Hour

// ExpiryArgs is the periodic job that reminds holders of certificates expiring soon.
type ExpiryArgs struct{}

// Kind names the job for River.
func (ExpiryArgs) Kind() string { return "certificates.expiry_remind" }

// ExpiryWorker works ExpiryArgs.
type ExpiryWorker struct {
	river.WorkerDefaults[ExpiryArgs]
	Service *Service
}

// Work sends the reminders that are due.
func (w *ExpiryWorker) Work(ctx context.Context, _ *river.Job[ExpiryArgs]) error {
	_, err := w.Service.RemindExpiring(ctx)
	return err
}

// PeriodicExpiry is the expiry reminder's schedule, for the job registry.
func PeriodicExpiry() *river.PeriodicJob { return jobs.Every(ExpiryPeriod, ExpiryArgs{}, 3) }

// RemindExpiring notifies the holders of valid certificates expiring within each threshold, once
// per certificate and threshold (a certificate within 7 days gets only the 7-day reminder if it had
// none), and returns how many notices it asked for.
func (s *Service) RemindExpiring(ctx context.Context) (int, error) {
	today := clock.Today(s.now())
	n := 0
	for i, days := range expiryThresholds {
		from := today
		if i+1 < len(expiryThresholds) {
			from = today.AddDate(0, 0, expiryThresholds[i+1]+1)
		}
		rows, err := s.db.Query(ctx, `SELECT id, person_id, number, expires_on FROM certificates
			WHERE status = 'valid' AND expires_on >= $1 AND expires_on <= $2 ORDER BY id`, from, today.AddDate(0, 0, days))
		if err != nil {
			return n, err
		}
		type due struct {
			id, person int64
			number     string
			expires    time.Time
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (due, error) {
			var d due
			return d, r.Scan(&d.id, &d.person, &d.number, &d.expires)
		})
		if err != nil {
			return n, err
		}
		if len(list) == 0 {
			continue
		}
		if err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
			for _, d := range list {
				if err := s.notices.Notify(ctx, tx, accounts.Notice{PersonID: d.person, Kind: accounts.NoticeCertificateExpiring,
					Key:  fmt.Sprintf("certificate:%d:expiring:%dd", d.id, days),
					Args: []string{d.number, d.expires.Format(time.DateOnly)}, Link: "/certificates/mine"}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return n, err
		}
		n += len(list)
	}
	return n, nil
}
