package gitrepo_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orbitask/portal/gitrepo"
)

// writeFiles writes files (path → content) under dir.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// openRepo creates a content repository from files.
func openRepo(t *testing.T, files map[string]string) *gitrepo.Repo {
	t.Helper()
	src := t.TempDir()
	writeFiles(t, src, files)
	r, err := gitrepo.Open(context.Background(), gitrepo.Config{Dir: filepath.Join(t.TempDir(), "content.git"), InitFrom: src})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// commitFiles commits exactly files (a whole new tree) on the branch and
// moves it.
func commitFiles(t *testing.T, r *gitrepo.Repo, files map[string]string, author string, when time.Time) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	head, err := r.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.CommitDir(ctx, dir, "change by "+author, gitrepo.Signature{Name: author, Email: strings.ToLower(author) + "@example.com", When: when}, head)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.UpdateRef(ctx, "refs/heads/main", c, head); err != nil {
		t.Fatal(err)
	}
	return c
}

// git runs the real git for a test, with no user configuration.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := gitCmd(t, dir, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func gitCmd(t testing.TB, dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gitEnv(t)
	return cmd
}

func gitEnv(t testing.TB) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+t.TempDir(), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Writer", "GIT_AUTHOR_EMAIL=writer@example.com",
		"GIT_COMMITTER_NAME=Writer", "GIT_COMMITTER_EMAIL=writer@example.com")
}
