package audits

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"shanyu/internal/failure"
)

// Target is an institution in the register that a round may draw.
type Target struct {
	ID   int64
	Risk int // weight of the draw: 1 normal, higher is drawn more often
}

// Inspector is a member of the inspector register, with the targets they must not inspect.
type Inspector struct {
	ID        int64
	Conflicts []int64
}

// DrawInput is everything a draw depends on; the same input always gives the same result.
type DrawInput struct {
	Seed          uint64
	Targets       []Target
	Inspectors    []Inspector
	Count         int // how many targets to draw
	PerInspection int // inspectors per inspection, at least 2
}

// Assignment is one drawn inspection.
type Assignment struct {
	TargetID   int64
	Inspectors []int64
}

// DrawResult is the outcome with the digest of its inputs, to be recorded with the round.
type DrawResult struct {
	Assignments []Assignment
	InputDigest string // SHA-256 of the canonical input: registers, weights, conflicts, seed, sizes
}

// Draw errors.
var (
	ErrTooFewInspectors = failure.New(failure.Invalid, "audits.draw_too_few_inspectors")
	ErrDrawInvalid      = failure.New(failure.Invalid, "audits.draw_invalid")
)

// CountForShare turns a share of the register (e.g. 0.05) into a number of targets, rounding up.
func CountForShare(share float64, registerSize int) int {
	return int(math.Ceil(share * float64(registerSize)))
}

// Draw picks targets by weighted sampling without replacement (Efraimidis–Spirakis) and assigns each
// PerInspection inspectors without a conflict, spreading the load, all from one seeded generator over
// inputs in a canonical order, so that re-running the draw reproduces it exactly.
func Draw(in DrawInput) (DrawResult, error) {
	if in.PerInspection < 2 || in.Count < 0 || in.Count > len(in.Targets) {
		return DrawResult{}, ErrDrawInvalid
	}
	targets := append([]Target(nil), in.Targets...)
	sort.Slice(targets, func(i, j int) bool { return targets[i].ID < targets[j].ID })
	inspectors := append([]Inspector(nil), in.Inspectors...)
	sort.Slice(inspectors, func(i, j int) bool { return inspectors[i].ID < inspectors[j].ID })
	conflict := map[[2]int64]bool{}
	for _, insp := range inspectors {
		for _, t := range insp.Conflicts {
			conflict[[2]int64{insp.ID, t}] = true
		}
	}
	res := DrawResult{InputDigest: digest(in.Seed, targets, inspectors, in.Count, in.PerInspection)}
	rng := rand.New(rand.NewPCG(in.Seed, 0x73616e7975))

	type keyed struct {
		t   Target
		key float64
	}
	ks := make([]keyed, len(targets))
	for i, t := range targets {
		w := float64(max(t.Risk, 1))
		ks[i] = keyed{t, math.Pow(rng.Float64(), 1/w)}
	}
	sort.SliceStable(ks, func(i, j int) bool { return ks[i].key > ks[j].key })
	load := map[int64]int{}
	for _, k := range ks[:in.Count] {
		var eligible []int64
		for _, insp := range inspectors {
			if !conflict[[2]int64{insp.ID, k.t.ID}] {
				eligible = append(eligible, insp.ID)
			}
		}
		if len(eligible) < in.PerInspection {
			return DrawResult{}, ErrTooFewInspectors.Wrap(fmt.Errorf("target %d has %d eligible inspectors", k.t.ID, len(eligible)))
		}
		rng.Shuffle(len(eligible), func(i, j int) { eligible[i], eligible[j] = eligible[j], eligible[i] })
		// Least-loaded first; the shuffle breaks ties at random (reproducibly).
		sort.SliceStable(eligible, func(i, j int) bool { return load[eligible[i]] < load[eligible[j]] })
		chosen := append([]int64(nil), eligible[:in.PerInspection]...)
		sort.Slice(chosen, func(i, j int) bool { return chosen[i] < chosen[j] })
		for _, id := range chosen {
			load[id]++
		}
		res.Assignments = append(res.Assignments, Assignment{TargetID: k.t.ID, Inspectors: chosen})
	}
	sort.Slice(res.Assignments, func(i, j int) bool { return res.Assignments[i].TargetID < res.Assignments[j].TargetID })
	return res, nil
}

func digest(seed uint64, targets []Target, inspectors []Inspector, count, per int) string {
	h := sha256.New()
	w := func(v int64) {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(v))
		h.Write(b[:])
	}
	w(int64(seed))
	w(int64(count))
	w(int64(per))
	w(int64(len(targets)))
	for _, t := range targets {
		w(t.ID)
		w(int64(t.Risk))
	}
	w(int64(len(inspectors)))
	for _, insp := range inspectors {
		w(insp.ID)
		c := append([]int64(nil), insp.Conflicts...)
		sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
		w(int64(len(c)))
		for _, x := range c {
			w(x)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
