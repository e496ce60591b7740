package curriculum

import (
	"context"

	"shanyu/accounts"
)

// Directory is what curriculum knows of the accounts domain's data, asked for in batches (one call
// per list, whatever its length) and never inside a transaction: people's names, the names behind
// user accounts (trainers), organisations and training bases.
type Directory interface {
	Names(ctx context.Context, personIDs []int64) (map[int64]string, error)
	UserNames(ctx context.Context, userIDs []int64) (map[int64]string, error)
	Organisations(ctx context.Context, ids []int64) (map[int64]accounts.Organisation, error)
	OrganisationIDs(ctx context.Context, code, regionPrefix string) ([]int64, error)
	Bases(ctx context.Context, ids []int64) (map[int64]accounts.TrainingBase, error)
}

// idsOf collects the distinct non-zero ids key gives for each element.
func idsOf[T any](list []T, key func(T) int64) []int64 {
	seen := make(map[int64]bool, len(list))
	var out []int64
	for _, x := range list {
		if id := key(x); id != 0 && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// withOrgs fills the courses' organisation code, name and region.
func (s *Service) withOrgs(ctx context.Context, list []Course) error {
	orgs, err := s.opts.Directory.Organisations(ctx, idsOf(list, func(c Course) int64 { return c.OrganisationID }))
	if err != nil {
		return err
	}
	for i := range list {
		o := orgs[list[i].OrganisationID]
		list[i].OrgCode, list[i].OrgName, list[i].RegionCode = o.Code, o.Name, o.RegionCode
	}
	return nil
}

// withCentres fills the enrolments' centre name (orgOf gives each enrolment's organisation).
func (s *Service) withCentres(ctx context.Context, list []Enrolment, orgOf []int64) error {
	orgs, err := s.opts.Directory.Organisations(ctx, idsOf(orgOf, func(id int64) int64 { return id }))
	if err != nil {
		return err
	}
	for i := range list {
		list[i].OrgName = orgs[orgOf[i]].Name
	}
	return nil
}

// withPlaces fills the sessions' organisation code and region, base name and address, and trainer's
// name: three calls whatever the number of sessions.
func (s *Service) withPlaces(ctx context.Context, list []Session) error {
	orgs, err := s.opts.Directory.Organisations(ctx, idsOf(list, func(x Session) int64 { return x.OrganisationID }))
	if err != nil {
		return err
	}
	bases, err := s.opts.Directory.Bases(ctx, idsOf(list, func(x Session) int64 { return x.BaseID }))
	if err != nil {
		return err
	}
	trainers, err := s.opts.Directory.UserNames(ctx, idsOf(list, func(x Session) int64 { return x.TrainerID }))
	if err != nil {
		return err
	}
	for i := range list {
		x := &list[i]
		x.OrgCode, x.RegionCode = orgs[x.OrganisationID].Code, orgs[x.OrganisationID].RegionCode
		x.BaseName, x.BaseAddress = bases[x.BaseID].Name, bases[x.BaseID].Address
		x.TrainerName = trainers[x.TrainerID]
	}
	return nil
}

// withNames fills the sign-ups' names.
func (s *Service) withNames(ctx context.Context, list []Signup) error {
	names, err := s.opts.Directory.Names(ctx, idsOf(list, func(x Signup) int64 { return x.PersonID }))
	if err != nil {
		return err
	}
	for i := range list {
		list[i].Name = names[list[i].PersonID]
	}
	return nil
}
