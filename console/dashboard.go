package console

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/orbitask/portal/insights"
	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/langtag"
	"github.com/orbitask/portal/svgchart"
	"github.com/orbitask/portal/tickets"
)

// The operators' dashboard: insights' figures for a period beside the
// previous period's, as figures, charts and tables. Every table can be
// downloaded as CSV (/operator/export/NAME.csv): the page and the export
// build the same tables, so they cannot disagree.

type dashboard struct {
	Headline []figure
	Funnel   []funnelStep
	Charts   []chart
	Articles table
	Gaps     []table
	Health   []figure // medians and reply-rule flags
	Filed    []table  // tickets filed by plan, severity, language, status
	SLA      table
	Tables   map[string]*table // every table by its export name
}

// figure is one headline number with its definition and change.
type figure struct {
	ID, Name, Value, Previous, Definition string
	Change                                change
}

// change is a figure against the previous period: an arrow and words, so
// colour is not the only cue.
type change struct {
	Arrow string // ▲, ▼ or =; "" when there is nothing to compare
	Words string // "up 5.2 points"
	Class string // change--good, change--bad or change--neutral
}

type funnelStep struct {
	ID, Name, Value, Previous, Share string
	Width                            float64 // of the bar, 0–100: the share of drafts
	Change                           change
	Outcome                          bool // solved, abandoned, filed: the ends of the funnel
}

type chart struct {
	ID, Title string
	SVG       template.HTML
	Table     *table
}

// table is a table of the page and its CSV export.
type table struct {
	Name    string // the export's name: /operator/export/NAME.csv
	Caption string
	Head    []column
	Rows    [][]cell
	Empty   string // said instead of an empty table
	Export  string // the export's URL with the period
}

type column struct {
	Label   string
	Numeric bool
	Date    bool   // kept on one line
	SortURL string // "" when the column does not sort
	Sort    string // aria-sort: ascending, descending; "" when not sorted by it
}

type cell struct {
	Text  string
	Links []link // shown in place of Text; the CSV has Text
}

// link is a link of a cell; Extra is read out after Text, not shown
// ("history" of which article).
type link struct {
	Text, Href, Extra string
	Aside             bool // on a line of its own, smaller
}

// gapsShown is how many groups of each kind of content gap are listed:
// what a writer can act on in a while.
const gapsShown = 20

// The direction in which a figure's rise is good news.
const (
	neutral = iota
	upIsGood
	upIsBad
)

// dashboardFor reads the figures of period p and of the one before it.
func (h *handler) dashboardFor(ctx context.Context, p insights.Period, pv periodView, sortBy, dir string) (*dashboard, error) {
	in := h.insights
	var (
		cur, prev          insights.Funnel
		days               []insights.Day
		arts               []insights.ArticleRow
		gaps               []insights.Gap
		health, prevHealth insights.Health
	)
	// Independent reads on the pool's connections, three at a time: the
	// page waits far less than their sum (two cores).
	err := parallel(
		func() (err error) { cur, err = in.Funnel(ctx, p); return },
		func() (err error) { prev, err = in.Funnel(ctx, p.Previous()); return },
		func() (err error) { days, err = in.Daily(ctx, p); return },
		func() (err error) { arts, err = in.Articles(ctx, p); return },
		func() (err error) { gaps, err = in.Gaps(ctx, p, gapsShown); return },
		func() (err error) { health, err = in.Health(ctx, p); return },
		func() (err error) { prevHealth, err = in.Health(ctx, p.Previous()); return },
	)
	if err != nil {
		return nil, err
	}
	d := &dashboard{Tables: map[string]*table{}}
	d.headline(cur, prev)
	d.funnel(cur, prev)
	d.charts(days)
	d.Articles = articleTable(h.kb(), arts, pv.Query, sortBy, dir)
	d.gaps(gaps)
	d.health(health, prevHealth)
	for _, t := range d.all() {
		d.Tables[t.Name] = t
		t.Export = "/operator/export/" + t.Name + ".csv?" + pv.Query
		if t == &d.Articles {
			t.Export += "&sort=" + sortBy + "&dir=" + dir
		}
	}
	return d, nil
}

