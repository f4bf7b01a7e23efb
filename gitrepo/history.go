package gitrepo

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Commit is one entry of the history.
type Commit struct {
	ID      string
	Author  string
	Email   string
	When    time.Time // the author's date
	Subject string
	Patch   string // with Log's patches: the diff, for a path only that file's
}

// Log lists up to limit (0 = all) commits reachable from commit, newest
// first; with a path only those that changed it, following renames.
func (r *Repo) Log(ctx context.Context, commit, path string, limit int, patches bool) ([]Commit, error) {
	if !objectID.MatchString(commit) {
		return nil, fmt.Errorf("gitrepo: log: %q is not an object id", commit)
	}
	args := []string{"log", "--no-color", "--no-ext-diff", "--no-textconv", "--format=format:%x1e%H%x1f%an%x1f%ae%x1f%at%x1f%s%x1f"}
	if limit > 0 {
		args = append(args, "-n", strconv.Itoa(limit))
	}
	if patches {
		args = append(args, "-p", "-M")
	}
	if path != "" {
		args = append(args, "--follow")
	}
	args = append(args, commit, "--")
	if path != "" {
		args = append(args, path)
	}
	// Literal pathspecs: a path is a file name, never ":(glob)" magic.
	out, err := r.gitIn(ctx, r.dir, []string{"GIT_LITERAL_PATHSPECS=1"}, nil, args...)
	if err != nil {
		return nil, fmt.Errorf("gitrepo: log: %w", err)
	}
	var commits []Commit
	for _, rec := range strings.Split(string(out), "\x1e") {
		if rec == "" {
			continue
		}
		f := strings.SplitN(rec, "\x1f", 6)
		if len(f) != 6 {
			return nil, fmt.Errorf("gitrepo: log: unexpected record %.80q", rec)
		}
		c := Commit{ID: f[0], Author: f[1], Email: f[2], When: unixTime(f[3]), Subject: f[4]}
		if patches {
			c.Patch = strings.TrimLeft(f[5], "\n")
		}
		commits = append(commits, c)
	}
	return commits, nil
}

// Provenance is who changed a file and when it last changed.
type Provenance struct {
	Updated time.Time // the committer's date of the last commit that changed the file
	Authors []string  // distinct author names, most recent first
}

// Provenance returns, for every file of commit's tree, its last change and
// authors, following renames, from one pass over the history (merges add
// nothing of their own: their branches' commits count).
func (r *Repo) Provenance(ctx context.Context, commit string) (map[string]Provenance, error) {
	if !objectID.MatchString(commit) {
		return nil, fmt.Errorf("gitrepo: provenance: %q is not an object id", commit)
	}
	out, err := r.git(ctx, nil, "ls-tree", "-r", "-z", "--name-only", "--full-tree", commit)
	if err != nil {
		return nil, fmt.Errorf("gitrepo: provenance: %w", err)
	}
	prov := map[string]*Provenance{}
	// alias: a name at the point of the history being read → the file of
	// commit's tree it became.
	alias := map[string]string{}
	for _, p := range splitZ(out) {
		prov[p] = &Provenance{}
		alias[p] = p
	}
	out, err = r.git(ctx, nil, "log", "--name-status", "-M", "-z", "--no-color", "--format=format:%x1e%an%x1f%ct", commit, "--")
	if err != nil {
		return nil, fmt.Errorf("gitrepo: provenance: %w", err)
	}
	for _, rec := range strings.Split(string(out), "\x1e") {
		if rec == "" {
			continue
		}
		header, files, _ := strings.Cut(rec, "\n")
		author, ct, ok := strings.Cut(strings.TrimRight(header, "\x00"), "\x1f")
		if !ok {
			return nil, fmt.Errorf("gitrepo: provenance: unexpected record %.80q", rec)
		}
		changes, err := parseNameStatus(splitZ([]byte(files)))
		if err != nil {
			return nil, fmt.Errorf("gitrepo: provenance: %w", err)
		}
		when := unixTime(ct)
		for _, ch := range changes {
			final, ok := alias[ch.Path]
			if !ok || ch.Status == 'D' {
				continue
			}
			p := prov[final]
			if p.Updated.IsZero() {
				p.Updated = when
			}
			if !contains(p.Authors, author) {
				p.Authors = append(p.Authors, author)
			}
			switch ch.Status {
			case 'A': // older commits knew another file by this name
				delete(alias, ch.Path)
			case 'R':
				delete(alias, ch.Path)
				alias[ch.OldPath] = final
			}
		}
	}
	res := make(map[string]Provenance, len(prov))
	for p, v := range prov {
		res[p] = *v
	}
	return res, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func unixTime(s string) time.Time {
	n, _ := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return time.Unix(n, 0).UTC()
}
