// Package kb loads the knowledge base: Markdown articles with YAML front
// matter, rendered with goldmark, from a directory or any fs.FS (a git
// tree). KB.Update builds the next knowledge base from a changed tree,
// redoing only the work the change needs. It knows nothing of search or
// HTTP.
package kb

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"go.yaml.in/yaml/v3"

	"github.com/orbitask/portal/langtag"
)

// SynonymsFile is the name of the synonym list at the root of the content tree.
const SynonymsFile = "synonyms.yaml"

// KB is a loaded, validated knowledge base. It is immutable once loaded.
type KB struct {
	Root        string
	Articles    []*Article // valid, non-draft articles, ordered by language, category, weight, title
	Problems    []Problem  // every problem found; the files concerned are left out
	Synonyms    Synonyms
	Fingerprint string // changes whenever any article, the synonym list or the languages' settings change

	byID      map[string]*Article
	aliases   map[string]*Article
	byKey     map[string][]*Article
	byLang    map[string][]*Article // in the order of Articles
	langs     []string              // most articles first
	served    map[string]*Article   // by content path
	redirects map[string]string     // old URL path → content path
	fallback  map[string]string     // language → its fallback, from languages.yaml

	fsys fs.FS
	opts Options
	md   goldmark.Markdown
	st   *state
}

// Options says how LoadFS reads a tree.
type Options struct {
	Root        string            // label shown to staff: a directory, or "content.git@<commit>"
	CacheFile   string            // snapshot file written by WriteSnapshot ("" = none)
	Redirects   map[string]string // old URL path ("/kb/en/old-slug") → content path of the article now serving it ("en/new.md")
	MaxFileSize int64             // 0 = DefaultMaxFileSize
}

// ErrNotFound is returned when an article, category or asset does not exist.
var ErrNotFound = errors.New("not found")

// state is what a KB keeps of its tree so that Update redoes only the work
// a change needs. Its maps are never changed once the KB is built.
type state struct {
	files       map[string]*fileState // every entry of the tree, by path
	docs        map[string]*doc       // every article source, by path
	syn         Synonyms
	synHash     []byte
	synProblems []Problem
	// The same for languages.yaml.
	fallback     map[string]string
	langHash     []byte
	langProblems []Problem
	idents       map[string]string       // path → URL of each article that holds its URL
	views        map[string]*articleView // path → lazily rendered HTML of each served article
}

// doc is one parsed article source. The fields are exported for the
// snapshot.
type doc struct {
	Hash      string   // of the file's content
	Tmpl      *Article // the front matter's article, or a placeholder; nil if the body cannot be found
	Valid     bool     // the front matter has no problem: the article claims its URL and aliases
	Draft     bool
	Body      []byte
	BodyLine  int
	SlugLine  int
	AliasLine int
	Problems  []Problem // of the front matter
	R         *renderState
}

// renderState is what validating a body found. It depends on the body and
// on whether its link and image targets exist, nothing else.
type renderState struct {
	Text     string
	Headings []Heading
	Assets   map[string]string
	Problems []Problem
	Targets  []string // content paths the body refers to
}

// Load reads every Markdown file under root. Files with problems are reported
// in KB.Problems and left out; only an unreadable root is an error.
func Load(root string) (*KB, error) {
	k, _, err := LoadCached(root, "")
	return k, err
}

// LoadCached is Load that first tries the snapshot in cacheFile (none if
// ""), written by WriteSnapshot. The snapshot is derived data: it is used
// only when every file's content is unchanged. It reports whether it was used.
func LoadCached(root, cacheFile string) (*KB, bool, error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, false, fmt.Errorf("kb: load: %w", err)
	}
	if !info.IsDir() {
		return nil, false, fmt.Errorf("kb: load: %s is not a directory", root)
	}
	return loadFS(os.DirFS(root), Options{Root: root, CacheFile: cacheFile})
}

// LoadFS reads the knowledge base in fsys. Files with problems are reported
// in KB.Problems and left out; only an unreadable tree is an error.
func LoadFS(fsys fs.FS, opts Options) (*KB, error) {
	k, _, err := loadFS(fsys, opts)
	return k, err
}

// LoadFSCached is LoadFS that also reports whether opts.CacheFile's
// snapshot was used (so the caller knows whether to write a new one).
func LoadFSCached(fsys fs.FS, opts Options) (*KB, bool, error) {
	return loadFS(fsys, opts)
}

