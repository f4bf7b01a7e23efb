// Package gitweb serves the content repository over git's smart HTTP at
// /content.git: writers clone and push with their e-mail and a personal
// access token, and a push is published before `git push` returns. The git
// side is package gitrepo; this package is HTTP only: credentials, limits,
// request bodies in, streamed answers out.
package gitweb

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/gitrepo"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/publish"
	"github.com/orbitask/portal/staff"
)

// Limits bound one exchange with git.
type Limits struct {
	// MaxPush is the most a push's body may hold once decoded; 0: 512 MiB.
	MaxPush int64
	// MaxFetchRequest is the most a clone's or fetch's request (its wants
	// and haves) may hold once decoded; 0: 16 MiB.
	MaxFetchRequest int64
	// Timeout bounds one request from its body's end to its answer's,
	// the push's check and AfterPush included; 0: 10 minutes.
	Timeout time.Duration
	// MaxExchanges is how many git processes serve clients at once; more
	// wait up to QueueWait, then get 503 with Retry-After: a flood of clones
	// must not fork without bound. 0: 8.
	MaxExchanges int
	// QueueWait is how long a request waits for one of them; 0: 10 s.
	QueueWait time.Duration
}

// Config is what /content.git serves and who may use it.
type Config struct {
	// Repo is the content repository; nil answers every /content.git
	// request with 404.
	Repo  *gitrepo.Repo
	Staff *staff.Store
	// AllowAnonymousClone lets anyone clone and fetch without credentials
	// (main only: preview branches stay hidden). Staff always may.
	AllowAnonymousClone bool
	// Check decides each push (nil refuses every push).
	Check gitrepo.CheckFunc
	// AfterPush runs after an accepted push's receive-pack has ended and
	// before its answer ends, so `git push` returns once it is published.
	AfterPush func(ctx context.Context) error
	// Receive, when set, runs a push instead of Repo.ReceivePack with
	// Check and AfterPush: publish.Publisher.Receive, which also holds the
	// repository's lock from the check to the publish.
	Receive func(ctx context.Context, gitProtocol string, in io.Reader, out io.Writer) (publish.PushResult, error)
	// Publisher and WebhookSecret serve POST /api/hooks/git (a git host's
	// push webhook, which publishes Publisher's remote branch); without
	// both the route does not exist. RemoteBranch is the branch it
	// publishes (other branches' pushes are ignored).
	Publisher     *publish.Publisher
	WebhookSecret string
	RemoteBranch  string
	Logger        *slog.Logger // nil discards
	// RateLimits: failed credentials count against the client's SignIn
	// limit, as a bad token on the agent API does.
	RateLimits httpkit.RateLimits
	// SignIn, when set, is the limiter of failed credentials to use instead
	// of one of RateLimits' (server.New shares the console's).
	SignIn *httpkit.RateLimit
	Limits Limits
}

// Realm is the Basic realm git shows when it asks for credentials.
const Realm = "Orbitask knowledge base"

// Handler serves /content.git.
type Handler struct {
	slots  chan struct{} // one per git exchange under way (Limits.MaxExchanges)
	cfg    Config
	log    *slog.Logger
	signIn *httpkit.RateLimit
}

// New makes the handler of cfg; Register mounts it.
func New(cfg Config) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Limits.MaxPush <= 0 {
		cfg.Limits.MaxPush = 512 << 20
	}
	if cfg.Limits.MaxFetchRequest <= 0 {
		cfg.Limits.MaxFetchRequest = 16 << 20
	}
	if cfg.Limits.Timeout <= 0 {
		cfg.Limits.Timeout = 10 * time.Minute
	}
	signIn := cfg.SignIn
	if signIn == nil {
		signIn = cfg.RateLimits.New(cfg.Logger).SignIn
	}
	if cfg.Limits.MaxExchanges <= 0 {
		cfg.Limits.MaxExchanges = 8
	}
	if cfg.Limits.QueueWait <= 0 {
		cfg.Limits.QueueWait = 10 * time.Second
	}
	return &Handler{cfg: cfg, log: cfg.Logger, signIn: signIn, slots: make(chan struct{}, cfg.Limits.MaxExchanges)}
}

