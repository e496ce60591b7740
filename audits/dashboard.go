package audits

import (
	"context"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"shanyu/accounts"
)

// DashboardRow is one region (or, inside a district, one institution) of the regulator's dashboard.
type DashboardRow struct {
	Key            string // region code, or institution code inside a district
	Institution    bool   // the row is one institution
	Name, NameEN   string
	Institutions   int
	Places         int
	Children       int
	Staff          int
	Posts          int
	QualifiedPosts int
	Compliant      int
	NotPermitted   int // barred persons found on rosters
	Expiring       int
	Inspected      int
	Passed         int
}

// QualifiedPercent is the share of posts held by qualified staff, in whole percent.
func (r DashboardRow) QualifiedPercent() int {
	if r.Posts == 0 {
		return 100
	}
	return (r.QualifiedPosts*100 + r.Posts/2) / r.Posts
}

// Dashboard sums compliance and inspections per sub-region of region (per institution inside a
// district), with the total as the first row.
func (s *Service) Dashboard(ctx context.Context, region string, on time.Time) ([]DashboardRow, error) {
	var orgs []accounts.Organisation
	for off := 0; ; off += 200 {
		page, total, err := s.accounts.ListOrganisations(ctx, accounts.OrgFilter{Kind: accounts.KindInstitution, Region: region, Limit: 200, Offset: off})
		if err != nil {
			return nil, err
		}
		orgs = append(orgs, page...)
		if off+200 >= total || len(page) == 0 {
			break
		}
	}
	ids := make([]int64, len(orgs))
	for i, o := range orgs {
		ids[i] = o.ID
	}
	// The sums read from the read pool (a standby while it is caught up): a dashboard may be a
	// moment behind, and its heavy reads then leave the primary alone.
	reports, err := s.complianceOf(ctx, s.read, ids, on)
	if err != nil {
		return nil, err
	}
	type counts struct{ done, passed int }
	insp := map[int64]counts{}
	rows, err := s.read.Query(ctx, `SELECT organisation_id, count(*), count(*) FILTER (WHERE passed) FROM audit_inspections
		WHERE status = 'finished' AND organisation_id = ANY($1) GROUP BY organisation_id`, ids)
	if err != nil {
		return nil, err
	}
	var oid int64
	var c counts
	if _, err := pgx.ForEachRow(rows, []any{&oid, &c.done, &c.passed}, func() error { insp[oid] = c; return nil }); err != nil {
		return nil, err
	}
	regions, err := accounts.Regions(ctx, s.read)
	if err != nil {
		return nil, err
	}
	names := map[string]accounts.Region{}
	for _, r := range regions {
		names[r.Code] = r
	}
	total := DashboardRow{Key: region, Name: names[region].Name, NameEN: names[region].NameEN}
	byKey := map[string]*DashboardRow{}
	for _, o := range orgs {
		key := o.Code
		name, nameEN := o.Name, o.NameEN
		if len(o.RegionCode) > len(region) {
			// The next level down: 33 → 3301 → 330106.
			key = o.RegionCode[:min(len(region)+2, len(o.RegionCode))]
			if len(region) >= 4 {
				key = o.RegionCode
			}
			name, nameEN = names[key].Name, names[key].NameEN
		}
		row := byKey[key]
		if row == nil {
			row = &DashboardRow{Key: key, Name: name, NameEN: nameEN, Institution: key == o.Code}
			byKey[key] = row
		}
		r := reports[o.ID]
		for _, x := range []*DashboardRow{row, &total} {
			x.Institutions++
			for _, n := range o.LicensedPlaces {
				x.Places += n
			}
			x.Children += r.Children
			x.Staff += r.Staff
			x.Posts += len(r.Assignments)
			x.QualifiedPosts += len(r.Assignments) - r.Unqualified
			if r.Compliant() {
				x.Compliant++
			}
			x.NotPermitted += len(r.BarredOnRoster)
			x.Expiring += len(r.Expiring)
			x.Inspected += insp[o.ID].done
			x.Passed += insp[o.ID].passed
		}
	}
	out := []DashboardRow{total}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, *byKey[k])
	}
	return out, nil
}
