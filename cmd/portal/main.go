// Command portal runs the Orbitask support portal.
//
//	portal [serve] [--addr ADDR] [--content DIR] [--data DIR]
//	portal check DIR
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/app"
	"github.com/orbitask/portal/events"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/mail"
	"github.com/orbitask/portal/mailin"
	"github.com/orbitask/portal/publish"
	"github.com/orbitask/portal/search"
	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/tickets"
	"github.com/orbitask/portal/web"
)

const usage = `portal: a knowledge-base-first support portal.

Usage:
  portal [serve] [flags]   serve the portal (the default)
  portal check DIR         validate a content tree and exit
  portal publish DIR [--data DIR] [--message M] [--author "Name <email>"]
                           commit DIR as the next version of the knowledge base
                           (checked first); a running portal publishes it within a second
  portal ticket status NUMBER STATUS [--data DIR]
                           set a ticket's status (new, open, waiting, solved, closed)
  portal ticket reply NUMBER TEXT [--data DIR]
                           reply to a ticket as support
  portal user add --email E --name N --role agent|operator|writer [--data DIR]
                           create a staff account; prints a one-time password
  portal user list [--data DIR]
  portal user disable --email E [--data DIR]
                           end the account's sessions and tokens
  portal token create --email E [--name NAME] [--data DIR]
                           print a personal access token (agents: the API;
                           writers: the password for git push to /content.git)
  portal customer confirm EMAIL [--data DIR]
                           confirm a customer's e-mail address (after a phone call):
                           the plan its domain grants applies; prints the tickets moved up
  portal credit topup --org NAME --hours H --ref TEXT [--data DIR]
                           record a server-support top-up (invoice reference TEXT)
  portal credit balance --org NAME [--data DIR]
  portal credit ledger --org NAME [--csv] [--data DIR]
                           the organisation's ledger (CSV for invoicing)
  portal help              show this help

Serve flags (each also settable by environment variable):
  --addr ADDR      listen address             PORTAL_ADDR     (default 127.0.0.1:8080)
  --content DIR    Markdown articles the content repository is created from
                   on the first start       PORTAL_CONTENT  (default ./content)
  --data DIR       index, database, uploads   PORTAL_DATA     (default ./data)
  --log-level L    debug, info, warn, error   PORTAL_LOG_LEVEL (default info)
  --search-cache N recent search results kept PORTAL_SEARCH_CACHE (default 4096; 0 disables)
  --search-warm N  after a start or a publish, the search cache is filled with the
                   answers to the week's N most frequent searches before the new
                   index serves (2 s at most)   PORTAL_SEARCH_WARM (default 200; 0 disables)
  --upload-memory MIB  attachments held in memory by all filings at once, in MiB
                   PORTAL_UPLOAD_MEMORY (default 128); a filing waits up to 3 s
                   for room, then is answered 503 with Retry-After; one client
                   holds at most one filing's worth (429 beyond, unless
                   --rate-limits off); a filing larger than it all gets 413
  --trusted-proxies LIST  reverse proxies whose X-Forwarded-For/-Proto are believed,
                   comma-separated addresses or CIDRs   PORTAL_TRUSTED_PROXIES (default none)
  --max-sockets-per-client N  live connections (WebSockets) one client address may
                   hold open; more are refused with 429   PORTAL_MAX_SOCKETS_PER_CLIENT
                   (default 200; 0 = no limit, for load tests)
  --shutdown-grace D  on SIGTERM, how long requests in flight and live connections
                   may take to finish (Go duration: 10s, 1m)   PORTAL_SHUTDOWN_GRACE (default 10s)
  --rate-limits on|off  per-client limits on filings, replies, new drafts, votes
                   and sign-ins (off only for benchmarks and load tests)
                                              PORTAL_RATE_LIMITS (default on)
  --anonymous-clone on|off  let anyone clone /content.git (pushing always needs a
                   writer's token)            PORTAL_ANONYMOUS_CLONE (default off)
  --allow-force-push on|off  accept pushes that rewrite main's published history
                                              PORTAL_ALLOW_FORCE_PUSH (default off)
  --max-content-file MIB  largest file a push may add, in MiB
                                              PORTAL_MAX_CONTENT_FILE (default 5)
  --git-remote URL  a repository on GitHub, GitLab or Gitea whose webhook
                   (POST /api/hooks/git) publishes its branch   PORTAL_GIT_REMOTE
  --git-remote-branch B  that repository's branch   PORTAL_GIT_REMOTE_BRANCH (default main)
  --git-webhook-secret S  the webhook's secret   PORTAL_GIT_WEBHOOK_SECRET
  --smtp-url URL   the relay mails are sent through, e.g.
                   smtp://user:pass@mail.example:587?tls=starttls (tls=implicit|starttls|none)
                   PORTAL_SMTP_URL (default none: mails are queued, not sent)
  --mail-from ADDR  the mails' From address, e.g. "Orbitask Support <support@example.com>"
                   PORTAL_MAIL_FROM (required with --smtp-url)
  --public-url URL  where customers reach the portal: the links in mails
                   PORTAL_PUBLIC_URL (default http://ADDR)
  --support-address ADDR  the address customers write to; replies to ticket
                   mails go to ADDR with the ticket's tag (support+1001.TAG@...)
                   PORTAL_SUPPORT_ADDRESS (default: the address of --mail-from)
  --mail-listen URL  receive mail from the organisation's mail server:
                   lmtp://127.0.0.1:2424, lmtp:///run/portal/lmtp.sock or smtp://127.0.0.1:2525
                   PORTAL_MAIL_LISTEN (default none; see docs/email.md)
  --imap-url URL   poll an IMAP mailbox for mail: imaps://user:pass@imap.example:993/INBOX?poll=30s
                   (imap:// is STARTTLS)   PORTAL_IMAP_URL (default none)
  --metrics-addr ADDR  also serve the Prometheus metrics (GET /metrics) on this
                   address WITHOUT authentication, for a scraper, with Go's profiler
                   (/debug/pprof/); keep it private (e.g. 127.0.0.1:9090)
                   PORTAL_METRICS_ADDR (default none: /metrics only on --addr,
                   with an operator's token; no profiler)

A flag wins over its environment variable. The knowledge base lives in the
git repository DATA/content.git, created on the first start from --content
(one initial commit); from then on it changes only by a push to
/content.git, a webhook, or "portal publish" (see docs/publishing.md). The
search index in DATA/search is derived data: it is reused when the content
and the index format are unchanged, and rebuilt otherwise.

ticket changes a ticket in the data directory of a running portal (or one
that is stopped); open ticket pages show the change within a moment.

Staff sign in to the agent console at /agent. The data directory may hold
calendar.yaml (working days and hours, holidays, per-plan targets; see
calendar/testdata/calendar.yaml) and customers.yaml (organisations, plans,
individual terms); both are re-read when they change.

On SIGTERM (or Ctrl-C) serve stops accepting connections, tells every live
connection the server is going away (close code 1001; pages reconnect after a
random delay), waits up to the grace period for requests in flight, and exits
0. Requests still running when the grace period ends are cut and listed in a
warning; that is still a clean stop (exit 0). serve exits 1 only when the
portal fails: it cannot start, listen, or close its data.

check prints one line per problem as "path:line: message" and exits 1 if there
is any; otherwise it prints a one-line summary and exits 0.
`

