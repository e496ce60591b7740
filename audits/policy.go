package audits

import (
	_ "embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	stringadapter "github.com/casbin/casbin/v2/persist/string-adapter"
	"github.com/casbin/casbin/v2/util"

	"shanyu/internal/clock"
)

//go:embed data/qualification_model.conf
var qualificationModel string

//go:embed data/qualification_policy.csv
var qualificationPolicy string

// Certificate statuses as the certificates domain reports them.
const (
	CertValid     = "valid"
	CertExpired   = "expired"
	CertSuspended = "suspended"
	CertRevoked   = "revoked"
)

// Cert is one of a person's certificates, as the audit sees it (from the certificates domain, or
// recorded from elsewhere with evidence).
type Cert struct {
	Number     string
	Occupation string // e.g. 4-10-01-03, director-training
	Level      int    // 1 (highest) … 5; 5 for certificates without levels
	Status     string
	ExpiresOn  time.Time // zero: does not expire
	Verified   bool      // issued on this platform (false: recorded from elsewhere, never verified here)
	// Why and when a platform certificate was suspended or revoked (from the certificates domain).
	StatusReason    string    `json:",omitempty"`
	StatusChangedAt time.Time `json:",omitempty"`
}

// Valid reports whether the certificate may be relied on on day on.
func (c Cert) Valid(on time.Time) bool { return usable(c, on) }

// StateOn is the certificate's status on day on: its suspension or revocation, else expired once its
// date has passed, else valid.
func (c Cert) StateOn(on time.Time) string {
	if c.Status != CertValid && c.Status != "" {
		return c.Status
	}
	if !c.ExpiresOn.IsZero() && c.ExpiresOn.Before(day(on)) {
		return CertExpired
	}
	return CertValid
}

// PersonFacts is everything the policy looks at for one person on one day.
type PersonFacts struct {
	Certificates           []Cert
	HealthValidUntil       time.Time // zero: no health certificate
	NoCriminalRecordIssued time.Time // zero: none on file
	Barred                 bool      // 从业禁止 in force
	On                     time.Time // the day of the check
	Checks                 []Check   // background checks, newest first per kind (checks.go)
	// Region is the code of the institution's region: a regional rule applies in its region and below.
	// Empty: the rules for everywhere only.
	Region string
}

// Gap says why a requirement group of a post is not met.
type Gap struct {
	Group  string // e.g. qualification, health, background, or "*" for a bar
	Reason string // absent, expired, suspended, revoked, level_too_low, barred
	Detail string // the certificate number or the token that would have satisfied it
}

// Decision is the explained outcome for one person in one post.
type Decision struct {
	Post      string
	Qualified bool
	Matched   []string // the rule that met each group, as policy lines (for regulators)
	Gaps      []Gap
	Needs     []Need `json:",omitempty"` // every requirement group of the post, in words' terms
}

// Need is one requirement group of a post: the tokens that satisfy it and the one that did.
type Need struct {
	Group    string
	Accepted []string // e.g. qual:4-10-01-03:4, doc:health
	MetBy    string   // the token that met it; empty when unmet
}

// Policy is the qualification policy: the default file plus regional rules.
type Policy struct {
	e     *casbin.SyncedEnforcer
	rules [][]string // allow rules: token, region domain, post, group
	// memo keeps, per post and set of held tokens, which rules matched and which groups stayed unmet:
	// that part of a decision depends on nothing else, and a province has few distinct combinations.
	memo sync.Map // string → outcome
}

type outcome struct {
	matched []string
	unmet   []string
	met     map[string]string // group → the token that met it
	barred  bool
}

// NewPolicy builds the policy from the default file and extra lines (regional rules, each
// "p, token, region:<code>*|region:*, post, group, allow|deny" or "g, higher, lower").
func NewPolicy(extra []string) (*Policy, error) {
	m, err := model.NewModelFromString(qualificationModel)
	if err != nil {
		return nil, fmt.Errorf("qualification model: %w", err)
	}
	var lines []string
	defaults := strings.Split(qualificationPolicy, "\n")
	for i, l := range append(defaults, extra...) {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		// A regional line without a region (as stored before rules had one) applies everywhere.
		if parts := strings.Split(l, ","); i >= len(defaults) && len(parts) == 5 && strings.TrimSpace(parts[0]) == "p" {
			l = strings.Join(append(parts[:2], append([]string{" " + RuleDomain("")}, parts[2:]...)...), ",")
		}
		lines = append(lines, l)
	}
	e, err := casbin.NewSyncedEnforcer(m, stringadapter.NewAdapter(strings.Join(lines, "\n")))
	if err != nil {
		return nil, fmt.Errorf("qualification policy: %w", err)
	}
	p := &Policy{e: e}
	rules, err := e.GetPolicy()
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		if len(r) == 5 && r[4] == "allow" {
			p.rules = append(p.rules, r[:4])
		}
	}
	return p, nil
}

