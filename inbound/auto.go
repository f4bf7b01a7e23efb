package inbound

import (
	"strings"

	"github.com/emersion/go-message/mail"
)

// autoReason says why a mail is automatic traffic (RFC 3834 and the
// headers mailers use in practice), in lower-case words, "" for a person's
// mail; several reasons are joined by ", ".
//
// X-Auto-Response-Suppress is deliberately not a reason: Outlook and
// Exchange set it on ordinary mails to ask others not to auto-reply.
func autoReason(h mail.Header, from, envelopeFrom string) string {
	var why []string
	if v := headerWord(h, "Auto-Submitted"); v != "" && v != "no" {
		why = append(why, "auto-submitted: "+v)
	}
	switch v := headerWord(h, "Precedence"); v {
	case "bulk", "list", "junk", "auto_reply":
		why = append(why, "precedence: "+v)
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-MS-Exchange-Generated-Message-Source"} {
		if h.Has(k) {
			if v := headerWord(h, k); v != "no" && v != "false" {
				why = append(why, strings.ToLower(k))
			}
		}
	}
	if e := strings.TrimSpace(envelopeFrom); e == "" || e == "<>" {
		why = append(why, "null sender")
	}
	if local, _, _ := strings.Cut(strings.ToLower(from), "@"); local == "mailer-daemon" || local == "postmaster" {
		why = append(why, local)
	}
	if mt, _, err := h.ContentType(); err == nil && mt == "multipart/report" {
		why = append(why, "multipart/report")
	}
	for _, k := range []string{"List-Id", "List-Unsubscribe"} {
		if h.Has(k) {
			why = append(why, strings.ToLower(k))
		}
	}
	return strings.Join(why, ", ")
}

// headerWord is a header's value lower-cased, without parameters or
// comments ("auto-replied; owner-email=..." gives "auto-replied").
func headerWord(h mail.Header, key string) string {
	v := h.Get(key)
	if i := strings.IndexAny(v, ";("); i >= 0 {
		v = v[:i]
	}
	return strings.ToLower(strings.TrimSpace(v))
}
