package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/orbitask/portal/gitrepo"
	"github.com/orbitask/portal/kb"
)

// Receive runs a push (git's receive-pack over smart HTTP) and publishes
// what it accepted before returning, so that the writer's `git push`
// returns once the change is live. Pushes are serialised: one that arrives
// while another publishes waits (LockWait) and is then told to push again.
func (p *Publisher) Receive(ctx context.Context, gitProtocol string, in io.Reader, out io.Writer) error {
	lctx, cancel := context.WithTimeout(ctx, p.cfg.LockWait)
	unlock, err := p.repo.Lock(lctx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// receive-pack still runs, to tell the writer in git's own words.
		busy := func(context.Context, *gitrepo.Push) (bool, []string) {
			return false, []string{"another push is being published right now; nothing of yours was published: push again in a moment"}
		}
		return p.repo.ReceivePack(ctx, gitProtocol, in, out, busy)
	}
	defer unlock()
	if err := p.repo.ReceivePack(ctx, gitProtocol, in, out, p.check); err != nil {
		p.dropStaged()
		return fmt.Errorf("publish: receive: %w", err)
	}
	// The push is done whatever happens here; a failure is the portal's,
	// logged and retried by the watcher, not the writer's.
	if err := p.sync(context.WithoutCancel(ctx)); err != nil {
		p.log.Error("publishing a push failed; retrying", "err", err)
	}
	return nil
}

func (p *Publisher) dropStaged() {
	p.mu.Lock()
	p.staged = map[string]staged{}
	p.mu.Unlock()
}

// maxMessages bounds what a push is told: a tree with thousands of
// problems is summarised after this many lines.
const maxMessages = 500

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
			changed, deleted := kb.Changed(live.kb, next)
			msgs = append(msgs, fmt.Sprintf("%s: checked %d articles: %s; live once this push completes", p.repo.Branch(), len(next.Articles), changeSummary(len(changed), len(deleted))))
			p.mu.Lock()
			p.staged[u.New] = staged{kb: next, fsys: fsys}
			p.mu.Unlock()
		case strings.HasPrefix(u.Ref, previewPrefix) && len(u.Ref) > len(previewPrefix):
			name := u.Ref[len(previewPrefix):]
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
	return p.sync(ctx)
}