// Posts lists the posts the policy knows (those named by allow rules, wildcards aside).
func (p *Policy) Posts() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range p.rules {
		if post, ok := strings.CutPrefix(r[2], "post:"); ok && !strings.Contains(post, "*") && !seen[post] {
			seen[post] = true
			out = append(out, post)
		}
	}
	sort.Strings(out)
	return out
}

// requestDomain is the casbin domain a decision in an institution of that region is asked in.
func requestDomain(region string) string { return "region:" + region }

// RuleDomain is the domain of a rule for a region and every region below it; "" is everywhere.
func RuleDomain(region string) string { return "region:" + region + "*" }

// RuleRegion is the region code of a rule domain ("" for everywhere).
func RuleRegion(domain string) string {
	return strings.TrimSuffix(strings.TrimPrefix(domain, "region:"), "*")
}

// knownSomewhere reports whether a rule of any region names the post (a post that may be assigned).
func (p *Policy) knownSomewhere(post string) bool {
	for _, r := range p.rules {
		if r[2] == "post:"+post {
			return true
		}
	}
	return false
}

// inRegion reports whether a rule of that domain applies in the region.
func inRegion(domain, region string) bool { return util.KeyMatch(requestDomain(region), domain) }

// known reports whether a rule in force in the region names the post itself (wildcard rules add to
// posts, they make none).
func (p *Policy) known(post, region string) bool {
	for _, r := range p.rules {
		if r[2] == "post:"+post && inRegion(r[1], region) {
			return true
		}
	}
	return false
}

// groups returns a post's requirement groups in the region and, per group, the tokens that satisfy it.
func (p *Policy) groups(post, region string) (names []string, tokens map[string][]string) {
	tokens = map[string][]string{}
	for _, r := range p.rules {
		if util.KeyMatch("post:"+post, r[2]) && inRegion(r[1], region) {
			if _, ok := tokens[r[3]]; !ok {
				names = append(names, r[3])
			}
			tokens[r[3]] = append(tokens[r[3]], r[0])
		}
	}
	return names, tokens
}

// Tokens turns a person's facts into the qualification tokens the policy matches on.
func Tokens(f PersonFacts) []string {
	var out []string
	for _, c := range f.Certificates {
		if usable(c, f.On) {
			out = append(out, fmt.Sprintf("qual:%s:%d", c.Occupation, c.Level))
		}
	}
	if !f.HealthValidUntil.IsZero() && !f.HealthValidUntil.Before(day(f.On)) {
		out = append(out, "doc:health")
	}
	if !f.NoCriminalRecordIssued.IsZero() {
		out = append(out, "doc:no-criminal-record")
	}
	// A background check counts while its latest result is clear and it is at most a year old; a post
	// may require one through the policy (p, check:employment_ban, post:caregiver, background_check, allow).
	for k, c := range latestChecks(f.Checks) {
		if c.Result == "clear" && c.Current(f.On) {
			out = append(out, "check:"+k)
		}
	}
	return out
}

func usable(c Cert, on time.Time) bool {
	return c.Status == CertValid && (c.ExpiresOn.IsZero() || !c.ExpiresOn.Before(day(on)))
}

// day is the civil date of a check: see clock.Day.
func day(t time.Time) time.Time { return clock.Day(t) }

