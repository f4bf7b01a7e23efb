package mailin

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-imap"
	"github.com/emersion/go-imap/client"

	"github.com/orbitask/portal/inbound"
	"github.com/orbitask/portal/ratelimit"
)

// IMAP's TLS modes: implicit TLS (imaps://, port 993), STARTTLS (imap://,
// port 143), or none (imap://…?tls=none: only for a server on the same
// machine or in tests).
const (
	IMAPImplicitTLS = "implicit"
	IMAPStartTLS    = "starttls"
	IMAPNoTLS       = "none"
)

// DefaultPoll is how often the mailbox is read: IDLE is not used, so a
// mail waits up to this long (and a connection that IDLE would hold open
// is not needed).
const DefaultPoll = 30 * time.Second

// RefusedFolder is where a mail refused for good is moved when the
// mailbox has a folder of that name; otherwise it stays, \Seen and
// \Flagged.
const RefusedFolder = "portal-refused"

// Mailbox is a parsed --imap-url.
type Mailbox struct {
	Address        string // host:port
	TLS            string // IMAPImplicitTLS, IMAPStartTLS or IMAPNoTLS
	User, Password string
	Folder         string // the mailbox polled; default INBOX
	Poll           time.Duration
}

// String is the mailbox for logs: never the password.
func (m Mailbox) String() string {
	scheme := "imap"
	if m.TLS == IMAPImplicitTLS {
		scheme = "imaps"
	}
	u := url.URL{Scheme: scheme, User: url.User(m.User), Host: m.Address, Path: "/" + m.Folder}
	return u.String()
}

// ParseIMAPURL reads --imap-url: imaps://user:pass@imap.example:993/INBOX?poll=30s
// (implicit TLS), imap://… (STARTTLS; ?tls=none for a local server only).
func ParseIMAPURL(raw string) (Mailbox, error) {
	bad := func(format string, args ...any) (Mailbox, error) {
		return Mailbox{}, fmt.Errorf("--imap-url: "+format+" (expected imaps://USER:PASSWORD@HOST:993/INBOX?poll=30s)", args...)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, password included
		}
		return bad("not a URL: %v", err)
	}
	m := Mailbox{Folder: "INBOX", Poll: DefaultPoll}
	port := "993"
	switch u.Scheme {
	case "imaps":
		m.TLS = IMAPImplicitTLS
	case "imap":
		m.TLS, port = IMAPStartTLS, "143"
	default:
		return bad("the scheme must be imaps or imap, not %q", u.Scheme)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return bad("no host")
	}
	if u.Fragment != "" {
		return bad("unexpected fragment")
	}
	if p := u.Port(); p != "" {
		port = p
	} else if strings.HasSuffix(u.Host, ":") {
		return bad("empty port")
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return bad("port %q is not a port", port)
	}
	m.Address = net.JoinHostPort(u.Hostname(), port)
	if u.User == nil || u.User.Username() == "" {
		return bad("no user")
	}
	m.User = u.User.Username()
	var ok bool
	if m.Password, ok = u.User.Password(); !ok || m.Password == "" {
		return bad("no password")
	}
	if f := strings.Trim(u.Path, "/"); f != "" {
		m.Folder = f
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return bad("bad query: %v", err)
	}
	for k, vs := range q {
		if len(vs) != 1 {
			return bad("%s given more than once", k)
		}
		switch k {
		case "poll":
			d, err := time.ParseDuration(vs[0])
			if err != nil || d < time.Second {
				return bad("poll=%q is not a duration of 1s or more", vs[0])
			}
			m.Poll = d
		case "tls":
			if vs[0] != IMAPNoTLS || m.TLS != IMAPStartTLS {
				return bad("tls=%q: only imap://…?tls=none is known (imaps:// is implicit TLS, imap:// STARTTLS)", vs[0])
			}
			m.TLS = IMAPNoTLS
		default:
			return bad("unknown parameter %q", k)
		}
	}
	return m, nil
}

// PollerConfig are the IMAP poller's settings.
type PollerConfig struct {
	Mailbox Mailbox
	Deliver Deliver
	// Accept says which addresses are ours (as the listener's): a polled
	// mail has no envelope recipients, so they are read from its headers.
	// Nil accepts every address.
	Accept func(rcpt string) bool
	// TLS is the client's TLS configuration; nil checks the server's
	// certificate against the system's roots.
	TLS *tls.Config
	// Flood limits each envelope sender (zero: DefaultFlood).
	Flood  ratelimit.Rule
	Logger *slog.Logger
	Now    func() time.Time // the flood limit's clock; nil is time.Now

	flood *flood // shared with the listener when Start runs both
}

