package inbound

import "testing"

// Each sign of automatic traffic alone, and the ordinary mails that carry
// look-alike headers.
func TestAuto(t *testing.T) {
	cases := []struct {
		name, headers, envelope, want string
	}{
		{"person", "From: jan@example.cz\n", "jan@example.cz", ""},
		{"auto-submitted auto-replied", "From: jan@example.cz\nAuto-Submitted: auto-replied; owner-email=\"jan@example.cz\"\n", "jan@example.cz", "auto-submitted: auto-replied"},
		{"auto-submitted auto-generated", "From: jan@example.cz\nAuto-Submitted: Auto-Generated\n", "jan@example.cz", "auto-submitted: auto-generated"},
		{"auto-submitted no", "From: jan@example.cz\nAuto-Submitted: no\n", "jan@example.cz", ""},
		{"precedence bulk", "From: news@example.com\nPrecedence: bulk\n", "news@example.com", "precedence: bulk"},
		{"precedence list", "From: news@example.com\nPrecedence: list\n", "news@example.com", "precedence: list"},
		{"precedence junk", "From: news@example.com\nPrecedence: junk\n", "news@example.com", "precedence: junk"},
		{"precedence first-class", "From: jan@example.cz\nPrecedence: first-class\n", "jan@example.cz", ""},
		{"x-autoreply", "From: jan@example.cz\nX-Autoreply: yes\n", "jan@example.cz", "x-autoreply"},
		{"x-autorespond", "From: jan@example.cz\nX-Autorespond: Out of office\n", "jan@example.cz", "x-autorespond"},
		{"exchange generated", "From: jan@example.cz\nX-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent\n", "jan@example.cz", "x-ms-exchange-generated-message-source"},
		{"x-auto-response-suppress is an ordinary Outlook mail", "From: jan@example.cz\nX-Auto-Response-Suppress: All\n", "jan@example.cz", ""},
		{"null sender empty", "From: jan@example.cz\n", "", "null sender"},
		{"null sender brackets", "From: jan@example.cz\n", "<>", "null sender"},
		{"mailer-daemon", "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\n", "bounce@mx.example.com", "mailer-daemon"},
		{"postmaster", "From: postmaster@example.com\n", "bounce@example.com", "postmaster"},
		{"multipart/report", "From: jan@example.cz\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n", "jan@example.cz", "multipart/report"},
		{"list-id", "From: jan@example.cz\nList-Id: <users.lists.example.com>\n", "jan@example.cz", "list-id"},
		{"list-unsubscribe", "From: jan@example.cz\nList-Unsubscribe: <mailto:leave@example.com>\n", "jan@example.cz", "list-unsubscribe"},
		{"subject automatic reply", "From: jan@example.cz\nSubject: Automatic reply: Re: Password\n", "jan@example.cz", "subject: automatic reply"},
		{"subject auto-reply", "From: jan@example.cz\nSubject: AUTO-REPLY: Re: Password\n", "jan@example.cz", "subject: automatic reply"},
		{"subject autoreply", "From: jan@example.cz\nSubject: Autoreply: Password\n", "jan@example.cz", "subject: automatic reply"},
		{"subject out of office", "From: jan@example.cz\nSubject: Out of Office: Password\n", "jan@example.cz", "subject: automatic reply"},
		{"subject abwesend", "From: jan@example.de\nSubject: Abwesend: Passwort\n", "jan@example.de", "subject: automatic reply"},
		{"subject abwesenheitsnotiz", "From: jan@example.de\nSubject: Abwesenheitsnotiz: Passwort\n", "jan@example.de", "subject: automatic reply"},
		{"subject automatische antwort", "From: jan@example.de\nSubject: Automatische Antwort: AW: Passwort\n", "jan@example.de", "subject: automatic reply"},
		{"subject réponse automatique encoded", "From: jan@example.fr\nSubject: =?UTF-8?Q?R=C3=A9ponse_automatique=C2=A0:_RE:_Mot_de_passe?=\n", "jan@example.fr", "subject: automatic reply"},
		{"subject absence", "From: jan@example.fr\nSubject: Absence : Mot de passe\n", "jan@example.fr", "subject: automatic reply"},
		{"subject automatická odpověď encoded", "From: jan@example.cz\nSubject: =?UTF-8?Q?Automatick=C3=A1_odpov=C4=9B=C4=8F:_Heslo?=\n", "jan@example.cz", "subject: automatic reply"},
		{"subject nepřítomnost", "From: jan@example.cz\nSubject: =?UTF-8?B?TmVwxZnDrXRvbW5vc3Q6IEhlc2xv?=\n", "jan@example.cz", "subject: automatic reply"},
		{"subject a person writes about auto-replies", "From: jan@example.cz\nSubject: Re: Automatic reply: how do I turn it off?\n", "jan@example.cz", ""},
		{"subject absence of logs", "From: jan@example.cz\nSubject: Absence of logs after the update\n", "jan@example.cz", ""},
		{"bounce with several signs", "From: MAILER-DAEMON@mx.example.com\nAuto-Submitted: auto-replied\n", "", "auto-submitted: auto-replied, null sender, mailer-daemon"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := c.headers + "\n--b\nContent-Type: text/plain\n\nbody\n--b--\n"
			if c.name != "multipart/report" {
				raw = c.headers + "\nbody\n"
			}
			m, err := Parse(crlf(raw), c.envelope)
			if err != nil {
				t.Fatal(err)
			}
			if m.Auto != c.want {
				t.Errorf("Auto = %q, want %q", m.Auto, c.want)
			}
		})
	}
}