// feedInterval bounds how long a change made by another process (the
// ticket command) takes to reach open ticket pages.
const feedInterval = 20 * time.Millisecond

// Config is everything serve needs, from flags and the environment.
type Config struct {
	Addr        string
	Content     string
	Data        string
	LogLevel    slog.Level
	SearchCache int
	// SearchWarm is app.Config.SearchWarmTop; 0 turns warming off.
	SearchWarm int
	// UploadMemoryMiB: see web.Config.UploadMemory.
	UploadMemoryMiB int
	// TrustedProxies: see httpkit.Config.TrustedProxies.
	TrustedProxies []string
	// SocketsPerClient caps the WebSockets one client address holds open;
	// 0 means no cap.
	SocketsPerClient int
	// ShutdownGrace is how long a shutdown waits for requests in flight
	// and live connections.
	ShutdownGrace time.Duration
	// RateLimitsOff turns the per-client limits off (--rate-limits off).
	RateLimitsOff bool
	// AnonymousClone lets anyone clone the content repository.
	AnonymousClone bool
	// Publish: force pushes, the file size limit, the webhook's remote.
	AllowForcePush    bool
	MaxContentFileMiB int
	GitRemote         string
	GitRemoteBranch   string
	GitWebhookSecret  string
	// MetricsAddr, if not empty, serves /metrics without authentication
	// on a listener of its own.
	MetricsAddr string
	// SMTPURL and MailFrom: where mails go and whom they come from;
	// PublicURL: where customers reach the portal (links in mails).
	SMTPURL, MailFrom, PublicURL string
	// SupportAddress: where customers write (app.Config.SupportAddress).
	SupportAddress string
	// MailListen and IMAPURL: how incoming mail is received (mailin.Config).
	MailListen, IMAPURL string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, err := parseServe(args, stderr)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		if err != nil {
			fmt.Fprintln(stderr, "portal:", err)
			return 2
		}
		log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := serve(ctx, cfg, log, nil); err != nil {
			log.Error("portal stopped", "err", err)
			return 1
		}
		return 0
	case "check":
		if len(args) != 1 || strings.HasPrefix(args[0], "-") {
			fmt.Fprintln(stderr, "usage: portal check DIR")
			return 2
		}
		return check(args[0], stdout, stderr)
	case "publish":
		return publishCommand(args, stdout, stderr)
	case "ticket":
		return ticketCommand(args, stdout, stderr)
	case "user":
		return userCommand(args, stdout, stderr)
	case "token":
		return tokenCommand(args, stdout, stderr)
	case "customer":
		return customerCommand(args, stdout, stderr)
	case "credit":
		return creditCommand(args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "portal: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}

func parseServe(args []string, stderr io.Writer) (Config, error) {
	env := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg Config
	var level string
	fs.StringVar(&cfg.Addr, "addr", env("PORTAL_ADDR", "127.0.0.1:8080"), "listen address")
	fs.StringVar(&cfg.Content, "content", env("PORTAL_CONTENT", "./content"), "content directory")
	fs.StringVar(&cfg.Data, "data", env("PORTAL_DATA", "./data"), "data directory")
	fs.StringVar(&level, "log-level", env("PORTAL_LOG_LEVEL", "info"), "log level")
	cacheDefault, err := strconv.Atoi(env("PORTAL_SEARCH_CACHE", strconv.Itoa(search.DefaultCacheSize)))
	if err != nil || cacheDefault < 0 {
		return cfg, fmt.Errorf("PORTAL_SEARCH_CACHE: not a count: %q", os.Getenv("PORTAL_SEARCH_CACHE"))
	}
	fs.IntVar(&cfg.SearchCache, "search-cache", cacheDefault, "search results cached")
	warmDefault, err := strconv.Atoi(env("PORTAL_SEARCH_WARM", strconv.Itoa(app.DefaultSearchWarmTop)))
	if err != nil || warmDefault < 0 {
		return cfg, fmt.Errorf("PORTAL_SEARCH_WARM: not a count: %q", os.Getenv("PORTAL_SEARCH_WARM"))
	}
	fs.IntVar(&cfg.SearchWarm, "search-warm", warmDefault, "frequent searches warmed")
	uploadDefault, err := strconv.Atoi(env("PORTAL_UPLOAD_MEMORY", strconv.Itoa(web.DefaultUploadMemory>>20)))
	if err != nil || uploadDefault < 1 {
		return cfg, fmt.Errorf("PORTAL_UPLOAD_MEMORY: not a number of MiB: %q", os.Getenv("PORTAL_UPLOAD_MEMORY"))
	}
	fs.IntVar(&cfg.UploadMemoryMiB, "upload-memory", uploadDefault, "MiB of attachments in memory")
	proxies := fs.String("trusted-proxies", env("PORTAL_TRUSTED_PROXIES", ""), "reverse proxies")
	socketsDefault, err := strconv.Atoi(env("PORTAL_MAX_SOCKETS_PER_CLIENT", strconv.Itoa(httpkit.DefaultSocketsPerClient)))
	if err != nil || socketsDefault < 0 {
		return cfg, fmt.Errorf("PORTAL_MAX_SOCKETS_PER_CLIENT: not a count: %q", os.Getenv("PORTAL_MAX_SOCKETS_PER_CLIENT"))
	}
	fs.IntVar(&cfg.SocketsPerClient, "max-sockets-per-client", socketsDefault, "WebSockets per client address")
	graceDefault, err := time.ParseDuration(env("PORTAL_SHUTDOWN_GRACE", "10s"))
	if err != nil || graceDefault < 0 {
		return cfg, fmt.Errorf("PORTAL_SHUTDOWN_GRACE: not a duration: %q", os.Getenv("PORTAL_SHUTDOWN_GRACE"))
	}
	fs.DurationVar(&cfg.ShutdownGrace, "shutdown-grace", graceDefault, "shutdown grace period")
	limits := fs.String("rate-limits", env("PORTAL_RATE_LIMITS", "on"), "on or off")
	anonClone := fs.String("anonymous-clone", env("PORTAL_ANONYMOUS_CLONE", "off"), "on or off")
	forcePush := fs.String("allow-force-push", env("PORTAL_ALLOW_FORCE_PUSH", "off"), "on or off")
	maxFileDefault, err := strconv.Atoi(env("PORTAL_MAX_CONTENT_FILE", "5"))
	if err != nil || maxFileDefault < 1 {
		return cfg, fmt.Errorf("PORTAL_MAX_CONTENT_FILE: not a number of MiB: %q", os.Getenv("PORTAL_MAX_CONTENT_FILE"))
	}
	fs.IntVar(&cfg.MaxContentFileMiB, "max-content-file", maxFileDefault, "largest content file, MiB")
	fs.StringVar(&cfg.GitRemote, "git-remote", env("PORTAL_GIT_REMOTE", ""), "remote repository for webhooks")
	fs.StringVar(&cfg.GitRemoteBranch, "git-remote-branch", env("PORTAL_GIT_REMOTE_BRANCH", "main"), "the remote's branch")
	fs.StringVar(&cfg.GitWebhookSecret, "git-webhook-secret", env("PORTAL_GIT_WEBHOOK_SECRET", ""), "webhook secret")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", env("PORTAL_METRICS_ADDR", ""), "unauthenticated metrics address")
	fs.StringVar(&cfg.SMTPURL, "smtp-url", env("PORTAL_SMTP_URL", ""), "SMTP relay for mails")
	fs.StringVar(&cfg.MailFrom, "mail-from", env("PORTAL_MAIL_FROM", ""), "the mails' From address")
	fs.StringVar(&cfg.PublicURL, "public-url", env("PORTAL_PUBLIC_URL", ""), "where customers reach the portal")
	fs.StringVar(&cfg.SupportAddress, "support-address", env("PORTAL_SUPPORT_ADDRESS", ""), "the address customers write to")
	fs.StringVar(&cfg.MailListen, "mail-listen", env("PORTAL_MAIL_LISTEN", ""), "LMTP/SMTP listener for incoming mail")
	fs.StringVar(&cfg.IMAPURL, "imap-url", env("PORTAL_IMAP_URL", ""), "IMAP mailbox polled for incoming mail")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if cfg.SMTPURL != "" {
		if _, err := mail.ParseSMTPURL(cfg.SMTPURL); err != nil {
			return cfg, err
		}
		if cfg.MailFrom == "" {
			return cfg, fmt.Errorf("--mail-from: required with --smtp-url")
		}
	}
	if err := checkMailIn(cfg); err != nil {
		return cfg, err
	}

	for _, sw := range []struct {
		name, value string
		to          *bool
	}{{"anonymous-clone", *anonClone, &cfg.AnonymousClone}, {"allow-force-push", *forcePush, &cfg.AllowForcePush}} {
		switch sw.value {
		case "on":
			*sw.to = true
		case "off":
		default:
			return cfg, fmt.Errorf("--%s: %q is neither on nor off", sw.name, sw.value)
		}
	}
	if cfg.MaxContentFileMiB < 1 {
		return cfg, fmt.Errorf("--max-content-file: must be 1 MiB or more")
	}
	if (cfg.GitRemote == "") != (cfg.GitWebhookSecret == "") {
		return cfg, fmt.Errorf("--git-remote and --git-webhook-secret go together: the webhook is refused without a secret, and a secret without a remote has nothing to fetch")
	}
	if cfg.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(cfg.MetricsAddr); err != nil {
			return cfg, fmt.Errorf("--metrics-addr: %q is not host:port", cfg.MetricsAddr)
		}
	}
	if cfg.SocketsPerClient < 0 {
		return cfg, fmt.Errorf("--max-sockets-per-client: must be 0 or more")
	}
	if cfg.ShutdownGrace < 0 {
		return cfg, fmt.Errorf("--shutdown-grace: must be 0 or more")
	}
	switch *limits {
	case "on":
	case "off":
		cfg.RateLimitsOff = true
	default:
		return cfg, fmt.Errorf("--rate-limits: %q is neither on nor off", *limits)
	}
	if cfg.SearchCache < 0 {
		return cfg, fmt.Errorf("--search-cache: must be 0 or more")
	}
	if cfg.SearchWarm < 0 {
		return cfg, fmt.Errorf("--search-warm: must be 0 or more")
	}
	if cfg.UploadMemoryMiB < 1 {
		return cfg, fmt.Errorf("--upload-memory: must be 1 MiB or more")
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q (see portal --help)", fs.Arg(0))
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return cfg, fmt.Errorf("--log-level: %w", err)
	}
	for _, p := range strings.Split(*proxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return cfg, fmt.Errorf("--trusted-proxies: %q is not an address or CIDR range", p)
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, p)
	}
	return cfg, nil
}

