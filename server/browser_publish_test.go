package server_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/orbitask/portal/internal/browsertest"
	"github.com/orbitask/portal/publish"
	"github.com/orbitask/portal/staff"
)

// signInAs signs a new staff member in through the console's pages,
// choosing a password in place of the one-time one.
func signInAs(t *testing.T, tab context.Context, p *pubPortal, email, name string, role staff.Role) {
	t.Helper()
	_, otp, err := p.app.Staff.AddUser(context.Background(), email, name, role, "test")
	if err != nil {
		t.Fatal(err)
	}
	browsertest.FirstSignIn(t, tab, p.base, "/agent/login", email, otp)
}

// open loads path in tab and waits for the page's load event.
func open(t *testing.T, tab context.Context, base, path string) {
	t.Helper()
	browsertest.Value(t, tab, "open "+path, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Navigate(base+path)))
}

// fitsPhone checks that the page open in tab does not scroll sideways at
// 390 px: what is wider (a table, a diff) scrolls inside its own box.
func fitsPhone(t *testing.T, tab context.Context) {
	t.Helper()
	browsertest.Step(t, tab, "a phone's viewport", chromedp.EmulateViewport(390, 800))
	defer browsertest.Step(t, tab, "reset the viewport", chromedp.EmulateReset())
	where := browsertest.Value(t, tab, "the location", chromedp.Location())
	wide := browsertest.Value(t, tab, "the page's width", chromedp.Evaluate[float64](`document.documentElement.scrollWidth`))
	if wide > 390 {
		t.Errorf("%s: at 390 px the page is %v px wide: it scrolls sideways", where, wide)
	}
}

// check runs the checks every page gets: axe-core at the browser's width
// and a phone's, the phone's width, and the screenshots.
func check(t *testing.T, tab context.Context, name string) {
	t.Helper()
	browsertest.CheckA11y(t, tab)
	fitsPhone(t, tab)
	// axe again on a phone: what scrolls in its own box only there
	// (a wide table) must be reachable by keyboard.
	browsertest.Step(t, tab, "a phone's viewport", chromedp.EmulateViewport(390, 800))
	browsertest.CheckA11y(t, tab)
	browsertest.Step(t, tab, "reset the viewport", chromedp.EmulateReset())
	browsertest.Screenshot(t, tab, name)
}

// wideImage is an SVG much wider than a phone, as a screenshot is.
const wideImage = `<svg xmlns="http://www.w3.org/2000/svg" width="1600" height="400" viewBox="0 0 1600 400"><rect width="1600" height="400" fill="#dbe4ff"/><rect x="40" y="40" width="600" height="320" rx="16" fill="#2456d6"/><text x="700" y="220" font-size="64" font-family="sans-serif" fill="#17203a">VPN client: gateways</text></svg>`

// previewVPN is en/vpn.md as the preview branch has it: every kind of
// block an article has.
const previewVPN = "---\ntitle: Connect to the VPN\ndescription: Sign in to the company network from home or on the road.\n---\n" +
	"The narwhalish client connects you in three steps. Forgot it? See [passwords](reset.md).\n\n" +
	"## Install the client\n\nRun the installer for your system:\n\n" +
	"```sh\nsudo apt-get install --no-install-recommends narwhal-vpn-client=4.2.1-1 && narwhal-vpn --configure --gateway vpn-eu-west-1.orbitask.example --profile /etc/narwhal/profiles/company.toml\n```\n\n" +
	"Then open it: `narwhal-vpn --ui`.\n\n" +
	"![The client's gateways](images/gateways.svg)\n\n" +
	"## Pick a gateway\n\n" +
	"| Gateway | Region | Address | Port | Protocol | Use it when |\n|---|---|---|---|---|---|\n" +
	"| eu-west-1 | Dublin | vpn-eu-west-1.orbitask.example | 51820 | WireGuard | you are in Europe |\n" +
	"| us-east-2 | Ohio | vpn-us-east-2.orbitask.example | 51820 | WireGuard | you are in the Americas |\n" +
	"| ap-south-1 | Mumbai | vpn-ap-south-1.orbitask.example | 443 | OpenVPN over TCP | a firewall blocks UDP |\n\n" +
	"### On a hotel network\n\n> Hotels often block UDP: choose the port 443 gateway.\n\n" +
	"1. Open the client.\n2. Choose **ap-south-1**.\n3. Sign in.\n"

