package mailroute

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/orbitask/portal/deflect"
	"github.com/orbitask/portal/i18n"
	"github.com/orbitask/portal/inbound"
	"github.com/orbitask/portal/replytag"
	"github.com/orbitask/portal/search"
	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/tickets"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DefaultAnswersPerHour is how many questions of one sender are answered
// in an hour, the sender counted as one mailbox receives the answers
// (lower-cased, "+ext" dropped from the local part); the mails beyond are
// accepted and dropped unanswered.
const DefaultAnswersPerHour = 5

// DefaultAnswersPerDomainHour caps the answers to the senders of one
// domain in an hour: many addresses of one victim's domain, forged, get
// no more than this between them.
const DefaultAnswersPerDomainHour = 20

// DefaultAnswersTotalHour caps all answers in an hour: whatever the
// senders, the portal never sends more answers than this.
const DefaultAnswersTotalHour = 200

// QuestionTTL is how long the link of an answer ("file my ticket") opens
// the prefilled form: as long as the question's deflection session stays
// open.
const QuestionTTL = deflect.EmailAbandonAfter

// seenKept is how long a mail's Message-ID is remembered against repeats.
const seenKept = 30 * 24 * time.Hour

// Config is what a Router needs.
type Config struct {
	DB      *sqlitedb.DB
	Tickets *tickets.Store
	Deflect *deflect.Tracker
	Search  *search.Index
	Tags    *replytag.Tags
	Words   *i18n.Bundle
	// PublicURL is where customers reach the portal: the links in answers.
	// Empty: questions are recorded as seen and not answered.
	PublicURL string
	// AnswersPerHour: see DefaultAnswersPerHour (0 means it).
	AnswersPerHour int
	// AnswersPerDomainHour: see DefaultAnswersPerDomainHour (0 means it).
	AnswersPerDomainHour int
	// AnswersTotalHour: see DefaultAnswersTotalHour (0 means it).
	AnswersTotalHour int
	Logger           *slog.Logger     // nil discards
	Now              func() time.Time // nil = time.Now
}

// Router acts on incoming mail.
type Router struct {
	cfg  Config
	host string // the answers' Message-IDs' domain
	log  *slog.Logger
	now  func() time.Time
}

// New migrates mailroute's tables and returns a Router.
func New(cfg Config) (*Router, error) {
	if cfg.DB == nil || cfg.Tickets == nil || cfg.Deflect == nil || cfg.Search == nil || cfg.Tags == nil || cfg.Words == nil {
		return nil, errors.New("mailroute: DB, Tickets, Deflect, Search, Tags and Words are required")
	}
	r := &Router{cfg: cfg, log: cfg.Logger, now: cfg.Now}
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--public-url: %q is not an http(s) URL with a host", cfg.PublicURL)
		}
		r.cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
		r.host = u.Hostname()
	}
	if r.cfg.AnswersPerHour <= 0 {
		r.cfg.AnswersPerHour = DefaultAnswersPerHour
	}
	if r.cfg.AnswersPerDomainHour <= 0 {
		r.cfg.AnswersPerDomainHour = DefaultAnswersPerDomainHour
	}
	if r.cfg.AnswersTotalHour <= 0 {
		r.cfg.AnswersTotalHour = DefaultAnswersTotalHour
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	if err := cfg.DB.Migrate("mailroute", migrations, "migrations"); err != nil {
		return nil, fmt.Errorf("mailroute: %w", err)
	}
	return r, nil
}

// errSeen undoes the work of a mail already acted on.
var errSeen = errors.New("mail already delivered")

