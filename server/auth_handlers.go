package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
)

type grantJSON struct {
	ID     int64  `json:"id"`
	Role   string `json:"role"`
	Domain string `json:"domain"`
}

type userJSON struct {
	ID                 int64       `json:"id"`
	Username           string      `json:"username"`
	Name               string      `json:"name"`
	Phone              string      `json:"phone,omitempty"`
	IDNumberMasked     string      `json:"id_number_masked,omitempty"`
	Language           string      `json:"language"`
	Disabled           bool        `json:"disabled"`
	MustChangePassword bool        `json:"must_change_password"`
	Roles              []string    `json:"roles,omitempty"`
	Grants             []grantJSON `json:"grants,omitempty"`
	CreatedAt          time.Time   `json:"created_at"`
}

func toUserJSON(u accounts.User, grants []accounts.Grant) userJSON {
	j := userJSON{ID: u.ID, Username: u.Username, Name: u.Name, Phone: u.Phone, IDNumberMasked: u.MaskedID(),
		Language: u.Language, Disabled: u.Disabled, MustChangePassword: u.MustChangePassword, CreatedAt: u.CreatedAt}
	seen := map[string]bool{}
	for _, g := range grants {
		j.Grants = append(j.Grants, grantJSON{ID: g.ID, Role: g.Role, Domain: g.Domain})
		if !seen[g.Role] {
			seen[g.Role] = true
			j.Roles = append(j.Roles, g.Role)
		}
	}
	return j
}

func (s *Server) routesAuth() {
	s.api(apiRoute{Method: "POST", Path: "/api/v1/auth/signup", Scope: scopePublic, Summary: "Create a caregiver account", Tag: "auth",
		Request:  object([]string{"name", "phone", "id_number", "password"}, map[string]any{"name": str, "phone": str, "id_number": str, "password": str}),
		Response: schemaOf[userJSON](), Status: 201}, s.apiSignup)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/auth/login", Scope: scopePublic, Summary: "Sign in; sets the session cookie and returns the CSRF token", Tag: "auth",
		Request:  object([]string{"username", "password"}, map[string]any{"username": str, "password": str}),
		Response: props(map[string]any{"csrf_token": str, "user": schemaOf[userJSON](), "expires_at": dateTime})}, s.apiLogin)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/auth/logout", Scope: scopeOwn, Summary: "Sign out of this session", Tag: "auth", Perm: signedIn, Response: statusOf}, s.apiLogout)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/me", Scope: scopeOwn, Summary: "The signed-in user, with roles", Tag: "auth", Perm: signedIn, Response: schemaOf[userJSON]()}, s.apiMe)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/me/sessions", Scope: scopeOwn, Summary: "My active sessions", Tag: "auth", Perm: signedIn, Response: itemsOf[sessionJSON](nil)}, s.apiSessions)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/me/sessions/revoke-others", Scope: scopeOwn, Summary: "Sign out everywhere else", Tag: "auth", Perm: signedIn, Response: props(map[string]any{"revoked": integer})}, s.apiRevokeOthers)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/me/password", Scope: scopeOwn, Summary: "Change my password", Tag: "auth", Perm: signedIn,
		Request: object([]string{"current_password", "new_password"}, map[string]any{"current_password": str, "new_password": str}), Response: statusOf}, s.apiChangePassword)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/me/id-number", Scope: scopeOwn, Summary: "Enter my own ID number (a claim until a centre checks the card)", Tag: "auth", Perm: signedIn,
		Request: object([]string{"id_number"}, map[string]any{"id_number": str}), Response: schemaOf[accounts.Identity]()}, s.apiClaimIDNumber)

	s.page("GET", "/login", public, scopePublic, s.loginPage)
	s.page("POST", "/login", public, scopePublic, s.loginSubmit)
	s.page("GET", "/signup", public, scopePublic, s.signupPage)
	s.page("POST", "/signup", public, scopePublic, s.signupSubmit)
	s.page("POST", "/logout", signedIn, scopeOwn, s.logoutSubmit)
	s.page("GET", "/account", signedIn, scopeOwn, s.accountPage)
	s.page("POST", "/account/password", signedIn, scopeOwn, s.passwordSubmit)
	s.page("POST", "/account/sessions/revoke-others", signedIn, scopeOwn, s.revokeOthersSubmit)
	s.page("POST", "/account/id-number", signedIn, scopeOwn, s.claimIDNumberSubmit)
}

type signupBody struct {
	Name     string `json:"name" form:"name"`
	Phone    string `json:"phone" form:"phone"`
	IDNumber string `json:"id_number" form:"id_number"`
	Password string `json:"password" form:"password"`
}

func (s *Server) apiSignup(c *fiber.Ctx) error {
	var b signupBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	u, err := s.accounts.Signup(c.UserContext(), accounts.SignupInput{Name: b.Name, Phone: b.Phone, IDNumber: b.IDNumber, Password: b.Password, Language: langOf(c), IP: s.clientIP(c)})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toUserJSON(u, []accounts.Grant{{Role: accounts.RoleCaregiver, Domain: accounts.DomainAll}}))
}

