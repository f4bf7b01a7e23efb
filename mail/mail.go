// Package mail is the portal's outgoing e-mail: a transactional outbox in
// SQLite and the Sender that delivers it over SMTP (issue 14).
//
// A domain package writes a mail with Enqueue inside the write transaction
// of the event that causes it, so the mail exists exactly when the event
// does: a rolled-back filing sends nothing, a committed one is never lost.
// The Sender, woken by the commit, delivers due mails to the relay named by
// --smtp-url, retries with backoff, and gives up on a permanent (5xx) reply
// or after MaxAttempts; operators list and retry those (Failed, Retry).
//
// Delivery is at least once: if the process dies after the relay accepted a
// mail but before the outbox recorded it as sent, the mail is sent again
// after the restart. It carries the same Message-ID both times, so mail
// clients show it once.
//
// The package knows nothing of HTTP or tickets; its texts are rendered by
// the caller.
package mail

import (
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	netmail "net/mail"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/orbitask/portal/sqlitedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Message is a mail to enqueue. To, Subject and Text are required.
type Message struct {
	// MessageID is the Message-ID header, angle brackets included, such
	// as "<ticket-1001.reply-7.3f9a@portal.example>". Empty: one is
	// generated at Enqueue (NewMessageID("", "")). It must be unique in the
	// outbox and never changes, so that a mail sent twice is shown once.
	MessageID string
	Ticket    int64  // the ticket the mail is about; 0: none
	Kind      string // what the mail is (filed, reply, status, ...); for operators
	Lang      string // the language it is written in
	To        string // one address, with or without a display name
	Subject   string
	Text      string // the plain-text body
	HTML      string // the HTML body; empty: plain text only

	// Threading: the Message-ID this mail answers and the thread's
	// Message-IDs, space-separated, oldest first (RFC 5322 3.6.4).
	InReplyTo  string
	References string
	// AutoSubmitted marks an automatic mail (Auto-Submitted:
	// auto-generated, RFC 3834), so that auto-responders stay quiet.
	AutoSubmitted bool
	// AutoReplied marks an automatic answer to a mail instead
	// (Auto-Submitted: auto-replied, RFC 3834 section 5).
	AutoReplied bool
	// Headers are further header fields, by name. The fields the sender
	// sets itself (From, To, Subject, Date, Message-ID, MIME and
	// Content-*) are refused.
	Headers map[string]string
	// Secret, if set, replaces SecretMark in Text and HTML when the mail
	// is sent, and is forgotten once it is: a ticket's private link, whose
	// token the portal otherwise keeps only hashed.
	Secret string
	// Secrets are further secrets, kept and forgotten like Secret: the
	// i-th replaces SecretMarkN(i) (a mail with two private links).
	Secrets []string
}

// SecretMark stands for Message.Secret in a mail's bodies.
const SecretMark = "{{portal:secret}}"

// SecretMarkN stands for Message.Secrets[i] in a mail's bodies.
func SecretMarkN(i int) string { return "{{portal:secret:" + strconv.Itoa(i) + "}}" }

// ErrInvalid is wrapped by Enqueue's errors for a message it refuses; the
// error's text names the field.
var ErrInvalid = errors.New("invalid message")

// ErrNotFound is returned for a mail id the outbox does not hold.
var ErrNotFound = errors.New("not found")

// ErrNotFailed is returned by Retry for a mail that has not failed.
var ErrNotFailed = errors.New("mail has not failed")

// Header names kept in the headers column.
const (
	headerInReplyTo     = "In-Reply-To"
	headerReferences    = "References"
	headerAutoSubmitted = "Auto-Submitted"
)

// reserved are the header fields the sender writes itself (lower case).
var reserved = map[string]bool{
	"from": true, "to": true, "cc": true, "bcc": true, "subject": true, "date": true,
	"message-id": true, "mime-version": true, "sender": true, "return-path": true,
}

// Enqueue writes m to the outbox inside the caller's write transaction and
// returns its id. Once the transaction commits, the running Senders are
// woken, so the mail leaves at once; if it is undone, nothing is sent.
func Enqueue(tx *sqlitedb.Tx, m Message) (int64, error) {
	if err := m.normalize(); err != nil {
		return 0, fmt.Errorf("mail: enqueue: %w", err)
	}
	headers, err := json.Marshal(m.headers())
	if err != nil {
		return 0, fmt.Errorf("mail: enqueue: %w", err)
	}
	var ticket, html any
	if m.Ticket != 0 {
		ticket = m.Ticket
	}
	if m.HTML != "" {
		html = m.HTML
	}
	var secret, secrets any
	if m.Secret != "" {
		secret = m.Secret
	}
	if len(m.Secrets) > 0 {
		b, err := json.Marshal(m.Secrets)
		if err != nil {
			return 0, fmt.Errorf("mail: enqueue: %w", err)
		}
		secrets = string(b)
	}
	now := sqlitedb.FormatTime(time.Now())
	res, err := tx.Exec(`INSERT INTO mail_outbox
		(message_id, ticket, kind, lang, to_addr, subject, text_body, html_body, headers, created_at, next_attempt_at, secret, secrets)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.MessageID, ticket, m.Kind, m.Lang, m.To, m.Subject, m.Text, html, string(headers), now, now, secret, secrets)
	if err != nil {
		return 0, fmt.Errorf("mail: enqueue: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("mail: enqueue: %w", err)
	}
	tx.OnCommit(wakeAll)
	return id, nil
}

// normalize checks m and fills in what may be left out.
func (m *Message) normalize() error {
	invalid := func(field, format string, args ...any) error {
		return fmt.Errorf("%s: %s: %w", field, fmt.Sprintf(format, args...), ErrInvalid)
	}
	if m.Secret != "" && !strings.Contains(m.Text, SecretMark) {
		return invalid("secret", "the text has no %s to put it in", SecretMark)
	}
	for i, sec := range m.Secrets {
		if sec == "" || !strings.Contains(m.Text, SecretMarkN(i)) {
			return invalid("secrets", "secret %d is empty or the text has no %s to put it in", i, SecretMarkN(i))
		}
	}
	// A mark without its secret is not an error: it is customer text (a
	// name, a subject) and stays text. Every secret of a mail belongs to
	// its one recipient, so one who types a mark can at most see their
	// own link in their own mail.
	to, err := netmail.ParseAddress(m.To)
	if err != nil {
		return invalid("to", "not an e-mail address (%q): %v", m.To, err)
	}
	m.To = to.Address
	if to.Name != "" {
		m.To = to.String()
	}
	if strings.TrimSpace(m.Subject) == "" {
		return invalid("subject", "is required")
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return invalid("subject", "must be a single line")
	}
	if strings.TrimSpace(m.Text) == "" {
		return invalid("text", "the plain-text body is required")
	}
	for field, s := range map[string]string{"subject": m.Subject, "text": m.Text, "html": m.HTML} {
		if !utf8.ValidString(s) {
			return invalid(field, "not valid UTF-8")
		}
	}
	if m.MessageID == "" {
		m.MessageID = NewMessageID("", "")
	} else if err := checkMessageID(m.MessageID); err != nil {
		return invalid("message_id", "%v", err)
	}
	if m.InReplyTo != "" {
		if err := checkMessageID(m.InReplyTo); err != nil {
			return invalid("in_reply_to", "%v", err)
		}
	}
	for _, ref := range strings.Fields(m.References) {
		if err := checkMessageID(ref); err != nil {
			return invalid("references", "%v", err)
		}
	}
	m.References = strings.Join(strings.Fields(m.References), " ")
	for name, value := range m.Headers {
		if !validFieldName(name) {
			return invalid("headers", "%q is not a header field name", name)
		}
		lower := strings.ToLower(name)
		if reserved[lower] || strings.HasPrefix(lower, "content-") ||
			lower == strings.ToLower(headerInReplyTo) || lower == strings.ToLower(headerReferences) ||
			lower == strings.ToLower(headerAutoSubmitted) {
			return invalid("headers", "%s is set by the sender or by its own field of Message", name)
		}
		if strings.ContainsAny(value, "\r\n") || !utf8.ValidString(value) {
			return invalid("headers", "%s: the value must be one line of UTF-8 text", name)
		}
	}
	return nil
}

// headers is what the headers column keeps.
func (m *Message) headers() map[string]string {
	h := make(map[string]string, len(m.Headers)+3)
	for k, v := range m.Headers {
		h[k] = v
	}
	if m.InReplyTo != "" {
		h[headerInReplyTo] = m.InReplyTo
	}
	if m.References != "" {
		h[headerReferences] = m.References
	}
	if m.AutoSubmitted {
		h[headerAutoSubmitted] = "auto-generated"
	}
	if m.AutoReplied {
		h[headerAutoSubmitted] = "auto-replied"
	}
	return h
}

// checkMessageID accepts "<left@right>" in printable ASCII without spaces.
func checkMessageID(id string) error {
	if len(id) < 5 || id[0] != '<' || id[len(id)-1] != '>' {
		return fmt.Errorf("%q is not a message id such as <local@host>", id)
	}
	inner := id[1 : len(id)-1]
	left, right, ok := strings.Cut(inner, "@")
	if !ok || left == "" || right == "" {
		return fmt.Errorf("%q is not a message id such as <local@host>", id)
	}
	for i := 0; i < len(inner); i++ {
		if c := inner[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' {
			return fmt.Errorf("%q is not a message id such as <local@host>", id)
		}
	}
	return nil
}

// validFieldName reports whether name is an RFC 5322 field name.
func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// NewMessageID returns a fresh Message-ID "<prefix.RANDOM@host>": prefix
// says what the mail is ("ticket-1001.reply-7"; empty: none), host is the
// portal's host name (empty: the machine's, or "portal").
func NewMessageID(prefix, host string) string {
	var b [12]byte
	rand.Read(b[:])
	if host == "" {
		host, _ = os.Hostname()
		if host == "" || checkMessageID("<x@"+host+">") != nil {
			host = "portal"
		}
	}
	local := hex.EncodeToString(b[:])
	if prefix != "" {
		local = prefix + "." + local
	}
	return "<" + local + "@" + host + ">"
}

// TicketMessageID is NewMessageID for a ticket's mail: "<ticket-N.PART.RANDOM@host>".
func TicketMessageID(ticket int64, part, host string) string {
	prefix := "ticket-" + strconv.FormatInt(ticket, 10)
	if part != "" {
		prefix += "." + part
	}
	return NewMessageID(prefix, host)
}

// The running Senders' wake channels: Enqueue has only the transaction, so
// a commit wakes every Sender of the process (one per portal; a Sender of
// another database merely looks and finds nothing due).
var (
	wakeMu  sync.Mutex
	wakers  = map[chan struct{}]bool{}
	wakeAll = func() {
		wakeMu.Lock()
		defer wakeMu.Unlock()
		for ch := range wakers {
			select {
			case ch <- struct{}{}:
			default: // already due to look
			}
		}
	}
)

func addWaker(ch chan struct{}) {
	wakeMu.Lock()
	wakers[ch] = true
	wakeMu.Unlock()
}

func removeWaker(ch chan struct{}) {
	wakeMu.Lock()
	delete(wakers, ch)
	wakeMu.Unlock()
}