// Decide says whether a person with these facts may hold the post in an institution of the facts'
// region, which rule allowed each requirement, or what is missing.
func (p *Policy) Decide(post string, f PersonFacts) (Decision, error) {
	d := Decision{Post: post}
	if !p.known(post, f.Region) && !f.Barred {
		d.Gaps = append(d.Gaps, Gap{Group: "*", Reason: "unknown_post"})
		return d, nil
	}
	held := Tokens(f)
	sort.Strings(held)
	key := post + "\x00" + f.Region + "\x00" + strconv.FormatBool(f.Barred) + "\x00" + strings.Join(held, "\x00")
	o, ok := p.memo.Load(key)
	if !ok {
		var err error
		if o, err = p.evaluate(post, f.Region, held, f.Barred); err != nil {
			return d, err
		}
		p.memo.Store(key, o)
	}
	out := o.(outcome)
	d.Matched = out.matched
	if out.barred {
		d.Gaps = append(d.Gaps, Gap{Group: "*", Reason: "barred"})
		return d, nil
	}
	if !p.known(post, f.Region) {
		d.Gaps = append(d.Gaps, Gap{Group: "*", Reason: "unknown_post"})
		return d, nil
	}
	names, groupTokens := p.groups(post, f.Region)
	for _, g := range names {
		d.Needs = append(d.Needs, Need{Group: g, Accepted: groupTokens[g], MetBy: out.met[g]})
	}
	for _, g := range out.unmet {
		d.Gaps = append(d.Gaps, p.why(g, groupTokens[g], f))
	}
	d.Qualified = len(d.Gaps) == 0
	return d, nil
}

// evaluate runs the enforcer for one post, region and set of held tokens.
func (p *Policy) evaluate(post, region string, held []string, barred bool) (outcome, error) {
	o := outcome{met: map[string]string{}}
	dom := requestDomain(region)
	if barred {
		ok, explain, err := p.e.EnforceEx("status:barred", dom, "post:"+post, "*")
		if err != nil {
			return o, err
		}
		if !ok && len(explain) > 0 {
			o.matched = []string{"p, " + strings.Join(explain, ", ")}
			o.barred = true
			return o, nil
		}
	}
	names, _ := p.groups(post, region)
	for _, g := range names {
		met := false
		for _, tok := range held {
			ok, explain, err := p.e.EnforceEx(tok, dom, "post:"+post, g)
			if err != nil {
				return o, err
			}
			if ok {
				o.matched = append(o.matched, "p, "+strings.Join(explain, ", "))
				o.met[g] = tok
				met = true
				break
			}
		}
		if !met {
			o.unmet = append(o.unmet, g)
		}
	}
	return o, nil
}

// EnforceRaw runs the enforcer once for an institution of the region, without the memo (for
// measurements).
func (p *Policy) EnforceRaw(token, region, post, group string) (bool, error) {
	return p.e.Enforce(token, requestDomain(region), "post:"+post, group)
}

// why explains an unmet group from the person's certificates and documents.
func (p *Policy) why(group string, accepted []string, f PersonFacts) Gap {
	gap := Gap{Group: group, Reason: "absent", Detail: strings.Join(accepted, " | ")}
	for _, tok := range accepted {
		switch {
		case tok == "doc:health" && !f.HealthValidUntil.IsZero():
			return Gap{Group: group, Reason: "expired", Detail: "doc:health until " + f.HealthValidUntil.Format("2006-01-02")}
		case strings.HasPrefix(tok, "check:"):
			// A required background check: older than a year, or its latest result found a record.
			if c, ok := latestChecks(f.Checks)[strings.TrimPrefix(tok, "check:")]; ok {
				reason := "outdated"
				if c.Result == "record_found" {
					reason = "record_found"
				}
				return Gap{Group: group, Reason: reason, Detail: c.CheckedOn.Format("2006-01-02")}
			}
		case strings.HasPrefix(tok, "qual:"):
			parts := strings.Split(tok, ":")
			if len(parts) != 3 {
				continue
			}
			need, _ := strconv.Atoi(parts[2])
			for _, c := range f.Certificates {
				if c.Occupation != parts[1] {
					continue
				}
				reason := ""
				switch {
				case c.Status == CertRevoked || c.Status == CertSuspended:
					reason = c.Status
				case c.Status == CertExpired || !usable(c, f.On):
					reason = CertExpired
				case c.Level > need:
					reason = "level_too_low"
				}
				// The most telling reason wins: a held certificate beats "absent".
				if reason != "" && (gap.Reason == "absent" || rank(reason) > rank(gap.Reason)) {
					gap = Gap{Group: group, Reason: reason, Detail: c.Number}
				}
			}
		}
	}
	return gap
}

func rank(reason string) int {
	return map[string]int{"absent": 0, "level_too_low": 1, CertExpired: 2, CertSuspended: 3, CertRevoked: 4}[reason]
}
