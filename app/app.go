// Package app opens the portal's domain services in one place, in the order
// they depend on each other, for `portal serve` and for the tests alike: the
// database, the event log, the content repository and its publisher, the
// search index, deflection, the live hub and its ticket feed, tickets, the
// operators' figures and staff. Close shuts them down in reverse.
//
// It builds no HTTP server (package server does, from an App), so that the
// HTTP packages' own tests can open their portal here.
package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/orbitask/portal/calendar"
	"github.com/orbitask/portal/credit"
	"github.com/orbitask/portal/deflect"
	"github.com/orbitask/portal/events"
	"github.com/orbitask/portal/gitrepo"
	"github.com/orbitask/portal/i18n"
	"github.com/orbitask/portal/insights"
	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/live"
	"github.com/orbitask/portal/mail"
	"github.com/orbitask/portal/mailroute"
	"github.com/orbitask/portal/publish"
	"github.com/orbitask/portal/replytag"
	"github.com/orbitask/portal/search"
	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/staff"
	"github.com/orbitask/portal/telemetry"
	"github.com/orbitask/portal/ticketfeed"
	"github.com/orbitask/portal/ticketmail"
	"github.com/orbitask/portal/tickets"
)

// Config is what Open needs.
type Config struct {
	// Data is the data directory: the database (portal.db), the content
	// repository (content.git), the search index (search/), attachments,
	// and the operators' calendar.yaml and customers.yaml. It must exist.
	Data string
	// Content is the directory of Markdown articles the content repository
	// is created from when Data has none yet; once created, the repository
	// is the source of truth and Content is not read again.
	Content string
	// Publish are the publisher's settings (Repo, Data and Logger are
	// filled in by Open).
	Publish publish.Config
	// Logger receives the services' logs; nil discards them.
	Logger *slog.Logger
	// SearchCache is search.Config.CacheSize: 0 means the default, a
	// negative number disables the cache.
	SearchCache int
	// SearchWarm, if set, turns the most frequent searches of the last
	// week (SearchWarmTop of them; 0: DefaultSearchWarmTop) into the
	// queries the HTTP layer runs for them (web.WarmQueries): a new search
	// index, after a restart or a publish, answers them before it serves,
	// so that its cache is warm from the first request.
	SearchWarm    func([]events.WarmQuery) []search.Query
	SearchWarmTop int
	// FeedInterval bounds how long a change made by another process (the
	// ticket command) takes to reach the live pages; 0 means a second.
	FeedInterval time.Duration
	// Live are the HTTP layer's encoders of the ticket feed (what a
	// customer's page and the console receive for each change).
	Live ticketfeed.Encoders
	// HashMemoryKiB and HashTime are staff.Config's: the cost of new
	// password hashes. Zero keeps staff's production default; tests
	// lower them.
	HashMemoryKiB, HashTime uint32
	// Mail is the mail sender's settings (SMTP relay, From); without an
	// SMTP URL mails are queued and not sent. PublicURL is where customers
	// reach the portal: the links in mails. With PublicURL empty no ticket
	// mails are written.
	Mail      mail.SenderConfig
	PublicURL string
	// SupportAddress is the address customers write to: new questions go
	// to it, and ticket mails' Reply-To is it with the ticket's tag
	// (replytag). Empty: the address of Mail.From, or support@ the public
	// URL's host.
	SupportAddress string
}

// App holds the portal's services, open and running.
type App struct {
	DataDir     string
	DB          *sqlitedb.DB
	Repo        *gitrepo.Repo      // the content repository, DATA/content.git
	Publisher   *publish.Publisher // keeps the live knowledge base and index in step with Repo
	Events      *events.Store
	Search      *search.Index
	SearchStats search.OpenStats // whether Open reused the index or rebuilt it, and why
	Deflect     *deflect.Tracker
	Hub         *live.Hub        // ticket changes, published by Feed
	Feed        *ticketfeed.Feed // running: reads tickets' changes into Hub
	Tickets     *tickets.Store
	Insights    *insights.Store // the operators' figures, from the tables above
	Staff       *staff.Store
	// Credit is server support's prepaid credit and sessions.
	Credit *credit.Store
	// Mail is the outbox's sender; `portal serve` runs it (RunMail), one
	// process per database.
	Mail *mail.Sender
	// ReplyTags make and check ticket mails' reply addresses, under the
	// key in DATA/reply.key (made at the first start).
	ReplyTags *replytag.Tags
	// Route acts on incoming mail (replies, questions); mailin hands it
	// each mail through Route.Deliver.
	Route *mailroute.Router
	// Metrics are this portal's Prometheus metrics, fed by the services
	// above (wired here) and by the HTTP server (package server).
	Metrics *telemetry.Metrics

	closers []func() error // in the order opened
}

