package server

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"shanyu/accounts"
	"shanyu/exams"
	"shanyu/internal/failure"
)

func (s *Server) routesAdmin() {
	s.api(apiRoute{Method: "GET", Path: "/api/v1/admin/users", Scope: scopeHeld, Summary: "Search users", Tag: "admin", Perm: can("admin.users", "read"),
		Query: []string{"q", "role", "domain", "limit", "offset"}, Response: itemsOf[userJSON](paging)}, s.apiListUsers)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/admin/users", Scope: scopeHeld, Summary: "Create a user", Tag: "admin", Perm: can("admin.users", "write"),
		Request: object([]string{"username", "name", "password"}, map[string]any{"username": str, "name": str, "phone": str, "id_number": str, "password": str}), Response: schemaOf[userJSON](), Status: 201}, s.apiCreateUser)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/admin/users/:id", Scope: byPerson("id"), Summary: "One user with grants", Tag: "admin", Perm: can("admin.users", "read"), Response: schemaOf[userJSON]()}, s.apiGetUser)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/admin/users/:id/grants", Scope: byPerson("id"), Summary: "Grant a role in a domain", Tag: "admin", Perm: can("admin.users", "write"),
		Request: object([]string{"role", "domain"}, map[string]any{"role": str, "domain": str}), Response: statusOf, Status: 201}, s.apiAddGrant)
	s.api(apiRoute{Method: "DELETE", Path: "/api/v1/admin/grants/:id", Scope: byGrant("id"), Summary: "Revoke a grant", Tag: "admin", Perm: can("admin.users", "write"), Response: statusOf}, s.apiRemoveGrant)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/admin/users/:id/password-reset", Scope: byPerson("id"), Summary: "Set a temporary password", Tag: "admin", Perm: can("admin.users", "write"),
		Request: object([]string{"password"}, map[string]any{"password": str}), Response: statusOf}, s.apiResetPassword)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/admin/users/:id/disable", Scope: byPerson("id"), Summary: "Disable an account with a reason: ends its sessions and submits its running exam attempts", Tag: "admin", Perm: can("admin.users", "write"),
		Request: object([]string{"reason"}, map[string]any{"reason": str}), Response: statusOf}, s.apiSetDisabled(true))
	s.api(apiRoute{Method: "POST", Path: "/api/v1/admin/users/:id/enable", Scope: byPerson("id"), Summary: "Enable a disabled account, with a reason", Tag: "admin", Perm: can("admin.users", "write"),
		Request: object([]string{"reason"}, map[string]any{"reason": str}), Response: statusOf}, s.apiSetDisabled(false))
	s.api(apiRoute{Method: "GET", Path: "/api/v1/admin/organisations", Scope: scopeHeld, Summary: "Search organisations", Tag: "admin", Perm: can("admin.organisations", "read"),
		Query: []string{"q", "kind", "region", "limit", "offset"}, Response: itemsOf[orgJSON](paging)}, s.apiListOrganisations)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/admin/organisations", Scope: scopeHeld, Summary: "Create an organisation", Tag: "admin", Perm: can("admin.organisations", "write"),
		Request: object([]string{"kind", "code", "name", "region_code"}, map[string]any{"kind": str, "code": str, "name": str, "region_code": str, "address": str, "credit_code": str, "institution_type": str}), Response: schemaOf[orgJSON](), Status: 201}, s.apiCreateOrganisation)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/organisations/:code/staff", Scope: byOrg("code"), Summary: "Staff of an organisation (centre or institution admins), a page at a time", Tag: "admin", Perm: signedIn,
		Query: []string{"limit", "offset"}, Response: itemsOf[staffMember](map[string]any{"organisation": schemaOf[orgJSON](), "total": integer, "limit": integer, "offset": integer})}, s.apiListStaff)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/organisations/:code/staff", Scope: byOrg("code"), Summary: "Add a staff account to an organisation", Tag: "admin", Perm: signedIn,
		Request: object([]string{"username", "name", "password", "role"}, map[string]any{"username": str, "name": str, "phone": str, "password": str, "role": str}), Response: schemaOf[userJSON](), Status: 201}, s.apiAddStaff)

	s.page("GET", "/admin/users", can("admin.users", "read"), scopeHeld, s.usersPage)
	s.page("POST", "/admin/users", can("admin.users", "write"), scopeHeld, s.createUserSubmit)
	s.page("GET", "/admin/users/:id", can("admin.users", "read"), byPerson("id"), s.userPage)
	s.page("POST", "/admin/users/:id/grants", can("admin.users", "write"), byPerson("id"), s.addGrantSubmit)
	s.page("POST", "/admin/grants/:id/delete", can("admin.users", "write"), byGrant("id"), s.removeGrantSubmit)
	s.page("POST", "/admin/users/:id/password-reset", can("admin.users", "write"), byPerson("id"), s.resetPasswordSubmit)
	s.page("POST", "/admin/users/:id/disable", can("admin.users", "write"), byPerson("id"), s.setDisabledSubmit(true))
	s.page("POST", "/admin/users/:id/enable", can("admin.users", "write"), byPerson("id"), s.setDisabledSubmit(false))
	s.page("GET", "/admin/organisations", can("admin.organisations", "read"), scopeHeld, s.organisationsPage)
	s.page("POST", "/admin/organisations", can("admin.organisations", "write"), scopeHeld, s.createOrganisationSubmit)
	s.page("GET", "/org/:code/staff", signedIn, byOrg("code"), s.staffPage)
	s.page("POST", "/org/:code/staff", signedIn, byOrg("code"), s.addStaffSubmit)
	s.page("POST", "/org/:code/staff/:grant/delete", signedIn, byOrg("code"), s.removeStaffSubmit)
}

