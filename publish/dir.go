package publish

import (
	"context"
	"fmt"

	"os"

	"github.com/orbitask/portal/gitrepo"
	"github.com/orbitask/portal/kb"
)

// PublishDir commits the files of dir as the next commit of main, for
// `portal publish DIR`: checked first as a push is (every problem is
// returned, nothing is committed if there is one), then committed under
// the repository's lock, which a running portal shares; the portal
// publishes the commit within its poll interval. It returns "" when dir
// holds what main holds already.
func PublishDir(ctx context.Context, repo *gitrepo.Repo, dir, message string, author gitrepo.Signature, maxFileSize int64) (string, []kb.Problem, error) {
	k, err := kb.LoadFS(os.DirFS(dir), kb.Options{Root: dir, MaxFileSize: maxFileSize})
	if err != nil {
		return "", nil, fmt.Errorf("publish: %w", err)
	}
	if len(k.Problems) > 0 {
		return "", k.Problems, nil
	}
	unlock, err := repo.Lock(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("publish: %w", err)
	}
	defer unlock()
	head, err := repo.Head(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("publish: %w", err)
	}
	commit, err := repo.CommitDir(ctx, dir, message, author, head)
	if err != nil {
		return "", nil, fmt.Errorf("publish: %w", err)
	}
	if head != "" {
		// A commit that changes nothing is left dangling (git's gc takes it).
		diff, err := repo.Diff(ctx, head, commit)
		if err != nil {
			return "", nil, fmt.Errorf("publish: %w", err)
		}
		if len(diff) == 0 {
			return "", nil, nil
		}
	}
	if err := repo.UpdateRef(ctx, mainRef+repo.Branch(), commit, head); err != nil {
		return "", nil, fmt.Errorf("publish: %w", err)
	}
	return commit, nil, nil
}
