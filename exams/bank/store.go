package bank

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/accounts"
	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// Status of an item in its bank.
type Status string

const (
	Active  Status = "active"
	Retired Status = "retired" // kept for the papers that used it, offered for no new paper
)

// Errors of the stored bank.
var (
	ErrNotFound        = failure.New(failure.NotFound, "bank.item_not_found")
	ErrVersionNotFound = failure.New(failure.NotFound, "bank.version_not_found")
	ErrCentreNotFound  = failure.New(failure.NotFound, "bank.centre_not_found")
	ErrDuplicate       = failure.New(failure.Conflict, "bank.item_duplicate")
	ErrInUse           = failure.New(failure.Conflict, "bank.item_in_use")
	ErrRetired         = failure.New(failure.Conflict, "bank.item_retired")
	ErrInvalidItem     = failure.New(failure.Invalid, "bank.item_invalid")
)

// Stored is an item as the bank holds it: its current version and where it is filed.
type Stored struct {
	ID        int64
	VersionID int64
	Version   int
	Status    Status
	Delivered bool // the current version has been delivered in a paper
	Item      Item
	CreatedAt time.Time
	UpdatedAt time.Time
}

// invalid turns an item's problems into a validation error whose fields name them.
func invalid(it Item) error {
	keys := it.Check()
	if keys == nil {
		return nil
	}
	e := *ErrInvalidItem
	e.Fields = map[string]failure.Msg{}
	for _, k := range keys {
		e.Fields[strings.TrimPrefix(k, "bank.item.")] = failure.Msg{Key: k}
	}
	return &e
}

// translate maps driver errors to the bank's errors, once, at the storage edge.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if c, ok := pg.HasCode(err, pg.CodeUniqueViolation); ok && c == "bank_items_organisation_id_content_hash_key" {
		return ErrDuplicate.Wrap(err)
	}
	if c, ok := pg.HasCode(err, pg.CodeForeignKeyViolation); ok && strings.Contains(c, "organisation_id") {
		return ErrCentreNotFound.Wrap(err)
	}
	if _, ok := pg.HasCode(err, pg.CodeCheckViolation); ok && strings.Contains(err.Error(), "delivered") {
		return ErrInUse.Wrap(err)
	}
	return err
}

// lockBank serialises writers of one centre's bank, so that two imports of the same file cannot both
// decide a question is new.
func lockBank(ctx context.Context, tx pgx.Tx, centreID int64) error {
	const namespace = int64(0x62616e6b) << 32 // "bank"
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, namespace|(centreID&0xffffffff))
	return err
}

// searchText is what text search looks at.
func searchText(it Item) string {
	stem := it.Stem
	if it.Format == HTML {
		stem = plainText(stem)
	}
	return strings.TrimSpace(it.Title + " " + stem)
}

// newRow is an item about to be inserted, with ids reserved.
type newRow struct {
	id, versionID int64
	item          Item
	hash          string
	content       []byte
}

