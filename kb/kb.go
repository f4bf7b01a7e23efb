// Package kb loads the knowledge base: Markdown articles with YAML front
// matter, rendered with goldmark. It knows nothing of search or HTTP.
package kb

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

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
	Fingerprint string // changes whenever any article or the synonym list changes

	byID    map[string]*Article
	aliases map[string]*Article
	byKey   map[string][]*Article
	byLang  map[string][]*Article // in the order of Articles
	langs   []string              // most articles first
}

// ErrNotFound is returned when an article, category or asset does not exist.
var ErrNotFound = errors.New("not found")

type source struct {
	rel      string
	header   []byte
	fm       frontMatter
	body     []byte
	bodyLine int
	article  *Article
	problems []Problem
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
	fsys := os.DirFS(root)
	var files []string
	// Other files (images, attachments) count in the fingerprint by name,
	// size and time, so that adding a missing image invalidates a snapshot
	// that refused the article for lacking it.
	others := sha256.New()
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(strings.ToLower(name), ".md") && !strings.HasPrefix(name, "_") {
			files = append(files, p)
		} else if info, err := d.Info(); err == nil {
			fmt.Fprintf(others, "%s\x00%d\x00%d\n", p, info.Size(), info.ModTime().UnixNano())
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("kb: load: %w", err)
	}
	sort.Strings(files)

	raws := make([][]byte, len(files))
	readErrs := make([]error, len(files))
	hashes := make([][32]byte, len(files))
	parallel(len(files), func(i int) {
		raws[i], readErrs[i] = fs.ReadFile(fsys, files[i])
		hashes[i] = sha256.Sum256(raws[i])
	})
	fp := sha256.New()
	fmt.Fprintf(fp, "snapshot %d\n", snapshotVersion)
	for i, f := range files {
		fmt.Fprintf(fp, "%s\x00%x\n", f, hashes[i])
	}
	syn, synHash, synProblems := loadSynonyms(fsys)
	fp.Write(synHash)
	fp.Write(others.Sum(nil))
	fingerprint := hex.EncodeToString(fp.Sum(nil))

	md := newMarkdown()
	if cacheFile != "" {
		if k, ok := readSnapshot(cacheFile, fingerprint, md, fsys); ok {
			k.Root, k.Synonyms = root, syn
			return k, true, nil
		}
	}

	k := newKB(root)
	k.Synonyms = syn
	k.Fingerprint = fingerprint
	k.Problems = append(k.Problems, synProblems...)
	srcs := make([]*source, len(files))
	parallel(len(files), func(i int) {
		srcs[i] = parseSource(files[i], raws[i], readErrs[i])
	})

	// Identity checks need every article, so they run in one pass.
	byPath := map[string]*Article{}
	owner := map[string]string{} // URL or alias → path that claimed it
	for _, s := range srcs {
		if s.article == nil {
			continue
		}
		a := s.article
		if prev, dup := owner[a.URL()]; dup {
			s.problems = append(s.problems, Problem{a.Path, 1, fmt.Sprintf("duplicate slug %q in language %s (also used by %s)", a.Slug, a.Lang, prev)})
			s.article = nil
			continue
		}
		owner[a.URL()] = a.Path
		byPath[a.Path] = a
	}
	for _, s := range srcs {
		if s.article == nil {
			continue
		}
		for _, al := range s.article.Aliases {
			if prev, dup := owner[al]; dup && prev != s.article.Path {
				s.problems = append(s.problems, Problem{s.rel, aliasLine(s), fmt.Sprintf("duplicate alias %q (also used by %s)", al, prev)})
				continue
			}
			owner[al] = s.article.Path
		}
	}

	res := &treeResolver{fsys: fsys, byPath: byPath}
	parallel(len(srcs), func(i int) {
		s := srcs[i]
		if s.article == nil {
			return
		}
		a := s.article
		r := render(md, a, s.body, s.bodyLine, res, false)
		a.Text, a.Headings, a.Assets = r.text, r.headings, r.assets
		a.body, a.bodyLine, a.res, a.md = s.body, s.bodyLine, res, md
		s.problems = append(s.problems, r.problems...)
	})

	var served []*Article
	for _, s := range srcs {
		k.Problems = append(k.Problems, s.problems...)
		if s.article != nil && len(s.problems) == 0 && !s.fm.Draft {
			served = append(served, s.article)
		}
	}
	k.add(served)
	sort.SliceStable(k.Problems, func(i, j int) bool {
		if k.Problems[i].Path != k.Problems[j].Path {
			return k.Problems[i].Path < k.Problems[j].Path
		}
		return k.Problems[i].Line < k.Problems[j].Line
	})
	return k, false, nil
}

