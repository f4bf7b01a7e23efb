// Package ticketmail writes the mails a ticket's customer receives into the
// mail outbox (package mail), in the customer's language, inside the
// transaction of the change that causes them: the "ticket filed" mail
// (Filed), and the mails of later changes (Changed): each agent reply, the
// status changes the customer should know (waiting on you, solved) and the
// reply rule's "we will call you". Every mail carries a private link to
// the ticket and a reply address that leads back to it.
package ticketmail

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/orbitask/portal/calendar"
	"github.com/orbitask/portal/i18n"
	"github.com/orbitask/portal/mail"
	"github.com/orbitask/portal/replytag"
	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/tickets"
)

// Config is what the mails need beyond the ticket.
type Config struct {
	Words *i18n.Bundle
	// Calendar gives the calendar in force, for the resolution commitment
	// the mail states as the ticket page does.
	Calendar func() *calendar.Calendar
	// PublicURL is where customers reach the portal (the links in mails),
	// e.g. "https://help.example.com".
	PublicURL string
	// Tags make the mails' Reply-To, the ticket's reply address; nil: no
	// Reply-To (answers go to the From address).
	Tags *replytag.Tags
	// Tickets gives the ticket store (made after the Mailer, whose hooks it
	// calls): Changed reads the ticket and mints link tokens in the
	// change's transaction. Required for Changed only.
	Tickets func() *tickets.Store
	// MintConfirmTx mints the token of the link that confirms an address
	// (tickets.Store.MintConfirmTx), for the "ticket filed" mail of a
	// ticket whose plan waits for it. nil: no such link.
	MintConfirmTx func(ctx context.Context, tx *sqlitedb.Tx, email string) (string, error)
}

// Mailer writes ticket mails into the outbox.
type Mailer struct {
	cfg  Config
	host string // the Message-IDs' domain: the public URL's host
}

// New checks cfg.
func New(cfg Config) (*Mailer, error) {
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--public-url: %q is not an http(s) URL with a host", cfg.PublicURL)
	}
	if cfg.Words == nil || cfg.Calendar == nil {
		return nil, fmt.Errorf("ticketmail: Words and Calendar are required")
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	return &Mailer{cfg: cfg, host: u.Hostname()}, nil
}

// Filed writes the "ticket filed" mail into the outbox, in the filing's
// transaction tx: its number, subject, the resolution commitment and the
// private link. The link's token is known only here; the outbox keeps it
// only until the mail is sent (mail.Message.Secret).
func (m *Mailer) Filed(ctx context.Context, tx *sqlitedb.Tx, t tickets.Ticket, token string) error {
	lang := MailLang(m.cfg.Words, t)
	w := m.cfg.Words
	sla, _, _ := SLA(w, lang, t, m.cfg.Calendar().Target(string(t.Plan)))
	args := []any{"number", t.Number, "subject", t.Subject, "name", t.Name, "sla", sla, "link", mail.SecretMark}
	confirmText, confirm, err := m.confirmLink(ctx, tx, t, lang)
	if err != nil {
		return fmt.Errorf("ticketmail: filed #%d: %w", t.Number, err)
	}
	text := w.T(lang, "mailout.what.filed") + "\n\n" + w.T(lang, "email.filed.body", args...) + confirmText + "\n\n" + w.T(lang, "email.signature") + "\n"
	_, err = mail.Enqueue(tx, mail.Message{
		MessageID:     mail.TicketMessageID(int64(t.Number), "filed", m.host),
		Ticket:        int64(t.Number),
		Kind:          "filed",
		Lang:          lang,
		To:            t.Email,
		Subject:       m.threadSubject(lang, t),
		Text:          text,
		AutoSubmitted: true,
		Headers:       m.replyTo(t.Number),
		Secret:        m.cfg.PublicURL + TicketPath(t.Number, token),
		Secrets:       confirm,
	})
	if err != nil {
		return fmt.Errorf("ticketmail: filed #%d: %w", t.Number, err)
	}
	return nil
}

// TicketPath is the path of a ticket's private page.
func TicketPath(number int, token string) string {
	return fmt.Sprintf("/tickets/%d?token=%s", number, url.QueryEscape(token))
}

// MailLang is the language a ticket's mails are written in: the ticket's,
// or English for a ticket answered in English.
func MailLang(words *i18n.Bundle, t tickets.Ticket) string {
	if t.AnswerInEnglish || !words.Has(t.Lang) {
		return "en"
	}
	return t.Lang
}

// SLA is the resolution commitment a ticket states, in lang, as its page
// and its mails say it; kind names the text (basic, priority, individual,
// individual_due, due) and hours are Basic's working hours, written as
// lang writes numbers. The policy's words where the calendar has the
// policy's targets (Basic in working hours, Priority by the end of the
// next working day), the individual terms', and otherwise a plain
// "resolution by" for targets an operator set otherwise in calendar.yaml.
func SLA(words *i18n.Bundle, lang string, t tickets.Ticket, target calendar.Target) (text, kind, hours string) {
	due := t.SLADue
	switch {
	case due.IsZero():
		kind = "individual"
	case t.Plan == tickets.PlanIndividual:
		kind = "individual_due"
	case t.Plan == tickets.PlanPriority && target == calendar.ByEndOfWorkingDay(1):
		kind = "priority"
	case t.Plan == tickets.PlanBasic && target.Fixed && target.WorkingHours > 0:
		kind, hours = "basic", localNumber(lang, strconv.FormatFloat(target.WorkingHours.Hours(), 'f', -1, 64))
	default:
		kind = "due"
	}
	if kind == "individual" {
		return words.T(lang, "ticket.sla.individual"), kind, hours
	}
	return words.T(lang, "ticket.sla."+kind, "due", words.WeekdayDateTimeUTC(lang, due), "hours", hours), kind, hours
}

// localNumber writes a decimal number as lang does ("7,5" in cs, de, fr).
func localNumber(lang, n string) string {
	if lang == "en" {
		return n
	}
	return strings.Replace(n, ".", ",", 1)
}