// all lists the dashboard's tables.
func (d *dashboard) all() []*table {
	var ts []*table
	for i := range d.Charts {
		ts = append(ts, d.Charts[i].Table)
	}
	ts = append(ts, &d.Articles)
	for i := range d.Gaps {
		ts = append(ts, &d.Gaps[i])
	}
	for i := range d.Filed {
		ts = append(ts, &d.Filed[i])
	}
	ts = append(ts, &d.SLA, d.summary())
	return ts
}

// summary is the headline figures, the funnel's steps and support's
// figures as one table: the export of what the page shows as cards.
func (d *dashboard) summary() *table {
	t := &table{Name: "summary", Caption: "Figures of the period and the previous one",
		Head: []column{{Label: "Figure"}, {Label: "This period", Numeric: true}, {Label: "Previous period", Numeric: true}, {Label: "Change"}}}
	add := func(name, v, prev string, c change) {
		t.Rows = append(t.Rows, []cell{{Text: name}, {Text: v}, {Text: prev}, {Text: strings.TrimSpace(c.Words)}})
	}
	for _, f := range d.Headline {
		add(f.Name, f.Value, f.Previous, f.Change)
	}
	for _, s := range d.Funnel {
		add(s.Name, s.Value, s.Previous, s.Change)
	}
	for _, f := range d.Health {
		add(f.Name, f.Value, f.Previous, f.Change)
	}
	return t
}

func (d *dashboard) headline(cur, prev insights.Funnel) {
	rate := func(id, name, def string, c, p *float64, good int) figure {
		return figure{ID: id, Name: name, Value: pct(c), Previous: pct(p), Definition: def, Change: pointsChange(c, p, good)}
	}
	d.Headline = []figure{
		rate("deflection-rate", "Deflection rate",
			fmt.Sprintf("Drafts solved by an article ÷ (solved + tickets filed): %d ÷ (%d + %d). Explicit only: a customer clicked “This solved my problem”.", cur.Solved, cur.Solved, cur.Filed),
			cur.DeflectionRate, prev.DeflectionRate, upIsGood),
		rate("implicit-rate", "Implicit deflection",
			fmt.Sprintf("Drafts abandoned after seeing suggestions ÷ (solved + filed + those abandoned): %d ÷ (%d + %d + %d). Perhaps helped, perhaps gave up; never added to the deflection rate.", cur.AbandonedAfterSuggestions, cur.Solved, cur.Filed, cur.AbandonedAfterSuggestions),
			cur.ImplicitRate, prev.ImplicitRate, neutral),
		{ID: "self-service", Name: "Self-service score", Value: ratio(cur.SelfService), Previous: ratio(prev.SelfService),
			Definition: fmt.Sprintf("Knowledge-base visitors ÷ customers who filed tickets: %d ÷ %d. A visitor is one browser on one day that read an article or searched; a customer is one e-mail address.", cur.KBVisitors, cur.FilingCustomers),
			Change:     relativeChange(cur.SelfService, prev.SelfService, upIsGood)},
		rate("click-through", "Suggestion click-through",
			fmt.Sprintf("Drafts in which the customer opened a suggested article ÷ drafts shown suggestions: %d ÷ %d.", cur.Opened, cur.Shown),
			cur.ClickThrough, prev.ClickThrough, upIsGood),
	}
}

func (d *dashboard) funnel(cur, prev insights.Funnel) {
	step := func(id, name string, c, p int, good int, outcome bool) funnelStep {
		s := funnelStep{ID: id, Name: name, Value: strconv.Itoa(c), Previous: strconv.Itoa(p), Outcome: outcome,
			Change: countChange(c, p, good)}
		if cur.Drafts > 0 {
			s.Width = math.Round(1000*float64(c)/float64(cur.Drafts)) / 10
			s.Share = strconv.FormatFloat(s.Width, 'f', -1, 64) + "% of drafts"
		}
		return s
	}
	d.Funnel = []funnelStep{
		step("drafts", "Drafts started", cur.Drafts, prev.Drafts, neutral, false),
		step("shown", "Shown suggestions", cur.Shown, prev.Shown, upIsGood, false),
		step("opened", "Opened a suggestion", cur.Opened, prev.Opened, upIsGood, false),
		step("solved", "Solved by an article", cur.Solved, prev.Solved, upIsGood, true),
		step("abandoned-after", "Abandoned after suggestions", cur.AbandonedAfterSuggestions, prev.AbandonedAfterSuggestions, neutral, true),
		step("filed", "Ticket filed", cur.Filed, prev.Filed, upIsBad, true),
	}
}