// Register mounts the three routes of git's smart protocol (none without a
// Repo). Nothing else is served under /content.git: no dumb protocol, no
// path reaches the repository's files; other paths fall through to the
// app's catch-all, 404.
func (h *Handler) Register(app *fiber.App) {
	if h.cfg.Publisher != nil && h.cfg.WebhookSecret != "" {
		app.Post("/api/hooks/git", h.webhook)
	}
	if h.cfg.Repo == nil {
		return
	}
	app.Get("/content.git/info/refs", h.infoRefs)
	app.Post("/content.git/git-upload-pack", h.uploadPack)
	app.Post("/content.git/git-receive-pack", h.receivePack)
}

// MayPush reports whether a role may push: writers, and operators, who run
// the portal and may have to fix an article themselves. Agents may not.
func MayPush(r staff.Role) bool { return r == staff.RoleWriter || r == staff.RoleOperator }

type pusherKey struct{}

// Pusher is the staff member whose push a Check or AfterPush is handling.
func Pusher(ctx context.Context) (staff.User, bool) {
	u, ok := ctx.Value(pusherKey{}).(staff.User)
	return u, ok
}

// access is who a request comes from: a staff member, or anonymous.
type access struct {
	user  staff.User
	staff bool
}

// errRefused is a request answered already (401, 403, 429).
var errRefused = errors.New("refused")

// authorize answers the request itself (and returns errRefused) unless its
// credentials allow service.
func (h *Handler) authorize(c *fiber.Ctx, service string) (access, error) {
	auth := c.Get(fiber.HeaderAuthorization)
	if auth == "" {
		if service == gitrepo.ServiceUploadPack && h.cfg.AllowAnonymousClone {
			return access{}, nil
		}
		return access{}, challenge(c)
	}
	u, err := h.authenticate(c, auth)
	if err != nil {
		return access{}, err
	}
	if service == gitrepo.ServiceReceivePack && !MayPush(u.Role) {
		c.Set(fiber.HeaderCacheControl, "no-cache")
		return access{}, errors.Join(errRefused, c.Status(fiber.StatusForbidden).SendString("your role ("+string(u.Role)+") may not push to the knowledge base\n"))
	}
	return access{user: u, staff: true}, nil
}

// authenticate checks Basic credentials (the account's e-mail and one of
// its personal access tokens) or a Bearer token. Wrong ones count against
// the client's sign-in limit.
func (h *Handler) authenticate(c *fiber.Ctx, auth string) (staff.User, error) {
	var email, token string
	scheme, cred, _ := strings.Cut(auth, " ")
	bearer := strings.EqualFold(scheme, "Bearer")
	switch {
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		if err == nil {
			email, token, _ = strings.Cut(string(raw), ":")
		}
	case bearer:
		token = strings.TrimSpace(cred)
	}
	u, err := h.cfg.Staff.Authenticate(c.UserContext(), token)
	if err == nil && !bearer && !strings.EqualFold(strings.TrimSpace(email), u.Email) {
		err = staff.ErrUnauthenticated // another account's token
	}
	if errors.Is(err, staff.ErrUnauthenticated) {
		if lerr := h.signIn.Allow(httpkit.ClientIP(c)); lerr != nil {
			s, _ := httpkit.RetryAfter(lerr)
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(s))
			return staff.User{}, errors.Join(errRefused, c.Status(fiber.StatusTooManyRequests).SendString("too many failed sign-ins; try again later\n"))
		}
		return staff.User{}, challenge(c)
	}
	if err != nil {
		return staff.User{}, fmt.Errorf("gitweb: %w", err)
	}
	return u, nil
}

// challenge is the 401 that makes git ask for (or look up) credentials.
func challenge(c *fiber.Ctx) error {
	c.Set(fiber.HeaderWWWAuthenticate, `Basic realm="`+Realm+`"`)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return errors.Join(errRefused, c.Status(fiber.StatusUnauthorized).SendString("sign in with your e-mail and a personal access token\n"))
}

// answered turns errRefused (the answer is written) into nil.
func answered(err error) error {
	if errors.Is(err, errRefused) {
		return nil
	}
	return err
}

func noCache(c *fiber.Ctx) {
	c.Set(fiber.HeaderCacheControl, "no-cache, max-age=0, must-revalidate")
	c.Set(fiber.HeaderPragma, "no-cache")
	c.Set(fiber.HeaderExpires, "Fri, 01 Jan 1980 00:00:00 GMT")
}

