// Package publish keeps the live knowledge base in step with the content
// repository (package gitrepo): it checks every push before git accepts it,
// applies an accepted commit incrementally to the knowledge base and the
// search index, serves previews of preview/NAME branches to staff, and on
// start finishes or discards a publish a crash interrupted.
//
// The repository's main branch is the source of truth. The knowledge base
// and the index are derived from its newest commit: Load reads that commit,
// so a crash after git moved the branch but before the index was swapped is
// finished by the next start, and a crash before git moved it leaves the old
// commit, which is what customers saw.
package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/orbitask/portal/gitrepo"
	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/search"
)

// Config is what a Publisher needs.
type Config struct {
	Repo *gitrepo.Repo
	// Data is the data directory: the knowledge-base snapshot and the
	// redirects of renamed articles live there.
	Data string
	// AllowForcePush lets a push replace main's history (off by default:
	// a force push that rewrites published history is refused).
	AllowForcePush bool
	// MaxFileSize is kb.Options.MaxFileSize: 0 means kb's default.
	MaxFileSize int64
	// Poll is how often main is compared with the live commit, to publish
	// commits made by `portal publish` in another process; 0 means a second.
	Poll time.Duration
	// LockWait is how long a push waits for another publish to end before
	// it is told to push again; 0 means 30 seconds.
	LockWait time.Duration
	// Remote is the repository a webhook fetches from (a GitHub, GitLab or
	// Gitea URL), with its branch; empty when content lives only here.
	Remote, RemoteBranch string
	Logger               *slog.Logger
}

// Publisher publishes commits of the content repository.
type Publisher struct {
	cfg  Config
	repo *gitrepo.Repo
	log  *slog.Logger
	ix   *search.Index // nil until Start

	// mu guards the fields below; publishing itself is serialised by the
	// repository's lock, which the `portal publish` command shares.
	mu         sync.Mutex
	live       state
	staged     map[string]staged // commit → checked knowledge base, from a push not yet applied
	previews   map[string]*preview
	provenance map[string]gitrepo.Provenance
	failures   []Failure

	stop chan struct{}
	done chan struct{}
	// provWake asks the provenance goroutine to recompute.
	provWake chan struct{}
}

type state struct {
	commit string
	kb     *kb.KB
}

// staged is a knowledge base checked in a push's pre-receive hook, read
// from the push's quarantined objects until git accepts them.
type staged struct {
	kb   *kb.KB
	fsys *commitFS
}

type preview struct {
	commit string
	kb     *kb.KB
}

// Failure is a publish that did not happen, for the operators' page: a
// webhook's commit that failed the checks, or a publish that failed.
type Failure struct {
	When     time.Time
	Source   string // "webhook", "publish"
	Commit   string
	Problems []string // "path:line: message"
	Err      string
}

// maxFailures is how many failures are kept for the operators' page.
const maxFailures = 20

// Load opens the publisher on cfg.Repo and reads the knowledge base of
// main's newest commit (from the snapshot in Data when it matches). Start
// must follow, with the search index built from Load's KB.
func Load(ctx context.Context, cfg Config) (*Publisher, *kb.KB, error) {
	if cfg.Repo == nil || cfg.Data == "" {
		return nil, nil, errors.New("publish: load: Repo and Data are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.LockWait <= 0 {
		cfg.LockWait = 30 * time.Second
	}
	p := &Publisher{cfg: cfg, repo: cfg.Repo, log: cfg.Logger, staged: map[string]staged{},
		previews: map[string]*preview{}, stop: make(chan struct{}), done: make(chan struct{}), provWake: make(chan struct{}, 1)}
	head, err := p.repo.Head(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("publish: load: %w", err)
	}
	if head == "" {
		return nil, nil, errors.New("publish: load: the content repository has no main branch")
	}
	tree, err := p.repo.Tree(ctx, head)
	if err != nil {
		return nil, nil, fmt.Errorf("publish: load: %w", err)
	}
	redirects, err := readRedirects(p.redirectsFile())
	if err != nil {
		// Derived from renames only: losing them costs old links, not content.
		p.log.Warn("redirects of renamed articles unreadable; old links of renamed articles will not redirect", "err", err)
	}
	// Every file is read once: in one pipelined pass, not a round trip each.
	if err := tree.Preload(p.maxFileSize()); err != nil {
		return nil, nil, fmt.Errorf("publish: load %s: %w", short(head), err)
	}
	fsys := newCommitFS(tree.FS())
	k, cached, err := kb.LoadFSCached(fsys, p.options(head, redirects, true))
	if err != nil {
		return nil, nil, fmt.Errorf("publish: load %s: %w", short(head), err)
	}
	// The preloaded contents are not kept: later reads (images) go to git.
	lean, err := p.repo.Tree(ctx, head)
	if err != nil {
		return nil, nil, fmt.Errorf("publish: load %s: %w", short(head), err)
	}
	fsys.set(lean.FS())
	if !cached {
		if err := k.WriteSnapshot(p.snapshotFile()); err != nil {
			p.log.Warn("cannot save the knowledge-base snapshot; the next start will parse everything again", "err", err)
		}
	}
	for _, pr := range k.Problems {
		p.log.Warn("article refused", "problem", pr.String(), "commit", short(head))
	}
	p.live = state{commit: head, kb: k}
	return p, k, nil
}

func (p *Publisher) options(commit string, redirects map[string]string, cache bool) kb.Options {
	o := kb.Options{Root: "content.git@" + short(commit), Redirects: redirects, MaxFileSize: p.cfg.MaxFileSize}
	if cache {
		o.CacheFile = p.snapshotFile()
	}
	return o
}

func (p *Publisher) maxFileSize() int64 {
	if p.cfg.MaxFileSize > 0 {
		return p.cfg.MaxFileSize
	}
	return kb.DefaultMaxFileSize
}

func (p *Publisher) snapshotFile() string  { return filepath.Join(p.cfg.Data, "kb.snapshot") }
func (p *Publisher) redirectsFile() string { return filepath.Join(p.cfg.Data, "redirects.json") }

// Start begins serving: ix is the index of Load's knowledge base. It
// publishes what main gained meanwhile and then watches it.
func (p *Publisher) Start(ix *search.Index) {
	p.ix = ix
	go func() {
		// Previews pushed before a restart are served again.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if err := p.locked(ctx, func(ctx context.Context) error { return p.syncPreviews(ctx) }); err != nil {
			p.log.Warn("previews not loaded", "err", err)
		}
	}()
	go p.watch()
	go p.provenanceLoop()
	p.wakeProvenance()
}