// serve runs the portal until ctx ends, then shuts it down (see the usage
// text); listening, if not nil, is told the address once it listens.
func serve(ctx context.Context, cfg Config, log *slog.Logger, listening func(addr string)) error {
	start := time.Now()
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil { // tickets and staff data: the owner only
		return fmt.Errorf("data directory: %w", err)
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = defaultPublicURL(cfg.Addr)
	}
	cacheSize := cfg.SearchCache
	if cacheSize == 0 {
		cacheSize = -1 // app.Config, as search.Config, reads 0 as "default"
	}
	srvCfg := server.Config{Logger: log, TrustedProxies: cfg.TrustedProxies,
		UploadMemory: int64(cfg.UploadMemoryMiB) << 20, RateLimits: httpkit.RateLimits{Off: cfg.RateLimitsOff},
		AnonymousClone: cfg.AnonymousClone, GitWebhookSecret: cfg.GitWebhookSecret}
	var warm func([]events.WarmQuery) []search.Query
	if cfg.SearchWarm > 0 {
		warm = server.SearchWarm(srvCfg)
	}
	a, err := app.Open(app.Config{Data: cfg.Data, Content: cfg.Content, Logger: log, SearchCache: cacheSize,
		SearchWarm: warm, SearchWarmTop: cfg.SearchWarm,
		FeedInterval: feedInterval, Live: server.LiveEncoders,
		Publish: publish.Config{AllowForcePush: cfg.AllowForcePush, MaxFileSize: int64(cfg.MaxContentFileMiB) << 20,
			Remote: cfg.GitRemote, RemoteBranch: cfg.GitRemoteBranch},
		Mail: mail.SenderConfig{SMTPURL: cfg.SMTPURL, From: cfg.MailFrom}, PublicURL: cfg.PublicURL, SupportAddress: cfg.SupportAddress})
	if err != nil {
		return err
	}
	defer func() {
		if err := a.Close(); err != nil {
			log.Error("closing", "err", err)
		}
	}()
	k := a.Search.KB()
	log.Info("knowledge base loaded", "articles", len(k.Articles), "languages", len(k.Languages()), "problems", len(k.Problems),
		"from", k.Root, "repository", filepath.Join(cfg.Data, "content.git"))
	stats := a.SearchStats
	log.Info("search index ready", "rebuilt", stats.Rebuilt, "reason", stats.Reason, "took", stats.Duration.Round(time.Millisecond))
	// The outbox's sender runs here only: one per database. Without
	// --smtp-url it says so and mails wait in the outbox.
	a.RunMail()
	log.Info("mails link to the portal at", "public_url", cfg.PublicURL)
	if err := a.RunMailIn(mailin.Config{Listen: cfg.MailListen, IMAPURL: cfg.IMAPURL, Logger: log}); err != nil {
		return err
	}

	perClient := cfg.SocketsPerClient
	if perClient == 0 {
		perClient = -1 // httpkit reads 0 as "default"
	}
	if cfg.RateLimitsOff {
		log.Warn("rate limits are off: for benchmarks and load tests only")
	}
	clients := httpkit.NewClients(httpkit.ClientsConfig{Logger: log, SocketsPerClient: perClient})
	srvCfg.Clients = clients
	srv, err := server.New(srvCfg, a)
	if err != nil {
		return err
	}
	var metrics *http.Server
	metricsErr := make(chan error, 1)
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("listen %s (--metrics-addr): %w", cfg.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.Metrics.Handler(log))
		// The profiler shows the process's internals (stacks, memory, the
		// command line), so it is on this private listener only, never on
		// the public address.
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		// Slow clients must not hold the few scrapes it serves at once; a
		// CPU profile (30 s by default) must still fit in the write timeout.
		metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
			WriteTimeout: 2 * time.Minute, IdleTimeout: time.Minute,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		go func() { metricsErr <- metrics.Serve(mln) }()
		// Anyone who reaches it reads the metrics: say so when that is more
		// than this machine.
		level := slog.LevelInfo
		if tcp, ok := mln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
			level = slog.LevelWarn
		}
		log.Log(ctx, level, "serving metrics without authentication", "url", "http://"+mln.Addr().String()+"/metrics")
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		if metrics != nil {
			metrics.Close()
		}
		return fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- httpkit.Serve(srv, ln) }()
	log.Info("serving", "url", "http://"+ln.Addr().String(), "startup", time.Since(start).Round(time.Millisecond))
	if listening != nil {
		listening(ln.Addr().String())
	}
	select {
	case err := <-errc:
		if metrics != nil {
			metrics.Close()
		}
		return fmt.Errorf("listen %s: %w", cfg.Addr, err)
	case err := <-metricsErr:
		if serr := shutdown(srv, clients, cfg.ShutdownGrace, log); serr != nil {
			log.Error("shutting down", "err", serr)
		}
		return fmt.Errorf("listen %s (--metrics-addr): %w", cfg.MetricsAddr, err)
	case <-ctx.Done():
	}
	if metrics != nil {
		// First: a scrape reads the services, which close after serve returns.
		if err := metrics.Close(); err != nil {
			log.Warn("closing the metrics listener", "err", err)
		}
	}
	return shutdown(srv, clients, cfg.ShutdownGrace, log)
}