// insertItems stores new items (first versions) with COPY: reserve ids, then copy items, versions,
// tags and images. Categories and tags are created as needed. It returns how many categories it
// created.
func insertItems(ctx context.Context, tx pgx.Tx, centreID int64, items []Item) ([]newRow, int, error) {
	if len(items) == 0 {
		return nil, 0, nil
	}
	var paths [][]string
	var tagNames []string
	for _, it := range items {
		paths = append(paths, it.Category)
		tagNames = append(tagNames, it.Tags...)
	}
	cats, created, err := ensureCategories(ctx, tx, centreID, paths)
	if err != nil {
		return nil, 0, err
	}
	tags, err := ensureTags(ctx, tx, centreID, tagNames)
	if err != nil {
		return nil, 0, err
	}
	ids, err := reserveIDs(ctx, tx, "bank_items", len(items))
	if err != nil {
		return nil, 0, err
	}
	vids, err := reserveIDs(ctx, tx, "bank_item_versions", len(items))
	if err != nil {
		return nil, 0, err
	}
	rows := make([]newRow, len(items))
	for i, it := range items {
		content, err := json.Marshal(it)
		if err != nil {
			return nil, 0, fmt.Errorf("encode item: %w", err)
		}
		rows[i] = newRow{id: ids[i], versionID: vids[i], item: it, hash: it.Hash(), content: content}
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"bank_items"},
		[]string{"id", "organisation_id", "category_id", "type", "difficulty", "occupation", "level", "current_version_id", "content_hash", "search_text"},
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			r := rows[i]
			return []any{r.id, centreID, cats[pathKey(r.item.Category)], string(r.item.Type), r.item.Difficulty,
				r.item.Occupation, r.item.Level, r.versionID, r.hash, searchText(r.item)}, nil
		}))
	if err != nil {
		return nil, 0, fmt.Errorf("copy items: %w", translate(err))
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"bank_item_versions"},
		[]string{"id", "item_id", "version", "content", "content_hash", "origin_hash"},
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			r := rows[i]
			return []any{r.versionID, r.id, 1, r.content, r.hash, r.hash}, nil
		}))
	if err != nil {
		return nil, 0, fmt.Errorf("copy versions: %w", err)
	}
	var itemTags, images [][]any
	for _, r := range rows {
		seen := map[int64]bool{}
		for _, t := range r.item.Tags {
			if id := tags[t]; !seen[id] {
				seen[id] = true
				itemTags = append(itemTags, []any{r.id, id})
			}
		}
		for p, im := range r.item.Images {
			images = append(images, []any{r.versionID, p, im.Name, im.MediaType, im.Data})
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"bank_item_tags"}, []string{"item_id", "tag_id"}, pgx.CopyFromRows(itemTags)); err != nil {
		return nil, 0, fmt.Errorf("copy tags: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"bank_images"}, []string{"version_id", "position", "name", "media_type", "data"}, pgx.CopyFromRows(images)); err != nil {
		return nil, 0, fmt.Errorf("copy images: %w", err)
	}
	return rows, created, nil
}

