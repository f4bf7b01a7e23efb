package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	cdpkb "github.com/chromedp/chromedp/kb"

	"github.com/orbitask/portal/app"
	"github.com/orbitask/portal/events"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/internal/browsertest"
	"github.com/orbitask/portal/internal/testportal"
	"github.com/orbitask/portal/ticketfeed"
)

// TestBrowser drives a real Chromium against the portal serving the
// knowledge base that ships in ../content: instant search with the keyboard,
// the feedback form, and the search page with JavaScript off. No page may
// throw an exception or violate the Content-Security-Policy. The test skips
// when no browser is installed, except on CI (CI=true), where that fails.
func TestBrowser(t *testing.T) {
	chromium := browsertest.Find(t)
	base, svc := serveBundledPortal(t)
	ev := svc.Events
	browser := browsertest.Start(t, chromium)

	t.Run("instant search", func(t *testing.T) {
		tab := browsertest.OpenTab(t, browser)
		browsertest.Step(t, tab, "open the home page",
			chromedp.Navigate(base+"/"),
			// has-instant is added by app.js: the script ran under the CSP.
			chromedp.WaitReady(chromedp.CSS("form.search--big.has-instant")),
		)
		browsertest.CheckA11y(t, tab)
		browsertest.Screenshot(t, tab, "01-home")

		// Ctrl+K and "/" pressed on the page body jump to the big search box.
		for _, key := range []struct {
			name  string
			press chromedp.Action[chromedp.Void]
		}{
			{"Ctrl+K", chromedp.KeyEvent("k", chromedp.KeyModifiers(chromedp.ModifierCtrl))},
			{"/", browsertest.PressKeys("/")},
		} {
			if got := browsertest.Value(t, tab, "blur", chromedp.Evaluate[string](`document.activeElement.blur(), document.activeElement.tagName`)); got != "BODY" {
				t.Fatalf("before %s: the focus is on %s, want the page body", key.name, got)
			}
			browsertest.Step(t, tab, "press "+key.name, key.press)
			if got := browsertest.Value(t, tab, "the focused element", chromedp.Evaluate[string](`document.activeElement.id`)); got != "q-main" {
				t.Fatalf("after %s on the page body the focus is on %q, want the search box q-main", key.name, got)
			}
		}

		// Type key by key into whatever has the focus.
		const query = "reset pasword"
		browsertest.Step(t, tab, "type "+query, browsertest.PressKeys(query))
		if got := browsertest.Value(t, tab, "the search box", chromedp.Value(chromedp.ID("q-main"))); got != query {
			t.Fatalf("search box holds %q, want %q", got, query)
		}
		// The list is complete once its last option offers all results for
		// the whole query (an earlier, shorter query may be shown for a moment).
		q, _ := json.Marshal("“" + query + "”")
		browsertest.Value(t, tab, "wait for suggestions",
			chromedp.Poll[bool](`(() => {
				const list = document.querySelector("form.search--big [role=listbox]");
				const all = list && list.querySelector(".instant__all");
				return !!all && !list.hidden && all.textContent.includes(`+string(q)+`);
			})()`, chromedp.WithPollingTimeout(0)),
		)
		type suggestions struct {
			Options  []string `json:"options"`  // text of each option, "See all results" last
			Marks    int      `json:"marks"`    // <mark> elements inside options
			Live     string   `json:"live"`     // the aria-live region
			Expanded string   `json:"expanded"` // aria-expanded of the box
		}
		got := browsertest.Value(t, tab, "read the suggestions", chromedp.Evaluate[suggestions](`(() => {
			const form = document.querySelector("form.search--big");
			return {
				options: [...form.querySelectorAll("[role=listbox] [role=option]")].map(o => o.textContent),
				marks: form.querySelectorAll("[role=listbox] [role=option] mark").length,
				live: form.querySelector("[aria-live]").textContent,
				expanded: document.getElementById("q-main").getAttribute("aria-expanded"),
			};
		})()`))
		if len(got.Options) < 2 {
			t.Fatalf("suggestions for %q: %q, want articles before “See all results”", query, got.Options)
		}
		if !strings.Contains(got.Options[0], "Reset a forgotten password") {
			t.Errorf("first suggestion = %q, want the article “Reset a forgotten password”", got.Options[0])
		}
		if got.Marks == 0 {
			t.Errorf("no <mark> inside the suggestions %q", got.Options)
		}
		if !regexp.MustCompile(`^[1-9][0-9]* results?$`).MatchString(got.Live) {
			t.Errorf("live region says %q, want “N results”", got.Live)
		}
		if got.Expanded != "true" {
			t.Errorf("search box aria-expanded = %q, want true", got.Expanded)
		}

		browsertest.Step(t, tab, "press ArrowDown", browsertest.PressKeys(cdpkb.ArrowDown))
		if ok := browsertest.Value(t, tab, "the active option", chromedp.Evaluate[bool](`(() => {
			const first = document.querySelector("form.search--big [role=option]");
			return first.getAttribute("aria-selected") === "true" &&
				document.getElementById("q-main").getAttribute("aria-activedescendant") === first.id;
		})()`)); !ok {
			t.Fatal("after ArrowDown the first suggestion is not the active option")
		}
		browsertest.Value(t, tab, "press Enter and wait for the next page",
			chromedp.WaitEvent(page.LoadEventFired, nil, browsertest.PressKeys(cdpkb.Enter)))
		// Picking it was a search with a click: recorded, and the article
		// opened with its id.
		loc := browsertest.Value(t, tab, "the location", chromedp.Location())
		m := regexp.MustCompile(`^` + regexp.QuoteMeta(base+"/kb/en/reset-password?sq=") + `([0-9a-f]{16})$`).FindStringSubmatch(loc)
		if m == nil {
			t.Fatalf("Enter on the first suggestion went to %s, want %s/kb/en/reset-password?sq=ID", loc, base)
		}
		if err := ev.Flush(); err != nil {
			t.Fatal(err)
		}
		var source, typed string
		var views int
		if err := svc.DB.QueryRow(`SELECT json_extract(data, '$.source'), json_extract(data, '$.query'),
			(SELECT count(*) FROM article_views WHERE search_id = ?)
			FROM events WHERE kind = 'search' AND json_extract(data, '$.id') = ?`, m[1], m[1]).Scan(&source, &typed, &views); err != nil {
			t.Fatalf("the picked search %s: %v", m[1], err)
		}
		if source != "instant" || typed != query || views != 1 {
			t.Errorf("picked search recorded as %s %q with %d views, want instant %q with 1", source, typed, views, query)
		}
		if got := browsertest.Value(t, tab, "the heading", chromedp.Text(chromedp.CSS("h1"))); got != "Reset a forgotten password" {
			t.Errorf("h1 = %q, want the article's title", got)
		}
	})

	// axe-core runs on timers, so the search page is checked with
	// JavaScript on. Both articles: one with code blocks, one with a task
	// list (its checkboxes are named by kb's rendering).
	t.Run("accessibility of search and article", func(t *testing.T) {
		tab := browsertest.OpenTab(t, browser)
		browsertest.Step(t, tab, "search for backup",
			chromedp.Navigate(base+"/search?q=backup&lang=en"),
			chromedp.WaitReady(chromedp.CSS(".hits")),
		)
		browsertest.CheckA11y(t, tab)
		browsertest.Screenshot(t, tab, "02-search")
		browsertest.Step(t, tab, "open the article",
			chromedp.Navigate(base+"/kb/en/backup-and-restore"),
			chromedp.WaitReady(chromedp.CSS("form.feedback__form")),
		)
		browsertest.CheckA11y(t, tab)
		browsertest.Screenshot(t, tab, "03-article")
		browsertest.Step(t, tab, "open an article with a task list",
			chromedp.Navigate(base+"/kb/en/reset-password"),
			chromedp.WaitReady(chromedp.CSS(`.prose input[type="checkbox"]`)),
		)
		browsertest.CheckA11y(t, tab)
	})

	t.Run("article feedback", func(t *testing.T) {
		tab := browsertest.OpenTab(t, browser)
		article := base + "/kb/en/reset-password"
		browsertest.Step(t, tab, "open the article",
			chromedp.Navigate(article),
			chromedp.WaitReady(chromedp.CSS("form.feedback__form")),
		)

		href := browsertest.Value(t, tab, "the table of contents", chromedp.AttributeValue(chromedp.CSS(".toc a"), "href"))
		if !href.Exists || !strings.HasPrefix(href.Value, "#") || len(href.Value) < 2 {
			t.Errorf("first link of the table of contents: href %q, want #HEADING", href.Value)
		} else if !browsertest.Value(t, tab, "the heading of the first entry",
			chromedp.Evaluate[bool](fmt.Sprintf(`document.getElementById(%q) !== null`, href.Value[1:]))) {
			t.Errorf("the table of contents links %s, but no element has that id", href.Value)
		}

		// A marker on window survives only if the page is not reloaded.
		browsertest.Step(t, tab, "mark the document", chromedp.Evaluate[chromedp.Void](`window.portalBrowserTest = "same document"`))
		browsertest.Step(t, tab, "vote yes",
			chromedp.Click(chromedp.CSS(`form.feedback__form button[value="yes"]`)),
			chromedp.WaitVisible(chromedp.CSS(".feedback__thanks")),
		)
		if got := browsertest.Value(t, tab, "the thanks", chromedp.Text(chromedp.CSS(".feedback__thanks"))); got != "Thanks for your feedback!" {
			t.Errorf("thanks = %q", got)
		}
		if got := browsertest.Value(t, tab, "the marker", chromedp.Evaluate[string](`String(window.portalBrowserTest)`)); got != "same document" {
			t.Error("voting loaded a new page; want the thanks in place")
		}
		if got := browsertest.Value(t, tab, "the location", chromedp.Location()); got != article {
			t.Errorf("after voting the location is %s, want %s", got, article)
		}
		yes, no, err := ev.VoteCounts(t.Context(), "en/reset-password")
		if err != nil || yes != 1 || no != 0 {
			t.Errorf("stored votes = %d yes, %d no (%v); want 1 yes", yes, no, err)
		}
	})

	// The fourth reader in an office whose colleagues have voted: the
	// vote is not counted (409), and the page thanks them all the same.
	t.Run("article feedback not counted", func(t *testing.T) {
		const id = "en/cannot-log-in"
		for i := range events.VotersPerAddress {
			colleague := events.Visitor{Addr: "127.0.0.1", UserAgent: fmt.Sprintf("Mozilla/5.0 Firefox/%d.0", 100+i)}
			ev.RecordView(events.View{ArticleID: id, Lang: "en", Visitor: colleague})
			if err := ev.Vote(t.Context(), events.Vote{ArticleID: id, Helpful: true, Visitor: colleague}); err != nil {
				t.Fatal(err)
			}
		}
		tab := browsertest.OpenTab(t, browser)
		browsertest.Step(t, tab, "open the article",
			chromedp.Navigate(base+"/kb/"+id),
			chromedp.WaitReady(chromedp.CSS("form.feedback__form")),
		)
		browsertest.Step(t, tab, "vote no",
			chromedp.Click(chromedp.CSS(`form.feedback__form button[value="no"]`)),
			chromedp.WaitVisible(chromedp.CSS(".feedback__thanks")),
		)
		// After "No", the thanks for it (and what was missing is asked).
		if got := browsertest.Value(t, tab, "the thanks", chromedp.Text(chromedp.CSS(".feedback__thanks"))); got != "Thanks for telling us." {
			t.Errorf("thanks = %q", got)
		}
		if n := browsertest.Value(t, tab, "error messages", chromedp.Evaluate[int](`document.querySelectorAll(".feedback__error").length`)); n != 0 {
			t.Errorf("%d error messages shown", n)
		}
		if yes, no, err := ev.VoteCounts(t.Context(), id); err != nil || yes != events.VotersPerAddress || no != 0 {
			t.Errorf("stored votes = %d yes, %d no (%v); want the colleagues' %d yes", yes, no, err, events.VotersPerAddress)
		}
	})

	t.Run("search page without JavaScript", func(t *testing.T) {
		tab := browsertest.OpenTab(t, browser)
		browsertest.Step(t, tab, "turn off JavaScript", chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
			_, err := cdp.Call(ctx, target, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}))

		browsertest.Step(t, tab, "search for backup",
			chromedp.Navigate(base+"/search?q=backup&lang=en"),
			chromedp.WaitReady(chromedp.CSS(".hits")),
		)
		type results struct {
			Scripted   bool     `json:"scripted"`   // app.js enhanced the page
			Titles     int      `json:"titles"`     // result titles
			TitleLinks []string `json:"titleLinks"` // href of the links in them
			Marks      int      `json:"marks"`      // <mark> inside result snippets
			Facets     []string `json:"facets"`     // href of the facet links
		}
		got := browsertest.Value(t, tab, "read the results", chromedp.Evaluate[results](`({
			scripted: document.querySelector("form.has-instant") !== null,
			titles: document.querySelectorAll(".hit__title").length,
			titleLinks: [...document.querySelectorAll(".hit__title a[href]")].map(a => a.getAttribute("href")),
			marks: document.querySelectorAll(".hit__snippet mark").length,
			facets: [...document.querySelectorAll(".facets a.facet__value[href]")].map(a => a.getAttribute("href")),
		})`))
		if got.Scripted {
			t.Error("app.js ran although JavaScript is off")
		}
		if got.Titles == 0 || len(got.TitleLinks) != got.Titles {
			t.Errorf("%d result titles, %d of them links (%q); want every title a link", got.Titles, len(got.TitleLinks), got.TitleLinks)
		}
		for _, href := range got.TitleLinks {
			if !strings.HasPrefix(href, "/kb/en/") {
				t.Errorf("result links %q, want an English article", href)
			}
		}
		if got.Marks == 0 {
			t.Error("no <mark> inside a result snippet")
		}
		if len(got.Facets) == 0 {
			t.Error("no facet link")
		}
		for _, href := range got.Facets {
			if !strings.HasPrefix(href, "/search?") {
				t.Errorf("facet links %q, want a search", href)
			}
		}

		const nothing = "zzzqqqxx"
		browsertest.Step(t, tab, "search for "+nothing,
			chromedp.Navigate(base+"/search?q="+nothing+"&lang=en"),
			chromedp.WaitReady(chromedp.CSS(".empty")),
		)
		if got := browsertest.Value(t, tab, "the no-results message", chromedp.Text(chromedp.CSS(".empty__title"))); !strings.Contains(got, nothing) {
			t.Errorf("no-results message %q does not show the query", got)
		}
		ask := browsertest.Value(t, tab, "the link to support", chromedp.Evaluate[string](
			`(document.querySelector('.empty a[href^="/tickets/new"]') || {}).href || ""`))
		if !strings.HasPrefix(ask, base+"/tickets/new") {
			t.Errorf("no-results message links %q, want a link to /tickets/new", ask)
		}
	})
}

// serveBundledPortal serves the portal over the shipped knowledge base on a
// real port, and returns its address and its services.
func serveBundledPortal(t *testing.T) (string, *app.App) {
	t.Helper()
	svc := testportal.Open(t, "../content", ticketfeed.Encoders{Customers: LiveEvent})
	app := newApp(t, Config{}, svc)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- httpkit.Serve(app, ln) }()
	t.Cleanup(func() {
		if err := app.Shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String(), svc
}
