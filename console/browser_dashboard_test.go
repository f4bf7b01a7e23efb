package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/orbitask/portal/internal/browsertest"
	"github.com/orbitask/portal/staff"
)

// checkBoth runs axe-core at the browser's width and a phone's (a table
// that scrolls in its own box only there must take focus), and checks
// that the page does not scroll sideways on a phone.
func checkBoth(t *testing.T, tab context.Context) {
	t.Helper()
	browsertest.CheckA11y(t, tab)
	fitsPhone(t, tab)
	browsertest.Step(t, tab, "a phone's viewport", chromedp.EmulateViewport(390, 800))
	browsertest.CheckA11y(t, tab)
	browsertest.Step(t, tab, "reset the viewport", chromedp.EmulateReset())
}

// The operators' dashboard in a browser, over the fixture: the headline
// figures, the charts with their points, a chart's table, a CSV download
// and a custom period; axe-clean at 1280 and 390 px, no sideways
// scrolling on a phone, screenshots.
func TestBrowserDashboard(t *testing.T) {
	chromium := browsertest.Find(t)
	p := newDashPortal(t)
	dashFixture(t, p)
	base := "http://" + p.serve(t)
	browser := browsertest.Start(t, chromium)
	tab := browsertest.OpenTab(t, browser)
	signInAs(t, tab, base, p, "olga@orbitask.example", "Olga Operator", staff.RoleOperator)

	browsertest.Value(t, tab, "open the dashboard", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Navigate(base+"/operator?period=7")))
	figures := browsertest.Value(t, tab, "the headline figures", chromedp.Evaluate[map[string]string](
		`Object.fromEntries([...document.querySelectorAll("[data-figure]")].map(f => [f.dataset.figure, f.querySelector(".figure__value").textContent]))`))
	if figures["deflection-rate"] != "50.0%" || figures["click-through"] != "66.7%" {
		t.Errorf("headline figures %v: want deflection rate 50.0%%, click-through 66.7%%", figures)
	}
	charts := browsertest.Value(t, tab, "the charts", chromedp.Evaluate[[]map[string]any](
		`[...document.querySelectorAll("svg.chart")].map(s => ({label: s.getAttribute("aria-label"), role: s.getAttribute("role"),
			points: s.querySelectorAll(".chart__point").length, bars: s.querySelectorAll("g:not(.chart__legend) > .chart__bar").length,
			width: s.getBoundingClientRect().width}))`))
	if len(charts) != 3 {
		t.Fatalf("%d charts, want 3", len(charts))
	}
	for i, c := range charts {
		if c["role"] != "img" || !strings.Contains(c["label"].(string), "last") || c["width"].(float64) < 200 {
			t.Errorf("chart %d: %v", i, c)
		}
	}
	// Today has every event: one point a rate, seven days of bars.
	if charts[0]["points"].(float64) != 1 || charts[2]["bars"].(float64) != 7 {
		t.Errorf("deflection chart %v points, counts chart %v bars: want 1 and 7", charts[0]["points"], charts[2]["bars"])
	}

	// A chart's table, behind its disclosure.
	browsertest.Step(t, tab, "show a chart's data", chromedp.Click(chromedp.CSS(`#chart-counts summary`)))
	rows := browsertest.Value(t, tab, "the table's rows", chromedp.Evaluate[int](`document.querySelectorAll('#chart-counts tbody tr').length`))
	if rows != 7 {
		t.Errorf("%d rows in the chart's table, want 7", rows)
	}

	// The CSV, as the link downloads it.
	csv := browsertest.Value(t, tab, "download a CSV", chromedp.Evaluate[map[string]string](
		`fetch(document.querySelector('#chart-counts a[download]').href).then(async r => ({status: String(r.status),
			disposition: r.headers.get("content-disposition"), body: await r.text()}))`, chromedp.EvalAwaitPromise))
	if csv["status"] != "200" || !strings.HasPrefix(csv["disposition"], `attachment; filename="daily-counts-`) ||
		!strings.HasPrefix(csv["body"], "Day,Drafts,Solved,Filed,Abandoned\r\n") {
		t.Errorf("the CSV download: %v", csv)
	}
	checkBoth(t, tab)
	browsertest.Screenshot(t, tab, "dashboard")

	// A custom period, through the form.
	browsertest.Step(t, tab, "choose the days",
		chromedp.SetValue(chromedp.ID("period-from"), "2026-11-01"),
		chromedp.SetValue(chromedp.ID("period-to"), "2026-11-30"))
	browsertest.Value(t, tab, "show them", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Submit(chromedp.ID("period-to"))))
	label := browsertest.Value(t, tab, "the period shown", chromedp.Evaluate[string](`document.querySelector(".period__label").textContent`))
	if !strings.Contains(label, "1 Nov – 30 Nov 2026") || !strings.Contains(label, "2 Oct – 31 Oct 2026") {
		t.Errorf("period label %q", label)
	}
	checkBoth(t, tab)
	browsertest.Screenshot(t, tab, "dashboard-november")

	// A period that is not one: the page says which field, without
	// figures.
	browsertest.Value(t, tab, "open a bad period", chromedp.WaitEvent(page.LoadEventFired, nil,
		chromedp.Navigate(base+"/operator?from=2026-11-30&to=2026-11-01")))
	alert := browsertest.Value(t, tab, "the message", chromedp.Evaluate[string](`document.querySelector('[role="alert"]').textContent`))
	if !strings.Contains(alert, "To: the last day is before the first") {
		t.Errorf("message %q", alert)
	}
	if n := browsertest.Value(t, tab, "the charts", chromedp.Evaluate[int](`document.querySelectorAll("svg.chart").length`)); n != 0 {
		t.Errorf("%d charts for a bad period", n)
	}
	checkBoth(t, tab)
	browsertest.Screenshot(t, tab, "dashboard-bad-period")
}