// repoFor is the repository as who may see it.
func (h *Handler) repoFor(a access) *gitrepo.Repo {
	if a.staff {
		return h.cfg.Repo
	}
	return h.cfg.Repo.Hiding("refs/heads/preview/")
}

// infoRefs is GET /content.git/info/refs?service=...
func (h *Handler) infoRefs(c *fiber.Ctx) error {
	service := c.Query("service")
	if service != gitrepo.ServiceUploadPack && service != gitrepo.ServiceReceivePack {
		return fiber.ErrNotFound // the dumb protocol is not served
	}
	a, err := h.authorize(c, service)
	if err != nil {
		return answered(err)
	}
	var buf bytes.Buffer
	if err := h.repoFor(a).AdvertiseRefs(c.UserContext(), service, c.Get("Git-Protocol"), &buf); err != nil {
		return fmt.Errorf("gitweb: %w", err)
	}
	noCache(c)
	c.Set(fiber.HeaderContentType, "application/x-"+service+"-advertisement")
	return c.Send(buf.Bytes())
}

// uploadPack is POST /content.git/git-upload-pack: a clone or fetch.
func (h *Handler) uploadPack(c *fiber.Ctx) error {
	a, err := h.authorize(c, gitrepo.ServiceUploadPack)
	if err != nil {
		return answered(err)
	}
	repo, proto := h.repoFor(a), c.Get("Git-Protocol")
	return h.exchange(c, gitrepo.ServiceUploadPack, h.cfg.Limits.MaxFetchRequest, func(ctx context.Context, in io.Reader, out io.Writer) error {
		return repo.UploadPack(ctx, proto, in, out)
	})
}

// receivePack is POST /content.git/git-receive-pack: a push.
func (h *Handler) receivePack(c *fiber.Ctx) error {
	a, err := h.authorize(c, gitrepo.ServiceReceivePack)
	if err != nil {
		return answered(err)
	}
	proto, who := c.Get("Git-Protocol"), a.user
	return h.exchange(c, gitrepo.ServiceReceivePack, h.cfg.Limits.MaxPush, func(ctx context.Context, in io.Reader, out io.Writer) error {
		ctx = context.WithValue(ctx, pusherKey{}, who)
		var accepted atomic.Bool
		check := func(ctx context.Context, p *gitrepo.Push) (bool, []string) {
			if h.cfg.Check == nil {
				return false, []string{"pushes are not enabled on this portal"}
			}
			ok, msgs := h.cfg.Check(ctx, p)
			accepted.Store(ok)
			return ok, msgs
		}
		if h.cfg.Receive != nil {
			res, err := h.cfg.Receive(ctx, proto, in, out)
			h.log.Info("content push", "email", who.Email, "accepted", res.Accepted, "err", err)
			h.audit(ctx, who, res)
			return err
		}
		err := h.cfg.Repo.ReceivePack(ctx, proto, in, out, check)
		h.log.Info("content push", "email", who.Email, "accepted", accepted.Load(), "err", err)
		if err == nil && accepted.Load() && ctx.Err() == nil && h.cfg.AfterPush != nil {
			if err := h.cfg.AfterPush(ctx); err != nil {
				h.log.Error("content push: publishing failed", "email", who.Email, "err", err)
			}
		}
		return err
	})
}

// Errors of a request body, answered before git's answer starts.
var (
	errTooLarge   = fiber.NewError(fiber.StatusRequestEntityTooLarge, "the request is too large")
	errUnreadable = fiber.NewError(fiber.StatusBadRequest, "the request body cannot be read")
	errBusy       = fiber.NewError(fiber.StatusServiceUnavailable, "the knowledge base is serving many clones at once; try again in a moment")
)

