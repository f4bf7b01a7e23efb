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
func autoReason(h mail.Header, from, subject, envelopeFrom string) string {
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
	if autoSubject(subject) {
		why = append(why, "subject: automatic reply")
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

// autoSubjects start the subjects of auto-replies that set none of the
// headers above (naive responders, some Exchange and webmail setups), in
// lower case, spaces before a colon dropped.
var autoSubjects = []string{
	"automatic reply:", "auto-reply:", "autoreply:", "out of office:",
	"abwesend:", "abwesenheitsnotiz:", "automatische antwort:",
	"réponse automatique:", "absence:",
	"automatická odpověď:", "nepřítomnost:",
}

// autoSubject says whether a decoded subject is an auto-reply's.
func autoSubject(subject string) bool {
	s := strings.ToLower(strings.Join(strings.Fields(strings.ReplaceAll(subject, "\u00a0", " ")), " "))
	s = strings.ReplaceAll(s, " :", ":")
	for _, p := range autoSubjects {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
