// Package gitrepo is the knowledge base's content repository: a bare git
// repository driven through the real git binary. It creates the repository,
// reads trees and history, commits directories, and serves git's smart
// protocol as plain io, with pushes checked by the portal process through
// the repository's pre-receive hook. It knows nothing of HTTP or of kb.
package gitrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// Config says where the repository lives and how to create it.
type Config struct {
	Dir string // the bare repository, e.g. DATA/content.git
	// Branch customers see; "" means "main".
	Branch string
	// InitFrom is a directory whose files become the first commit when Dir
	// does not exist yet ("" creates an empty repository).
	InitFrom string
	// CheckTimeout bounds a push's check (ReceivePack); past it the push
	// is refused. 0: 2 minutes.
	CheckTimeout time.Duration
	Logger       *slog.Logger // nil discards
}

// Signature is a commit's author.
type Signature struct {
	Name, Email string
	When        time.Time // zero means now
}

// PortalAuthor signs the commits the portal makes on its own.
var PortalAuthor = Signature{Name: "Orbitask portal", Email: "portal@localhost"}

// ErrRefMoved is returned by UpdateRef when the ref no longer has the old
// value the caller expected (another writer was first).
var ErrRefMoved = errors.New("gitrepo: ref moved")

// Repo is an open content repository. Its methods are safe for concurrent
// use; Close stops its long-lived git process.
type Repo struct {
	dir    string // absolute
	branch string
	log    *slog.Logger
	env    []string // extra environment of every git command (a quarantine view)
	cat    *catFile

	checkTimeout time.Duration
	// hiding: a Hiding view, served with protocol v0 only.
	hiding bool
}

