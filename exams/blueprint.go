package exams

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/exams/bank"
	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// Part of an exam: theory (理论知识) or practical (操作技能); each is scored out of 100.
const (
	Theory    = "theory"
	Practical = "practical"
)

// Mode of a blueprint.
const (
	Fixed  = "fixed"  // every candidate gets the same questions, in a shuffled order
	Random = "random" // questions are drawn per candidate
)

// Section draws Count items matching its filters, each worth Points.
type Section struct {
	Name       string    `json:"name"`
	Part       string    `json:"part"`
	Count      int       `json:"count"`
	Points     float64   `json:"points"`
	CategoryID int64     `json:"category_id,omitempty"`
	Tag        string    `json:"tag,omitempty"`
	Type       bank.Type `json:"type,omitempty"`
	Difficulty int       `json:"difficulty,omitempty"`
}

// Blueprint (组卷规则) says how a paper is made from a centre's bank.
type Blueprint struct {
	ID         int64     `json:"id"`
	CentreID   int64     `json:"centre_id"`
	Name       string    `json:"name"`
	Occupation string    `json:"occupation"`
	Level      int       `json:"level"`
	Mode       string    `json:"mode"`
	Sections   []Section `json:"sections"`
	CreatedAt  time.Time `json:"created_at"`
}

func (b Blueprint) check() error {
	var f failure.Fields
	if strings.TrimSpace(b.Name) == "" {
		f.Add("name", "exams.name_required")
	}
	if b.Occupation == "" {
		f.Add("occupation", "exams.occupation_required")
	}
	if b.Level < 1 || b.Level > 5 {
		f.Add("level", "exams.level_invalid")
	}
	if b.Mode != Fixed && b.Mode != Random {
		f.Add("mode", "exams.mode_invalid")
	}
	if len(b.Sections) == 0 {
		f.Add("sections", "exams.sections_required")
	}
	for i, s := range b.Sections {
		field := fmt.Sprintf("sections.%d", i)
		switch {
		case s.Part != Theory && s.Part != Practical:
			f.Add(field, "exams.part_invalid")
		case s.Count <= 0 || s.Count > 500:
			f.Add(field, "exams.count_invalid")
		case !(s.Points > 0) || s.Points > 100:
			f.Add(field, "exams.points_invalid")
		case s.Type != "" && !s.Type.Valid():
			f.Add(field, "exams.type_invalid")
		}
	}
	return f.Err()
}

// PoolSection is a section resolved against the bank: every version it may draw from.
type PoolSection struct {
	Section  int        `json:"section"`
	Part     string     `json:"part"`
	Points   float64    `json:"points"`
	Count    int        `json:"count"`
	Versions [][2]int64 `json:"versions"` // [item id, version id], ordered by item id
}

// Shortfall says that a section cannot be filled: it wants more items than the bank holds.
type Shortfall struct {
	Section   int `json:"section"`
	Wanted    int `json:"wanted"`
	Available int `json:"available"`
}

// resolve lists, per section, the active bank items it may draw. An item matched by two sections
// goes to the first only, so a paper never holds one question twice.
func resolve(ctx context.Context, db pg.DB, centreID int64, sections []Section) ([]PoolSection, []Shortfall, error) {
	taken := map[int64]bool{}
	var pool []PoolSection
	var short []Shortfall
	for i, sec := range sections {
		ps := PoolSection{Section: i, Part: sec.Part, Points: sec.Points, Count: sec.Count}
		f := bank.Filter{CategoryID: sec.CategoryID, Tag: sec.Tag, Type: sec.Type, Difficulty: sec.Difficulty,
			Status: bank.Active, Limit: bank.MaxLimit}
		for {
			page, err := bank.List(ctx, db, centreID, f)
			if err != nil {
				return nil, nil, err
			}
			for _, it := range page.Items {
				if !taken[it.ID] {
					taken[it.ID] = true
					ps.Versions = append(ps.Versions, [2]int64{it.ID, it.VersionID})
				}
			}
			f.Offset += len(page.Items)
			if len(page.Items) == 0 || f.Offset >= page.Total {
				break
			}
		}
		sortVersions(ps.Versions)
		if len(ps.Versions) < sec.Count {
			short = append(short, Shortfall{Section: i, Wanted: sec.Count, Available: len(ps.Versions)})
		}
		pool = append(pool, ps)
	}
	return pool, short, nil
}

