package gitrepo

import (
	"bytes"
	"context"
	"fmt"
	"strings"
)

// Change is one file changed between two commits.
type Change struct {
	Status  byte   // 'A' added, 'M' modified, 'D' deleted, 'R' renamed (possibly modified too)
	Path    string // the file's path after the change (before it, for 'D')
	OldPath string // for 'R': where it was
}

// Diff lists the files changed from commit from ("" or a zero id, as in
// a RefUpdate creating its ref = the empty tree) to commit to, with
// renames detected.
func (r *Repo) Diff(ctx context.Context, from, to string) ([]Change, error) {
	if IsZeroID(from) {
		from = ""
	}
	if !objectID.MatchString(to) || (from != "" && !objectID.MatchString(from)) {
		return nil, fmt.Errorf("gitrepo: diff: not object ids: %q, %q", from, to)
	}
	if from == "" {
		empty, err := r.emptyTree(ctx)
		if err != nil {
			return nil, fmt.Errorf("gitrepo: diff: %w", err)
		}
		from = empty
	}
	out, err := r.git(ctx, nil, "diff-tree", "-r", "-z", "-M", "--name-status", "--no-commit-id", from, to)
	if err != nil {
		return nil, fmt.Errorf("gitrepo: diff: %w", err)
	}
	changes, err := parseNameStatus(splitZ(out))
	if err != nil {
		return nil, fmt.Errorf("gitrepo: diff: %w", err)
	}
	return changes, nil
}

// emptyTree is the empty tree's id in this repository's hash.
func (r *Repo) emptyTree(ctx context.Context) (string, error) {
	out, err := r.git(ctx, strings.NewReader(""), "hash-object", "-t", "tree", "--stdin")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// parseNameStatus reads --name-status -z tokens: a status, then one path,
// or two for a rename or copy.
func parseNameStatus(tok []string) ([]Change, error) {
	var changes []Change
	for i := 0; i < len(tok); {
		st := tok[i]
		if st == "" {
			i++
			continue
		}
		switch st[0] {
		case 'R', 'C':
			if i+2 >= len(tok) {
				return nil, fmt.Errorf("truncated entry %q", st)
			}
			if st[0] == 'R' {
				changes = append(changes, Change{Status: 'R', OldPath: tok[i+1], Path: tok[i+2]})
			} else { // a copy leaves the source alone
				changes = append(changes, Change{Status: 'A', Path: tok[i+2]})
			}
			i += 3
		case 'A', 'M', 'D', 'T':
			if i+1 >= len(tok) {
				return nil, fmt.Errorf("truncated entry %q", st)
			}
			s := st[0]
			if s == 'T' { // a file became a symlink or back: its content changed
				s = 'M'
			}
			changes = append(changes, Change{Status: s, Path: tok[i+1]})
			i += 2
		default:
			return nil, fmt.Errorf("unexpected status %q", st)
		}
	}
	return changes, nil
}

func splitZ(b []byte) []string {
	b = bytes.TrimSuffix(b, []byte{0})
	if len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), "\x00")
}