// The publishing pages in a browser, on the whole portal: a writer's
// preview of a pushed branch and one of its articles, an agent's view of
// the same preview, the operators' publishing section with a refused
// webhook commit, and a customer's article with who wrote it and when.
// axe-core on each, no sideways scrolling at 390 px, screenshots at 1280
// and 390 px.
func TestBrowserPublishing(t *testing.T) {
	chromium := browsertest.Find(t)
	g := newGitEnv(t)
	// The "host" a webhook fetches from, holding a commit with a broken
	// link: its webhook is refused and listed for operators.
	upstream := filepath.Join(t.TempDir(), "kb.git")
	g.must(filepath.Dir(upstream), "init", "-q", "--bare", "-b", "main", upstream)
	work := filepath.Join(t.TempDir(), "work")
	g.must(filepath.Dir(work), "clone", "-q", upstream, work)
	broken := baseContent()
	broken["en/hook.md"] = "---\ntitle: From the host\n---\nThe ocelotic sync, [broken](gone.md).\n"
	writeFiles(t, work, broken)
	g.must(work, "add", "-A")
	g.must(work, "commit", "-qm", "Broken link")
	g.must(work, "push", "-q", "origin", "HEAD:main")

	p := startPub(t, baseContent(), "", publish.Config{Remote: upstream, RemoteBranch: "main", AllowForcePush: true})
	live := p.app.Publisher.Live()
	if _, err := p.app.Publisher.FetchAndPublish(context.Background()); err == nil {
		t.Fatal("the host's broken commit was published")
	}
	if p.app.Publisher.Live() != live {
		t.Fatal("a refused fetch changed the live commit")
	}

	// A change published on main, so that the article has a writer, then
	// the preview branch.
	clone := p.clone()
	writeFiles(t, clone, map[string]string{"en/vpn.md": "---\ntitle: Connect to the VPN\n---\nOpen the client and sign in with your badge. See [passwords](reset.md).\n"})
	p.git.must(clone, "commit", "-qam", "VPN: the badge")
	p.git.must(clone, "push", "-q", "origin", "main")
	p.git.must(clone, "switch", "-q", "-c", "preview/vpn")
	writeFiles(t, clone, map[string]string{"en/vpn.md": previewVPN, "en/images/gateways.svg": wideImage})
	p.git.must(clone, "add", "-A")
	p.git.must(clone, "commit", "-qm", "VPN: rewrite")
	p.git.must(clone, "push", "-q", "origin", "preview/vpn")

	// Anonymous: sent to the sign-in, for the list and for an article.
	for _, path := range []string{"/preview/vpn/", "/preview/vpn/kb/en/vpn"} {
		res, _ := p.get(path)
		if loc := res.Header.Get("Location"); res.StatusCode/100 != 3 || !strings.HasPrefix(loc, "/agent/login") {
			t.Errorf("anonymous %s: status %d, Location %q; want the sign-in", path, res.StatusCode, loc)
		}
	}

	browser := browsertest.Start(t, chromium)

	t.Run("writer", func(t *testing.T) {
		tab := browsertest.OpenTab(t, browser, chromedp.WithNewBrowserContext())
		signInAs(t, tab, p, "wendy@orbitask.example", "Wendy Writer", staff.RoleWriter)

		open(t, tab, p.base, "/preview/vpn/")
		changed := browsertest.Value(t, tab, "the changed articles", chromedp.Evaluate[[]string](
			`[...document.querySelectorAll('section[aria-labelledby="changed-title"] li a')].map(a => a.getAttribute("href"))`))
		if len(changed) != 1 || changed[0] != "/preview/vpn/kb/en/vpn" {
			t.Errorf("changed in the preview: %q, want [/preview/vpn/kb/en/vpn]", changed)
		}
		check(t, tab, "preview-list")

		browsertest.Value(t, tab, "open the changed article", chromedp.WaitEvent(page.LoadEventFired, nil,
			chromedp.Click(chromedp.CSS(`a[href="/preview/vpn/kb/en/vpn"]`))))
		text := browsertest.Value(t, tab, "the article's text", chromedp.Evaluate[string](`document.querySelector("article").innerText`))
		if !strings.Contains(text, "narwhalish") || strings.Contains(text, "badge") {
			t.Errorf("the preview article does not show the branch's text:\n%s", text)
		}
		links := browsertest.Value(t, tab, "the article's links", chromedp.Evaluate[[]string](
			`[...document.querySelectorAll("article a[href], article img[src]")].map(e => e.getAttribute("href") || e.getAttribute("src"))`))
		var sawReset, sawImage bool
		for _, l := range links {
			if strings.HasPrefix(l, "/") && !strings.HasPrefix(l, "/preview/vpn/") {
				t.Errorf("a link of the preview article leaves the preview: %s", l)
			}
			sawReset = sawReset || l == "/preview/vpn/kb/en/reset"
			sawImage = sawImage || l == "/preview/vpn/kb/en/vpn/images/gateways.svg"
		}
		if !sawReset || !sawImage {
			t.Errorf("links %q: want the reset article and the image inside the preview", links)
		}
		if w := browsertest.Value(t, tab, "the image's width", chromedp.Evaluate[float64](`document.querySelector("article img").naturalWidth`)); w == 0 {
			t.Error("the preview's image did not load")
		}
		check(t, tab, "preview-article")

		browsertest.Value(t, tab, "follow the link to the reset article", chromedp.WaitEvent(page.LoadEventFired, nil,
			chromedp.Click(chromedp.CSS(`a[href="/preview/vpn/kb/en/reset"]`))))
		if h := browsertest.Value(t, tab, "the heading", chromedp.Evaluate[string](`document.querySelector("article h1").textContent`)); h != "Reset your password" {
			t.Errorf("after the link: heading %q", h)
		}

		// The customer's page of the same article: the live text, when it
		// changed and who wrote it. Provenance is computed in the
		// background shortly after a publish: wait for it.
		var meta string
		for deadline := time.Now().Add(10 * time.Second); ; {
			open(t, tab, p.base, "/kb/en/vpn")
			meta = strings.Join(strings.Fields(browsertest.Value(t, tab, "the article's meta line",
				chromedp.Evaluate[string](`document.querySelector(".article__meta").textContent`))), " ")
			if strings.Contains(meta, "Written by") || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if !strings.Contains(meta, "Updated ") || !strings.Contains(meta, "Written by") || !strings.Contains(meta, "Ana Writer") {
			t.Errorf("article meta %q: want Updated and Written by … Ana Writer", meta)
		}
		text = browsertest.Value(t, tab, "the live text", chromedp.Evaluate[string](`document.querySelector("article").innerText`))
		if !strings.Contains(text, "badge") || strings.Contains(text, "narwhalish") {
			t.Errorf("the customer's article is not the live text:\n%s", text)
		}
		check(t, tab, "article-provenance")
	})

	t.Run("agent", func(t *testing.T) {
		tab := browsertest.OpenTab(t, browser, chromedp.WithNewBrowserContext())
		signInAs(t, tab, p, "alex@orbitask.example", "Alex Agent", staff.RoleAgent)
		open(t, tab, p.base, "/preview/vpn/kb/en/vpn")
		text := browsertest.Value(t, tab, "the article's text", chromedp.Evaluate[string](`document.querySelector("article").innerText`))
		if !strings.Contains(text, "narwhalish") {
			t.Errorf("an agent does not see the preview:\n%s", text)
		}
		fitsPhone(t, tab)
	})

	t.Run("operator", func(t *testing.T) {
		tab := browsertest.OpenTab(t, browser, chromedp.WithNewBrowserContext())
		signInAs(t, tab, p, "olga@orbitask.example", "Olga Operator", staff.RoleOperator)
		open(t, tab, p.base, "/operator")
		section := browsertest.Value(t, tab, "the publishing section", chromedp.Evaluate[string](
			`document.querySelector('section[aria-labelledby="publish-title"]').innerText`))
		for _, want := range []string{p.app.Publisher.Live()[:12], "vpn", "not published", "en/hook.md:4"} {
			if !strings.Contains(section, want) {
				t.Errorf("the publishing section lacks %q:\n%s", want, section)
			}
		}
		if n := browsertest.Value(t, tab, "the preview's link", chromedp.Evaluate[int](`document.querySelectorAll('a[href="/preview/vpn/"]').length`)); n != 1 {
			t.Errorf("%d links to the preview", n)
		}
		check(t, tab, "operator-publishing")
	})

}
