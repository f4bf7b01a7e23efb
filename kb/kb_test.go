package kb

import (
	"errors"
	"flag"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestRenderGolden(t *testing.T) {
	k, err := Load("testdata/render")
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Problems) > 0 {
		t.Fatalf("unexpected problems: %v", k.Problems)
	}
	a, ok := k.Get("en", "showcase")
	if !ok {
		t.Fatal("showcase not loaded")
	}
	golden := "testdata/render/showcase.golden.html"
	if *update {
		if err := os.WriteFile(golden, []byte(a.HTML()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(a.HTML()) != string(want) {
		t.Errorf("rendered HTML differs from %s (run go test ./kb -update to accept):\n%s", golden, a.HTML())
	}
	// The golden file is only as good as what it contains; spell out the
	// promises so a careless -update cannot accept a regression.
	for _, must := range []string{
		`<del>strike</del>`,
		`<a href="https://example.com">https://example.com</a>`,
		`type="checkbox" aria-label="Not done"`,
		`<table tabindex="0">`, // wide tables scroll in their box: keyboard users need focus to scroll them
		`<pre class="chroma">`,
		`<span class="nb">echo</span>`,
		`href="/kb/en/other#details"`,
		`href="/kb/de/other"`,
		`href="/kb/en/showcase/files/sample.yml"`,
		`src="/kb/en/showcase/images/form.svg"`,
		`<h2 id="steps-to-follow">`,
		`<h2 id="řešení-problémů">`,
		`class="anchor"`,
		`class="footnotes"`,
		`<!-- raw HTML omitted -->`,
	} {
		if !strings.Contains(string(a.HTML()), must) {
			t.Errorf("rendered HTML lacks %s", must)
		}
	}
	for _, mustNot := range []string{`<script>`, `style="`} {
		if strings.Contains(string(a.HTML()), mustNot) {
			t.Errorf("rendered HTML contains %s", mustNot)
		}
	}
}

func TestFrontMatterAndArticleFields(t *testing.T) {
	k, err := Load("testdata/render")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := k.Get("en", "showcase")
	if a.Title != "Rendering showcase" || a.Description != "Every Markdown feature the portal renders." ||
		strings.Join(a.Tags, ",") != "markdown,test" || a.Category != "Testing" || a.TranslationKey != "showcase" {
		t.Errorf("front matter misread: %+v", a)
	}
	if !a.Updated().Equal(time.Date(2025, 4, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Updated() = %v", a.Updated())
	}
	if got, ok := k.Alias("/old/showcase"); !ok || got != a {
		t.Error("alias /old/showcase does not resolve")
	}
	var heads []string
	for _, h := range a.Headings {
		heads = append(heads, h.Text)
	}
	if strings.Join(heads, "|") != "Steps to follow|Code|Řešení problémů" {
		t.Errorf("headings = %q", heads)
	}
	if !strings.Contains(a.Text, "sudo orbitask backup create") || strings.Contains(a.Text, "<") {
		t.Errorf("plain text misses code or keeps markup: %q", a.Text)
	}
	if b, err := k.Asset(a, "images/form.svg"); err != nil || !strings.Contains(string(b), "<svg") {
		t.Errorf("asset = %q, %v", b, err)
	}
	if _, err := k.Asset(a, "other.md"); !errors.Is(err, ErrNotFound) {
		t.Errorf("an unreferenced file is served as an asset (err %v)", err)
	}
	de, ok := k.Get("de", "other")
	if !ok || de.Lang != "de" {
		t.Fatal("language from path not applied")
	}
	if min, ok := k.Get("en", "other"); !ok || min.Title != "Other" {
		t.Error("a file with only a title must load")
	}
}

func TestFlexibleFrontMatter(t *testing.T) {
	cases := []struct {
		name, fm string
		check    func(*Article) bool
	}{
		{"category singular string", "title: A\ncategory: Billing", func(a *Article) bool { return a.Category == "Billing" }},
		{"summary as description", "title: A\nsummary: Short", func(a *Article) bool { return a.Description == "Short" }},
		{"tags as one string", "title: A\ntags: billing", func(a *Article) bool { return len(a.Tags) == 1 && a.Tags[0] == "billing" }},
		{"language key", "title: A\nlanguage: fr", func(a *Article) bool { return a.Lang == "fr" }},
		{"region normalised", "title: A\nlang: pt_br", func(a *Article) bool { return a.Lang == "pt-BR" }},
		{"RFC 3339 date", "title: A\ndate: 2025-01-02T10:00:00Z", func(a *Article) bool { return a.Date.Year() == 2025 }},
		{"explicit slug", "title: A\nslug: custom/path", func(a *Article) bool { return a.Slug == "custom/path" }},
		{"unknown keys", "title: A\nauthor: {name: X}\nweight: 3", func(a *Article) bool { return a.Weight == 3 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "a.md", "---\n"+c.fm+"\n---\nBody.\n")
			k, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(k.Problems) > 0 || len(k.Articles) != 1 {
				t.Fatalf("problems %v, articles %d", k.Problems, len(k.Articles))
			}
			if !c.check(k.Articles[0]) {
				t.Errorf("article = %+v", k.Articles[0])
			}
		})
	}
}

func TestDraftsAreNotServed(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.md", "---\ntitle: A\ndraft: true\n---\n")
	k, _ := Load(dir)
	if len(k.Articles) != 0 || len(k.Problems) != 0 {
		t.Fatalf("draft: articles %d problems %v", len(k.Articles), k.Problems)
	}
}

// TestCheckProblems covers each problem `portal check` reports, with its
// file and line; the broken file is left out and the good one still loads.
func TestCheckProblems(t *testing.T) {
	good := "---\ntitle: Good\n---\nFine.\n"
	cases := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"front matter syntax", map[string]string{"en/bad.md": "---\ntitle: A\nfoo: bar: baz\n---\n"}, "en/bad.md:3: front matter: mapping values are not allowed in this context"},
		{"unclosed front matter", map[string]string{"en/bad.md": "---\ntitle: A\n"}, "en/bad.md:1: front matter starts with --- but is never closed"},
		{"missing title", map[string]string{"en/bad.md": "---\ndescription: x\n---\n"}, "en/bad.md:1: missing title in front matter"},
		{"bad date", map[string]string{"en/bad.md": "---\ntitle: A\ndate: yesterday\n---\n"}, `en/bad.md:3: front matter: cannot parse date "yesterday"`},
		{"unknown language", map[string]string{"en/bad.md": "---\ntitle: A\nlang: xx\n---\n"}, `en/bad.md:3: unknown language "xx"`},
		{"duplicate slug", map[string]string{"en/bad.md": "---\ntitle: A\nslug: good\n---\n"}, `en/good.md:1: duplicate slug "good" in language en (also used by en/bad.md)`},
		{"duplicate alias", map[string]string{"en/a.md": "---\ntitle: A\naliases: [/old]\n---\n", "en/bad.md": "---\ntitle: B\naliases:\n  - /old\n---\n"}, `en/bad.md:3: duplicate alias "/old" (also used by en/a.md)`},
		{"broken internal link", map[string]string{"en/bad.md": "---\ntitle: A\n---\n\nIntro.\n\nSee [that](nothere.md).\n"}, `en/bad.md:7: broken link to "nothere.md": no such article`},
		{"missing image", map[string]string{"en/bad.md": "---\ntitle: A\n---\n![x](img/none.png)\n"}, `en/bad.md:4: missing image "img/none.png"`},
		{"link outside content", map[string]string{"en/bad.md": "---\ntitle: A\n---\n[x](../../etc/passwd)\n"}, `en/bad.md:4: link "../../etc/passwd" points outside the content directory`},
		{"not UTF-8", map[string]string{"en/bad.md": "---\ntitle: A\n---\nok\n\xff\xfe\n"}, "en/bad.md:5: not UTF-8 text"},
		{"bad slug", map[string]string{"en/bad.md": "---\ntitle: A\nslug: ../../static/x\n---\n"}, `en/bad.md:3: invalid slug "../../static/x"`},
		{"toml front matter", map[string]string{"en/bad.md": "+++\ntitle = 'A'\n+++\n"}, "en/bad.md:1: TOML front matter"},
		{"bad synonyms", map[string]string{"synonyms.yaml": "en:\n  - [a, b]\nfoo: bar: baz\n"}, "synonyms.yaml:3: expected"},
		{"repeated key", map[string]string{"en/bad.md": "---\ntitle: A\ntitle: B\n---\n"}, `en/bad.md:3: front matter: mapping key "title" already defined at line 2`},
		{"two type errors", map[string]string{"en/bad.md": "---\ntitle: A\ndraft: maybe\nweight: y\n---\n"}, "en/bad.md:4: front matter: cannot unmarshal !!str `y` into int"},
		{"repeated synonyms language", map[string]string{"synonyms.yaml": "en:\n  - [a, b]\nen:\n  - [c, d]\n"}, `synonyms.yaml:3: expected ` + "`LANG: [[word, synonym, ...], ...]`" + ` (LANG may be "all"): mapping key "en" already defined at line 1`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "en/good.md", good)
			for name, body := range c.files {
				write(t, dir, name, body)
			}
			k, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range k.Problems {
				got = append(got, p.String())
			}
			found := false
			for _, g := range got {
				found = found || strings.HasPrefix(g, c.want)
			}
			if !found {
				t.Errorf("problems = %q\nwant one starting with %q", got, c.want)
			}
			if c.name != "duplicate slug" && c.name != "bad synonyms" {
				if _, ok := k.Get("en", "good"); !ok {
					t.Error("the valid article was not served")
				}
				if _, ok := k.Get("en", "bad"); ok {
					t.Error("the invalid article was served")
				}
			}
		})
	}
}

