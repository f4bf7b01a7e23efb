package mailin

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/textproto"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/orbitask/portal/inbound"
	"github.com/orbitask/portal/ratelimit"
)

// Endpoint is where the listener listens and which protocol it speaks.
type Endpoint struct {
	LMTP    bool   // LMTP (RFC 2033); false: plain SMTP
	Network string // "tcp" or "unix"
	Address string // host:port, or the socket's path
}

func (e Endpoint) String() string {
	scheme := "smtp"
	if e.LMTP {
		scheme = "lmtp"
	}
	return scheme + "://" + e.Address // a socket's path starts with "/": lmtp:///run/...
}

// ParseListen reads the --mail-listen setting: lmtp://127.0.0.1:2424,
// lmtp:///run/portal/lmtp.sock (a unix socket), smtp://127.0.0.1:2525.
func ParseListen(raw string) (Endpoint, error) {
	bad := func(format string, args ...any) (Endpoint, error) {
		return Endpoint{}, fmt.Errorf("--mail-listen: "+format+
			" (expected lmtp://HOST:PORT, lmtp:///PATH/TO/SOCKET, smtp://HOST:PORT or smtp:///PATH/TO/SOCKET)", args...)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("%q is not a URL", raw)
	}
	var e Endpoint
	switch u.Scheme {
	case "lmtp":
		e.LMTP = true
	case "smtp":
	default:
		return bad("the scheme must be lmtp or smtp, not %q", u.Scheme)
	}
	if u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return bad("%q has parts a listen address cannot have", raw)
	}
	switch {
	case u.Host == "" && u.Path != "" && u.Path != "/":
		e.Network, e.Address = "unix", u.Path
	case u.Host != "" && (u.Path == "" || u.Path == "/"):
		host, port, err := net.SplitHostPort(u.Host)
		if err != nil || port == "" {
			return bad("%q needs a port", u.Host)
		}
		if _, err := net.LookupPort("tcp", port); err != nil {
			return bad("port %q is not a port", port)
		}
		e.Network, e.Address = "tcp", net.JoinHostPort(host, port)
	default:
		return bad("%q names neither HOST:PORT nor a socket path", raw)
	}
	return e, nil
}

// ListenConfig are the listener's settings.
type ListenConfig struct {
	Endpoint Endpoint
	// Accept says whether a recipient is ours; others are refused at RCPT
	// TO with 550, so the listener is no open relay. Required.
	Accept func(rcpt string) bool
	// Deliver takes each mail, once, with all its accepted recipients.
	Deliver Deliver
	// Domain names the portal in the greeting; "" is "localhost".
	Domain string
	// MaxRecipients per mail (0: 50); more get 452 and come in another
	// transaction.
	MaxRecipients int
	// MaxConnections open at once (0: 50); more are told 421 and closed.
	MaxConnections int
	// ReadTimeout bounds the wait for a command and the whole DATA
	// transfer (0: 5 minutes); WriteTimeout a reply (0: 1 minute).
	ReadTimeout, WriteTimeout time.Duration
	// MaxDeliveries bounds the mails read and delivered at once (0: 4),
	// and so the memory they take: up to inbound.MaxSize each, and two or
	// three times that while Deliver parses it. A mail over the bound
	// waits for its turn, up to QueueWait (0: 2 minutes, under Postfix's
	// 3-minute data timeout), then is told 451 and comes again later.
	MaxDeliveries int
	QueueWait     time.Duration
	// Grace is how long Close waits for mails being delivered (0: 10 s).
	Grace time.Duration
	// Flood limits each envelope sender (zero: DefaultFlood).
	Flood ratelimit.Rule
	// Logger; nil discards.
	Logger *slog.Logger
	// Now is the flood limit's clock; nil is time.Now.
	Now func() time.Time

	flood *flood // shared with the poller when Start runs both
}

// Listener receives mail over LMTP or SMTP and hands it to Deliver.
type Listener struct {
	cfg   ListenConfig
	srv   *smtp.Server
	ln    *limitListener
	log   *slog.Logger
	flood *flood
	slots chan struct{} // one per mail being read and delivered

	ctx    context.Context // deliveries' context, ended when Close gives up waiting
	cancel context.CancelFunc
	served chan struct{} // closed when Serve returns

	mu       sync.Mutex
	closing  bool
	active   int           // deliveries under way
	drained  chan struct{} // closed once closing and no delivery is under way
	closeErr error
	closed   bool
}