// shutdown stops srv within grace: no new connections or sockets, every
// open socket told the server is going away, then a wait for requests in
// flight and for the sockets to close. What is still running when grace
// ends is cut and logged; that is a clean stop (nil), as the operator set
// the grace period: only a failure to stop is an error.
func shutdown(srv *fiber.App, clients *httpkit.Clients, grace time.Duration, log *slog.Logger) error {
	log.Info("shutting down", "grace", grace)
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	clients.GoAway()
	err := srv.ShutdownWithContext(ctx)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	var requests []string
	if err != nil { // grace ran out with requests under way
		requests = clients.InFlight()
	}
	sockets := clients.Wait(ctx)
	if err != nil || sockets > 0 {
		log.Warn("shutdown grace period ran out; cut what was still running", "grace", grace,
			"requests", requests, "sockets", sockets)
	} else {
		log.Info("shut down cleanly")
	}
	return nil
}

func check(dir string, stdout, stderr io.Writer) int {
	k, err := kb.Load(dir)
	if err != nil {
		fmt.Fprintln(stderr, "portal check:", err)
		return 2
	}
	for _, p := range k.Problems {
		fmt.Fprintf(stdout, "%s:%d: %s\n", filepath.Join(dir, filepath.FromSlash(p.Path)), p.Line, p.Message)
	}
	if len(k.Problems) > 0 {
		fmt.Fprintf(stderr, "%d problem(s) in %s\n", len(k.Problems), dir)
		return 1
	}
	count := map[string]int{}
	for _, a := range k.Articles {
		count[a.Lang]++
	}
	var parts []string
	for l, n := range count {
		parts = append(parts, fmt.Sprintf("%s %d", l, n))
	}
	sort.Strings(parts)
	fmt.Fprintf(stdout, "ok: %d articles in %d languages (%s), no problems\n", len(k.Articles), len(count), strings.Join(parts, ", "))
	return 0
}

