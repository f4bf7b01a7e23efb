// Package browsertest drives a headless Chromium for the HTTP packages'
// browser tests (chromedp): it finds and starts the browser, opens tabs that
// fail the test on a JavaScript exception or a Content-Security-Policy
// violation, and runs steps with a timeout each.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	cdpkb "github.com/chromedp/chromedp/kb"
)

const (
	// TestTimeout bounds a whole browser test, start of Chromium
	// included.
	TestTimeout = 60 * time.Second
	// StepTimeout bounds one step, so that a stuck wait fails its subtest
	// and leaves time for the others.
	StepTimeout = 15 * time.Second
)

// Find returns the path of Chromium or Chrome. Without one the test
// is skipped, or fails on CI.
func Find(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	const msg = "chromium not installed; install Debian's chromium package to run browser tests"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Start starts a headless browser with a fresh profile that lives
// until the test ends, at most TestTimeout.
func Start(t *testing.T, execPath string) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), TestTimeout)
	t.Cleanup(cancel)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(cancelAlloc) // waits for the browser to exit, before the profile is removed
	browser, closeBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(closeBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start %s: %v", execPath, err)
	}
	return browser
}

// OpenTab opens a tab of browser for one subtest (with
// chromedp.WithNewBrowserContext, in a profile of its own: another person). When the subtest ends it
// closes the tab and fails the subtest if a page in it threw an exception or
// reported a Content Security Policy violation.
func OpenTab(t *testing.T, browser context.Context, opts ...chromedp.ContextOption) context.Context {
	t.Helper()
	tab, closeTab := chromedp.NewContext(browser, opts...)
	var (
		mu       sync.Mutex
		problems []string // fail the test
		notes    []string // other errors, logged to help a reader
	)
	add := func(list *[]string, format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		*list = append(*list, fmt.Sprintf(format, args...))
	}
	err := chromedp.Listen(tab, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			add(&problems, "JavaScript exception: %s", exceptionText(ev.ExceptionDetails))
		case *runtime.EventConsoleAPICalled:
			text := consoleText(ev.Args)
			if mentionsCSP(text) {
				add(&problems, "console.%s: %s", ev.Type, text)
			} else if ev.Type == runtime.ConsoleAPICalledTypeError {
				add(&notes, "console.error: %s", text)
			}
		case *cdplog.EventEntryAdded:
			if e := ev.Entry; e != nil && mentionsCSP(e.Text) {
				add(&problems, "browser log (%s): %s", e.Source, e.Text)
			} else if e != nil && e.Level == cdplog.EntryLevelError {
				add(&notes, "browser log (%s): %s %s", e.Source, e.Text, e.URL)
			}
		}
	})
	if err != nil {
		closeTab()
		t.Fatalf("open a tab: %v", err)
	}
	t.Cleanup(func() {
		closeTab()
		mu.Lock()
		defer mu.Unlock()
		for _, n := range notes {
			t.Log(n)
		}
		for _, p := range problems {
			t.Error(p)
		}
	})
	return tab
}

// PressKeys presses the keys as a keyboard does: the keyDown event carries
// the key's text, so the browser types it (or submits a form on Enter) only
// when no keydown handler prevented that. chromedp.KeyEvent sends the text
// in a separate char event, which a keydown handler cannot cancel.
func PressKeys(keys string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		for _, r := range keys {
			events := cdpkb.Encode(r)
			var down *input.DispatchKeyEventParams
			for _, e := range events {
				switch e.Type {
				case cdpkb.KeyDown:
					down = e
				case cdpkb.KeyChar:
					down.Text, down.UnmodifiedText = e.Text, e.UnmodifiedText
				}
			}
			for _, e := range events {
				if e.Type == cdpkb.KeyChar {
					continue
				}
				if _, err := cdp.Call(ctx, target, input.DispatchKeyEvent, *e); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Step runs the steps in tab, within StepTimeout, and stops the test with
// what when one fails.
func Step(t *testing.T, tab context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, StepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Value runs a in tab, within StepTimeout, and returns its value; it stops
// the test with what when a fails.
func Value[T any](t *testing.T, tab context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, StepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func mentionsCSP(s string) bool {
	return strings.Contains(strings.ToLower(s), "content security policy")
}

// consoleText joins the arguments of a console call as the console shows
// them, closely enough to search.
func consoleText(args []*runtime.RemoteObject) string {
	var parts []string
	for _, a := range args {
		switch {
		case a == nil:
		case a.Type == runtime.RemoteObjectTypeString:
			var s string
			if json.Unmarshal(a.Value, &s) == nil {
				parts = append(parts, s)
			}
		case a.Description != "":
			parts = append(parts, a.Description)
		case len(a.Value) > 0:
			parts = append(parts, string(a.Value))
		}
	}
	return strings.Join(parts, " ")
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "(no details)"
	}
	text := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		text += " " + d.Exception.Description
	}
	return fmt.Sprintf("%s (%s:%d:%d)", text, d.URL, d.LineNumber+1, d.ColumnNumber+1)
}

// FirstSignIn signs a new staff member in through the console's pages at
// base (from path, e.g. "/agent/login" or a page that asks to sign in)
// with the one-time password otp, and chooses a password in its place, as
// a new colleague does on their first day.
func FirstSignIn(t *testing.T, tab context.Context, base, path, email, otp string) {
	t.Helper()
	Step(t, tab, "sign in as "+email,
		chromedp.Navigate(base+path),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), otp),
	)
	Value(t, tab, "submit", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Submit(chromedp.ID("password"))))
	Step(t, tab, "choose a password",
		chromedp.WaitVisible(chromedp.CSS(`input[name="current_password"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="current_password"]`), otp),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "a long enough secret"),
		chromedp.SendKeys(chromedp.CSS(`input[name="confirm"]`), "a long enough secret"),
	)
	Value(t, tab, "save the password", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Submit(chromedp.CSS(`input[name="confirm"]`))))
}