// Close stops watching. Safe to call twice.
func (p *Publisher) Close() error {
	select {
	case <-p.stop:
		return nil
	default:
	}
	close(p.stop)
	if p.ix != nil {
		<-p.done
	}
	return nil
}

// watch publishes commits that reach main without a push through the
// portal (`portal publish`, a crash between git and the swap).
func (p *Publisher) watch() {
	defer close(p.done)
	t := time.NewTicker(p.cfg.Poll)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		head, err := p.repo.Head(ctx)
		if err == nil && head != p.Live() {
			err = p.locked(ctx, p.sync)
		}
		cancel()
		if err != nil && !errors.Is(err, errBusy) {
			p.log.Error("publishing main failed", "err", err)
		}
	}
}

var errBusy = errors.New("another publish is in progress")

// locked runs fn holding the repository's lock.
func (p *Publisher) locked(ctx context.Context, fn func(context.Context) error) error {
	lctx, cancel := context.WithTimeout(ctx, p.cfg.LockWait)
	unlock, err := p.repo.Lock(lctx)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			return errBusy
		}
		return err
	}
	defer unlock()
	return fn(ctx)
}

// Live is the commit customers see.
func (p *Publisher) Live() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live.commit
}

// KB is the knowledge base customers see.
func (p *Publisher) KB() *kb.KB {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live.kb
}

// sync publishes main's newest commit if it is not live yet, and forgets
// staged knowledge bases and previews that no longer match a branch. The
// caller holds the repository's lock.
func (p *Publisher) sync(ctx context.Context) error {
	head, err := p.repo.Head(ctx)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	p.mu.Lock()
	live, st := p.live, p.staged[head]
	p.staged = map[string]staged{}
	p.mu.Unlock()
	if err := p.syncPreviews(ctx); err != nil {
		p.log.Warn("previews not refreshed", "err", err)
	}
	if head == live.commit {
		return nil
	}
	start := time.Now()
	next := st.kb
	if next != nil {
		// Checked while its objects were in quarantine; read them from the
		// repository from now on (same commit, same files).
		tree, err := p.repo.Tree(ctx, head)
		if err != nil {
			return fmt.Errorf("publish %s: %w", short(head), err)
		}
		st.fsys.set(tree.FS())
	} else if next, _, err = p.update(ctx, p.repo, live, head); err != nil {
		p.fail("publish", head, nil, err)
		return fmt.Errorf("publish %s: %w", short(head), err)
	}
	changed, deleted := kb.Changed(live.kb, next)
	if err := p.ix.Apply(ctx, next, changed, deleted); err != nil {
		p.fail("publish", head, nil, err)
		return fmt.Errorf("publish %s: %w", short(head), err)
	}
	p.mu.Lock()
	p.live = state{commit: head, kb: next}
	p.mu.Unlock()
	if err := writeRedirects(p.redirectsFile(), next.Redirects()); err != nil {
		p.log.Warn("redirects of renamed articles not saved; they work until the next restart", "err", err)
	}
	p.log.Info("published", "commit", short(head), "from", short(live.commit), "changed", len(changed), "deleted", len(deleted),
		"articles", len(next.Articles), "took", time.Since(start).Round(time.Millisecond))
	p.wakeProvenance()
	return nil
}

