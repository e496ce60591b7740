package bank

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"shanyu/internal/pg"
)

// Filter selects items of a centre's bank. Zero fields select everything.
type Filter struct {
	Text       string // in the title or stem, case-insensitive
	CategoryID int64  // this category and those under it
	Tag        string
	Type       Type
	Difficulty int
	Status     Status
	Limit      int // 0 means DefaultLimit; at most MaxLimit
	Offset     int
}

// Page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Summary is an item as a list shows it.
type Summary struct {
	ID         int64
	VersionID  int64
	Version    int
	Type       Type
	Text       string // title and stem as plain text
	Category   []string
	Tags       []string
	Difficulty int
	Status     Status
	Delivered  bool
	UpdatedAt  time.Time
}

// Page is one page of a list and how many items match in all.
type Page struct {
	Items []Summary
	Total int
}

// where builds the WHERE clause of a filter; values only ever travel as arguments.
func (f Filter) where(centreID int64) (string, []any) {
	conds := []string{"i.organisation_id = $1"}
	args := []any{centreID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		conds = append(conds, "i.search_text ILIKE "+arg("%"+likeEscape(t)+"%"))
	}
	if f.CategoryID != 0 {
		p := arg(f.CategoryID)
		conds = append(conds, `i.category_id IN (SELECT d.id FROM bank_categories d, bank_categories c
			WHERE c.id = `+p+` AND d.organisation_id = c.organisation_id AND d.path[1:cardinality(c.path)] = c.path)`)
	}
	if f.Tag != "" {
		conds = append(conds, `EXISTS (SELECT 1 FROM bank_item_tags it JOIN bank_tags t ON t.id = it.tag_id
			WHERE it.item_id = i.id AND t.name = `+arg(f.Tag)+`)`)
	}
	if f.Type != "" {
		conds = append(conds, "i.type = "+arg(string(f.Type)))
	}
	if f.Difficulty != 0 {
		conds = append(conds, "i.difficulty = "+arg(f.Difficulty))
	}
	if f.Status != "" {
		conds = append(conds, "i.status = "+arg(string(f.Status)))
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (f Filter) limit() int {
	switch {
	case f.Limit <= 0:
		return DefaultLimit
	case f.Limit > MaxLimit:
		return MaxLimit
	}
	return f.Limit
}

// List returns a page of a centre's items, newest first.
func List(ctx context.Context, db pg.DB, centreID int64, f Filter) (Page, error) {
	where, args := f.where(centreID)
	var page Page
	if err := db.QueryRow(ctx, `SELECT count(*) FROM bank_items i`+where, args...).Scan(&page.Total); err != nil {
		return Page{}, fmt.Errorf("count items: %w", err)
	}
	n := len(args)
	args = append(args, f.limit(), max(f.Offset, 0))
	rows, err := db.Query(ctx, `SELECT i.id, v.id, v.version, i.type, i.search_text, coalesce(c.path, '{}'),
		coalesce((SELECT array_agg(t.name ORDER BY t.name) FROM bank_item_tags it JOIN bank_tags t ON t.id = it.tag_id
			WHERE it.item_id = i.id), '{}'),
		i.difficulty, i.status, v.delivered_at IS NOT NULL, i.updated_at
		FROM bank_items i JOIN bank_item_versions v ON v.id = i.current_version_id
		LEFT JOIN bank_categories c ON c.id = i.category_id`+where+
		fmt.Sprintf(` ORDER BY i.updated_at DESC, i.id DESC LIMIT $%d OFFSET $%d`, n+1, n+2), args...)
	if err != nil {
		return Page{}, fmt.Errorf("list items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s Summary
		var typ, status string
		if err := rows.Scan(&s.ID, &s.VersionID, &s.Version, &typ, &s.Text, &s.Category, &s.Tags, &s.Difficulty,
			&status, &s.Delivered, &s.UpdatedAt); err != nil {
			return Page{}, err
		}
		s.Type, s.Status = Type(typ), Status(status)
		page.Items = append(page.Items, s)
	}
	return page, rows.Err()
}

// Items returns the current versions of every item a filter selects (Limit and Offset ignored),
// filed and with their images, in category then id order: what an export writes.
func Items(ctx context.Context, db pg.DB, centreID int64, f Filter) ([]Item, error) {
	where, args := f.where(centreID)
	rows, err := db.Query(ctx, selectStored+where+` AND v.id = i.current_version_id ORDER BY c.path NULLS FIRST, i.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("export items: %w", err)
	}
	var stored []Stored
	for rows.Next() {
		s, err := scanStored(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		stored = append(stored, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := loadImages(ctx, db, stored); err != nil {
		return nil, err
	}
	items := make([]Item, len(stored))
	for i, s := range stored {
		items[i] = s.Item
	}
	return items, nil
}

// Category is a node of a centre's category tree.
type Category struct {
	ID       int64
	ParentID int64 // 0 at the top
	Name     string
	Path     []string
	Items    int // items filed directly here
}

// Categories returns a centre's category tree, parents before their children.
func Categories(ctx context.Context, db pg.DB, centreID int64) ([]Category, error) {
	rows, err := db.Query(ctx, `SELECT c.id, coalesce(c.parent_id, 0), c.name, c.path,
		(SELECT count(*) FROM bank_items i WHERE i.category_id = c.id)
		FROM bank_categories c WHERE c.organisation_id = $1 ORDER BY c.path`, centreID)
	if err != nil {
		return nil, fmt.Errorf("list categories: %w", err)
	}
	defer rows.Close()
	var out []Category
	for rows.Next() {
		var c Category
		if err := rows.Scan(&c.ID, &c.ParentID, &c.Name, &c.Path, &c.Items); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