func reserveIDs(ctx context.Context, tx pgx.Tx, table string, n int) ([]int64, error) {
	rows, err := tx.Query(ctx, `SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)`, table, n)
	if err != nil {
		return nil, fmt.Errorf("reserve ids: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

func pathKey(p []string) string { return strings.Join(p, "\x1f") }

// ensureCategories creates every category of the given paths (and their ancestors) that is missing
// and returns the id of each path by pathKey; the empty path has no category (id nil).
func ensureCategories(ctx context.Context, tx pgx.Tx, centreID int64, paths [][]string) (map[string]any, int, error) {
	want := map[string][]string{}
	for _, p := range paths {
		for n := 1; n <= len(p); n++ {
			want[pathKey(p[:n])] = p[:n]
		}
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	// Parents before children: a shorter path sorts first.
	sort.Slice(keys, func(i, j int) bool {
		a, b := want[keys[i]], want[keys[j]]
		if len(a) != len(b) {
			return len(a) < len(b)
		}
		return keys[i] < keys[j]
	})
	ids := map[string]any{"": nil}
	created := 0
	for _, k := range keys {
		p := want[k]
		var parent any
		if len(p) > 1 {
			parent = ids[pathKey(p[:len(p)-1])]
		}
		var id int64
		var inserted bool
		err := tx.QueryRow(ctx, `INSERT INTO bank_categories (organisation_id, parent_id, name, path)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (organisation_id, path) DO UPDATE SET name = excluded.name
			RETURNING id, xmax = 0`, centreID, parent, p[len(p)-1], p).Scan(&id, &inserted)
		if err != nil {
			return nil, 0, fmt.Errorf("category %s: %w", strings.Join(p, "/"), translate(err))
		}
		ids[k] = id
		if inserted {
			created++
		}
	}
	return ids, created, nil
}

func ensureTags(ctx context.Context, tx pgx.Tx, centreID int64, names []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(names) == 0 {
		return out, nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO bank_tags (organisation_id, name)
		SELECT $1, n FROM unnest($2::text[]) AS n ON CONFLICT DO NOTHING`, centreID, names); err != nil {
		return nil, fmt.Errorf("tags: %w", translate(err))
	}
	rows, err := tx.Query(ctx, `SELECT id, name FROM bank_tags WHERE organisation_id = $1 AND name = ANY($2)`, centreID, names)
	if err != nil {
		return nil, fmt.Errorf("tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[name] = id
	}
	return out, rows.Err()
}

// Create adds one item to a centre's bank.
func Create(ctx context.Context, db pg.DB, centreID int64, it Item) (Stored, error) {
	it = tidy(it)
	if err := invalid(it); err != nil {
		return Stored{}, err
	}
	var id int64
	err := pg.WithTx(ctx, db, func(tx pgx.Tx) error {
		if err := lockBank(ctx, tx, centreID); err != nil {
			return err
		}
		rows, _, err := insertItems(ctx, tx, centreID, []Item{it})
		if err != nil {
			return err
		}
		id = rows[0].id
		return nil
	})
	if err != nil {
		return Stored{}, fmt.Errorf("create item: %w", err)
	}
	return Get(ctx, db, centreID, id)
}

// tidy drops empty tags and duplicate ones, keeping their order.
func tidy(it Item) Item {
	seen := map[string]bool{}
	var tags []string
	for _, t := range it.Tags {
		t = strings.TrimSpace(t)
		if t != "" && !seen[t] {
			seen[t] = true
			tags = append(tags, t)
		}
	}
	it.Tags = tags
	var cat []string
	for _, c := range it.Category {
		if c = strings.TrimSpace(c); c != "" {
			cat = append(cat, c)
		}
	}
	it.Category = cat
	return it
}

const selectStored = `SELECT i.id, v.id, v.version, i.status, v.delivered_at IS NOT NULL, v.content,
	i.difficulty, i.occupation, i.level, coalesce(c.path, '{}'),
	coalesce((SELECT array_agg(t.name ORDER BY t.name) FROM bank_item_tags it JOIN bank_tags t ON t.id = it.tag_id
		WHERE it.item_id = i.id), '{}'),
	i.created_at, i.updated_at
	FROM bank_items i
	JOIN bank_item_versions v ON v.item_id = i.id
	LEFT JOIN bank_categories c ON c.id = i.category_id`

func scanStored(row pgx.Row) (Stored, error) {
	var s Stored
	var content []byte
	var status string
	err := row.Scan(&s.ID, &s.VersionID, &s.Version, &status, &s.Delivered, &content, &s.Item.Difficulty,
		&s.Item.Occupation, &s.Item.Level, &s.Item.Category, &s.Item.Tags, &s.CreatedAt, &s.UpdatedAt)
	if err != nil {
		return Stored{}, err
	}
	s.Status = Status(status)
	meta := s.Item
	if err := json.Unmarshal(content, &s.Item); err != nil {
		return Stored{}, fmt.Errorf("decode version %d: %w", s.VersionID, err)
	}
	s.Item.Category, s.Item.Tags = nonEmpty(meta.Category), nonEmpty(meta.Tags)
	s.Item.Difficulty, s.Item.Occupation, s.Item.Level = meta.Difficulty, meta.Occupation, meta.Level
	return s, nil
}

func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// loadImages fills in the image data of the versions in stored.
func loadImages(ctx context.Context, db pg.DB, stored []Stored) error {
	byVersion := map[int64]*Stored{}
	var ids []int64
	for i := range stored {
		if len(stored[i].Item.Images) > 0 {
			byVersion[stored[i].VersionID] = &stored[i]
			ids = append(ids, stored[i].VersionID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := db.Query(ctx, `SELECT version_id, position, data FROM bank_images WHERE version_id = ANY($1)`, ids)
	if err != nil {
		return fmt.Errorf("load images: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var vid int64
		var pos int
		var data []byte
		if err := rows.Scan(&vid, &pos, &data); err != nil {
			return err
		}
		if s := byVersion[vid]; s != nil && pos < len(s.Item.Images) {
			s.Item.Images[pos].Data = data
		}
	}
	return rows.Err()
}

// Get returns an item of a centre's bank with its current version.
func Get(ctx context.Context, db pg.DB, centreID, itemID int64) (Stored, error) {
	s, err := scanStored(db.QueryRow(ctx, selectStored+` WHERE i.id = $1 AND i.organisation_id = $2 AND v.id = i.current_version_id`, itemID, centreID))
	if pg.IsNoRows(err) {
		return Stored{}, ErrNotFound
	}
	if err != nil {
		return Stored{}, fmt.Errorf("get item %d: %w", itemID, err)
	}
	out := []Stored{s}
	if err := loadImages(ctx, db, out); err != nil {
		return Stored{}, err
	}
	return out[0], nil
}

// Version returns one version of an item, whichever bank it is in: the exams domain reads the
// versions its papers hold with it. Metadata (category, tags) is the item's current one.
func Version(ctx context.Context, db pg.DB, versionID int64) (Stored, error) {
	s, err := scanStored(db.QueryRow(ctx, selectStored+` WHERE v.id = $1`, versionID))
	if pg.IsNoRows(err) {
		return Stored{}, ErrVersionNotFound
	}
	if err != nil {
		return Stored{}, fmt.Errorf("get version %d: %w", versionID, err)
	}
	out := []Stored{s}
	if err := loadImages(ctx, db, out); err != nil {
		return Stored{}, err
	}
	return out[0], nil
}

// MarkDelivered records that papers holding these versions were delivered: from now on they never
// change, and their items can only be retired. Marking twice is harmless.
//
// Concurrent exam starts mark overlapping sets of versions, each in its paper's shuffled order: the
// rows are locked in id order (and those delivered already are not locked at all), so that two
// starts never wait for each other in a cycle (docs/architecture.md, Transactions and locks). The lock
// is FOR NO KEY UPDATE, what the UPDATE takes anyway: the start's paper rows already hold key-share
// locks on these versions (their foreign keys), which FOR UPDATE would conflict with — in paper order.
func MarkDelivered(ctx context.Context, db pg.DB, versionIDs []int64) error {
	if len(versionIDs) == 0 {
		return nil
	}
	var found int
	// marked runs although the final SELECT does not read it: PostgreSQL always executes a
	// data-modifying WITH.
	err := db.QueryRow(ctx, `WITH todo AS (
			SELECT id FROM bank_item_versions WHERE id = ANY($1) AND delivered_at IS NULL ORDER BY id FOR NO KEY UPDATE),
		marked AS (
			UPDATE bank_item_versions v SET delivered_at = coalesce(v.delivered_at, now()) FROM todo WHERE v.id = todo.id RETURNING v.id)
		SELECT count(*) FROM bank_item_versions WHERE id = ANY($1)`, versionIDs).Scan(&found)
	if err != nil {
		return fmt.Errorf("mark delivered: %w", err)
	}
	unique := map[int64]bool{}
	for _, id := range versionIDs {
		unique[id] = true
	}
	if found != len(unique) {
		return ErrVersionNotFound
	}
	return nil
}

// Update saves an edited item. When its current version has been delivered the edit becomes a new
// version and the papers keep the old one; otherwise the current version is changed in place.
// Filing (category, tags, difficulty, occupation, level) is not versioned. The edit is audited, with
// actorID, in its transaction.
func Update(ctx context.Context, db pg.DB, actorID, centreID, itemID int64, it Item) (Stored, error) {
	it = tidy(it)
	if err := invalid(it); err != nil {
		return Stored{}, err
	}
	err := pg.WithTx(ctx, db, func(tx pgx.Tx) error {
		if err := lockBank(ctx, tx, centreID); err != nil {
			return err
		}
		var status string
		var versionID int64
		var version int
		var delivered bool
		var hash string
		err := tx.QueryRow(ctx, `SELECT i.status, v.id, v.version, v.delivered_at IS NOT NULL, v.content_hash
			FROM bank_items i JOIN bank_item_versions v ON v.id = i.current_version_id
			WHERE i.id = $1 AND i.organisation_id = $2 FOR UPDATE OF i`, itemID, centreID).Scan(&status, &versionID, &version, &delivered, &hash)
		if pg.IsNoRows(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if Status(status) == Retired {
			return ErrRetired
		}
		newHash := it.Hash()
		if newHash != hash {
			content, err := json.Marshal(it)
			if err != nil {
				return err
			}
			if delivered {
				if err := tx.QueryRow(ctx, `INSERT INTO bank_item_versions (item_id, version, content, content_hash, origin_hash)
					VALUES ($1, $2, $3, $4, $4) RETURNING id`, itemID, version+1, content, newHash).Scan(&versionID); err != nil {
					return fmt.Errorf("new version: %w", err)
				}
			} else {
				if _, err := tx.Exec(ctx, `UPDATE bank_item_versions SET content = $2, content_hash = $3 WHERE id = $1`,
					versionID, content, newHash); err != nil {
					return fmt.Errorf("update version: %w", translate(err))
				}
				if _, err := tx.Exec(ctx, `DELETE FROM bank_images WHERE version_id = $1`, versionID); err != nil {
					return err
				}
			}
			for p, im := range it.Images {
				if _, err := tx.Exec(ctx, `INSERT INTO bank_images (version_id, position, name, media_type, data) VALUES ($1, $2, $3, $4, $5)`,
					versionID, p, im.Name, im.MediaType, im.Data); err != nil {
					return fmt.Errorf("image: %w", err)
				}
			}
		}
		cats, _, err := ensureCategories(ctx, tx, centreID, [][]string{it.Category})
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE bank_items SET type = $3, category_id = $4, difficulty = $5, occupation = $6,
			level = $7, current_version_id = $8, content_hash = $9, search_text = $10, updated_at = now()
			WHERE id = $1 AND organisation_id = $2`, itemID, centreID, string(it.Type), cats[pathKey(it.Category)],
			it.Difficulty, it.Occupation, it.Level, versionID, newHash, searchText(it)); err != nil {
			return fmt.Errorf("update item: %w", translate(err))
		}
		if _, err := tx.Exec(ctx, `DELETE FROM bank_item_tags WHERE item_id = $1`, itemID); err != nil {
			return err
		}
		if err := addTags(ctx, tx, centreID, []int64{itemID}, it.Tags); err != nil {
			return err
		}
		return audit(ctx, tx, actorID, "bank.item.update", []int64{itemID}, map[string]any{"organisation_id": centreID, "content_hash": newHash})
	})
	if err != nil {
		return Stored{}, failure.Errorf(err, "update item %d", itemID)
	}
	return Get(ctx, db, centreID, itemID)
}

func addTags(ctx context.Context, tx pgx.Tx, centreID int64, itemIDs []int64, names []string) error {
	tags, err := ensureTags(ctx, tx, centreID, names)
	if err != nil {
		return err
	}
	var tagIDs []int64
	for _, id := range tags {
		tagIDs = append(tagIDs, id)
	}
	_, err = tx.Exec(ctx, `INSERT INTO bank_item_tags (item_id, tag_id)
		SELECT i.id, t FROM bank_items i, unnest($3::bigint[]) AS t
		WHERE i.id = ANY($2) AND i.organisation_id = $1
		ON CONFLICT DO NOTHING`, centreID, itemIDs, tagIDs)
	return err
}

// Tag adds tags to items of a centre's bank and returns how many items it found.
func Tag(ctx context.Context, db pg.DB, centreID int64, itemIDs []int64, tags []string) (int, error) {
	tags = tidy(Item{Tags: tags}).Tags
	var n int
	err := pg.WithTx(ctx, db, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM bank_items WHERE organisation_id = $1 AND id = ANY($2)`, centreID, itemIDs).Scan(&n); err != nil {
			return err
		}
		if len(tags) == 0 {
			return nil
		}
		return addTags(ctx, tx, centreID, itemIDs, tags)
	})
	if err != nil {
		return 0, fmt.Errorf("tag items: %w", err)
	}
	return n, nil
}

// Move files items of a centre's bank under a category path (created when missing; an empty path
// means no category) and returns how many it moved.
func Move(ctx context.Context, db pg.DB, centreID int64, itemIDs []int64, category []string) (int, error) {
	category = tidy(Item{Category: category}).Category
	var n int
	err := pg.WithTx(ctx, db, func(tx pgx.Tx) error {
		cats, _, err := ensureCategories(ctx, tx, centreID, [][]string{category})
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE bank_items SET category_id = $3, updated_at = now()
			WHERE organisation_id = $1 AND id = ANY($2)`, centreID, itemIDs, cats[pathKey(category)])
		n = int(tag.RowsAffected())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("move items: %w", err)
	}
	return n, nil
}

// Retire takes items of a centre's bank out of use and returns how many it retired. Retired items
// keep their versions for the papers that hold them. The retirement is audited, with actorID and the
// items it retired, in its transaction.
func Retire(ctx context.Context, db pg.DB, actorID, centreID int64, itemIDs []int64) (int, error) {
	n, err := setStatus(ctx, db, actorID, centreID, itemIDs, `UPDATE bank_items SET status = 'retired', retired_at = now(), updated_at = now()
		WHERE organisation_id = $1 AND id = ANY($2) AND status = 'active' RETURNING id`, "bank.item.retire")
	if err != nil {
		return 0, fmt.Errorf("retire items: %w", err)
	}
	return n, nil
}

// Reactivate offers retired items again, audited as Retire is.
func Reactivate(ctx context.Context, db pg.DB, actorID, centreID int64, itemIDs []int64) (int, error) {
	n, err := setStatus(ctx, db, actorID, centreID, itemIDs, `UPDATE bank_items SET status = 'active', retired_at = NULL, updated_at = now()
		WHERE organisation_id = $1 AND id = ANY($2) AND status = 'retired' RETURNING id`, "bank.item.reactivate")
	if err != nil {
		return 0, fmt.Errorf("reactivate items: %w", translate(err))
	}
	return n, nil
}

// setStatus runs a status change that returns the ids it changed and audits it in one transaction;
// a change that touched nothing is not audited.
func setStatus(ctx context.Context, db pg.DB, actorID, centreID int64, itemIDs []int64, query, action string) (int, error) {
	var changed []int64
	err := pg.WithTx(ctx, db, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, query, centreID, itemIDs)
		if err != nil {
			return err
		}
		if changed, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil || len(changed) == 0 {
			return err
		}
		slices.Sort(changed)
		return audit(ctx, tx, actorID, action, changed, map[string]any{"organisation_id": centreID})
	})
	return len(changed), err
}

