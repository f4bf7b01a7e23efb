package ticketmail

import (
	"context"
	"fmt"
	"net/url"

	"github.com/orbitask/portal/mail"
	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/tickets"
)

// ConfirmPath is the path of the page that confirms an address.
func ConfirmPath(token string) string { return "/tickets/confirm?token=" + url.QueryEscape(token) }

// FindPath is the path of the page a "find my tickets" link opens.
func FindPath(token string) string { return "/tickets/find/list?token=" + url.QueryEscape(token) }

// confirmLink is the "ticket filed" mail's paragraph asking a customer
// whose plan waits for a confirmed address to confirm it, and the link as
// the mail's secret (its token, minted in the filing's transaction, is
// known only here). Nothing when no plan is pending.
func (m *Mailer) confirmLink(ctx context.Context, tx *sqlitedb.Tx, t tickets.Ticket, lang string) (string, []string, error) {
	if t.PendingPlan == "" || m.cfg.MintConfirmTx == nil {
		return "", nil, nil
	}
	token, err := m.cfg.MintConfirmTx(ctx, tx, t.Email)
	if err != nil {
		return "", nil, err
	}
	w := m.cfg.Words
	text := "\n\n" + w.T(lang, "confirm.mail_block", "plan", w.T(lang, "ticket.plan."+string(t.PendingPlan)), "link", mail.SecretMarkN(0))
	return text, []string{m.cfg.PublicURL + ConfirmPath(token)}, nil
}

// Find writes the "find my tickets" mail into the outbox inside the
// request's transaction (tickets.Config.NotifyFindTx): the single-use link
// to the address's tickets, in the language of the page it was asked from.
func (m *Mailer) Find(_ context.Context, tx *sqlitedb.Tx, email, lang, token string) error {
	w := m.cfg.Words
	if !w.Has(lang) {
		lang = "en"
	}
	text := w.T(lang, "find.mail.body", "link", mail.SecretMark) + "\n\n" + w.T(lang, "email.signature") + "\n"
	_, err := mail.Enqueue(tx, mail.Message{
		MessageID:     mail.NewMessageID("find", m.host),
		Kind:          "find",
		Lang:          lang,
		To:            email,
		Subject:       w.T(lang, "find.mail.subject"),
		Text:          text,
		AutoSubmitted: true,
		Secret:        m.cfg.PublicURL + FindPath(token),
		Headers:       m.replyTo(0),
	})
	if err != nil {
		return fmt.Errorf("ticketmail: find: %w", err)
	}
	return nil
}
