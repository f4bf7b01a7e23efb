package main

import (
	"strings"
	"testing"
)

// --mail-listen and --imap-url (or their variables) reach the config; a
// bad one stops the start with the setting named, and the password of an
// IMAP URL is never in the error.
func TestMailInSettings(t *testing.T) {
	cfg, err := parseServe([]string{"--mail-listen", "lmtp:///run/portal/lmtp.sock", "--imap-url", "imaps://u:p@imap.example/INBOX"}, nil)
	if err != nil || cfg.MailListen != "lmtp:///run/portal/lmtp.sock" || cfg.IMAPURL != "imaps://u:p@imap.example/INBOX" {
		t.Fatalf("flags: %+v, %v", cfg, err)
	}
	t.Setenv("PORTAL_MAIL_LISTEN", "smtp://127.0.0.1:2525")
	t.Setenv("PORTAL_IMAP_URL", "imap://u:p@127.0.0.1:143?tls=none")
	if cfg, err = parseServe(nil, nil); err != nil || cfg.MailListen != "smtp://127.0.0.1:2525" || cfg.IMAPURL != "imap://u:p@127.0.0.1:143?tls=none" {
		t.Fatalf("environment: %+v, %v", cfg, err)
	}
	for flag, args := range map[string][]string{
		"--mail-listen": {"--mail-listen", "127.0.0.1:2424"},
		"--imap-url":    {"--imap-url", "imaps://u:s3cret@imap.example?poll=never"},
	} {
		_, err := parseServe(args, nil)
		if err == nil || !strings.HasPrefix(err.Error(), flag+": ") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%v: %v, want an error naming %s (without the password)", args, err, flag)
		}
	}
}