func (d *dashboard) charts(days []insights.Day) {
	labels := make([]string, len(days))
	dates := make([]string, len(days))
	for i, day := range days {
		labels[i] = day.Day.Format("2 Jan")
		dates[i] = day.Day.Format(dateLayout)
	}
	series := func(f func(insights.Funnel) float64) []float64 {
		vs := make([]float64, len(days))
		for i, day := range days {
			vs[i] = f(day.Funnel)
		}
		return vs
	}
	rateOf := func(f func(insights.Funnel) *float64) func(insights.Funnel) float64 {
		return func(fu insights.Funnel) float64 {
			if r := f(fu); r != nil {
				return *r
			}
			return math.NaN()
		}
	}
	percent := func(v float64) string { return pct(&v) }
	tick := func(v float64) string { return strconv.FormatFloat(v*100, 'f', 0, 64) + "%" }
	dayTable := func(name, caption string, head []string, row func(insights.Funnel) []string) *table {
		t := &table{Name: name, Caption: caption, Head: []column{{Label: "Day", Date: true}}}
		for _, h := range head {
			t.Head = append(t.Head, column{Label: h, Numeric: true})
		}
		for i, day := range days {
			r := []cell{{Text: dates[i]}}
			for _, s := range row(day.Funnel) {
				r = append(r, cell{Text: s})
			}
			t.Rows = append(t.Rows, r)
		}
		return t
	}
	itoa := strconv.Itoa
	d.Charts = []chart{
		{ID: "chart-deflection", Title: "Deflection rate, daily",
			SVG: template.HTML(svgchart.Render(svgchart.Chart{Title: "Deflection rate, daily", Labels: labels, Max: 1, Format: percent, Tick: tick,
				Series: []svgchart.Series{{Name: "Deflection rate", Values: series(rateOf(func(f insights.Funnel) *float64 { return f.DeflectionRate }))}}})),
			Table: dayTable("daily-deflection", "Deflection rate, daily", []string{"Solved", "Filed", "Deflection rate", "Abandoned after suggestions", "Implicit deflection"},
				func(f insights.Funnel) []string {
					return []string{itoa(f.Solved), itoa(f.Filed), pct(f.DeflectionRate), itoa(f.AbandonedAfterSuggestions), pct(f.ImplicitRate)}
				})},
		{ID: "chart-click-through", Title: "Suggestion click-through, daily",
			SVG: template.HTML(svgchart.Render(svgchart.Chart{Title: "Suggestion click-through, daily", Labels: labels, Max: 1, Format: percent, Tick: tick,
				Series: []svgchart.Series{{Name: "Click-through", Values: series(rateOf(func(f insights.Funnel) *float64 { return f.ClickThrough }))}}})),
			Table: dayTable("daily-click-through", "Suggestion click-through, daily", []string{"Shown suggestions", "Opened one", "Click-through"},
				func(f insights.Funnel) []string { return []string{itoa(f.Shown), itoa(f.Opened), pct(f.ClickThrough)} })},
		{ID: "chart-counts", Title: "Drafts, solved and filed, daily",
			SVG: template.HTML(svgchart.Render(svgchart.Chart{Title: "Drafts, solved and filed, daily", Labels: labels, Series: []svgchart.Series{
				{Name: "Drafts", Bars: true, Values: series(func(f insights.Funnel) float64 { return float64(f.Drafts) })},
				{Name: "Solved", Values: series(func(f insights.Funnel) float64 { return float64(f.Solved) })},
				{Name: "Filed", Values: series(func(f insights.Funnel) float64 { return float64(f.Filed) })},
			}})),
			Table: dayTable("daily-counts", "Drafts, solved and filed, daily", []string{"Drafts", "Solved", "Filed", "Abandoned"},
				func(f insights.Funnel) []string {
					return []string{itoa(f.Drafts), itoa(f.Solved), itoa(f.Filed), itoa(f.Abandoned)}
				})},
	}
}

