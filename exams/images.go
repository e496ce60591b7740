package exams

import (
	"context"

	"shanyu/exams/bank"
	"shanyu/internal/pg"
)

// AttemptImage returns a picture of a question on the person's own paper: the attempt must be the
// person's and the position must hold an item version with an image of that name. Anyone else gets
// ErrNotFound, as if the image did not exist.
func (s *Service) AttemptImage(ctx context.Context, attemptID, personID int64, position int, name string) (bank.Image, error) {
	// Images are fetched by <img> tags, which send no device token: the owner is checked, not the device.
	if a, err := s.ownAttempt(ctx, s.db, attemptID, 0, "", ""); err != nil {
		return bank.Image{}, err
	} else if a.PersonID != personID {
		return bank.Image{}, ErrNotFound
	}
	var versionID int64
	if err := s.db.QueryRow(ctx, `SELECT version_id FROM exam_attempt_paper WHERE attempt_id = $1 AND position = $2`,
		attemptID, position).Scan(&versionID); pg.IsNoRows(err) {
		return bank.Image{}, ErrNotFound
	} else if err != nil {
		return bank.Image{}, err
	}
	return s.versionImage(ctx, versionID, name)
}

// PracticeImage returns a picture of an item drawn in the person's own practice run; anyone else
// gets ErrNotFound.
func (s *Service) PracticeImage(ctx context.Context, runID, personID int64, position int, name string) (bank.Image, error) {
	if _, err := ownRun(ctx, s.db, runID, personID, ""); err != nil {
		return bank.Image{}, err
	}
	p, err := pendingItem(ctx, s.db, runID, position)
	if err != nil {
		return bank.Image{}, err
	}
	return s.versionImage(ctx, p.VersionID, name)
}

// versionImage is the image of a bank version by name.
func (s *Service) versionImage(ctx context.Context, versionID int64, name string) (bank.Image, error) {
	it, err := s.version(ctx, s.db, versionID)
	if err != nil {
		return bank.Image{}, err
	}
	for _, im := range it.Images {
		if im.Name == name && len(im.Data) > 0 {
			return im, nil
		}
	}
	return bank.Image{}, ErrNotFound
}
