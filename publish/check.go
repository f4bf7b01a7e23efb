package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/orbitask/portal/gitrepo"
	"github.com/orbitask/portal/kb"
)

// Receive runs a push (git's receive-pack over smart HTTP) and publishes
// what it accepted before returning, so that the writer's `git push`
// returns once the change is live. Pushes are serialised by the
// repository's lock, taken when git has the pack and runs the pre-receive
// hook (not while a slow client uploads it) and held until the publish
// ends; a push that waits longer than LockWait is refused with a message
// to push again.
func (p *Publisher) Receive(ctx context.Context, gitProtocol string, in io.Reader, out io.Writer) (PushResult, error) {
	h := &heldLock{}
	defer h.release()
	var (
		mu     sync.Mutex
		result PushResult
	)
	check := func(ctx context.Context, push *gitrepo.Push) (bool, []string) {
		ok, msgs := p.checkLocked(ctx, h, push)
		mu.Lock()
		result = PushResult{Updates: push.Updates, Accepted: ok}
		mu.Unlock()
		return ok, msgs
	}
	err := p.repo.ReceivePack(ctx, gitProtocol, in, out, check)
	mu.Lock()
	res := result
	mu.Unlock()
	if err != nil {
		p.dropStaged()
		return PushResult{Updates: res.Updates}, fmt.Errorf("publish: receive: %w", err)
	}
	if !h.held() {
		return res, nil // refused, or a push that changed nothing
	}
	// The push is done whatever happens here; a failure is the portal's,
	// logged and retried by the watcher, not the writer's.
	if err := p.sync(context.WithoutCancel(ctx)); err != nil {
		p.log.Error("publishing a push failed; retrying", "err", err)
	}
	return res, nil
}

// PushResult is what a push asked and whether it was accepted, for the
// audit trail.
type PushResult struct {
	Updates  []gitrepo.RefUpdate
	Accepted bool
}

// checkLocked takes the repository's lock for the push (held until
// Receive ends), then checks it.
func (p *Publisher) checkLocked(ctx context.Context, h *heldLock, push *gitrepo.Push) (bool, []string) {
	unlock, err := p.lock(ctx)
	if err != nil {
		if errors.Is(err, errBusy) {
			return false, []string{"another push is being published right now; nothing of yours was published: push again in a moment"}
		}
		p.log.Error("push refused: the repository's lock failed", "err", err)
		return false, []string{"the portal could not check this push (see its log); nothing was published"}
	}
	if !h.hold(unlock) {
		return false, []string{"the push was given up"}
	}
	return p.check(ctx, push)
}

// heldLock is the repository's lock as a push's check took it, released
// when the push ends; a check that takes it after the push ended (a
// check that outlived its hook) releases it at once.
type heldLock struct {
	mu     sync.Mutex
	unlock func()
	ended  bool
}

func (h *heldLock) hold(unlock func()) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ended || h.unlock != nil {
		unlock()
		return false
	}
	h.unlock = unlock
	return true
}

func (h *heldLock) held() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.unlock != nil
}

func (h *heldLock) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ended = true
	if h.unlock != nil {
		h.unlock()
		h.unlock = nil
	}
}

func (p *Publisher) dropStaged() {
	p.mu.Lock()
	p.staged = map[string]staged{}
	p.mu.Unlock()
}

// maxMessages bounds what a push is told: a tree with thousands of
// problems is summarised after this many lines.
const maxMessages = 150