type loginBody struct {
	Username string `json:"username" form:"username"`
	Password string `json:"password" form:"password"`
}

func (s *Server) login(c *fiber.Ctx, b loginBody) (accounts.Session, accounts.User, error) {
	sess, u, err := s.accounts.Login(c.UserContext(), accounts.LoginInput{Username: b.Username, Password: b.Password, IP: s.clientIP(c), UserAgent: c.Get(fiber.HeaderUserAgent)})
	if err != nil {
		return sess, u, err
	}
	s.setSessionCookie(c, sess)
	return sess, u, nil
}

func (s *Server) apiLogin(c *fiber.Ctx) error {
	var b loginBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	sess, u, err := s.login(c, b)
	if err != nil {
		return err
	}
	grants, err := s.accounts.GrantsOf(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"csrf_token": sess.CSRFToken, "user": toUserJSON(u, grants), "expires_at": sess.ExpiresAt})
}

func (s *Server) apiLogout(c *fiber.Ctx) error {
	p := principalOf(c)
	if err := s.accounts.Logout(c.UserContext(), p.Session.ID, p.User.ID, s.clientIP(c)); err != nil {
		return err
	}
	s.clearSessionCookie(c)
	return c.JSON(fiber.Map{"status": "signed_out"})
}

func (s *Server) apiMe(c *fiber.Ctx) error {
	p := principalOf(c)
	return c.JSON(toUserJSON(p.User, p.Grants))
}

