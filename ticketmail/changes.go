package ticketmail

import (
	"context"
	"fmt"
	"html"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/orbitask/portal/mail"
	"github.com/orbitask/portal/safemd"
	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/tickets"
)

// The kinds of the mails Changed writes (mail.Message.Kind, and the purpose
// of their link tokens).
const (
	KindReply   = "reply"   // an agent's reply, possibly with the status it set and the call it raised
	KindWaiting = "waiting" // the ticket waits on the customer
	KindSolved  = "solved"
	KindCall    = "call" // the reply rule: support will call the submitter
)

// maxReferences bounds the References header of a long ticket: the first
// mail (the thread's root) and the latest ones are what clients need.
const maxReferences = 20

// outcome is what one change tells the customer: at most one mail.
type outcome struct {
	reply  *tickets.Event // an agent's reply to the customer
	status tickets.Status // waiting or solved, set by support
	call   bool           // the reply rule raised the call flag
	seq    int64          // the event the mail is named after
}

// read finds in a change's events what the customer should hear of.
// Internal notes, assignments, severity and SLA events, and whatever the
// customer did themselves, tell them nothing new, except that a reply of
// theirs that reopens a ticket whose replies are used up raises the reply
// rule's call, which is announced. A call raised because
// the severity is 1 or 2 does not mail either: severity is support's
// triage (at filing it mails nothing), and such a ticket is called at once.
func read(events []tickets.Event) outcome {
	var o outcome
	for i := range events {
		ev := &events[i]
		switch {
		case ev.Kind == tickets.KindCall && ev.Call == "required" && ev.Reason == "reply_rule":
			// Whoever's change raised it (the customer's reply reopening a
			// ticket whose replies are used up, too): support will call.
			o.call = true
			if o.seq == 0 {
				o.seq = ev.Seq
			}
		case ev.Actor == tickets.ActorCustomer:
		case ev.Kind == tickets.KindReply && !ev.Internal && ev.Message != nil:
			o.reply, o.seq = ev, ev.Seq
		case ev.Kind == tickets.KindStatus && (ev.Status == tickets.StatusWaiting || ev.Status == tickets.StatusSolved):
			o.status = ev.Status
			if o.seq == 0 {
				o.seq = ev.Seq
			}
		case ev.Kind == tickets.KindStatus:
			o.status = "" // a later status in the same change wins
		}
	}
	return o
}

// kind is the mail the outcome makes; "" for none.
func (o outcome) kind() string {
	switch {
	case o.reply != nil:
		return KindReply
	case o.status == tickets.StatusWaiting:
		return KindWaiting
	case o.status == tickets.StatusSolved:
		return KindSolved
	case o.call:
		return KindCall
	}
	return ""
}

// Changed is tickets.Config.NotifyTx: inside the transaction of a change,
// it writes the one mail the change causes, if any. An agent's reply is
// always mailed, saying the status it set (waiting, solved) and the call
// the reply rule raised with it; without a reply, a change to waiting or
// solved, or the reply rule's call, is a status mail, which the customer
// may have stopped (Ticket.StatusMails). Each mail carries a link token
// minted for it in the same transaction, a Reply-To that leads back to the
// ticket, and threading headers that make the ticket's mails one
// conversation. An error rolls the change back.
func (m *Mailer) Changed(ctx context.Context, tx *sqlitedb.Tx, number int, events []tickets.Event) error {
	o := read(events)
	kind := o.kind()
	if kind == "" {
		return nil
	}
	if m.cfg.Tickets == nil {
		return fmt.Errorf("ticketmail: %s #%d: no ticket store configured", kind, number)
	}
	store := m.cfg.Tickets()
	t, err := store.GetTx(ctx, tx, number)
	if err != nil {
		return fmt.Errorf("ticketmail: %s #%d: %w", kind, number, err)
	}
	if kind != KindReply && !t.StatusMails {
		return nil
	}
	token, err := store.MintLinkTx(ctx, tx, number, kind)
	if err != nil {
		return fmt.Errorf("ticketmail: %s #%d: %w", kind, number, err)
	}
	msg := m.compose(t, o, kind)
	msg.MessageID = mail.TicketMessageID(int64(number), kind+"-"+strconv.FormatInt(o.seq, 10), m.host)
	msg.Secret = token
	if err := m.thread(tx, &msg); err != nil {
		return fmt.Errorf("ticketmail: %s #%d: %w", kind, number, err)
	}
	if _, err := mail.Enqueue(tx, msg); err != nil {
		return fmt.Errorf("ticketmail: %s #%d: %w", kind, number, err)
	}
	return nil
}

// thread sets msg's threading headers from the ticket's earlier mails.
func (m *Mailer) thread(tx *sqlitedb.Tx, msg *mail.Message) error {
	thread, err := mail.ThreadTx(tx, msg.Ticket)
	if err != nil {
		return err
	}
	if len(thread) > 0 {
		msg.InReplyTo = thread[0] // the "filed" mail, the thread's root
		if len(thread) > maxReferences {
			thread = append(thread[:1:1], thread[len(thread)-maxReferences+1:]...)
		}
		msg.References = strings.Join(thread, " ")
	}
	return nil
}

