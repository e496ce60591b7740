package audits

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"shanyu/accounts"
	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// ErrClassInUse: a class that inspections counted stays, so their reports keep their classes.
var ErrClassInUse = failure.New(failure.Conflict, "audits.class_in_use")

// checkPost accepts only the posts the qualification policy knows.
func (s *Service) checkPost(post string) error {
	if !s.Policy().knownSomewhere(strings.TrimSpace(post)) {
		return failure.Field("post", "audits.post_invalid", post)
	}
	return nil
}

// AssignPost gives a roster member of the institution a post (in a class, for caregivers).
func (s *Service) AssignPost(ctx context.Context, actorID, orgID, rosterID int64, post, class string) error {
	if err := s.checkPost(post); err != nil {
		return err
	}
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM audit_roster WHERE id = $1 AND organisation_id = $2)`, rosterID, orgID).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		if err := assign(ctx, tx, rosterID, orgID, post, class); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "roster.assign", Subject: fmt.Sprintf("roster:%d", rosterID),
			Details: map[string]any{"organisation_id": orgID, "post": post, "class": class}})
	})
}

// assignmentOf locks an assignment of the institution and returns its roster member.
func assignmentOf(ctx context.Context, tx pgx.Tx, orgID, assignmentID int64) (rosterID int64, err error) {
	err = tx.QueryRow(ctx, `SELECT a.roster_id FROM audit_assignments a JOIN audit_roster r ON r.id = a.roster_id
		WHERE a.id = $1 AND r.organisation_id = $2 FOR UPDATE OF a`, assignmentID, orgID).Scan(&rosterID)
	if pg.IsNoRows(err) {
		return 0, ErrNotFound
	}
	return rosterID, err
}

// ChangeAssignment changes the post or class of an assignment.
func (s *Service) ChangeAssignment(ctx context.Context, actorID, orgID, assignmentID int64, post, class string) error {
	if err := s.checkPost(post); err != nil {
		return err
	}
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		rosterID, err := assignmentOf(ctx, tx, orgID, assignmentID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM audit_assignments WHERE id = $1`, assignmentID); err != nil {
			return err
		}
		if err := assign(ctx, tx, rosterID, orgID, post, class); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "roster.assignment_change", Subject: fmt.Sprintf("roster:%d", rosterID),
			Details: map[string]any{"organisation_id": orgID, "assignment_id": assignmentID, "post": post, "class": class}})
	})
}

// RemoveAssignment takes a post away from a roster member (the person stays on the roster).
func (s *Service) RemoveAssignment(ctx context.Context, actorID, orgID, assignmentID int64) error {
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		rosterID, err := assignmentOf(ctx, tx, orgID, assignmentID)
		if err != nil {
			return err
		}
		var post string
		if err := tx.QueryRow(ctx, `DELETE FROM audit_assignments WHERE id = $1 RETURNING post`, assignmentID).Scan(&post); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "roster.unassign", Subject: fmt.Sprintf("roster:%d", rosterID),
			Details: map[string]any{"organisation_id": orgID, "assignment_id": assignmentID, "post": post}})
	})
}

// EditClass creates a class (ID 0) or changes one of the institution's classes: its name, type and
// the children enrolled.
func (s *Service) EditClass(ctx context.Context, actorID int64, c Class) (Class, error) {
	if err := c.validate(); err != nil {
		return c, err
	}
	err := pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		var err error
		if c.ID == 0 {
			err = tx.QueryRow(ctx, `INSERT INTO audit_classes (organisation_id, name, class_type, children) VALUES ($1, $2, $3, $4) RETURNING id`,
				c.OrganisationID, c.Name, c.Type, c.Children).Scan(&c.ID)
		} else {
			var tag interface{ RowsAffected() int64 }
			tag, err = tx.Exec(ctx, `UPDATE audit_classes SET name = $3, class_type = $4, children = $5 WHERE id = $1 AND organisation_id = $2`,
				c.ID, c.OrganisationID, c.Name, c.Type, c.Children)
			if err == nil && tag.RowsAffected() == 0 {
				return ErrNotFound
			}
		}
		if _, bad := pg.HasCode(err, pg.CodeForeignKeyViolation); bad {
			return failure.Field("type", "audits.class_type_unknown")
		}
		if _, dup := pg.HasCode(err, pg.CodeUniqueViolation); dup {
			return failure.Field("name", "audits.class_exists")
		}
		if err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "class.save", Subject: fmt.Sprintf("class:%d", c.ID),
			Details: map[string]any{"organisation_id": c.OrganisationID, "name": c.Name, "type": c.Type, "children": c.Children}})
	})
	return c, err
}

// RemoveClass removes a class of the institution; its caregivers keep their post without a class.
// A class an inspection counted is kept (ErrClassInUse).
func (s *Service) RemoveClass(ctx context.Context, actorID, orgID, classID int64) error {
	return pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		var name string
		var counted bool
		err := tx.QueryRow(ctx, `SELECT name, EXISTS (SELECT 1 FROM audit_headcounts WHERE class_id = c.id) FROM audit_classes c
			WHERE id = $1 AND organisation_id = $2 FOR UPDATE`, classID, orgID).Scan(&name, &counted)
		if pg.IsNoRows(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if counted {
			return ErrClassInUse
		}
		if _, err := tx.Exec(ctx, `DELETE FROM audit_classes WHERE id = $1`, classID); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: "class.remove", Subject: fmt.Sprintf("class:%d", classID),
			Details: map[string]any{"organisation_id": orgID, "name": name}})
	})
}
