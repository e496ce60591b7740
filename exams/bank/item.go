package bank

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
	"strconv"
	"strings"
)

// Type is the kind of an item; it decides which fields of Item are used and how it is scored.
type Type string

// The item types a skills exam needs.
const (
	SingleChoice   Type = "single_choice"   // Choices, one picked
	MultipleChoice Type = "multiple_choice" // Choices, several picked; Scoring says how
	TrueFalse      Type = "true_false"      // Truth
	FillBlank      Type = "fill_blank"      // Blanks, each with accepted answers
	Numeric        Type = "numeric"         // Numbers, each with a tolerance
	Matching       Type = "matching"        // Pairs
	Essay          Type = "essay"           // marked by an examiner against Rubric
	Practical      Type = "practical"       // 实操: Rubric items scored by an examiner
	Cloze          Type = "cloze"           // Gaps in the Stem (Moodle's embedded answers); see cloze.go
	Ordering       Type = "ordering"        // Sequence put in order by the candidate; Scoring says how
)

// Types lists every type in the order forms show them.
var Types = []Type{SingleChoice, MultipleChoice, TrueFalse, FillBlank, Numeric, Matching, Ordering, Cloze, Essay, Practical}

// Valid reports whether t is a known type.
func (t Type) Valid() bool {
	for _, k := range Types {
		if k == t {
			return true
		}
	}
	return false
}

// Objective reports whether the type is scored by Score rather than by an examiner.
func (t Type) Objective() bool { return t != Essay && t != Practical && t.Valid() }

// Scoring says how a multiple-choice or ordering item turns a response into a mark.
type Scoring string

const (
	// AllOrNothing gives full marks only when exactly the choices with a positive weight are picked,
	// or, for an ordering item, when every element is in its place.
	AllOrNothing Scoring = "all_or_nothing"
	// Partial adds up the weights of the picked choices (wrong ones may carry negative weights), clamped
	// to [0, 1] of the item's points. For an ordering item it is the share of elements the candidate
	// put at their right position (Moodle's ordering "absolute position" grading).
	Partial Scoring = "partial"
)

// TextFormat says how Stem, Explanation and option texts are written.
type TextFormat string

const (
	Plain TextFormat = "plain" // shown as typed
	HTML  TextFormat = "html"  // a sanitised HTML fragment
)

// Option is a choice of a choice item, or an accepted answer of a blank. Weight is the fraction of the
// item's points it earns, between -1 and 1; for accepted answers it is between 0 and 1.
type Option struct {
	Text     string  `json:"text"`
	Weight   float64 `json:"weight"`
	Feedback string  `json:"feedback,omitempty"`
}

// Blank is one gap of a fill-in-the-blank item and the answers accepted for it.
type Blank struct {
	Accepted []Option `json:"accepted"`
}

// NumericAnswer accepts any number within Tolerance of Value, for Weight of the item's points.
type NumericAnswer struct {
	Value     float64 `json:"value"`
	Tolerance float64 `json:"tolerance"`
	Weight    float64 `json:"weight"`
	Feedback  string  `json:"feedback,omitempty"`
}

// Pair is a left-hand prompt and the right-hand answer it matches. A pair with an empty Left is a
// distractor: its Right is offered but matches nothing.
type Pair struct {
	Left  string `json:"left"`
	Right string `json:"right"`
}

// Criterion is one rubric item an examiner scores, worth up to Points.
type Criterion struct {
	Text   string  `json:"text"`
	Points float64 `json:"points"`
}

// Image is a picture the item's text refers to by Name.
type Image struct {
	Name      string `json:"name"`
	MediaType string `json:"media_type"`
	Data      []byte `json:"-"`
}

// Item is a question of any type with its answers and metadata. It is a plain value: the parsers
// produce it, the store keeps versions of it, and Score marks responses against it.
type Item struct {
	Type        Type       `json:"type"`
	Title       string     `json:"title,omitempty"`
	Stem        string     `json:"stem"`
	Format      TextFormat `json:"format"`
	Points      float64    `json:"points"`
	Explanation string     `json:"explanation,omitempty"`

	Choices []Option        `json:"choices,omitempty"` // single and multiple choice
	Scoring Scoring         `json:"scoring,omitempty"` // multiple choice
	Truth   bool            `json:"truth,omitempty"`   // true/false
	Blanks  []Blank         `json:"blanks,omitempty"`  // fill in the blank
	Numbers []NumericAnswer `json:"numbers,omitempty"` // numeric
	Pairs   []Pair          `json:"pairs,omitempty"`   // matching
	Gaps    []Gap           `json:"gaps,omitempty"`    // cloze
	Rubric  []Criterion     `json:"rubric,omitempty"`  // essay and practical
	Images  []Image         `json:"images,omitempty"`

	// Sequence is an ordering item's elements in their right order; the paper shows them shuffled.
	Sequence []string `json:"sequence,omitempty"`

	// Metadata: where the item is filed and what it is for. Not part of the content hash.
	Category   []string `json:"-"` // path from the root, e.g. ["保育师", "生活照料"]
	Tags       []string `json:"-"`
	Difficulty int      `json:"-"` // 1 (easy) to 5 (hard); 0 when unknown
	Occupation string   `json:"-"` // code of the national occupation classification, e.g. 4-10-01-03
	Level      int      `json:"-"` // vocational skill level 1 (highest) to 5; 0 when unknown
}

