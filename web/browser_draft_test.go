package web

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
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
			tab := browsertest.OpenTab(t, browser, chromedp.WithNewBrowserContext())
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

	// A draft that several bundled articles may answer.
	const subject = "Backup fails and I cannot log in"
	const description = "The nightly backup is slow and the restore fails. After that I cannot log in, and the password reset e-mail never arrives."
	typeDraft := func(t *testing.T, tab context.Context) {
		t.Helper()
		browsertest.Step(t, tab, "type the draft",
			chromedp.WaitReady(chromedp.ID("subject")),
			chromedp.SendKeys(chromedp.ID("subject"), subject),
			chromedp.SendKeys(chromedp.ID("description"), description),
			chromedp.Poll[chromedp.Void](`document.querySelectorAll("#suggestions .suggestion").length >= 4`),
		)
	}

	t.Run("suggestions in sight on a phone", func(t *testing.T) {
		tab := browsertest.OpenTab(t, browser, chromedp.WithNewBrowserContext())
		browsertest.Step(t, tab, "open the form at 390 px",
			chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
			chromedp.Navigate(base+"/tickets/new"),
		)
		typeDraft(t, tab)
		browsertest.Step(t, tab, "see the count under the description",
			chromedp.Poll[chromedp.Void](`document.querySelector("#suggestions-jump a") !== null`))
		screenshot(t, tab, "draft-390")
		type line struct {
			Text        string  `json:"text"`
			Count       int     `json:"count"`       // suggestions in the panel
			Gap         float64 `json:"gap"`         // from the field's bottom to the line's top, px
			InView      bool    `json:"inView"`      // the line is within the window
			PanelInView bool    `json:"panelInView"` // the panel's title is within the window
		}
		read := func(what string) line {
			return browsertest.Value(t, tab, what, chromedp.Evaluate[line](`(() => {
				const field = document.getElementById("description").getBoundingClientRect();
				const jump = document.getElementById("suggestions-jump");
				const r = jump.getBoundingClientRect();
				const title = document.getElementById("suggestions-title").getBoundingClientRect();
				return {
					text: jump.textContent,
					count: document.querySelectorAll("#suggestions .suggestion").length,
					gap: r.top - field.bottom,
					inView: r.height > 0 && r.top >= 0 && r.bottom <= innerHeight,
					panelInView: title.top >= 0 && title.bottom <= innerHeight,
				};
			})()`))
		}
		got := read("read the line")
		if got.Text != itoa(got.Count)+" articles may answer this ↓" {
			t.Errorf("line under the field = %q with %d suggestions", got.Text, got.Count)
		}
		if got.Gap < 0 || got.Gap > 16 || !got.InView {
			t.Errorf("line is %.0f px under the field, in view %v; want right under it, in sight", got.Gap, got.InView)
		}
		if got.PanelInView {
			t.Fatal("the suggestions are in sight already: the test proves nothing")
		}
		if live := browsertest.Value(t, tab, "aria-live", chromedp.AttributeValue(chromedp.ID("suggestions-jump"), "aria-live")); live.Value != "polite" {
			t.Errorf("aria-live = %q, want polite", live.Value)
		}

		// Another draft, one article: the line follows, in the singular.
		browsertest.Step(t, tab, "change the draft",
			chromedp.Evaluate[chromedp.Void](`document.getElementById("subject").value = ""; document.getElementById("description").value = ""`),
			chromedp.SendKeys(chromedp.ID("description"), "webhook"),
			chromedp.Poll[chromedp.Void](`document.querySelectorAll("#suggestions .suggestion").length === 1`),
		)
		if got := read("read the line again"); got.Text != "1 article may answer this ↓" {
			t.Errorf("with one suggestion the line says %q", got.Text)
		}

		browsertest.Step(t, tab, "follow the line",
			chromedp.Click(chromedp.CSS("#suggestions-jump a")),
			chromedp.Poll[chromedp.Void](`(() => {
				const r = document.getElementById("suggestions-title").getBoundingClientRect();
				return r.top >= 0 && r.bottom <= innerHeight;
			})()`),
		)
		screenshot(t, tab, "draft-390-followed")
	})

	t.Run("all suggestions without an inner scrollbar on a desktop", func(t *testing.T) {
		tab := browsertest.OpenTab(t, browser, chromedp.WithNewBrowserContext())
		browsertest.Step(t, tab, "open the form at 1280 px",
			chromedp.EmulateViewport(1280, 900),
			chromedp.Navigate(base+"/tickets/new"),
		)
		typeDraft(t, tab)
		screenshot(t, tab, "draft-1280")
		type panel struct {
			Count        int  `json:"count"`
			Scroll       int  `json:"scroll"`
			Client       int  `json:"client"`
			JumpShown    bool `json:"jumpShown"`
			LastReadable bool `json:"lastReadable"` // the last suggestion's button is not clipped by the panel
		}
		got := browsertest.Value(t, tab, "measure the panel", chromedp.Evaluate[panel](`(() => {
			const p = document.getElementById("suggestions-panel");
			const items = document.querySelectorAll("#suggestions .suggestion");
			const last = items[items.length - 1].querySelector("button").getBoundingClientRect();
			const box = p.getBoundingClientRect();
			return {
				count: items.length,
				scroll: p.scrollHeight,
				client: p.clientHeight,
				jumpShown: document.getElementById("suggestions-jump").getClientRects().length > 0,
				lastReadable: last.bottom <= box.bottom,
			};
		})()`))
		if got.Scroll > got.Client || !got.LastReadable {
			t.Errorf("panel with %d suggestions: scrollHeight %d > clientHeight %d, last one inside %v; want no inner scrolling",
				got.Count, got.Scroll, got.Client, got.LastReadable)
		}
		if got.JumpShown {
			t.Error("the phone's line under the field shows on a desktop")
		}
	})

	// fileTicket types a draft, continues, fills in the contact details
	// (checking "remember" when asked) and sends the form with its button,
	// as a person does: the script's submit handler runs.
	fileTicket := func(t *testing.T, tab context.Context, remember bool) {
		t.Helper()
		browsertest.Step(t, tab, "open the form",
			chromedp.EmulateViewport(1280, 900),
			chromedp.Navigate(base+"/tickets/new"),
			chromedp.WaitVisible(chromedp.ID("continue")),
			chromedp.SendKeys(chromedp.ID("subject"), "Export fails"),
			chromedp.SendKeys(chromedp.ID("description"), "The CSV export stops at 50%."),
			chromedp.Click(chromedp.ID("continue")),
			chromedp.WaitVisible(chromedp.ID("remember-contact")),
			chromedp.SendKeys(chromedp.ID("name"), "Jana Novak"),
			chromedp.SendKeys(chromedp.ID("company"), "Acme Ltd"),
			chromedp.SendKeys(chromedp.ID("phone"), "+420 601 555 010"),
			chromedp.SendKeys(chromedp.ID("email"), "jana@acme.example"),
			chromedp.Click(chromedp.ID("severity-3")),
		)
		if remember {
			browsertest.Step(t, tab, "check remember", chromedp.Click(chromedp.ID("remember-contact")))
		}
		browsertest.Value(t, tab, "send the ticket", chromedp.WaitEvent(page.LoadEventFired, nil,
			chromedp.Click(chromedp.CSS(`#ticket-details button[type="submit"]`))))
		if loc := browsertest.Value(t, tab, "the location", chromedp.Location()); !strings.Contains(loc, "token=") {
			t.Fatalf("after sending the browser is at %s, want the ticket's page", loc)
		}
	}
	type contact struct {
		Stored  string   `json:"stored"` // localStorage, "" for nothing
		Fields  []string `json:"fields"` // name, company, phone, e-mail
		Checked bool     `json:"checked"`
		Forget  bool     `json:"forget"` // "Forget them" shows
		Status  string   `json:"status"`
	}
	readContact := func(t *testing.T, tab context.Context) contact {
		t.Helper()
		return browsertest.Value(t, tab, "read the contact details", chromedp.Evaluate[contact](`({
			stored: localStorage.getItem("orbitask.contact") || "",
			fields: ["name", "company", "phone", "email"].map(id => document.getElementById(id).value),
			checked: document.getElementById("remember-contact").checked,
			forget: document.getElementById("forget-contact").getClientRects().length > 0,
			status: document.getElementById("remember-status").textContent,
		})`))
	}
	openAgain := func(t *testing.T, tab context.Context) {
		t.Helper()
		browsertest.Step(t, tab, "open the form again",
			chromedp.Navigate(base+"/tickets/new"),
			chromedp.WaitVisible(chromedp.ID("continue")),
			chromedp.Click(chromedp.ID("continue")),
			chromedp.WaitVisible(chromedp.ID("remember-contact")),
		)
	}
	filled := []string{"Jana Novak", "Acme Ltd", "+420 601 555 010", "jana@acme.example"}

	t.Run("remember contact details", func(t *testing.T) {
		tab := browsertest.OpenTab(t, browser, chromedp.WithNewBrowserContext())
		fileTicket(t, tab, true)
		openAgain(t, tab)
		got := readContact(t, tab)
		if !slices.Equal(got.Fields, filled) || !got.Checked || !got.Forget || got.Stored == "" {
			t.Fatalf("the next form: %+v; want the details filled in, remember checked, a way to forget them", got)
		}
		screenshot(t, tab, "remember-1280")

		browsertest.Step(t, tab, "forget them", chromedp.Click(chromedp.ID("forget-contact")))
		got = readContact(t, tab)
		if got.Stored != "" || !slices.Equal(got.Fields, []string{"", "", "", ""}) || got.Checked || got.Forget {
			t.Errorf("after forgetting: %+v; want nothing stored, empty fields", got)
		}
		if got.Status != "Your contact details are no longer kept on this device." {
			t.Errorf("status after forgetting = %q", got.Status)
		}
		if focused := browsertest.Value(t, tab, "the focus", chromedp.Evaluate[string](`document.activeElement.id`)); focused != "remember-contact" {
			t.Errorf("after forgetting the focus is on %q, want the checkbox", focused)
		}
	})

	t.Run("contact details not remembered unless asked", func(t *testing.T) {
		tab := browsertest.OpenTab(t, browser, chromedp.WithNewBrowserContext())
		fileTicket(t, tab, false)
		if stored := browsertest.Value(t, tab, "storage", chromedp.Evaluate[string](`localStorage.getItem("orbitask.contact") || ""`)); stored != "" {
			t.Errorf("stored without being asked: %s", stored)
		}
		openAgain(t, tab)
		if got := readContact(t, tab); !slices.Equal(got.Fields, []string{"", "", "", ""}) || got.Checked || got.Forget {
			t.Errorf("the next form: %+v; want it empty, remember off", got)
		}
	})

	t.Run("form without JavaScript", func(t *testing.T) {
		tab := browsertest.OpenTab(t, browser, chromedp.WithNewBrowserContext())
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

// screenshot saves the tab's viewport as name.png, and the whole page as
// name-page.png, in the folder named by PORTAL_SCREENSHOTS, for a person to
// look at; without it, nothing.
func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PORTAL_SCREENSHOTS")
	if dir == "" {
		return
	}
	for file, shot := range map[string]chromedp.Action[[]byte]{
		name + ".png":      chromedp.CaptureScreenshot(),
		name + "-page.png": chromedp.FullScreenshot(100), // 100: PNG
	} {
		png := browsertest.Value(t, tab, "screenshot "+file, shot)
		path := filepath.Join(dir, file)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
}