// update builds the knowledge base of commit from live's, re-reading only
// the files that changed between them.
func (p *Publisher) update(ctx context.Context, repo *gitrepo.Repo, live state, commit string) (*kb.KB, *commitFS, error) {
	tree, err := repo.Tree(ctx, commit)
	if err != nil {
		return nil, nil, err
	}
	diff, err := repo.Diff(ctx, live.commit, commit)
	if err != nil {
		return nil, nil, err
	}
	changes := make([]kb.Change, 0, len(diff))
	for _, d := range diff {
		c := kb.Change{Path: d.Path}
		switch d.Status {
		case 'D':
			c.Deleted = true
		case 'R':
			c.OldPath = d.OldPath
		}
		changes = append(changes, c)
	}
	fsys := newCommitFS(tree.FS())
	next, err := live.kb.Update(fsys, changes)
	if err != nil {
		return nil, nil, err
	}
	next.Root = "content.git@" + short(commit)
	return next, fsys, nil
}

func (p *Publisher) fail(source, commit string, problems []string, err error) {
	f := Failure{When: time.Now().UTC(), Source: source, Commit: commit, Problems: problems}
	if err != nil {
		f.Err = err.Error()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failures = append(p.failures, f)
	if len(p.failures) > maxFailures {
		p.failures = p.failures[len(p.failures)-maxFailures:]
	}
}

// Failures are the recent publishes that did not happen, newest first.
func (p *Publisher) Failures() []Failure {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Failure, len(p.failures))
	for i, f := range p.failures {
		out[len(out)-1-i] = f
	}
	return out
}

// Provenance says when the file at a content path last changed and who
// changed it (most recent first), from git history; zero while unknown.
func (p *Publisher) Provenance(contentPath string) (time.Time, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pr := p.provenance[contentPath]
	return pr.Updated, pr.Authors
}

func (p *Publisher) wakeProvenance() {
	select {
	case p.provWake <- struct{}{}:
	default:
	}
}

// provenanceLoop recomputes every file's history after each publish, in
// the background: one pass over the whole log, seconds at most, never on a
// push's path. It also saves the new knowledge base's snapshot, so that
// the next start need not parse every article again.
func (p *Publisher) provenanceLoop() {
	saved := ""
	for {
		select {
		case <-p.stop:
			return
		case <-p.provWake:
		}
		p.mu.Lock()
		live := p.live
		p.mu.Unlock()
		commit := live.commit
		if saved == "" {
			saved = commit // Load read or wrote the snapshot of the first one
		} else if saved != commit {
			if err := live.kb.WriteSnapshot(p.snapshotFile()); err != nil {
				p.log.Warn("cannot save the knowledge-base snapshot; the next start will parse everything again", "err", err)
			}
			saved = commit
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		prov, err := p.repo.Provenance(ctx, commit)
		cancel()
		if err != nil {
			p.log.Warn("article history not read; pages show the front matter's dates", "err", err)
			continue
		}
		p.mu.Lock()
		p.provenance = prov
		p.mu.Unlock()
	}
}

// History is the commits that changed the file at a content path, newest
// first, with their diffs.
func (p *Publisher) History(ctx context.Context, contentPath string, limit int) ([]gitrepo.Commit, error) {
	commits, err := p.repo.Log(ctx, p.Live(), contentPath, limit, true)
	if err != nil {
		return nil, fmt.Errorf("publish: history of %s: %w", contentPath, err)
	}
	return commits, nil
}

// Preview is the knowledge base of branch preview/name, for staff.
func (p *Publisher) Preview(name string) (*kb.KB, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pv, ok := p.previews[name]
	if !ok {
		return nil, false
	}
	return pv.kb, true
}

// Previews are the names of the preview branches being served.
func (p *Publisher) Previews() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.previews))
	for n := range p.previews {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// syncPreviews loads the knowledge base of every preview branch whose
// commit changed and forgets deleted branches.
func (p *Publisher) syncPreviews(ctx context.Context) error {
	refs, err := p.repo.Refs(ctx, previewPrefix)
	if err != nil {
		return err
	}
	p.mu.Lock()
	live, old := p.live, p.previews
	p.mu.Unlock()
	next := map[string]*preview{}
	var errs []error
	for ref, commit := range refs {
		name := ref[len(previewPrefix):]
		if pv, ok := old[name]; ok && pv.commit == commit {
			next[name] = pv
			continue
		}
		k, _, err := p.update(ctx, p.repo, live, commit)
		if err != nil {
			errs = append(errs, fmt.Errorf("preview %s: %w", name, err))
			continue
		}
		next[name] = &preview{commit: commit, kb: k}
	}
	p.mu.Lock()
	p.previews = next
	p.mu.Unlock()
	return errors.Join(errs...)
}

const (
	mainRef       = "refs/heads/"
	previewPrefix = "refs/heads/preview/"
)

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

// RemoteBranch is the branch of the remote repository a webhook publishes.
func (p *Publisher) RemoteBranch() string {
	if p.cfg.RemoteBranch != "" {
		return p.cfg.RemoteBranch
	}
	return p.repo.Branch()
}