// Listen starts listening; Close stops.
func Listen(cfg ListenConfig) (*Listener, error) {
	if cfg.Accept == nil || cfg.Deliver == nil {
		return nil, errors.New("mailin: listen: Accept and Deliver are required")
	}
	if cfg.Domain == "" {
		cfg.Domain = "localhost"
	}
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = 50
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = 50
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 5 * time.Minute
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = time.Minute
	}
	if cfg.MaxDeliveries <= 0 {
		cfg.MaxDeliveries = 4
	}
	if cfg.QueueWait <= 0 {
		cfg.QueueWait = 2 * time.Minute
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 10 * time.Second
	}
	log := discard(cfg.Logger)
	f := cfg.flood
	if f == nil {
		f = newFlood(cfg.Flood, log, cfg.Now)
	}
	inner, err := listen(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	l := &Listener{cfg: cfg, log: log, flood: f, slots: make(chan struct{}, cfg.MaxDeliveries), served: make(chan struct{}), drained: make(chan struct{})}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.ln = &limitListener{Listener: inner, max: cfg.MaxConnections, conns: map[*trackedConn]struct{}{}, log: log}
	l.srv = smtp.NewServer(backend{l})
	l.srv.LMTP = cfg.Endpoint.LMTP
	l.srv.Network = cfg.Endpoint.Network
	l.srv.Domain = cfg.Domain
	// No limit for go-smtp: it would refuse a larger mail with 552, and
	// the mail server, seeing "SIZE 26214400", would bounce it to the
	// envelope sender (backscatter). Data drops a too-large mail instead.
	l.srv.MaxMessageBytes = 0
	l.srv.MaxRecipients = cfg.MaxRecipients
	// A customer's address may be international (jiří@…): refusing
	// SMTPUTF8 would bounce the mail at the mail server.
	l.srv.EnableSMTPUTF8 = true
	l.srv.ReadTimeout = cfg.ReadTimeout
	l.srv.WriteTimeout = cfg.WriteTimeout
	l.srv.ErrorLog = errorLog{log}
	go func() {
		defer close(l.served)
		if err := l.srv.Serve(l.ln); err != nil {
			log.Error("incoming mail: the listener stopped", "err", err)
		}
	}()
	return l, nil
}

// listen opens the socket; a unix socket left by a portal that died is
// removed first, one that another process listens on is not.
func listen(e Endpoint) (net.Listener, error) {
	if e.Network == "unix" {
		if fi, err := os.Lstat(e.Address); err == nil && fi.Mode().Type() == fs.ModeSocket {
			if c, err := net.DialTimeout("unix", e.Address, time.Second); err == nil {
				c.Close()
				return nil, fmt.Errorf("--mail-listen: another process listens on %s", e.Address)
			}
			_ = os.Remove(e.Address)
		}
	}
	ln, err := net.Listen(e.Network, e.Address)
	if err != nil {
		return nil, fmt.Errorf("--mail-listen: %w", err)
	}
	if e.Network == "unix" {
		// The mail server runs as another user: it needs to write to the
		// socket. Group only: add the mail server's user to the portal's group.
		if err := os.Chmod(e.Address, 0o660); err != nil {
			ln.Close()
			return nil, fmt.Errorf("--mail-listen: %w", err)
		}
	}
	return ln, nil
}

// Addr is the address listened on (with the port chosen for port 0).
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Endpoint is what the listener listens on, the port chosen for port 0
// filled in.
func (l *Listener) Endpoint() Endpoint {
	e := l.cfg.Endpoint
	e.Address = l.ln.Addr().String()
	return e
}

