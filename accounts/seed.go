package accounts

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
)

// DemoPassword is the password of every demo account; it is printed in the README.
const DemoPassword = "shanyu-demo"

//go:embed seed/demo.json
var demoJSON []byte

type demoData struct {
	Organisations []struct {
		Organisation
		Bases []TrainingBase `json:"bases"`
	} `json:"organisations"`
	Users []struct {
		CreateUserInput
		Grants [][2]string `json:"grants"` // role, domain
	} `json:"users"`
}

// SeedDemo creates the demo organisations and one user per role (idempotent: existing ones are kept).
func (s *Service) SeedDemo(ctx context.Context) (orgs, users int, err error) {
	var d demoData
	if err := json.Unmarshal(demoJSON, &d); err != nil {
		return 0, 0, fmt.Errorf("demo.json: %w", err)
	}
	for _, o := range d.Organisations {
		org, err := s.OrganisationByCode(ctx, o.Code)
		if errors.Is(err, ErrOrganisationNotFound) {
			org, err = s.CreateOrganisation(ctx, 0, o.Organisation)
			if err != nil {
				return orgs, users, fmt.Errorf("organisation %s: %w", o.Code, err)
			}
			for _, b := range o.Bases {
				b.OrganisationID = org.ID
				if _, err := s.AddTrainingBase(ctx, 0, b); err != nil {
					return orgs, users, fmt.Errorf("training base %s: %w", b.Name, err)
				}
			}
			orgs++
		} else if err != nil {
			return orgs, users, err
		}
	}
	for _, u := range d.Users {
		if _, err := s.UserByUsername(ctx, u.Username); err == nil {
			continue
		} else if !errors.Is(err, ErrUserNotFound) {
			return orgs, users, err
		}
		u.Password = DemoPassword
		created, err := s.CreateUser(ctx, 0, u.CreateUserInput)
		if err != nil {
			return orgs, users, fmt.Errorf("user %s: %w", u.Username, err)
		}
		for _, g := range u.Grants {
			if err := s.AddGrant(ctx, 0, created.ID, g[0], g[1]); err != nil {
				return orgs, users, fmt.Errorf("grant %s %v: %w", u.Username, g, err)
			}
		}
		users++
	}
	return orgs, users, nil
}