// exchange runs git on the request's body (decoded, bounded) and streams
// its answer. The handler returns once the whole body is read, so that
// httpkit may close the body stream; git's answer then goes out from the
// response's stream writer, through a bufPipe.
func (h *Handler) exchange(c *fiber.Ctx, service string, max int64, run func(ctx context.Context, in io.Reader, out io.Writer) error) error {
	req := c.Request()
	if cl := req.Header.ContentLength(); cl > 0 && int64(cl) > max && isIdentity(c) {
		return httpkit.TooLarge(c, int(min(max, 1<<40)))
	}
	var body io.Reader
	if s := req.BodyStream(); s != nil {
		body = s
	} else {
		body = bytes.NewReader(req.Body())
	}
	switch enc := strings.ToLower(c.Get(fiber.HeaderContentEncoding)); enc {
	case "", "identity":
	case "gzip", "x-gzip": // git compresses its larger requests
		z, err := gzip.NewReader(body)
		if err != nil {
			return errUnreadable
		}
		body = z
	default:
		return httpkit.ErrEncoded
	}
	in := &watchedBody{r: body, left: max, done: make(chan struct{})}

	wait := time.NewTimer(h.cfg.Limits.QueueWait)
	select {
	case h.slots <- struct{}{}:
		wait.Stop()
	case <-wait.C:
		c.Set(fiber.HeaderRetryAfter, "5")
		return errBusy
	}
	ctx, cancel := context.WithTimeout(context.Background(), h.cfg.Limits.Timeout)
	pipe := newBufPipe(1 << 20)
	finished := make(chan struct{})
	var runErr error
	go func() {
		defer close(finished)
		runErr = run(ctx, in, pipe)
		<-h.slots // the git process has ended
		pipe.CloseWrite(runErr)
	}()
	select {
	case <-in.done:
	case <-finished:
	}
	if err := in.failure(); err != nil {
		cancel()
		<-finished
		h.log.Warn("git request body refused", "service", service, "err", err)
		if errors.Is(err, errTooLarge) {
			return httpkit.TooLarge(c, int(min(max, 1<<40)))
		}
		return errUnreadable
	}
	noCache(c)
	c.Set(fiber.HeaderContentType, "application/x-"+service+"-result")
	conn := c.Context().Conn()
	log := h.log
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer cancel()
		buf := make([]byte, 32<<10)
		for {
			n, err := pipe.Read(buf)
			if n > 0 {
				// The server's write timeout is for the whole answer; a long
				// clone keeps going as long as it moves.
				_ = conn.SetWriteDeadline(time.Now().Add(time.Minute))
				_, werr := w.Write(buf[:n])
				if werr == nil {
					werr = w.Flush()
				}
				if werr != nil {
					pipe.CloseRead(werr)
					cancel()
					<-finished
					log.Warn("git answer cut", "service", service, "err", werr)
					return
				}
			}
			if err != nil {
				break
			}
		}
		<-finished
		if runErr != nil {
			log.Error("git exchange failed", "service", service, "err", runErr)
		}
	})
	return nil
}

func isIdentity(c *fiber.Ctx) bool {
	e := c.Get(fiber.HeaderContentEncoding)
	return e == "" || strings.EqualFold(e, "identity")
}

// watchedBody is a request body that stops at left bytes and tells when
// it has been read to its end (or failed).
type watchedBody struct {
	r    io.Reader
	left int64
	done chan struct{}
	once sync.Once

	mu  sync.Mutex
	err error // why reading stopped, if not the end
}

func (b *watchedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the limit from a larger one.
		var one [1]byte
		if n, _ := io.ReadFull(b.r, one[:]); n == 0 {
			b.finish(nil)
			return 0, io.EOF
		}
		b.finish(errTooLarge)
		return 0, errTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	switch {
	case err == io.EOF:
		b.finish(nil)
	case err != nil:
		b.finish(err)
	}
	return n, err
}

func (b *watchedBody) finish(err error) {
	b.once.Do(func() {
		b.mu.Lock()
		b.err = err
		b.mu.Unlock()
		close(b.done)
	})
}

func (b *watchedBody) failure() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// audit records a push in the staff audit trail: who, which branches,
// from which commit to which, and whether it was accepted. A push that
// never reached the check (a broken pack) has nothing to record.
func (h *Handler) audit(ctx context.Context, who staff.User, res publish.PushResult) {
	if len(res.Updates) == 0 || who.ID == 0 || h.cfg.Staff == nil {
		return
	}
	var refs []string
	for _, u := range res.Updates {
		refs = append(refs, fmt.Sprintf("%s %s→%s", strings.TrimPrefix(u.Ref, "refs/heads/"), shortID(u.Old), shortID(u.New)))
	}
	action := "content pushed"
	if !res.Accepted {
		action = "content push refused"
	}
	if err := h.cfg.Staff.Record(context.WithoutCancel(ctx), who, action, strings.Join(refs, ", "), nil); err != nil {
		h.log.Error("content push not audited", "email", who.Email, "err", err)
	}
}

func shortID(id string) string {
	if strings.Trim(id, "0") == "" {
		return "none"
	}
	return id[:min(len(id), 10)]
}