func loadFS(fsys fs.FS, opts Options) (*KB, bool, error) {
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	entries, err := walkTree(fsys)
	if err != nil {
		return nil, false, fmt.Errorf("kb: load: %w", err)
	}
	states := make([]*fileState, len(entries))
	raws := make([][]byte, len(entries))
	parallel(len(entries), func(i int) {
		states[i], raws[i] = inspect(fsys, entries[i].path, entries[i].d, opts.MaxFileSize)
	})
	st := &state{files: make(map[string]*fileState, len(entries)), docs: map[string]*doc{}}
	var mds []int
	for i, e := range entries {
		if states[i] == nil {
			continue
		}
		st.files[e.path] = states[i]
		if states[i].MD {
			mds = append(mds, i)
		}
	}
	st.syn, st.synHash, st.synProblems = loadSynonyms(fsys)
	st.fallback, st.langHash, st.langProblems = loadLanguages(fsys)
	md := newMarkdown()
	if opts.CacheFile != "" {
		if docs, ok := readSnapshot(opts.CacheFile, st.fingerprint(sortedKeys(st.files))); ok && len(docs) == countMD(st.files) {
			st.docs = docs
			return build(fsys, opts, md, st, opts.Redirects, nil), true, nil
		}
	}
	docs := make([]*doc, len(mds))
	parallel(len(mds), func(j int) {
		i := mds[j]
		docs[j] = parseDoc(entries[i].path, raws[i])
		docs[j].Hash = states[i].Sig
	})
	for j, i := range mds {
		st.docs[entries[i].path] = docs[j]
	}
	return build(fsys, opts, md, st, opts.Redirects, nil), false, nil
}

// fingerprint hashes every entry's line (content hash for Markdown, size and
// time for other files), the synonym list and the languages' settings.
func (st *state) fingerprint(paths []string) string {
	h := sha256.New()
	fmt.Fprintf(h, "kb %d\n", snapshotVersion)
	for _, p := range paths {
		io.WriteString(h, p)
		h.Write([]byte{0})
		io.WriteString(h, st.files[p].Sig)
		h.Write([]byte{'\n'})
	}
	h.Write(st.synHash)
	h.Write(st.langHash) // nothing without the file: older fingerprints stay valid
	return hex.EncodeToString(h.Sum(nil))
}

