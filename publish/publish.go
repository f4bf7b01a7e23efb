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
	published  time.Time         // when live went live (see LastPublished)
	staged     map[string]staged // commit → checked knowledge base, from a push not yet applied
	previews   map[string]*preview
	provenance map[string]gitrepo.Provenance
	failures   []Failure

	// ctx ends at Close; the background goroutines (watcher, provenance,
	// preview loader) run under it and wg waits for them.
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
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
		previews: map[string]*preview{}, provWake: make(chan struct{}, 1)}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	head, err := p.repo.Head(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("publish: load: %w", err)
	}
	if head == "" {
		return nil, nil, errors.New("publish: load: the content repository has no main branch")
	}
	// What was live before: main's commit, unless main moved since (a
	// crash mid-publish, `portal publish` while stopped), in which case the
	// difference is applied as a publish would have.
	base, err := p.repo.Ref(ctx, liveRef)
	if err != nil || base == "" {
		base = head
	}
	redirects, err := readRedirects(p.redirectsFile())
	if err != nil {
		// Derived from renames only: losing them costs old links, not content.
		p.log.Warn("redirects of renamed articles unreadable; old links of renamed articles will not redirect", "err", err)
	}
	k, cached, err := p.loadFull(ctx, base, redirects)
	if err != nil && base != head {
		p.log.Warn("the previously live commit is unreadable; loading main", "commit", short(base), "err", err)
		base = head
		k, cached, err = p.loadFull(ctx, base, redirects)
	}
	if err != nil {
		return nil, nil, err
	}
	if !cached {
		if err := k.WriteSnapshot(p.snapshotFile()); err != nil {
			p.log.Warn("cannot save the knowledge-base snapshot; the next start will parse everything again", "err", err)
		}
	}
	if base != head {
		next, _, err := p.update(ctx, p.repo, state{commit: base, kb: k}, head)
		if err != nil {
			return nil, nil, fmt.Errorf("publish: load %s: %w", short(head), err)
		}
		p.log.Info("finishing a publish the portal did not complete", "from", short(base), "to", short(head))
		k = next
		if err := writeRedirects(p.redirectsFile(), k.Redirects()); err != nil {
			p.log.Warn("redirects of renamed articles not saved; they work until the next restart", "err", err)
		}
	}
	p.recordLive(ctx, head, base)
	for _, pr := range k.Problems {
		p.log.Warn("article refused", "problem", pr.String(), "commit", short(head))
	}
	p.live = state{commit: head, kb: k}
	p.published = time.Now()
	if base == head {
		// Nothing was published now: the live commit went live before the
		// restart, at its date at the latest.
		if c, err := p.repo.Log(ctx, head, "", 1, false); err == nil && len(c) == 1 {
			p.published = c[0].When
		}
	}
	return p, k, nil
}

// loadFull reads the whole knowledge base of commit, from the snapshot
// when it matches.
func (p *Publisher) loadFull(ctx context.Context, commit string, redirects map[string]string) (*kb.KB, bool, error) {
	tree, err := p.repo.Tree(ctx, commit)
	if err != nil {
		return nil, false, fmt.Errorf("publish: load %s: %w", short(commit), err)
	}
	// Every file is read once: in one pipelined pass, not a round trip each.
	if err := tree.Preload(p.maxFileSize()); err != nil {
		return nil, false, fmt.Errorf("publish: load %s: %w", short(commit), err)
	}
	fsys := newCommitFS(tree.FS())
	k, cached, err := kb.LoadFSCached(fsys, p.options(commit, redirects, true))
	if err != nil {
		return nil, false, fmt.Errorf("publish: load %s: %w", short(commit), err)
	}
	// The preloaded contents are not kept: later reads (images) go to git.
	lean, err := p.repo.Tree(ctx, commit)
	if err != nil {
		return nil, false, fmt.Errorf("publish: load %s: %w", short(commit), err)
	}
	fsys.set(lean.FS())
	return k, cached, nil
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
	p.goBackground(func() {
		// Previews pushed before a restart are served again.
		if err := p.locked(p.ctx, func(ctx context.Context) error { return p.syncPreviews(ctx) }); err != nil && p.ctx.Err() == nil {
			p.log.Warn("previews not loaded", "err", err)
		}
	})
	p.goBackground(p.watch)
	p.goBackground(p.provenanceLoop)
	p.wakeProvenance()
}

