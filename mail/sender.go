package mail

import (
	"context"
	"crypto/tls"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	htmlpkg "html"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/orbitask/portal/sqlitedb"
)

// SenderConfig says where and how a Sender delivers. Only SMTPURL and From
// come from the operator; the rest have defaults.
type SenderConfig struct {
	// SMTPURL is the relay (--smtp-url, PORTAL_SMTP_URL):
	// smtp://[user:pass@]host[:port][?tls=starttls|implicit|none].
	// tls defaults to starttls; the port to 587 (starttls), 465
	// (implicit) or 25 (none). Empty: mails are queued but not sent.
	SMTPURL string
	// From is the sender address (--mail-from, PORTAL_MAIL_FROM); required
	// with SMTPURL.
	From string
	// MaxAttempts is how many times a mail is tried before it fails for
	// good; 0 means 10.
	MaxAttempts int
	// Backoff is the wait after the first failed attempt, doubled after
	// each further one up to MaxBackoff; 0 means 30 s and 1 h.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Poll is how often the sender looks for due mails when no commit woke
	// it (mails enqueued by another process, such as the command line);
	// 0 means 2 s. Such a mail waits up to Poll plus the sending, which
	// must stay under the 5 s promised from commit to relay.
	Poll time.Duration
	// Batch is how many due mails are sent over one connection; 0 means 100.
	Batch int
	// Timeout bounds connecting to the relay and each SMTP command; 0
	// means 30 s.
	Timeout time.Duration
	// TLSConfig, if not nil, replaces the default TLS settings (tests use
	// it to trust a relay's own certificate). Its ServerName defaults to
	// the URL's host.
	TLSConfig *tls.Config
	// Now is the sender's clock (due times, Date headers); nil means
	// time.Now. Enqueue stamps mails with time.Now, so a clock behind it
	// delays new mails.
	Now func() time.Time
}

// Defaults of SenderConfig.
const (
	DefaultMaxAttempts = 10
	DefaultBackoff     = 30 * time.Second
	DefaultMaxBackoff  = time.Hour
	DefaultPoll        = 2 * time.Second
	DefaultBatch       = 100
	DefaultTimeout     = 30 * time.Second
)

// TLS modes of --smtp-url.
const (
	TLSStartTLS = "starttls"
	TLSImplicit = "implicit"
	TLSNone     = "none"
)

// Relay is a parsed --smtp-url.
type Relay struct {
	Host     string
	Port     int
	TLS      string // TLSStartTLS, TLSImplicit or TLSNone
	User     string // empty: no authentication
	Password string
}

// String is the relay as a URL without its password, for logs.
func (r Relay) String() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(r.Host, strconv.Itoa(r.Port)), RawQuery: "tls=" + r.TLS}
	if r.User != "" {
		u.User = url.User(r.User)
	}
	return u.String()
}

// ParseSMTPURL reads a --smtp-url value. Its errors name the setting and
// never show the password.
func ParseSMTPURL(raw string) (Relay, error) {
	bad := func(format string, args ...any) (Relay, error) {
		return Relay{}, fmt.Errorf("--smtp-url: "+format+" (expected smtp://user:pass@host:port?tls=starttls|implicit|none)", args...)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, password included
		}
		return bad("not a URL: %v", err)
	}
	if u.Scheme != "smtp" {
		return bad("the scheme must be smtp, not %q", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return bad("no host")
	}
	if u.Path != "" && u.Path != "/" || u.Fragment != "" {
		return bad("unexpected path or fragment")
	}
	r := Relay{Host: u.Hostname(), TLS: TLSStartTLS}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return bad("bad query: %v", err)
	}
	for k, vs := range q {
		if k != "tls" {
			return bad("unknown parameter %q", k)
		}
		if len(vs) != 1 {
			return bad("tls given more than once")
		}
		switch vs[0] {
		case TLSStartTLS, TLSImplicit, TLSNone:
			r.TLS = vs[0]
		default:
			return bad("tls must be starttls, implicit or none, not %q", vs[0])
		}
	}
	switch r.TLS {
	case TLSStartTLS:
		r.Port = 587
	case TLSImplicit:
		r.Port = 465
	case TLSNone:
		r.Port = 25
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return bad("port %q is not a number from 1 to 65535", p)
		}
		r.Port = n
	} else if strings.HasSuffix(u.Host, ":") {
		return bad("empty port")
	}
	if u.User != nil {
		r.User = u.User.Username()
		r.Password, _ = u.User.Password()
		if r.User == "" {
			return bad("a password without a user name")
		}
	}
	return r, nil
}