func countMD(files map[string]*fileState) int {
	n := 0
	for _, f := range files {
		if f.MD {
			n++
		}
	}
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// prevBuild is what Update passes on from the knowledge base it starts from.
type prevBuild struct {
	files   map[string]*fileState
	idents  map[string]string
	views   map[string]*articleView
	touched map[string]bool
}

// build checks identities across every article, validates the bodies that
// need it (those not yet rendered, and with prev those referring to a path
// whose file or article changed its standing) and assembles the KB. It
// fills in st.
func build(fsys fs.FS, opts Options, md goldmark.Markdown, st *state, redirects map[string]string, prev *prevBuild) *KB {
	k := newKB(opts.Root)
	k.fsys, k.opts, k.md, k.st = fsys, opts, md, st
	k.Synonyms = st.syn
	k.fallback = st.fallback
	paths := sortedKeys(st.files)
	k.Fingerprint = st.fingerprint(paths)
	docPaths := sortedKeys(st.docs)

	// Each KB has its own Article values: a reused one would keep the old
	// tree alive through its resolver.
	arts := make(map[string]*Article, len(st.docs))
	for _, p := range docPaths {
		if d := st.docs[p]; d.Tmpl != nil {
			a := *d.Tmpl
			arts[p] = &a
		}
	}

	// Identity checks need every article, so they run in one pass.
	idProblems := map[string][]Problem{}
	byPath := map[string]*Article{}
	owner := map[string]string{} // URL or alias → path that claimed it
	claimed := map[string]bool{} // the same, as Alias is asked
	st.idents = map[string]string{}
	for _, p := range docPaths {
		d := st.docs[p]
		if !d.Valid {
			continue
		}
		a := arts[p]
		u := a.URL()
		if prevPath, dup := owner[u]; dup {
			idProblems[p] = append(idProblems[p], Problem{p, d.SlugLine, fmt.Sprintf("duplicate slug %q in language %s (also used by %s)", a.Slug, a.Lang, prevPath)})
			continue
		}
		owner[u] = p
		claimed[urlKey(a)] = true
		byPath[p] = a
		st.idents[p] = u
	}
	for _, p := range docPaths {
		d := st.docs[p]
		if !d.Valid {
			continue
		}
		_, holds := byPath[p]
		for _, al := range arts[p].Aliases {
			if prevPath, dup := owner[al]; dup && prevPath != p {
				idProblems[p] = append(idProblems[p], Problem{p, d.AliasLine, fmt.Sprintf("duplicate alias %q (also used by %s)", al, prevPath)})
				continue
			}
			if holds {
				owner[al] = p
				claimed[al] = true
			}
		}
	}
	k.redirects = map[string]string{}
	for u, p := range redirects {
		u = normalizeAlias(u)
		if _, ok := st.docs[p]; ok && !claimed[u] {
			k.redirects[u] = p
		}
	}

	// A body is validated again when it is new or refers to a path whose
	// file came, went or changed its standing, or whose article came, went
	// or changed its URL: nothing else of the tree shows in a body.
	res := &treeResolver{files: st.files, byPath: byPath}
	var affected map[string]bool
	if prev != nil {
		affected = map[string]bool{}
		for p := range prev.touched {
			was, wasOK := prev.files[p]
			is, isOK := st.files[p]
			if wasOK != isOK || wasOK && was.Servable != is.Servable {
				affected[p] = true
			}
		}
		for p, u := range prev.idents {
			if st.idents[p] != u {
				affected[p] = true
			}
		}
		for p, u := range st.idents {
			if prev.idents[p] != u {
				affected[p] = true
			}
		}
	}
	var todo []string
	for _, p := range docPaths {
		d := st.docs[p]
		if d.Tmpl != nil && (d.R == nil || refersTo(d.R.Targets, affected)) {
			todo = append(todo, p)
		}
	}
	rs := make([]*renderState, len(todo))
	parallel(len(todo), func(i int) {
		d := st.docs[todo[i]]
		r := render(md, arts[todo[i]], d.Body, d.BodyLine, res, false)
		rs[i] = &renderState{Text: r.text, Headings: r.headings, Assets: r.assets, Problems: r.problems, Targets: r.targets}
	})
	rerendered := make(map[string]bool, len(todo))
	for i, p := range todo {
		nd := *st.docs[p]
		nd.R = rs[i]
		st.docs[p] = &nd
		rerendered[p] = true
	}

	st.views = map[string]*articleView{}
	var served []*Article
	for _, p := range paths {
		k.Problems = append(k.Problems, st.files[p].Problems...)
		d, ok := st.docs[p]
		if !ok {
			continue
		}
		n := len(k.Problems)
		k.Problems = append(k.Problems, d.Problems...)
		k.Problems = append(k.Problems, idProblems[p]...)
		if d.R != nil {
			k.Problems = append(k.Problems, d.R.Problems...)
		}
		a, holds := byPath[p]
		if !holds || len(k.Problems) > n || d.Draft {
			continue
		}
		a.Text, a.Headings, a.Assets = d.R.Text, d.R.Headings, d.R.Assets
		a.body, a.bodyLine, a.res, a.md = d.Body, d.BodyLine, res, md
		a.digest = p + "\x00" + d.Hash
		// The HTML is shared with the previous KB while what it shows is
		// unchanged: the page need not be rendered again.
		if v, ok := prev.view(p); ok && !rerendered[p] {
			a.view = v
		} else {
			a.view = &articleView{}
		}
		st.views[p] = a.view
		served = append(served, a)
	}
	k.Problems = append(k.Problems, st.synProblems...)
	k.Problems = append(k.Problems, st.langProblems...)
	k.add(served)
	sort.SliceStable(k.Problems, func(i, j int) bool {
		if k.Problems[i].Path != k.Problems[j].Path {
			return k.Problems[i].Path < k.Problems[j].Path
		}
		return k.Problems[i].Line < k.Problems[j].Line
	})
	return k
}

func (prev *prevBuild) view(p string) (*articleView, bool) {
	if prev == nil {
		return nil, false
	}
	v, ok := prev.views[p]
	return v, ok
}

func refersTo(targets []string, affected map[string]bool) bool {
	for _, t := range targets {
		if affected[t] {
			return true
		}
	}
	return false
}

// urlKey is an article's URL as Alias is asked it (unescaped).
func urlKey(a *Article) string {
	return normalizeAlias("/kb/" + a.Lang + "/" + a.Slug)
}

func newKB(root string) *KB {
	return &KB{Root: root, byID: map[string]*Article{}, aliases: map[string]*Article{}, byKey: map[string][]*Article{}, byLang: map[string][]*Article{}, served: map[string]*Article{}}
}

// add makes articles servable and orders them.
func (k *KB) add(articles []*Article) {
	for _, a := range articles {
		k.Articles = append(k.Articles, a)
		k.byID[a.ID] = a
		k.served[a.Path] = a
		for _, al := range a.Aliases {
			if _, taken := k.aliases[al]; !taken {
				k.aliases[al] = a
			}
		}
		if a.TranslationKey != "" {
			k.byKey[a.TranslationKey] = append(k.byKey[a.TranslationKey], a)
		}
	}
	sort.SliceStable(k.Articles, func(i, j int) bool {
		a, b := k.Articles[i], k.Articles[j]
		if a.Lang != b.Lang {
			return a.Lang < b.Lang
		}
		if a.Category != b.Category {
			return a.Category < b.Category
		}
		if a.Weight != b.Weight {
			return a.Weight < b.Weight
		}
		return a.Title < b.Title
	})
	// Pages ask per language on every request; a 38k-article knowledge
	// base must not be scanned each time.
	k.byLang = map[string][]*Article{}
	for _, a := range k.Articles {
		k.byLang[a.Lang] = append(k.byLang[a.Lang], a)
	}
	k.langs = k.langs[:0]
	for l := range k.byLang {
		k.langs = append(k.langs, l)
	}
	sort.Slice(k.langs, func(i, j int) bool {
		ni, nj := len(k.byLang[k.langs[i]]), len(k.byLang[k.langs[j]])
		if ni != nj {
			return ni > nj
		}
		return k.langs[i] < k.langs[j]
	})
}

// parseDoc parses one article source's front matter. Every problem is
// reported: a broken front matter still leaves the body to validate, with a
// placeholder article (Valid false) standing in for the one it would give.
func parseDoc(rel string, raw []byte) *doc {
	d := &doc{}
	problem := func(line int, msg string) {
		d.Problems = append(d.Problems, Problem{rel, line, msg})
	}
	if !utf8.Valid(raw) {
		line := 1 + bytes.Count(raw[:firstInvalidUTF8(raw)], []byte("\n"))
		problem(line, "not UTF-8 text (save the file as UTF-8)")
		return d
	}
	header, body, bodyLine, err := splitFrontMatter(raw)
	known := err == nil // the front matter's values are known
	var fm frontMatter
	if err != nil {
		var le *lineError
		line := 1
		if errors.As(err, &le) {
			line = le.line
		}
		problem(line, err.Error())
	} else {
		var errs []*lineError
		fm, errs, known = parseFrontMatter(header)
		for _, e := range errs {
			problem(e.line, e.msg)
		}
	}
	title := strings.TrimSpace(fm.Title)
	if known && title == "" {
		line := 1
		if l, ok := keyLine(header, "title"); ok {
			line = l + 1
		}
		problem(line, "missing title in front matter")
	}
	lang, fromPath := fm.Lang, false
	if lang == "" {
		lang = fm.Language
	}
	if lang == "" {
		lang, fromPath = langFromPath(rel), true
	}
	if lang == "" {
		lang = langtag.Default
	}
	norm, ok := langtag.Normalize(lang)
	if !ok {
		l, _ := keyLine(header, "lang", "language")
		problem(l+1, fmt.Sprintf("unknown language %q (use an ISO 639-1 code such as en, de, fr, cs)", lang))
		norm = langtag.Default
	}
	d.SlugLine, d.AliasLine = 1, 1
	if l, ok := keyLine(header, "slug"); ok {
		d.SlugLine = l + 1
	}
	if l, ok := keyLine(header, "aliases"); ok {
		d.AliasLine = l + 1
	}
	slug := strings.Trim(fm.Slug, "/")
	if slug != "" && !validSlug(slug) {
		problem(d.SlugLine, fmt.Sprintf("invalid slug %q: use letters, digits, '-', '_' and '/' between non-empty parts, no '.' or '..' parts", fm.Slug))
		slug = ""
	}
	if slug == "" {
		slug = strings.TrimSuffix(rel, path.Ext(rel))
		slug = strings.TrimSuffix(slug, "/index")
		if first, rest, cut := strings.Cut(slug, "/"); cut && (fromPath || langFromPath(rel) != "") && first != "" {
			slug = rest
		}
	}
	d.Valid = len(d.Problems) == 0
	d.Draft = fm.Draft
	if bodyLine == 0 {
		return d // the body's start is unknown: nothing more to check
	}
	d.Body, d.BodyLine = body, bodyLine
	desc := strings.TrimSpace(fm.Description)
	if desc == "" {
		desc = strings.TrimSpace(fm.Summary)
	}
	cats := fm.Categories
	if len(cats) == 0 {
		cats = fm.Category
	}
	category := ""
	if len(cats) > 0 {
		category = cats[0]
	}
	a := &Article{
		ID: norm + "/" + slug, Lang: norm, Slug: slug, Title: title, Description: desc,
		Tags: fm.Tags, Category: category, TranslationKey: fm.TranslationKey,
		Weight: fm.Weight, Date: fm.Date.Time, Lastmod: fm.Lastmod.Time, Path: rel,
	}
	for _, al := range fm.Aliases {
		a.Aliases = append(a.Aliases, normalizeAlias(al))
	}
	d.Tmpl = a
	return d
}

func normalizeAlias(al string) string {
	al = "/" + strings.Trim(strings.TrimSpace(al), "/")
	return path.Clean(al)
}

// keyLine finds the 1-based line of a top-level YAML key in text, for
// messages, and whether it is there (1 if not). Front matter starts on the
// file's line 2.
func keyLine(text []byte, keys ...string) (int, bool) {
	for i, l := range strings.Split(string(text), "\n") {
		for _, k := range keys {
			if strings.HasPrefix(l, k+":") {
				return i + 1, true
			}
		}
	}
	return 1, false
}

// treeResolver answers from what the KB knows of the tree, never from the
// file system, so that Update and LoadFS agree.
type treeResolver struct {
	files  map[string]*fileState
	byPath map[string]*Article
}

func (r *treeResolver) articleAt(p string) (*Article, bool) {
	a, ok := r.byPath[p]
	return a, ok
}

func (r *treeResolver) file(p string) (exists, servable bool) {
	f, ok := r.files[p]
	return ok, ok && f.Servable
}

// parallel runs f(0..n-1) on every CPU.
func parallel(n int, f func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	next := make(chan int, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// Synonyms maps a language ("" for every language) to groups of words or
// phrases that mean the same.
type Synonyms map[string][][]string

// For returns the groups that apply to lang.
func (s Synonyms) For(lang string) [][]string {
	out := append([][]string{}, s[""]...)
	return append(out, s[langtag.Base(lang)]...)
}

func loadSynonyms(fsys fs.FS) (Synonyms, []byte, []Problem) {
	raw, err := fs.ReadFile(fsys, SynonymsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return Synonyms{}, nil, nil
	}
	sum := sha256.Sum256(raw)
	if err != nil {
		return Synonyms{}, sum[:], []Problem{{SynonymsFile, 1, "cannot read: " + err.Error()}}
	}
	var doc map[string][][]string
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		line, msg := yamlProblem(err, 0)
		return Synonyms{}, sum[:], []Problem{{SynonymsFile, line, "expected `LANG: [[word, synonym, ...], ...]` (LANG may be \"all\"): " + msg}}
	}
	syn := Synonyms{}
	var problems []Problem
	for lang, groups := range doc {
		key := ""
		if lang != "all" {
			norm, ok := langtag.Normalize(lang)
			if !ok {
				l, _ := keyLine(raw, lang)
				problems = append(problems, Problem{SynonymsFile, l, fmt.Sprintf("unknown language %q", lang)})
				continue
			}
			key = langtag.Base(norm)
		}
		for _, g := range groups {
			if len(g) > 1 {
				syn[key] = append(syn[key], g)
			}
		}
	}
	return syn, sum[:], problems
}

// firstInvalidUTF8 returns the offset of the first byte that is not part of
// valid UTF-8.
func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// validSlug accepts path-like slugs whose parts are non-empty, not "." or
// "..", and free of characters that would end the URL path.
func validSlug(slug string) bool {
	for _, part := range strings.Split(slug, "/") {
		if part == "" || part == "." || part == ".." || strings.ContainsAny(part, "?#\\ \t") {
			return false
		}
	}
	return true
}
