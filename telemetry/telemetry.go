// Package telemetry owns the portal's Prometheus metrics: one registry per
// portal (never the library's global one, so that tests may run many
// portals in one process), the Go runtime's and the process's collectors,
// and the portal's own counters, histograms and gauges. It imports the
// Prometheus client library and nothing of ours: the domain packages report
// through plain function fields of their Config, which package app wires to
// the methods here, and the HTTP side mounts Handler.
package telemetry

import (
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Outcomes of a deflection session, the values of portal_deflections_total's
// label: the same words as deflect's outcomes.
var outcomes = []string{"solved", "filed", "abandoned"}

// searchKinds are the values of portal_search_duration_seconds' label: the
// search page, /api/search, and the suggestions beside a ticket draft.
var searchKinds = []string{"page", "api", "suggest"}

// Metrics is one portal's registry and metrics. Its methods are safe for
// concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	searchDuration  *prometheus.HistogramVec
	suggestions     prometheus.Counter
	deflections     *prometheus.CounterVec
	ticketsFiled    prometheus.Counter
	sqliteBusy      prometheus.Counter

	gauges *gauges
}

// New returns the metrics of one portal on a registry of their own.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_http_requests_total",
			Help: "HTTP requests answered, by route pattern (unmatched: no route), method and status code.",
		}, []string{"route", "method", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portal_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		searchDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "portal_search_duration_seconds",
			Help: "Time a search took in the index (cache hits included), by kind: page, api, suggest.",
			// 0.25 ms to about 0.5 s: a cached answer takes microseconds, a
			// whole draft a few milliseconds.
			Buckets: prometheus.ExponentialBuckets(0.00025, 2, 12),
		}, []string{"kind"}),
		suggestions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portal_suggestions_served_total",
			Help: "Answers to a ticket draft that suggested at least one article.",
		}),
		deflections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_deflections_total",
			Help: "Deflection sessions ended, by outcome: solved, filed, abandoned.",
		}, []string{"outcome"}),
		ticketsFiled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portal_tickets_filed_total",
			Help: "Tickets filed through this process.",
		}),
		sqliteBusy: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portal_sqlite_busy_errors_total",
			Help: "Database writes and queries that failed because SQLite stayed busy or locked past the busy timeout.",
		}),
		gauges: newGauges(),
	}
	// Every label value that is known in advance starts at 0, so that a
	// rate() over a first increment sees it.
	for _, o := range outcomes {
		m.deflections.WithLabelValues(o)
	}
	for _, k := range searchKinds {
		m.searchDuration.WithLabelValues(k)
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.requestDuration, m.searchDuration, m.suggestions, m.deflections, m.ticketsFiled, m.sqliteBusy,
		m.gauges,
	)
	return m
}

// Handler serves the registry in Prometheus' text format, compressed when
// the scraper accepts it. Errors while collecting are logged to log.
func (m *Metrics) Handler(log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError),
		Registry: m.reg,
		// A scrape reads only memory and a few files' sizes; concurrent
		// scrapers share one collection instead of piling up.
		CoalesceGather:      true,
		MaxRequestsInFlight: 4,
	})
}

// Gatherer is the registry, for tests that read values without HTTP.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// Request counts one answered HTTP request. route must be a route pattern
// (bounded), never the raw path.
func (m *Metrics) Request(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.requestDuration.WithLabelValues(route, method).Observe(d.Seconds())
}

// Search observes one search's time; kind is one of searchKinds.
func (m *Metrics) Search(kind string, d time.Duration) {
	m.searchDuration.WithLabelValues(kind).Observe(d.Seconds())
}

// SuggestionsServed counts one answer to a draft that showed articles.
func (m *Metrics) SuggestionsServed() { m.suggestions.Inc() }

// Deflection counts one deflection session ended with outcome (solved,
// filed or abandoned).
func (m *Metrics) Deflection(outcome string) { m.deflections.WithLabelValues(outcome).Inc() }

// TicketFiled counts one filed ticket.
func (m *Metrics) TicketFiled() { m.ticketsFiled.Inc() }

// SQLiteBusy counts one database call that failed with SQLITE_BUSY or
// SQLITE_LOCKED.
func (m *Metrics) SQLiteBusy() { m.sqliteBusy.Inc() }

// LiveConnections reads, at each scrape, the number of open WebSockets.
func (m *Metrics) LiveConnections(f func() int) {
	m.gauges.set(func(s *sources) { s.live = f })
}

// SearchIndex reads, at each scrape, the live search index's size on disk
// and the number of articles in it.
func (m *Metrics) SearchIndex(f func() (bytes int64, articles int)) {
	m.gauges.set(func(s *sources) { s.index = f })
}

// LastPublish reads, at each scrape, when the live knowledge base was
// published.
func (m *Metrics) LastPublish(f func() time.Time) {
	m.gauges.set(func(s *sources) { s.published = f })
}

// gauges are the values read at scrape time from the portal's parts. A
// gauge whose source is not set (yet) is left out of the scrape, rather
// than reported as a misleading 0.
type gauges struct {
	live, indexBytes, articles, published *prometheus.Desc

	mu  sync.Mutex
	src sources
}

type sources struct {
	live      func() int
	index     func() (int64, int)
	published func() time.Time
}

func newGauges() *gauges {
	return &gauges{
		live:       prometheus.NewDesc("portal_live_connections", "Open WebSockets (live ticket pages, drafts' suggestions, the agents' console).", nil, nil),
		indexBytes: prometheus.NewDesc("portal_search_index_bytes", "Size on disk of the live search index's files.", nil, nil),
		articles:   prometheus.NewDesc("portal_search_articles", "Articles in the live search index.", nil, nil),
		published:  prometheus.NewDesc("portal_last_publish_timestamp_seconds", "When the live knowledge base was published (Unix time).", nil, nil),
	}
}

func (g *gauges) set(fn func(*sources)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fn(&g.src)
}

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.live
	ch <- g.indexBytes
	ch <- g.articles
	ch <- g.published
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	g.mu.Lock()
	src := g.src
	g.mu.Unlock()
	if src.live != nil {
		ch <- prometheus.MustNewConstMetric(g.live, prometheus.GaugeValue, float64(src.live()))
	}
	if src.index != nil {
		bytes, articles := src.index()
		ch <- prometheus.MustNewConstMetric(g.indexBytes, prometheus.GaugeValue, float64(bytes))
		ch <- prometheus.MustNewConstMetric(g.articles, prometheus.GaugeValue, float64(articles))
	}
	if src.published != nil {
		if t := src.published(); !t.IsZero() {
			ch <- prometheus.MustNewConstMetric(g.published, prometheus.GaugeValue, float64(t.UnixNano())/1e9)
		}
	}
}