// Close stops accepting connections, refuses new mails with 421, waits up
// to Grace for the mails being delivered, then closes every connection. A
// mail cut short was not acknowledged: its sender sends it again.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return l.closeErr
	}
	l.closed, l.closing = true, true
	if l.active == 0 {
		close(l.drained)
	}
	l.mu.Unlock()

	shut := make(chan error, 1)
	go func() { shut <- l.srv.Shutdown(context.Background()) }() // closes the socket, then waits for connections
	select {
	case <-l.drained:
	case <-time.After(l.cfg.Grace):
		l.log.Warn("incoming mail: closing with mails still being delivered; their senders will send them again")
	}
	l.cancel()
	l.ln.closeAll()
	var err error
	select {
	case err = <-shut:
	case <-time.After(5 * time.Second):
		err = errors.New("mailin: connections did not end")
	}
	<-l.served
	if l.cfg.Endpoint.Network == "unix" {
		_ = os.Remove(l.cfg.Endpoint.Address)
	}
	l.mu.Lock()
	l.closeErr = err
	l.mu.Unlock()
	return err
}

// acquire takes one of MaxDeliveries slots, waiting up to QueueWait (then
// 451) or until Close gives up (421).
func (l *Listener) acquire() error {
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	wait := time.NewTimer(l.cfg.QueueWait)
	defer wait.Stop()
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-wait.C:
		l.log.Warn("incoming mail: too many mails at once; told to come again later", "max_deliveries", l.cfg.MaxDeliveries, "waited", l.cfg.QueueWait)
		return errBusy
	case <-l.ctx.Done():
		return errClosing
	}
}

// begin counts a delivery in, unless the listener is closing; the
// session's Reset or Logout counts it out.
func (l *Listener) begin() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return false
	}
	l.active++
	return true
}

func (l *Listener) end() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.active--
	if l.closing && l.active == 0 {
		close(l.drained)
	}
}

var (
	errClosing  = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Shutting down, try again later"}
	errBusy     = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Too many mails at once, try again later"}
	errNotOurs  = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such recipient here"}
	errTempFail = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again later"}
)

type backend struct{ l *Listener }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{l: b.l, remote: c.Conn().RemoteAddr().String()}, nil
}

// session is one connection's mail transaction. A mail is delivered once,
// with all its accepted recipients; over LMTP each recipient gets that one
// outcome as its reply (go-smtp's Data fallback).
type session struct {
	l      *Listener
	remote string
	from   string
	rcpts  []string
	size   int64  // the SIZE the client declared, 0 if none
	drop   string // why this mail is accepted and dropped unread ("" delivers it)

	mu   sync.Mutex
	owed bool // a delivery is counted in (begin) and its reply not yet sent
}

// Reset ends a transaction: go-smtp calls it after writing DATA's reply,
// so that is when a delivery ends for Close, which must not cut the
// connection between a delivery and its 250.
func (s *session) Reset() {
	s.settle()
	s.from, s.rcpts, s.size, s.drop = "", nil, 0, ""
}

func (s *session) Logout() error { s.settle(); return nil }

func (s *session) settle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.owed {
		s.owed = false
		s.l.end()
	}
}

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	s.l.mu.Lock()
	closing := s.l.closing
	s.l.mu.Unlock()
	if closing {
		return errClosing
	}
	s.from = from
	if opts != nil {
		s.size = opts.Size
	}
	// A refusal here (451, 552) would sit in the mail server's queue, then
	// bounce to the envelope sender: accept and drop instead.
	if !s.l.flood.allow(from, s.l.cfg.Endpoint.String(), "accepted and dropped") {
		s.drop = "flood" // logged by allow, once per sender a minute
	} else if s.size > inbound.MaxSize {
		s.drop = "too large"
	}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !s.l.cfg.Accept(to) {
		return errNotOurs
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

// Data delivers the mail. Whatever Deliver refuses for good, and a mail
// too large or from a flooding sender, is answered 250 and dropped with a
// log line: the mail server in front already accepted the mail from the
// world, and a refusal from us would only make it bounce the mail to the
// envelope sender, who is often forged (backscatter). Only a temporary
// failure is 451: the mail server keeps the mail and tries again.
func (s *session) Data(r io.Reader) error {
	if s.drop != "" {
		n, err := io.Copy(io.Discard, r)
		if err != nil {
			return err
		}
		if s.drop == "too large" {
			s.dropped(nil, "larger than inbound.MaxSize", "declared", s.size, "bytes", n)
		}
		return nil
	}
	if err := s.l.acquire(); err != nil {
		return err
	}
	defer func() { <-s.l.slots }()
	raw, err := readMail(r, s.size)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			s.dropped(nil, "larger than inbound.MaxSize", "max", inbound.MaxSize)
			return nil
		}
		return err
	}
	if !s.l.begin() {
		return errClosing
	}
	s.mu.Lock()
	s.owed = true // until Reset, after the reply
	s.mu.Unlock()
	err = s.l.cfg.Deliver(s.l.ctx, s.from, s.rcpts, raw)
	switch {
	case err == nil:
		return nil
	case Permanent(err):
		s.dropped(raw, err.Error())
		return nil
	default:
		s.l.log.Warn("incoming mail not delivered; the sender will retry", "from", s.from, "rcpts", s.rcpts, "remote", s.remote, "err", err)
		return errTempFail
	}
}