type sessionJSON struct {
	ID         int64     `json:"id"`
	Current    bool      `json:"current"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
}

func (s *Server) mySessions(c *fiber.Ctx) ([]sessionJSON, error) {
	p := principalOf(c)
	list, err := s.accounts.Sessions(c.UserContext(), p.User.ID)
	if err != nil {
		return nil, err
	}
	out := make([]sessionJSON, len(list))
	for i, x := range list {
		out[i] = sessionJSON{ID: x.ID, Current: x.ID == p.Session.ID, CreatedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt, IP: x.IP, UserAgent: x.UserAgent}
	}
	return out, nil
}

func (s *Server) apiSessions(c *fiber.Ctx) error {
	list, err := s.mySessions(c)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": list})
}

func (s *Server) apiRevokeOthers(c *fiber.Ctx) error {
	p := principalOf(c)
	n, err := s.accounts.RevokeOtherSessions(c.UserContext(), p.User.ID, p.Session.ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"revoked": n})
}

type passwordBody struct {
	Current string `json:"current_password" form:"current_password"`
	New     string `json:"new_password" form:"new_password"`
}

func (s *Server) apiChangePassword(c *fiber.Ctx) error {
	var b passwordBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	p := principalOf(c)
	if err := s.accounts.ChangePassword(c.UserContext(), p.User.ID, p.Session.ID, b.Current, b.New); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "changed"})
}

// Pages.

// formPage is the data of a page with a form: values typed so far and per-field messages.
type formPage struct {
	Values  map[string]string
	Errors  map[string]string
	Message string
	Notice  string
	Next    string
	Extra   any
}

// formError puts a failed submission into the form page that shows it again (failedForm, errors.go):
// a message beside each field, the error's own message at the top; other errors pass.
func (s *Server) formError(c *fiber.Ctx, err error, fp *formPage) error {
	f, err := s.failedForm(c, err)
	if f == nil {
		return err
	}
	fp.Errors, fp.Message = f.ByField(), f.Message
	return nil
}

func (s *Server) loginPage(c *fiber.Ctx) error {
	if principalOf(c) != nil {
		return c.Redirect(homeTarget(localPath(c.Query("next", "/home"))), fiber.StatusSeeOther)
	}
	return s.render(c, "login", page{Title: s.i18n.T(langOf(c), "auth.login.title"), Data: formPage{Next: localPath(c.Query("next", "/"))}})
}

func (s *Server) loginSubmit(c *fiber.Ctx) error {
	b := loginBody{Username: c.FormValue("username"), Password: c.FormValue("password")}
	fp := formPage{Values: map[string]string{"username": b.Username}, Next: localPath(c.FormValue("next"))}
	_, u, err := s.login(c, b)
	if err != nil {
		if err := s.formError(c, err, &fp); err != nil {
			return err
		}
		return s.render(c, "login", page{Title: s.i18n.T(langOf(c), "auth.login.title"), Data: fp})
	}
	s.rememberLanguage(c, u.Language)
	next := homeTarget(fp.Next)
	if u.MustChangePassword {
		next = "/account#password"
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

// rememberLanguage applies a user's stored language to the browser when it has not chosen one.
func (s *Server) rememberLanguage(c *fiber.Ctx, lang string) {
	if c.Cookies(langCookie) == "" && normaliseLang(lang) != "" {
		setLangCookie(c, normaliseLang(lang))
	}
}

func (s *Server) signupPage(c *fiber.Ctx) error {
	if principalOf(c) != nil {
		return c.Redirect("/home", fiber.StatusSeeOther)
	}
	return s.render(c, "signup", page{Title: s.i18n.T(langOf(c), "auth.signup.title"), Data: formPage{}})
}

func (s *Server) signupSubmit(c *fiber.Ctx) error {
	b := signupBody{Name: c.FormValue("name"), Phone: c.FormValue("phone"), IDNumber: c.FormValue("id_number"), Password: c.FormValue("password")}
	fp := formPage{Values: map[string]string{"name": b.Name, "phone": b.Phone, "id_number": b.IDNumber}}
	if b.Password != c.FormValue("password_confirm") {
		fp.Errors = map[string]string{"password_confirm": s.i18n.T(langOf(c), "accounts.password_mismatch")}
		c.Status(fiber.StatusUnprocessableEntity)
		return s.render(c, "signup", page{Title: s.i18n.T(langOf(c), "auth.signup.title"), Data: fp})
	}
	_, err := s.accounts.Signup(c.UserContext(), accounts.SignupInput{Name: b.Name, Phone: b.Phone, IDNumber: b.IDNumber, Password: b.Password, Language: langOf(c), IP: s.clientIP(c)})
	if err == nil {
		_, _, err = s.login(c, loginBody{Username: b.Phone, Password: b.Password})
	}
	if err != nil {
		if err := s.formError(c, err, &fp); err != nil {
			return err
		}
		return s.render(c, "signup", page{Title: s.i18n.T(langOf(c), "auth.signup.title"), Data: fp})
	}
	return c.Redirect("/home?welcome=1", fiber.StatusSeeOther)
}

func (s *Server) logoutSubmit(c *fiber.Ctx) error {
	p := principalOf(c)
	if err := s.accounts.Logout(c.UserContext(), p.Session.ID, p.User.ID, s.clientIP(c)); err != nil {
		return err
	}
	s.clearSessionCookie(c)
	return c.Redirect("/", fiber.StatusSeeOther)
}

type accountData struct {
	formPage
	User     userJSON
	Identity accounts.Identity
	Sessions []sessionJSON
	Welcome  bool
}

func (s *Server) accountPage(c *fiber.Ctx) error {
	return s.renderAccount(c, formPage{Notice: c.Query("notice")})
}

func (s *Server) renderAccount(c *fiber.Ctx, fp formPage) error {
	p := principalOf(c)
	sessions, err := s.mySessions(c)
	if err != nil {
		return err
	}
	if fp.Notice != "" {
		fp.Notice = s.i18n.T(langOf(c), "account.notice."+fp.Notice)
	}
	ids, err := s.accounts.Identities(c.UserContext(), []int64{p.User.PersonID})
	if err != nil {
		return err
	}
	return s.render(c, "account", page{Title: s.i18n.T(langOf(c), "account.title"),
		Data: accountData{formPage: fp, User: toUserJSON(p.User, p.Grants), Identity: ids[p.User.PersonID], Sessions: sessions, Welcome: c.Query("welcome") == "1"}})
}

type idNumberBody struct {
	IDNumber string `json:"id_number" form:"id_number"`
}

// apiClaimIDNumber lets a learner enter their own ID number, as after a centre bound the number they
// had claimed to someone else; the answer does not tell whether anyone else claims it.
func (s *Server) apiClaimIDNumber(c *fiber.Ctx) error {
	var b idNumberBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	if err := s.accounts.ClaimIDNumber(c.UserContext(), principalOf(c).User.ID, b.IDNumber); err != nil {
		return err
	}
	ids, err := s.accounts.Identities(c.UserContext(), []int64{principalOf(c).User.PersonID})
	if err != nil {
		return err
	}
	return c.JSON(ids[principalOf(c).User.PersonID])
}

func (s *Server) claimIDNumberSubmit(c *fiber.Ctx) error {
	p := principalOf(c)
	if err := s.accounts.ClaimIDNumber(c.UserContext(), p.User.ID, c.FormValue("id_number")); err != nil {
		fp := formPage{Values: map[string]string{"id_number": c.FormValue("id_number")}} // rendered before the handler returns
		if err := s.formError(c, err, &fp); err != nil {
			return err
		}
		return s.renderAccount(c, fp)
	}
	return c.Redirect("/account?notice=id_number_claimed", fiber.StatusSeeOther)
}

func (s *Server) passwordSubmit(c *fiber.Ctx) error {
	p := principalOf(c)
	err := s.accounts.ChangePassword(c.UserContext(), p.User.ID, p.Session.ID, c.FormValue("current_password"), c.FormValue("new_password"))
	if err != nil {
		var fp formPage
		if err := s.formError(c, err, &fp); err != nil {
			return err
		}
		return s.renderAccount(c, fp)
	}
	return c.Redirect("/account?notice=password_changed", fiber.StatusSeeOther)
}

func (s *Server) revokeOthersSubmit(c *fiber.Ctx) error {
	p := principalOf(c)
	if _, err := s.accounts.RevokeOtherSessions(c.UserContext(), p.User.ID, p.Session.ID); err != nil {
		return err
	}
	return c.Redirect("/account?notice=sessions_revoked", fiber.StatusSeeOther)
}
