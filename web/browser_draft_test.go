package web

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/orbitask/portal/internal/browsertest"
)

// TestBrowserDraftPage is the new-ticket page in a real Chromium at a
// desktop's and a phone's width: nothing moves after the first paint, the
// form works without JavaScript, the suggestions are in sight while the
// customer types, and contact details are remembered only when asked.
func TestBrowserDraftPage(t *testing.T) {
	chromium := browsertest.Find(t)
	base, _ := serveBundledPortal(t)
	browser := browsertest.Start(t, chromium)

	// Lighthouse calls a cumulative layout shift under 0.1 good; this page
	// has no reason to move at all. (Headless Chromium measured 0.057 when
	// the script hid the rest of the form after the first paint.)
	for _, size := range []struct {
		name          string
		width, height int64
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		t.Run("no layout shift on a "+size.name, func(t *testing.T) {
			tab := browsertest.OpenTab(t, browser)
			browsertest.Step(t, tab, "open the form",
				chromedp.EmulateViewport(size.width, size.height),
				chromedp.Navigate(base+"/tickets/new"),
				chromedp.WaitVisible(chromedp.ID("continue")),
			)
			// Every shift since the navigation (buffered), over a second
			// after the load, so that the deferred script has run.
			cls := browsertest.Value(t, tab, "measure the layout shift", chromedp.Evaluate[float64](`new Promise(resolve => {
				let total = 0;
				new PerformanceObserver(list => {
					for (const e of list.getEntries()) {
						if (!e.hadRecentInput) total += e.value;
					}
				}).observe({type: "layout-shift", buffered: true});
				setTimeout(() => resolve(total), 1000);
			})`, chromedp.EvalAwaitPromise))
			if cls >= 0.01 {
				t.Errorf("cumulative layout shift = %.3f, want none (< 0.01)", cls)
			}
			if hidden := browsertest.Value(t, tab, "the details", chromedp.Evaluate[bool](`document.getElementById("ticket-details").hidden`)); !hidden {
				t.Error("the rest of the form shows before continue")
			}
		})
	}

	t.Run("form without JavaScript", func(t *testing.T) {
		tab := browsertest.OpenTab(t, browser)
		browsertest.Step(t, tab, "turn off JavaScript", chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
			_, err := cdp.Call(ctx, target, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}))
		browsertest.Step(t, tab, "open the form",
			chromedp.Navigate(base+"/tickets/new"),
			chromedp.WaitVisible(chromedp.ID("name")),
		)
		type state struct {
			Details  bool `json:"details"`  // the contact fields and the send button show
			Continue bool `json:"continue"` // the scripted button shows
		}
		got := browsertest.Value(t, tab, "what shows", chromedp.Evaluate[state](`({
			details: document.querySelector('#ticket-details button[type="submit"]').getClientRects().length > 0,
			continue: document.getElementById("continue").getClientRects().length > 0,
		})`))
		if !got.Details || got.Continue {
			t.Errorf("without JavaScript: details shown %v, continue shown %v; want the whole form and no continue", got.Details, got.Continue)
		}
	})
}

// screenshot saves the tab's viewport as name.png in the folder named by
// PORTAL_SCREENSHOTS, for a person to look at; without it, nothing.
func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PORTAL_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := browsertest.Value(t, tab, "screenshot "+name, chromedp.CaptureScreenshot())
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
