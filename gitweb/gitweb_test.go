package gitweb_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/hex"
	"io"
	"math/rand/v2"
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

	"github.com/orbitask/portal/gitrepo"
	"github.com/orbitask/portal/gitweb"
	"github.com/orbitask/portal/internal/rawhttp"
	"github.com/orbitask/portal/internal/testportal"
	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/staff"
)

type portal struct {
	host   string
	repo   *gitrepo.Repo
	tokens map[string]string // e-mail → token
}

type options struct {
	anonymous bool
	check     gitrepo.CheckFunc
	afterPush func(context.Context) error
	maxPush   int64
	limits    gitweb.Limits
}

func limits(o options) gitweb.Limits {
	l := o.limits
	if o.maxPush > 0 {
		l.MaxPush = o.maxPush
	}
	return l
}

// start runs a real portal (server.New over app.Open, on a real port) with
// the content repository at /content.git, and a writer, an agent and an
// operator, each with a token.
func start(t *testing.T, o options) *portal {
	t.Helper()
	ctx := context.Background()
	content := t.TempDir()
	writeFile(t, filepath.Join(content, "en", "reset-password.md"), "---\ntitle: Reset a forgotten password\n---\nFollow the e-mail.\n")
	a := testportal.Open(t, content, server.LiveEncoders)
	repo, err := gitrepo.Open(ctx, gitrepo.Config{Dir: filepath.Join(t.TempDir(), "content.git"), InitFrom: content})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	srv, err := server.New(server.Config{Content: &gitweb.Config{Repo: repo, AllowAnonymousClone: o.anonymous,
		Check: o.check, AfterPush: o.afterPush, Limits: limits(o)}}, a)
	if err != nil {
		t.Fatal(err)
	}
	p := &portal{host: testportal.Serve(t, srv), repo: repo, tokens: map[string]string{}}
	for email, role := range map[string]staff.Role{"writer@example.com": staff.RoleWriter, "agent@example.com": staff.RoleAgent, "op@example.com": staff.RoleOperator} {
		if _, _, err := a.Staff.AddUser(ctx, email, "Someone", role, "test"); err != nil {
			t.Fatal(err)
		}
		tok, err := a.Staff.CreateToken(ctx, email, "git", "test")
		if err != nil {
			t.Fatal(err)
		}
		p.tokens[email] = tok
	}
	return p
}

// url is /content.git with email's token as the password ("" = none).
func (p *portal) url(email string) string {
	if email == "" {
		return "http://" + p.host + "/content.git"
	}
	return "http://" + url.UserPassword(email, p.tokens[email]).String() + "@" + p.host + "/content.git"
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// git runs the real git client with no user configuration and no prompts.
func git(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "credential.helper="}, args...)...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HOME="+t.TempDir(), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "SSH_ASKPASS=",
		"GIT_AUTHOR_NAME=Writer", "GIT_AUTHOR_EMAIL=writer@example.com", "GIT_COMMITTER_NAME=Writer", "GIT_COMMITTER_EMAIL=writer@example.com")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := git(t, dir, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}

// cloneAndEdit clones as email and commits an article on top.
func cloneAndEdit(t *testing.T, p *portal, email, path, text string) string {
	t.Helper()
	work := filepath.Join(t.TempDir(), "kb")
	mustGit(t, "", "clone", "--quiet", p.url(email), work)
	writeFile(t, filepath.Join(work, path), text)
	mustGit(t, work, "add", "-A")
	mustGit(t, work, "commit", "--quiet", "-m", "edit "+path)
	return work
}

func remoteLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "remote:") {
			lines = append(lines, strings.TrimRight(l, " \r"))
		}
	}
	return lines
}

func TestCloneWithToken(t *testing.T) {
	p := start(t, options{})
	for _, email := range []string{"writer@example.com", "agent@example.com"} {
		work := filepath.Join(t.TempDir(), "kb")
		mustGit(t, "", "clone", "--quiet", p.url(email), work)
		b, err := os.ReadFile(filepath.Join(work, "en", "reset-password.md"))
		if err != nil || !strings.Contains(string(b), "Follow the e-mail.") {
			t.Fatalf("%s's clone: %q, %v", email, b, err)
		}
	}
	// The old protocol too.
	work := filepath.Join(t.TempDir(), "kb0")
	mustGit(t, "", "-c", "protocol.version=0", "clone", "--quiet", p.url("writer@example.com"), work)
}

