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