// Open opens every service on cfg.Data and starts the ticket feed. If one
// fails, those already open are closed again.
func Open(cfg Config) (_ *App, err error) {
	if cfg.Data == "" || cfg.Content == "" {
		return nil, errors.New("app: open: Data and Content are required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &App{DataDir: cfg.Data, Metrics: telemetry.New()}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	dbPath := filepath.Join(cfg.Data, "portal.db")
	warnIfDatabaseMissing(log, cfg.Data, dbPath)
	if a.DB, err = sqlitedb.OpenWith(sqlitedb.Config{Path: dbPath, OnBusy: a.Metrics.SQLiteBusy}); err != nil {
		return nil, err
	}
	a.closing(a.DB.Close)
	if a.Events, err = events.Open(a.DB, log); err != nil {
		return nil, err
	}
	a.closing(a.Events.Close)
	ctx := context.Background()
	a.Repo, err = gitrepo.Open(ctx, gitrepo.Config{Dir: filepath.Join(cfg.Data, "content.git"), Branch: "main", InitFrom: cfg.Content, Logger: log})
	if err != nil {
		return nil, err
	}
	a.closing(a.Repo.Close)
	pc := cfg.Publish
	pc.Repo, pc.Data, pc.Logger = a.Repo, cfg.Data, log
	var k *kb.KB
	if a.Publisher, k, err = publish.Load(ctx, pc); err != nil {
		return nil, err
	}
	a.Search, a.SearchStats, err = search.Open(search.Config{Dir: filepath.Join(cfg.Data, "search"), Logger: log,
		CacheSize: cfg.SearchCache, Warm: searchWarmer(cfg, a.Events, log)}, k)
	if err != nil {
		return nil, err
	}
	a.closing(a.Search.Close)
	a.Metrics.SearchIndex(a.Search.Size)
	a.Metrics.LastPublish(a.Publisher.LastPublished)
	// Stopped before the index closes (closers run in reverse).
	a.Publisher.Start(a.Search)
	a.closing(a.Publisher.Close)
	a.Deflect, err = deflect.Open(deflect.Config{DB: a.DB, Logger: log,
		OnSuggested: a.Metrics.SuggestionsServed, OnOutcome: a.Metrics.Deflection})
	if err != nil {
		return nil, err
	}
	a.closing(a.Deflect.Close)
	// The feed exists before the store that kicks it, and starts reading
	// once the store is open.
	a.Hub = live.New(0)
	a.Feed = ticketfeed.New(ticketfeed.Config{Hub: a.Hub, Encoders: cfg.Live, Interval: cfg.FeedInterval, Logger: log})
	// A filing marks its deflection session filed in the same transaction.
	onEvent := func(ev tickets.Event) {
		if ev.Kind == tickets.KindFiled {
			a.Metrics.TicketFiled()
		}
		a.Feed.Committed(ev)
	}
	// The outbox (its table) before the stores that write mails into it.
	if a.Mail, err = mail.NewSender(a.DB, cfg.Mail, log); err != nil {
		return nil, err
	}
	if a.ReplyTags, err = openReplyTags(cfg); err != nil {
		return nil, err
	}
	var notifyFiled func(context.Context, *sqlitedb.Tx, tickets.Ticket, string) error
	var notify func(context.Context, *sqlitedb.Tx, int, []tickets.Event) error
	var notifyFind func(ctx context.Context, tx *sqlitedb.Tx, email, lang, token string) error
	var notifyNewLink func(context.Context, *sqlitedb.Tx, tickets.Ticket, string) error
	if cfg.PublicURL != "" {
		words, err := i18n.Load()
		if err != nil {
			return nil, err
		}
		mailer, err := ticketmail.New(ticketmail.Config{Words: words, PublicURL: cfg.PublicURL,
			Calendar: func() *calendar.Calendar { return a.Tickets.Calendar() },
			Tags:     a.ReplyTags, Tickets: func() *tickets.Store { return a.Tickets },
			MintConfirmTx: func(ctx context.Context, tx *sqlitedb.Tx, email string) (string, error) {
				return a.Tickets.MintConfirmTx(ctx, tx, email)
			}})
		if err != nil {
			return nil, err
		}
		notifyFiled, notify, notifyFind = mailer.Filed, mailer.Changed, mailer.Find
		notifyNewLink = mailer.NewLink
	}
	a.Tickets, err = tickets.Open(tickets.Config{DB: a.DB, DataDir: cfg.Data, Logger: log,
		OnEvent: onEvent, OnFiledTx: a.Deflect.TicketFiled, NotifyFiledTx: notifyFiled, NotifyTx: notify,
		NotifyFindTx: notifyFind, NotifyNewLinkTx: notifyNewLink})
	if err != nil {
		return nil, err
	}
	if a.Route, err = openRoute(cfg, a, log); err != nil {
		return nil, err
	}
	// After the stores whose tables its indexes are on.
	a.Insights, err = insights.Open(insights.Config{DB: a.DB, Calendar: a.Tickets.Calendar, Normalize: a.Search.NormalizeQuery, Logger: log})
	if err != nil {
		return nil, err
	}
	a.Staff, err = staff.Open(staff.Config{DB: a.DB, Logger: log, HashMemoryKiB: cfg.HashMemoryKiB, HashTime: cfg.HashTime})
	if err != nil {
		return nil, err
	}
	a.Credit, err = credit.Open(credit.Config{DB: a.DB, Calendar: a.Tickets.Calendar})
	if err != nil {
		return nil, err
	}
	if err = a.Feed.Start(a.Tickets); err != nil {
		return nil, err
	}
	a.closing(func() error { a.Feed.Stop(); return nil })
	return a, nil
}

// DefaultSearchWarmTop is how many of the most frequent recent searches
// warm a new search index's cache.
const DefaultSearchWarmTop = 200

// searchWarmWindow is how far back the searches that warm the cache go.
const searchWarmWindow = 7 * 24 * time.Hour

// searchWarmer is search.Config.Warm: the most frequent recent searches,
// as cfg.SearchWarm makes them into queries; nil without SearchWarm.
func searchWarmer(cfg Config, ev *events.Store, log *slog.Logger) func(context.Context) []search.Query {
	if cfg.SearchWarm == nil {
		return nil
	}
	top := cfg.SearchWarmTop
	if top <= 0 {
		top = DefaultSearchWarmTop
	}
	return func(ctx context.Context) []search.Query {
		recent, err := ev.RecentQueries(ctx, searchWarmWindow, top)
		if err != nil {
			// A cold cache is slower, not wrong.
			log.Warn("search cache not warmed: reading recent searches", "err", err)
			return nil
		}
		return cfg.SearchWarm(recent)
	}
}

func (a *App) closing(close func() error) { a.closers = append(a.closers, close) }

// openReplyTags loads (or makes) DATA/reply.key and the support address.
func openReplyTags(cfg Config) (*replytag.Tags, error) {
	key, err := replytag.LoadKey(filepath.Join(cfg.Data, "reply.key"))
	if err != nil {
		return nil, err
	}
	addr := cfg.SupportAddress
	if addr == "" && cfg.Mail.From != "" {
		addr = cfg.Mail.From
	}
	if addr == "" {
		host := "localhost"
		if u, err := url.Parse(cfg.PublicURL); err == nil && u.Hostname() != "" {
			host = u.Hostname()
		}
		addr = "support@" + host
	}
	tags, err := replytag.New(key, addr)
	if err != nil {
		return nil, fmt.Errorf("--support-address: %w", err)
	}
	return tags, nil
}

// RunMail starts sending the outbox's mails until Close.
func (a *App) RunMail() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.Mail.Run(ctx) // it logs its own failures and returns nil
	}()
	a.closing(func() error { cancel(); <-done; return nil })
}