func TestAnonymousClone(t *testing.T) {
	ctx := context.Background()
	closed := start(t, options{})
	out, err := git(t, "", "clone", "--quiet", closed.url(""), filepath.Join(t.TempDir(), "kb"))
	if err == nil || !strings.Contains(out, "Authentication failed") && !strings.Contains(out, "could not read Username") {
		t.Fatalf("anonymous clone without the setting: %v\n%s", err, out)
	}
	res := get(t, closed.host, "/content.git/info/refs?service=git-upload-pack", "")
	if res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") != `Basic realm="Orbitask knowledge base"` {
		t.Fatalf("status %d, WWW-Authenticate %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}

	open := start(t, options{anonymous: true})
	head, _ := open.repo.Head(ctx)
	draftDir := t.TempDir()
	writeFile(t, filepath.Join(draftDir, "en", "secret.md"), "not yet published")
	draft, err := open.repo.CommitDir(ctx, draftDir, "draft", gitrepo.PortalAuthor, head)
	if err != nil {
		t.Fatal(err)
	}
	if err := open.repo.UpdateRef(ctx, "refs/heads/preview/draft", draft, ""); err != nil {
		t.Fatal(err)
	}
	anon := filepath.Join(t.TempDir(), "kb")
	mustGit(t, "", "clone", "--quiet", open.url(""), anon)
	// Nor can the draft be fetched by its id.
	for _, v := range []string{"0", "2"} {
		if out, err := git(t, anon, "-c", "protocol.version="+v, "fetch", "origin", draft); err == nil {
			t.Fatalf("protocol %s: an anonymous fetch of a preview commit by id succeeded:\n%s", v, out)
		}
	}
	refs := mustGit(t, "", "ls-remote", open.url(""))
	if !strings.Contains(refs, "refs/heads/main") || strings.Contains(refs, "preview") {
		t.Fatalf("anonymous ls-remote:\n%s", refs)
	}
	// git sends credentials only when asked (401), which an open portal
	// never does for a fetch: staff who want previews send them anyway.
	basic := base64.StdEncoding.EncodeToString([]byte("writer@example.com:" + open.tokens["writer@example.com"]))
	if refs := mustGit(t, "", "-c", "http.extraHeader=Authorization: Basic "+basic, "ls-remote", open.url("")); !strings.Contains(refs, "refs/heads/preview/draft") {
		t.Fatalf("staff ls-remote:\n%s", refs)
	}
	// Pushing still needs credentials.
	res = get(t, open.host, "/content.git/info/refs?service=git-receive-pack", "")
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous push advertisement: status %d", res.StatusCode)
	}
}

func TestPushRejectedShowsProblems(t *testing.T) {
	ctx := context.Background()
	var published atomic.Bool
	p := start(t, options{
		check: func(ctx context.Context, push *gitrepo.Push) (bool, []string) {
			return false, []string{"a.md:3: first", "b.md:1: second"}
		},
		afterPush: func(context.Context) error { published.Store(true); return nil },
	})
	before, _ := p.repo.Head(ctx)
	work := cloneAndEdit(t, p, "writer@example.com", "en/new.md", "# New\n")
	out, err := git(t, work, "push", "origin", "HEAD:main")
	if err == nil {
		t.Fatalf("push accepted:\n%s", out)
	}
	if got := remoteLines(out); strings.Join(got, "\n") != "remote: a.md:3: first\nremote: b.md:1: second" {
		t.Fatalf("remote lines = %q\n%s", got, out)
	}
	if after, _ := p.repo.Head(ctx); after != before {
		t.Fatal("a rejected push moved main")
	}
	if published.Load() {
		t.Fatal("AfterPush ran for a rejected push")
	}
	if left, _ := filepath.Glob(filepath.Join(p.repo.Dir(), "objects", "tmp_objdir-*")); len(left) > 0 {
		t.Fatalf("quarantine left: %v", left)
	}
}

