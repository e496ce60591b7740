package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/internal/browsertest"
	"shanyu/internal/config"
	"shanyu/internal/servertest"
)

// seedDemoAccounts gives a test server the demo regions, organisations and users. On a clone of
// demoAccountsSeeded (how the tests that seed more on top of them start) they are there already.
func seedDemoAccounts(pool *pgxpool.Pool) error {
	ctx := context.Background()
	var seeded bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE username = 'admin')`).Scan(&seeded); err != nil || seeded {
		return err
	}
	if _, err := accounts.SeedRegions(ctx, pool); err != nil {
		return err
	}
	cfg, err := config.Parse(func(string) string { return "" })
	if err != nil {
		return err
	}
	acc, err := accounts.New(pool, cfg.SecretKey, accounts.DefaultPolicy)
	if err != nil {
		return err
	}
	_, _, err = acc.SeedDemo(ctx)
	return err
}

// The regulator signs in on a desktop, finds a user, and sees the organisations; every page holds.
func TestAdminManagesUsersInTheBrowser(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoAccountsSeeded})
	ctx := browsertest.New(t, browsertest.Desktop)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/admin/users"), // anonymous: sent to the sign-in page
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "admin"),
		chromedp.SendKeys(chromedp.CSS("#password"), accounts.DemoPassword),
	); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS("form button[type=submit]")))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("table"))); err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"用户管理", "陈静", "培训讲师", "org:HZ001"} {
		if !strings.Contains(body, want) {
			t.Errorf("users page lacks %q", want)
		}
	}
	browsertest.AssertFits(t, ctx, browsertest.Desktop)
	browsertest.Screenshot(t, ctx, "admin-users")

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/admin/users?q=%E9%99%88"), chromedp.WaitVisible(chromedp.CSS("table"))); err != nil {
		t.Fatal(err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.querySelectorAll('tbody tr').length"))
	if err != nil || rows != 1 {
		t.Fatalf("search for 陈 found %d rows (%v)", rows, err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/admin/organisations"), chromedp.WaitVisible(chromedp.CSS("table"))); err != nil {
		t.Fatal(err)
	}
	orgs, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("tbody")))
	if err != nil || !strings.Contains(orgs, "HZ001") || !strings.Contains(orgs, "HZI001") {
		t.Fatalf("organisations page: %q %v", orgs, err)
	}
	browsertest.Screenshot(t, ctx, "admin-organisations")

	// Grants are made by form: an organisation found by its name, or a region from the tree; no code typed.
	bg := context.Background()
	u, err := srv.App.Accounts.UserByUsername(bg, "caregiver")
	if err != nil {
		t.Fatal(err)
	}
	hzi, err := srv.App.Accounts.OrganisationByCode(bg, "HZI001")
	if err != nil {
		t.Fatal(err)
	}
	userURL := fmt.Sprintf("%s/admin/users/%d", srv.URL, u.ID)
	if err := chromedp.Do(ctx, chromedp.Navigate(userURL), chromedp.WaitVisible(chromedp.CSS("#grant-where")),
		chromedp.SetValue(chromedp.CSS("#role"), accounts.RoleInspector),
		chromedp.Click(chromedp.CSS(`#grant-where input[value=region]`)),
		chromedp.SetValue(chromedp.CSS("#grant-region"), "3301")); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "admin-grant-region-tree")
	clickAndLoad(t, ctx, `form[action$="/grants"] button[type=submit]`)
	if err := chromedp.Do(ctx, chromedp.Navigate(userURL), chromedp.WaitVisible(chromedp.CSS("#grant-where")),
		chromedp.SetValue(chromedp.CSS("#role"), accounts.RoleInstitutionAdmin),
		chromedp.Click(chromedp.CSS(`#grant-where input[value=org]`)),
		chromedp.SetValue(chromedp.CSS("#grant-org"), hzi.Name)); err != nil {
		t.Fatal(err)
	}
	clickAndLoad(t, ctx, `form[action$="/grants"] button[type=submit]`)
	grants, err := srv.App.Accounts.GrantsOf(bg, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range grants {
		got = append(got, g.Role+"@"+g.Domain)
	}
	all := strings.Join(got, " ")
	if !strings.Contains(all, accounts.RoleInspector+"@region:3301") || !strings.Contains(all, accounts.RoleInstitutionAdmin+"@org:HZI001") {
		t.Errorf("grants made by form: %v", got)
	}
}
