package gitrepo_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/orbitask/portal/gitrepo"
)

func TestOpenCreatesOneInitialCommit(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"en/a.md": "A", "fr/b.md": "B", ".git/config": "not content"})
	parent := t.TempDir()
	dir := filepath.Join(parent, "content.git")
	r, err := gitrepo.Open(ctx, gitrepo.Config{Dir: dir, InitFrom: src})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	head, err := r.Head(ctx)
	if err != nil || head == "" {
		t.Fatalf("Head = %q, %v", head, err)
	}
	log, err := r.Log(ctx, head, "", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || log[0].Author != "Orbitask portal" || log[0].Email != "portal@localhost" ||
		log[0].Subject != "Initial knowledge base from "+src {
		t.Fatalf("log = %+v", log)
	}
	tree, err := r.Tree(ctx, head)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range tree.Entries {
		paths = append(paths, e.Path)
	}
	if !reflect.DeepEqual(paths, []string{"en/a.md", "fr/b.md"}) {
		t.Fatalf("paths = %v (.git must be skipped)", paths)
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 || entries[0].Name() != "content.git" {
		t.Fatalf("left beside the repository: %v", entries)
	}
	hook, err := os.Stat(filepath.Join(dir, "hooks", "pre-receive"))
	if err != nil || hook.Mode().Perm()&0o100 == 0 {
		t.Fatalf("hook: %v, %v", hook, err)
	}
	if got := git(t, dir, "--git-dir="+dir, "config", "receive.fsckObjects"); got != "true" {
		t.Fatalf("receive.fsckObjects = %q", got)
	}

	// Opening again keeps the history, and rewrites an edited hook.
	os.WriteFile(filepath.Join(dir, "hooks", "pre-receive"), []byte("#!/bin/sh\nexit 0\n"), 0o755)
	r2, err := gitrepo.Open(ctx, gitrepo.Config{Dir: dir, InitFrom: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if h2, _ := r2.Head(ctx); h2 != head {
		t.Fatalf("head after reopening = %s, want %s", h2, head)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "hooks", "pre-receive")); !strings.Contains(string(b), "PORTAL_HOOK_DIR") {
		t.Fatalf("hook not rewritten: %s", b)
	}
}

func TestOpenRefusesBadBranch(t *testing.T) {
	_, err := gitrepo.Open(context.Background(), gitrepo.Config{Dir: filepath.Join(t.TempDir(), "c.git"), Branch: "-bad..name"})
	if err == nil {
		t.Fatal("a branch name git refuses was accepted")
	}
}

func TestTreeFS(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t, map[string]string{
		"en/getting-started.md": "# Start\n",
		"en/images/logo.png":    "\x89PNG fake",
		"fr/démarrer.md":        "# Démarrer\n",
		"synonyms.yaml":         "en: []\n",
	})
	head, _ := r.Head(ctx)
	tree, err := r.Tree(ctx, head)
	if err != nil {
		t.Fatal(err)
	}
	fsys := tree.FS()
	if err := fstest.TestFS(fsys, "en/getting-started.md", "en/images/logo.png", "fr/démarrer.md", "synonyms.yaml"); err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(fsys, "fr/démarrer.md")
	if err != nil || string(b) != "# Démarrer\n" {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
	if _, err := fs.Stat(fsys, "en/missing.md"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat of a missing file: %v", err)
	}
	if _, err := fsys.Open("../x"); !errors.Is(err, fs.ErrInvalid) {
		t.Fatalf("Open(../x): %v", err)
	}

	// Preloaded, the same files are read from memory, and what a caller
	// does to its copy does not change the next read.
	if err := tree.Preload(1 << 20); err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys, "en/getting-started.md", "en/images/logo.png", "fr/démarrer.md", "synonyms.yaml"); err != nil {
		t.Fatal(err)
	}
	b, _ = fs.ReadFile(fsys, "en/getting-started.md")
	b[0] = 'X'
	if b, _ := fs.ReadFile(fsys, "en/getting-started.md"); string(b) != "# Start\n" {
		t.Fatalf("after modifying a copy: %q", b)
	}
}

// A symlink and a submodule (gitlink) are reported as such, so kb can
// refuse them; the file system still passes fstest.
func TestTreeFSSymlinkAndSubmodule(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t, map[string]string{"en/a.md": "A"})
	dir := r.Dir()
	head, _ := r.Head(ctx)
	link := strings.TrimSpace(pipeGit(t, dir, "../../etc/passwd", "hash-object", "-w", "--stdin"))
	en := pipeGit(t, dir, "100644 blob "+strings.TrimSpace(git(t, dir, "--git-dir="+dir, "rev-parse", head+":en/a.md"))+"\ta.md\n"+
		"120000 blob "+link+"\tlink.md\n"+
		"160000 commit "+head+"\tsub\n", "mktree")
	root := pipeGit(t, dir, "040000 tree "+strings.TrimSpace(en)+"\ten\n", "mktree")
	c := pipeGit(t, dir, "", "commit-tree", strings.TrimSpace(root), "-m", "odd")
	tree, err := r.Tree(ctx, strings.TrimSpace(c))
	if err != nil {
		t.Fatal(err)
	}
	fsys := tree.FS()
	if err := fstest.TestFS(fsys, "en/a.md", "en/link.md", "en/sub"); err != nil {
		t.Fatal(err)
	}
	ents, err := fs.ReadDir(fsys, "en")
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]fs.FileMode{}
	for _, e := range ents {
		modes[e.Name()] = e.Type()
	}
	if modes["link.md"] != fs.ModeSymlink || modes["sub"] != fs.ModeIrregular || modes["a.md"] != 0 {
		t.Fatalf("types = %v", modes)
	}
}