// Deliver acts on one incoming mail, raw as it arrived, sent by
// envelopeFrom ("" for the null sender) to rcpts: automatic traffic is
// dropped; a customer's answer to a ticket mail (a valid reply address
// among the recipients, or in To/Cc, and the ticket's own address in From)
// becomes a reply on the ticket; anything else is a question, answered
// with articles. A mail is acted on once, however many of its recipients
// are ours and however often it is delivered. The error wraps
// inbound.ErrRefused or inbound.ErrMalformed when the mail is refused for
// good; any other error is temporary (the sender tries again).
func (r *Router) Deliver(ctx context.Context, envelopeFrom string, rcpts []string, raw []byte) error {
	m, err := inbound.Parse(raw, envelopeFrom)
	if err != nil {
		if !errors.Is(err, inbound.ErrRefused) && !errors.Is(err, inbound.ErrMalformed) {
			// What does not parse now never will.
			err = fmt.Errorf("%w: %w", inbound.ErrMalformed, err)
		}
		return fmt.Errorf("mailroute: %w", err)
	}
	log := r.log.With("message_id", m.MessageID, "from", m.From)
	if m.Auto == "" && r.ourLoop(m.XLoop) {
		m.Auto = "x-loop"
	}
	if m.Auto != "" {
		log.Info("mail dropped: automatic traffic, never answered", "auto", m.Auto)
		return nil
	}
	key := m.MessageID
	if key == "" {
		sum := sha256.Sum256(raw)
		key = "sha256:" + hex.EncodeToString(sum[:])
	}
	if seen, err := r.seen(ctx, key); err != nil || seen {
		if seen {
			log.Info("mail dropped: delivered before")
		}
		return err
	}
	ours, replies := r.classify(append(append([]string(nil), rcpts...), m.To...))
	if !ours {
		return fmt.Errorf("mailroute: no recipient is the support address: %w", inbound.ErrRefused)
	}
	for _, n := range replies {
		done, err := r.reply(ctx, log, key, n, m, raw)
		if done || err != nil {
			return err
		}
	}
	return r.question(ctx, log, key, envelopeFrom, m)
}

// classify reads the recipients: whether any is the support address (with
// or without a tag), and the tickets whose valid reply addresses they are,
// in order, each once.
func (r *Router) classify(addrs []string) (ours bool, replies []int) {
	for _, a := range addrs {
		kind, n := r.cfg.Tags.Parse(a)
		if kind == replytag.Other {
			continue
		}
		ours = true
		if kind == replytag.Reply && !containsInt(replies, n) {
			replies = append(replies, n)
		}
	}
	return ours, replies
}

func containsInt(list []int, n int) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

// seen says whether the mail with key was acted on already.
func (r *Router) seen(ctx context.Context, key string) (bool, error) {
	var n int
	if err := r.cfg.DB.QueryRowContext(ctx, `SELECT count(*) FROM mailroute_seen WHERE key = ?`, key).Scan(&n); err != nil {
		return false, fmt.Errorf("mailroute: %w", err)
	}
	return n > 0, nil
}

