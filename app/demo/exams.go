package demo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"shanyu/accounts"
	"shanyu/app"
	"shanyu/audits"
	"shanyu/exams"
	"shanyu/exams/bank"
	"shanyu/internal/clock"
)

// Names of the demo sessions; their presence makes seeding idempotent.
const (
	demoFinishedSession = "保育师四级 理论与实操考试（演示·已结束）"
	demoOpenSession     = "保育师四级 理论与实操考试（演示·进行中）"
)

// demoCandidates sat the finished session; skill is the share of objective answers they get right and
// practical their examiner's mark out of 10.
var demoCandidates = []struct {
	username, name, phone string
	skill                 float64
	practical             float64
}{
	{"cand.liuf", "刘芳", "13900000021", 0.9, 9},
	{"cand.zhoum", "周敏", "13900000022", 0.75, 7},
	{"cand.wul", "吴丽", "13900000023", 0.65, 8},
	{"cand.zhengj", "郑静", "13900000024", 0.4, 7},
	{"cand.sunh", "孙慧", "13900000025", 0.85, 4},
}

// demoClock lets the seed play a session that happened in the past.
type demoClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *demoClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *demoClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// seedExams creates the exams part of the demo: a blueprint over the demo bank of HZ001, a finished
// session with published results (some pass, some fail; passes request certificates), and an open
// session in which the demo caregiver is registered and approved.
func seedExams(ctx context.Context, env seedEnv) error {
	centre, err := env.accounts.OrganisationByCode(ctx, "HZ001")
	if err != nil {
		return err
	}
	seedClock := &demoClock{t: time.Now()}
	svc := exams.New(env.pool, exams.Options{Now: seedClock.now, Identity: env.accounts, Names: env.accounts, Jobs: env.jobs, Notices: accounts.NewNotices(env.jobs),
		Hours: env.curriculum, Conduct: app.ConductSource(env.audits)})
	existing, err := svc.Sessions(ctx, centre.ID)
	if err != nil {
		return err
	}
	for _, x := range existing {
		if x.Name == demoFinishedSession || x.Name == demoOpenSession {
			fmt.Fprintln(env.out, "exams: demo sessions exist")
			return nil
		}
	}
	examiner, err := env.accounts.UserByUsername(ctx, "examiner")
	if err != nil {
		return err
	}
	centreAdmin, err := env.accounts.UserByUsername(ctx, "centre")
	if err != nil {
		return err
	}
	bp, err := svc.CreateBlueprint(ctx, centreAdmin.ID, exams.Blueprint{CentreID: centre.ID, Name: "保育师四级 标准卷", Occupation: "4-10-01-03",
		Level: 4, Mode: exams.Random, Sections: []exams.Section{
			{Name: "单选题", Part: exams.Theory, Count: 20, Points: 3, Type: bank.SingleChoice},
			{Name: "判断题", Part: exams.Theory, Count: 10, Points: 2, Type: bank.TrueFalse},
			{Name: "多选题", Part: exams.Theory, Count: 5, Points: 4, Type: bank.MultipleChoice},
			{Name: "实操题", Part: exams.Practical, Count: 1, Points: 100, Type: bank.Practical},
		}})
	if err != nil {
		return fmt.Errorf("exams: blueprint: %w", err)
	}

	// The finished session, ten days ago.
	day := clock.In(time.Now().AddDate(0, 0, -10))
	opens := time.Date(day.Year(), day.Month(), day.Day(), 9, 0, 0, 0, clock.Zone())
	seedClock.set(opens.Add(-48 * time.Hour))
	done, err := svc.CreateSession(ctx, centreAdmin.ID, exams.Session{CentreID: centre.ID, BlueprintID: bp.ID, Name: demoFinishedSession,
		Venue: "杭州市西湖区实训基地", OpensAt: opens, ClosesAt: opens.Add(3 * time.Hour), LatestStartAt: opens.Add(30 * time.Minute),
		Duration: 90 * time.Minute, Grace: time.Minute, TheoryPass: exams.DefaultTheoryPass, PracticalPass: exams.DefaultPracticalPass})
	if err != nil {
		return fmt.Errorf("exams: finished session: %w", err)
	}
	for i, c := range demoCandidates {
		u, err := env.accounts.UserByUsername(ctx, c.username)
		if errors.Is(err, accounts.ErrUserNotFound) {
			u, err = env.accounts.CreateUser(ctx, 0, accounts.CreateUserInput{Username: c.username, Name: c.name, Phone: c.phone,
				IDNumber: audits.SyntheticCitizenID("330106", time.Date(1988, 3, i+1, 0, 0, 0, 0, time.UTC), 900+i), Password: accounts.DemoPassword})
			if err == nil {
				err = env.accounts.AddGrant(ctx, 0, u.ID, accounts.RoleCaregiver, "*")
			}
		}
		if err != nil {
			return fmt.Errorf("exams: candidate %s: %w", c.username, err)
		}
		// Centre staff checked each candidate's ID card before registration.
		if err := env.accounts.VerifyIdentity(ctx, u.PersonID, centreAdmin.ID); err != nil {
			return fmt.Errorf("exams: verify %s: %w", c.username, err)
		}
		seedClock.set(opens.Add(-24 * time.Hour))
		reg, err := svc.Register(ctx, done.ID, u.PersonID)
		if err != nil {
			return err
		}
		if err := svc.Decide(ctx, centreAdmin.ID, reg.ID, true, 0); err != nil {
			return err
		}
		seedClock.set(opens.Add(time.Duration(i) * time.Minute))
		st, err := svc.Start(ctx, done.ID, u.PersonID)
		if err != nil {
			return fmt.Errorf("exams: start: %w", err)
		}
		if err := answerDemo(ctx, env, svc, u.PersonID, st, c.skill, seedClock, opens.Add(time.Duration(i)*time.Minute)); err != nil {
			return err
		}
		seedClock.set(opens.Add(time.Duration(60+i) * time.Minute))
		if _, err := svc.Submit(ctx, st.Attempt.ID, u.PersonID, st.DeviceToken, exams.ByCandidate); err != nil {
			return err
		}
	}
	queue, err := svc.MarkingQueue(ctx, done.ID, examiner.ID)
	if err != nil {
		return err
	}
	marks := map[int64]float64{}
	for i := range demoCandidates {
		// the queue holds no names: attempts are in start order, one practical item each
		if i < len(queue) {
			marks[queue[i].AttemptID] = demoCandidates[i].practical
		}
	}
	for _, task := range queue {
		share := marks[task.AttemptID] / 10
		given := make([]float64, len(task.Max))
		for k, m := range task.Max {
			given[k] = m * share
		}
		if err := svc.Mark(ctx, examiner.ID, task.AttemptID, task.Position, given); err != nil {
			return fmt.Errorf("exams: mark: %w", err)
		}
	}
	seedClock.set(opens.Add(48 * time.Hour))
	n, err := svc.Publish(ctx, centreAdmin.ID, done.ID)
	if err != nil {
		return fmt.Errorf("exams: publish: %w", err)
	}
	fmt.Fprintf(env.out, "exams: finished session with %d published results\n", n)

	// The open session: from an hour ago for two weeks; the demo caregiver may start now.
	seedClock.set(time.Now())
	now := seedClock.now().Truncate(time.Minute)
	open, err := svc.CreateSession(ctx, centreAdmin.ID, exams.Session{CentreID: centre.ID, BlueprintID: bp.ID, Name: demoOpenSession,
		OpensAt: now.Add(-time.Hour), ClosesAt: now.AddDate(0, 0, 14), LatestStartAt: now.AddDate(0, 0, 14).Add(-2 * time.Hour),
		Duration: 90 * time.Minute, Grace: time.Minute, TheoryPass: exams.DefaultTheoryPass, PracticalPass: exams.DefaultPracticalPass})
	if err != nil {
		return fmt.Errorf("exams: open session: %w", err)
	}
	cg, err := env.accounts.UserByUsername(ctx, "caregiver")
	if err != nil {
		return err
	}
	if err := env.accounts.VerifyIdentity(ctx, cg.PersonID, centreAdmin.ID); err != nil {
		return fmt.Errorf("exams: verify caregiver: %w", err)
	}
	reg, err := svc.Register(ctx, open.ID, cg.PersonID)
	if err != nil {
		return err
	}
	if err := svc.Decide(ctx, centreAdmin.ID, reg.ID, true, 0); err != nil {
		return err
	}
	fmt.Fprintln(env.out, "exams: open session with the demo caregiver registered")
	return nil
}

