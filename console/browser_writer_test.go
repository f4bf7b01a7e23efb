package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/orbitask/portal/console"
	"github.com/orbitask/portal/internal/browsertest"
	"github.com/orbitask/portal/staff"
)

// signInAs signs a new staff member in through the console's pages,
// choosing a password in place of the one-time one; the tab ends on their
// home.
func signInAs(t *testing.T, tab context.Context, base string, p *portal, email, name string, role staff.Role) {
	t.Helper()
	_, otp, err := p.svc.Staff.AddUser(context.Background(), email, name, role, "test")
	if err != nil {
		t.Fatal(err)
	}
	browsertest.FirstSignIn(t, tab, base, "/agent/login", email, otp)
}

// fitsPhone checks that the page open in tab does not scroll sideways on
// a phone: only a diff may, inside its own box.
func fitsPhone(t *testing.T, tab context.Context) {
	t.Helper()
	browsertest.Step(t, tab, "a phone's viewport", chromedp.EmulateViewport(390, 800))
	defer browsertest.Step(t, tab, "reset the viewport", chromedp.EmulateReset())
	wide := browsertest.Value(t, tab, "the page's width", chromedp.Evaluate[float64](`document.documentElement.scrollWidth`))
	if wide > 390 {
		t.Errorf("at 390 px the page is %v px wide: it scrolls sideways", wide)
	}
}

// The writers' history and tokens pages in a browser: no accessibility
// violations, no sideways scrolling on a phone but inside a long diff, and
// screenshots at 1280 and 390 px.
func TestBrowserWriterPages(t *testing.T) {
	chromium := browsertest.Find(t)
	when := time.Date(2026, time.December, 2, 16, 4, 0, 0, time.UTC)
	patch := strings.Join([]string{
		"diff --git a/en/backup.md b/en/backup.md",
		"index 3f1c2aa..9b0e4d1 100644",
		"--- a/en/backup.md",
		"+++ b/en/backup.md",
		"@@ -8,7 +8,8 @@ lastmod: 2026-08-01",
		" ",
		" Back up the database and the attachments directory every night.",
		" ",
		"-Run `portal backup` from cron at 02:00.",
		"+Run `portal backup --to /srv/backups/portal-$(date +%F).tar.zst` from cron at 02:00, after the nightly export has finished and before the log rotation starts, so that nothing writes while it reads.",
		"+<script>alert('not run')</script>",
		" ",
		" ## Restore",
		" ",
	}, "\n")
	h := &historyOf{revs: map[string][]console.Revision{"en/backup.md": {
		{ID: "9b0e4d1c2a7f5e3d8b6a4c2e0f9d7b5a3c1e8f6d", Author: "Ana Writer", When: when, Subject: "Backups: the command with its target and when it runs", Patch: patch},
		{ID: "3f1c2aa8e5d7b9c1a3e5f7d9b1c3e5a7f9d1b3c5", Author: "Petr Novák", When: when.Add(-26 * time.Hour), Subject: "Back up and restore: first version",
			Patch: "diff --git a/en/backup.md b/en/backup.md\nnew file mode 100644\n--- /dev/null\n+++ b/en/backup.md\n@@ -0,0 +1,3 @@\n+---\n+title: \"Back up and restore\"\n+---"},
	}}}
	p := newPortalWithHistory(t, h.History)
	base := "http://" + p.serve(t)
	browser := browsertest.Start(t, chromium)
	tab := browsertest.OpenTab(t, browser)
	signInAs(t, tab, base, p, "wendy@orbitask.example", "Wendy Writer", staff.RoleWriter)

	browsertest.Step(t, tab, "the writers' home", chromedp.WaitVisible(chromedp.ID("howto-title")))
	browsertest.CheckA11y(t, tab)
	fitsPhone(t, tab)
	browsertest.Screenshot(t, tab, "writer-home")

	browsertest.Value(t, tab, "open the history", chromedp.WaitEvent(page.LoadEventFired, nil,
		chromedp.Click(chromedp.CSS(`a[href="/writer/articles/en/backup/history"]`))))
	browsertest.Step(t, tab, "the history", chromedp.WaitVisible(chromedp.CSS(".diff")))
	if n := browsertest.Value(t, tab, "scripts run from the diff", chromedp.Evaluate[int](`document.querySelectorAll(".diff script").length`)); n != 0 {
		t.Errorf("%d script elements in the diff", n)
	}
	browsertest.CheckA11y(t, tab)
	fitsPhone(t, tab)
	browsertest.Screenshot(t, tab, "writer-history")

	// The article as its writer reads it: when it changed, who wrote it,
	// and the way back to its history.
	browsertest.Value(t, tab, "open the article", chromedp.WaitEvent(page.LoadEventFired, nil,
		chromedp.Click(chromedp.CSS(`h1 a[href="/kb/en/backup"]`))))
	meta := browsertest.Value(t, tab, "the article's meta line", chromedp.Evaluate[string](`document.querySelector(".article__meta").textContent`))
	for _, want := range []string{"Updated 2 December 2026", "Written by Ana Writer, Petr Novák and 2 others", "History (staff)"} {
		if !strings.Contains(strings.Join(strings.Fields(meta), " "), want) {
			t.Errorf("article meta %q lacks %q", meta, want)
		}
	}
	browsertest.CheckA11y(t, tab)
	fitsPhone(t, tab)
	browsertest.Screenshot(t, tab, "article-for-writer")

	browsertest.Value(t, tab, "open the tokens", chromedp.WaitEvent(page.LoadEventFired, nil,
		chromedp.Navigate(base+"/writer/tokens")))
	browsertest.Step(t, tab, "name a token", chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "work laptop"))
	browsertest.Value(t, tab, "create it", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Submit(chromedp.CSS(`input[name="name"]`))))
	browsertest.Step(t, tab, "the new token", chromedp.WaitVisible(chromedp.ID("new-title")))
	browsertest.CheckA11y(t, tab)
	fitsPhone(t, tab)
	browsertest.Screenshot(t, tab, "writer-tokens")
}