// warnIfDatabaseMissing complains loudly, before SQLite creates an empty
// database, when the data directory has been used already (it holds
// attachments or a search index): the tickets' database was lost or moved,
// or the portal points at the wrong file, and starting quietly with no
// tickets would hide it. (kb.snapshot proves nothing: serve writes it
// before Open, on the first start too.)
func warnIfDatabaseMissing(log *slog.Logger, data, dbPath string) {
	if _, err := os.Stat(dbPath); !errors.Is(err, fs.ErrNotExist) {
		return
	}
	var used []string
	if entries, err := os.ReadDir(filepath.Join(data, "attachments")); err == nil && len(entries) > 0 {
		used = append(used, fmt.Sprintf("%d attachment(s)", len(entries)))
	}
	if _, err := os.Stat(filepath.Join(data, "search")); err == nil {
		used = append(used, "search index")
	}
	if len(used) > 0 {
		// ERROR, not WARN: customers' tickets may be gone, which an operator
		// must hear of even when alerting only on errors.
		log.Error("empty ticket database in a used data directory", "path", dbPath, "found", strings.Join(used, ", "),
			"hint", "the database did not exist and was created empty; if tickets were stored before, stop the portal and restore it from a backup")
	}
}

// recentFailure is how long after its latest failure a component still
// counts as failing. A success clears it sooner; a failure that is not
// repeated (nothing tried to write) is forgotten, so that a portal taken
// out of rotation for it comes back and is tried again.
const recentFailure = 5 * time.Minute

// Health says what keeps the portal from working fully, one line per
// component failing recently (for /healthz and the operators' page):
// writes to the database or of attachments failing for want of storage.
// None when all is well.
func (a *App) Health() []string {
	var out []string
	now := time.Now()
	for _, c := range []struct {
		name    string
		problem func() (sqlitedb.Problem, bool)
	}{
		{"database", a.DB.StorageProblem},
		{"attachments", a.Tickets.AttachmentsProblem},
	} {
		if p, ok := c.problem(); ok && now.Sub(p.Last) < recentFailure {
			out = append(out, fmt.Sprintf("%s: writes fail: %s (since %s, %d failed)",
				c.name, p.Reason, p.Since.UTC().Format(time.RFC3339), p.Failures))
		}
	}
	return out
}

// Close stops the feed and closes the services in the reverse order of
// Open, the database last. It is safe to call twice.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}
