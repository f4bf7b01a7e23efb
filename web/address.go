package web

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/ticketmail"
	"github.com/orbitask/portal/tickets"
)

// The pages of confirming an address (the link in the "ticket filed"
// mail) and of "find my tickets". Mail scanners open links: a GET only
// shows a button, and the POST it sends confirms, or uses the single-use
// find link. Tokens travel in the URL, so the pages are never cached and
// send no Referer.

// addressRoutes registers the pages before /tickets/:number, which would
// take their paths.
func (h *handler) addressRoutes(r fiber.Router) {
	// A find request may send a mail, and the POSTs take tokens: each
	// counts against the client's filing limit.
	find := h.limits.Filing.Handler
	small := httpkit.MaxBody(httpkit.SmallBodyLimit)
	r.Get("/tickets/confirm", h.confirmPage)
	r.Post("/tickets/confirm", find, small, h.confirmPost)
	r.Get("/tickets/find", h.findPage)
	r.Post("/tickets/find", find, small, h.findPost)
	r.Get("/tickets/find/list", h.findListPage)
	r.Post("/tickets/find/list", find, small, h.findListPost)
}

// addressPage is every state of those pages.
type addressPage struct {
	layout
	Form    string // "confirm", "find", "find-open": which form to show
	Token   string
	Email   string
	Pending int
	Done    bool // confirmed, or find request taken
	Already bool
	Moved   []movedView
	Invalid bool // the link is unknown, expired or used
	Error   string
	Found   []foundView
}

type movedView struct{ Text string }

type foundView struct {
	Number      int
	Subject     string
	StatusLabel string
	Updated     time.Time
	URL         string
}

func (h *handler) addressPage(c *fiber.Ctx, titleKey string) addressPage {
	lang := h.requestLang(c)
	p := addressPage{layout: h.layout(lang, h.i18n.T(lang, titleKey))}
	p.HeaderSearch = false
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("Referrer-Policy", "no-referrer")
	c.Set("X-Robots-Tag", "noindex")
	return p
}

// confirmPage is GET /tickets/confirm?token=: what confirming does, and
// the button; it confirms nothing.
func (h *handler) confirmPage(c *fiber.Ctx) error {
	p := h.addressPage(c, "confirm.title")
	p.Form, p.Token = "confirm", c.Query("token")
	var err error
	p.Email, p.Pending, err = h.tickets.ConfirmPending(c.UserContext(), p.Token)
	if errors.Is(err, tickets.ErrTokenInvalid) {
		return h.invalidLink(c, p, "confirm")
	}
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "address", p)
}

// confirmPost is POST /tickets/confirm (token): confirms the address and
// lists the tickets that moved up.
func (h *handler) confirmPost(c *fiber.Ctx) error {
	p := h.addressPage(c, "confirm.done_title")
	p.Form = "confirm"
	conf, err := h.tickets.ConfirmWithToken(c.UserContext(), c.FormValue("token"))
	if errors.Is(err, tickets.ErrTokenInvalid) {
		return h.invalidLink(c, p, "confirm")
	}
	if err != nil {
		return err
	}
	p.Done, p.Email, p.Already = true, conf.Email, conf.Already
	p.Moved = h.movedViews(p.Lang, conf.Moved)
	return h.render(c, fiber.StatusOK, "address", p)
}

func (h *handler) movedViews(lang string, moved []tickets.Moved) []movedView {
	w := h.i18n
	var out []movedView
	for _, m := range moved {
		t := tickets.Ticket{Number: m.Number, Plan: m.Plan, SLADue: m.SLADue}
		sla, _, _ := ticketmail.SLA(w, lang, t, h.tickets.Calendar().Target(string(m.Plan)))
		out = append(out, movedView{w.T(lang, "confirm.moved_item", "number", m.Number, "subject", m.Subject,
			"plan", w.T(lang, "ticket.plan."+string(m.Plan)), "sla", sla)})
	}
	return out
}

// invalidLink answers a link that no longer works: 410, and for a find
// link the form to ask for a new one.
func (h *handler) invalidLink(c *fiber.Ctx, p addressPage, form string) error {
	p.Invalid, p.Token, p.Form = true, "", form
	p.Title = h.i18n.T(p.Lang, form+".invalid_title")
	if form == "find-open" {
		p.Title = h.i18n.T(p.Lang, "find.invalid_title")
	}
	return h.render(c, fiber.StatusGone, "address", p)
}

// findPage is GET /tickets/find: the form asking for an address.
func (h *handler) findPage(c *fiber.Ctx) error {
	p := h.addressPage(c, "find.title")
	p.Form = "find"
	p.Description = h.i18n.T(p.Lang, "find.meta_description")
	return h.render(c, fiber.StatusOK, "address", p)
}

// findPost is POST /tickets/find (email): the same answer whether or not
// the address has tickets, and whether or not its hourly mails are spent.
func (h *handler) findPost(c *fiber.Ctx) error {
	p := h.addressPage(c, "find.title")
	p.Form, p.Email = "find", c.FormValue("email")
	_, err := h.tickets.RequestFind(c.UserContext(), p.Email, p.Lang)
	var ve *tickets.ValidationError
	if errors.As(err, &ve) {
		p.Error = localProblem(h.i18n, p.Lang, ve.Fields["email"])
		return h.render(c, fiber.StatusUnprocessableEntity, "address", p)
	}
	if err != nil {
		return err
	}
	p.Done, p.Email = true, ""
	return h.render(c, fiber.StatusOK, "address", p)
}

// findListPage is GET /tickets/find/list?token=: the button that uses the
// link (a scanner's GET must not spend it).
func (h *handler) findListPage(c *fiber.Ctx) error {
	p := h.addressPage(c, "find.open_title")
	p.Form, p.Token = "find-open", c.Query("token")
	var err error
	p.Email, err = h.tickets.FindValid(c.UserContext(), p.Token)
	if errors.Is(err, tickets.ErrTokenInvalid) {
		return h.invalidLink(c, p, "find-open")
	}
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "address", p)
}

// findListPost is POST /tickets/find/list (token): uses the link once and
// lists the address's tickets with fresh private links; it also confirms
// the address.
func (h *handler) findListPost(c *fiber.Ctx) error {
	p := h.addressPage(c, "find.open_title")
	p.Form = "find-open"
	email, found, _, err := h.tickets.UseFind(c.UserContext(), c.FormValue("token"))
	if errors.Is(err, tickets.ErrTokenInvalid) {
		return h.invalidLink(c, p, "find-open")
	}
	if err != nil {
		return err
	}
	p.Done, p.Email = true, email
	p.Title = h.i18n.T(p.Lang, "find.list_title", "email", email)
	for _, f := range found {
		p.Found = append(p.Found, foundView{Number: f.Number, Subject: f.Subject,
			StatusLabel: h.i18n.T(p.Lang, "ticket.status."+string(f.Status)), Updated: f.UpdatedAt,
			URL: ticketURL(f.Number, f.Token)})
	}
	return h.render(c, fiber.StatusOK, "address", p)
}