// Sender delivers the outbox over SMTP. One Sender runs per database (two
// would send the same mails), and Run is called once. A Sender without a
// relay still serves Failed, Retry and Pending, and NewSender applies the
// outbox's migrations, so a process that only enqueues (the command line)
// opens one with an empty SenderConfig.
type Sender struct {
	db     *sqlitedb.DB
	log    *slog.Logger
	cfg    SenderConfig
	relay  Relay
	from   string
	client *gomail.Client // nil: no relay configured
	wake   chan struct{}
}

// NewSender applies the outbox's migrations and checks cfg: a bad
// SMTPURL or From is an error naming the setting. An empty SMTPURL is
// allowed: Run then only says that mail is not sent.
func NewSender(db *sqlitedb.DB, cfg SenderConfig, log *slog.Logger) (*Sender, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Sender{db: db, log: log, cfg: cfg, wake: make(chan struct{}, 1)}
	if cfg.SMTPURL != "" || cfg.From != "" {
		from, err := netmail.ParseAddress(cfg.From)
		if err != nil {
			return nil, fmt.Errorf("mail: --mail-from: not an e-mail address (%q): %v", cfg.From, err)
		}
		s.from = from.String()
	}
	if cfg.SMTPURL != "" {
		relay, err := ParseSMTPURL(cfg.SMTPURL)
		if err != nil {
			return nil, fmt.Errorf("mail: %w", err)
		}
		s.relay = relay
		if s.client, err = newClient(relay, cfg); err != nil {
			return nil, fmt.Errorf("mail: --smtp-url: %w", err)
		}
	}
	if err := db.Migrate("mail", migrations, "migrations"); err != nil {
		return nil, fmt.Errorf("mail: open: %w", err)
	}
	return s, nil
}

func newClient(r Relay, cfg SenderConfig) (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithPort(r.Port), gomail.WithTimeout(cfg.Timeout)}
	switch r.TLS {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if cfg.TLSConfig != nil {
		tc := cfg.TLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = r.Host
		}
		opts = append(opts, gomail.WithTLSConfig(tc))
	}
	if r.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(r.User), gomail.WithPassword(r.Password))
	}
	return gomail.NewClient(r.Host, opts...)
}

