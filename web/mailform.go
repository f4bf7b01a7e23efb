package web

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/mailroute"
)

// newTicketFromMail is GET /tickets/new?mail=TOKEN, the link of the answer
// to a question mailed to the support address: the form filled in with
// the mail's subject, text and sender, in the question's language, tied
// to its deflection session (filing it ends the session as filed). A link
// that expired shows the empty form, saying so.
func (h *handler) newTicketFromMail(c *fiber.Ctx, token string) error {
	q, err := h.questions(c.UserContext(), token)
	if errors.Is(err, mailroute.ErrNotFound) {
		lang := h.requestLang(c)
		p := h.ticketNewPage(lang, nil, nil)
		p.Notice = h.i18n.T(lang, "mailroute.expired")
		return h.render(c, fiber.StatusNotFound, "ticket_new", p)
	}
	if err != nil {
		return err
	}
	lang := q.Lang
	if !h.i18n.Has(lang) || c.Query("lang") != "" {
		lang = h.requestLang(c)
	}
	values := map[string]string{"subject": q.Subject, "description": q.Text, "email": q.Email, "name": q.Name,
		"deflection_session": q.Session}
	p := h.ticketNewPage(lang, values, nil)
	p.Prefilled = h.i18n.T(lang, "mailroute.prefilled")
	return h.render(c, fiber.StatusOK, "ticket_new", p)
}

// openedFromMail records an article opened from the answer to a mailed
// question (its link carries the question's deflection session as ?ds=)
// as "opened" in that session. A link to a session that ended, or a
// forged one, records nothing.
func (h *handler) openedFromMail(c *fiber.Ctx, articleID string) {
	ds := c.Query("ds")
	if ds == "" {
		return
	}
	if err := h.deflect.Opened(c.UserContext(), ds, articleID); err != nil {
		h.log.Debug("article opened from a mail not recorded", "session", ds, "article", articleID, "err", err)
	}
}
