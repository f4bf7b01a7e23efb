package ticketmail

import (
	"context"
	"fmt"

	"github.com/orbitask/portal/mail"
	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/tickets"
)

// KindNewLink is the mail that carries a ticket's new private link after
// its links were revoked.
const KindNewLink = "newlink"

// NewLink is tickets.Config.NotifyNewLinkTx: inside the transaction that
// revoked a ticket's links and replaced its token, it writes the mail that
// carries the new private link to the ticket's address (the token is known
// only here; the outbox keeps it only until the mail is sent).
func (m *Mailer) NewLink(ctx context.Context, tx *sqlitedb.Tx, t tickets.Ticket, token string) error {
	lang := MailLang(m.cfg.Words, t)
	tr := func(key string) string {
		return m.cfg.Words.T(lang, key, "number", t.Number, "subject", t.Subject, "name", t.Name)
	}
	subject := m.threadSubject(lang, t)
	var b body
	b.para(tr("mailout.what.newlink"))
	b.para(tr("mailout.hello"))
	b.para(tr("mailout.newlink.intro"))
	b.link(tr("mailout.newlink.link"), m.cfg.PublicURL+fmt.Sprintf("/tickets/%d?token=%s", t.Number, mail.SecretMark))
	b.signature(m.cfg.Words.T(lang, "email.signature"))
	msg := mail.Message{
		MessageID:     mail.TicketMessageID(int64(t.Number), KindNewLink, m.host),
		Ticket:        int64(t.Number),
		Kind:          KindNewLink,
		Lang:          lang,
		To:            t.Email,
		Subject:       subject,
		Text:          b.text.String(),
		HTML:          b.html(lang, subject),
		AutoSubmitted: true,
		Headers:       m.replyTo(t.Number),
		Secret:        token,
	}
	if err := m.thread(tx, &msg); err != nil {
		return fmt.Errorf("ticketmail: %s #%d: %w", KindNewLink, t.Number, err)
	}
	if _, err := mail.Enqueue(tx, msg); err != nil {
		return fmt.Errorf("ticketmail: %s #%d: %w", KindNewLink, t.Number, err)
	}
	return nil
}

// threadSubject is the one subject of every mail of a ticket, "[#1001]
// <the ticket's subject>" as lang writes the number: mail clients that
// thread by subject (Gmail) keep the ticket's mails one conversation. What
// a mail is says its first line.
func (m *Mailer) threadSubject(lang string, t tickets.Ticket) string {
	return m.cfg.Words.T(lang, "email.filed.subject", "number", t.Number, "subject", t.Subject)
}