// Poller reads the unseen mails of an IMAP mailbox and delivers them.
// It is not safe for concurrent use: Run polls from one goroutine.
type Poller struct {
	cfg   PollerConfig
	log   *slog.Logger
	flood *flood

	c          *client.Client // nil: not connected
	hasRefused bool           // the mailbox has RefusedFolder
}

// PollResult counts what one poll did.
type PollResult struct {
	Delivered int // delivered and marked \Seen
	Refused   int // refused for good (or flooding): set aside, \Seen and \Flagged
	Deferred  int // a temporary failure: left unseen for the next poll
}

// NewPoller returns a poller; it connects on the first Poll.
func NewPoller(cfg PollerConfig) (*Poller, error) {
	if cfg.Deliver == nil || cfg.Mailbox.Address == "" {
		return nil, errors.New("mailin: poller: Mailbox and Deliver are required")
	}
	if cfg.Mailbox.Poll <= 0 {
		cfg.Mailbox.Poll = DefaultPoll
	}
	if cfg.Mailbox.Folder == "" {
		cfg.Mailbox.Folder = "INBOX"
	}
	log := discard(cfg.Logger)
	f := cfg.flood
	if f == nil {
		f = newFlood(cfg.Flood, log, cfg.Now)
	}
	return &Poller{cfg: cfg, log: log, flood: f}, nil
}