func TestPushAcceptedReturnsAfterPublishing(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var published, pusher string
	var p *portal
	p = start(t, options{
		check: func(ctx context.Context, push *gitrepo.Push) (bool, []string) {
			return true, []string{"1 article changed"}
		},
		afterPush: func(ctx context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			published, _ = p.repo.Head(ctx)
			u, _ := gitweb.Pusher(ctx)
			pusher = u.Email
			return nil
		},
	})
	work := cloneAndEdit(t, p, "writer@example.com", "en/new.md", "# New\n")
	out, err := git(t, work, "push", "origin", "HEAD:main")
	if err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	want := mustGit(t, work, "rev-parse", "HEAD")
	if got := remoteLines(out); len(got) != 1 || got[0] != "remote: 1 article changed" {
		t.Fatalf("remote lines = %q", got)
	}
	if head, _ := p.repo.Head(ctx); head != want {
		t.Fatalf("main = %s, want %s", head, want)
	}
	mu.Lock()
	// AfterPush ran, with the new head, before git push returned.
	if published != want || pusher != "writer@example.com" {
		t.Fatalf("AfterPush saw head %q, pusher %q", published, pusher)
	}
	mu.Unlock()

	// An operator may push too.
	work = cloneAndEdit(t, p, "op@example.com", "en/other.md", "# Other\n")
	if out, err := git(t, work, "push", "origin", "HEAD:main"); err != nil {
		t.Fatalf("operator's push: %v\n%s", err, out)
	}
}

func TestCredentialsRefused(t *testing.T) {
	p := start(t, options{check: func(context.Context, *gitrepo.Push) (bool, []string) { return true, nil }})
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	for _, c := range []struct {
		name, service, auth string
		status              int
	}{
		{"wrong token", "git-upload-pack", basic("writer@example.com", staff.TokenPrefix+"wrong"), 401},
		{"another account's token", "git-receive-pack", basic("writer@example.com", p.tokens["agent@example.com"]), 401},
		{"a password-like guess", "git-receive-pack", basic("writer@example.com", "hunter2"), 401},
		{"agent", "git-receive-pack", basic("agent@example.com", p.tokens["agent@example.com"]), 403},
		{"e-mail in another case", "git-receive-pack", basic("Writer@Example.com", p.tokens["writer@example.com"]), 200},
		{"bearer", "git-receive-pack", "Bearer " + p.tokens["op@example.com"], 200},
		{"bearer in lower case", "git-upload-pack", "bearer " + p.tokens["agent@example.com"], 200},
	} {
		res := get(t, p.host, "/content.git/info/refs?service="+c.service, c.auth)
		if res.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.name, res.StatusCode, c.status)
		}
		if c.status == 401 && res.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate", c.name)
		}
		if c.status == 200 && res.Header.Get("Content-Type") != "application/x-"+c.service+"-advertisement" {
			t.Errorf("%s: Content-Type %q", c.name, res.Header.Get("Content-Type"))
		}
	}
	// The agent's git push is refused as a whole.
	work := cloneAndEdit(t, p, "agent@example.com", "en/x.md", "x")
	if out, err := git(t, work, "push", "origin", "HEAD:main"); err == nil || !strings.Contains(out, "403") {
		t.Fatalf("agent's push: %v\n%s", err, out)
	}
	// A writer's token is no key to the agent API.
	res := get(t, p.host, "/api/agent/queue", "Bearer "+p.tokens["writer@example.com"])
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("writer's token on /api/agent/queue: status %d", res.StatusCode)
	}
}

func TestFailedCredentialsAreRateLimited(t *testing.T) {
	p := start(t, options{})
	bad := "Basic " + base64.StdEncoding.EncodeToString([]byte("writer@example.com:"+staff.TokenPrefix+"guess"))
	limited := false
	for i := 0; i < 40 && !limited; i++ { // the default burst is 20
		res := get(t, p.host, "/content.git/info/refs?service=git-upload-pack", bad)
		limited = res.StatusCode == http.StatusTooManyRequests && res.Header.Get("Retry-After") != ""
	}
	if !limited {
		t.Fatal("40 wrong tokens in a row were never limited")
	}
}

