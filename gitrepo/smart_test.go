package gitrepo_test

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orbitask/portal/gitrepo"
)

// serveSmart is the least HTTP needed to drive the real git client against
// the smart protocol (the portal's own is package gitweb).
func serveSmart(t *testing.T, r *gitrepo.Repo, check gitrepo.CheckFunc) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /c.git/info/refs", func(w http.ResponseWriter, req *http.Request) {
		svc := req.URL.Query().Get("service")
		w.Header().Set("Content-Type", "application/x-"+svc+"-advertisement")
		if err := r.AdvertiseRefs(req.Context(), svc, req.Header.Get("Git-Protocol"), w); err != nil {
			t.Errorf("advertise: %v", err)
		}
	})
	body := func(req *http.Request) io.Reader {
		if req.Header.Get("Content-Encoding") == "gzip" {
			z, err := gzip.NewReader(req.Body)
			if err != nil {
				t.Errorf("gzip: %v", err)
				return strings.NewReader("")
			}
			return z
		}
		return req.Body
	}
	mux.HandleFunc("POST /c.git/git-upload-pack", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/x-git-upload-pack-result")
		if err := r.UploadPack(req.Context(), req.Header.Get("Git-Protocol"), body(req), w); err != nil {
			t.Errorf("upload-pack: %v", err)
		}
	})
	mux.HandleFunc("POST /c.git/git-receive-pack", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/x-git-receive-pack-result")
		if err := r.ReceivePack(req.Context(), req.Header.Get("Git-Protocol"), body(req), w, check); err != nil {
			t.Errorf("receive-pack: %v", err)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/c.git"
}

// cloneAndCommit clones url and commits files on top, returning the clone.
func cloneAndCommit(t *testing.T, url string, files map[string]string) string {
	t.Helper()
	work := filepath.Join(t.TempDir(), "w")
	git(t, "", "clone", "--quiet", url, work)
	writeFiles(t, work, files)
	git(t, work, "add", "-A")
	git(t, work, "commit", "--quiet", "-m", "edit")
	return work
}

func remoteLines(stderr string) []string {
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "remote:") {
			lines = append(lines, strings.TrimRight(l, " \r"))
		}
	}
	return lines
}

func quarantineLeft(t *testing.T, r *gitrepo.Repo) []string {
	left, _ := filepath.Glob(filepath.Join(r.Dir(), "objects", "tmp_objdir-*"))
	return left
}

func TestPushRejectedWithMessages(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t, map[string]string{"a.md": "A\n"})
	before, _ := r.Head(ctx)
	var mu sync.Mutex
	var seen []gitrepo.RefUpdate
	var content string
	url := serveSmart(t, r, func(ctx context.Context, p *gitrepo.Push) (bool, []string) {
		mu.Lock()
		defer mu.Unlock()
		seen = p.Updates
		// The pushed objects are visible to the check, still in quarantine.
		tree, err := p.Repo.Tree(ctx, p.Updates[0].New)
		if err != nil {
			return false, []string{err.Error()}
		}
		b, err := tree.FS().(interface{ ReadFile(string) ([]byte, error) }).ReadFile("b.md")
		if err != nil {
			return false, []string{err.Error()}
		}
		content = string(b)
		return false, []string{"a.md:3: first", "b.md:1: second"}
	})
	work := cloneAndCommit(t, url, map[string]string{"b.md": "new article\n"})
	out, err := gitCmd(t, work, "push", "origin", "HEAD:main").CombinedOutput()
	if err == nil {
		t.Fatalf("push accepted:\n%s", out)
	}
	got := remoteLines(string(out))
	want := []string{"remote: a.md:3: first", "remote: b.md:1: second"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("remote lines = %q\nwant %q\nfull output:\n%s", got, want, out)
	}
	if !strings.Contains(string(out), "pre-receive hook declined") {
		t.Fatalf("no decline in:\n%s", out)
	}
	if after, _ := r.Head(ctx); after != before {
		t.Fatalf("main moved from %s to %s", before, after)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0].Ref != "refs/heads/main" || seen[0].Old != before || gitrepo.IsZeroID(seen[0].New) {
		t.Fatalf("updates = %+v", seen)
	}
	if content != "new article\n" {
		t.Fatalf("the check read %q", content)
	}
	if left := quarantineLeft(t, r); len(left) > 0 {
		t.Fatalf("quarantine left: %v", left)
	}
	// The rejected commit is not in the repository.
	if ok := gitCmd(t, r.Dir(), "--git-dir="+r.Dir(), "cat-file", "-e", git(t, work, "rev-parse", "HEAD")).Run(); ok == nil {
		t.Fatal("the rejected commit's objects were kept")
	}
}

