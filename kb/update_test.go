package kb

import (
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

// summary writes down everything a reader, the index or a writer can see
// of a knowledge base, so that two of them can be compared as text.
func summary(k *KB) string {
	var b strings.Builder
	fmt.Fprintf(&b, "fingerprint %s\n", k.Fingerprint)
	for _, p := range k.Problems {
		fmt.Fprintf(&b, "problem %s\n", p)
	}
	for _, a := range k.Articles {
		fmt.Fprintf(&b, "article %s path=%s title=%q desc=%q cat=%q tags=%q aliases=%q\n  text=%q\n  headings=%v\n  assets=%v\n  html=%q\n",
			a.ID, a.Path, a.Title, a.Description, a.Category, a.Tags, a.Aliases, a.Text, a.Headings, a.Assets, a.HTML())
	}
	reds := k.Redirects()
	for _, u := range sortedKeys(reds) {
		target := "-"
		if a, ok := k.Alias(u); ok {
			target = a.ID
		}
		fmt.Fprintf(&b, "redirect %s -> %s (%s)\n", u, reds[u], target)
	}
	fmt.Fprintf(&b, "synonyms %v\n", k.Synonyms)
	for _, l := range []string{"cs", "de", "fr", "en"} {
		fmt.Fprintf(&b, "fallback %s -> %s\n", l, k.Fallback(l))
	}
	return b.String()
}

// firstDiff shows where two summaries part.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n got: %s\nwant: %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d lines", len(al), len(bl))
}

// tree is a content directory the property test changes at random.
type tree struct {
	t   *testing.T
	dir string
	r   *rand.Rand
}

var (
	treeArticles = []string{"en/a.md", "en/b.md", "en/c.md", "en/d.md", "en/sub/e.md", "de/a.md", "de/f.md", "g.md"}
	treeImages   = []string{"en/img/one.png", "en/img/two.svg", "de/three.png"}
)

func (tr *tree) exists(p string) bool {
	_, err := os.Lstat(filepath.Join(tr.dir, filepath.FromSlash(p)))
	return err == nil
}