// Problem keys for item validation; each is also a translation key.
const (
	keyTypeUnknown       = "bank.item.type_unknown"
	keyStemEmpty         = "bank.item.stem_empty"
	keyPointsInvalid     = "bank.item.points_invalid"
	keyChoicesTooFew     = "bank.item.choices_too_few"
	keyChoiceEmpty       = "bank.item.choice_empty"
	keyWeightRange       = "bank.item.weight_range"
	keyNoCorrectChoice   = "bank.item.no_correct_choice"
	keyScoringUnknown    = "bank.item.scoring_unknown"
	keyBlankNoAnswer     = "bank.item.blank_no_answer"
	keyNumericNoAnswer   = "bank.item.numeric_no_answer"
	keyToleranceNegative = "bank.item.tolerance_negative"
	keyPairsTooFew       = "bank.item.pairs_too_few"
	keyPairEmpty         = "bank.item.pair_empty"
	keyRubricEmpty       = "bank.item.rubric_empty"
	keyCriterionInvalid  = "bank.item.criterion_invalid"
	keyDifficultyRange   = "bank.item.difficulty_range"
	keyLevelRange        = "bank.item.level_range"
	keyTextTooLong       = "bank.item.text_too_long"
	keyTooManyParts      = "bank.item.too_many_parts"
	keySequenceTooFew    = "bank.item.sequence_too_few"
	keySequenceEmpty     = "bank.item.sequence_empty"
	keySequenceDuplicate = "bank.item.sequence_duplicate"
)

// maxParts bounds the choices, blanks, pairs, numbers and rubric lines of one question.
const maxParts = 64

// Check returns the translation keys of what is wrong with the item, nil when it can be stored.
func (it Item) Check() []string {
	var bad []string
	add := func(k string) { bad = append(bad, k) }
	if !it.Type.Valid() {
		return []string{keyTypeUnknown}
	}
	if strings.TrimSpace(it.Stem) == "" {
		add(keyStemEmpty)
	}
	if !(it.Points > 0) || math.IsInf(it.Points, 0) {
		add(keyPointsInvalid)
	}
	if it.Difficulty < 0 || it.Difficulty > 5 {
		add(keyDifficultyRange)
	}
	if it.Level < 0 || it.Level > 5 {
		add(keyLevelRange)
	}
	for _, im := range it.Images {
		if im.Name == "" || len(im.Data) == 0 || len(im.Data) > MaxImageSize || imageType(im.Data) != im.MediaType {
			add(keyImageType)
		}
	}
	if len(it.Images) > MaxImages || len(it.Choices) > maxParts || len(it.Blanks) > maxParts || len(it.Pairs) > maxParts ||
		len(it.Numbers) > maxParts || len(it.Gaps) > maxParts || len(it.Rubric) > maxParts || len(it.Sequence) > maxParts {
		add(keyTooManyParts)
	}
	if len(it.Stem) > MaxTextBytes || len(it.Title) > MaxTextBytes || len(it.Explanation) > MaxTextBytes {
		add(keyTextTooLong)
	}
	switch it.Type {
	case SingleChoice, MultipleChoice:
		if len(it.Choices) < 2 {
			add(keyChoicesTooFew)
		}
		positive := 0
		for _, c := range it.Choices {
			if strings.TrimSpace(c.Text) == "" {
				add(keyChoiceEmpty)
			}
			if !(c.Weight >= -1 && c.Weight <= 1) {
				add(keyWeightRange)
			}
			if c.Weight > 0 {
				positive++
			}
		}
		if positive == 0 {
			add(keyNoCorrectChoice)
		}
		if it.Type == MultipleChoice && it.Scoring != AllOrNothing && it.Scoring != Partial {
			add(keyScoringUnknown)
		}
	case FillBlank:
		if len(it.Blanks) == 0 {
			add(keyBlankNoAnswer)
		}
		for _, b := range it.Blanks {
			ok := false
			for _, a := range b.Accepted {
				if !(a.Weight >= 0 && a.Weight <= 1) {
					add(keyWeightRange)
				}
				if a.Weight > 0 && Normalize(a.Text) != "" {
					ok = true
				}
			}
			if !ok {
				add(keyBlankNoAnswer)
			}
		}
	case Numeric:
		if !checkNumbers(it.Numbers, add) {
			add(keyNumericNoAnswer)
		}
	case Matching:
		lefts := 0
		for _, p := range it.Pairs {
			if strings.TrimSpace(p.Right) == "" {
				add(keyPairEmpty)
			}
			if strings.TrimSpace(p.Left) != "" {
				lefts++
			}
		}
		if lefts < 2 {
			add(keyPairsTooFew)
		}
	case Ordering:
		checkSequence(it, add)
	case Cloze:
		checkCloze(it, add)
	case Essay, Practical:
		if it.Type == Practical && len(it.Rubric) == 0 {
			add(keyRubricEmpty)
		}
		for _, c := range it.Rubric {
			if strings.TrimSpace(c.Text) == "" || !(c.Points > 0) || math.IsInf(c.Points, 0) {
				add(keyCriterionInvalid)
			}
		}
	}
	return dedupe(bad)
}

