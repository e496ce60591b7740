package audits

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5"

	"shanyu/accounts"
	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// MaxPhotoSize bounds one photo of a finding (a phone camera's JPEG is 2–5 MB); the table checks it too.
const MaxPhotoSize = 8 << 20

// maxPhotosPerFinding keeps one finding's evidence, and the report, within reason.
const maxPhotosPerFinding = 6

// Photo errors.
var (
	ErrPhotoEmpty    = failure.New(failure.Invalid, "audits.photo_empty")
	ErrPhotoTooLarge = failure.New(failure.Invalid, "audits.photo_too_large")
	ErrPhotoType     = failure.New(failure.Invalid, "audits.photo_type")
	ErrPhotoTooMany  = failure.New(failure.Conflict, "audits.photo_too_many")
)

// photoTypes are the accepted types, as http.DetectContentType names them from the content.
var photoTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/webp": true}

// PhotoMeta describes a photo of a finding, without its bytes.
type PhotoMeta struct {
	ID          int64
	FindingID   int64
	ContentType string
	Size        int
}

// PhotoFile is a photo with its bytes.
type PhotoFile struct {
	PhotoMeta
	InspectionID int64
	Data         []byte
}

// DetectPhotoType names the type of data from its content, never from a file name, and fails unless it
// is a JPEG, PNG or WebP within the size limit.
func DetectPhotoType(data []byte) (string, error) {
	switch {
	case len(data) == 0:
		return "", ErrPhotoEmpty
	case len(data) > MaxPhotoSize:
		return "", ErrPhotoTooLarge
	}
	ct, _, _ := strings.Cut(http.DetectContentType(data), ";")
	if !photoTypes[ct] {
		return "", ErrPhotoType
	}
	return ct, nil
}

// AddFindingPhotos stores photos on a finding of an open inspection the user inspects. A bad photo
// stores none of them.
func (s *Service) AddFindingPhotos(ctx context.Context, userID, inspectionID, findingID int64, photos ...[]byte) ([]PhotoMeta, error) {
	types := make([]string, len(photos))
	for i, p := range photos {
		ct, err := DetectPhotoType(p)
		if err != nil {
			return nil, err
		}
		types[i] = ct
	}
	var out []PhotoMeta
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := s.assigned(ctx, tx, userID, inspectionID, true); err != nil {
			return err
		}
		var err error
		out, err = s.insertPhotos(ctx, tx, userID, inspectionID, findingID, photos, types)
		return err
	})
	return out, err
}

func (s *Service) insertPhotos(ctx context.Context, tx pgx.Tx, userID, inspectionID, findingID int64, photos [][]byte, types []string) ([]PhotoMeta, error) {
	var have int
	err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM audit_finding_photos WHERE finding_id = f.id) FROM audit_findings f
		WHERE f.id = $1 AND f.inspection_id = $2 FOR UPDATE`, findingID, inspectionID).Scan(&have)
	if pg.IsNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if have+len(photos) > maxPhotosPerFinding {
		return nil, ErrPhotoTooMany
	}
	out := make([]PhotoMeta, 0, len(photos))
	for i, p := range photos {
		m := PhotoMeta{FindingID: findingID, ContentType: types[i], Size: len(p)}
		if err := tx.QueryRow(ctx, `INSERT INTO audit_finding_photos (finding_id, content_type, data, created_by) VALUES ($1, $2, $3, $4) RETURNING id`,
			findingID, m.ContentType, p, userID).Scan(&m.ID); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	// The photos are evidence: the audit log records who added which, with each photo's digest.
	ids := make([]int64, len(out))
	digests := make([]string, len(photos))
	for i, p := range photos {
		ids[i] = out[i].ID
		sum := sha256.Sum256(p)
		digests[i] = hex.EncodeToString(sum[:])
	}
	if err := accounts.Audit(ctx, tx, accounts.Event{ActorID: userID, Action: "inspection.finding.photos", Subject: fmt.Sprintf("finding:%d", findingID),
		Details: map[string]any{"inspection": inspectionID, "photos": ids, "sha256": digests}}); err != nil {
		return nil, err
	}
	return out, nil
}

// FindingPhoto returns a photo to one of the inspectors of its inspection; anyone else gets
// ErrNotAssigned.
func (s *Service) FindingPhoto(ctx context.Context, userID, photoID int64) (PhotoFile, error) {
	var p PhotoFile
	var mine bool
	err := s.db.QueryRow(ctx, `SELECT p.id, p.finding_id, p.content_type, length(p.data), f.inspection_id, p.data,
			EXISTS (SELECT 1 FROM audit_inspection_inspectors WHERE inspection_id = f.inspection_id AND user_id = $2)
		FROM audit_finding_photos p JOIN audit_findings f ON f.id = p.finding_id WHERE p.id = $1`, photoID, userID).
		Scan(&p.ID, &p.FindingID, &p.ContentType, &p.Size, &p.InspectionID, &p.Data, &mine)
	if pg.IsNoRows(err) {
		return p, ErrNotFound
	}
	if err != nil {
		return p, err
	}
	if !mine {
		return PhotoFile{}, ErrNotAssigned
	}
	return p, nil
}

// findingPhotos lists the photos of an inspection's findings, by finding.
func (s *Service) findingPhotos(ctx context.Context, db pg.DB, inspectionID int64) (map[int64][]PhotoMeta, error) {
	rows, err := db.Query(ctx, `SELECT p.id, p.finding_id, p.content_type, length(p.data) FROM audit_finding_photos p
		JOIN audit_findings f ON f.id = p.finding_id WHERE f.inspection_id = $1 ORDER BY p.id`, inspectionID)
	if err != nil {
		return nil, err
	}
	out := map[int64][]PhotoMeta{}
	var m PhotoMeta
	_, err = pgx.ForEachRow(rows, []any{&m.ID, &m.FindingID, &m.ContentType, &m.Size}, func() error {
		out[m.FindingID] = append(out[m.FindingID], m)
		return nil
	})
	return out, err
}

// inspectionPhotos returns the bytes of an inspection's photos, by finding, for the report.
func (s *Service) inspectionPhotos(ctx context.Context, db pg.DB, inspectionID int64) (map[int64][]PhotoFile, error) {
	rows, err := db.Query(ctx, `SELECT p.id, p.finding_id, p.content_type, p.data FROM audit_finding_photos p
		JOIN audit_findings f ON f.id = p.finding_id WHERE f.inspection_id = $1 ORDER BY p.id`, inspectionID)
	if err != nil {
		return nil, err
	}
	out := map[int64][]PhotoFile{}
	var p PhotoFile
	_, err = pgx.ForEachRow(rows, []any{&p.ID, &p.FindingID, &p.ContentType, &p.Data}, func() error {
		p.Size, p.InspectionID = len(p.Data), inspectionID
		out[p.FindingID] = append(out[p.FindingID], p)
		p = PhotoFile{}
		return nil
	})
	return out, err
}