// claim records the mail in tx; errSeen if it was recorded before (a
// concurrent delivery of the same mail committed first).
func (r *Router) claim(ctx context.Context, tx *sqlitedb.Tx, key, sender, outcome string, ticket int) error {
	now := r.now().UTC()
	var t any
	if ticket > 0 {
		t = ticket
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO mailroute_seen (key, sender, outcome, ticket, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (key) DO NOTHING`, key, strings.ToLower(sender), outcome, t, sqlitedb.FormatTime(now))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err == nil {
			err = errSeen
		}
		return err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM mailroute_seen WHERE at < ?`, sqlitedb.FormatTime(now.Add(-seenKept)))
	return err
}

// reply appends the mail to ticket n if it may be: the ticket exists, is
// not closed and its address is the mail's From. done is false when the
// mail is not a reply to n after all (it is then a question).
func (r *Router) reply(ctx context.Context, log *slog.Logger, key string, n int, m inbound.Mail, raw []byte) (done bool, err error) {
	tk, err := r.cfg.Tickets.GetByNumber(ctx, n)
	switch {
	case errors.Is(err, tickets.ErrNotFound):
		log.Info("mail to a reply address of no ticket: a question", "ticket", n)
		return false, nil
	case err != nil:
		return false, fmt.Errorf("mailroute: %w", err)
	case !strings.EqualFold(strings.TrimSpace(tk.Email), m.From):
		log.Info("mail to a ticket's reply address from another sender: a question", "ticket", n)
		return false, nil
	case tk.Status == tickets.StatusClosed:
		log.Info("mail to a closed ticket: a question", "ticket", n)
		return false, nil
	}
	lang := ticketLang(r.cfg.Words, tk)
	// Files attached come before parts shown inline (signature logos), so
	// that these never crowd a real file out of the limit on files.
	atts := make([]tickets.Attachment, 0, len(m.Attachments))
	for _, inline := range []bool{false, true} {
		for _, a := range m.Attachments {
			if a.Inline == inline {
				atts = append(atts, tickets.Attachment{Name: a.Name, ContentType: a.ContentType, Data: a.Data})
			}
		}
	}
	// A file a filing would refuse is left out, with a line saying so;
	// the text and the other files land (the .eml keeps everything).
	atts, refused := tickets.CheckMailAttachments(atts)
	var notes string
	for _, p := range refused {
		notes += "\n\n" + r.cfg.Words.T(lang, "mailroute.left_out", "problem", fileProblem(r.cfg.Words, lang, p.Name, p.Code, p.Params.Int("max_mb"), p.Params.Int("max")))
	}
	body := replyText(m)
	if body == "" {
		body = r.cfg.Words.T(lang, "mailroute.no_text")
	}
	// The notes always fit: the text gives way (the .eml keeps it whole).
	body = truncateRunes(truncateRunes(body, max(0, tickets.MaxDescription-utf8.RuneCountInString(notes)))+notes, tickets.MaxDescription)
	ev, err := r.cfg.Tickets.ReplyByMail(ctx, n, tickets.MailReply{
		Body: body, Attachments: atts, EML: raw, EMLName: emlName(r.now()),
		Claim: func(ctx context.Context, tx *sqlitedb.Tx) error {
			return r.claim(ctx, tx, key, m.From, "reply", n)
		},
	})
	switch {
	case errors.Is(err, errSeen):
		log.Info("mail dropped: delivered before")
		return true, nil
	case errors.Is(err, tickets.ErrClosed): // closed meanwhile
		log.Info("mail to a closed ticket: a question", "ticket", n)
		return false, nil
	case err != nil:
		var ve *tickets.ValidationError
		if errors.As(err, &ve) { // would be refused again
			return true, fmt.Errorf("mailroute: reply to #%d: %w: %w", n, inbound.ErrRefused, err)
		}
		return true, fmt.Errorf("mailroute: reply to #%d: %w", n, err)
	}
	log.Info("reply by mail added", "ticket", n, "seq", ev.Seq, "attachments", len(atts), "refused", len(refused))
	return true, nil
}

// emlName names the original mail kept with a reply.
func emlName(at time.Time) string {
	return "mail-" + at.UTC().Format("2006-01-02-150405") + ".eml"
}

// ticketLang is the language a ticket is answered in.
func ticketLang(words *i18n.Bundle, tk tickets.Ticket) string {
	if tk.AnswerInEnglish || !words.Has(tk.Lang) {
		return "en"
	}
	return tk.Lang
}

// fileProblem is a refused file's problem in lang, in the ticket form's words.
func fileProblem(words *i18n.Bundle, lang, name, code string, maxMB, max int) string {
	args := []any{"file", name}
	switch code {
	case "file_too_large":
		args = append(args, "max", maxMB)
	case "too_many_files":
		return name + ": " + words.T(lang, "field_error."+code, i18n.CountArg, max)
	}
	return words.T(lang, "field_error."+code, args...)
}

// replyText is what the customer wrote: the mail's new text (its full
// text when stripping left nothing), as a ticket message may hold it.
func replyText(m inbound.Mail) string {
	text := cleanText(m.Text)
	if text == "" {
		text = cleanText(m.FullText)
	}
	return text
}

// cleanText keeps a mail's text as a message may hold it: line breaks as
// "\n", no other control characters, at most tickets.MaxDescription
// characters (the .eml keeps the rest).
func cleanText(s string) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\r\n", "\n"), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r == '\r' {
			return '\n'
		}
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > tickets.MaxDescription {
		s = string([]rune(s)[:tickets.MaxDescription])
	}
	return s
}

// ourLoop says whether an X-Loop value names the support address: the
// portal's own mail (every mail it sends carries one) come back.
func (r *Router) ourLoop(values []string) bool {
	for _, v := range values {
		if kind, _ := r.cfg.Tags.Parse(v); kind != replytag.Other {
			return true
		}
	}
	return false
}

// answersOurAnswer says whether the mail answers one of the portal's
// automatic answers to questions (their Message-IDs are
// "<question.HEX@host>", host the public URL's): an auto-responder
// without the usual headers, which must not be answered again.
func (r *Router) answersOurAnswer(m inbound.Mail) bool {
	if r.host == "" {
		return false
	}
	for _, id := range append([]string{m.InReplyTo}, m.References...) {
		if strings.HasPrefix(id, "<question.") && strings.EqualFold(strings.TrimSuffix(id[strings.LastIndexByte(id, '@')+1:], ">"), r.host) {
			return true
		}
	}
	return false
}
