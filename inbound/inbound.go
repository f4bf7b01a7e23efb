// Package inbound reads the mails customers send to the support address:
// it parses the MIME message, keeps the new text of a reply (quoted history
// and signature stripped, in the formats of the common mail clients), its
// attachments, and says whether the mail is automatic traffic (auto-reply,
// bounce, mailing list) that must never be answered or appended. It knows
// nothing of tickets, SMTP or IMAP.
package inbound

import (
	"errors"
	"time"
)

// MaxSize is the largest mail the portal reads, in bytes.
const MaxSize = 25 << 20

// ErrRefused is wrapped by the errors of a mail refused for good: the
// transports answer it with a permanent SMTP reply (5xx), or leave it
// aside in IMAP, instead of asking the sender to try again.
var ErrRefused = errors.New("refused")

// ErrMalformed is wrapped by Parse's errors for a mail that is not a
// readable message; it is also refused for good.
var ErrMalformed = errors.New("malformed mail")

// Mail is one incoming mail as the portal reads it.
type Mail struct {
	MessageID  string   // with angle brackets; "" if the mail has none
	InReplyTo  string   // with angle brackets
	References []string // with angle brackets, oldest first
	From       string   // the author's address (From:), domain lower-cased
	FromName   string   // the author's display name, if any
	ReplyTo    string   // Reply-To:, if any
	To         []string // the addresses of To: and Cc:
	Subject    string   // decoded
	// AuthResults is the topmost Authentication-Results header (RFC 8601),
	// the one the organisation's own mail server added last; "" if none.
	// Read it with AuthResult.
	AuthResults string
	// XLoop are the values of the X-Loop headers: mail systems name
	// themselves there on the mail they send; the caller drops a mail
	// that names its own address (its own mail come back).
	XLoop []string
	Date  time.Time

	// Text is what the sender wrote in this mail: the plain text (or the
	// HTML part made text), with quoted history and signature stripped.
	Text string
	// FullText is the whole body as text, nothing stripped.
	FullText    string
	Attachments []Attachment

	// Auto says why the mail is automatic traffic, never answered or
	// appended ("auto-submitted: auto-replied", "precedence: bulk",
	// "x-autoreply", "null sender", "mailer-daemon", "list-id", ...;
	// several are joined by ", "); "" for a person's mail.
	Auto string
}

// Attachment is a file attached to a mail (or an inline part that is not
// the body, such as a pasted screenshot).
type Attachment struct {
	Name        string
	ContentType string // as the mail declares it
	Data        []byte
	// Inline marks a part shown within the text rather than attached:
	// Content-Disposition inline, or a Content-ID the HTML refers to
	// ("cid:"), such as the images of a signature.
	Inline bool
}