// answerDemo answers a paper: an objective question is answered right when its position falls in the
// candidate's skill share, wrong otherwise; practical items get a short note.
func answerDemo(ctx context.Context, env seedEnv, svc *exams.Service, person int64, st exams.Started, skill float64, clock *demoClock, start time.Time) error {
	paper, err := svc.StoredPaper(ctx, st.Attempt.ID)
	if err != nil {
		return err
	}
	for i, p := range paper {
		v, err := bank.Version(ctx, env.pool, p.VersionID)
		if err != nil {
			return err
		}
		right := float64((i*37)%100) < skill*100
		clock.set(start.Add(time.Duration(i+1) * time.Minute))
		if _, err := svc.Save(ctx, st.Attempt.ID, person, st.DeviceToken, int64(i+1), p.Position, demoAnswer(p, v.Item, right), nil); err != nil {
			return fmt.Errorf("exams: save: %w", err)
		}
	}
	return nil
}

// demoAnswer is a right or wrong answer to an item, in the paper's shuffled option order.
func demoAnswer(p exams.PaperItem, it bank.Item, right bool) exams.Answer {
	switch it.Type {
	case bank.SingleChoice, bank.MultipleChoice:
		var a exams.Answer
		for shown, orig := range p.OptionOrder {
			if (it.Choices[orig].Weight > 0) == right {
				a.Choices = append(a.Choices, shown)
				if it.Type == bank.SingleChoice {
					break
				}
			}
		}
		return a
	case bank.TrueFalse:
		t := it.Truth == right
		return exams.Answer{Truth: &t}
	}
	return exams.Answer{Text: "按操作规范完成：准备用物、核对、操作、整理与记录。"}
}