// dropped logs a mail accepted and dropped: the sender, the Message-ID
// (when raw is given and has one) and why.
func (s *session) dropped(raw []byte, reason string, more ...any) {
	from := s.from
	if from == "" {
		from = "<>"
	}
	args := []any{"from", from, "rcpts", s.rcpts, "remote", s.remote}
	if raw != nil {
		args = append(args, "message_id", messageID(raw))
	}
	args = append(args, "reason", reason)
	s.l.log.Warn("incoming mail dropped: "+reason, append(args, more...)...)
}

// messageID is raw's Message-ID header, "" if it has none or no readable
// header; cut to one short line for the log.
func messageID(raw []byte) string {
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw))).ReadMIMEHeader()
	if h == nil && err != nil {
		return ""
	}
	return oneLine(h.Get("Message-Id"))
}

var errTooLarge = errors.New("mailin: mail larger than inbound.MaxSize")

// readMail reads a mail of at most inbound.MaxSize bytes (errTooLarge
// beyond) into one buffer sized from the SIZE the client declared (a
// little more: the client counts its own line ends, CRLF on the wire), so
// a large mail is not copied over and over while its buffer grows.
func readMail(r io.Reader, declared int64) ([]byte, error) {
	lr := io.LimitReader(r, inbound.MaxSize+1)
	if declared <= 0 { // no hint: io.ReadAll grows its buffer more thriftily than append
		buf, err := io.ReadAll(lr)
		if err == nil && len(buf) > inbound.MaxSize {
			return buf[:0], errTooLarge
		}
		return buf, err
	}
	buf := make([]byte, 0, min(declared+declared/32+4096, inbound.MaxSize+1))
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > inbound.MaxSize {
			return buf[:0], errTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// oneLine keeps an error's text fit for one SMTP reply line.
func oneLine(s string) string {
	out := []rune{}
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			r = ' '
		}
		out = append(out, r)
		if len(out) >= 200 {
			break
		}
	}
	return string(out)
}

// limitListener caps the connections open at once: one over the cap is
// told 421 (the mail server tries again later) and closed. It remembers
// the open ones so that Close can end them.
type limitListener struct {
	net.Listener
	max int
	log *slog.Logger

	mu       sync.Mutex
	conns    map[*trackedConn]struct{}
	closed   bool         // closeAll ran: a connection accepted late is closed at once
	reported atomic.Int64 // unix seconds of the last "too many" log
}

func (ll *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ll.mu.Lock()
		if ll.closed {
			ll.mu.Unlock()
			c.Close()
			continue
		}
		if len(ll.conns) >= ll.max {
			ll.mu.Unlock()
			now := time.Now().Unix()
			if last := ll.reported.Load(); now-last >= 60 && ll.reported.CompareAndSwap(last, now) {
				ll.log.Warn("incoming mail: too many connections; new ones are told to come back later", "max", ll.max)
			}
			_ = c.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = io.WriteString(c, "421 4.3.2 Too many connections, try again later\r\n")
			c.Close()
			continue
		}
		tc := &trackedConn{Conn: c, ll: ll}
		ll.conns[tc] = struct{}{}
		ll.mu.Unlock()
		return tc, nil
	}
}

func (ll *limitListener) closeAll() {
	ll.mu.Lock()
	ll.closed = true
	conns := make([]*trackedConn, 0, len(ll.conns))
	for c := range ll.conns {
		conns = append(conns, c)
	}
	ll.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

type trackedConn struct {
	net.Conn
	ll   *limitListener
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.ll.mu.Lock()
		delete(c.ll.conns, c)
		c.ll.mu.Unlock()
	})
	return c.Conn.Close()
}