// ticketCommand is `portal ticket status|reply NUMBER ARG [--data DIR]`.
func ticketCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ticket", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	data := os.Getenv("PORTAL_DATA")
	if data == "" {
		data = "./data"
	}
	fs.StringVar(&data, "data", data, "data directory")
	// Flags may come after the positional arguments.
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			fmt.Fprintln(stderr, "portal ticket:", err)
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 3 || (pos[0] != "status" && pos[0] != "reply") {
		fmt.Fprintln(stderr, "usage: portal ticket status NUMBER STATUS [--data DIR]\n       portal ticket reply NUMBER TEXT [--data DIR]")
		return 2
	}
	number, err := strconv.Atoi(strings.TrimPrefix(pos[1], "#"))
	if err != nil || number <= 0 {
		fmt.Fprintf(stderr, "portal ticket: NUMBER: %q is not a ticket number\n", pos[1])
		return 2
	}
	db, err := sqlitedb.Open(filepath.Join(data, "portal.db"))
	if err != nil {
		fmt.Fprintln(stderr, "portal ticket:", err)
		return 1
	}
	defer db.Close()
	var ts *tickets.Store
	notify, err := ticketNotify(db, data, func() *tickets.Store { return ts }, func(s string) { fmt.Fprintln(stderr, "portal ticket:", s) })
	if err == nil {
		ts, err = tickets.Open(tickets.Config{DB: db, DataDir: data, NotifyTx: notify})
	}
	if err != nil {
		fmt.Fprintln(stderr, "portal ticket:", err)
		return 1
	}
	ctx := context.Background()
	var ev tickets.Event
	if pos[0] == "status" {
		ev, err = ts.SetStatus(ctx, number, tickets.Status(pos[2]), tickets.ActorCLI)
	} else {
		ev, err = ts.Reply(ctx, number, tickets.ActorSupport, pos[2])
	}
	if err != nil {
		fmt.Fprintf(stderr, "portal ticket: #%d: %v\n", number, err)
		if errors.Is(err, tickets.ErrNotFound) {
			return 1
		}
		var ve *tickets.ValidationError
		if errors.As(err, &ve) {
			return 2
		}
		return 1
	}
	if pos[0] == "status" {
		fmt.Fprintf(stdout, "#%d: status %s (event %d)\n", number, ev.Status, ev.Seq)
	} else {
		fmt.Fprintf(stdout, "#%d: reply added (event %d)\n", number, ev.Seq)
	}
	return 0
}

// defaultPublicURL is the portal's own address as a URL, for links in mails
// when --public-url is not given: right on one machine, wrong behind a proxy
// (the start-up log says which is used).
func defaultPublicURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://localhost:8080"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
