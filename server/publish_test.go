package server_test

// End-to-end tests of publishing by git push: the real git client against
// a portal listening on a real port, as a writer uses it.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orbitask/portal/app"
	"github.com/orbitask/portal/gitrepo"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/internal/testportal"
	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/publish"
	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/staff"
)

const writerEmail = "ana@example.com"

// pubPortal is a portal serving a small knowledge base over HTTP, with a
// writer and her token.
type pubPortal struct {
	t     *testing.T
	app   *app.App
	base  string
	token string
	data  string
	git   gitEnv
}

type gitEnv struct {
	t   *testing.T
	env []string
}

func newGitEnv(t *testing.T) gitEnv {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("git is not installed; CI must have it")
		}
		t.Skip("git is not installed")
	}
	home := t.TempDir()
	return gitEnv{t: t, env: append(os.Environ(), "HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Ana Writer", "GIT_AUTHOR_EMAIL="+writerEmail, "GIT_COMMITTER_NAME=Ana Writer", "GIT_COMMITTER_EMAIL="+writerEmail)}
}

// run runs git in dir and returns its combined output and error.
func (g gitEnv) run(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = dir, g.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// must runs git and fails the test if it fails.
func (g gitEnv) must(dir string, args ...string) string {
	g.t.Helper()
	out, err := g.run(dir, args...)
	if err != nil {
		g.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func baseContent() map[string]string {
	return map[string]string{
		"en/vpn.md":      "---\ntitle: Connect to the VPN\n---\nOpen the client and sign in. See [passwords](reset.md).\n",
		"en/reset.md":    "---\ntitle: Reset your password\n---\nUse the reset link in the sign-in page.\n",
		"en/printing.md": "---\ntitle: Printing labels\n---\nThe label printer needs the quokkaroo driver.\n",
	}
}

func startPub(t *testing.T, content map[string]string, data string, pc publish.Config) *pubPortal {
	t.Helper()
	g := newGitEnv(t)
	dir := t.TempDir()
	writeFiles(t, dir, content)
	if data == "" {
		data = t.TempDir()
	}
	a, err := app.Open(app.Config{Data: data, Content: dir, FeedInterval: testportal.FeedInterval, Live: server.LiveEncoders,
		HashMemoryKiB: 64, HashTime: 1, Publish: pc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	srv, err := server.New(server.Config{RateLimits: httpkit.RateLimits{Off: true}, GitWebhookSecret: "s3cret"}, a)
	if err != nil {
		t.Fatal(err)
	}
	p := &pubPortal{t: t, app: a, base: "http://" + testportal.Serve(t, srv), data: data, git: g}
	ctx := context.Background()
	if _, err := a.Staff.UserByEmail(ctx, writerEmail); err != nil {
		if _, _, err := a.Staff.AddUser(ctx, writerEmail, "Ana Writer", staff.RoleWriter, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if p.token, err = a.Staff.CreateToken(ctx, writerEmail, "laptop", "test"); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *pubPortal) remote() string {
	u, _ := url.Parse(p.base + "/content.git")
	u.User = url.UserPassword(writerEmail, p.token)
	return u.String()
}

func (p *pubPortal) clone() string {
	p.t.Helper()
	dir := filepath.Join(p.t.TempDir(), "kb")
	p.git.must(filepath.Dir(dir), "clone", "-q", p.remote(), dir)
	return dir
}

// hits returns the ids the search API finds for q.
func (p *pubPortal) hits(q string) []string {
	p.t.Helper()
	res, err := http.Get(p.base + "/api/search?lang=en&q=" + url.QueryEscape(q))
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		p.t.Fatalf("search %q: status %d", q, res.StatusCode)
	}
	var out struct {
		Hits []struct{ ID string } `json:"hits"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		p.t.Fatal(err)
	}
	var ids []string
	for _, h := range out.Hits {
		ids = append(ids, h.ID)
	}
	return ids
}

func (p *pubPortal) get(path string) (*http.Response, string) {
	p.t.Helper()
	c := http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(p.base + path)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func (p *pubPortal) head() string {
	p.t.Helper()
	h, err := p.app.Repo.Head(context.Background())
	if err != nil {
		p.t.Fatal(err)
	}
	return h
}

// A writer clones, edits, commits and pushes; when git push returns the
// change is searchable and on the article's page.
func TestPushPublishesAtOnce(t *testing.T) {
	p := startPub(t, baseContent(), "", publish.Config{})
	clone := p.clone()
	writeFiles(t, clone, map[string]string{"en/vpn.md": "---\ntitle: Connect to the VPN\n---\nOpen the client, pick the zebracorn gateway and sign in.\n"})
	p.git.must(clone, "commit", "-qam", "Name the gateway")
	out := p.git.must(clone, "push", "origin", "main")
	if !strings.Contains(out, "remote: main: checked 3 articles: 1 added or changed, 0 removed") {
		t.Errorf("push output lacks the summary:\n%s", out)
	}
	// No waiting: the push returns once published.
	if ids := p.hits("zebracorn"); len(ids) != 1 || ids[0] != "en/vpn" {
		t.Fatalf("search for the new word right after the push: %v, want [en/vpn]", ids)
	}
	if _, body := p.get("/kb/en/vpn"); !strings.Contains(body, "zebracorn gateway") {
		t.Error("the article page does not show the pushed text")
	}
	if got, want := p.app.Publisher.Live(), p.head(); got != want {
		t.Errorf("live commit %s, main %s", got, want)
	}
	p.wantAudit("content pushed", "main ")
}

// wantAudit wants the newest audit entry to be action by the writer, its
// subject starting with subject.
func (p *pubPortal) wantAudit(action, subject string) {
	p.t.Helper()
	entries, err := p.app.Staff.Audit(context.Background(), 1)
	if err != nil {
		p.t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Action != action || entries[0].Actor != writerEmail || !strings.HasPrefix(entries[0].Subject, subject) || !strings.Contains(entries[0].Subject, "→") {
		p.t.Errorf("newest audit entry %+v, want %q by %s on %q…", entries, action, writerEmail, subject)
	}
}

// A push whose tree has problems is refused with every problem, as
// `portal check` lists them, each as "remote: path:line: message", and
// nothing of it is published.
func TestPushWithProblemsRefusedWithEveryProblem(t *testing.T) {
	p := startPub(t, baseContent(), "", publish.Config{})
	before := p.head()
	clone := p.clone()
	writeFiles(t, clone, map[string]string{
		"en/vpn.md":  "---\ntitle: Connect to the VPN\n---\nThe platypod client.\n\n![Client](images/client.png)\n",
		"en/new.md":  "---\ndescription: no title here\n---\nSee [the guide](missing.md) about platypod.\n",
		"en/dup.md":  "---\ntitle: Another reset\nslug: reset\n---\nDuplicate.\n",
		"en/bad.md":  "---\ntitle: [unclosed\n---\nBody.\n",
		"en/lang.md": "---\ntitle: Language\nlang: xx\n---\nBody.\n",
	})
	p.git.must(clone, "add", "-A")
	p.git.must(clone, "commit", "-qm", "Broken")
	out, err := p.git.run(clone, "push", "origin", "main")
	if err == nil {
		t.Fatalf("push with problems accepted:\n%s", out)
	}
	k, err := kb.Load(clone)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Problems) < 5 {
		t.Fatalf("portal check found %d problems, want at least 5: %v", len(k.Problems), k.Problems)
	}
	// git pads each remote line with spaces (to clear the terminal line).
	lines := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		lines[strings.TrimRight(l, " ")] = true
	}
	for _, pr := range k.Problems {
		if line := "remote: " + pr.String(); !lines[line] {
			t.Errorf("push output lacks the line %q\n%s", line, out)
		}
	}
	if !strings.Contains(out, "remote: push refused: nothing was published") || !strings.Contains(out, "[remote rejected] main -> main") {
		t.Errorf("push output does not say it was refused:\n%s", out)
	}
	if p.head() != before || p.app.Publisher.Live() != before {
		t.Error("a refused push moved main or the live commit")
	}
	if ids := p.hits("platypod"); len(ids) != 0 {
		t.Errorf("refused content is searchable: %v", ids)
	}
	p.wantAudit("content push refused", "main ")
	// The quarantine is gone: the refused objects were never stored.
	if _, err := p.app.Repo.Tree(context.Background(), strings.TrimSpace(p.git.must(clone, "rev-parse", "HEAD"))); err == nil {
		t.Error("the refused commit is in the portal's repository")
	}
}

// Renaming a file keeps its old URL working, as a redirect, also after a
// restart; deleting a file takes the article out of search and the site.
func TestRenameRedirectsAndDeleteRemoves(t *testing.T) {
	data := t.TempDir()
	p := startPub(t, baseContent(), data, publish.Config{})
	clone := p.clone()
	p.git.must(clone, "mv", "en/reset.md", "en/reset-password.md")
	p.git.must(clone, "rm", "-q", "en/printing.md")
	// vpn.md links to reset.md: the rename must update the link too, or
	// the push is refused for a broken link.
	writeFiles(t, clone, map[string]string{"en/vpn.md": "---\ntitle: Connect to the VPN\n---\nOpen the client and sign in. See [passwords](reset-password.md).\n"})
	p.git.must(clone, "commit", "-qam", "Rename and delete")
	p.git.must(clone, "push", "origin", "main")

	check := func(p *pubPortal) {
		t.Helper()
		res, _ := p.get("/kb/en/reset")
		if res.StatusCode/100 != 3 || res.Header.Get("Location") != "/kb/en/reset-password" {
			t.Errorf("old URL: status %d, Location %q; want a redirect to /kb/en/reset-password", res.StatusCode, res.Header.Get("Location"))
		}
		if res, _ := p.get("/kb/en/reset-password"); res.StatusCode != http.StatusOK {
			t.Errorf("new URL: status %d", res.StatusCode)
		}
		if ids := p.hits("quokkaroo"); len(ids) != 0 {
			t.Errorf("deleted article still found: %v", ids)
		}
		if res, _ := p.get("/kb/en/printing"); res.StatusCode != http.StatusNotFound {
			t.Errorf("deleted article: status %d, want 404", res.StatusCode)
		}
	}
	check(p)
	p.app.Close()
	check(startPub(t, baseContent(), data, publish.Config{}))
}

// A force push that rewrites published history is refused unless the
// operator allows it.
func TestForcePushRefused(t *testing.T) {
	p := startPub(t, baseContent(), "", publish.Config{})
	clone := p.clone()
	writeFiles(t, clone, map[string]string{"en/extra.md": "---\ntitle: Extra\n---\nExtra.\n"})
	p.git.must(clone, "add", "-A")
	p.git.must(clone, "commit", "-qm", "Extra")
	p.git.must(clone, "push", "-q", "origin", "main")
	p.git.must(clone, "reset", "-q", "--hard", "HEAD~1")
	writeFiles(t, clone, map[string]string{"en/other.md": "---\ntitle: Other\n---\nOther.\n"})
	p.git.must(clone, "add", "-A")
	p.git.must(clone, "commit", "-qm", "Other")
	out, err := p.git.run(clone, "push", "--force", "origin", "main")
	if err == nil || !strings.Contains(out, "remote: main: a force push would rewrite published history") {
		t.Fatalf("force push: err %v\n%s", err, out)
	}
	if _, err := p.git.run(clone, "push", "origin", "--delete", "main"); err == nil {
		t.Error("deleting main was accepted")
	}
	if _, err := p.git.run(clone, "push", "origin", "HEAD:refs/heads/feature"); err == nil {
		t.Error("a push to an unpublished branch name was accepted")
	}
}

// Searches running while a push changes 1,000 articles never fail, and
// every answer comes from one knowledge base: before or after.
func TestSearchesDuringLargePush(t *testing.T) {
	if testing.Short() {
		t.Skip("large push")
	}
	content := map[string]string{}
	for i := 0; i < 1200; i++ {
		content[fmt.Sprintf("en/a%04d.md", i)] = fmt.Sprintf("---\ntitle: Printer model %d\n---\nThe printer model %d prints labels.\n", i, i)
	}
	p := startPub(t, content, "", publish.Config{})
	clone := p.clone()
	for i := 0; i < 1000; i++ {
		writeFiles(t, clone, map[string]string{fmt.Sprintf("en/a%04d.md", i): fmt.Sprintf("---\ntitle: Printer model %d\n---\nThe printer model %d prints labels and wombatish receipts.\n", i, i)})
	}
	p.git.must(clone, "commit", "-qam", "Receipts")
	var failed, done atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := http.Get(p.base + "/api/search?lang=en&q=printer+labels")
				if err != nil || res.StatusCode != http.StatusOK {
					failed.Add(1)
				}
				if res != nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				done.Add(1)
			}
		}()
	}
	p.git.must(clone, "push", "-q", "origin", "main")
	close(stop)
	wg.Wait()
	if failed.Load() > 0 {
		t.Errorf("%d of %d searches during the push failed", failed.Load(), done.Load())
	}
	if done.Load() == 0 {
		t.Error("no search ran during the push")
	}
	if ids := p.hits("wombatish"); len(ids) == 0 {
		t.Error("the pushed word is not searchable")
	}
}

// A preview branch is checked like main and served to signed-in staff
// only; the live knowledge base and search are untouched.
func TestPreviewBranch(t *testing.T) {
	p := startPub(t, baseContent(), "", publish.Config{})
	clone := p.clone()
	p.git.must(clone, "switch", "-q", "-c", "preview/vpn")
	writeFiles(t, clone, map[string]string{"en/vpn.md": "---\ntitle: Connect to the VPN again\n---\nThe narwhalish client.\n"})
	p.git.must(clone, "commit", "-qam", "Rewrite")
	out := p.git.must(clone, "push", "origin", "preview/vpn")
	if !strings.Contains(out, "remote: preview/vpn: served to signed-in staff at /preview/vpn/") {
		t.Errorf("push output:\n%s", out)
	}
	if ids := p.hits("narwhalish"); len(ids) != 0 {
		t.Errorf("preview content is in live search: %v", ids)
	}
	if res, _ := p.get("/preview/vpn/"); res.StatusCode/100 != 3 && res.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous preview: status %d, want the sign-in", res.StatusCode)
	}
	if k, ok := p.app.Publisher.Preview("vpn"); !ok {
		t.Fatal("no preview vpn")
	} else if a, ok := k.Get("en", "vpn"); !ok || a.Title != "Connect to the VPN again" {
		t.Errorf("preview article %+v", a)
	}
	writeFiles(t, clone, map[string]string{"en/vpn.md": "---\ntitle: Broken\n---\n[x](nowhere.md)\n"})
	p.git.must(clone, "commit", "-qam", "Break")
	if out, err := p.git.run(clone, "push", "origin", "preview/vpn"); err == nil {
		t.Errorf("a preview with a broken link was accepted:\n%s", out)
	}
}

// A commit made by `portal publish` while the portal runs is published
// within the poll interval.
func TestPublishDirWhileRunning(t *testing.T) {
	p := startPub(t, baseContent(), "", publish.Config{Poll: 20 * time.Millisecond})
	dir := t.TempDir()
	c := baseContent()
	c["en/new.md"] = "---\ntitle: New article\n---\nAbout the capybarine dock.\n"
	writeFiles(t, dir, c)
	commit, problems, err := publish.PublishDir(context.Background(), p.app.Repo, dir, "Import", gitSig(), 0)
	if err != nil || len(problems) > 0 || commit == "" {
		t.Fatalf("publish dir: %q %v %v", commit, problems, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.app.Publisher.Live() != commit {
		if time.Now().After(deadline) {
			t.Fatal("the commit was not published within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ids := p.hits("capybarine"); len(ids) != 1 {
		t.Errorf("hits %v", ids)
	}
}

func gitSig() gitrepo.Signature {
	return gitrepo.Signature{Name: "Importer", Email: "import@example.com"}
}

func sign(body []byte) string {
	m := hmac.New(sha256.New, []byte("s3cret"))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func postHook(t *testing.T, base string, body []byte, header, value string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/api/hooks/git", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	if header != "" {
		req.Header.Set(header, value)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res, string(out)
}

// Content that lives on another host: its webhook, signed, publishes the
// host's branch; a bad signature is refused; a commit with problems is
// refused, shown to operators, and the live knowledge base stays.
func TestWebhook(t *testing.T) {
	g := newGitEnv(t)
	// The "host": a bare repository with a working clone.
	upstream := filepath.Join(t.TempDir(), "kb.git")
	g.must(filepath.Dir(upstream), "init", "-q", "--bare", "-b", "main", upstream)
	work := filepath.Join(t.TempDir(), "work")
	g.must(filepath.Dir(work), "clone", "-q", upstream, work)
	writeFiles(t, work, baseContent())
	g.must(work, "add", "-A")
	g.must(work, "commit", "-qm", "Start")
	g.must(work, "push", "-q", "origin", "HEAD:main")

	p := startPub(t, baseContent(), "", publish.Config{Remote: upstream, RemoteBranch: "main"})
	body := []byte(`{"ref":"refs/heads/main"}`)
	if res, _ := postHook(t, p.base, body, "X-Hub-Signature-256", "sha256=00"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("bad signature: status %d, want 401", res.StatusCode)
	}
	if res, _ := postHook(t, p.base, body, "", ""); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("no signature: status %d, want 401", res.StatusCode)
	}
	// The first fetch replaces the portal's own initial commit (the host's
	// history cannot contain it); force pushes stay refused.
	writeFiles(t, work, map[string]string{"en/hook.md": "---\ntitle: From the host\n---\nThe ocelotic sync.\n"})
	g.must(work, "add", "-A")
	g.must(work, "commit", "-qm", "Add")
	g.must(work, "push", "-q", "origin", "HEAD:main")
	if res, out := postHook(t, p.base, body, "X-Hub-Signature-256", sign(body)); res.StatusCode != http.StatusOK {
		t.Fatalf("signed webhook: status %d: %s", res.StatusCode, out)
	}
	if ids := p.hits("ocelotic"); len(ids) != 1 {
		t.Errorf("hits after the webhook: %v", ids)
	}
	live := p.app.Publisher.Live()
	writeFiles(t, work, map[string]string{"en/hook.md": "---\ntitle: From the host\n---\nThe ocelotic sync, [broken](gone.md).\n"})
	g.must(work, "commit", "-qam", "Break")
	g.must(work, "push", "-q", "origin", "HEAD:main")
	res, out := postHook(t, p.base, body, "X-Hub-Signature-256", sign(body))
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(out, "en/hook.md:4: ") {
		t.Errorf("webhook of a broken commit: status %d: %s", res.StatusCode, out)
	}
	if p.app.Publisher.Live() != live {
		t.Error("a refused webhook commit went live")
	}
	if f := p.app.Publisher.Failures(); len(f) == 0 || f[0].Source != "webhook" {
		t.Errorf("failures %+v", f)
	}
	// Once the host's history is published, a rewrite of it is refused.
	g.must(work, "reset", "-q", "--hard", "HEAD~2")
	writeFiles(t, work, map[string]string{"en/other.md": "---\ntitle: Rewritten\n---\nRewritten history.\n"})
	g.must(work, "add", "-A")
	g.must(work, "commit", "-qm", "Rewrite")
	g.must(work, "push", "-q", "--force", "origin", "HEAD:main")
	res, out = postHook(t, p.base, body, "X-Hub-Signature-256", sign(body))
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(out, "rewrite published history") {
		t.Errorf("webhook of a rewritten history: status %d: %s", res.StatusCode, out)
	}
	if p.app.Publisher.Live() != live {
		t.Error("a rewritten history went live")
	}
}

// `portal publish` while the portal is stopped, renaming an article: the
// next start applies it as a publish would, old URL redirecting.
func TestPublishDirWhileStoppedKeepsRenames(t *testing.T) {
	data := t.TempDir()
	p := startPub(t, baseContent(), data, publish.Config{})
	p.app.Close()
	repo, err := gitrepo.Open(context.Background(), gitrepo.Config{Dir: filepath.Join(data, "content.git"), Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	c := baseContent()
	c["en/reset-password.md"] = c["en/reset.md"]
	delete(c, "en/reset.md")
	c["en/vpn.md"] = "---\ntitle: Connect to the VPN\n---\nSee [passwords](reset-password.md).\n"
	dir := t.TempDir()
	writeFiles(t, dir, c)
	if _, problems, err := publish.PublishDir(context.Background(), repo, dir, "Rename", gitSig(), 0); err != nil || len(problems) > 0 {
		t.Fatalf("publish dir: %v %v", problems, err)
	}
	repo.Close()
	again := startPub(t, baseContent(), data, publish.Config{})
	res, _ := again.get("/kb/en/reset")
	if res.StatusCode/100 != 3 || res.Header.Get("Location") != "/kb/en/reset-password" {
		t.Errorf("old URL after a publish while stopped: status %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// Preview names become addresses: one plain word only.
func TestPreviewNameMustBeAWord(t *testing.T) {
	p := startPub(t, baseContent(), "", publish.Config{})
	clone := p.clone()
	for _, name := range []string{"preview/a/b", "preview/caf%C3%A9", "preview/-x"} {
		out, err := p.git.run(clone, "push", "origin", "HEAD:refs/heads/"+name)
		if err == nil || !strings.Contains(out, "a preview's name is one word") {
			t.Errorf("push to %s: err %v\n%s", name, err, out)
		}
	}
}

// A crash after git moved main but before the new knowledge base went live
// is finished by the next start: main is the source of truth.
func TestStartFinishesAnInterruptedPublish(t *testing.T) {
	data := t.TempDir()
	p := startPub(t, baseContent(), data, publish.Config{Poll: time.Hour})
	p.app.Close()
	// What a crash leaves: main moved, nothing else.
	repo, err := gitrepo.Open(context.Background(), gitrepo.Config{Dir: filepath.Join(data, "content.git"), Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := baseContent()
	c["en/printing.md"] = "---\ntitle: Printing labels\n---\nThe label printer needs the lemurine driver.\n"
	writeFiles(t, dir, c)
	head, _ := repo.Head(context.Background())
	commit, err := repo.CommitDir(context.Background(), dir, "Crash", gitSig(), head)
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.UpdateRef(context.Background(), "refs/heads/main", commit, head); err != nil {
		t.Fatal(err)
	}
	repo.Close()
	again := startPub(t, baseContent(), data, publish.Config{Poll: time.Hour})
	if again.app.Publisher.Live() != commit {
		t.Fatalf("live %s, want main's %s", again.app.Publisher.Live(), commit)
	}
	if ids := again.hits("lemurine"); len(ids) != 1 {
		t.Errorf("hits %v", ids)
	}
	if ids := again.hits("quokkaroo"); len(ids) != 0 {
		t.Errorf("old content still found: %v", ids)
	}
}

// Guessing at /content.git and at the console's sign-in draws on one
// allowance per client: no doubling by switching doors.
func TestGitAndConsoleShareTheSignInLimit(t *testing.T) {
	newGitEnv(t) // skips without git
	dir := t.TempDir()
	writeFiles(t, dir, baseContent())
	a, err := app.Open(app.Config{Data: t.TempDir(), Content: dir, HashMemoryKiB: 64, HashTime: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	srv, err := server.New(server.Config{}, a) // default limits: 20 failures, then one per 3 s
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + testportal.Serve(t, srv)
	for i := 0; i < 20; i++ {
		req, _ := http.NewRequest(http.MethodGet, base+"/content.git/info/refs?service=git-upload-pack", nil)
		req.SetBasicAuth(writerEmail, "ob_pat_wrong")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d at git: status %d, want 401", i+1, res.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/agent/queue", nil)
	req.Header.Set("Authorization", "Bearer ob_pat_wrong")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a bad API token after 20 guesses at git: status %d, want 429", res.StatusCode)
	}
}
