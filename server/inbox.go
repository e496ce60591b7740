package server

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"shanyu/accounts"
)

// NoticeText renders notifications from the server's translations (notify.<kind>), for the
// accounts domain's sender (app.Options.NoticeText).
func NoticeText() (accounts.NoticeText, error) {
	c, err := loadCatalog()
	if err != nil {
		return nil, err
	}
	return c.notice, nil
}

// notice renders one notification in lang: arguments that are instants (RFC 3339) or dates
// (2006-01-02) go through the language's clock formatter, so a message shows the product's zone.
func (c *catalog) notice(lang, kind string, args []string) string {
	shown := make([]any, len(args))
	for i, a := range args {
		shown[i] = a
		if t, err := time.Parse(time.RFC3339, a); err == nil {
			shown[i] = c.Times(lang).DateTime(t)
		} else if d, err := time.Parse(time.DateOnly, a); err == nil {
			shown[i] = c.Times(lang).CivilDate(d)
		}
	}
	return c.T(lang, "notify."+kind, shown...)
}

func (s *Server) routesInbox() {
	s.api(apiRoute{Method: "GET", Path: "/api/v1/me/notifications", Scope: scopeOwn, Summary: "My notifications, newest first, 20 a page", Tag: "auth", Perm: signedIn,
		Response: itemsOf[notificationJSON](map[string]any{"total": integer, "unread": integer, "page": integer})}, s.apiInbox)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/me/notifications/:id/read", Scope: scopeOwn, Summary: "Mark one of my notifications read", Tag: "auth", Perm: signedIn, Response: statusOf}, s.apiMarkRead)
	s.page("GET", "/inbox", signedIn, scopeOwn, s.inboxPage)
	s.page("POST", "/inbox/:id/read", signedIn, scopeOwn, s.inboxReadSubmit)
	s.page("POST", "/inbox/read-all", signedIn, scopeOwn, s.inboxReadAllSubmit)
}

type notificationJSON struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	Text      string     `json:"text"`
	Link      string     `json:"link"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at"`
}

type inboxData struct {
	Items         []notificationJSON
	Total, Unread int
	Page          int
	Prev, Next    int // 0: none
}

func (s *Server) inbox(c *fiber.Ctx) (inboxData, error) {
	page := c.QueryInt("page", 1)
	list, total, unread, err := s.accounts.Inbox(c.UserContext(), principalOf(c).User.ID, page)
	if err != nil {
		return inboxData{}, err
	}
	d := inboxData{Total: total, Unread: unread, Page: max(page, 1)}
	for _, n := range list {
		d.Items = append(d.Items, notificationJSON{ID: n.ID, Kind: n.Kind, Text: s.i18n.notice(langOf(c), n.Kind, n.Args), Link: n.Link, CreatedAt: n.CreatedAt, ReadAt: n.ReadAt})
	}
	if d.Page > 1 {
		d.Prev = d.Page - 1
	}
	if d.Page*accounts.InboxPageSize < total {
		d.Next = d.Page + 1
	}
	return d, nil
}

func (s *Server) apiInbox(c *fiber.Ctx) error {
	d, err := s.inbox(c)
	if err != nil {
		return err
	}
	items := d.Items
	if items == nil {
		items = []notificationJSON{}
	}
	return c.JSON(fiber.Map{"items": items, "total": d.Total, "unread": d.Unread, "page": d.Page})
}

func (s *Server) markRead(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return accounts.ErrNotificationNotFound
	}
	return s.accounts.MarkRead(c.UserContext(), principalOf(c).User.ID, id)
}

func (s *Server) apiMarkRead(c *fiber.Ctx) error {
	if err := s.markRead(c); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "read"})
}

func (s *Server) inboxPage(c *fiber.Ctx) error {
	d, err := s.inbox(c)
	if err != nil {
		return err
	}
	return s.render(c, "inbox", page{Title: s.i18n.T(langOf(c), "inbox.title"), Data: d})
}

func (s *Server) inboxReadSubmit(c *fiber.Ctx) error {
	if err := s.markRead(c); err != nil {
		return err
	}
	return c.Redirect("/inbox?page="+strconv.Itoa(max(c.QueryInt("page", 1), 1)), fiber.StatusSeeOther)
}

func (s *Server) inboxReadAllSubmit(c *fiber.Ctx) error {
	if err := s.accounts.MarkRead(c.UserContext(), principalOf(c).User.ID, 0); err != nil {
		return err
	}
	return c.Redirect("/inbox", fiber.StatusSeeOther)
}
