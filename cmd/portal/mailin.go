package main

import "github.com/orbitask/portal/mailin"

// checkMailIn refuses a bad --mail-listen or --imap-url at start, with the
// setting named, rather than when the first mail comes.
func checkMailIn(cfg Config) error {
	if cfg.MailListen != "" {
		if _, err := mailin.ParseListen(cfg.MailListen); err != nil {
			return err
		}
	}
	if cfg.IMAPURL != "" {
		if _, err := mailin.ParseIMAPURL(cfg.IMAPURL); err != nil {
			return err
		}
	}
	return nil
}
