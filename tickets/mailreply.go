package tickets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/sqlitedb"
)

// MaxMailSize is the largest original mail kept with a reply by mail (the
// .eml attachment); incoming mail is refused beyond it anyway.
const MaxMailSize = 25 << 20

// EMLType is the content type of the original mail kept with a reply.
const EMLType = "message/rfc822"

// MailReply is a customer's answer to a ticket mail.
type MailReply struct {
	Body string // the new text, quoted history and signature stripped
	// Attachments are checked as a filing's (same limits, type sniffing,
	// errors naming the file); CheckMailAttachments first leaves out those
	// that would be refused.
	Attachments []Attachment
	// EML is the mail as it arrived, kept as a downloadable attachment of
	// type message/rfc822 named EMLName ("" = "mail.eml"); nil: none.
	EML     []byte
	EMLName string
	// Claim, if not nil, runs first in the reply's transaction, so that
	// the caller's record of the mail commits with the reply; an error
	// undoes the reply and is returned wrapped.
	Claim func(ctx context.Context, tx *sqlitedb.Tx) error
}

// ReplyByMail adds a customer's reply that came by e-mail: exactly what
// Reply(ctx, number, "customer", body) does (a solved ticket reopens, one
// waiting on the customer opens, a closed one refuses with ErrClosed; the
// same events and NotifyTx), plus the mail's files and the original mail,
// linked to the reply's message, in the same transaction. The files are
// written first, by content hash, as a filing's are.
func (s *Store) ReplyByMail(ctx context.Context, number int, r MailReply) (Event, error) {
	body := strings.TrimSpace(r.Body)
	bad := &ValidationError{}
	if p := checkText(body, true, maxLong, true); p.Code != "" {
		bad.Set("body", p)
	}
	atts, p := checkAttachments(r.Attachments)
	if p.Code != "" {
		bad.Set("attachments", p)
	}
	if len(r.EML) > MaxMailSize {
		bad.Set("attachments", fields.ForFiles(fields.NewFile(emlName(r.EMLName), fields.FileTooLarge, "max_mb", MaxMailSize>>20)))
	}
	if len(bad.Fields) > 0 {
		return Event{}, bad
	}
	infos := make([]AttachmentInfo, 0, len(atts)+1)
	for _, a := range atts {
		if err := s.storeAttachment(a.SHA256, a.data); err != nil {
			return Event{}, fmt.Errorf("tickets: reply by mail #%d: attachment %s: %w", number, a.Name, err)
		}
		infos = append(infos, a.AttachmentInfo)
	}
	if len(r.EML) > 0 {
		sum := sha256.Sum256(r.EML)
		info := AttachmentInfo{Name: emlName(r.EMLName), ContentType: EMLType, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(r.EML))}
		if err := s.storeAttachment(info.SHA256, r.EML); err != nil {
			return Event{}, fmt.Errorf("tickets: reply by mail #%d: the mail: %w", number, err)
		}
		infos = append(infos, info)
	}
	withMessage := func(ctx context.Context, tx *sqlitedb.Tx, ticketID, messageID int64) error {
		if r.Claim != nil {
			if err := r.Claim(ctx, tx); err != nil {
				return err
			}
		}
		for _, a := range infos {
			// The same file under the same name is kept once per ticket
			// (a logo in every signature), with the message that brought it first.
			if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_attachments (ticket_id, name, content_type, sha256, size, message_id)
					VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ticket_id, sha256, name) DO NOTHING`,
				ticketID, a.Name, a.ContentType, a.SHA256, a.Size, messageID); err != nil {
				return err
			}
		}
		return nil
	}
	evs, err := s.post(ctx, number, actor{kind: ActorCustomer}, AgentReply{Body: body, withMessage: &withMessage})
	if err != nil {
		return Event{}, err
	}
	return evs[0], nil
}

func emlName(name string) string {
	if name = sanitizeName(name); name == "attachment" || name == "" {
		return "mail.eml"
	}
	return name
}

// CheckMailAttachments sorts a mail's files into those a reply by mail
// accepts and, for each other one, the problem a filing would report
// (too large, empty, a type not allowed; beyond MaxAttachments, too many),
// so that a mail's text is kept and only the refused files are left out.
func CheckMailAttachments(atts []Attachment) (ok []Attachment, refused []fields.FileProblem) {
	for _, a := range atts {
		if len(ok) == MaxAttachments {
			refused = append(refused, fields.NewFile(sanitizeName(a.Name), fields.TooManyFiles, "max", MaxAttachments))
			continue
		}
		if _, p := checkAttachments([]Attachment{a}); p.Code != "" {
			refused = append(refused, p.Files...)
			continue
		}
		ok = append(ok, a)
	}
	return ok, refused
}

// DetectLang guesses the language of a text as a filing without a chosen
// language does ("en" when nothing is clear).
func (s *Store) DetectLang(text string) string { return s.stop.detectLang(text) }

// AttachmentsOf lists the attachments that came with the message with id
// (a filing's with its first message, a mail's with its reply).
func (t Ticket) AttachmentsOf(messageID int64) []AttachmentInfo {
	var out []AttachmentInfo
	for _, a := range t.Attachments {
		if a.MessageID == messageID {
			out = append(out, a)
		}
	}
	return out
}