// Run polls every Mailbox.Poll until ctx ends. A failed poll drops the
// connection and tries again after a backoff (1 s, doubling up to 5
// minutes); it is logged, the password never.
func (p *Poller) Run(ctx context.Context) {
	defer p.disconnect()
	var backoff time.Duration
	for {
		res, err := p.Poll(ctx)
		wait := p.cfg.Mailbox.Poll
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			p.disconnect()
			backoff = min(max(2*backoff, time.Second), 5*time.Minute)
			wait = backoff
			p.log.Warn("incoming mail: IMAP poll failed", "mailbox", p.cfg.Mailbox.String(), "err", err, "retry_in", wait)
		default:
			backoff = 0
			if res != (PollResult{}) {
				p.log.Info("incoming mail: IMAP poll", "mailbox", p.cfg.Mailbox.String(),
					"delivered", res.Delivered, "refused", res.Refused, "deferred", res.Deferred)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Poll reads the mailbox's unseen mails once, one at a time (BODY.PEEK[],
// which leaves them unseen), and delivers each: delivered, it is marked
// \Seen; refused for good, it is set aside (\Seen and \Flagged, moved to
// RefusedFolder if the mailbox has one); a temporary failure leaves it
// unseen for the next poll. A crash between delivering and marking \Seen
// delivers the mail again after the restart: Deliver deduplicates.
func (p *Poller) Poll(ctx context.Context) (PollResult, error) {
	var res PollResult
	if err := p.connect(ctx); err != nil {
		return res, err
	}
	c := p.c
	if _, err := c.Select(p.cfg.Mailbox.Folder, false); err != nil {
		return res, fmt.Errorf("select %s: %w", p.cfg.Mailbox.Folder, err)
	}
	crit := imap.NewSearchCriteria()
	crit.WithoutFlags = []string{imap.SeenFlag, imap.DeletedFlag}
	uids, err := c.UidSearch(crit)
	if err != nil {
		return res, fmt.Errorf("search: %w", err)
	}
	if len(uids) == 0 {
		return res, nil
	}
	sizes, err := p.sizes(uids)
	if err != nil {
		return res, err
	}
	for _, uid := range uids {
		if ctx.Err() != nil {
			return res, nil
		}
		size, ok := sizes[uid]
		if !ok { // expunged meanwhile
			continue
		}
		if size > inbound.MaxSize {
			p.log.Info("incoming mail refused: too large", "uid", uid, "bytes", size, "max", inbound.MaxSize)
			if err := p.setAside(uid); err != nil {
				return res, err
			}
			res.Refused++
			continue
		}
		raw, err := p.body(uid)
		if err != nil {
			return res, err
		}
		from, rcpts := envelope(raw, p.cfg.Accept)
		if !p.flood.allow(from, "imap", "set aside, flagged") {
			// No sender to ask to try later: the flood's surplus waits,
			// flagged, for a person to look at.
			if err := p.setAside(uid); err != nil {
				return res, err
			}
			res.Refused++
			continue
		}
		switch err := p.cfg.Deliver(ctx, from, rcpts, raw); {
		case err == nil:
			if err := p.addFlags(uid, imap.SeenFlag); err != nil {
				return res, err
			}
			res.Delivered++
		case Permanent(err):
			p.log.Info("incoming mail refused", "uid", uid, "from", from, "reason", err)
			if err := p.setAside(uid); err != nil {
				return res, err
			}
			res.Refused++
		default:
			p.log.Warn("incoming mail not delivered; it stays unseen for the next poll", "uid", uid, "from", from, "err", err)
			res.Deferred++
		}
	}
	return res, nil
}

func (p *Poller) connect(ctx context.Context) error {
	if p.c != nil {
		select {
		case <-p.c.LoggedOut():
			p.c = nil // the server hung up
		default:
			return nil
		}
	}
	m := p.cfg.Mailbox
	host, _, _ := net.SplitHostPort(m.Address)
	tc := p.cfg.TLS
	if tc == nil {
		tc = &tls.Config{ServerName: host}
	}
	dialer := ctxDialer{ctx, &net.Dialer{Timeout: 30 * time.Second}}
	var c *client.Client
	var err error
	if m.TLS == IMAPImplicitTLS {
		c, err = client.DialWithDialerTLS(dialer, m.Address, tc)
	} else {
		c, err = client.DialWithDialer(dialer, m.Address)
	}
	if err != nil {
		return fmt.Errorf("connect to %s: %w", m.Address, err)
	}
	c.ErrorLog = errorLog{p.log}
	c.Timeout = 5 * time.Minute // a 25 MiB fetch on a slow link
	if m.TLS == IMAPStartTLS {
		if err := c.StartTLS(tc); err != nil {
			c.Logout()
			return fmt.Errorf("STARTTLS with %s: %w", m.Address, err)
		}
	}
	if err := c.Login(m.User, m.Password); err != nil {
		c.Logout()
		return fmt.Errorf("login as %s: %w", m.User, err)
	}
	p.c = c
	ch := make(chan *imap.MailboxInfo, 10)
	if err := c.List("", RefusedFolder, ch); err != nil {
		p.disconnect()
		return fmt.Errorf("list: %w", err)
	}
	p.hasRefused = false
	for mb := range ch {
		if mb.Name == RefusedFolder {
			p.hasRefused = true
		}
	}
	return nil
}

func (p *Poller) disconnect() {
	if p.c != nil {
		_ = p.c.Logout()
		p.c = nil
	}
}

// ctxDialer makes connections that end with ctx: stopping the poller
// does not wait for a server that does not answer (go-imap's commands
// take no context). It also bounds the wait for the server's greeting, as
// go-imap does only for a *net.Dialer (its commands reset the deadline).
type ctxDialer struct {
	ctx context.Context
	d   *net.Dialer
}

func (d ctxDialer) Dial(network, addr string) (net.Conn, error) {
	c, err := d.d.DialContext(d.ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if err := c.SetDeadline(time.Now().Add(d.d.Timeout)); err != nil {
		c.Close()
		return nil, err
	}
	return &ctxConn{Conn: c, stop: context.AfterFunc(d.ctx, func() { c.Close() })}, nil
}

type ctxConn struct {
	net.Conn
	stop func() bool
}

func (c *ctxConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

// Close logs out; Run does it itself when its context ends.
func (p *Poller) Close() error { p.disconnect(); return nil }

func (p *Poller) fetch(uids []uint32, items []imap.FetchItem, each func(*imap.Message) error) error {
	set := new(imap.SeqSet)
	set.AddNum(uids...)
	ch := make(chan *imap.Message, 16)
	done := make(chan error, 1)
	go func() { done <- p.c.UidFetch(set, items, ch) }()
	var first error
	for msg := range ch {
		if err := each(msg); err != nil && first == nil {
			first = err
		}
	}
	if err := <-done; err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	return first
}

func (p *Poller) sizes(uids []uint32) (map[uint32]int, error) {
	sizes := make(map[uint32]int, len(uids))
	err := p.fetch(uids, []imap.FetchItem{imap.FetchUid, imap.FetchRFC822Size}, func(m *imap.Message) error {
		sizes[m.Uid] = int(m.Size)
		return nil
	})
	return sizes, err
}

func (p *Poller) body(uid uint32) ([]byte, error) {
	section := &imap.BodySectionName{Peek: true} // PEEK: fetching does not set \Seen
	var raw []byte
	err := p.fetch([]uint32{uid}, []imap.FetchItem{imap.FetchUid, section.FetchItem()}, func(m *imap.Message) error {
		lit := m.GetBody(section)
		if lit == nil {
			return nil
		}
		b, err := io.ReadAll(io.LimitReader(lit, inbound.MaxSize+1))
		raw = b
		return err
	})
	if err == nil && raw == nil {
		err = fmt.Errorf("fetch: no body for uid %d", uid)
	}
	return raw, err
}

func (p *Poller) addFlags(uid uint32, flags ...string) error {
	set := new(imap.SeqSet)
	set.AddNum(uid)
	vals := make([]any, len(flags))
	for i, f := range flags {
		vals[i] = f
	}
	if err := p.c.UidStore(set, imap.FormatFlagsOp(imap.AddFlags, true), vals, nil); err != nil {
		return fmt.Errorf("store flags: %w", err)
	}
	return nil
}

// setAside marks a refused mail \Seen and \Flagged, and moves it to
// RefusedFolder if the mailbox has one.
func (p *Poller) setAside(uid uint32) error {
	if err := p.addFlags(uid, imap.SeenFlag, imap.FlaggedFlag); err != nil {
		return err
	}
	if !p.hasRefused {
		return nil
	}
	set := new(imap.SeqSet)
	set.AddNum(uid)
	if err := p.c.UidMove(set, RefusedFolder); err == nil {
		return nil
	}
	// A server that advertises MOVE may still refuse it for a mailbox:
	// copy, then delete (EXPUNGE also removes other mails already marked
	// \Deleted in this mailbox, as any mail client's expunge would).
	if err := p.c.UidCopy(set, RefusedFolder); err != nil {
		return fmt.Errorf("move to %s: %w", RefusedFolder, err)
	}
	if err := p.addFlags(uid, imap.DeletedFlag); err != nil {
		return err
	}
	if err := p.c.Expunge(nil); err != nil {
		return fmt.Errorf("move to %s: expunge: %w", RefusedFolder, err)
	}
	return nil
}

// envelope reads what the receiving server recorded of a polled mail's
// envelope. The sender: the topmost Return-Path ("" for <>, the null
// sender), or, for a mail without one (some hosted mailboxes), its From
// address. The recipients: the addresses of ours among Delivered-To,
// X-Original-To, To and Cc, in that order, each once; none for a mail
// that reached the mailbox as a blind copy.
func envelope(raw []byte, accept func(string) bool) (from string, rcpts []string) {
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw))).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return "", nil
	}
	if rp, ok := h["Return-Path"]; ok && len(rp) > 0 {
		v := strings.TrimSpace(rp[0])
		from = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">"))
	} else if a, err := mail.ParseAddress(h.Get("From")); err == nil {
		from = a.Address
	}
	seen := map[string]bool{}
	for _, field := range []string{"Delivered-To", "X-Original-To", "To", "Cc"} {
		for _, v := range h[field] {
			list, err := mail.ParseAddressList(v)
			if err != nil {
				list = []*mail.Address{{Address: strings.Trim(strings.TrimSpace(v), "<>")}}
			}
			for _, a := range list {
				key := strings.ToLower(a.Address)
				if a.Address == "" || seen[key] || (accept != nil && !accept(a.Address)) {
					continue
				}
				seen[key] = true
				rcpts = append(rcpts, a.Address)
			}
		}
	}
	return from, rcpts
}

// errorLog passes a library's own complaints to the portal's log.
type errorLog struct{ log *slog.Logger }

func (s errorLog) Printf(format string, v ...any) {
	s.log.Warn("incoming mail: " + fmt.Sprintf(format, v...))
}
func (s errorLog) Println(v ...any) { s.log.Warn("incoming mail: " + fmt.Sprint(v...)) }
