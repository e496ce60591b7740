package demo

import (
	"context"
	"errors"
	"fmt"

	"shanyu/accounts"
	"shanyu/curriculum"
)

// nbTrainer is the demo trainer of the Ningbo centre, who authors its courses and runs its sessions.
const nbTrainer = "trainer.nb"

// seedCurriculum creates the demo courses of HZ001 and NB001 (published), their practical sessions,
// and the demo caregiver's enrolments, completed lessons and hours.
func seedCurriculum(ctx context.Context, env seedEnv) error {
	centres := map[string]curriculum.DemoCentre{}
	trainers := map[string]string{"HZ001": "trainer", "NB001": nbTrainer}
	for code, username := range trainers {
		o, err := env.accounts.OrganisationByCode(ctx, code)
		if err != nil {
			return err
		}
		u, err := env.accounts.UserByUsername(ctx, username)
		if errors.Is(err, accounts.ErrUserNotFound) && username == nbTrainer {
			if u, err = env.accounts.CreateUser(ctx, 0, accounts.CreateUserInput{Username: nbTrainer, Name: "吴芳", Phone: "13900000008", Password: accounts.DemoPassword}); err != nil {
				return fmt.Errorf("NB001 trainer: %w", err)
			}
			if err := env.accounts.AddGrant(ctx, 0, u.ID, accounts.RoleTrainer, o.Domain()); err != nil {
				return fmt.Errorf("NB001 trainer grant: %w", err)
			}
		}
		if err != nil {
			return err
		}
		bases, err := env.accounts.TrainingBases(ctx, o.ID)
		if err != nil {
			return err
		}
		c := curriculum.DemoCentre{ID: o.ID, TrainerID: u.ID}
		for _, b := range bases {
			c.BaseIDs = append(c.BaseIDs, b.ID)
		}
		centres[code] = c
	}
	learner, err := env.accounts.UserByUsername(ctx, "caregiver")
	if err != nil {
		return err
	}
	svc := env.curriculum
	res, err := svc.SeedDemo(ctx, centres, learner.PersonID)
	if err != nil {
		return fmt.Errorf("curriculum: %w", err)
	}
	fmt.Fprintf(env.out, "curriculum: %d new courses, %d new sessions, %d new enrolments, %d lessons completed (trainer of NB001: %s)\n",
		res.Courses, res.Sessions, res.Enrolments, res.Lessons, nbTrainer)
	return nil
}
