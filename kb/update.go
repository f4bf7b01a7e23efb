package kb

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"sort"
	"strings"
)

// Change is one path changed between two trees, as git reports it.
type Change struct {
	Path    string // the path now (for a deletion, the path that was)
	OldPath string // for a rename, where the file was
	Deleted bool
}

// Update returns the knowledge base of fsys, which differs from k's tree by
// changes. The result is what LoadFS(fsys) with k's options would give,
// plus redirects for renamed articles, but only the changed files are read
// and parsed and only the bodies they may affect are validated again. k is
// not changed and stays usable.
func (k *KB) Update(fsys fs.FS, changes []Change) (*KB, error) {
	if k.st == nil {
		return LoadFS(fsys, k.opts)
	}
	old := k.st
	st := &state{
		files: maps.Clone(old.files), docs: maps.Clone(old.docs),
		syn: old.syn, synHash: old.synHash, synProblems: old.synProblems,
		fallback: old.fallback, langHash: old.langHash, langProblems: old.langProblems,
	}
	touched := map[string]bool{}
	for _, c := range changes {
		for _, p := range []string{c.Path, c.OldPath} {
			if p = cleanPath(p); p != "" {
				touched[p] = true
			}
		}
	}

	// The entries of the tree the changed paths are, as walkTree would
	// find them: nothing in a skipped directory, the directory itself when
	// its name is refused.
	var entries []string
	seen := map[string]bool{}
	for p := range touched {
		if e, ok := coveredEntry(p); ok && !seen[e] {
			seen[e] = true
			entries = append(entries, e)
			touched[e] = true
		}
	}
	sort.Strings(entries)
	listings := map[string]map[string]fs.DirEntry{}
	var found []walked
	for _, e := range entries {
		dir := path.Dir(e)
		l, ok := listings[dir]
		if !ok {
			var err error
			if l, err = listDir(fsys, dir); err != nil {
				return nil, fmt.Errorf("kb: update: %w", err)
			}
			listings[dir] = l
		}
		if d, ok := l[path.Base(e)]; ok {
			found = append(found, walked{e, d})
		} else {
			delete(st.files, e)
			delete(st.docs, e)
		}
	}
	states := make([]*fileState, len(found))
	raws := make([][]byte, len(found))
	parallel(len(found), func(i int) {
		states[i], raws[i] = inspect(fsys, found[i].path, found[i].d, k.opts.MaxFileSize)
	})
	var parse []int
	for i, w := range found {
		f := states[i]
		if f == nil {
			delete(st.files, w.path)
			delete(st.docs, w.path)
			continue
		}
		st.files[w.path] = f
		if !f.MD {
			delete(st.docs, w.path)
			continue
		}
		if d, ok := st.docs[w.path]; !ok || d.Hash != f.Sig {
			parse = append(parse, i)
		}
	}
	docs := make([]*doc, len(parse))
	parallel(len(parse), func(j int) {
		i := parse[j]
		docs[j] = parseDoc(found[i].path, raws[i])
		docs[j].Hash = states[i].Sig
	})
	for j, i := range parse {
		st.docs[found[i].path] = docs[j]
	}
	if touched[SynonymsFile] {
		st.syn, st.synHash, st.synProblems = loadSynonyms(fsys)
	}
	if touched[LanguagesFile] {
		st.fallback, st.langHash, st.langProblems = loadLanguages(fsys)
	}

	redirects := maps.Clone(k.redirects)
	for _, c := range changes {
		to, from := cleanPath(c.Path), cleanPath(c.OldPath)
		if from == "" {
			from = to
		}
		if from != to {
			for u, p := range redirects {
				if p == from {
					redirects[u] = to // a chain a → b → c keeps a working
				}
			}
		}
		od, nd := old.docs[from], st.docs[to]
		if od == nil || !od.Valid || nd == nil || (from == to && !nd.Valid) {
			continue
		}
		if ou := urlKey(od.Tmpl); !nd.Valid || ou != urlKey(nd.Tmpl) {
			redirects[ou] = to
		}
	}
	return build(fsys, k.opts, k.md, st, redirects, &prevBuild{files: old.files, idents: old.idents, views: old.views, touched: touched}), nil
}

func cleanPath(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	p = path.Clean(p)
	if p == "." {
		return ""
	}
	return p
}

// coveredEntry returns the entry walkTree gives for a changed path, and
// false if it gives none (the path is in a skipped directory).
func coveredEntry(p string) (string, bool) {
	parts := strings.Split(p, "/")
	for i, c := range parts[:len(parts)-1] {
		if nameProblem(c) != "" {
			return strings.Join(parts[:i+1], "/"), true
		}
		if skippedDir(c) {
			return "", false
		}
	}
	return p, true
}

// listDir reads a directory's entries by name; a directory that is gone
// (or is now a file) has none.
func listDir(fsys fs.FS, dir string) (map[string]fs.DirEntry, error) {
	des, err := fs.ReadDir(fsys, dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if st, serr := fs.Stat(fsys, dir); serr != nil || !st.IsDir() {
			return nil, nil
		}
		return nil, err
	}
	m := make(map[string]fs.DirEntry, len(des))
	for _, d := range des {
		m[d.Name()] = d
	}
	return m, nil
}

// Changed returns the IDs of the articles of next to (re)index, because
// they are new or their source or path changed, and of those of old that
// next no longer serves. old may be nil.
func Changed(old, next *KB) (changed, deleted []string) {
	for _, a := range next.Articles {
		var o *Article
		if old != nil {
			o = old.byID[a.ID]
		}
		if o == nil || o.digest != a.digest {
			changed = append(changed, a.ID)
		}
	}
	if old != nil {
		for _, a := range old.Articles {
			if _, ok := next.byID[a.ID]; !ok {
				deleted = append(deleted, a.ID)
			}
		}
	}
	sort.Strings(changed)
	sort.Strings(deleted)
	return changed, deleted
}