// audit records a change to bank items: one row naming the first item, with every item's id in the
// details when there are several.
func audit(ctx context.Context, tx pgx.Tx, actorID int64, action string, itemIDs []int64, details map[string]any) error {
	if len(itemIDs) > 1 {
		details["items"] = itemIDs
	}
	return accounts.Audit(ctx, tx, accounts.Event{ActorID: actorID, Action: action, Subject: fmt.Sprintf("bank_item:%d", itemIDs[0]), Details: details})
}

// Delete removes an item that no paper has used; a used item can only be retired (ErrInUse). The
// deletion is audited in its transaction.
func Delete(ctx context.Context, db pg.DB, actorID, centreID, itemID int64) error {
	err := pg.WithTx(ctx, db, func(tx pgx.Tx) error {
		var used bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM bank_item_versions v WHERE v.item_id = i.id AND v.delivered_at IS NOT NULL)
			FROM bank_items i WHERE i.id = $1 AND i.organisation_id = $2 FOR UPDATE`, itemID, centreID).Scan(&used)
		if pg.IsNoRows(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if used {
			return ErrInUse
		}
		// The item points at its version and the version at its item: defer the check to commit.
		if _, err := tx.Exec(ctx, `SET CONSTRAINTS bank_items_current_version_fk DEFERRED`); err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, `DELETE FROM bank_items WHERE id = $1`, itemID); err != nil {
			return err
		}
		return audit(ctx, tx, actorID, "bank.item.delete", []int64{itemID}, map[string]any{"organisation_id": centreID})
	})
	if err != nil {
		return failure.Errorf(err, "delete item %d", itemID)
	}
	return nil
}