// articleColumns are the articles table's columns and their sort keys.
var articleColumns = []struct{ key, label string }{
	{"title", "Article"}, {"views", "Views"}, {"suggested", "Suggested"}, {"opened", "Opened from a suggestion"},
	{"solved", "Solved drafts"}, {"helpful", "Helpful"}, {"not_helpful", "Not helpful"}, {"tickets", "Tickets filed after reading"},
}

// articleTable is the per-article table sorted by sortBy ("views" when
// unknown), dir "asc" or "desc".
func articleTable(k *kb.KB, rows []insights.ArticleRow, query, sortBy, dir string) table {
	type row struct {
		r     insights.ArticleRow
		title string
		a     *kb.Article
	}
	rs := make([]row, len(rows))
	for i, r := range rows {
		rs[i] = row{r: r, title: r.ID}
		if a, ok := k.ByID(r.ID); ok {
			rs[i].title, rs[i].a = a.Title, a
		}
	}
	num := func(r insights.ArticleRow) int {
		switch sortBy {
		case "suggested":
			return r.Suggested
		case "opened":
			return r.OpenedFromSuggestion
		case "solved":
			return r.Solved
		case "helpful":
			return r.Helpful
		case "not_helpful":
			return r.NotHelpful
		case "tickets":
			return r.TicketsAfterReading
		default:
			return r.Views
		}
	}
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if dir == "asc" {
			a, b = b, a
		}
		if sortBy == "title" {
			return strings.ToLower(a.title) > strings.ToLower(b.title)
		}
		if num(a.r) != num(b.r) {
			return num(a.r) > num(b.r)
		}
		return a.r.ID < b.r.ID // ties in the same order both ways
	})
	t := table{Name: "articles", Caption: "Per article", Empty: "No article was viewed, suggested or voted on in this period."}
	for _, c := range articleColumns {
		col := column{Label: c.label, Numeric: c.key != "title"}
		next := "desc"
		if c.key == "title" {
			next = "asc"
		}
		if c.key == sortBy {
			col.Sort = map[string]string{"asc": "ascending", "desc": "descending"}[dir]
			next = map[string]string{"asc": "desc", "desc": "asc"}[dir]
		}
		col.SortURL = "/operator?" + query + "&sort=" + c.key + "&dir=" + next + "#articles-title"
		t.Head = append(t.Head, col)
	}
	for _, r := range rs {
		first := cell{Text: r.title}
		if r.a != nil {
			first.Links = []link{{Text: r.title, Href: r.a.URL()}, {Text: "history", Href: historyURL(r.a), Extra: " of " + r.title, Aside: true}}
		}
		t.Rows = append(t.Rows, []cell{first, {Text: strconv.Itoa(r.r.Views)}, {Text: strconv.Itoa(r.r.Suggested)},
			{Text: strconv.Itoa(r.r.OpenedFromSuggestion)}, {Text: strconv.Itoa(r.r.Solved)}, {Text: strconv.Itoa(r.r.Helpful)},
			{Text: strconv.Itoa(r.r.NotHelpful)}, {Text: strconv.Itoa(r.r.TicketsAfterReading)}})
	}
	return t
}

// readSort reads ?sort= and ?dir= of the articles table.
func readSort(sortBy, dir string) (string, string) {
	ok := false
	for _, c := range articleColumns {
		ok = ok || c.key == sortBy
	}
	if !ok {
		return "views", "desc"
	}
	if dir != "asc" {
		dir = "desc"
	}
	return sortBy, dir
}

