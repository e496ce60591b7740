package server

import (
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
func (s *Server) ruleWords(lang, line string) string {
	parts := strings.Split(line, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	if len(parts) != 5 || parts[0] != "p" {
		return line
	}
	post := strings.TrimPrefix(parts[2], "post:")
	postName := s.i18n.T(lang, "audits.post."+post)
	if post == "*" {
		postName = s.i18n.T(lang, "audits.group.*")
	}
	what := explainWords(s.i18n, lang).Sentence(postName, audits.Decision{Post: post, Needs: []audits.Need{{Group: parts[3], Accepted: []string{parts[1]}}}}, nil)
	return what + " · " + s.i18n.T(lang, "audits.rules.effect."+parts[4])
}

func (s *Server) renderRules(c *fiber.Ctx, d fiber.Map) error {
	rs, err := s.domains.Audits.Rules(c.UserContext())
	if err != nil {
		return err
	}
	lang := langOf(c)
	rows := make([]ruleRow, 0, len(rs))
	for _, r := range rs {
		rows = append(rows, ruleRow{Rule: r, Words: s.ruleWords(lang, r.Line)})
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
	if line, _ := d["Line"].(string); line != "" {
		d["Words"] = s.ruleWords(lang, line)
	}
	return s.render(c, "dashboard_rules", page{Title: s.i18n.T(lang, "audits.rules.title"), Data: d})
}

// ruleFromForm builds a policy line from the rule form: a post, a requirement (a certificate of an
// occupation at a minimum level, or a document kind) and allow or deny; a typed line (the advanced
// field) wins.
func ruleFromForm(c *fiber.Ctx) string {
	if line := strings.TrimSpace(c.FormValue("line")); line != "" {
		return line
	}
	post, effect := c.FormValue("post"), c.FormValue("effect")
	if post == "" {
		return ""
	}
	if effect != "deny" {
		effect = "allow"
	}
	switch c.FormValue("requirement") {
	case "health":
		return "p, doc:health, post:" + post + ", health, " + effect
	case "background":
		return "p, doc:no-criminal-record, post:" + post + ", background, " + effect
	default:
		return "p, qual:" + c.FormValue("occupation") + ":" + c.FormValue("level") + ", post:" + post + ", qualification, " + effect
	}
}

func (s *Server) rulesSubmit(c *fiber.Ctx) error {
	ctx := c.UserContext()
	line, note := ruleFromForm(c), c.FormValue("note")
	if prev := c.FormValue("previewed_line"); c.FormValue("action") == "add" && prev != "" {
		line = prev // what the preview showed is what is saved
	}
	d := fiber.Map{"Line": line, "Note": note, "Form": map[string]string{"post": c.FormValue("post"), "requirement": c.FormValue("requirement"),
		"occupation": c.FormValue("occupation"), "level": c.FormValue("level"), "effect": c.FormValue("effect")}}
	var err error
	switch c.FormValue("action") {
	case "remove":
		id, _ := strconv.ParseInt(c.FormValue("id"), 10, 64)
		err = s.domains.Audits.RemoveRule(ctx, principalOf(c).User.ID, id)
	case "add":
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
	if e := failure.As(err); e != nil && e.Kind != failure.Internal {
		d["Message"] = s.i18n.T(langOf(c), e.Msg.Key)
	} else if err != nil {
		return err
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
	if e := failure.As(err); e != nil && e.Kind != failure.Internal {
		d["Message"] = s.i18n.T(langOf(c), e.Msg.Key)
		for _, m := range e.Fields {
			d["Message"] = s.i18n.T(langOf(c), m.Key)
		}
	} else if err != nil {
		return err
	} else {
		d["Notice"] = s.i18n.T(langOf(c), "audits.rounds.drawn", len(r.Assignments), r.InputDigest[:12])
	}
	return s.renderRounds(c, d)
}
