package mail_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// relay is a real SMTP server (go-smtp) on 127.0.0.1 that keeps what it
// accepts; reject, if set, answers each mail's DATA or RCPT instead.
type relay struct {
	t    *testing.T
	addr string

	mu       sync.Mutex
	received []received
	attempts int                     // RCPT commands seen
	reject   func(attempt int) error // nil: accept; called at RCPT
	srv      *smtp.Server

	// Set before start: TLS (STARTTLS, or implicit TLS if implicit), and
	// a required login.
	tls        *tls.Config
	implicit   bool
	user, pass string
}

type received struct {
	from, to string
	tls      bool   // over TLS
	user     string // logged in as
	raw      []byte
	msg      *netmail.Message
}

// startRelay starts a relay on a free port.
func startRelay(t *testing.T) *relay {
	t.Helper()
	r := &relay{t: t, addr: "127.0.0.1:0"}
	r.start()
	return r
}

// newRelayAddr reserves an address for a relay started later (a relay
// that is down at first).
func newRelayAddr(t *testing.T) *relay {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return &relay{t: t, addr: addr}
}

func (r *relay) start() {
	r.t.Helper()
	l, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatal(err)
	}
	r.addr = l.Addr().String()
	if r.implicit {
		l = tls.NewListener(l, r.tls)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{r: r, c: c}, nil
	}))
	if !r.implicit {
		srv.TLSConfig = r.tls // offers STARTTLS
	}
	srv.Domain = "relay.test"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go srv.Serve(l)
	r.t.Cleanup(func() { srv.Close() })
}

// url is the --smtp-url of the relay.
func (r *relay) url() string {
	mode := "none"
	switch {
	case r.implicit:
		mode = "implicit"
	case r.tls != nil:
		mode = "starttls"
	}
	login := ""
	if r.user != "" {
		login = url.UserPassword(r.user, r.pass).String() + "@"
	}
	return "smtp://" + login + r.addr + "?tls=" + mode
}

func (r *relay) setReject(f func(attempt int) error) {
	r.mu.Lock()
	r.reject = f
	r.mu.Unlock()
}

func (r *relay) mails() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.received...)
}

// waitFor waits up to within for n mails and returns them.
func (r *relay) waitFor(n int, within time.Duration) []received {
	r.t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := r.mails()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("relay: %d mails after %v, want %d", len(got), within, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type session struct {
	r        *relay
	c        *smtp.Conn
	user     string
	from, to string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if s.r.user == "" || user != s.r.user || pass != s.r.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Reset()        { s.from, s.to = "", "" }
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.r.user != "" && s.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.r.mu.Lock()
	s.r.attempts++
	reject, attempt := s.r.reject, s.r.attempts
	s.r.mu.Unlock()
	if reject != nil {
		if err := reject(attempt); err != nil {
			return err
		}
	}
	s.to = to
	return nil
}

func (s *session) Data(rd io.Reader) error {
	raw, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		s.r.t.Errorf("relay: unreadable message: %v\n%s", err, raw)
		return err
	}
	s.r.mu.Lock()
	_, overTLS := s.c.TLSConnectionState()
	s.r.received = append(s.r.received, received{from: s.from, to: s.to, tls: overTLS, user: s.user, raw: raw, msg: msg})
	s.r.mu.Unlock()
	return nil
}

// parts reads a received message's body: the text and HTML alternatives
// (decoded), and the top-level media type.
func parts(t *testing.T, m *netmail.Message) (mediaType, text, html string) {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	decode := func(h interface{ Get(string) string }, r io.Reader) string {
		if strings.EqualFold(h.Get("Content-Transfer-Encoding"), "quoted-printable") {
			r = quotedprintable.NewReader(r)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSuffix(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		return mediaType, decode(m.Header, m.Body), ""
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, ps, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if !strings.EqualFold(ps["charset"], "utf-8") {
			t.Errorf("part %s: charset %q, want UTF-8", ct, ps["charset"])
		}
		switch ct {
		case "text/plain":
			text = decode(p.Header, p)
		case "text/html":
			html = decode(p.Header, p)
		default:
			t.Errorf("unexpected part %s", ct)
		}
	}
	return mediaType, text, html
}

// testCert is a self-signed certificate for 127.0.0.1: the relay's
// configuration and a client configuration trusting it.
func testCert(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "relay.test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
}