func TestOtherPathsAreNotFound(t *testing.T) {
	p := start(t, options{anonymous: true})
	conn, err := rawhttp.Dial(p.host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, path := range []string{
		"/content.git/../portal.db",
		"/content.git/HEAD",
		"/content.git/config",
		"/content.git/objects/info/packs",
		"/content.git/hooks/pre-receive",
		"/content.git/info/refs", // the dumb protocol
		"/content.git",
	} {
		status, body, err := conn.Do([]byte("GET "+path+" HTTP/1.1\r\nHost: "+p.host+"\r\n\r\n"), 5*time.Second, true)
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusNotFound {
			t.Errorf("GET %s: status %d", path, status)
		}
		if bytes.Contains(body, []byte("[core]")) || bytes.Contains(body, []byte("PORTAL_HOOK_DIR")) {
			t.Errorf("GET %s: a file of the repository was served", path)
		}
	}
}

// git compresses its larger requests; a gzip body is decoded.
func TestGzipRequest(t *testing.T) {
	ctx := context.Background()
	p := start(t, options{})
	head, _ := p.repo.Head(ctx)
	var body bytes.Buffer
	z := gzip.NewWriter(&body)
	io.WriteString(z, "0014command=ls-refs\n00010009peel\n0000")
	z.Close()
	req, _ := http.NewRequest("POST", "http://"+p.host+"/content.git/git-upload-pack", &body)
	req.Header.Set("Content-Type", "application/x-git-upload-pack-request")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Git-Protocol", "version=2")
	req.Header.Set("Authorization", "Bearer "+p.tokens["writer@example.com"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/x-git-upload-pack-result" ||
		!strings.Contains(string(b), head+" refs/heads/main") || res.Header.Get("Content-Encoding") != "" {
		t.Fatalf("status %d, %q, encoding %q: %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Encoding"), b)
	}
}

func TestPushTooLarge(t *testing.T) {
	ctx := context.Background()
	p := start(t, options{maxPush: 2048, check: func(context.Context, *gitrepo.Push) (bool, []string) { return true, nil }})
	before, _ := p.repo.Head(ctx)
	big := make([]byte, 32<<10)
	r := rand.New(rand.NewPCG(1, 2)) // random: compresses poorly
	for i := range big {
		big[i] = byte(r.Uint32())
	}
	work := cloneAndEdit(t, p, "writer@example.com", "en/big.md", hex.EncodeToString(big))
	out, err := git(t, work, "push", "origin", "HEAD:main")
	if err == nil || !strings.Contains(out, "413") {
		t.Fatalf("push over the limit: %v\n%s", err, out)
	}
	if after, _ := p.repo.Head(ctx); after != before {
		t.Fatal("a push over the limit moved main")
	}
}

func get(t *testing.T, host, path, auth string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+host+path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// A flood of git requests does not fork without bound: past MaxExchanges
// at once, a request waits QueueWait and is then told to come back (503).
func TestGitExchangesAreBounded(t *testing.T) {
	release := make(chan struct{})
	checking := make(chan struct{}, 1)
	p := start(t, options{
		check: func(ctx context.Context, push *gitrepo.Push) (bool, []string) {
			checking <- struct{}{}
			<-release
			return false, []string{"not today"}
		},
		limits: gitweb.Limits{MaxExchanges: 1, QueueWait: 200 * time.Millisecond},
	})
	work := cloneAndEdit(t, p, "writer@example.com", "en/new.md", "# New\n")
	pushed := make(chan string, 1)
	go func() {
		out, _ := git(t, work, "push", "origin", "HEAD:main")
		pushed <- out
	}()
	<-checking // the push holds the one slot
	out, err := git(t, t.TempDir(), "clone", p.url("writer@example.com"), "second")
	if err == nil || !strings.Contains(out, "503") {
		t.Errorf("clone while the one slot is taken: err %v\n%s", err, out)
	}
	close(release)
	if out := <-pushed; !strings.Contains(out, "remote: not today") {
		t.Errorf("push:\n%s", out)
	}
	if out, err := git(t, t.TempDir(), "clone", p.url("writer@example.com"), "third"); err != nil {
		t.Errorf("clone once the slot is free: %v\n%s", err, out)
	}
}
