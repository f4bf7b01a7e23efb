package web

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/tickets"
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
// handed out stops opening the ticket, the ticket's own token included,
// and a new private link is mailed to the ticket's address
// (tickets.Store.RevokeAccess). The page shows no link: whoever asked (a
// forwarded mail's reader, maybe) must not get one; it says where the new
// one went, masked.
func (h *handler) revokeLinks(c *fiber.Ctx) error {
	n, err := httpkit.TicketNumber(c)
	if err != nil {
		return err
	}
	r, err := h.tickets.RevokeAccess(c.UserContext(), n, c.FormValue("token"))
	if errors.Is(err, tickets.ErrNoLinkMail) {
		return fiber.NewError(fiber.StatusConflict, "revoking needs e-mail to send the new link, and this portal sends none")
	}
	if err != nil {
		return err
	}
	lang := h.ticketLang(c, r.Lang)
	p := linksRevokedPage{layout: h.layout(lang, h.i18n.T(lang, "mailout.links.title")),
		Message: h.i18n.T(lang, "mailout.links.done", "number", n, "email", maskAddress(r.Email))}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return h.render(c, fiber.StatusOK, "links_revoked", p)
}

// linksRevokedPage is the page after revoking.
type linksRevokedPage struct {
	layout
	Message string
}

// maskAddress shows enough of an address for its owner to recognise it:
// "jana@acme.example" is "j•••@acme.example".
func maskAddress(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return "•••"
	}
	r, _ := utf8.DecodeRuneInString(addr)
	return string(r) + "•••" + addr[at:]
}