// targetDomains are the policy domains a grant target lies in: an organisation also lies in its region.
func (s *Server) targetDomains(ctx context.Context, domain string) ([]string, error) {
	if code, ok := strings.CutPrefix(domain, "org:"); ok {
		o, err := s.accounts.OrganisationByCode(ctx, code)
		if err != nil {
			return nil, failure.Field("domain", "accounts.domain_invalid")
		}
		return o.Domains(), nil
	}
	return []string{domain}, nil
}

func (s *Server) apiListUsers(c *fiber.Ctx) error {
	limit, offset := pageParams(c)
	within, err := s.usersWithin(c.UserContext(), principalOf(c), "admin.users", "read")
	if err != nil {
		return err
	}
	users, total, err := s.accounts.ListUsers(c.UserContext(), accounts.UserFilter{Query: c.Query("q"), Role: c.Query("role"), Domain: c.Query("domain"), Within: within, Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	items := make([]userJSON, len(users))
	for i, u := range users {
		items[i] = toUserJSON(u, nil)
	}
	return c.JSON(fiber.Map{"items": items, "total": total, "limit": limit, "offset": offset})
}

type createUserBody struct {
	Username string `json:"username" form:"username"`
	Name     string `json:"name" form:"name"`
	Phone    string `json:"phone" form:"phone"`
	IDNumber string `json:"id_number" form:"id_number"`
	Password string `json:"password" form:"password"`
	Role     string `json:"role" form:"role"`
}

func (b createUserBody) input() accounts.CreateUserInput {
	return accounts.CreateUserInput{Username: b.Username, Name: b.Name, Phone: b.Phone, IDNumber: b.IDNumber, Password: b.Password}
}

func (s *Server) apiCreateUser(c *fiber.Ctx) error {
	var b createUserBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	u, err := s.accounts.CreateUser(c.UserContext(), principalOf(c).User.ID, b.input())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toUserJSON(u, nil))
}

func (s *Server) loadUser(c *fiber.Ctx) (accounts.User, []accounts.Grant, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return accounts.User{}, nil, err
	}
	u, err := s.accounts.UserByID(c.UserContext(), id)
	if err != nil {
		return u, nil, err
	}
	g, err := s.accounts.GrantsOf(c.UserContext(), id)
	return u, g, err
}

func (s *Server) apiGetUser(c *fiber.Ctx) error {
	u, g, err := s.loadUser(c)
	if err != nil {
		return err
	}
	return c.JSON(toUserJSON(u, g))
}

type grantBody struct {
	Role   string `json:"role" form:"role"`
	Domain string `json:"domain" form:"domain"`
}