// CheckBlueprint reports the sections the centre's bank cannot fill; none means the blueprint works.
func (s *Service) CheckBlueprint(ctx context.Context, centreID int64, sections []Section) ([]Shortfall, error) {
	_, short, err := resolve(ctx, s.db, centreID, sections)
	return short, err
}

// checkBlueprint checks a blueprint's fields and that the bank can fill its sections now.
func (s *Service) checkBlueprint(ctx context.Context, b Blueprint) error {
	if err := b.check(); err != nil {
		return err
	}
	short, err := s.CheckBlueprint(ctx, b.CentreID, b.Sections)
	if err != nil {
		return err
	}
	if len(short) > 0 {
		e := *ErrBlueprintShort
		e.Fields = map[string]failure.Msg{}
		for _, sh := range short {
			e.Fields[fmt.Sprintf("sections.%d", sh.Section)] = failure.Msg{Key: "exams.section_short", Args: []any{sh.Wanted, sh.Available}}
		}
		return &e
	}
	return nil
}

// CreateBlueprint stores a blueprint after checking that the bank can satisfy it.
func (s *Service) CreateBlueprint(ctx context.Context, actorID int64, b Blueprint) (Blueprint, error) {
	if err := s.checkBlueprint(ctx, b); err != nil {
		return Blueprint{}, err
	}
	secs, err := json.Marshal(b.Sections)
	if err != nil {
		return Blueprint{}, err
	}
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO exam_blueprints (organisation_id, name, occupation, level, mode, sections, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, nullif($7, 0)) RETURNING id, created_at`,
			b.CentreID, strings.TrimSpace(b.Name), b.Occupation, b.Level, b.Mode, secs, actorID).Scan(&b.ID, &b.CreatedAt); err != nil {
			return fmt.Errorf("insert blueprint: %w", err)
		}
		return audit(ctx, tx, actorID, "exam.blueprint.create", fmt.Sprintf("exam_blueprint:%d", b.ID), nil)
	})
	return b, err
}

// GetBlueprint returns one blueprint.
func (s *Service) GetBlueprint(ctx context.Context, id int64) (Blueprint, error) {
	var b Blueprint
	var secs []byte
	err := s.db.QueryRow(ctx, `SELECT id, organisation_id, name, occupation, level, mode, sections, created_at
		FROM exam_blueprints WHERE id = $1`, id).Scan(&b.ID, &b.CentreID, &b.Name, &b.Occupation, &b.Level, &b.Mode, &secs, &b.CreatedAt)
	if pg.IsNoRows(err) {
		return Blueprint{}, ErrNotFound
	}
	if err != nil {
		return Blueprint{}, fmt.Errorf("get blueprint: %w", err)
	}
	return b, json.Unmarshal(secs, &b.Sections)
}

// Blueprints lists a centre's blueprints, newest first.
func (s *Service) Blueprints(ctx context.Context, centreID int64) ([]Blueprint, error) {
	rows, err := s.db.Query(ctx, `SELECT id, organisation_id, name, occupation, level, mode, sections, created_at
		FROM exam_blueprints WHERE organisation_id = $1 ORDER BY id DESC`, centreID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Blueprint
	for rows.Next() {
		var b Blueprint
		var secs []byte
		if err := rows.Scan(&b.ID, &b.CentreID, &b.Name, &b.Occupation, &b.Level, &b.Mode, &secs, &b.CreatedAt); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(secs, &b.Sections); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