func TestFingerprintChangesWithContent(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.md", "---\ntitle: A\n---\nOne.\n")
	k1, _ := Load(dir)
	k2, _ := Load(dir)
	if k1.Fingerprint != k2.Fingerprint {
		t.Fatal("fingerprint not stable for unchanged content")
	}
	write(t, dir, "a.md", "---\ntitle: A\n---\nTwo.\n")
	k3, _ := Load(dir)
	write(t, dir, "synonyms.yaml", "en:\n  - [a, b]\n")
	k4, _ := Load(dir)
	if k3.Fingerprint == k1.Fingerprint || k4.Fingerprint == k3.Fingerprint {
		t.Fatal("fingerprint did not change with content or synonyms")
	}
	if len(k4.Synonyms.For("en")) != 1 {
		t.Errorf("synonyms = %v", k4.Synonyms)
	}
}

func TestLoadMissingDir(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Fatal("missing content directory accepted")
	}
}

func write(t testing.TB, dir, name, body string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSnapshotReusedOnlyForUnchangedContent(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "en/a.md", "---\ntitle: A\n---\nSee [b](b.md) and ![i](i.svg).\n")
	write(t, dir, "en/b.md", "---\ntitle: B\naliases: [/old-b]\n---\n## Part\nText.\n")
	write(t, dir, "en/i.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>")
	cache := filepath.Join(t.TempDir(), "kb.snapshot")

	k1, cached, err := LoadCached(dir, cache)
	if err != nil || cached {
		t.Fatalf("first load: cached=%v err=%v", cached, err)
	}
	if err := k1.WriteSnapshot(cache); err != nil {
		t.Fatal(err)
	}
	k2, cached, err := LoadCached(dir, cache)
	if err != nil || !cached {
		t.Fatalf("second load: cached=%v err=%v", cached, err)
	}
	a1, _ := k1.Get("en", "a")
	a2, ok := k2.Get("en", "a")
	if !ok || a2.HTML() != a1.HTML() || a2.Text != a1.Text || k2.Fingerprint != k1.Fingerprint {
		t.Fatalf("snapshot article differs:\n%s\n%s", a1.HTML(), a2.HTML())
	}
	if _, ok := k2.Alias("/old-b"); !ok || len(k2.Articles) != 2 {
		t.Fatal("snapshot lost aliases or articles")
	}
	if _, err := k2.Asset(a2, "i.svg"); err != nil {
		t.Fatalf("snapshot lost assets: %v", err)
	}

	write(t, dir, "en/b.md", "---\ntitle: B2\n---\nChanged.\n")
	k3, cached, err := LoadCached(dir, cache)
	if err != nil || cached {
		t.Fatalf("changed content used the snapshot (cached=%v, err=%v)", cached, err)
	}
	if b, _ := k3.Get("en", "b"); b.Title != "B2" {
		t.Fatalf("title = %q", b.Title)
	}
	// An image added later must invalidate a snapshot that lacked it.
	write(t, dir, "en/c.md", "---\ntitle: C\n---\n![later](later.png)\n")
	k4, _, _ := LoadCached(dir, cache)
	if _, ok := k4.Get("en", "c"); ok {
		t.Fatal("article with a missing image was served")
	}
	k4.WriteSnapshot(cache)
	write(t, dir, "en/later.png", "png")
	k5, cached, _ := LoadCached(dir, cache)
	if _, ok := k5.Get("en", "c"); cached || !ok {
		t.Fatalf("after adding the image: cached=%v, served=%v", cached, ok)
	}
	os.WriteFile(cache, []byte("garbage"), 0o644)
	if _, cached, err := LoadCached(dir, cache); err != nil || cached {
		t.Fatalf("corrupt snapshot: cached=%v err=%v", cached, err)
	}
}