var objectID = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// Open opens the repository at cfg.Dir, creating it first when missing,
// and (re)writes its configuration and pre-receive hook.
func Open(ctx context.Context, cfg Config) (*Repo, error) {
	if cfg.Dir == "" {
		return nil, errors.New("gitrepo: open: no directory")
	}
	if cfg.Branch == "" {
		cfg.Branch = "main"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	dir, err := realPath(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("gitrepo: open: %w", err)
	}
	if cfg.CheckTimeout <= 0 {
		cfg.CheckTimeout = 2 * time.Minute
	}
	r := newRepo(dir, cfg.Branch, cfg.Logger, nil)
	r.checkTimeout = cfg.CheckTimeout
	if err := r.checkRefName(ctx, "refs/heads/"+cfg.Branch); err != nil {
		return nil, fmt.Errorf("gitrepo: open: branch %q: %w", cfg.Branch, err)
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := create(ctx, dir, cfg); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("gitrepo: open: %w", err)
	}
	if err := configure(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

func newRepo(dir, branch string, log *slog.Logger, env []string) *Repo {
	r := &Repo{dir: dir, branch: branch, log: log, env: env}
	r.cat = &catFile{repo: r}
	return r
}

// view is r with env added to every git command, and its own cat-file.
func (r *Repo) view(env []string) *Repo {
	v := newRepo(r.dir, r.branch, r.log, append(append([]string(nil), r.env...), env...))
	v.checkTimeout, v.hiding = r.checkTimeout, r.hiding
	return v
}

// Dir is the repository's absolute path.
func (r *Repo) Dir() string { return r.dir }

// Branch is the branch customers see ("main").
func (r *Repo) Branch() string { return r.branch }

// Close stops the repository's cat-file process. The Repo stays usable: a
// later read starts a new one.
func (r *Repo) Close() error {
	r.cat.stop()
	return nil
}

// create builds the repository beside dir and renames it into place, so a
// crash never leaves a half-made repository at dir.
func create(ctx context.Context, dir string, cfg Config) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("gitrepo: create: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".tmp-*")
	if err != nil {
		return fmt.Errorf("gitrepo: create: %w", err)
	}
	defer os.RemoveAll(tmp) // after a successful rename there is nothing left
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("gitrepo: create: %w", err)
	}
	r := newRepo(tmp, cfg.Branch, cfg.Logger, nil)
	defer r.Close()
	if _, err := runGit(ctx, "", nil, nil, "init", "--quiet", "--bare", "--initial-branch="+cfg.Branch, tmp); err != nil {
		return fmt.Errorf("gitrepo: create: %w", err)
	}
	if err := configure(ctx, r); err != nil {
		return err
	}
	if cfg.InitFrom != "" {
		abs, err := filepath.Abs(cfg.InitFrom)
		if err != nil {
			return fmt.Errorf("gitrepo: create: %w", err)
		}
		c, err := r.CommitDir(ctx, abs, "Initial knowledge base from "+cfg.InitFrom, PortalAuthor, "")
		if err != nil {
			return fmt.Errorf("gitrepo: create: %w", err)
		}
		if err := r.UpdateRef(ctx, "refs/heads/"+cfg.Branch, c, ""); err != nil {
			return fmt.Errorf("gitrepo: create: %w", err)
		}
		// One pack instead of a loose file per object: reading 10,000
		// articles goes from about a second to tens of milliseconds.
		if _, err := r.git(ctx, nil, "repack", "-a", "-d", "-q"); err != nil {
			return fmt.Errorf("gitrepo: create: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("gitrepo: create: %w", err)
	}
	cfg.Logger.Info("content repository created", "dir", dir, "from", cfg.InitFrom)
	return nil
}

// configure sets what the portal relies on, at every start, so an edited
// config file cannot weaken it for long.
func configure(ctx context.Context, r *Repo) error {
	settings := [][2]string{
		{"core.bare", "true"},
		// Our hook, whatever a global core.hooksPath says.
		{"core.hooksPath", filepath.Join(r.dir, "hooks")},
		// The reflog is the audit of every move of a branch.
		{"core.logAllRefUpdates", "true"},
		// Malformed objects and trees (paths such as ".." or ".git") are
		// refused before the hook runs.
		{"receive.fsckObjects", "true"},
		{"transfer.fsckObjects", "true"},
		// The portal's own refs (refs/portal/*) are neither shown nor pushable.
		{"transfer.hideRefs", "refs/portal/"},
		{"gc.auto", "6700"},
		{"gc.autoPackLimit", "50"},
		{"receive.autogc", "true"},
		{"uploadpack.allowFilter", "true"},
	}
	for _, s := range settings {
		if _, err := r.git(ctx, nil, "config", "--local", s[0], s[1]); err != nil {
			return fmt.Errorf("gitrepo: configure %s: %w", s[0], err)
		}
	}
	hooks := filepath.Join(r.dir, "hooks")
	if err := os.MkdirAll(hooks, 0o755); err != nil {
		return fmt.Errorf("gitrepo: install hook: %w", err)
	}
	tmp := filepath.Join(hooks, ".pre-receive.tmp")
	if err := os.WriteFile(tmp, []byte(hookScript), 0o755); err != nil {
		return fmt.Errorf("gitrepo: install hook: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil { // WriteFile's mode is cut by the umask
		return fmt.Errorf("gitrepo: install hook: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(hooks, "pre-receive")); err != nil {
		return fmt.Errorf("gitrepo: install hook: %w", err)
	}
	return nil
}

// Lock takes the repository's exclusive lock (flock on Dir/portal.lock) so
// the portal and the `portal publish` command publish one at a time. It
// waits until the lock is free or ctx ends.
func (r *Repo) Lock(ctx context.Context) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(r.dir, "portal.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("gitrepo: lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("gitrepo: lock: %w", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("gitrepo: lock: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Head is the commit of the customers' branch, "" while it has none.
func (r *Repo) Head(ctx context.Context) (string, error) {
	return r.Ref(ctx, "refs/heads/"+r.branch)
}

// Ref is the commit a full ref name (refs/...) points to, "" if it does not
// exist.
func (r *Repo) Ref(ctx context.Context, name string) (string, error) {
	if err := r.checkRefName(ctx, name); err != nil {
		return "", fmt.Errorf("gitrepo: ref %q: %w", name, err)
	}
	out, err := r.git(ctx, nil, "rev-parse", "--verify", "--quiet", name+"^{commit}")
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) && ee.code == 1 {
			return "", nil
		}
		return "", fmt.Errorf("gitrepo: ref %q: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// IsAncestor reports whether commit a is an ancestor of (or equal to) b.
func (r *Repo) IsAncestor(ctx context.Context, a, b string) (bool, error) {
	if !objectID.MatchString(a) || !objectID.MatchString(b) {
		return false, fmt.Errorf("gitrepo: is-ancestor: not object ids: %q, %q", a, b)
	}
	_, err := r.git(ctx, nil, "merge-base", "--is-ancestor", a, b)
	var ee *exitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ee) && ee.code == 1:
		return false, nil
	default:
		return false, fmt.Errorf("gitrepo: is-ancestor: %w", err)
	}
}

// UpdateRef moves ref to new if it still points to old ("" = the ref must
// not exist yet): a compare-and-swap. A lost race returns ErrRefMoved.
func (r *Repo) UpdateRef(ctx context.Context, ref, new, old string) error {
	if err := r.checkRefName(ctx, ref); err != nil {
		return fmt.Errorf("gitrepo: update-ref %q: %w", ref, err)
	}
	if !objectID.MatchString(new) || (old != "" && !objectID.MatchString(old)) {
		return fmt.Errorf("gitrepo: update-ref %q: not object ids: %q, %q", ref, new, old)
	}
	if _, err := r.git(ctx, nil, "update-ref", "-m", "portal", ref, new, old); err != nil {
		if cur, cerr := r.Ref(ctx, ref); cerr == nil && cur != old {
			return fmt.Errorf("gitrepo: update-ref %q: %w (now %s)", ref, ErrRefMoved, cur)
		}
		return fmt.Errorf("gitrepo: update-ref %q: %w", ref, err)
	}
	return nil
}

// CommitDir commits the files under dir (skipping .git) as a child of
// parent ("" = a root commit) and returns the new commit; no ref moves
// (see UpdateRef). The index is temporary and no working tree is kept.
func (r *Repo) CommitDir(ctx context.Context, dir, message string, author Signature, parent string) (string, error) {
	if parent != "" && !objectID.MatchString(parent) {
		return "", fmt.Errorf("gitrepo: commit: parent %q is not an object id", parent)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("gitrepo: commit: %w", err)
	}
	tmp, err := os.MkdirTemp("", "gitrepo-index-*")
	if err != nil {
		return "", fmt.Errorf("gitrepo: commit: %w", err)
	}
	defer os.RemoveAll(tmp)
	env := []string{"GIT_INDEX_FILE=" + filepath.Join(tmp, "index"), "GIT_WORK_TREE=" + dir}
	// core.excludesFile: only the portal's choice of files, not a user's
	// global ignore list. --force: a .gitignore in the content is content.
	if _, err := r.gitIn(ctx, dir, env, nil, "-c", "core.excludesFile=/dev/null", "add", "--all", "--force", "--", "."); err != nil {
		return "", fmt.Errorf("gitrepo: commit: %w", err)
	}
	out, err := r.gitIn(ctx, dir, env, nil, "write-tree")
	if err != nil {
		return "", fmt.Errorf("gitrepo: commit: %w", err)
	}
	tree := strings.TrimSpace(string(out))
	when := author.When
	if when.IsZero() {
		when = time.Now()
	}
	date := fmt.Sprintf("@%d %s", when.Unix(), when.Format("-0700"))
	env = append(env,
		"GIT_AUTHOR_NAME="+author.Name, "GIT_AUTHOR_EMAIL="+author.Email, "GIT_AUTHOR_DATE="+date,
		"GIT_COMMITTER_NAME="+author.Name, "GIT_COMMITTER_EMAIL="+author.Email, "GIT_COMMITTER_DATE="+date)
	args := []string{"commit-tree", tree}
	if parent != "" {
		args = append(args, "-p", parent)
	}
	args = append(args, "-F", "-")
	out, err = r.gitIn(ctx, dir, env, strings.NewReader(message), args...)
	if err != nil {
		return "", fmt.Errorf("gitrepo: commit: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Fetch fetches branch of the repository at url into refs/portal/incoming
// (a webhook's push elsewhere) and returns its commit.
func (r *Repo) Fetch(ctx context.Context, url, branch string) (string, error) {
	const incoming = "refs/portal/incoming"
	if err := r.checkRefName(ctx, "refs/heads/"+branch); err != nil {
		return "", fmt.Errorf("gitrepo: fetch: branch %q: %w", branch, err)
	}
	if _, err := r.git(ctx, nil, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--",
		url, "+refs/heads/"+branch+":"+incoming); err != nil {
		// The URL may carry a deploy token: it must not reach a log or a page.
		return "", fmt.Errorf("gitrepo: fetch %s: %s", redactURL(url), strings.ReplaceAll(err.Error(), url, redactURL(url)))
	}
	c, err := r.Ref(ctx, incoming)
	if err != nil {
		return "", fmt.Errorf("gitrepo: fetch: %w", err)
	}
	return c, nil
}

func (r *Repo) checkRefName(ctx context.Context, name string) error {
	if !strings.HasPrefix(name, "refs/") {
		return errors.New("not a full ref name")
	}
	// git allows a component such as "-x"; we do not, so no ref name can
	// ever be read as an option.
	if strings.Contains(name, "/-") {
		return errors.New("a component starts with '-'")
	}
	if _, err := runGit(ctx, "", nil, nil, "check-ref-format", name); err != nil {
		return errors.New("invalid ref name")
	}
	return nil
}

// exitError is a git command that ran and failed.
type exitError struct {
	args   []string
	code   int
	stderr string
}

func (e *exitError) Error() string {
	return fmt.Sprintf("git %s: exit status %d: %s", strings.Join(e.args, " "), e.code, e.stderr)
}

// git runs a git command on the repository and returns its standard output.
func (r *Repo) git(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	return r.gitIn(ctx, r.dir, nil, stdin, args...)
}

func (r *Repo) gitIn(ctx context.Context, cwd string, env []string, stdin io.Reader, args ...string) ([]byte, error) {
	return runGit(ctx, cwd, append(r.baseEnv(), env...), stdin, args...)
}

// baseEnv points git at this repository (and a quarantine, for a view).
func (r *Repo) baseEnv() []string {
	return append([]string{"GIT_DIR=" + r.dir}, r.env...)
}

func runGit(ctx context.Context, cwd string, env []string, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := command(ctx, env, args...)
	cmd.Dir = cwd
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() > 0 {
			return out.Bytes(), &exitError{args: args, code: ee.ExitCode(), stderr: strings.TrimSpace(errb.String())}
		}
		return out.Bytes(), fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return out.Bytes(), nil
}

// command prepares git with a clean environment: none of the caller's GIT_*
// variables, no system or global configuration, and a process group that
// dies with ctx and with the portal.
func command(ctx context.Context, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Env = cleanEnv(env)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error {
		// The whole group: receive-pack's hook and pack-objects too.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func cleanEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GIT_") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	return append(env, extra...)
}

// realPath is dir made absolute with its symbolic links resolved (those of
// its parent when dir does not exist yet): git reports the quarantine's
// path resolved, and the hook compares it with the repository's.
func realPath(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real, nil
	}
	parent, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return abs, nil // created later with MkdirAll; nothing to resolve yet
	}
	return filepath.Join(parent, filepath.Base(abs)), nil
}

// redactURL hides the password or token of a URL's user information.
func redactURL(raw string) string {
	u, err := neturl.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = neturl.User("***")
	return u.String()
}