func newKB(root string) *KB {
	return &KB{Root: root, byID: map[string]*Article{}, aliases: map[string]*Article{}, byKey: map[string][]*Article{}, byLang: map[string][]*Article{}}
}

// add makes articles servable and orders them.
func (k *KB) add(articles []*Article) {
	for _, a := range articles {
		k.Articles = append(k.Articles, a)
		k.byID[a.ID] = a
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

// parseSource parses one file's front matter into an Article without
// rendering it.
func parseSource(rel string, raw []byte, readErr error) *source {
	s := &source{rel: rel}
	if readErr != nil {
		s.problems = append(s.problems, Problem{rel, 1, "cannot read file: " + readErr.Error()})
		return s
	}
	if !utf8.Valid(raw) {
		line := 1 + bytes.Count(raw[:firstInvalidUTF8(raw)], []byte("\n"))
		s.problems = append(s.problems, Problem{rel, line, "not UTF-8 text (save the file as UTF-8)"})
		return s
	}
	header, body, bodyLine, err := splitFrontMatter(raw)
	if err == nil {
		s.fm, err = parseFrontMatter(header)
	}
	if err != nil {
		var le *lineError
		line := 1
		if errors.As(err, &le) {
			line = le.line
		}
		s.problems = append(s.problems, Problem{rel, line, err.Error()})
		return s
	}
	s.body, s.bodyLine, s.header = body, bodyLine, header
	fm := s.fm
	title := strings.TrimSpace(fm.Title)
	if title == "" {
		s.problems = append(s.problems, Problem{rel, 1, "missing title in front matter"})
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
		s.problems = append(s.problems, Problem{rel, keyLine(header, "lang", "language") + 1, fmt.Sprintf("unknown language %q (use an ISO 639-1 code such as en, de, fr, cs)", lang)})
	}
	if title == "" || !ok {
		return s
	}
	slug := strings.Trim(fm.Slug, "/")
	if slug != "" && !validSlug(slug) {
		s.problems = append(s.problems, Problem{rel, keyLine(header, "slug") + 1, fmt.Sprintf("invalid slug %q: use letters, digits, '-', '_' and '/' between non-empty parts, no '.' or '..' parts", fm.Slug)})
		return s
	}
	if slug == "" {
		slug = strings.TrimSuffix(rel, path.Ext(rel))
		slug = strings.TrimSuffix(slug, "/index")
		if first, rest, cut := strings.Cut(slug, "/"); cut && (fromPath || langFromPath(rel) != "") && first != "" {
			slug = rest
		}
	}
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
	s.article = a
	return s
}

func normalizeAlias(al string) string {
	al = "/" + strings.Trim(strings.TrimSpace(al), "/")
	return path.Clean(al)
}

// keyLine finds the 1-based line of a top-level YAML key in text, for
// messages; 1 if it is absent. Front matter starts on the file's line 2.
func keyLine(text []byte, keys ...string) int {
	for i, l := range strings.Split(string(text), "\n") {
		for _, k := range keys {
			if strings.HasPrefix(l, k+":") {
				return i + 1
			}
		}
	}
	return 1
}

func aliasLine(s *source) int {
	return keyLine(s.header, "aliases") + 1
}

type treeResolver struct {
	fsys   fs.FS
	byPath map[string]*Article
}

func (r *treeResolver) articleAt(p string) (*Article, bool) {
	a, ok := r.byPath[p]
	return a, ok
}

func (r *treeResolver) fileExists(p string) bool {
	st, err := fs.Stat(r.fsys, p)
	return err == nil && !st.IsDir()
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
				problems = append(problems, Problem{SynonymsFile, keyLine(raw, lang), fmt.Sprintf("unknown language %q", lang)})
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