// compose writes the mail's subject and bodies in the ticket's mail
// language. Links carry mail.SecretMark where the link token goes.
func (m *Mailer) compose(t tickets.Ticket, o outcome, kind string) mail.Message {
	lang := MailLang(m.cfg.Words, t)
	tr := func(key string, args ...any) string {
		return m.cfg.Words.T(lang, key, append([]any{"number", t.Number, "subject", t.Subject, "name", t.Name, "phone", t.Phone}, args...)...)
	}
	// One subject for every mail of the ticket; what this one is, its
	// first line says.
	subject := m.threadSubject(lang, t)
	var b body
	b.para(tr("mailout.what." + kind))
	b.para(tr("mailout.hello"))
	switch kind {
	case KindReply:
		b.para(tr("mailout.reply.intro"))
		b.quote(o.reply.Message.Body)
		switch o.status {
		case tickets.StatusWaiting:
			b.para(tr("mailout.waiting.now"))
		case tickets.StatusSolved:
			b.para(tr("mailout.solved.now") + " " + tr("mailout.solved.reopen"))
		}
	case KindWaiting:
		// Say what we need: the question we last asked.
		if last := lastReply(t); last != "" {
			b.para(tr("mailout.waiting.intro"))
			b.quote(last)
		} else {
			b.para(tr("mailout.waiting.intro_plain"))
		}
	case KindSolved:
		b.para(tr("mailout.solved.intro"))
		b.para(tr("mailout.solved.reopen"))
	}
	if o.call {
		// The policy: a phone follow-up quotes the ticket's number.
		intro := tr("mailout.call.intro")
		if kind != KindCall { // not right after the greeting
			intro = upperFirst(intro)
		}
		b.para(intro)
		b.para(tr("mailout.call.quote"))
	}
	if kind == KindReply && o.status == "" {
		b.para(tr("mailout.reply.answer"))
	}
	b.link(tr("mailout.link"), m.cfg.PublicURL+fmt.Sprintf("/tickets/%d?token=%s", t.Number, mail.SecretMark))
	if kind != KindReply {
		b.link(tr("mailout.stop"), m.cfg.PublicURL+fmt.Sprintf("/tickets/%d/mail?token=%s", t.Number, mail.SecretMark))
	}
	b.signature(m.cfg.Words.T(lang, "email.signature"))
	return mail.Message{
		Ticket:  int64(t.Number),
		Kind:    kind,
		Lang:    lang,
		To:      t.Email,
		Subject: subject,
		Text:    b.text.String(),
		HTML:    b.html(lang, subject),
		// A reply written by a person is not auto-generated (RFC 3834
		// 5.1): the customer's auto-responder may answer it as it would a
		// colleague. Status and call mails are.
		AutoSubmitted: kind != KindReply,
		Headers:       m.replyTo(t.Number),
	}
}

// replyTo is the Reply-To header of ticket number's mails (0: none), and
// X-Loop naming the support address, so that the portal knows its own
// mail should it come back; nothing if tags are not set.
func (m *Mailer) replyTo(number int) map[string]string {
	if m.cfg.Tags == nil {
		return nil
	}
	h := map[string]string{"X-Loop": m.cfg.Tags.Base()}
	if number > 0 {
		h["Reply-To"] = m.cfg.Tags.Address(number)
	}
	return h
}

// lastReply is the latest message support sent the customer, "" if none.
func lastReply(t tickets.Ticket) string {
	for i := len(t.Messages) - 1; i >= 0; i-- {
		if msg := t.Messages[i]; msg.Author == tickets.ActorSupport && !msg.Internal {
			return msg.Body
		}
	}
	return ""
}

// upperFirst capitalises a sentence that the locale writes to follow the
// greeting's comma ("damit…", "aby…") when it comes later in the mail.
func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || unicode.IsUpper(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// body is a mail's text and HTML, written paragraph by paragraph alike.
type body struct {
	text  strings.Builder
	htmlB strings.Builder
}

func (b *body) para(s string) {
	b.text.WriteString(s + "\n\n")
	b.htmlB.WriteString("<p>" + html.EscapeString(s) + "</p>\n")
}

// quote is a message's Markdown: its source in the text, rendered by safemd
// (as on the ticket's page, raw HTML left out) in the HTML.
func (b *body) quote(md string) {
	b.text.WriteString(strings.TrimSpace(md) + "\n\n")
	b.htmlB.WriteString(`<div style="border-left:3px solid #c8ccd0;margin:0 0 1em;padding:0 0 0 12px">` + "\n" +
		safemd.HTML(md) + "</div>\n")
}

func (b *body) link(label, url string) {
	b.text.WriteString(label + "\n" + url + "\n\n")
	u := html.EscapeString(url)
	b.htmlB.WriteString("<p>" + html.EscapeString(label) + "<br>\n<a href=\"" + u + "\">" + u + "</a></p>\n")
}

func (b *body) signature(s string) {
	b.text.WriteString(s + "\n")
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = html.EscapeString(lines[i])
	}
	b.htmlB.WriteString("<p>" + strings.Join(lines, "<br>\n") + "</p>\n")
}

// html is the whole HTML document.
func (b *body) html(lang, subject string) string {
	return `<!DOCTYPE html>
<html lang="` + html.EscapeString(lang) + `">
<head><meta charset="utf-8"><title>` + html.EscapeString(subject) + `</title></head>
<body style="font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5;color:#1f2328">
` + b.htmlB.String() + `</body>
</html>
`
}