// TestTextIsWhatTheReaderSees checks the plain text (indexed, and cut into
// search snippets) against the rendered page: the same words, with entities
// and backslash escapes resolved once and no Markdown syntax left.
func TestTextIsWhatTheReaderSees(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "en/tags.md", "---\ntitle: Tags\n---\n"+
		"# Formatting &amp; tags\n\n"+
		"Use the `<b>` tag for **bold** text; write &lt;b&gt; or \\<i\\> for the characters, \\*not\\* emphasis.\n"+
		"See [the guide](https://example.com/guide), <https://example.com/auto> and https://example.com/bare.\n"+
		"Copyright &copy; &#169; &#xA9; 2024, `&lt;` in code, 5 \\* 3, a_b_c, <span>inline html</span>.\n\n"+
		"- item *one*\n- item ~~two~~\n\n"+
		"> quoted `x < y`\n\n"+
		"| col &amp; a | col b |\n|---|---|\n| a \\| b | `c` |\n\n"+
		"```\n<b>bold</b> &lt;\n```\n")
	k, err := Load(dir)
	if err != nil || len(k.Problems) > 0 {
		t.Fatalf("load: %v %v", err, k.Problems)
	}
	a, _ := k.Get("en", "tags")
	anchor := regexp.MustCompile(`<a [^>]*class="anchor"[^>]*>#</a>`)
	tag := regexp.MustCompile(`<[^>]*>`)
	seen := html.UnescapeString(tag.ReplaceAllString(anchor.ReplaceAllString(string(a.HTML()), ""), ""))
	words := func(s string) string {
		var out []string
		for _, w := range strings.Fields(s) {
			if w != "·" {
				out = append(out, w)
			}
		}
		return strings.Join(out, " ")
	}
	if got, want := words(a.Text), words(seen); got != want {
		t.Errorf("text differs from the rendered page:\ntext: %s\npage: %s", got, want)
	}
	for _, w := range []string{"\\<i\\>", "\\*", "&amp;", "&copy;", "&#169;", "**", "](", "#", "https://example.com/guide"} {
		if strings.Contains(a.Text, w) {
			t.Errorf("text contains %q: %s", w, a.Text)
		}
	}
	// "<b>" is seen in the code span, the sentence and the code block;
	// "&lt;" only as code, where it is shown as written.
	if strings.Count(a.Text, "<b>") != 3 || strings.Count(a.Text, "&lt;") != 2 {
		t.Errorf("text = %s", a.Text)
	}
	if h := a.Headings[0].Text; h != "Formatting & tags" {
		t.Errorf("heading = %q", h)
	}
}

