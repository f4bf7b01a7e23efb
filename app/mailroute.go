package app

import (
	"log/slog"

	"github.com/orbitask/portal/i18n"
	"github.com/orbitask/portal/mailroute"
)

// openRoute makes the router of incoming mail (package mailroute): replies
// land on tickets, questions are answered with articles. The listener and
// the IMAP poller (package mailin) hand it each mail: a.Route.Deliver.
func openRoute(cfg Config, a *App, log *slog.Logger) (*mailroute.Router, error) {
	words, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	return mailroute.New(mailroute.Config{DB: a.DB, Tickets: a.Tickets, Deflect: a.Deflect, Search: a.Search,
		Tags: a.ReplyTags, Words: words, PublicURL: cfg.PublicURL, Logger: log})
}
