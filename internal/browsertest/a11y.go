package browsertest

import (
	_ "embed"
	"fmt"
	"strings"
	"testing"

	"context"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core (testdata/axe, version in its README).
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// A11yTags are the axe rule sets CheckA11y runs: WCAG 2.1 levels A and AA.
var A11yTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// A11yViolation is one axe rule that failed on a page.
type A11yViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"` // minor, moderate, serious or critical
	Help    string   `json:"help"`
	Targets []string `json:"targets"` // CSS selectors of the failing elements
	Detail  string   `json:"detail"`  // axe's message on the first element, e.g. the colours measured
}

// CheckA11y runs axe-core on the page open in tab and fails the test on
// every violation of impact serious or critical, listing the elements;
// lesser ones are logged. The script is evaluated through DevTools, which a
// page's Content-Security-Policy (script-src 'self') does not govern, so
// the pages need no exception for it.
func CheckA11y(t *testing.T, tab context.Context) []A11yViolation {
	t.Helper()
	if !Value(t, tab, "load axe-core", chromedp.Evaluate[bool](`typeof window.axe === "object"`)) {
		Step(t, tab, "load axe-core", chromedp.Evaluate[chromedp.Void](axeSource+"\n;undefined"))
	}
	tags := `["` + strings.Join(A11yTags, `","`) + `"]`
	vs := Value(t, tab, "run axe-core", chromedp.Evaluate[[]A11yViolation](`axe.run(document, {
		runOnly: {type: "tag", values: `+tags+`},
		resultTypes: ["violations"],
	}).then(r => r.violations.map(v => ({
		id: v.id, impact: v.impact || "", help: v.help,
		targets: v.nodes.map(n => n.target.join(" ")),
		detail: ((v.nodes[0] || {}).any || []).concat((v.nodes[0] || {}).all || []).map(c => c.message).join("; "),
	})))`, chromedp.EvalAwaitPromise))
	where := Value(t, tab, "the location", chromedp.Location())
	for _, v := range vs {
		msg := fmt.Sprintf("accessibility (axe %s) on %s: %s [%s]: %s; %d element(s): %s (%s)",
			A11yTags, where, v.ID, v.Impact, v.Help, len(v.Targets), strings.Join(v.Targets, ", "), v.Detail)
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Error(msg)
		} else {
			t.Log(msg)
		}
	}
	return vs
}
