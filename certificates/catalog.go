package certificates

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"
)

// Titles are an occupation's and a level's printed names in both languages.
type Titles struct {
	OccupationZH, OccupationEN string
	LevelZH, LevelEN           string
}

// occupationsJSON lists the occupations of standards.md §2 with the names of their levels. It is
// data, not code, so that a correction needs no programming.
//
//go:embed data/occupations.json
var occupationsJSON []byte

type occupationEntry struct {
	ZH     string `json:"zh"`
	EN     string `json:"en"`
	Levels map[string]struct {
		ZH string `json:"zh"`
		EN string `json:"en"`
	} `json:"levels"`
}

var occupations = func() map[string]occupationEntry {
	var m map[string]occupationEntry
	if err := json.Unmarshal(occupationsJSON, &m); err != nil {
		panic(fmt.Sprintf("certificates: data/occupations.json: %v", err))
	}
	return m
}()

// LevelTitles returns the printed names of an occupation (by code, e.g. 4-10-01-03) at a level (1–5).
func LevelTitles(occupationCode string, level int) (Titles, error) {
	o, ok := occupations[occupationCode]
	if !ok {
		return Titles{}, ErrUnknownLevel.Wrap(fmt.Errorf("occupation %q", occupationCode))
	}
	l, ok := o.Levels[strconv.Itoa(level)]
	if !ok {
		return Titles{}, ErrUnknownLevel.Wrap(fmt.Errorf("occupation %q level %d", occupationCode, level))
	}
	return Titles{OccupationZH: o.ZH, OccupationEN: o.EN, LevelZH: l.ZH, LevelEN: l.EN}, nil
}