func pipeGit(t *testing.T, dir, stdin string, args ...string) string {
	t.Helper()
	cmd := gitCmd(t, dir, append([]string{"--git-dir=" + dir}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return string(out)
}

func TestDiffAncestorAndUpdateRef(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("line of an article that is long enough to be recognised\n", 20)
	r := openRepo(t, map[string]string{"en/a.md": "A", "en/old.md": long, "en/gone.md": "G"})
	first, _ := r.Head(ctx)
	second := commitFiles(t, r, map[string]string{"en/a.md": "A2", "en/new.md": long + "more\n", "en/added.md": "N"}, "Ann", time.Now())
	changes, err := r.Diff(ctx, first, second)
	if err != nil {
		t.Fatal(err)
	}
	want := []gitrepo.Change{
		{Status: 'M', Path: "en/a.md"},
		{Status: 'A', Path: "en/added.md"},
		{Status: 'D', Path: "en/gone.md"},
		{Status: 'R', Path: "en/new.md", OldPath: "en/old.md"},
	}
	if !reflect.DeepEqual(changes, want) {
		t.Fatalf("Diff = %+v\nwant %+v", changes, want)
	}
	for _, from := range []string{"", strings.Repeat("0", 40)} {
		all, err := r.Diff(ctx, from, first)
		if err != nil || len(all) != 3 || all[0].Status != 'A' {
			t.Fatalf("Diff from %q = %+v, %v", from, all, err)
		}
	}
	if ok, err := r.IsAncestor(ctx, first, second); !ok || err != nil {
		t.Fatalf("IsAncestor(first, second) = %v, %v", ok, err)
	}
	if ok, err := r.IsAncestor(ctx, second, first); ok || err != nil {
		t.Fatalf("IsAncestor(second, first) = %v, %v", ok, err)
	}
	// Compare-and-swap: the branch is at second, not first.
	err = r.UpdateRef(ctx, "refs/heads/main", first, first)
	if !errors.Is(err, gitrepo.ErrRefMoved) {
		t.Fatalf("UpdateRef with a stale old value: %v", err)
	}
	if h, _ := r.Head(ctx); h != second {
		t.Fatalf("head moved to %s", h)
	}
	if err := r.UpdateRef(ctx, "refs/heads/-x", first, ""); err == nil {
		t.Fatal("a bad ref name was accepted")
	}
	if err := r.UpdateRef(ctx, "refs/heads/preview/x", first, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Ref(ctx, "refs/heads/preview/x"); got != first {
		t.Fatalf("Ref = %s", got)
	}
	if got, err := r.Ref(ctx, "refs/heads/none"); got != "" || err != nil {
		t.Fatalf("Ref of a missing branch = %q, %v", got, err)
	}
}

func TestLogFollowsRenames(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("an article long enough for rename detection\n", 20)
	r := openRepo(t, map[string]string{"en/old.md": long, "en/other.md": "O"})
	commitFiles(t, r, map[string]string{"en/new.md": long, "en/other.md": "O"}, "Bob", time.Unix(1700000000, 0))
	commitFiles(t, r, map[string]string{"en/new.md": long + "added line\n", "en/other.md": "O2"}, "Cat", time.Unix(1700000100, 0))
	head, _ := r.Head(ctx)
	log, err := r.Log(ctx, head, "en/new.md", 0, true)
	if err != nil {
		t.Fatal(err)
	}
	var who []string
	for _, c := range log {
		who = append(who, c.Author)
	}
	if !reflect.DeepEqual(who, []string{"Cat", "Bob", "Orbitask portal"}) {
		t.Fatalf("authors = %v", who)
	}
	if !log[0].When.Equal(time.Unix(1700000100, 0)) || log[0].Email != "cat@example.com" || log[0].Subject != "change by Cat" {
		t.Fatalf("newest = %+v", log[0])
	}
	if !strings.Contains(log[0].Patch, "+added line") || strings.Contains(log[0].Patch, "other.md") {
		t.Fatalf("patch = %q", log[0].Patch)
	}
	limited, err := r.Log(ctx, head, "", 1, false)
	if err != nil || len(limited) != 1 || limited[0].Patch != "" {
		t.Fatalf("limited = %+v, %v", limited, err)
	}
}

func TestProvenance(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("an article long enough for rename detection\n", 20)
	r := openRepo(t, map[string]string{"en/old.md": long, "en/stays.md": "S"})
	commitFiles(t, r, map[string]string{"en/new.md": long + "Bob's line\n", "en/stays.md": "S"}, "Bob", time.Unix(1700000000, 0))
	commitFiles(t, r, map[string]string{"en/new.md": long + "Bob's line\n", "en/stays.md": "S", "en/x.md": "X"}, "Cat", time.Unix(1700000100, 0))
	commitFiles(t, r, map[string]string{"en/new.md": long + "Bob's line\nAnn\n", "en/stays.md": "S", "en/x.md": "X"}, "Ann", time.Unix(1700000200, 0))
	commitFiles(t, r, map[string]string{"en/new.md": long + "Bob's line\nAnn\nBob\n", "en/stays.md": "S", "en/x.md": "X"}, "Bob", time.Unix(1700000300, 0))
	head, _ := r.Head(ctx)
	prov, err := r.Provenance(ctx, head)
	if err != nil {
		t.Fatal(err)
	}
	if len(prov) != 3 {
		t.Fatalf("prov = %+v", prov)
	}
	n := prov["en/new.md"]
	if !reflect.DeepEqual(n.Authors, []string{"Bob", "Ann", "Orbitask portal"}) || !n.Updated.Equal(time.Unix(1700000300, 0)) {
		t.Fatalf("en/new.md = %+v", n)
	}
	if s := prov["en/stays.md"]; !reflect.DeepEqual(s.Authors, []string{"Orbitask portal"}) {
		t.Fatalf("en/stays.md = %+v", s)
	}
	if x := prov["en/x.md"]; !reflect.DeepEqual(x.Authors, []string{"Cat"}) || !x.Updated.Equal(time.Unix(1700000100, 0)) {
		t.Fatalf("en/x.md = %+v", x)
	}
}

func TestLockExcludes(t *testing.T) {
	r := openRepo(t, map[string]string{"a.md": "A"})
	unlock, err := r.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Lock(done); err == nil {
		t.Fatal("a second Lock got the held lock")
	}
	unlock()
	unlock2, err := r.Lock(done) // free now: taken at the first try
	if err != nil {
		t.Fatal(err)
	}
	unlock2()
}

func TestFetch(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t, map[string]string{"a.md": "A"})
	other := openRepo(t, map[string]string{"b.md": "B"})
	want, _ := other.Head(ctx)
	got, err := r.Fetch(ctx, other.Dir(), "main")
	if err != nil || got != want {
		t.Fatalf("Fetch = %q, %v; want %s", got, err, want)
	}
	if _, err := r.Fetch(ctx, "--upload-pack=touch /tmp/pwned", "main"); err == nil {
		t.Fatal("an option as the URL was accepted")
	}
}

// A data directory reached through a symbolic link (a common
// /var/lib/portal setup) still accepts pushes: git reports the
// quarantine's real path.
func TestPushThroughSymlinkedDir(t *testing.T) {
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"en/a.md": "---\ntitle: A\n---\nA.\n"})
	r, err := gitrepo.Open(context.Background(), gitrepo.Config{Dir: filepath.Join(link, "content.git"), InitFrom: src})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := os.Stat(filepath.Join(real, "content.git")); err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(r.Dir(), link) {
		t.Errorf("Dir() = %s, want the resolved path under %s", r.Dir(), real)
	}
}

func TestFetchErrorHidesToken(t *testing.T) {
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"en/a.md": "---\ntitle: A\n---\nA.\n"})
	r, err := gitrepo.Open(context.Background(), gitrepo.Config{Dir: filepath.Join(t.TempDir(), "c.git"), InitFrom: src})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = r.Fetch(context.Background(), "http://SECRETTOKEN@127.0.0.1:1/kb.git", "main")
	if err == nil || strings.Contains(err.Error(), "SECRETTOKEN") {
		t.Errorf("fetch error %v: want an error without the token", err)
	}
}
