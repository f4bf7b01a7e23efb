package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/orbitask/portal/calendar"
	"github.com/orbitask/portal/i18n"
	"github.com/orbitask/portal/mail"
	"github.com/orbitask/portal/replytag"
	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/ticketmail"
	"github.com/orbitask/portal/tickets"
)

// ticketNotify is tickets.Config.NotifyTx for `portal ticket` and `portal
// customer confirm`: their replies, status changes and the calls they raise
// mail the customer as an agent's do (the outbox's mails leave through the
// sender of `portal serve`, which looks every 2 s).
// The links need PORTAL_PUBLIC_URL; without it nothing is mailed and
// stderr says so. The reply address is PORTAL_SUPPORT_ADDRESS, else
// PORTAL_MAIL_FROM, else support@ the public host, as serve's.
func ticketNotify(db *sqlitedb.DB, data string, store func() *tickets.Store, stderr func(string)) (func(context.Context, *sqlitedb.Tx, int, []tickets.Event) error, error) {
	public := os.Getenv("PORTAL_PUBLIC_URL")
	if public == "" {
		stderr("no mail to the customer: PORTAL_PUBLIC_URL is not set")
		return nil, nil
	}
	if _, err := mail.NewSender(db, mail.SenderConfig{}, nil); err != nil { // the outbox's table
		return nil, err
	}
	words, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	key, err := replytag.LoadKey(filepath.Join(data, "reply.key"))
	if err != nil {
		return nil, err
	}
	addr := os.Getenv("PORTAL_SUPPORT_ADDRESS")
	if addr == "" {
		addr = os.Getenv("PORTAL_MAIL_FROM")
	}
	if addr == "" {
		u, err := url.Parse(public)
		if err != nil || u.Hostname() == "" {
			return nil, fmt.Errorf("PORTAL_PUBLIC_URL: %q is not a URL with a host", public)
		}
		addr = "support@" + u.Hostname()
	}
	tags, err := replytag.New(key, addr)
	if err != nil {
		return nil, fmt.Errorf("PORTAL_SUPPORT_ADDRESS: %w", err)
	}
	m, err := ticketmail.New(ticketmail.Config{Words: words, PublicURL: public, Tags: tags, Tickets: store,
		Calendar: func() *calendar.Calendar { return store().Calendar() }})
	if err != nil {
		return nil, err
	}
	return m.Changed, nil
}