// check is the pre-receive hook: it accepts a push only if every branch it
// updates is one the portal publishes and every new tree passes the same
// checks as `portal check`. All problems are told, one per line.
func (p *Publisher) check(ctx context.Context, push *gitrepo.Push) (bool, []string) {
	var msgs []string
	ok := true
	p.mu.Lock()
	live := p.live
	p.mu.Unlock()
	mainBranch := mainRef + p.repo.Branch()
	for _, u := range push.Updates {
		deleting := isZero(u.New)
		switch {
		case u.Ref == mainBranch:
			if deleting {
				ok = false
				msgs = append(msgs, fmt.Sprintf("%s: the published branch cannot be deleted", p.repo.Branch()))
				continue
			}
			if !isZero(u.Old) && !p.cfg.AllowForcePush {
				ff, err := push.Repo.IsAncestor(ctx, u.Old, u.New)
				if err != nil {
					return false, []string{"the push could not be checked: " + err.Error()}
				}
				if !ff {
					ok = false
					msgs = append(msgs, fmt.Sprintf("%s: a force push would rewrite published history, which this portal refuses; pull, merge or rebase onto %s, and push again", p.repo.Branch(), p.repo.Branch()))
					continue
				}
			}
			next, fsys, problems, err := p.checkTree(ctx, push.Repo, live, u.New)
			if err != nil {
				return false, []string{"the push could not be checked: " + err.Error()}
			}
			if len(problems) > 0 {
				ok = false
				msgs = append(msgs, problems...)
				continue
			}
			if ctx.Err() != nil {
				return false, []string{"the push took too long to check; nothing was published"}
			}
			changed, deleted := kb.Changed(live.kb, next)
			msgs = append(msgs, fmt.Sprintf("%s: checked %d articles: %s; live once this push completes", p.repo.Branch(), len(next.Articles), changeSummary(len(changed), len(deleted))))
			p.mu.Lock()
			p.staged[u.New] = staged{kb: next, fsys: fsys}
			p.mu.Unlock()
		case strings.HasPrefix(u.Ref, previewPrefix) && len(u.Ref) > len(previewPrefix):
			name := u.Ref[len(previewPrefix):]
			if !validPreviewName(name) {
				ok = false
				msgs = append(msgs, fmt.Sprintf("preview/%s: a preview's name is one word of letters, digits, '.', '_' or '-' (it becomes the address /preview/NAME/)", name))
				continue
			}
			if deleting {
				msgs = append(msgs, fmt.Sprintf("preview/%s: removed", name))
				continue
			}
			_, _, problems, err := p.checkTree(ctx, push.Repo, live, u.New)
			if err != nil {
				return false, []string{"the push could not be checked: " + err.Error()}
			}
			if len(problems) > 0 {
				ok = false
				msgs = append(msgs, problems...)
				continue
			}
			msgs = append(msgs, fmt.Sprintf("preview/%s: served to signed-in staff at /preview/%s/", name, name))
		default:
			ok = false
			msgs = append(msgs, fmt.Sprintf("%s: only %s (published) and preview/NAME (shown to staff) can be pushed here", strings.TrimPrefix(u.Ref, mainRef), p.repo.Branch()))
		}
	}
	if !ok {
		p.dropStaged()
		msgs = append(msgs, "push refused: nothing was published")
	}
	return ok, msgs
}

// checkTree builds the knowledge base of commit from live's and returns
// its problems as "path:line: message", every one of them up to
// maxMessages.
func (p *Publisher) checkTree(ctx context.Context, repo *gitrepo.Repo, live state, commit string) (*kb.KB, *commitFS, []string, error) {
	next, fsys, err := p.update(ctx, repo, live, commit)
	if err != nil {
		return nil, nil, nil, err
	}
	return next, fsys, problemLines(next.Problems), nil
}

func problemLines(problems []kb.Problem) []string {
	var out []string
	for i, pr := range problems {
		if i == maxMessages {
			out = append(out, fmt.Sprintf("… and %d more problems (run `portal check` on your clone to see them all)", len(problems)-maxMessages))
			break
		}
		out = append(out, pr.String())
	}
	if len(problems) > 0 {
		noun := "problems"
		if len(problems) == 1 {
			noun = "problem"
		}
		out = append(out, fmt.Sprintf("%d %s found; fix them, commit, and push again", len(problems), noun))
	}
	return out
}

func changeSummary(changed, deleted int) string {
	if changed == 0 && deleted == 0 {
		return "no article changed"
	}
	return fmt.Sprintf("%d added or changed, %d removed", changed, deleted)
}

func isZero(id string) bool { return strings.Trim(id, "0") == "" }

