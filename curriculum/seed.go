package curriculum

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"shanyu/internal/clock"
)

// demoJSON holds the demo courses and sessions (Chinese content is data, not code).
//
//go:embed seed/demo.json
var demoJSON []byte

type demoData struct {
	Courses []struct {
		Centre string `json:"centre"`
		CourseInput
	} `json:"courses"`
	Sessions []struct {
		Centre         string  `json:"centre"`
		Base           int     `json:"base"`
		Title          string  `json:"title"`
		OccupationCode string  `json:"occupation_code"`
		Level          int     `json:"level"`
		Days           int     `json:"days"`
		Start          string  `json:"start"`
		End            string  `json:"end"`
		Capacity       int     `json:"capacity"`
		Hours          float64 `json:"hours"`
		Attended       bool    `json:"attended"`
	} `json:"sessions"`
	Progress struct {
		Courses         []string `json:"courses"`
		CompleteLessons int      `json:"complete_lessons"`
	} `json:"progress"`
}

// DemoCentre is what the demo seed needs to know about a training centre.
type DemoCentre struct {
	ID        int64
	BaseIDs   []int64
	TrainerID int64 // a user who authors courses and runs sessions
}

// DemoResult counts what the demo seed created.
type DemoResult struct {
	Courses, Sessions, Enrolments, Lessons int
}

// SeedDemo creates the demo courses (published), sessions and one learner's progress and hours. It
// runs through the same rules as real use (a back-dated clock stands in for time spent studying),
// and it is idempotent: what exists is left alone.
func (s *Service) SeedDemo(ctx context.Context, centres map[string]DemoCentre, learnerPersonID int64) (DemoResult, error) {
	var d demoData
	var res DemoResult
	if err := json.Unmarshal(demoJSON, &d); err != nil {
		return res, fmt.Errorf("demo.json: %w", err)
	}
	byTitle := map[string]int64{}
	for _, c := range d.Courses {
		centre, ok := centres[c.Centre]
		if !ok {
			return res, fmt.Errorf("demo course %q: unknown centre %s", c.Title, c.Centre)
		}
		existing, _, err := s.Courses(ctx, Filter{OrgID: centre.ID, All: true, Query: c.Title, Limit: 200})
		if err != nil {
			return res, err
		}
		found := false
		for _, e := range existing {
			if e.Title == c.Title {
				byTitle[c.Title], found = e.ID, true
			}
		}
		if found {
			continue
		}
		co, err := s.CreateCourse(ctx, centre.TrainerID, centre.ID, c.CourseInput)
		if err != nil {
			return res, fmt.Errorf("demo course %q: %w", c.Title, err)
		}
		if _, err := s.Publish(ctx, centre.TrainerID, co.ID); err != nil {
			return res, err
		}
		byTitle[c.Title] = co.ID
		res.Courses++
	}

	now := s.now()
	day := clock.Today(now)
	for _, x := range d.Sessions {
		centre, ok := centres[x.Centre]
		if !ok || x.Base >= len(centre.BaseIDs) {
			return res, fmt.Errorf("demo session %q: unknown centre or base", x.Title)
		}
		list, err := s.Sessions(ctx, SessionFilter{OrgID: centre.ID, From: time.Time{}, Limit: 200})
		if err != nil {
			return res, err
		}
		exists := false
		for _, e := range list {
			exists = exists || e.Title == x.Title
		}
		if exists {
			continue
		}
		date := day.AddDate(0, 0, x.Days).Format(time.DateOnly)
		starts, err1 := clock.Parse("2006-01-02 15:04", date+" "+x.Start)
		ends, err2 := clock.Parse("2006-01-02 15:04", date+" "+x.End)
		if err := errors.Join(err1, err2); err != nil {
			return res, err
		}
		// A past session is created and attended as it would have been at the time.
		at := s
		if x.Attended {
			at = New(s.db, nil, s.opts)
			at.SetClock(func() time.Time { return starts.Add(-24 * time.Hour) })
		}
		sess, err := at.CreateSession(ctx, centre.TrainerID, centre.ID, SessionInput{BaseID: centre.BaseIDs[x.Base], Title: x.Title, OccupationCode: x.OccupationCode,
			Level: x.Level, StartsAt: starts, EndsAt: ends, Capacity: x.Capacity, TrainerID: centre.TrainerID, Hours: x.Hours})
		if err != nil {
			return res, fmt.Errorf("demo session %q: %w", x.Title, err)
		}
		res.Sessions++
		if learnerPersonID == 0 {
			continue
		}
		if _, err := at.SignUp(ctx, learnerPersonID, sess.ID); err != nil {
			return res, err
		}
		if x.Attended {
			for i, action := range []string{"in", "out"} {
				at.SetClock(func() time.Time { return starts.Add(time.Duration(i*170) * time.Minute) })
				if _, err := at.MarkAttendance(ctx, centre.TrainerID, sess.ID, learnerPersonID, action); err != nil {
					return res, err
				}
			}
		}
	}

	if learnerPersonID == 0 {
		return res, nil
	}
	// The learner studied a few lessons over the past days.
	past := New(s.db, nil, s.opts)
	t := now.Add(-72 * time.Hour)
	past.SetClock(func() time.Time { return t })
	left := d.Progress.CompleteLessons
	for _, title := range d.Progress.Courses {
		id, ok := byTitle[title]
		if !ok {
			continue
		}
		e, err := past.Enrol(ctx, learnerPersonID, id)
		switch {
		case errors.Is(err, ErrAlreadyEnrolled):
			if e, err = past.EnrolmentIn(ctx, learnerPersonID, id); err != nil {
				return res, err
			}
		case err != nil:
			return res, err
		default:
			res.Enrolments++
		}
		v, err := past.Version(ctx, e.VersionID)
		if err != nil {
			return res, err
		}
		for _, l := range v.Lessons() {
			if left <= 0 {
				break
			}
			left--
			if _, err := past.OpenLesson(ctx, learnerPersonID, l.ID); err != nil {
				return res, err
			}
			t = t.Add(time.Duration(l.MinSeconds+60) * time.Second)
			st, err := past.CompleteLesson(ctx, learnerPersonID, l.ID)
			if err != nil {
				return res, err
			}
			if st.Credited {
				res.Lessons++
			}
			t = t.Add(20 * time.Hour)
		}
	}
	return res, nil
}