// checkSequence adds the problems of an ordering item: at least two elements, none empty and no two
// the same once normalised (the candidate could not tell them apart, nor Score their places).
func checkSequence(it Item, add func(string)) {
	if len(it.Sequence) < 2 {
		add(keySequenceTooFew)
	}
	seen := map[string]bool{}
	for _, e := range it.Sequence {
		n := Normalize(e)
		if n == "" {
			add(keySequenceEmpty)
			continue
		}
		if len(e) > MaxTextBytes {
			add(keyTextTooLong)
		}
		if seen[n] {
			add(keySequenceDuplicate)
		}
		seen[n] = true
	}
	if it.Scoring != AllOrNothing && it.Scoring != Partial {
		add(keyScoringUnknown)
	}
}

// checkNumbers adds the problems of numeric answers and reports whether one of them earns marks.
func checkNumbers(ns []NumericAnswer, add func(string)) (positive bool) {
	for _, n := range ns {
		if !(n.Tolerance >= 0) || math.IsInf(n.Value, 0) || math.IsNaN(n.Value) || math.IsInf(n.Tolerance, 0) {
			add(keyToleranceNegative)
		}
		if !(n.Weight >= 0 && n.Weight <= 1) {
			add(keyWeightRange)
		}
		positive = positive || n.Weight > 0
	}
	return positive
}

func dedupe(keys []string) []string {
	seen := map[string]bool{}
	out := keys[:0]
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Hash identifies the item's content: type, texts, answers, scoring, points and images, but not where
// it is filed (category, tags, difficulty, occupation, level). Re-importing the same question gives
// the same hash, so it is recognised even after it was moved or retagged.
func (it Item) Hash() string {
	h := sha256.New()
	str := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	num := func(f float64) { str(strconv.FormatFloat(f, 'g', -1, 64)) }
	str(string(it.Type))
	str(it.Title)
	str(it.Stem)
	str(string(it.Format))
	num(it.Points)
	str(it.Explanation)
	str(string(it.Scoring))
	str(strconv.FormatBool(it.Truth))
	opts := func(tag string, os []Option) {
		str(tag)
		num(float64(len(os)))
		for _, o := range os {
			str(o.Text)
			num(o.Weight)
			str(o.Feedback)
		}
	}
	opts("choices", it.Choices)
	str("blanks")
	num(float64(len(it.Blanks)))
	for _, b := range it.Blanks {
		opts("blank", b.Accepted)
	}
	numbers := func(ns []NumericAnswer) {
		num(float64(len(ns)))
		for _, n := range ns {
			num(n.Value)
			num(n.Tolerance)
			num(n.Weight)
			str(n.Feedback)
		}
	}
	str("numbers")
	numbers(it.Numbers)
	str("pairs")
	num(float64(len(it.Pairs)))
	for _, p := range it.Pairs {
		str(p.Left)
		str(p.Right)
	}
	if len(it.Gaps) > 0 {
		// Only cloze items hash their gaps, so that the hashes of the other items stored before
		// cloze existed stay as they were.
		str("gaps")
		num(float64(len(it.Gaps)))
	}
	if len(it.Sequence) > 0 {
		// As for gaps: only ordering items hash a sequence, so older hashes stay as they were.
		str("sequence")
		num(float64(len(it.Sequence)))
		for _, e := range it.Sequence {
			str(e)
		}
	}
	for _, g := range it.Gaps {
		str(string(g.Kind))
		num(g.Weight)
		str(g.Display)
		str(strconv.FormatBool(g.Shuffle))
		str(strconv.FormatBool(g.CaseSensitive))
		opts("gap", g.Options)
		numbers(g.Numbers)
	}
	str("rubric")
	num(float64(len(it.Rubric)))
	for _, c := range it.Rubric {
		str(c.Text)
		num(c.Points)
	}
	str("images")
	num(float64(len(it.Images)))
	for _, im := range it.Images {
		str(im.Name)
		str(im.MediaType)
		hashBytes(h, im.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func hashBytes(h hash.Hash, b []byte) {
	sum := sha256.Sum256(b)
	h.Write(sum[:])
}
