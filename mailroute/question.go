package mailroute

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"log/slog"
	netmail "net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/orbitask/portal/inbound"
	"github.com/orbitask/portal/mail"
	"github.com/orbitask/portal/replytag"
	"github.com/orbitask/portal/search"
	"github.com/orbitask/portal/sqlitedb"
)

// maxArticles is how many articles an answer lists, as beside a draft.
const maxArticles = 5

// maxSubject is how many characters of the question's subject its answer's
// subject quotes (after "Re: ").
const maxSubject = 80

// ErrNotFound is returned by Question for a link that is unknown or expired.
var ErrNotFound = errors.New("not found")

// Question is what a question mailed to the support address left to file
// it as a ticket: the ticket form is prefilled with it.
type Question struct {
	Email, Name   string // the sender
	Subject, Text string // the mail's subject and new text
	Lang          string // detected as a filing's
	Session       string // its deflection session (source email)
}

// question answers a mail to the support address with the articles that
// match it and a link to the prefilled ticket form, in one transaction
// with the record of the mail and its deflection session. The answer goes
// to the mail's From, which anyone can forge, so a mail whose sender is
// not vouched for (see vouched) gets none, nor does one beyond the hourly
// caps per sender, per domain and in all; such a mail is recorded as seen
// all the same (a repeat does nothing) and logged.
func (r *Router) question(ctx context.Context, log *slog.Logger, key, envelopeFrom string, m inbound.Mail) error {
	sender := strings.ToLower(m.From)
	if _, err := netmail.ParseAddress(sender); err != nil || sender == "" {
		log.Info("question dropped: no sender address to answer")
		return nil
	}
	if kind, _ := r.cfg.Tags.Parse(sender); kind != replytag.Other {
		log.Warn("question dropped: it comes from the support address itself (a loop?)")
		return nil
	}
	senderKey, domain := mailbox(sender)
	// Why no answer is written, known before any search is done.
	var why string
	switch ok, reason := vouched(m, envelopeFrom); {
	case r.cfg.PublicURL == "":
		why = "no --public-url for the links"
	case r.answersOurAnswer(m):
		// Its answer says to use the link: a person who answers it is
		// told nothing more, an auto-responder gets no loop.
		why = "it answers one of our automatic answers"
	case !ok:
		why = reason
	}
	subject := cleanLine(m.Subject)
	text := replyText(m)
	lang := r.cfg.Tickets.DetectLang(subject + "\n" + text)
	if !r.cfg.Words.Has(lang) {
		lang = "en"
	}
	var res search.Result
	if why == "" && strings.TrimSpace(subject+text) != "" {
		// As a draft that is finished: the trailing space says the last
		// word is whole. The search falls back to English as drafting does.
		q := search.DraftQuery(truncateUTF8(subject+"\n"+text, search.MaxTextBytes-1)+" ", lang, maxArticles)
		var err error
		if res, err = r.cfg.Search.Search(ctx, q); err != nil {
			return fmt.Errorf("mailroute: question: %w", err)
		}
	}
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.Article.ID
	}
	var outcome string
	err := r.cfg.DB.Write(ctx, func(tx *sqlitedb.Tx) error {
		wctx := context.WithoutCancel(ctx)
		now := r.now().UTC()
		if why == "" {
			var err error
			if why, err = r.overCap(wctx, tx, senderKey, domain, now); err != nil {
				return err
			}
		}
		outcome = "question"
		if why != "" {
			outcome = "limited" // not answered, whatever the reason
		}
		if err := r.claim(wctx, tx, key, sender, outcome, 0); err != nil {
			return err
		}
		if outcome == "limited" {
			return nil
		}
		query := truncateRunes(strings.TrimSpace(subject+"\n"+text), 20_000)
		session, err := r.cfg.Deflect.StartEmailTx(wctx, tx, lang, query, ids, res.BelowFloor)
		if err != nil {
			return err
		}
		var raw [32]byte
		rand.Read(raw[:])
		token := base64.RawURLEncoding.EncodeToString(raw[:])
		hash := sha256.Sum256([]byte(token))
		if _, err := tx.ExecContext(wctx, `DELETE FROM mailroute_questions WHERE expires_at < ?`, sqlitedb.FormatTime(now)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(wctx, `INSERT INTO mailroute_questions (hash, sender, sender_key, domain, name, subject, text, lang, session, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, hash[:], sender, senderKey, domain, cleanLine(m.FromName), subject, text, lang, session,
			sqlitedb.FormatTime(now), sqlitedb.FormatTime(now.Add(QuestionTTL))); err != nil {
			return err
		}
		_, err = mail.Enqueue(tx, r.answer(m, sender, subject, lang, session, res.Hits, r.cfg.PublicURL+"/tickets/new?mail="+token))
		return err
	})
	switch {
	case errors.Is(err, errSeen):
		log.Info("mail dropped: delivered before")
		return nil
	case err != nil:
		return fmt.Errorf("mailroute: question: %w", err)
	case outcome == "limited":
		log.Warn("question not answered: "+why, "envelope_from", envelopeFrom)
	default:
		log.Info("question answered by mail", "lang", lang, "articles", len(ids))
	}
	return nil
}

// answer is the mail that answers a question: the matching articles, each
// with a one-line snippet and its link (carrying the session, so that an
// article opened from the mail counts for it), and the link to the
// prefilled ticket form, which the outbox keeps only until it is sent.
func (r *Router) answer(m inbound.Mail, sender, subject, lang, session string, hits []search.Hit, fileLink string) mail.Message {
	w := r.cfg.Words
	var b strings.Builder
	// Nothing of the sender's choosing but the subject, cut short, goes
	// into the answer: From may be forged, and the answer must not carry
	// a stranger's words (a display name "WIN 1000 EUR at ...") to its
	// owner.
	b.WriteString(w.T(lang, "mailroute.answer.greeting_anonymous"))
	b.WriteString("\n\n")
	if len(hits) > 0 {
		b.WriteString(w.T(lang, "mailroute.answer.intro") + "\n")
		for _, h := range hits {
			fmt.Fprintf(&b, "\n* %s\n", h.Article.Title)
			if s := snippetLine(string(h.Snippet), h.Article.Description); s != "" {
				fmt.Fprintf(&b, "  %s\n", s)
			}
			fmt.Fprintf(&b, "  %s%s?ds=%s\n", r.cfg.PublicURL, h.Article.URL(), session)
		}
		b.WriteString("\n" + w.T(lang, "mailroute.answer.file") + "\n")
	} else {
		b.WriteString(w.T(lang, "mailroute.answer.none") + "\n\n")
		b.WriteString(w.T(lang, "mailroute.answer.file_none") + "\n")
	}
	b.WriteString(mail.SecretMark + "\n\n")
	b.WriteString(w.T(lang, "mailroute.answer.note") + "\n\n")
	b.WriteString(w.T(lang, "email.signature") + "\n")

	if subject == "" {
		subject = w.T(lang, "mailroute.answer.subject_none")
	}
	subject = truncateRunes(subject, maxSubject)
	if !hasReplyPrefix(subject) {
		subject = "Re: " + subject
	}
	msg := mail.Message{
		MessageID: mail.NewMessageID("question", r.host), Kind: "question", Lang: lang, To: sender,
		Subject: subject, Text: b.String(), AutoReplied: true, Secret: fileLink,
		Headers: map[string]string{"X-Loop": r.cfg.Tags.Base()},
	}
	// Threaded under the question when its ids are well formed.
	if validID(m.MessageID) {
		msg.InReplyTo = m.MessageID
		var refs []string
		for _, id := range append(append([]string(nil), m.References...), m.MessageID) {
			if validID(id) {
				refs = append(refs, id)
			}
		}
		msg.References = strings.Join(refs, " ")
	}
	return msg
}

// Question returns what the link of an answer prefills the ticket form
// with, while it is valid; ErrNotFound otherwise.
func (r *Router) Question(ctx context.Context, token string) (Question, error) {
	if token == "" || len(token) > 100 {
		return Question{}, fmt.Errorf("mailroute: question: %w", ErrNotFound)
	}
	hash := sha256.Sum256([]byte(token))
	var q Question
	err := r.cfg.DB.QueryRowContext(ctx, `SELECT sender, name, subject, text, lang, session FROM mailroute_questions
		WHERE hash = ? AND expires_at > ?`, hash[:], sqlitedb.FormatTime(r.now().UTC())).Scan(
		&q.Email, &q.Name, &q.Subject, &q.Text, &q.Lang, &q.Session)
	if errors.Is(err, sql.ErrNoRows) {
		return Question{}, fmt.Errorf("mailroute: question: %w", ErrNotFound)
	}
	if err != nil {
		return Question{}, fmt.Errorf("mailroute: question: %w", err)
	}
	return q, nil
}

func hasReplyPrefix(subject string) bool {
	l := strings.ToLower(subject)
	for _, p := range []string{"re:", "aw:", "sv:", "odp:", "réf:"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// validID accepts a Message-ID the outbox takes: "<left@right>" in
// printable ASCII without spaces.
func validID(id string) bool {
	if len(id) < 5 || len(id) > 250 || id[0] != '<' || id[len(id)-1] != '>' {
		return false
	}
	inner := id[1 : len(id)-1]
	left, right, ok := strings.Cut(inner, "@")
	if !ok || left == "" || right == "" {
		return false
	}
	for i := 0; i < len(inner); i++ {
		if c := inner[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' {
			return false
		}
	}
	return true
}

var tags = regexp.MustCompile(`<[^>]*>`)

// snippetLine is a search snippet as one line of plain text (marks
// dropped, entities decoded), at most about 160 characters; the article's
// description when there is none.
func snippetLine(snippet, description string) string {
	s := html.UnescapeString(tags.ReplaceAllString(snippet, ""))
	if strings.TrimSpace(s) == "" {
		s = description
	}
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= 160 {
		return s
	}
	cut := []rune(s)[:160]
	if i := strings.LastIndexByte(string(cut), ' '); i > 80 {
		return string(cut)[:i] + " …"
	}
	return string(cut) + "…"
}

// cleanLine is a header's text as one line (a subject, a name).
func cleanLine(s string) string {
	return truncateRunes(strings.Join(strings.Fields(cleanText(s)), " "), 200)
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