func TestPushAccepted(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t, map[string]string{"a.md": "A\n"})
	url := serveSmart(t, r, func(ctx context.Context, p *gitrepo.Push) (bool, []string) {
		return true, []string{"published"}
	})
	work := cloneAndCommit(t, url, map[string]string{"b.md": "B\n"})
	out, err := gitCmd(t, work, "push", "origin", "HEAD:main").CombinedOutput()
	if err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	if got := remoteLines(string(out)); len(got) != 1 || got[0] != "remote: published" {
		t.Fatalf("remote lines = %q", got)
	}
	if head, _ := r.Head(ctx); head != git(t, work, "rev-parse", "HEAD") {
		t.Fatalf("main = %s", head)
	}
	// Deleting a branch also goes through the check.
	git(t, work, "push", "--quiet", "origin", "HEAD:refs/heads/preview/x")
	git(t, work, "push", "--quiet", "origin", ":refs/heads/preview/x")
	if got, _ := r.Ref(ctx, "refs/heads/preview/x"); got != "" {
		t.Fatalf("preview/x still at %s", got)
	}
}

func TestPushCheckPanics(t *testing.T) {
	r := openRepo(t, map[string]string{"a.md": "A\n"})
	url := serveSmart(t, r, func(ctx context.Context, p *gitrepo.Push) (bool, []string) {
		panic("bug")
	})
	work := cloneAndCommit(t, url, map[string]string{"b.md": "B\n"})
	out, err := gitCmd(t, work, "push", "origin", "HEAD:main").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "remote: push refused: the portal failed to check it") {
		t.Fatalf("push: %v\n%s", err, out)
	}
}

// A push git refuses before the hook (fsck) must not leave ReceivePack
// waiting for a hook that never comes.
func TestPushRefusedBeforeTheHook(t *testing.T) {
	r := openRepo(t, map[string]string{"a.md": "A\n"})
	called := false
	url := serveSmart(t, r, func(ctx context.Context, p *gitrepo.Push) (bool, []string) {
		called = true
		return true, nil
	})
	work := filepath.Join(t.TempDir(), "w")
	git(t, "", "clone", "--quiet", url, work)
	head := git(t, work, "rev-parse", "HEAD")
	tree := git(t, work, "rev-parse", "HEAD^{tree}")
	bad := "tree " + tree + "\nparent " + head + "\nauthor no email here\ncommitter x <x@x> 1 +0000\n\nbad\n"
	cmd := gitCmd(t, work, "hash-object", "-t", "commit", "--literally", "-w", "--stdin")
	cmd.Stdin = strings.NewReader(bad)
	id, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	out, err := gitCmd(t, work, "push", "origin", strings.TrimSpace(string(id))+":refs/heads/main").CombinedOutput()
	if err == nil {
		t.Fatalf("a malformed commit was accepted:\n%s", out)
	}
	if called {
		t.Fatal("the check ran for a push fsck refused")
	}
}

func TestPushBypassingThePortalIsRefused(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t, map[string]string{"a.md": "A\n"})
	before, _ := r.Head(ctx)
	work := cloneAndCommit(t, "file://"+r.Dir(), map[string]string{"b.md": "B\n"})
	out, err := gitCmd(t, work, "push", "origin", "HEAD:main").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "remote: pushes go through the portal's /content.git") {
		t.Fatalf("direct push: %v\n%s", err, out)
	}
	if after, _ := r.Head(ctx); after != before {
		t.Fatal("a direct push moved main")
	}
	if _, err := os.Stat(r.Dir()); err != nil {
		t.Fatal(err)
	}
}

func TestAdvertiseRefs(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t, map[string]string{"a.md": "A\n"})
	head, _ := r.Head(ctx)
	var v0, v2 strings.Builder
	if err := r.AdvertiseRefs(ctx, gitrepo.ServiceUploadPack, "", &v0); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v0.String(), "001e# service=git-upload-pack\n0000") || !strings.Contains(v0.String(), head+" refs/heads/main") {
		t.Fatalf("v0 advertisement = %q", v0.String())
	}
	if err := r.AdvertiseRefs(ctx, gitrepo.ServiceUploadPack, "version=2", &v2); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v2.String(), "000eversion 2\n") {
		t.Fatalf("v2 advertisement = %q", v2.String())
	}
	if err := r.AdvertiseRefs(ctx, "git-upload-archive", "", io.Discard); err == nil {
		t.Fatal("an unknown service was served")
	}
	// The portal's own refs are not shown.
	r.UpdateRef(ctx, "refs/portal/incoming", head, "")
	var hidden strings.Builder
	r.AdvertiseRefs(ctx, gitrepo.ServiceReceivePack, "", &hidden)
	if strings.Contains(hidden.String(), "refs/portal") {
		t.Fatalf("refs/portal advertised: %q", hidden.String())
	}
}

// A check that does not finish within CheckTimeout refuses the push, and
// the pusher is told why.
func TestPushCheckTimesOut(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"a.md": "A\n"})
	r, err := gitrepo.Open(ctx, gitrepo.Config{Dir: filepath.Join(t.TempDir(), "c.git"), InitFrom: src, CheckTimeout: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	before, _ := r.Head(ctx)
	url := serveSmart(t, r, func(ctx context.Context, p *gitrepo.Push) (bool, []string) {
		<-ctx.Done() // a check stuck until it is given up on
		return true, nil
	})
	work := cloneAndCommit(t, url, map[string]string{"b.md": "B\n"})
	out, err := gitCmd(t, work, "push", "origin", "HEAD:main").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "remote: push refused: checking it took too long") {
		t.Fatalf("push: %v\n%s", err, out)
	}
	if after, _ := r.Head(ctx); after != before {
		t.Fatal("main moved")
	}
}
