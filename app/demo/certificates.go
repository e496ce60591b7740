package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"shanyu/accounts"
	"shanyu/certificates"
)

// demoHolder is a demo caregiver who holds a certificate, and how old or in what state it is.
type demoHolder struct {
	username, name, phone string
	centre                string
	level                 int
	issuedAgo             time.Duration // how long before today it was issued
	revoke                string        // a revocation reason, when it is revoked
	suspend               string        // a suspension reason, when it is suspended
}

// Until the exams demo publishes passing results, these holders get certificates through the same
// issuance requests the exams domain records (result references "demo:…").
var demoHolders = []demoHolder{
	{username: "caregiver", centre: "HZ001", level: 4, issuedAgo: 40 * 24 * time.Hour},
	{username: "cg.wangxw", name: "王晓雯", phone: "13900000011", centre: "HZ001", level: 4, issuedAgo: (3*365 - 20) * 24 * time.Hour},
	{username: "cg.chenym", name: "陈一鸣", phone: "13900000012", centre: "HZ001", level: 5, issuedAgo: 200 * 24 * time.Hour, revoke: "以欺骗手段取得证书（演示）"},
	{username: "cg.zhangxy", name: "张欣怡", phone: "13900000013", centre: "NB001", level: 3, issuedAgo: 400 * 24 * time.Hour, suspend: "继续教育学时未达要求，暂停待补（演示）"},
}

// seedCertificates issues the certificates of the demo: first whatever the exams demo requested,
// then one for each demo holder without one; one is revoked, one suspended and one expires within a month.
func seedCertificates(ctx context.Context, env seedEnv) error {
	svc := env.certificates
	n, err := svc.IssuePending(ctx)
	if err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	admin, err := env.accounts.UserByUsername(ctx, "admin")
	if err != nil {
		return err
	}
	for i, h := range demoHolders {
		u, err := env.accounts.UserByUsername(ctx, h.username)
		if errors.Is(err, accounts.ErrUserNotFound) {
			u, err = env.accounts.CreateUser(ctx, 0, accounts.CreateUserInput{Username: h.username, Name: h.name, Phone: h.phone, Password: accounts.DemoPassword})
			if err == nil {
				err = env.accounts.AddGrant(ctx, 0, u.ID, accounts.RoleCaregiver, "*")
			}
		}
		if err != nil {
			return fmt.Errorf("demo holder %s: %w", h.username, err)
		}
		centre, err := env.accounts.OrganisationByCode(ctx, h.centre)
		if err != nil {
			return err
		}
		issued := time.Now().Add(-h.issuedAgo)
		c, err := svc.RequestAndIssue(ctx, certificates.IssuanceRequest{
			ResultRef: fmt.Sprintf("demo:certificate:%d", i+1), PersonID: u.PersonID, CentreID: centre.ID,
			OccupationCode: "4-10-01-03", Level: h.level, PassedOn: issued, Hours: 120,
		}, issued)
		if err != nil {
			return fmt.Errorf("demo certificate of %s: %w", h.username, err)
		}
		if h.revoke != "" && c.Status == certificates.StateValid {
			if _, err := svc.ChangeStatus(ctx, admin.ID, "", c.Number, certificates.ActionRevoke, h.revoke); err != nil {
				return err
			}
		}
		if h.suspend != "" && c.Status == certificates.StateValid {
			if _, err := svc.ChangeStatus(ctx, admin.ID, "", c.Number, certificates.ActionSuspend, h.suspend); err != nil {
				return err
			}
		}
		n++
	}
	fmt.Fprintf(env.out, "certificates: %d issued or confirmed (demo requests; the exams demo's results when present)\n", n)
	return nil
}
