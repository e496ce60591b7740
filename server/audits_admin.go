package server

import (
	"context"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
	"shanyu/audits"
	"shanyu/internal/failure"
)

// Regulator pages: regional qualification rules with a preview of what they change, and inspection
// rounds with their draws.
func (s *Server) routesAuditsAdmin() {
	rules := can("policy.qualification", "write")
	s.page("GET", "/dashboard/rules", rules, scopeHeld, s.rulesPage)
	s.page("POST", "/dashboard/rules", rules, scopeHeld, s.rulesSubmit)
	rounds := can("rounds.draw", "write")
	s.page("GET", "/dashboard/rounds", rounds, scopeHeld, s.roundsPage)
	s.page("POST", "/dashboard/rounds", rounds, scopeHeld, s.roundsSubmit)
}

type ruleChangeRow struct {
	Institution string
	Name        string
	Post        string
	After       bool
}

func (s *Server) rulesPage(c *fiber.Ctx) error { return s.renderRules(c, fiber.Map{}) }

// ruleRow is a regional rule in words, with its policy line kept for the collapsed detail.
type ruleRow struct {
	audits.Rule
	Words string
}

// ruleWords says a policy line in words: the post, what it requires or refuses, allow or deny.
func (s *Server) ruleWords(ctx context.Context, lang, line string) string {
	parts := strings.Split(line, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	if len(parts) == 5 && parts[0] == "p" { // a line without a region applies everywhere
		parts = append(parts[:2], append([]string{audits.RuleDomain("")}, parts[2:]...)...)
	}
	if len(parts) != 6 || parts[0] != "p" {
		return line
	}
	where := s.regionName(ctx, lang, audits.RuleRegion(parts[2]))
	parts = append(parts[:2], parts[3:]...)
	post := strings.TrimPrefix(parts[2], "post:")
	postName := s.i18n.T(lang, "audits.post."+post)
	if post == "*" {
		postName = s.i18n.T(lang, "audits.group.*")
	}
	what := explainWords(s.i18n, lang).Sentence(postName, audits.Decision{Post: post, Needs: []audits.Need{{Group: parts[3], Accepted: []string{parts[1]}}}}, nil)
	return where + " · " + what + " · " + s.i18n.T(lang, "audits.rules.effect."+parts[4])
}

// regionName names a rule's region in words ("杭州市及下辖地区"); "" is everywhere.
func (s *Server) regionName(ctx context.Context, lang, code string) string {
	if code == "" {
		return s.i18n.T(lang, "audits.rules.everywhere")
	}
	name := code
	if r, err := accounts.RegionByCode(ctx, s.pool, code); err == nil {
		name = r.Name
		if lang == "en" && r.NameEN != "" {
			name = r.NameEN
		}
	}
	return s.i18n.T(lang, "audits.rules.in_region", name)
}

// ruleLineRegion is the region a policy line applies in ("" everywhere), as NormaliseRule reads it.
func ruleLineRegion(line string) (string, error) {
	norm, err := audits.NormaliseRule(line)
	if err != nil {
		return "", err
	}
	return audits.Rule{Line: norm}.Region(), nil
}

// ruleScope refuses a rule outside the regions where the caller may write the qualification policy:
// a regional rule needs the permission in its region (or above); a rule everywhere needs it in every
// province of the platform.
func (s *Server) ruleScope(c *fiber.Ctx, region string) error {
	if region != "" {
		return s.allowedIn(c, "policy.qualification", "write", accounts.RegionDomain(region))
	}
	if s.allowedIn(c, "policy.qualification", "write", "*") == nil {
		return nil
	}
	regions, err := accounts.Regions(c.UserContext(), s.pool)
	if err != nil {
		return err
	}
	for _, r := range regions {
		if r.Parent != "" {
			continue
		}
		if err := s.allowedIn(c, "policy.qualification", "write", accounts.RegionDomain(r.Code)); err != nil {
			return err
		}
	}
	return nil
}

// ruleLineScope checks a policy line's region against the caller's grants (an invalid line passes
// here and is refused, naming it, by the domain).
func (s *Server) ruleLineScope(c *fiber.Ctx, line string) error {
	region, err := ruleLineRegion(line)
	if err != nil {
		return nil
	}
	return s.ruleScope(c, region)
}

// ruleIDScope checks the region of a stored rule against the caller's grants.
func (s *Server) ruleIDScope(c *fiber.Ctx, id int64) error {
	r, err := s.domains.Audits.RuleByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	return s.ruleScope(c, r.Region())
}

func (s *Server) renderRules(c *fiber.Ctx, d fiber.Map) error {
	rs, err := s.domains.Audits.Rules(c.UserContext())
	if err != nil {
		return err
	}
	lang := langOf(c)
	rows := make([]ruleRow, 0, len(rs))
	for _, r := range rs {
		rows = append(rows, ruleRow{Rule: r, Words: s.ruleWords(c.UserContext(), lang, r.Line)})
	}
	d["Rules"] = rows
	// The form's choices: posts (those of the locales, so a rule may name a new one), occupations, levels.
	var posts []string
	for k := range s.i18n.texts[lang] {
		if p, ok := strings.CutPrefix(k, "audits.post."); ok {
			posts = append(posts, p)
		}
	}
	sort.Strings(posts)
	d["Posts"], d["Occupations"], d["Levels"] = posts, s.rosterVocabulary(lang).Occupations, []int{1, 2, 3, 4, 5}
	tree, _, err := s.grantChoices(c, lang)
	if err != nil {
		return err
	}
	d["RegionTree"] = tree
	if f, ok := d["Form"].(map[string]string); !ok || f["region"] == "" {
		form := map[string]string{}
		for k, v := range f {
			form[k] = v
		}
		form["region"] = s.defaultRuleRegion(c)
		d["Form"] = form
	}
	if line, _ := d["Line"].(string); line != "" {
		d["Words"] = s.ruleWords(c.UserContext(), lang, line)
	}
	return s.render(c, "dashboard_rules", page{Title: s.i18n.T(lang, "audits.rules.title"), Data: d})
}

// defaultRuleRegion is the region the rule form starts with: that of the caller's first regulator
// grant (everywhere for a platform-wide one).
func (s *Server) defaultRuleRegion(c *fiber.Ctx) string {
	for _, g := range principalOf(c).Grants {
		if r, ok := strings.CutPrefix(g.Domain, "region:"); ok && g.Role == accounts.RoleRegulatorAdmin {
			return r
		}
	}
	return "*"
}

// rulePart is the pattern of the form's post, occupation and level values: they become parts of a
// policy line, so nothing that could end or extend one passes.
var rulePart = regexp.MustCompile(`^[a-z0-9_-]{1,40}$`)

// ruleFromForm builds a policy line from the rule form: a post, a requirement (a certificate of an
// occupation at a minimum level, a document kind or a yearly background check), the region (from the
// region tree; "*" everywhere) and allow or deny; a typed line (the advanced field) wins. Each field is
// refused by name when it is not one the form offers.
func (s *Server) ruleFromForm(c *fiber.Ctx) (string, error) {
	if line := strings.TrimSpace(c.FormValue("line")); line != "" {
		return line, nil // bounded by audits.NormaliseRule, as on the API
	}
	post, effect, region := c.FormValue("post"), c.FormValue("effect"), strings.TrimSpace(c.FormValue("region"))
	var f failure.Fields
	if !rulePart.MatchString(post) {
		f.Add("post", "audits.rules.post_invalid")
	}
	if effect != "deny" && effect != "allow" {
		f.Add("effect", "audits.rules.effect_invalid")
	}
	domain := audits.RuleDomain("")
	if region != "" && region != "*" {
		if _, err := accounts.RegionByCode(c.UserContext(), s.pool, region); err != nil || len(region) > 12 {
			f.Add("region", "audits.rules.region_invalid")
		}
		domain = audits.RuleDomain(region)
	}
	var token, group string
	switch req := c.FormValue("requirement"); req {
	case "health":
		token, group = "doc:health", "health"
	case "background":
		token, group = "doc:no-criminal-record", "background"
	case "check:" + audits.CheckNoCriminalRecord, "check:" + audits.CheckEmploymentBan, "check:" + audits.CheckHealth:
		token, group = req, "background_check"
	case "certificate", "":
		occ, level := c.FormValue("occupation"), c.FormValue("level")
		if !rulePart.MatchString(occ) {
			f.Add("occupation", "audits.rules.occupation_invalid")
		}
		if n, err := strconv.Atoi(level); err != nil || n < 1 || n > 5 {
			f.Add("level", "audits.rules.level_invalid")
		}
		token, group = "qual:"+occ+":"+level, "qualification"
	default:
		f.Add("requirement", "audits.rules.requirement_invalid")
	}
	if err := f.Err(); err != nil {
		return "", err
	}
	return "p, " + token + ", " + domain + ", post:" + post + ", " + group + ", " + effect, nil
}

func (s *Server) rulesSubmit(c *fiber.Ctx) error {
	ctx := c.UserContext()
	note := strings.Clone(c.FormValue("note")) // its bound is the domain's (audits.MaxRuleNote)
	line, err := s.ruleFromForm(c)
	if prev := c.FormValue("previewed_line"); c.FormValue("action") == "add" && prev != "" {
		line, err = strings.Clone(prev), nil // what the preview showed is what is saved
	}
	d := fiber.Map{"Line": line, "Note": note, "Form": map[string]string{"post": c.FormValue("post"), "requirement": c.FormValue("requirement"),
		"occupation": c.FormValue("occupation"), "level": c.FormValue("level"), "effect": c.FormValue("effect"), "region": c.FormValue("region")}}
	if err == nil && c.FormValue("action") != "remove" {
		err = s.ruleLineScope(c, line)
	}
	switch {
	case err != nil:
	case c.FormValue("action") == "remove":
		id, _ := strconv.ParseInt(c.FormValue("id"), 10, 64)
		if err = s.ruleIDScope(c, id); err == nil {
			err = s.domains.Audits.RemoveRule(ctx, principalOf(c).User.ID, id)
		}
	case c.FormValue("action") == "add":
		if _, err = s.domains.Audits.AddRule(ctx, principalOf(c).User.ID, line, note); err == nil {
			d = fiber.Map{"Notice": s.i18n.T(langOf(c), "audits.rules.added")}
		}
	default:
		var changes []audits.RuleChange
		if changes, err = s.domains.Audits.PreviewRule(ctx, line, time.Now()); err == nil {
			rows := []ruleChangeRow{}
			for _, ch := range changes {
				o, oerr := s.accounts.OrganisationByID(ctx, ch.OrganisationID)
				if oerr != nil {
					return oerr
				}
				rows = append(rows, ruleChangeRow{Institution: o.Name, Name: accounts.MaskName(ch.Name), Post: ch.Post, After: ch.After})
			}
			d["Changes"], d["Previewed"] = rows, true
		}
	}
	if f, err := s.failedForm(c, err, "post", "requirement", "occupation", "level", "region", "effect", "line", "note"); err != nil {
		return err
	} else if f != nil {
		d["Message"] = f.All("；") // every problem of the rule at once, in the form's order
	}
	return s.renderRules(c, d)
}

func (s *Server) roundsPage(c *fiber.Ctx) error { return s.renderRounds(c, fiber.Map{}) }

func (s *Server) renderRounds(c *fiber.Ctx, d fiber.Map) error {
	region := c.Query("region", "33")
	rs, err := s.domains.Audits.Rounds(c.UserContext(), region)
	if err != nil {
		return err
	}
	d["Rounds"] = rs
	return s.render(c, "dashboard_rounds", page{Title: s.i18n.T(langOf(c), "audits.rounds.title"), Data: d})
}

func (s *Server) roundsSubmit(c *fiber.Ctx) error {
	region := c.FormValue("region_code")
	if err := s.allowedIn(c, "rounds.draw", "write", accounts.RegionDomain(region)); err != nil {
		return err
	}
	count, _ := strconv.Atoi(c.FormValue("count"))
	share, _ := strconv.ParseFloat(c.FormValue("share_percent"), 64)
	per, _ := strconv.Atoi(c.FormValue("per_inspection"))
	r, err := s.domains.Audits.CreateRound(c.UserContext(), principalOf(c).User.ID, audits.RoundInput{RegionCode: region, Name: c.FormValue("name"),
		Count: count, Share: share / 100, PerInspection: per, RiskWeighted: c.FormValue("risk_weighted") == "on"})
	d := fiber.Map{}
	if f, err := s.failedForm(c, err, "region_code", "name", "count", "share_percent", "per_inspection"); err != nil {
		return err
	} else if f != nil {
		d["Message"] = f.First()
	} else {
		d["Notice"] = s.i18n.T(langOf(c), "audits.rounds.drawn", len(r.Assignments), r.InputDigest[:12])
	}
	return s.renderRounds(c, d)
}
