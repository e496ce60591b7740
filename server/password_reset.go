package server

import (
	"github.com/gofiber/fiber/v2"
)

// Self-service password reset (accounts.RequestPasswordReset, ResetPasswordWithCode): a code sent to
// the phone on file. The request's answer is the same whether or not the phone is registered.

func (s *Server) routesPasswordReset() {
	s.api(apiRoute{Method: "POST", Path: "/api/v1/auth/password/forgot", Scope: scopePublic, Summary: "Send a password-reset code to the phone on file (the same answer for any phone)", Tag: "auth",
		Request: object([]string{"phone"}, map[string]any{"phone": str}), Response: statusOf, Status: 202}, s.apiForgotPassword)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/auth/password/reset", Scope: scopePublic, Summary: "Set a new password with the code sent by SMS; ends every session", Tag: "auth",
		Request: object([]string{"phone", "code", "new_password"}, map[string]any{"phone": str, "code": str, "new_password": str}), Response: statusOf}, s.apiResetOwnPassword)
	s.page("GET", "/password/forgot", public, scopePublic, s.forgotPage)
	s.page("POST", "/password/forgot", public, scopePublic, s.forgotSubmit)
	s.page("GET", "/password/reset", public, scopePublic, s.resetPage)
	s.page("POST", "/password/reset", public, scopePublic, s.resetSubmit)
}

type forgotBody struct {
	Phone string `json:"phone"`
}

type resetBody struct {
	Phone       string `json:"phone"`
	Code        string `json:"code"`
	NewPassword string `json:"new_password"`
}

func (s *Server) apiForgotPassword(c *fiber.Ctx) error {
	var b forgotBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	if err := s.accounts.RequestPasswordReset(c.UserContext(), s.domains.ResetCodes, b.Phone, s.clientIP(c)); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"status": "code_sent_if_registered"})
}

func (s *Server) apiResetOwnPassword(c *fiber.Ctx) error {
	var b resetBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	if err := s.accounts.ResetPasswordWithCode(c.UserContext(), b.Phone, b.Code, b.NewPassword, s.clientIP(c)); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "password_reset"})
}

func (s *Server) forgotPage(c *fiber.Ctx) error {
	return s.render(c, "password_forgot", page{Title: s.i18n.T(langOf(c), "auth.forgot.title"), Data: formPage{}})
}

func (s *Server) forgotSubmit(c *fiber.Ctx) error {
	phone := c.FormValue("phone")
	fp := formPage{Values: map[string]string{"phone": phone}}
	if err := s.accounts.RequestPasswordReset(c.UserContext(), s.domains.ResetCodes, phone, s.clientIP(c)); err != nil {
		if err := s.formError(c, err, &fp); err != nil {
			return err
		}
		return s.render(c, "password_forgot", page{Title: s.i18n.T(langOf(c), "auth.forgot.title"), Data: fp})
	}
	return s.render(c, "password_reset", page{Title: s.i18n.T(langOf(c), "auth.reset.title"),
		Data: formPage{Values: map[string]string{"phone": phone}, Notice: s.i18n.T(langOf(c), "auth.forgot.sent")}})
}

func (s *Server) resetPage(c *fiber.Ctx) error {
	return s.render(c, "password_reset", page{Title: s.i18n.T(langOf(c), "auth.reset.title"), Data: formPage{Values: map[string]string{"phone": c.Query("phone")}}})
}

func (s *Server) resetSubmit(c *fiber.Ctx) error {
	b := resetBody{Phone: c.FormValue("phone"), Code: c.FormValue("code"), NewPassword: c.FormValue("new_password")}
	fp := formPage{Values: map[string]string{"phone": b.Phone, "code": b.Code}}
	if b.NewPassword != c.FormValue("password_confirm") {
		fp.Errors = map[string]string{"password_confirm": s.i18n.T(langOf(c), "accounts.password_mismatch")}
		c.Status(fiber.StatusUnprocessableEntity)
		return s.render(c, "password_reset", page{Title: s.i18n.T(langOf(c), "auth.reset.title"), Data: fp})
	}
	if err := s.accounts.ResetPasswordWithCode(c.UserContext(), b.Phone, b.Code, b.NewPassword, s.clientIP(c)); err != nil {
		if err := s.formError(c, err, &fp); err != nil {
			return err
		}
		return s.render(c, "password_reset", page{Title: s.i18n.T(langOf(c), "auth.reset.title"), Data: fp})
	}
	s.clearSessionCookie(c)
	return s.render(c, "login", page{Title: s.i18n.T(langOf(c), "auth.login.title"), Data: formPage{Values: map[string]string{"username": b.Phone},
		Notice: s.i18n.T(langOf(c), "auth.reset.done"), Next: "/home"}})
}
