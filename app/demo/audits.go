package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"shanyu/accounts"
	"shanyu/audits"
)

// Hangzhou districts the demo institutions sit in (standards.md §8). HZI001 (from the accounts seed)
// is the only one in 330106, so the open 西湖区 round draws it for the demo inspector.
var demoDistricts = []string{"330102", "330105", "330108", "330109", "330110", "330111", "330112", "330113", "330114"}

var demoSurnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗")
var demoGiven = []string{"晓梅", "丽华", "静", "敏", "婷婷", "海燕", "玉兰", "春燕", "雪", "丹", "秀英", "佳怡", "思雨", "建华", "志强"}

// seedAudits creates 20 Hangzhou institutions with classes and about 200 staff (some unqualified,
// some with documents about to expire, one class over its ratio), a finished inspection round and an
// open inspection of HZI001 assigned to the demo inspector. Running it again adds nothing.
func seedAudits(ctx context.Context, env seedEnv) error {
	svc := env.audits
	acc := env.accounts
	admin, err := acc.UserByUsername(ctx, "admin")
	if err != nil {
		return err
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	orgs := []accounts.Organisation{}
	for i := 1; i <= 20; i++ {
		code := fmt.Sprintf("HZI%03d", i)
		o, err := acc.OrganisationByCode(ctx, code)
		if errors.Is(err, accounts.ErrOrganisationNotFound) {
			region := demoDistricts[i%len(demoDistricts)]
			o, err = acc.CreateOrganisation(ctx, 0, accounts.Organisation{Kind: accounts.KindInstitution, Code: code,
				Name: fmt.Sprintf("杭州%s托育园（%d 号）", []string{"阳光", "小太阳", "彩虹", "童心", "启航"}[i%5], i), NameEN: fmt.Sprintf("Hangzhou Childcare No. %d", i),
				RegionCode: region, Address: fmt.Sprintf("杭州市演示路 %d 号", i), CreditCode: audits.SyntheticCreditCode(region, 1000+i),
				InstitutionType: accounts.InstitutionTypes[i%len(accounts.InstitutionTypes)],
				LicensedPlaces:  map[string]int{"infant": 10, "toddler_young": 15, "toddler_old": 20}})
		}
		if err != nil {
			return fmt.Errorf("institution %s: %w", code, err)
		}
		orgs = append(orgs, o)
	}
	staff := 0
	for i, o := range orgs {
		classes := []audits.Class{
			{OrganisationID: o.ID, Name: "乳儿班", Type: "infant", Children: 6 + i%4},
			{OrganisationID: o.ID, Name: "托小班", Type: "toddler_young", Children: 10 + i%5},
			{OrganisationID: o.ID, Name: "托大班", Type: "toddler_old", Children: 14 + i%6},
		}
		if o.Code == "HZI003" {
			classes[1].Children = 15 // three qualified caregivers needed, two assigned: over ratio
		}
		for _, c := range classes {
			if _, err := svc.SaveClass(ctx, c); err != nil {
				return err
			}
		}
		// Caregivers per class: enough for the ratio, except in HZI003's 托小班.
		type line struct {
			post, class, occ string
			level            int
		}
		lines := []line{{"director", "", "director-training", 5}, {"security", "", "security-guard", 5}, {"health", "", "health-staff-training", 5}}
		for _, c := range classes {
			ratio := map[string]int{"infant": 3, "toddler_young": 5, "toddler_old": 7}[c.Type]
			need := (c.Children + ratio - 1) / ratio
			if o.Code == "HZI003" && c.Type == "toddler_young" {
				need = 2
			}
			for k := 0; k < need; k++ {
				occ := "4-10-01-03"
				if k%2 == 1 {
					occ = "4-10-01-02"
				}
				lines = append(lines, line{"caregiver", c.Name, occ, 3 + k%3})
			}
		}
		for k, l := range lines {
			n := i*20 + k
			name := string(demoSurnames[n%len(demoSurnames)]) + demoGiven[(n/len(demoSurnames)+k)%len(demoGiven)]
			in := audits.StaffInput{Name: name, Phone: fmt.Sprintf("1370000%04d", n),
				IDNumber:         audits.SyntheticCitizenID(o.RegionCode, time.Date(1975+n%25, time.Month(1+n%12), 1+n%28, 0, 0, 0, 0, time.UTC), n),
				HealthValidUntil: today.AddDate(0, 8, 0), NoCriminalRecordOn: today.AddDate(0, -6, 0), Posts: []string{l.post}, Class: l.class}
			if n%13 == 5 {
				in.HealthValidUntil = today.AddDate(0, 0, 20+n%30) // expiring soon
			}
			m, err := svc.AddStaff(ctx, o.ID, in)
			if err != nil {
				return fmt.Errorf("staff of %s: %w", o.Code, err)
			}
			staff++
			if n%17 == 3 && l.post == "caregiver" {
				continue // no certificate on file: unqualified
			}
			c := audits.ExternalCert{OrganisationID: o.ID, PersonID: m.PersonID, Occupation: l.occ, Level: l.level,
				Number: fmt.Sprintf("S000033%06d%02d%d%06d", 1+i, today.Year()%100-1, l.level, n), ExpiresOn: today.AddDate(2, 0, 0), Evidence: "演示数据：证书复印件已存档"}
			if n%19 == 7 {
				c.ExpiresOn = today.AddDate(0, 0, 45) // certificate expiring within 60 days
			}
			if _, err := svc.RecordExternalCertificate(ctx, admin.ID, c); err != nil && !errors.Is(err, audits.ErrExists) {
				return fmt.Errorf("certificate of %s: %w", o.Code, err)
			}
		}
	}
	// The demo caregiver, whose certificate was issued on the platform, works at HZI001: her post is
	// checked against the certificates domain (verified), not against a recorded copy.
	if _, err := svc.AddStaff(ctx, orgs[0].ID, audits.StaffInput{Name: "李小燕", Phone: "13900000005", IDNumber: "330106199305064525",
		HealthValidUntil: today.AddDate(0, 10, 0), NoCriminalRecordOn: today.AddDate(0, -1, 0), Posts: []string{"caregiver"}, Class: "托小班"}); err != nil {
		return fmt.Errorf("demo caregiver: %w", err)
	}
	staff++
	n, err := seedNingboInstitution(ctx, svc, acc, admin.ID, today)
	if err != nil {
		return err
	}
	staff += n
	fmt.Fprintf(env.out, "audits: %d institutions, %d roster lines\n", len(orgs)+1, staff)
	if err := seedDemoRounds(ctx, env, svc, today); err != nil {
		return err
	}
	// After the rounds, so that their draws stay what they were.
	return seedHomePoint(ctx, env, svc, admin.ID, today)
}

// homePointCode is the demo home childcare point (家庭托育点), in 桐庐县 where no other demo
// institution is.
const homePointCode = "HZH001"

// seedHomePoint creates a home childcare point with one mixed-age group of five children and two
// qualified carers, recorded as a home point so that it is judged by the home_point row of the class
// table (at most 5 children, 3 per carer), and its own admin, institution.home.
func seedHomePoint(ctx context.Context, env seedEnv, svc *audits.Service, adminID int64, today time.Time) error {
	acc := env.accounts
	o, err := acc.OrganisationByCode(ctx, homePointCode)
	if errors.Is(err, accounts.ErrOrganisationNotFound) {
		o, err = acc.CreateOrganisation(ctx, 0, accounts.Organisation{Kind: accounts.KindInstitution, Code: homePointCode,
			Name: "桐庐县小橘灯家庭托育点", NameEN: "Little Lantern Home Childcare Point, Tonglu", RegionCode: "330122",
			Address: "杭州市桐庐县演示路 8 号 2 单元 101 室", CreditCode: audits.SyntheticCreditCode("330122", 2001),
			InstitutionType: "home", LicensedPlaces: map[string]int{"mixed": 5}})
	}
	if err != nil {
		return fmt.Errorf("home point: %w", err)
	}
	if err := svc.SetInstitutionKind(ctx, adminID, o.ID, audits.KindHomePoint); err != nil {
		return fmt.Errorf("home point kind: %w", err)
	}
	if _, err := svc.SaveClass(ctx, audits.Class{OrganisationID: o.ID, Name: "混龄组", Type: "mixed", Children: 5}); err != nil {
		return err
	}
	carers := []struct {
		name, occ string
		born      time.Time
	}{
		{"方美琴", "4-10-01-03", time.Date(1985, 5, 9, 0, 0, 0, 0, time.UTC)},
		{"方晓", "4-10-01-02", time.Date(1994, 2, 17, 0, 0, 0, 0, time.UTC)},
	}
	for k, l := range carers {
		m, err := svc.AddStaff(ctx, o.ID, audits.StaffInput{Name: l.name, Phone: fmt.Sprintf("1370003%04d", k),
			IDNumber:         audits.SyntheticCitizenID("330122", l.born, 950+k),
			HealthValidUntil: today.AddDate(0, 9, 0), NoCriminalRecordOn: today.AddDate(0, -2, 0), Posts: []string{"caregiver"}, Class: "混龄组"})
		if err != nil {
			return fmt.Errorf("staff of %s: %w", homePointCode, err)
		}
		c := audits.ExternalCert{OrganisationID: o.ID, PersonID: m.PersonID, Occupation: l.occ, Level: 4,
			Number: fmt.Sprintf("S00003301%06d4%06d", 900+k, 950+k), ExpiresOn: today.AddDate(2, 0, 0), Evidence: "演示数据：证书复印件已存档"}
		if _, err := svc.RecordExternalCertificate(ctx, adminID, c); err != nil && !errors.Is(err, audits.ErrExists) {
			return fmt.Errorf("certificate of %s: %w", homePointCode, err)
		}
	}
	u, err := acc.UserByUsername(ctx, "institution.home")
	if errors.Is(err, accounts.ErrUserNotFound) {
		if u, err = acc.CreateUser(ctx, 0, accounts.CreateUserInput{Username: "institution.home", Name: "方美琴", Phone: "13900000031", Password: accounts.DemoPassword}); err != nil {
			return err
		}
		err = acc.AddGrant(ctx, 0, u.ID, accounts.RoleInstitutionAdmin, accounts.OrgDomain(homePointCode))
	}
	if err != nil {
		return fmt.Errorf("institution.home: %w", err)
	}
	fmt.Fprintf(env.out, "audits: home childcare point %s with %d carers\n", homePointCode, len(carers))
	return nil
}

func seedDemoRounds(ctx context.Context, env seedEnv, svc *audits.Service, today time.Time) error {
	acc := env.accounts
	admin, err := acc.UserByUsername(ctx, "admin")
	if err != nil {
		return err
	}
	inspector, err := acc.UserByUsername(ctx, "inspector")
	if err != nil {
		return err
	}
	second, err := acc.UserByUsername(ctx, "inspector2")
	if errors.Is(err, accounts.ErrUserNotFound) {
		if second, err = acc.CreateUser(ctx, 0, accounts.CreateUserInput{Username: "inspector2", Name: "钱文静", Phone: "13900000008", Password: accounts.DemoPassword}); err != nil {
			return err
		}
		err = acc.AddGrant(ctx, 0, second.ID, accounts.RoleInspector, accounts.RegionDomain("3301"))
	}
	if err != nil {
		return err
	}
	rounds, err := svc.Rounds(ctx, "3301")
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, r := range rounds {
		have[r.Name] = true
	}
	const finished, open = "2026 年上半年杭州市托育机构双随机抽查", "2026 年西湖区托育机构专项检查"
	if !have[finished] {
		r, err := svc.CreateRound(ctx, admin.ID, audits.RoundInput{RegionCode: "3301", Name: finished, Share: 0.15, PerInspection: 2, RiskWeighted: true, Seed: 20260601, On: today})
		if err != nil {
			return fmt.Errorf("finished round: %w", err)
		}
		// The inspectors checked every roster member, counted the children and signed.
		for _, a := range r.Assignments {
			var id int64
			mine, err := svc.InspectionsFor(ctx, a.Inspectors[0])
			if err != nil {
				return err
			}
			for _, x := range mine {
				if x.RoundID == r.ID && x.OrganisationID == a.TargetID {
					id = x.ID
				}
			}
			if err := finishDemoInspection(ctx, env, svc, id, a); err != nil {
				return err
			}
		}
		fmt.Fprintf(env.out, "audits: finished round %q, %d inspections\n", finished, len(r.Assignments))
	}
	if !have[open] {
		r, err := svc.CreateRound(ctx, admin.ID, audits.RoundInput{RegionCode: "330106", Name: open, Count: 1, PerInspection: 2, Seed: 20261128, On: today})
		if err != nil {
			return fmt.Errorf("open round: %w", err)
		}
		fmt.Fprintf(env.out, "audits: open round %q assigned to %v (demo inspector id %d)\n", open, r.Assignments[0].Inspectors, inspector.ID)
	}
	return nil
}

func finishDemoInspection(ctx context.Context, env seedEnv, svc *audits.Service, id int64, a audits.Assignment) error {
	certs, err := svc.ExternalCertificates(ctx, a.TargetID)
	if err != nil {
		return err
	}
	for k, c := range certs {
		if _, _, err := svc.RecordScan(ctx, a.Inspectors[k%2], id, audits.ScanInput{ClientID: fmt.Sprintf("demo-%d-%d", id, k), Code: c.Number}); err != nil {
			return err
		}
	}
	classes, err := svc.Classes(ctx, a.TargetID)
	if err != nil {
		return err
	}
	for _, c := range classes {
		ratio := map[string]int{"infant": 3, "toddler_young": 5, "toddler_old": 7}[c.Type]
		if err := svc.SetHeadcount(ctx, a.Inspectors[0], id, audits.Headcount{ClassID: c.ID, Children: c.Children, Caregivers: (c.Children + ratio - 1) / ratio}); err != nil {
			return err
		}
	}
	if _, err := svc.AddFinding(ctx, a.Inspectors[1], id, "minor", "晨检记录个别日期缺签，已要求整改。"); err != nil {
		return err
	}
	// Staff without a certificate to scan were not met on the day: marked absent, so the inspection
	// is ready to sign.
	x, err := svc.Inspection(ctx, id)
	if err != nil {
		return err
	}
	view, err := svc.Assess(ctx, x, time.Now())
	if err != nil {
		return err
	}
	for _, p := range view.People {
		if !p.Scanned && !p.Absent {
			if err := svc.MarkAbsent(ctx, a.Inspectors[0], id, p.RosterID, "当日轮休"); err != nil {
				return err
			}
		}
	}
	for _, u := range a.Inspectors {
		if _, err := svc.Sign(ctx, u, id); err != nil {
			return err
		}
	}
	return nil
}

// seedNingboInstitution gives NBI001 (Ningbo, from the accounts seed) a class and a roster of three,
// so that the second region's regulator, inspector and institution admin have something of their own.
func seedNingboInstitution(ctx context.Context, svc *audits.Service, acc *accounts.Service, adminID int64, today time.Time) (int, error) {
	o, err := acc.OrganisationByCode(ctx, "NBI001")
	if err != nil {
		return 0, fmt.Errorf("NBI001: %w", err)
	}
	if _, err := svc.SaveClass(ctx, audits.Class{OrganisationID: o.ID, Name: "托小班", Type: "toddler_young", Children: 9}); err != nil {
		return 0, err
	}
	lines := []struct {
		name, post string
		born       time.Time
	}{
		{"沈慧", "director", time.Date(1980, 3, 12, 0, 0, 0, 0, time.UTC)},
		{"韩露", "caregiver", time.Date(1992, 7, 4, 0, 0, 0, 0, time.UTC)},
		{"杨帆", "caregiver", time.Date(1996, 11, 23, 0, 0, 0, 0, time.UTC)},
	}
	for k, l := range lines {
		in := audits.StaffInput{Name: l.name, Phone: fmt.Sprintf("1370002%04d", k), IDNumber: audits.SyntheticCitizenID("330203", l.born, 900+k),
			HealthValidUntil: today.AddDate(0, 8, 0), NoCriminalRecordOn: today.AddDate(0, -3, 0), Posts: []string{l.post}}
		if l.post == "caregiver" {
			in.Class = "托小班"
		}
		m, err := svc.AddStaff(ctx, o.ID, in)
		if err != nil {
			return 0, fmt.Errorf("staff of NBI001: %w", err)
		}
		occ, level := "4-10-01-03", 4
		if l.post == "director" {
			occ, level = "director-training", 5
		}
		c := audits.ExternalCert{OrganisationID: o.ID, PersonID: m.PersonID, Occupation: occ, Level: level,
			Number: fmt.Sprintf("S00003302%06d%d%06d", k+1, level, 900+k), ExpiresOn: today.AddDate(2, 0, 0), Evidence: "演示数据：证书复印件已存档"}
		if _, err := svc.RecordExternalCertificate(ctx, adminID, c); err != nil && !errors.Is(err, audits.ErrExists) {
			return 0, fmt.Errorf("certificate of NBI001: %w", err)
		}
	}
	return len(lines), nil
}