// addGrant checks that the actor administers the target domain (region prefixes apply), then grants.
func (s *Server) addGrant(c *fiber.Ctx, userID int64, b grantBody) error {
	domains, err := s.targetDomains(c.UserContext(), b.Domain)
	if err != nil {
		return err
	}
	if err := s.allowedIn(c, "admin.users", "write", domains...); err != nil {
		return err
	}
	return s.accounts.AddGrant(c.UserContext(), principalOf(c).User.ID, userID, b.Role, b.Domain)
}

func (s *Server) apiAddGrant(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b grantBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	if err := s.addGrant(c, id, b); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"status": "granted"})
}

func (s *Server) removeGrant(c *fiber.Ctx, grantID int64, obj string) error {
	g, err := s.accounts.GrantByID(c.UserContext(), grantID)
	if err != nil {
		return err
	}
	domains, err := s.targetDomains(c.UserContext(), g.Domain)
	if err != nil {
		return err
	}
	if err := s.allowedIn(c, obj, "write", domains...); err != nil {
		return err
	}
	return s.accounts.RemoveGrant(c.UserContext(), principalOf(c).User.ID, grantID)
}

func (s *Server) apiRemoveGrant(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.removeGrant(c, id, "admin.users"); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "revoked"})
}

func (s *Server) apiResetPassword(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		Password string `json:"password"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	if err := s.accounts.ResetPassword(c.UserContext(), principalOf(c).User.ID, id, b.Password); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "reset"})
}

// setDisabled disables or enables an account (the scope guard has checked the person is the
// caller's); disabling also submits the person's running exam attempts with the reason
// "account_disabled", in the same transaction, which the centre's live view and results show.
func (s *Server) setDisabled(c *fiber.Ctx, disabled bool, reason string) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	return s.accounts.SetDisabled(ctx, principalOf(c).User.ID, id, disabled, reason, func(tx pgx.Tx, personID int64) error {
		_, err := s.domains.Exams.SubmitPersonAttempts(ctx, tx, personID, exams.ByAccountDisabled)
		return err
	})
}

func (s *Server) apiSetDisabled(disabled bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var b struct {
			Reason string `json:"reason"`
		}
		if err := bindJSON(c, &b); err != nil {
			return err
		}
		if err := s.setDisabled(c, disabled, b.Reason); err != nil {
			return err
		}
		return c.JSON(fiber.Map{"status": map[bool]string{true: "disabled", false: "enabled"}[disabled]})
	}
}

func (s *Server) setDisabledSubmit(disabled bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.setDisabled(c, disabled, c.FormValue("reason")); err != nil {
			fp := formPage{Values: map[string]string{"reason": c.FormValue("reason")}}
			if err := s.formError(c, err, &fp); err != nil {
				return err
			}
			return s.renderUser(c, fp)
		}
		notice := map[bool]string{true: "disabled", false: "enabled"}[disabled]
		return c.Redirect("/admin/users/"+strings.Clone(c.Params("id"))+"?notice="+notice, fiber.StatusSeeOther)
	}
}

type orgJSON struct {
	ID              int64          `json:"id"`
	Kind            string         `json:"kind"`
	Code            string         `json:"code"`
	Name            string         `json:"name"`
	NameEN          string         `json:"name_en,omitempty"`
	RegionCode      string         `json:"region_code"`
	Address         string         `json:"address,omitempty"`
	CreditCode      string         `json:"credit_code,omitempty"`
	InstitutionType string         `json:"institution_type,omitempty"`
	LicensedPlaces  map[string]int `json:"licensed_places,omitempty"`
}

func toOrgJSON(o accounts.Organisation) orgJSON {
	return orgJSON{ID: o.ID, Kind: o.Kind, Code: o.Code, Name: o.Name, NameEN: o.NameEN, RegionCode: o.RegionCode, Address: o.Address,
		CreditCode: o.CreditCode, InstitutionType: o.InstitutionType, LicensedPlaces: o.LicensedPlaces}
}

func (s *Server) apiListOrganisations(c *fiber.Ctx) error {
	limit, offset := pageParams(c)
	region, err := s.orgListRegion(c, c.Query("region"))
	if err != nil {
		return err
	}
	orgs, total, err := s.accounts.ListOrganisations(c.UserContext(), accounts.OrgFilter{Kind: c.Query("kind"), Region: region, Query: c.Query("q"), Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	items := make([]orgJSON, len(orgs))
	for i, o := range orgs {
		items[i] = toOrgJSON(o)
	}
	return c.JSON(fiber.Map{"items": items, "total": total, "limit": limit, "offset": offset})
}

// orgListRegion keeps the organisation list inside the caller's region: a regional administrator
// lists its own region (or a region below it) only.
func (s *Server) orgListRegion(c *fiber.Ctx, asked string) (string, error) {
	within, err := s.heldWithin(c.UserContext(), principalOf(c), "admin.organisations", "read")
	if err != nil || within == nil {
		return asked, err
	}
	for _, r := range within.Regions {
		if asked == "" {
			return r, nil
		}
		if accounts.Contains(r, asked) {
			return asked, nil
		}
	}
	return "", failure.New(failure.Forbidden, "error.forbidden")
}

type orgBody struct {
	Kind            string         `json:"kind" form:"kind"`
	Code            string         `json:"code" form:"code"`
	Name            string         `json:"name" form:"name"`
	NameEN          string         `json:"name_en" form:"name_en"`
	RegionCode      string         `json:"region_code" form:"region_code"`
	Address         string         `json:"address" form:"address"`
	CreditCode      string         `json:"credit_code" form:"credit_code"`
	InstitutionType string         `json:"institution_type" form:"institution_type"`
	LicensedPlaces  map[string]int `json:"licensed_places" form:"-"`
}

func (s *Server) createOrganisation(c *fiber.Ctx, b orgBody) (accounts.Organisation, error) {
	if err := s.allowedIn(c, "admin.organisations", "write", accounts.RegionDomain(b.RegionCode)); err != nil {
		return accounts.Organisation{}, err
	}
	return s.accounts.CreateOrganisation(c.UserContext(), principalOf(c).User.ID, accounts.Organisation{
		Kind: b.Kind, Code: b.Code, Name: b.Name, NameEN: b.NameEN, RegionCode: b.RegionCode, Address: b.Address,
		CreditCode: b.CreditCode, InstitutionType: b.InstitutionType, LicensedPlaces: b.LicensedPlaces})
}

func (s *Server) apiCreateOrganisation(c *fiber.Ctx) error {
	var b orgBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	o, err := s.createOrganisation(c, b)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toOrgJSON(o))
}

// staffRoles are the roles an organisation's own administrators may hand out, by organisation kind.
var staffRoles = map[string][]string{
	accounts.KindTrainingCentre: {accounts.RoleTrainer, accounts.RoleExaminer, accounts.RoleCentreAdmin},
	accounts.KindInstitution:    {accounts.RoleInstitutionAdmin},
}

// staffScope loads the organisation of the path and checks that the caller administers its staff:
// its own centre or institution admin, or a regulator administrator of its region.
func (s *Server) staffScope(c *fiber.Ctx, act string) (accounts.Organisation, error) {
	o, err := s.accounts.OrganisationByCode(c.UserContext(), c.Params("code"))
	if err != nil {
		return o, err
	}
	domains := o.Domains()
	obj := "centre.staff"
	if o.Kind == accounts.KindInstitution {
		obj = "institution.staff"
	}
	if s.allowedIn(c, obj, act, domains...) == nil || s.allowedIn(c, "admin.users", act, domains...) == nil {
		return o, nil
	}
	return o, failure.New(failure.Forbidden, "error.forbidden")
}

// staffHolderInScope checks that an organisation's administrator may act on a staff member: every
// grant the member holds must lie where the caller administers staff (a trainer who is also a
// province administrator is not a centre admin's to remove).
func (s *Server) staffHolderInScope(c *fiber.Ctx, o accounts.Organisation, userID int64) error {
	obj := "centre.staff"
	if o.Kind == accounts.KindInstitution {
		obj = "institution.staff"
	}
	who := principalOf(c)
	if err := s.personInScope(c.UserContext(), who, obj, "write", userID); err == nil {
		return nil
	}
	return s.personInScope(c.UserContext(), who, "admin.users", "write", userID)
}

type staffMember struct {
	User  userJSON
	Grant grantJSON
}

// staffList is one page of an organisation's staff (grants held in its domain), newest account first.
type staffList struct {
	Items                []staffMember
	Total, Limit, Offset int
}

// staffOf reads one page of the organisation's staff in two queries whatever its length; the page
// says how many there are in all and links to the others instead of cutting the list short.
func (s *Server) staffOf(c *fiber.Ctx, o accounts.Organisation) (staffList, error) {
	limit, offset := pageParams(c)
	members, total, err := s.accounts.Staff(c.UserContext(), o.Domain(), limit, offset)
	if err != nil {
		return staffList{}, err
	}
	out := staffList{Items: make([]staffMember, len(members)), Total: total, Limit: limit, Offset: offset}
	for i, m := range members {
		out.Items[i] = staffMember{User: toUserJSON(m.User, nil), Grant: grantJSON{ID: m.Grant.ID, Role: m.Grant.Role, Domain: m.Grant.Domain}}
	}
	return out, nil
}

func (s *Server) apiListStaff(c *fiber.Ctx) error {
	o, err := s.staffScope(c, "read")
	if err != nil {
		return err
	}
	staff, err := s.staffOf(c, o)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"organisation": toOrgJSON(o), "items": staff.Items, "total": staff.Total, "limit": staff.Limit, "offset": staff.Offset})
}

// addStaff creates an account and grants it a role in the organisation, as one step for the admin.
func (s *Server) addStaff(c *fiber.Ctx, o accounts.Organisation, b createUserBody) (accounts.User, error) {
	if !containsString(staffRoles[o.Kind], b.Role) {
		return accounts.User{}, failure.Field("role", "accounts.role_invalid")
	}
	in := b.input()
	in.Role, in.Domain = b.Role, o.Domain()
	// One transaction: the account exists with its role or not at all.
	return s.accounts.CreateUser(c.UserContext(), principalOf(c).User.ID, in)
}

func containsString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (s *Server) apiAddStaff(c *fiber.Ctx) error {
	o, err := s.staffScope(c, "write")
	if err != nil {
		return err
	}
	var b createUserBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	u, err := s.addStaff(c, o, b)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toUserJSON(u, nil))
}

// Pages.

type listPage struct {
	formPage
	Query      url.Values
	Total      int
	Limit      int
	Offset     int
	PrevURL    string
	NextURL    string
	Items      any
	Roles      []string
	Kinds      []string
	InstTypes  []string
	Regions    []accounts.Region
	RegionTree []regionOption // the grant form's region tree (admin_grant_form.go)
	Orgs       []orgOption    // and its organisation search
	Org        orgJSON
	StaffRoles []string
}

// pager fills the previous/next links of a paginated list, keeping the other query parameters.
func pager(base string, q url.Values, total, limit, offset int) (prev, next string) {
	link := func(off int) string {
		v := url.Values{}
		for k, vals := range q {
			v[k] = vals
		}
		v.Set("offset", strconv.Itoa(off))
		v.Set("limit", strconv.Itoa(limit))
		return base + "?" + v.Encode()
	}
	if offset > 0 {
		prev = link(max(offset-limit, 0))
	}
	if offset+limit < total {
		next = link(offset + limit)
	}
	return prev, next
}

func queryValues(c *fiber.Ctx, keys ...string) url.Values {
	v := url.Values{}
	for _, k := range keys {
		if x := c.Query(k); x != "" {
			v.Set(k, x)
		}
	}
	return v
}

func (s *Server) usersPage(c *fiber.Ctx) error {
	return s.renderUsers(c, formPage{Notice: c.Query("notice")})
}

func (s *Server) renderUsers(c *fiber.Ctx, fp formPage) error {
	limit, offset := pageParams(c)
	q := queryValues(c, "q", "role")
	within, err := s.usersWithin(c.UserContext(), principalOf(c), "admin.users", "read")
	if err != nil {
		return err
	}
	users, total, err := s.accounts.ListUsers(c.UserContext(), accounts.UserFilter{Query: q.Get("q"), Role: q.Get("role"), Within: within, Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	grants, err := s.accounts.GrantsOfUsers(c.UserContext(), ids)
	if err != nil {
		return err
	}
	items := make([]userJSON, len(users))
	for i, u := range users {
		items[i] = toUserJSON(u, grants[u.ID])
	}
	if fp.Notice != "" {
		fp.Notice = s.i18n.T(langOf(c), "admin.notice."+fp.Notice)
	}
	lp := listPage{formPage: fp, Query: q, Total: total, Limit: limit, Offset: offset, Items: items, Roles: accounts.AllRoles}
	lp.PrevURL, lp.NextURL = pager("/admin/users", q, total, limit, offset)
	return s.render(c, "admin_users", page{Title: s.i18n.T(langOf(c), "admin.users.title"), Data: lp})
}

func (s *Server) createUserSubmit(c *fiber.Ctx) error {
	b := createUserBody{Username: c.FormValue("username"), Name: c.FormValue("name"), Phone: c.FormValue("phone"), IDNumber: c.FormValue("id_number"), Password: c.FormValue("password")}
	u, err := s.accounts.CreateUser(c.UserContext(), principalOf(c).User.ID, b.input())
	if err != nil {
		fp := formPage{Values: map[string]string{"username": b.Username, "name": b.Name, "phone": b.Phone, "id_number": b.IDNumber}}
		if err := s.formError(c, err, &fp); err != nil {
			return err
		}
		return s.renderUsers(c, fp)
	}
	return c.Redirect(fmt.Sprintf("/admin/users/%d?notice=user_created", u.ID), fiber.StatusSeeOther)
}

func (s *Server) userPage(c *fiber.Ctx) error {
	return s.renderUser(c, formPage{Notice: c.Query("notice")})
}

func (s *Server) renderUser(c *fiber.Ctx, fp formPage) error {
	u, g, err := s.loadUser(c)
	if err != nil {
		return err
	}
	if fp.Notice != "" {
		fp.Notice = s.i18n.T(langOf(c), "admin.notice."+fp.Notice)
	}
	tree, orgs, err := s.grantChoices(c, langOf(c))
	if err != nil {
		return err
	}
	return s.render(c, "admin_user", page{Title: u.Name, Data: listPage{formPage: fp, Items: toUserJSON(u, g), Roles: accounts.AllRoles, RegionTree: tree, Orgs: orgs}})
}

func (s *Server) addGrantSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	b := grantBody{Role: c.FormValue("role"), Domain: s.grantDomain(c)}
	if err := s.addGrant(c, id, b); err != nil {
		fp := formPage{Values: map[string]string{"role": b.Role, "domain": b.Domain, "where": c.FormValue("where"), "org": c.FormValue("org"), "region": c.FormValue("region")}}
		if err := s.formError(c, err, &fp); err != nil {
			return err
		}
		return s.renderUser(c, fp)
	}
	return c.Redirect(fmt.Sprintf("/admin/users/%d?notice=granted", id), fiber.StatusSeeOther)
}

func (s *Server) removeGrantSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	g, err := s.accounts.GrantByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	if err := s.removeGrant(c, id, "admin.users"); err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/admin/users/%d?notice=revoked", g.UserID), fiber.StatusSeeOther)
}

func (s *Server) resetPasswordSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.accounts.ResetPassword(c.UserContext(), principalOf(c).User.ID, id, c.FormValue("password")); err != nil {
		var fp formPage
		if err := s.formError(c, err, &fp); err != nil {
			return err
		}
		return s.renderUser(c, fp)
	}
	return c.Redirect(fmt.Sprintf("/admin/users/%d?notice=password_reset", id), fiber.StatusSeeOther)
}

func (s *Server) organisationsPage(c *fiber.Ctx) error {
	return s.renderOrganisations(c, formPage{Notice: c.Query("notice")})
}

func (s *Server) renderOrganisations(c *fiber.Ctx, fp formPage) error {
	limit, offset := pageParams(c)
	q := queryValues(c, "q", "kind", "region")
	region, err := s.orgListRegion(c, q.Get("region"))
	if err != nil {
		return err
	}
	orgs, total, err := s.accounts.ListOrganisations(c.UserContext(), accounts.OrgFilter{Query: q.Get("q"), Kind: q.Get("kind"), Region: region, Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	regions, err := accounts.Regions(c.UserContext(), s.pool)
	if err != nil {
		return err
	}
	items := make([]orgJSON, len(orgs))
	for i, o := range orgs {
		items[i] = toOrgJSON(o)
	}
	if fp.Notice != "" {
		fp.Notice = s.i18n.T(langOf(c), "admin.notice."+fp.Notice)
	}
	lp := listPage{formPage: fp, Query: q, Total: total, Limit: limit, Offset: offset, Items: items, Regions: regions,
		Kinds: []string{accounts.KindTrainingCentre, accounts.KindInstitution, accounts.KindCommission}, InstTypes: accounts.InstitutionTypes}
	lp.PrevURL, lp.NextURL = pager("/admin/organisations", q, total, limit, offset)
	return s.render(c, "admin_organisations", page{Title: s.i18n.T(langOf(c), "admin.orgs.title"), Data: lp})
}

func (s *Server) createOrganisationSubmit(c *fiber.Ctx) error {
	b := orgBody{Kind: c.FormValue("kind"), Code: c.FormValue("code"), Name: c.FormValue("name"), NameEN: c.FormValue("name_en"),
		RegionCode: c.FormValue("region_code"), Address: c.FormValue("address"), CreditCode: c.FormValue("credit_code"), InstitutionType: c.FormValue("institution_type")}
	if _, err := s.createOrganisation(c, b); err != nil {
		fp := formPage{Values: map[string]string{"kind": b.Kind, "code": b.Code, "name": b.Name, "name_en": b.NameEN, "region_code": b.RegionCode,
			"address": b.Address, "credit_code": b.CreditCode, "institution_type": b.InstitutionType}}
		if err := s.formError(c, err, &fp); err != nil {
			return err
		}
		return s.renderOrganisations(c, fp)
	}
	return c.Redirect("/admin/organisations?notice=org_created", fiber.StatusSeeOther)
}

func (s *Server) staffPage(c *fiber.Ctx) error {
	return s.renderStaff(c, formPage{Notice: c.Query("notice")})
}

func (s *Server) renderStaff(c *fiber.Ctx, fp formPage) error {
	o, err := s.staffScope(c, "read")
	if err != nil {
		return err
	}
	staff, err := s.staffOf(c, o)
	if err != nil {
		return err
	}
	if fp.Notice != "" {
		fp.Notice = s.i18n.T(langOf(c), "admin.notice."+fp.Notice)
	}
	lp := listPage{formPage: fp, Org: toOrgJSON(o), Items: staff.Items, Total: staff.Total, Limit: staff.Limit, Offset: staff.Offset, StaffRoles: staffRoles[o.Kind]}
	lp.PrevURL, lp.NextURL = pager("/org/"+o.Code+"/staff", url.Values{}, staff.Total, staff.Limit, staff.Offset)
	return s.render(c, "org_staff", page{Title: o.Name, Data: lp})
}

func (s *Server) addStaffSubmit(c *fiber.Ctx) error {
	o, err := s.staffScope(c, "write")
	if err != nil {
		return err
	}
	b := createUserBody{Username: c.FormValue("username"), Name: c.FormValue("name"), Phone: c.FormValue("phone"), Password: c.FormValue("password"), Role: c.FormValue("role")}
	if _, err := s.addStaff(c, o, b); err != nil {
		fp := formPage{Values: map[string]string{"username": b.Username, "name": b.Name, "phone": b.Phone, "role": b.Role}}
		if err := s.formError(c, err, &fp); err != nil {
			return err
		}
		return s.renderStaff(c, fp)
	}
	return c.Redirect("/org/"+o.Code+"/staff?notice=staff_added", fiber.StatusSeeOther)
}

func (s *Server) removeStaffSubmit(c *fiber.Ctx) error {
	o, err := s.staffScope(c, "write")
	if err != nil {
		return err
	}
	id, err := idParam(c, "grant")
	if err != nil {
		return err
	}
	g, err := s.accounts.GrantByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	if g.Domain != o.Domain() {
		return failure.New(failure.Forbidden, "error.forbidden")
	}
	if err := s.staffHolderInScope(c, o, g.UserID); err != nil {
		return err
	}
	if err := s.accounts.RemoveGrant(c.UserContext(), principalOf(c).User.ID, id); err != nil {
		return err
	}
	return c.Redirect("/org/"+o.Code+"/staff?notice=staff_removed", fiber.StatusSeeOther)
}