func (d *dashboard) gaps(gs []insights.Gap) {
	kinds := []struct{ kind, name, caption, empty string }{
		{"no_results", "gaps-no-results", "Searches without results", "No search went without results in this period."},
		{"no_good_match", "gaps-no-good-match", "Drafts with no good match", "Every draft found a good enough article in this period."},
		{"no_click", "gaps-no-click", "Searches with results but no click", "No search with results went without a click in this period."},
		{"weak_suggestions", "gaps-weak-suggestions", "Tickets filed after weak suggestions", "No ticket was filed after weak suggestions in this period."},
	}
	for _, k := range kinds {
		t := table{Name: k.name, Caption: k.caption, Empty: k.empty,
			Head: []column{{Label: "Query (normalised)"}, {Label: "Times", Numeric: true}, {Label: "As typed"}, {Label: "Tickets"}}}
		for _, g := range gs {
			if g.Kind != k.kind {
				continue
			}
			examples := make([]string, len(g.Examples))
			for i, e := range g.Examples {
				examples[i] = "“" + e + "”"
			}
			tc := cell{}
			var nums []string
			for _, n := range g.Tickets {
				s := "#" + strconv.Itoa(n)
				nums = append(nums, s)
				tc.Links = append(tc.Links, link{Text: s, Href: "/agent/tickets/" + strconv.Itoa(n)})
			}
			tc.Text = strings.Join(nums, " ")
			t.Rows = append(t.Rows, []cell{{Text: g.Query}, {Text: strconv.Itoa(g.Count)}, {Text: strings.Join(examples, ", ")}, tc})
		}
		d.Gaps = append(d.Gaps, t)
	}
}

func (d *dashboard) health(cur, prev insights.Health) {
	d.Health = []figure{
		{ID: "first-response", Name: "Median first response", Value: workingTime(cur.MedianFirstResponse), Previous: workingTime(prev.MedianFirstResponse),
			Definition: "Working time from filing to support's first reply, over the tickets filed in the period that have one.",
			Change:     durationChange(cur.MedianFirstResponse, prev.MedianFirstResponse)},
		{ID: "resolution", Name: "Median resolution", Value: workingTime(cur.MedianResolution), Previous: workingTime(prev.MedianResolution),
			Definition: "Working time from filing to solved, over the tickets filed in the period that were solved.",
			Change:     durationChange(cur.MedianResolution, prev.MedianResolution)},
		{ID: "call-flagged", Name: "Flagged by the reply rule", Value: strconv.Itoa(cur.CallFlagged), Previous: strconv.Itoa(prev.CallFlagged),
			Definition: "Tickets whose call flag the reply rule raised in the period: support should phone the customer.",
			Change:     countChange(cur.CallFlagged, prev.CallFlagged, upIsBad)},
	}
	counts := func(name, caption, head string, c, p []insights.Count, label func(string) string) table {
		t := table{Name: name, Caption: caption, Empty: "No ticket was filed in this period.",
			Head: []column{{Label: head}, {Label: "This period", Numeric: true}, {Label: "Previous period", Numeric: true}}}
		before := map[string]int{}
		for _, x := range p {
			before[x.Key] = x.N
		}
		for _, x := range c {
			t.Rows = append(t.Rows, []cell{{Text: label(x.Key)}, {Text: strconv.Itoa(x.N)}, {Text: strconv.Itoa(before[x.Key])}})
		}
		return t
	}
	planLabel := func(k string) string {
		if l := tickets.Plan(k).Label(); l != "" {
			return l
		}
		return k
	}
	sevLabel := func(k string) string {
		if n, err := strconv.Atoi(k); err == nil {
			return tickets.SeverityName(n)
		}
		return k
	}
	langLabel := func(k string) string {
		if n := langtag.Name(k); n != "" && n != k {
			return n + " (" + k + ")"
		}
		return k
	}
	statusLabel := func(k string) string {
		if l := tickets.Status(k).Label(); l != "" {
			return l
		}
		return k
	}
	d.Filed = []table{
		counts("tickets-by-plan", "By plan", "Plan", cur.ByPlan, prev.ByPlan, planLabel),
		counts("tickets-by-severity", "By severity", "Severity", cur.BySeverity, prev.BySeverity, sevLabel),
		counts("tickets-by-language", "By language", "Language", cur.ByLang, prev.ByLang, langLabel),
		counts("tickets-by-status", "By status now", "Status", cur.ByStatus, prev.ByStatus, statusLabel),
	}
	d.SLA = table{Name: "sla", Caption: "SLA compliance by plan and severity", Empty: "No ticket was filed in this period.",
		Head: []column{{Label: "Plan"}, {Label: "Severity"}, {Label: "Met", Numeric: true}, {Label: "Breached", Numeric: true},
			{Label: "Not yet due", Numeric: true}, {Label: "Met of those due", Numeric: true}}}
	for _, r := range cur.SLA {
		var met *float64
		if due := r.Met + r.Breached; due > 0 {
			v := float64(r.Met) / float64(due)
			met = &v
		}
		d.SLA.Rows = append(d.SLA.Rows, []cell{{Text: planLabel(r.Plan)}, {Text: tickets.SeverityName(r.Severity)},
			{Text: strconv.Itoa(r.Met)}, {Text: strconv.Itoa(r.Breached)}, {Text: strconv.Itoa(r.Open)}, {Text: pct(met)}})
	}
}

