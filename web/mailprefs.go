package web

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/httpkit"
)

// The customer's control of the mails of their ticket (issue 14): the page
// the status mails' "stop" link opens, and revoking the links sent by
// e-mail from the ticket's page. Like the reply form, every POST carries
// the ticket's token (or a link token) in its body: a page on another site
// cannot know it, so it cannot make the browser post (no CSRF).

// mailRoutes registers them; Routes calls it.
func (h *handler) mailRoutes(r fiber.Router) {
	small := httpkit.MaxBody(httpkit.SmallBodyLimit)
	r.Get("/tickets/:number/mail", h.mailPrefs)
	r.Post("/tickets/:number/mail", h.limits.Reply.Handler, small, h.postMailPrefs)
	r.Post("/tickets/:number/links/revoke", h.limits.Reply.Handler, small, h.revokeLinks)
}

// mailPrefsPage is the page of a ticket's status mails.
type mailPrefsPage struct {
	layout
	Number      int
	Token       string
	StatusMails bool
	Flash       string
	TicketURL   string
}

// mailPrefs is GET /tickets/:number/mail?token=…: whether status mails are
// sent, and the button that changes it.
func (h *handler) mailPrefs(c *fiber.Ctx) error {
	n, err := httpkit.TicketNumber(c)
	if err != nil {
		return err
	}
	token := c.Query("token")
	t, err := h.tickets.Get(c.UserContext(), n, token)
	if err != nil {
		return err
	}
	lang := h.ticketLang(c, t.Lang)
	p := mailPrefsPage{layout: h.layout(lang, h.i18n.T(lang, "mailout.page.title", "number", n)),
		Number: n, Token: token, StatusMails: t.StatusMails, TicketURL: ticketURL(n, token)}
	switch c.Query("done") {
	case "stopped":
		p.Flash = h.i18n.T(lang, "mailout.page.stopped")
	case "started":
		p.Flash = h.i18n.T(lang, "mailout.page.started")
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("Referrer-Policy", "no-referrer") // the token is in the URL
	return h.render(c, fiber.StatusOK, "ticket_mail", p)
}

// postMailPrefs is POST /tickets/:number/mail (token, status_mails=on|off).
func (h *handler) postMailPrefs(c *fiber.Ctx) error {
	n, err := httpkit.TicketNumber(c)
	if err != nil {
		return err
	}
	token := c.FormValue("token")
	if _, err := h.tickets.Get(c.UserContext(), n, token); err != nil {
		return err
	}
	var on bool
	switch c.FormValue("status_mails") {
	case "on":
		on = true
	case "off":
	default:
		return fiber.NewError(fiber.StatusBadRequest, "status_mails: want on or off")
	}
	if err := h.tickets.SetStatusMails(c.UserContext(), n, on); err != nil {
		return err
	}
	done := "stopped"
	if on {
		done = "started"
	}
	return c.Redirect(fmt.Sprintf("/tickets/%d/mail?token=%s&done=%s", n, url.QueryEscape(token), done), fiber.StatusSeeOther)
}

// revokeLinks is POST /tickets/:number/links/revoke (token): every link
// sent by e-mail stops opening the ticket; the ticket's own token keeps
// working. A customer who came with a link from a mail would lock
// themselves out, so they get a fresh link, shown once, instead.
func (h *handler) revokeLinks(c *fiber.Ctx) error {
	n, err := httpkit.TicketNumber(c)
	if err != nil {
		return err
	}
	token := c.FormValue("token")
	ctx := c.UserContext()
	if _, err := h.tickets.Get(ctx, n, token); err != nil {
		return err
	}
	count, err := h.tickets.RevokeLinks(ctx, n)
	if err != nil {
		return err
	}
	next := ticketURL(n, token)
	if _, err := h.tickets.Get(ctx, n, token); err != nil {
		fresh, err := h.tickets.MintLink(ctx, n, "page")
		if err != nil {
			return err
		}
		next = ticketURL(n, fresh) + "&new_link=1"
	}
	return c.Redirect(next+"&links_revoked="+strconv.Itoa(count), fiber.StatusSeeOther)
}

// linksFlash is the ticket page's message after revoking links, if any.
func (h *handler) linksFlash(c *fiber.Ctx, lang string) string {
	s := c.Query("links_revoked")
	if s == "" {
		return ""
	}
	count, err := strconv.Atoi(s)
	if err != nil || count < 0 {
		return ""
	}
	msg := h.i18n.T(lang, "mailout.links.revoked", "count", count)
	if c.Query("new_link") == "1" {
		msg += " " + h.i18n.T(lang, "mailout.links.new_link")
	}
	return msg
}