// validPreviewName: one path segment that needs no escaping in a URL.
func validPreviewName(name string) bool {
	if name == "" || len(name) > 100 || name[0] == '.' || name[0] == '-' {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Rejected is returned by FetchAndPublish and PublishDir when the new
// content has problems; nothing was published.
type Rejected struct {
	Commit   string
	Problems []string
}

func (r *Rejected) Error() string {
	return fmt.Sprintf("publish: %s refused: %d problem lines", short(r.Commit), len(r.Problems))
}

// ErrRejected matches every *Rejected with errors.Is.
var ErrRejected = errors.New("publish: content refused")

func (r *Rejected) Is(target error) bool { return target == ErrRejected }

// FetchAndPublish fetches the configured remote's branch (a webhook said
// it moved), checks it as a push to main is checked, and publishes it. A
// commit that fails the checks leaves the live knowledge base as it was,
// is logged at ERROR and shown to operators (Failures), and returns a
// *Rejected.
func (p *Publisher) FetchAndPublish(ctx context.Context) (string, error) {
	if p.cfg.Remote == "" {
		return "", errors.New("publish: no remote repository is configured")
	}
	var commit string
	err := p.locked(ctx, func(ctx context.Context) error {
		var err error
		branch := p.cfg.RemoteBranch
		if branch == "" {
			branch = p.repo.Branch()
		}
		if commit, err = p.repo.Fetch(ctx, p.cfg.Remote, branch); err != nil {
			p.fail("webhook", "", nil, err)
			return fmt.Errorf("publish: fetch: %w", err)
		}
		return p.publishCommit(ctx, "webhook", commit)
	})
	return commit, err
}

// publishCommit checks commit and, if it passes, moves main to it and
// publishes it. The caller holds the lock.
func (p *Publisher) publishCommit(ctx context.Context, source, commit string) error {
	p.mu.Lock()
	live := p.live
	p.mu.Unlock()
	if commit == live.commit {
		return nil
	}
	if !p.cfg.AllowForcePush {
		ff, err := p.repo.IsAncestor(ctx, live.commit, commit)
		if err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		if !ff {
			// The first fetch from a host replaces the portal's own initial
			// commit, which the host's history cannot contain; after that,
			// the host's history must contain what is published.
			ff, err = p.onlyInitialCommit(ctx, live.commit)
			if err != nil {
				return fmt.Errorf("publish: %w", err)
			}
		}
		if !ff {
			problems := []string{fmt.Sprintf("%s does not contain the published commit %s: it would rewrite published history, which this portal refuses", short(commit), short(live.commit))}
			p.fail(source, commit, problems, nil)
			p.log.Error("content refused", "source", source, "commit", short(commit), "problems", problems)
			return &Rejected{Commit: commit, Problems: problems}
		}
	}
	next, fsys, problems, err := p.checkTree(ctx, p.repo, live, commit)
	if err != nil {
		p.fail(source, commit, nil, err)
		return fmt.Errorf("publish: check %s: %w", short(commit), err)
	}
	if len(problems) > 0 {
		problems = problems[:len(problems)-1] // the count line is for a terminal
		p.fail(source, commit, problems, nil)
		p.log.Error("content refused; the live knowledge base is unchanged", "source", source, "commit", short(commit), "problems", strings.Join(problems, "\n"))
		return &Rejected{Commit: commit, Problems: problems}
	}
	if err := p.repo.UpdateRef(ctx, mainRef+p.repo.Branch(), commit, live.commit); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	p.mu.Lock()
	p.staged[commit] = staged{kb: next, fsys: fsys}
	p.mu.Unlock()
	// main has moved: publishing it must not stop because the caller (a
	// webhook's request) went away.
	return p.sync(context.WithoutCancel(ctx))
}

// onlyInitialCommit reports whether main's history is just the commit the
// portal made from its content folder.
func (p *Publisher) onlyInitialCommit(ctx context.Context, commit string) (bool, error) {
	log, err := p.repo.Log(ctx, commit, "", 2, false)
	if err != nil {
		return false, err
	}
	return len(log) == 1 && log[0].Email == gitrepo.PortalAuthor.Email, nil
}