func (tr *tree) pick(list []string, present bool) (string, bool) {
	var out []string
	for _, p := range list {
		if tr.exists(p) == present {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return "", false
	}
	return out[tr.r.Intn(len(out))], true
}

// rel is the link from the article at from to the file at to.
func rel(from, to string) string {
	r, err := filepath.Rel(path.Dir(from), to)
	if err != nil {
		panic(err)
	}
	return filepath.ToSlash(r)
}

// article writes a random article: links to articles and images that may or
// may not exist, sometimes a shared slug or alias, sometimes a broken front
// matter.
func (tr *tree) article(p string) string {
	r := tr.r
	var fm []string
	switch r.Intn(10) {
	case 0: // missing title
	case 1:
		fm = append(fm, "title: [unclosed")
	default:
		fm = append(fm, fmt.Sprintf("title: Title %d", r.Intn(1000)))
	}
	switch r.Intn(8) {
	case 0, 1: // the first in path order holds it, the others are refused
		fm = append(fm, "slug: shared")
	case 2:
		fm = append(fm, fmt.Sprintf("slug: s%d", r.Intn(3)))
	case 3:
		fm = append(fm, "slug: ../bad")
	}
	if r.Intn(4) == 0 {
		fm = append(fm, fmt.Sprintf("aliases: [/old/%d]", r.Intn(3)))
	}
	if r.Intn(12) == 0 {
		fm = append(fm, "draft: true")
	}
	if r.Intn(12) == 0 {
		fm = append(fm, "date: someday")
	}
	body := fmt.Sprintf("## Part %d\n\nWords %d and more words.\n\n", r.Intn(5), r.Intn(100))
	for i := r.Intn(4); i > 0; i-- {
		target := treeArticles[r.Intn(len(treeArticles))]
		if target == p {
			continue
		}
		body += fmt.Sprintf("See [that](%s#part-1).\n\n", rel(p, target))
	}
	if r.Intn(2) == 0 {
		body += fmt.Sprintf("![picture](%s)\n\n", rel(p, treeImages[r.Intn(len(treeImages))]))
	}
	if r.Intn(8) == 0 {
		body += "[nowhere](missing.md)\n"
	}
	return "---\n" + strings.Join(fm, "\n") + "\n---\n" + body
}

func (tr *tree) write(p, body string) {
	tr.t.Helper()
	write(tr.t, tr.dir, p, body)
}

func (tr *tree) remove(p string) {
	tr.t.Helper()
	if err := os.Remove(filepath.Join(tr.dir, filepath.FromSlash(p))); err != nil {
		tr.t.Fatal(err)
	}
}

// step makes one random change and returns it as git would report it.
func (tr *tree) step() ([]Change, string) {
	r := tr.r
	switch r.Intn(14) {
	case 0, 1: // add an article
		if p, ok := tr.pick(treeArticles, false); ok {
			tr.write(p, tr.article(p))
			return []Change{{Path: p}}, "add " + p
		}
	case 2, 3: // edit an article
		if p, ok := tr.pick(treeArticles, true); ok {
			tr.write(p, tr.article(p))
			return []Change{{Path: p}}, "edit " + p
		}
	case 4: // rename an article, sometimes with an edit
		from, ok1 := tr.pick(treeArticles, true)
		to, ok2 := tr.pick(treeArticles, false)
		if ok1 && ok2 {
			if err := os.MkdirAll(filepath.Join(tr.dir, filepath.FromSlash(path.Dir(to))), 0o755); err != nil {
				tr.t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(tr.dir, filepath.FromSlash(from)), filepath.Join(tr.dir, filepath.FromSlash(to))); err != nil {
				tr.t.Fatal(err)
			}
			if r.Intn(3) == 0 {
				tr.write(to, tr.article(to))
			}
			return []Change{{Path: to, OldPath: from}}, "rename " + from + " " + to
		}
	case 5: // delete an article
		if p, ok := tr.pick(treeArticles, true); ok {
			tr.remove(p)
			return []Change{{Path: p, Deleted: true}}, "delete " + p
		}
	case 6: // add or remove an image
		if p, ok := tr.pick(treeImages, r.Intn(2) == 0); ok {
			if tr.exists(p) {
				tr.remove(p)
				return []Change{{Path: p, Deleted: true}}, "delete " + p
			}
			tr.write(p, "\x89PNG\x00\x01image")
			return []Change{{Path: p}}, "add " + p
		}
	case 7: // the synonyms
		switch r.Intn(3) {
		case 0:
			tr.write(SynonymsFile, fmt.Sprintf("en:\n  - [word%d, term]\n", r.Intn(9)))
		case 1:
			tr.write(SynonymsFile, "en: [broken\n")
		default:
			if !tr.exists(SynonymsFile) {
				return nil, "nothing"
			}
			tr.remove(SynonymsFile)
		}
		return []Change{{Path: SynonymsFile}}, "synonyms"
	case 13: // the languages' fallbacks
		switch r.Intn(4) {
		case 0:
			tr.write(LanguagesFile, fmt.Sprintf("fallback:\n  cs: %s\n", []string{"de", "fr", "en"}[r.Intn(3)]))
		case 1:
			tr.write(LanguagesFile, "fallback:\n  cs: de\n  de: cs\n") // a cycle
		case 2:
			tr.write(LanguagesFile, "fallback: [broken\n")
		default:
			if !tr.exists(LanguagesFile) {
				return nil, "nothing"
			}
			tr.remove(LanguagesFile)
		}
		return []Change{{Path: LanguagesFile}}, "languages"
	case 8: // files the policy refuses, and their removal
		switch p := "en/tool.exe"; {
		case tr.exists(p):
			tr.remove(p)
			return []Change{{Path: p, Deleted: true}}, "delete " + p
		default:
			tr.write(p, "MZ\x00\x00binary")
			return []Change{{Path: p}}, "add " + p
		}
	case 9: // a link fixed: point an article at one that exists
		p, ok1 := tr.pick(treeArticles, true)
		target, ok2 := tr.pick(treeArticles, true)
		if ok1 && ok2 && p != target {
			tr.write(p, fmt.Sprintf("---\ntitle: Fixed %d\n---\nSee [it](%s).\n", r.Intn(100), rel(p, target)))
			return []Change{{Path: p}}, "fix link " + p
		}
	case 11: // a symbolic link, refused
		p := "en/link.md"
		if tr.exists(p) {
			tr.remove(p)
			return []Change{{Path: p, Deleted: true}}, "delete " + p
		}
		if err := os.Symlink("a.md", filepath.Join(tr.dir, "en", "link.md")); err != nil {
			tr.t.Fatal(err)
		}
		return []Change{{Path: p}}, "add " + p
	case 12: // files in a directory whose name is refused, one by one
		p := fmt.Sprintf("bad\x01dir/f%d.md", r.Intn(2))
		if tr.exists(p) {
			tr.remove(p)
			return []Change{{Path: p, Deleted: true}}, "delete " + p
		}
		tr.write(p, "---\ntitle: F\n---\n")
		return []Change{{Path: p}}, "add " + p
	case 10: // an unchanged file reported anyway, and a hidden file
		tr.write(".hidden/x.md", "---\n---\n")
		var out []Change
		if p, ok := tr.pick(treeArticles, true); ok {
			out = append(out, Change{Path: p})
		}
		return append(out, Change{Path: ".hidden/x.md"}), "touch"
	}
	return nil, "nothing"
}

// TestUpdateEqualsLoad applies random changes to a tree and checks after
// each that Update's knowledge base is the one a full load of the tree
// gives: articles, text, headings, HTML, problems, fingerprint, redirects.
func TestUpdateEqualsLoad(t *testing.T) {
	seeds, steps := 30, 40
	if testing.Short() {
		seeds = 5
	}
	for seed := 0; seed < seeds; seed++ {
		tr := &tree{t: t, dir: t.TempDir(), r: rand.New(rand.NewSource(int64(seed)))}
		for _, p := range treeArticles[:5] {
			tr.write(p, tr.article(p))
		}
		tr.write(treeImages[0], "\x89PNG\x00image")
		fsys := os.DirFS(tr.dir)
		k, err := LoadFS(fsys, Options{Root: tr.dir})
		if err != nil {
			t.Fatal(err)
		}
		var log []string
		for i := 0; i < steps; i++ {
			changes, what := tr.step()
			log = append(log, what)
			if tr.r.Intn(2) == 0 {
				for _, a := range k.Articles {
					a.HTML() // shared views must not carry stale links
				}
			}
			before := summary(k)
			next, err := k.Update(fsys, changes)
			if err != nil {
				t.Fatalf("seed %d, after %q: %v", seed, log, err)
			}
			if after := summary(k); after != before {
				t.Fatalf("seed %d, after %q: Update changed the old knowledge base: %s", seed, log, firstDiff(after, before))
			}
			fresh, err := LoadFS(fsys, Options{Root: tr.dir, Redirects: next.Redirects()})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := summary(next), summary(fresh); got != want {
				t.Fatalf("seed %d, after %q: Update differs from a full load: %s", seed, log, firstDiff(got, want))
			}
			k = next
		}
	}
}

// TestUpdateWhenASlugChangesHands: deleting the article that held a slug
// gives it to another, unchanged, article; links to that one, in a third
// unchanged article, must now be rewritten.
func TestUpdateWhenASlugChangesHands(t *testing.T) {
	dir := t.TempDir()
	fsys := os.DirFS(dir)
	write(t, dir, "en/a.md", "---\ntitle: A\nslug: shared\n---\nA.\n")
	write(t, dir, "en/b.md", "---\ntitle: B\nslug: shared\n---\nB.\n")
	write(t, dir, "en/c.md", "---\ntitle: C\n---\nSee [b](b.md).\n")
	k, err := LoadFS(fsys, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := k.ArticleAt("en/c.md"); !strings.Contains(string(c.HTML()), `href="b.md"`) {
		t.Fatalf("before: %s", c.HTML())
	}
	os.Remove(filepath.Join(dir, "en/a.md"))
	next, err := k.Update(fsys, []Change{{Path: "en/a.md", Deleted: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Problems) != 0 {
		t.Errorf("problems = %v", next.Problems)
	}
	if c, _ := next.ArticleAt("en/c.md"); !strings.Contains(string(c.HTML()), `href="/kb/en/shared"`) {
		t.Errorf("after: %s", c.HTML())
	}
	if c, _ := k.ArticleAt("en/c.md"); !strings.Contains(string(c.HTML()), `href="b.md"`) {
		t.Errorf("the old knowledge base changed: %s", c.HTML())
	}
}

// TestEveryProblemOfAFile: a file wrong in many ways gets every problem, at
// its line, not only the first.
func TestEveryProblemOfAFile(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "en/ok.md", "---\ntitle: OK\naliases: [/taken]\n---\nFine.\n")
	cases := []struct {
		name, file, src string
		want            []string
	}{
		{"front matter and body", "en/bad.md", "---\ndescription: no title\nlang: xx\nslug: ../up\n---\nIntro.\n\nSee [gone](gone.md).\n\n![pic](none.png)\n\n[up](../../x.md)\n", []string{
			"en/bad.md:1: missing title in front matter",
			`en/bad.md:3: unknown language "xx" (use an ISO 639-1 code such as en, de, fr, cs)`,
			`en/bad.md:4: invalid slug "../up": use letters, digits, '-', '_' and '/' between non-empty parts, no '.' or '..' parts`,
			`en/bad.md:8: broken link to "gone.md": no such article`,
			`en/bad.md:10: missing image "none.png"`,
			`en/bad.md:12: link "../../x.md" points outside the content directory`,
		}},
		{"YAML syntax error", "en/bad.md", "---\ntitle: A\nfoo: bar: baz\n---\n[gone](gone.md)\n", []string{
			"en/bad.md:3: front matter: mapping values are not allowed in this context",
			`en/bad.md:5: broken link to "gone.md": no such article`,
		}},
		{"bad values", "en/bad.md", "---\ntitle: A\ndate: yesterday\nweight: heavy\n---\n![x](x.png)\n", []string{
			`en/bad.md:3: front matter: cannot parse date "yesterday" (use YYYY-MM-DD or RFC 3339)`,
			"en/bad.md:4: front matter: cannot unmarshal !!str `heavy` into int",
			`en/bad.md:6: missing image "x.png"`,
		}},
		{"duplicate slug and alias", "en/z.md", "---\ntitle: A\nslug: ok\naliases:\n  - /taken\n---\nBody.\n", []string{
			`en/z.md:3: duplicate slug "ok" in language en (also used by en/ok.md)`,
			`en/z.md:4: duplicate alias "/taken" (also used by en/ok.md)`,
		}},
		{"TOML front matter", "en/bad.md", "+++\ntitle = 'A'\n+++\n[gone](gone.md)\n", []string{
			"en/bad.md:1: TOML front matter (+++) is not supported; use YAML between --- lines",
			`en/bad.md:4: broken link to "gone.md": no such article`,
		}},
		{"unclosed front matter", "en/bad.md", "---\ntitle: A\n[gone](gone.md)\n", []string{
			"en/bad.md:1: front matter starts with --- but is never closed",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			write(t, dir, c.file, c.src)
			defer os.Remove(filepath.Join(dir, c.file))
			k, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range k.Problems {
				got = append(got, p.String())
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			if _, ok := k.Get("en", "ok"); !ok {
				t.Error("the good article is not served")
			}
			if _, ok := k.ArticleAt(c.file); ok {
				t.Error("the bad article is served")
			}
		})
	}
}

func TestFilePolicy(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "en/a.md", "---\ntitle: A\n---\n![ok](ok.png) ![big](big.txt) [tool](tool.exe) [raw](data.bin)\n")
	write(t, dir, "en/ok.png", "\x89PNG\x00\x00")
	write(t, dir, "en/big.txt", strings.Repeat("x", 11<<10))
	write(t, dir, "en/tool.exe", "MZ\x00\x00")
	write(t, dir, "en/notes", "plain text, no extension")
	write(t, dir, "en/data.bin", strings.Repeat("y", 9000)+"\x00") // NUL after git's 8,000 bytes: text
	write(t, dir, "en/blob", "\x00")
	write(t, dir, "en/bin.md", "---\ntitle: B\n---\n\x00\n")
	write(t, dir, "en/back\\slash.png", "x")
	write(t, dir, "en/ctl\x01.png", "x")
	write(t, dir, "bad\x7fdir/x.md", "---\ntitle: X\n---\n")
	write(t, dir, "_partials/skip.exe", "\x00")
	write(t, dir, ".git/objects/x", "\x00")
	if err := os.Symlink("a.md", filepath.Join(dir, "en", "link.md")); err != nil {
		t.Fatal(err)
	}
	k, err := LoadFS(os.DirFS(dir), Options{MaxFileSize: 10 << 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range k.Problems {
		got = append(got, p.String())
	}
	allowed := attachmentList()
	want := []string{
		`bad\x7fdir:1: the name contains a control character`,
		`en/back\slash.png:1: the name contains a backslash; use / between directories`,
		"en/big.txt:1: the file is 11 KiB, over the limit of 10 KiB",
		`en/bin.md:1: binary file: ".md" files are not published (binary attachments may be ` + allowed + ")",
		`en/blob:1: binary file: files without an extension are not published (binary attachments may be ` + allowed + ")",
		`en/ctl\x01.png:1: the name contains a control character`,
		"en/link.md:1: symbolic links are not published; commit the file itself",
		`en/tool.exe:1: binary file: ".exe" files are not published (binary attachments may be ` + allowed + ")",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	a, ok := k.ArticleAt("en/a.md")
	if !ok {
		t.Fatal("the article is not served")
	}
	// Refused files are reported on themselves, not served as assets.
	if got := sortedKeys(a.Assets); !reflect.DeepEqual(got, []string{"data.bin", "ok.png"}) {
		t.Errorf("assets = %v", got)
	}
	if b, err := k.Asset(a, "ok.png"); err != nil || string(b) != "\x89PNG\x00\x00" {
		t.Errorf("Asset = %q, %v", b, err)
	}
	if _, err := k.Asset(a, "tool.exe"); err == nil {
		t.Error("a refused file is served")
	}
	if !strings.Contains(allowed, "png") || !strings.Contains(allowed, "webm") || strings.Contains(allowed, "exe") {
		t.Errorf("allowed attachments: %s", allowed)
	}
}

func TestSubmodulesRefused(t *testing.T) {
	// A git tree reports a submodule as an irregular entry.
	fsys := fstest.MapFS{
		"en/a.md":    {Data: []byte("---\ntitle: A\n---\nA.\n")},
		"vendor/lib": {Mode: 0o755 | fs.ModeIrregular},
	}
	k, err := LoadFS(fsys, Options{Root: "content.git@abc"})
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Problems) != 1 || k.Problems[0].String() != "vendor/lib:1: a git submodule (or other special entry) is not published; commit the files themselves" {
		t.Errorf("problems = %v", k.Problems)
	}
	if k.Root != "content.git@abc" || len(k.Articles) != 1 {
		t.Errorf("root %q, %d articles", k.Root, len(k.Articles))
	}
}

func TestRenameRedirects(t *testing.T) {
	dir := t.TempDir()
	fsys := os.DirFS(dir)
	write(t, dir, "en/a.md", "---\ntitle: A\n---\nA.\n")
	write(t, dir, "en/x.md", "---\ntitle: X\n---\nSee [a](a.md).\n")
	k, err := LoadFS(fsys, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mv := func(from, to string) {
		t.Helper()
		if err := os.Rename(filepath.Join(dir, from), filepath.Join(dir, to)); err != nil {
			t.Fatal(err)
		}
	}
	update := func(changes ...Change) {
		t.Helper()
		next, err := k.Update(fsys, changes)
		if err != nil {
			t.Fatal(err)
		}
		k = next
	}
	resolves := func(u, id string) {
		t.Helper()
		a, ok := k.Alias(u)
		if id == "" && ok {
			t.Errorf("%s resolves to %s", u, a.ID)
		} else if id != "" && (!ok || a.ID != id) {
			t.Errorf("%s does not resolve to %s (redirects %v)", u, id, k.Redirects())
		}
	}

	// a → b: the old URL follows, and the linking article is rendered
	// again (it is now broken, since it was not changed).
	mv("en/a.md", "en/b.md")
	update(Change{Path: "en/b.md", OldPath: "en/a.md"})
	resolves("/kb/en/a", "en/b")
	if len(k.Problems) != 1 || !strings.Contains(k.Problems[0].Message, `broken link to "a.md"`) {
		t.Errorf("problems = %v", k.Problems)
	}
	// b → c: the chain keeps /kb/en/a working.
	mv("en/b.md", "en/c.md")
	update(Change{Path: "en/c.md", OldPath: "en/b.md"})
	resolves("/kb/en/a", "en/c")
	resolves("/kb/en/b", "en/c")
	if want := map[string]string{"/kb/en/a": "en/c.md", "/kb/en/b": "en/c.md"}; !reflect.DeepEqual(k.Redirects(), want) {
		t.Errorf("redirects = %v", k.Redirects())
	}
	// Redirects survive a restart through Options.Redirects.
	restarted, err := LoadFS(fsys, Options{Redirects: k.Redirects()})
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := restarted.Alias("/kb/en/a/"); !ok || a.ID != "en/c" {
		t.Error("a redirect given in Options is not honoured")
	}
	// A new article claiming an old URL takes it over; an explicit alias
	// wins over a redirect.
	write(t, dir, "en/a.md", "---\ntitle: A again\n---\nNew.\n")
	write(t, dir, "en/y.md", "---\ntitle: Y\naliases: [/kb/en/b]\n---\nY.\n")
	update(Change{Path: "en/a.md"}, Change{Path: "en/y.md"})
	if want := map[string]string{}; !reflect.DeepEqual(k.Redirects(), want) {
		t.Errorf("redirects = %v", k.Redirects())
	}
	resolves("/kb/en/b", "en/y")
	// Deleting the target drops its redirects.
	mv("en/c.md", "en/d.md")
	update(Change{Path: "en/d.md", OldPath: "en/c.md"})
	resolves("/kb/en/c", "en/d")
	os.Remove(filepath.Join(dir, "en/d.md"))
	update(Change{Path: "en/d.md", Deleted: true})
	resolves("/kb/en/c", "")
	if len(k.Redirects()) != 0 {
		t.Errorf("redirects to a deleted article kept: %v", k.Redirects())
	}
}

func TestChanged(t *testing.T) {
	dir := t.TempDir()
	fsys := os.DirFS(dir)
	write(t, dir, "en/a.md", "---\ntitle: A\n---\nA.\n")
	write(t, dir, "en/b.md", "---\ntitle: B\n---\nB.\n")
	write(t, dir, "en/c.md", "---\ntitle: C\n---\nSee [b](b.md).\n")
	write(t, dir, "en/d.md", "---\ntitle: D\n---\nD.\n")
	k0, err := LoadFS(fsys, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if changed, deleted := Changed(nil, k0); len(changed) != 4 || len(deleted) != 0 {
		t.Fatalf("from nothing: %v %v", changed, deleted)
	}
	write(t, dir, "en/a.md", "---\ntitle: A2\n---\nA.\n")                       // edited
	os.Remove(filepath.Join(dir, "en/b.md"))                                    // deleted: c breaks
	write(t, dir, "en/e.md", "---\ntitle: E\n---\nE.\n")                        // added
	os.Rename(filepath.Join(dir, "en/d.md"), filepath.Join(dir, "en/sub-d.md")) // renamed: new ID
	write(t, dir, "synonyms.yaml", "en:\n  - [a, b]\n")                         // not an article
	k1, err := k0.Update(fsys, []Change{{Path: "en/a.md"}, {Path: "en/b.md", Deleted: true}, {Path: "en/e.md"}, {Path: "en/sub-d.md", OldPath: "en/d.md"}, {Path: "synonyms.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	changed, deleted := Changed(k0, k1)
	if want := []string{"en/a", "en/e", "en/sub-d"}; !reflect.DeepEqual(changed, want) {
		t.Errorf("changed = %v, want %v", changed, want)
	}
	if want := []string{"en/b", "en/c", "en/d"}; !reflect.DeepEqual(deleted, want) {
		t.Errorf("deleted = %v, want %v", deleted, want)
	}
	// The same article moved to another file with its slug is re-indexed.
	write(t, dir, "en/moved.md", "---\ntitle: E\nslug: e\n---\nE.\n")
	os.Remove(filepath.Join(dir, "en/e.md"))
	k2, _ := k1.Update(fsys, []Change{{Path: "en/moved.md", OldPath: "en/e.md"}})
	if changed, deleted := Changed(k1, k2); !reflect.DeepEqual(changed, []string{"en/e"}) || len(deleted) != 0 {
		t.Errorf("moved: changed %v deleted %v", changed, deleted)
	}
	if changed, deleted := Changed(k2, k2); len(changed)+len(deleted) != 0 {
		t.Errorf("no change: %v %v", changed, deleted)
	}
}

// TestUpdateFromSnapshot: a knowledge base loaded from a snapshot updates
// like one loaded from the files.
func TestUpdateFromSnapshot(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "en/a.md", "---\ntitle: A\n---\nSee [b](b.md).\n")
	write(t, dir, "en/b.md", "---\ntitle: B\n---\nB.\n")
	cache := filepath.Join(t.TempDir(), "kb.snapshot")
	k, _, err := LoadCached(dir, cache)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.WriteSnapshot(cache); err != nil {
		t.Fatal(err)
	}
	k, cached, err := LoadCached(dir, cache)
	if err != nil || !cached {
		t.Fatalf("cached=%v err=%v", cached, err)
	}
	write(t, dir, "en/b.md", "---\ntitle: B\nslug: bee\n---\nB.\n")
	next, err := k.Update(os.DirFS(dir), []Change{{Path: "en/b.md"}})
	if err != nil {
		t.Fatal(err)
	}
	fresh, _ := LoadFS(os.DirFS(dir), Options{Redirects: next.Redirects()})
	if got, want := summary(next), summary(fresh); got != want {
		t.Fatalf("update of a snapshot differs: %s", firstDiff(got, want))
	}
	if a, _ := next.ArticleAt("en/a.md"); !strings.Contains(string(a.HTML()), `href="/kb/en/bee"`) {
		t.Errorf("stale link: %s", a.HTML())
	}
	if b, ok := next.Alias("/kb/en/b"); !ok || b.ID != "en/bee" {
		t.Error("a changed slug leaves no redirect")
	}
}

// TestUpdateWhileServing: readers of the old knowledge base (rendering
// pages, resolving aliases) run while Update builds the next; run with
// -race.
func TestUpdateWhileServing(t *testing.T) {
	dir := t.TempDir()
	fsys := os.DirFS(dir)
	for i := 0; i < 20; i++ {
		write(t, dir, fmt.Sprintf("en/a%d.md", i), fmt.Sprintf("---\ntitle: A%d\naliases: [/old/%d]\n---\nSee [next](a%d.md).\n", i, i, (i+1)%20))
	}
	k, err := LoadFS(fsys, Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, a := range k.Articles {
			a.HTML()
			k.Alias("/old/1")
		}
	}()
	write(t, dir, "en/a1.md", "---\ntitle: A1\nslug: one\n---\nSee [a2](a2.md).\n")
	next, err := k.Update(fsys, []Change{{Path: "en/a1.md"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range next.Articles {
		a.HTML()
	}
	<-done
	if a, _ := next.ArticleAt("en/a0.md"); !strings.Contains(string(a.HTML()), `href="/kb/en/one"`) {
		t.Errorf("a0 = %s", a.HTML())
	}
	if a, _ := k.ArticleAt("en/a0.md"); !strings.Contains(string(a.HTML()), `href="/kb/en/a1"`) {
		t.Errorf("old a0 = %s", a.HTML())
	}
}

func TestNameProblem(t *testing.T) {
	for name, bad := range map[string]bool{
		"..": true, "a\\b.md": true, "tab\t.md": true, "\x7f": true, "\u0085next": true, "bad\xff.png": true,
		"ok.md": false, "řešení.md": false, ".hidden": false, "a b.png": false, "...": false,
	} {
		if got := nameProblem(name) != ""; got != bad {
			t.Errorf("nameProblem(%q) = %q", name, nameProblem(name))
		}
	}
}

// A README (and the like) at the top of the tree is the repository's, not
// an article: it needs no front matter and is never served.
func TestRepositoryFilesAreNotArticles(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"README.md":       "# How to write articles\n",
		"CONTRIBUTING.md": "Open a pull request.\n",
		"en/README.md":    "---\ntitle: Read me\n---\nAn article that happens to be called README.\n",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	k, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Problems) != 0 {
		t.Errorf("problems %v", k.Problems)
	}
	if len(k.Articles) != 1 || k.Articles[0].Path != "en/README.md" {
		t.Errorf("articles %v, want only en/README.md", k.Articles)
	}
}
