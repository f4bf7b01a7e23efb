package mailin

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/orbitask/portal/inbound"
	"github.com/orbitask/portal/ratelimit"
)

// Deliver takes one received mail: the envelope sender (SMTP MAIL FROM, or
// the Return-Path of a polled mail; "" for the null sender of bounces), the
// recipients it was accepted for, and the raw RFC 5322 message. An error
// wrapping inbound.ErrRefused or inbound.ErrMalformed refuses the mail for
// good; any other error is temporary and the mail comes again later.
// Deliver may see a mail twice (a sender's retry, a poll after a crash):
// it must deduplicate, by Message-ID.
type Deliver func(ctx context.Context, envelopeFrom string, rcpts []string, raw []byte) error

// DefaultFlood lets a sender send 10 mails at once, then 30 an hour.
var DefaultFlood = ratelimit.Rule{Burst: 10, Every: 2 * time.Minute}

// Permanent says whether err refuses a mail for good (inbound.ErrRefused
// or inbound.ErrMalformed) rather than asking for it again later.
func Permanent(err error) bool {
	return errors.Is(err, inbound.ErrRefused) || errors.Is(err, inbound.ErrMalformed)
}

// flood limits the mails of each envelope sender, for the listener and the
// poller alike (one bucket per sender across both).
type flood struct {
	limit *ratelimit.Limiter
	log   *slog.Logger
	now   func() time.Time
}

func newFlood(r ratelimit.Rule, log *slog.Logger, now func() time.Time) *flood {
	if r == (ratelimit.Rule{}) {
		r = DefaultFlood
	}
	if now == nil {
		now = time.Now
	}
	return &flood{limit: ratelimit.New(r, 0), log: log, now: now}
}

// allow takes one mail from sender's bucket. The null sender is one
// sender: bounces share a bucket. A refusal is logged once per sender a
// minute (ratelimit.ReportEvery), not once per mail; then says what
// happens to the refused mails.
func (f *flood) allow(sender, via, then string) bool {
	key := strings.ToLower(sender)
	d := f.limit.Allow(key, f.now())
	if !d.OK && d.Report {
		if key == "" {
			key = "<>"
		}
		f.log.Warn("incoming mail: sender over the flood limit", "sender", key, "via", via, "mails", then,
			"next_allowed_in", d.RetryAfter.Round(time.Second))
	}
	return d.OK
}

func discard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}

// Config are the settings of Start: the two ways in, either or both.
type Config struct {
	// Listen is --mail-listen (ParseListen); "" runs no listener.
	Listen string
	// IMAPURL is --imap-url (ParseIMAPURL); "" polls no mailbox.
	IMAPURL string
	// Accept says which recipients are ours (the support address and its
	// reply tags). Required.
	Accept func(rcpt string) bool
	// Deliver takes each mail. Required.
	Deliver Deliver
	// Flood limits each envelope sender, across both ways in (zero:
	// DefaultFlood).
	Flood ratelimit.Rule
	// MaxDeliveries bounds the listener's mails read and delivered at once
	// (ListenConfig.MaxDeliveries; 0: 4).
	MaxDeliveries int
	Logger        *slog.Logger
}

// Receiver runs what Start started.
type Receiver struct {
	Listener *Listener // nil without Listen
	Poller   *Poller   // nil without IMAPURL
	cancel   context.CancelFunc
	polled   chan struct{}
}

// Start starts the listener and the poller that cfg asks for (nothing,
// if neither), and logs what receives mail.
func Start(cfg Config) (*Receiver, error) {
	log := discard(cfg.Logger)
	r := &Receiver{}
	if cfg.Listen == "" && cfg.IMAPURL == "" {
		log.Info("incoming mail is off (no --mail-listen, no --imap-url)")
		return r, nil
	}
	if cfg.Accept == nil || cfg.Deliver == nil {
		return nil, errors.New("mailin: start: Accept and Deliver are required")
	}
	var mb Mailbox
	var ep Endpoint
	var err error
	if cfg.IMAPURL != "" {
		if mb, err = ParseIMAPURL(cfg.IMAPURL); err != nil {
			return nil, err
		}
	}
	if cfg.Listen != "" {
		if ep, err = ParseListen(cfg.Listen); err != nil {
			return nil, err
		}
	}
	f := newFlood(cfg.Flood, log, nil)
	if cfg.Listen != "" {
		r.Listener, err = Listen(ListenConfig{Endpoint: ep, Accept: cfg.Accept, Deliver: cfg.Deliver, MaxDeliveries: cfg.MaxDeliveries, Logger: log, flood: f})
		if err != nil {
			return nil, err
		}
		log.Info("receiving mail", "listen", r.Listener.Endpoint().String())
	}
	if cfg.IMAPURL != "" {
		r.Poller, err = NewPoller(PollerConfig{Mailbox: mb, Accept: cfg.Accept, Deliver: cfg.Deliver, Logger: log, flood: f})
		if err != nil {
			r.Close()
			return nil, err
		}
		ctx, cancel := context.WithCancel(context.Background())
		r.cancel, r.polled = cancel, make(chan struct{})
		go func() {
			defer close(r.polled)
			r.Poller.Run(ctx)
		}()
		log.Info("receiving mail by polling an IMAP mailbox", "mailbox", mb.String(), "every", mb.Poll)
	}
	return r, nil
}

// Close stops receiving: the poller after the mail it is delivering, the
// listener as Listener.Close says.
func (r *Receiver) Close() error {
	if r.cancel != nil {
		r.cancel()
		<-r.polled
		r.cancel = nil
	}
	if r.Listener != nil {
		return r.Listener.Close()
	}
	return nil
}