func (p *Publisher) goBackground(fn func()) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		fn()
	}()
}

// Close stops the background work and waits for it; a publish under way
// is abandoned before its swap (the next start finishes it). Safe to call
// more than once, from any goroutine.
func (p *Publisher) Close() error {
	p.closeOnce.Do(func() {
		p.cancel()
		p.wg.Wait()
	})
	return nil
}

// watch publishes commits that reach main without a push through the
// portal (`portal publish`, a webhook, a crash between git and the swap).
// A commit that fails to publish is retried with a growing pause (up to a
// minute), not every poll.
func (p *Publisher) watch() {
	t := time.NewTicker(p.cfg.Poll)
	defer t.Stop()
	var failed string
	var retryAt time.Time
	pause := time.Second
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
		head, err := p.repo.Head(p.ctx)
		if err != nil || head == p.Live() {
			if err != nil && p.ctx.Err() == nil {
				p.log.Error("reading main failed", "err", err)
			}
			continue
		}
		if head == failed && time.Now().Before(retryAt) {
			continue
		}
		err = p.locked(p.ctx, p.sync)
		switch {
		case err == nil, errors.Is(err, errBusy), p.ctx.Err() != nil:
			failed, pause = "", time.Second
		default:
			if head != failed {
				pause = time.Second
			}
			failed, retryAt = head, time.Now().Add(pause)
			p.log.Error("publishing main failed; retrying", "commit", short(head), "in", pause, "err", err)
			pause = min(2*pause, time.Minute)
		}
	}
}

var errBusy = errors.New("another publish is in progress")

// locked runs fn holding the repository's lock. Only a lock still held by
// another publish after LockWait is errBusy; any other failure (the lock
// file unwritable, say) is returned as itself.
func (p *Publisher) locked(ctx context.Context, fn func(context.Context) error) error {
	unlock, err := p.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return fn(ctx)
}

func (p *Publisher) lock(ctx context.Context) (func(), error) {
	lctx, cancel := context.WithTimeout(ctx, p.cfg.LockWait)
	defer cancel()
	unlock, err := p.repo.Lock(lctx)
	if err == nil {
		return unlock, nil
	}
	if ctx.Err() == nil && lctx.Err() != nil {
		return nil, errBusy
	}
	return nil, fmt.Errorf("publish: lock: %w", err)
}

// Live is the commit customers see.
func (p *Publisher) Live() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live.commit
}

// LastPublished is when the live commit was published: the moment this
// process applied it, or, for the commit that was live when it started,
// the commit's date.
func (p *Publisher) LastPublished() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.published
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
	p.published = time.Now()
	p.mu.Unlock()
	p.recordLive(ctx, head, live.commit)
	if err := writeRedirects(p.redirectsFile(), next.Redirects()); err != nil {
		p.log.Warn("redirects of renamed articles not saved; they work until the next restart", "err", err)
	}
	p.log.Info("published", "commit", short(head), "from", short(live.commit), "changed", len(changed), "deleted", len(deleted),
		"articles", len(next.Articles), "took", time.Since(start).Round(time.Millisecond))
	p.wakeProvenance()
	return nil
}

// liveRef records the commit customers see, so that a start after a crash
// (or after `portal publish` while the portal was stopped) knows what was
// live and applies the difference to main incrementally: renames become
// redirects as they do when published while running. Hidden from clients
// (gitrepo hides refs/portal/).
const liveRef = "refs/portal/live"

func (p *Publisher) recordLive(ctx context.Context, commit, was string) {
	cur, err := p.repo.Ref(ctx, liveRef)
	if err == nil {
		err = p.repo.UpdateRef(ctx, liveRef, commit, cur)
	}
	if err != nil {
		p.log.Warn("the live commit was not recorded; a restart reloads main in full", "commit", short(commit), "was", short(was), "err", err)
	}
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
	// The portal's own commit (the first import) is nobody's writing.
	var authors []string
	for _, a := range pr.Authors {
		if a != gitrepo.PortalAuthor.Name {
			authors = append(authors, a)
		}
	}
	return pr.Updated, authors
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
		case <-p.ctx.Done():
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
		prov, err := p.repo.Provenance(p.ctx, commit)
		if p.ctx.Err() != nil {
			return
		}
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
			if pv, ok := old[name]; ok {
				next[name] = pv // keep serving what was shown until it loads
			}
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