// pct is a rate as a percentage with one decimal; "–" when undefined.
func pct(r *float64) string {
	if r == nil || math.IsNaN(*r) {
		return "–"
	}
	return strconv.FormatFloat(*r*100, 'f', 1, 64) + "%"
}

// ratio is the self-service score: visitors per filing customer.
func ratio(r *float64) string {
	if r == nil {
		return "–"
	}
	return strconv.FormatFloat(*r, 'f', 1, 64)
}

// workingTime is a median in working hours and minutes; "–" for none.
func workingTime(d time.Duration) string {
	if d <= 0 {
		return "–"
	}
	h, m := int(d.Hours()), int(d.Minutes())%60
	if h == 0 {
		return fmt.Sprintf("%d min", m)
	}
	return fmt.Sprintf("%d h %02d min", h, m)
}

func pointsChange(c, p *float64, good int) change {
	if c == nil || p == nil {
		return change{Words: "no comparison", Class: "change--neutral"}
	}
	return arrow((*c-*p)*100, strconv.FormatFloat(math.Abs(*c-*p)*100, 'f', 1, 64)+" points", good)
}

func relativeChange(c, p *float64, good int) change {
	if c == nil || p == nil {
		return change{Words: "no comparison", Class: "change--neutral"}
	}
	return ratioChange(*c, *p, good)
}

func countChange(c, p int, good int) change {
	return ratioChange(float64(c), float64(p), good)
}

func durationChange(c, p time.Duration) change {
	if c <= 0 || p <= 0 {
		return change{Words: "no comparison", Class: "change--neutral"}
	}
	return ratioChange(float64(c), float64(p), upIsBad)
}

// ratioChange is a change in percent of the previous value.
func ratioChange(c, p float64, good int) change {
	if p == 0 {
		if c == 0 {
			return arrow(0, "", good)
		}
		return arrow(c, "from none", good)
	}
	r := (c - p) / p * 100
	return arrow(r, strconv.FormatFloat(math.Abs(r), 'f', 0, 64)+"%", good)
}

func arrow(diff float64, amount string, good int) change {
	switch {
	case math.Abs(diff) < 0.05:
		return change{Arrow: "=", Words: "no change", Class: "change--neutral"}
	case diff > 0:
		return change{Arrow: "▲", Words: strings.TrimSpace("up " + amount), Class: [...]string{"change--neutral", "change--good", "change--bad"}[good]}
	default:
		return change{Arrow: "▼", Words: strings.TrimSpace("down " + amount), Class: [...]string{"change--neutral", "change--bad", "change--good"}[good]}
	}
}

// parallel runs fns, at most three at once (the connection pool serves
// customers too), and returns their errors joined; a panic in one is its
// error, not the process's end.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	slots := make(chan struct{}, 3)
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			defer func() {
				if p := recover(); p != nil {
					errs[i] = fmt.Errorf("console: dashboard: panic: %v", p)
				}
			}()
			errs[i] = fn()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
