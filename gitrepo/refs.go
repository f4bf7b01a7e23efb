package gitrepo

import (
	"context"
	"fmt"
	"strings"
)

// Refs maps every ref under prefix (e.g. "refs/heads/preview/") to its
// commit.
func (r *Repo) Refs(ctx context.Context, prefix string) (map[string]string, error) {
	if !strings.HasPrefix(prefix, "refs/") {
		return nil, fmt.Errorf("gitrepo: refs: %q does not start with refs/", prefix)
	}
	out, err := r.git(ctx, nil, "for-each-ref", "--format=%(objectname) %(refname)", "--", prefix)
	if err != nil {
		return nil, fmt.Errorf("gitrepo: refs: %w", err)
	}
	refs := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if id, name, ok := strings.Cut(line, " "); ok {
			refs[name] = id
		}
	}
	return refs, nil
}
