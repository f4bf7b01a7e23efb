package app

import (
	"github.com/orbitask/portal/mailin"
	"github.com/orbitask/portal/replytag"
)

// RunMailIn starts receiving mail as cfg says (--mail-listen,
// --imap-url) until Close; `portal serve` runs it, one receiver per
// database. Recipients are ours when they are the support address or one
// of its reply tags (a forged tag too: mailroute treats it as a question);
// cfg.Deliver, if nil, is the portal's own: mailroute's Router.
func (a *App) RunMailIn(cfg mailin.Config) error {
	if cfg.Accept == nil {
		cfg.Accept = func(rcpt string) bool {
			kind, _ := a.ReplyTags.Parse(rcpt)
			return kind != replytag.Other
		}
	}
	if cfg.Deliver == nil {
		cfg.Deliver = a.Route.Deliver
	}
	r, err := mailin.Start(cfg)
	if err != nil {
		return err
	}
	a.closing(r.Close)
	return nil
}