// Run delivers due mails until ctx ends, then returns nil. Without a relay
// it logs that mail is queued but not sent and returns nil at once.
func (s *Sender) Run(ctx context.Context) error {
	if s.client == nil {
		s.log.Info("mail is queued but not sent: no --smtp-url")
		return nil
	}
	addWaker(s.wake)
	defer removeWaker(s.wake)
	s.log.Info("mail: sending", "relay", s.relay.String(), "from", s.from)
	down := 0 // connections refused in a row
	for ctx.Err() == nil {
		full, err := s.sendDue(ctx)
		if errors.Is(err, errRelayDown) {
			// Wait for the relay, whatever is due or enqueued meanwhile:
			// each attempt may take the whole Timeout.
			down++
			s.pause(ctx, s.backoff(down))
			continue
		}
		down = 0
		if err != nil && ctx.Err() == nil {
			s.log.Error("mail: sending", "err", err)
		}
		if full && err == nil {
			continue // more may be due
		}
		// Sleep until the next retry is due, a commit wakes us, or Poll
		// passes; after an error (a database in trouble), for Poll.
		wait := s.cfg.Poll
		if err == nil {
			if next, ok, err := s.nextDue(ctx); err == nil && ok {
				wait = min(max(next.Sub(s.cfg.Now()), 0), wait)
			}
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-s.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
	return nil
}

// pause waits d or until ctx ends; commits meanwhile do not end it.
func (s *Sender) pause(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
	select {
	case <-s.wake: // looked at next anyway
	default:
	}
}

// errRelayDown is sendDue's error when it could not connect to the relay.
var errRelayDown = errors.New("relay unreachable")

// outgoing is a queued row.
type outgoing struct {
	id        int64
	messageID string
	to        string
	subject   string
	text      string
	html      sql.NullString
	headers   string
	attempts  int
	secret    sql.NullString
	secrets   sql.NullString // a JSON array: Message.Secrets
}

// sendDue sends one batch of due mails over one connection; full says the
// batch was full, so more may be due.
func (s *Sender) sendDue(ctx context.Context) (full bool, err error) {
	now := s.cfg.Now()
	rows, err := s.db.QueryContext(ctx, `SELECT id, message_id, to_addr, subject, text_body, html_body, headers, attempts, secret, secrets
		FROM mail_outbox WHERE state = 'queued' AND next_attempt_at <= ?
		ORDER BY next_attempt_at, id LIMIT ?`, sqlitedb.FormatTime(now), s.cfg.Batch)
	if err != nil {
		return false, fmt.Errorf("mail: due: %w", err)
	}
	var batch []outgoing
	for rows.Next() {
		var o outgoing
		if err := rows.Scan(&o.id, &o.messageID, &o.to, &o.subject, &o.text, &o.html, &o.headers, &o.attempts, &o.secret, &o.secrets); err != nil {
			rows.Close()
			return false, fmt.Errorf("mail: due: %w", err)
		}
		batch = append(batch, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("mail: due: %w", err)
	}
	if len(batch) == 0 {
		return false, nil
	}
	if err := s.client.DialWithContext(ctx); err != nil {
		if ctx.Err() != nil {
			return false, nil
		}
		// The relay is unreachable: every mail of the batch waits.
		s.log.Warn("mail: relay unreachable", "relay", s.relay.String(), "err", err)
		for _, o := range batch {
			if err := s.failed(o, err, false); err != nil {
				return false, err
			}
		}
		return false, errRelayDown
	}
	defer s.client.Close()
	// Delivered mails are recorded together, one write per batch (or per
	// recordEvery), not one per mail: while filings keep the one writer
	// busy, a write waits for its turn (about 20 ms at 1,000 filings/s),
	// and a write per mail held sending to some 45 mails/s. A crash before
	// the record sends those mails again after the restart, with the same
	// Message-IDs (see the package doc).
	var delivered []outgoing
	since := time.Now()
	record := func() error {
		err := s.sent(delivered)
		delivered, since = delivered[:0], time.Now()
		return err
	}
	for _, o := range batch {
		if ctx.Err() != nil {
			break // the rest stays due
		}
		msg, err := s.build(o)
		if err == nil {
			err = s.client.Send(msg)
		} else {
			err = permanentError{err} // cannot happen for what Enqueue wrote
		}
		if err != nil {
			if err := s.failed(o, err, permanent(err)); err != nil {
				return false, errors.Join(err, record())
			}
			continue
		}
		delivered = append(delivered, o)
		if time.Since(since) >= recordEvery {
			if err := record(); err != nil {
				return false, err
			}
		}
	}
	if err := record(); err != nil {
		return false, err
	}
	if ctx.Err() != nil {
		return false, nil
	}
	return len(batch) == s.cfg.Batch, nil
}

// recordEvery bounds how long delivered mails go unrecorded during a batch
// to a slow relay, and so how many a crash sends twice.
const recordEvery = 200 * time.Millisecond

// permanentError is a failure that no retry changes, other than the
// relay's 5xx.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// permanent reports whether err is the relay's 5xx reply, or a mail that
// cannot be built: no retry changes them.
func permanent(err error) bool {
	var se *gomail.SendError
	var pe permanentError
	return errors.As(err, &pe) || errors.As(err, &se) && !se.IsTemp() && se.ErrorCode()/100 == 5
}

// build makes the MIME message of o.
func (s *Sender) build(o outgoing) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.From(s.from); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := m.To(o.to); err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	m.Subject(o.subject)
	m.SetMessageIDWithValue(strings.TrimSuffix(strings.TrimPrefix(o.messageID, "<"), ">"))
	m.SetDateWithValue(s.cfg.Now())
	var headers map[string]string
	if err := json.Unmarshal([]byte(o.headers), &headers); err != nil {
		return nil, fmt.Errorf("headers: %w", err)
	}
	for k, v := range headers {
		m.SetGenHeader(gomail.Header(k), v)
	}
	text, html := o.text, o.html.String
	if o.secret.Valid {
		text = strings.ReplaceAll(text, SecretMark, o.secret.String)
		html = strings.ReplaceAll(html, SecretMark, htmlpkg.EscapeString(o.secret.String))
	}
	if o.secrets.Valid {
		var secrets []string
		if err := json.Unmarshal([]byte(o.secrets.String), &secrets); err != nil {
			return nil, fmt.Errorf("secrets: %w", err)
		}
		for i, sec := range secrets {
			text = strings.ReplaceAll(text, SecretMarkN(i), sec)
			html = strings.ReplaceAll(html, SecretMarkN(i), htmlpkg.EscapeString(sec))
		}
	}
	m.SetBodyString(gomail.TypeTextPlain, text)
	if o.html.Valid && html != "" {
		m.AddAlternativeString(gomail.TypeTextHTML, html)
	}
	return m, nil
}

// sent records the mails as delivered, in one write.
func (s *Sender) sent(done []outgoing) error {
	if len(done) == 0 {
		return nil
	}
	now := sqlitedb.FormatTime(s.cfg.Now())
	err := s.db.Write(context.Background(), func(tx *sqlitedb.Tx) error {
		for _, o := range done {
			if _, err := tx.Exec(`UPDATE mail_outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL, secret = NULL, secrets = NULL
				WHERE id = ? AND state = 'queued'`, now, o.id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mail: sent %s and %d more: %w", done[0].messageID, len(done)-1, err)
	}
	for _, o := range done {
		s.log.Info("mail: sent", "id", o.id, "message_id", o.messageID)
	}
	return nil
}

// failed records a failed attempt at o: a retry after the backoff, or, if
// the failure is permanent or o has had its attempts, failure for good.
func (s *Sender) failed(o outgoing, cause error, permanent bool) error {
	attempts := o.attempts + 1
	now := s.cfg.Now()
	reason := cause.Error()
	var err error
	if permanent || attempts >= s.cfg.MaxAttempts {
		s.log.Warn("mail: failed for good", "id", o.id, "message_id", o.messageID, "attempts", attempts, "err", reason)
		err = s.db.Write(context.Background(), func(tx *sqlitedb.Tx) error {
			_, err := tx.Exec(`UPDATE mail_outbox SET state = 'failed', attempts = ?, last_error = ?
				WHERE id = ? AND state = 'queued'`, attempts, reason, o.id)
			return err
		})
	} else {
		next := now.Add(s.backoff(attempts))
		s.log.Info("mail: will retry", "id", o.id, "message_id", o.messageID, "attempts", attempts, "at", next, "err", reason)
		err = s.db.Write(context.Background(), func(tx *sqlitedb.Tx) error {
			_, err := tx.Exec(`UPDATE mail_outbox SET attempts = ?, last_error = ?, next_attempt_at = ?
				WHERE id = ? AND state = 'queued'`, attempts, reason, sqlitedb.FormatTime(next), o.id)
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("mail: record attempt at %s: %w", o.messageID, err)
	}
	return nil
}

// backoff is the wait after the given number of failed attempts (1 or
// more): Backoff doubled per further attempt, at most MaxBackoff.
func (s *Sender) backoff(attempts int) time.Duration {
	d := s.cfg.Backoff
	for i := 1; i < attempts && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, s.cfg.MaxBackoff)
}

// nextDue is when the earliest queued mail is due.
func (s *Sender) nextDue(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullString
	if err := s.db.QueryRowContext(ctx, `SELECT min(next_attempt_at) FROM mail_outbox WHERE state = 'queued'`).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("mail: next due: %w", err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	t, err := sqlitedb.ParseTime(next.String)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("mail: next due: %w", err)
	}
	return t, true, nil
}

// Failure is a mail that failed for good, for operators.
type Failure struct {
	ID        int64
	MessageID string
	Ticket    int64 // 0: none
	Kind      string
	To        string
	Subject   string
	Attempts  int
	LastError string
	Created   time.Time
}

// Failed lists the mails that failed for good, newest first.
func (s *Sender) Failed(ctx context.Context) ([]Failure, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, message_id, coalesce(ticket, 0), kind, to_addr, subject, attempts, coalesce(last_error, ''), created_at
		FROM mail_outbox WHERE state = 'failed' ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("mail: failed: %w", err)
	}
	defer rows.Close()
	var out []Failure
	for rows.Next() {
		var f Failure
		var created string
		if err := rows.Scan(&f.ID, &f.MessageID, &f.Ticket, &f.Kind, &f.To, &f.Subject, &f.Attempts, &f.LastError, &created); err != nil {
			return nil, fmt.Errorf("mail: failed: %w", err)
		}
		if f.Created, err = sqlitedb.ParseTime(created); err != nil {
			return nil, fmt.Errorf("mail: failed: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mail: failed: %w", err)
	}
	return out, nil
}

// Retry queues a failed mail again, with its attempts reset, due now.
// ErrNotFound: no such mail; ErrNotFailed: it is queued or sent.
func (s *Sender) Retry(ctx context.Context, id int64) error {
	err := s.db.Write(ctx, func(tx *sqlitedb.Tx) error {
		var state string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM mail_outbox WHERE id = ?`, id).Scan(&state); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		if state != "failed" {
			return fmt.Errorf("%w: it is %s", ErrNotFailed, state)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET state = 'queued', attempts = 0, next_attempt_at = ?
			WHERE id = ?`, sqlitedb.FormatTime(s.cfg.Now()), id); err != nil {
			return err
		}
		tx.OnCommit(wakeAll)
		return nil
	})
	if err != nil {
		return fmt.Errorf("mail: retry %d: %w", id, err)
	}
	return nil
}

// Pending is the number of mails waiting to be sent.
func (s *Sender) Pending(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM mail_outbox WHERE state = 'queued'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("mail: pending: %w", err)
	}
	return n, nil
}
