package accounts

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Person is what other domains may know of a person: the name and the facts a certificate prints
// or a verifier compares. Other domains read it through People, never from the people table.
type Person struct {
	ID        int64
	Name      string
	IDLast4   string // last four characters of the ID number, "" when none was given
	Photo     []byte // nil when none
	PhotoType string
}

// People returns the people with those ids, in one query; ids not found are absent from the map.
// withPhoto also reads the photos, which lists leave out.
func (s *Service) People(ctx context.Context, ids []int64, withPhoto bool) (map[int64]Person, error) {
	out := make(map[int64]Person, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.db.Query(ctx, `SELECT id, name, id_last4, CASE WHEN $2 THEN photo END, coalesce(photo_type, '')
		FROM people WHERE id = ANY($1)`, ids, withPhoto)
	if err != nil {
		return nil, fmt.Errorf("read people: %w", err)
	}
	people, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Person, error) {
		var p Person
		err := r.Scan(&p.ID, &p.Name, &p.IDLast4, &p.Photo, &p.PhotoType)
		return p, err
	})
	for _, p := range people {
		out[p.ID] = p
	}
	return out, err
}

// Names returns the names of the people with those ids, in one query.
func (s *Service) Names(ctx context.Context, ids []int64) (map[int64]string, error) {
	people, err := s.People(ctx, ids, false)
	out := make(map[int64]string, len(people))
	for id, p := range people {
		out[id] = p.Name
	}
	return out, err
}

// Organisations returns the organisations with those ids, in one query; ids not found are absent.
func (s *Service) Organisations(ctx context.Context, ids []int64) (map[int64]Organisation, error) {
	out := make(map[int64]Organisation, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.db.Query(ctx, `SELECT `+orgColumns+` FROM organisations WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("read organisations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, err
		}
		out[o.ID] = o
	}
	return out, rows.Err()
}

// OrganisationIDs returns the ids of the organisations matching code (exact, "" for any) and lying
// in the region prefix ("" for any), in one query: other domains filter their lists by centre or
// region through it instead of joining the organisations table.
func (s *Service) OrganisationIDs(ctx context.Context, code, regionPrefix string) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT id FROM organisations WHERE ($1 = '' OR code = $1) AND starts_with(region_code, $2) ORDER BY id`,
		code, regionPrefix)
	if err != nil {
		return nil, fmt.Errorf("read organisation ids: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// Bases returns the training bases with those ids, in one query; ids not found are absent.
func (s *Service) Bases(ctx context.Context, ids []int64) (map[int64]TrainingBase, error) {
	out := make(map[int64]TrainingBase, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.db.Query(ctx, `SELECT id, organisation_id, name, address, region_code FROM training_bases WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("read training bases: %w", err)
	}
	bases, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TrainingBase, error) {
		var b TrainingBase
		err := r.Scan(&b.ID, &b.OrganisationID, &b.Name, &b.Address, &b.RegionCode)
		return b, err
	})
	for _, b := range bases {
		out[b.ID] = b
	}
	return out, err
}

// UserNames returns the names of the people behind those user accounts, by user id, in one query.
func (s *Service) UserNames(ctx context.Context, userIDs []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	rows, err := s.db.Query(ctx, `SELECT u.id, p.name FROM users u JOIN people p ON p.id = u.person_id WHERE u.id = ANY($1)`, userIDs)
	if err != nil {
		return nil, fmt.Errorf("read user names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rows.Err()
}

// StaffMember is one grant of a role in an organisation's domain, with the account holding it.
type StaffMember struct {
	User  User
	Grant Grant
}

// Staff pages through the grants held in a domain (an organisation's staff), newest account first,
// with the total count: two queries whatever the page's length.
func (s *Service) Staff(ctx context.Context, domain string, limit, offset int) ([]StaffMember, int, error) {
	var total int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM role_grants WHERE domain = $1`, domain).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count staff: %w", err)
	}
	rows, err := s.db.Query(ctx, `SELECT `+userColumns+`, g.id, g.user_id, g.role, g.domain, coalesce(g.granted_by, 0), g.granted_at
		FROM role_grants g JOIN users u ON u.id = g.user_id JOIN people p ON p.id = u.person_id
		WHERE g.domain = $1 ORDER BY u.id DESC, g.id LIMIT $2 OFFSET $3`, domain, limit, max(offset, 0))
	if err != nil {
		return nil, 0, fmt.Errorf("list staff: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (StaffMember, error) {
		var m StaffMember
		u, g := &m.User, &m.Grant
		err := r.Scan(&u.ID, &u.PersonID, &u.Username, &u.Name, &u.Phone, &u.IDLast4, &u.Language, &u.Disabled, &u.MustChangePassword, &u.CreatedAt,
			&g.ID, &g.UserID, &g.Role, &g.Domain, &g.GrantedBy, &g.GrantedAt)
		return m, err
	})
	return list, total, err
}