// BenchmarkLoad parses the bundled knowledge base without a snapshot: front
// matter, Markdown and the plain text of every article.
func BenchmarkLoad(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := Load("../content"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTaskListCheckboxesHaveNames: every task-list checkbox in the bundled
// knowledge base has an accessible name in its article's language (axe-core
// fails an unnamed input), and the name says whether the step is done.
func TestTaskListCheckboxesHaveNames(t *testing.T) {
	k, err := Load("../content")
	if err != nil {
		t.Fatal(err)
	}
	input := regexp.MustCompile(`<input[^>]*type="checkbox"[^>]*>`)
	seen := map[string]int{}
	for _, a := range k.Articles {
		for _, box := range input.FindAllString(string(a.HTML()), -1) {
			want := `aria-label="` + html.EscapeString(taskStateName(a.Lang, strings.Contains(box, "checked")))
			if !strings.Contains(box, want) {
				t.Errorf("%s: %s lacks %s\"", a.Path, box, want)
			}
			seen[a.Lang]++
		}
	}
	for _, lang := range []string{"en", "fr", "de", "cs"} {
		if seen[lang] == 0 {
			t.Errorf("no task-list checkbox in the %s articles: the test checks nothing there", lang)
		}
	}
	if got := taskStateName("cs", false); got != "Nehotovo" {
		t.Errorf("taskStateName(cs, false) = %q", got)
	}
}
