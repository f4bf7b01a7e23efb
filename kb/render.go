package kb

import (
	"bufio"
	"bytes"
	"html"
	"html/template"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/yuin/goldmark"
	highlighting "github.com/yuin/goldmark-highlighting/v2"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// newMarkdown builds the goldmark converter shared by every article. It is
// safe for concurrent use. Raw HTML is left out because goldmark omits it
// unless html.WithUnsafe is set, which we never do.
func newMarkdown() goldmark.Markdown {
	return goldmark.New(
		goldmark.WithExtensions(
			// GFM, spelled out so table alignment can be an attribute: the
			// pages' CSP forbids inline styles.
			extension.Linkify,
			extension.Strikethrough,
			extension.TaskList,
			extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
			extension.Footnote,
			highlighting.NewHighlighting(
				highlighting.WithFormatOptions(chromahtml.WithClasses(true)),
				highlighting.WithGuessLanguage(false),
			),
		),
		goldmark.WithParserOptions(parser.WithAutoHeadingID(), parser.WithASTTransformers(util.Prioritized(focusableTables{}, 1000))),
		// Before the task list's own renderer (priority 500), which gives
		// the checkbox no accessible name.
		goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(taskCheckBoxRenderer{}, 100))),
	)
}

// focusableTables makes every table reachable by keyboard: a wide table
// scrolls sideways in its own box (the pages' CSS), which a keyboard user
// can scroll only if it takes focus (WCAG 2.1.1, axe's
// scrollable-region-focusable).
type focusableTables struct{}

func (focusableTables) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering && n.Kind() == extast.KindTable {
			n.SetAttributeString("tabindex", []byte("0"))
		}
		return ast.WalkContinue, nil
	})
}

// taskStates names a task-list checkbox's state per article language, so
// a screen reader says more than "checkbox" (WCAG 4.1.2); English for the
// rest.
var taskStates = map[string][2]string{
	"en": {"Not done", "Done"},
	"fr": {"À faire", "Fait"},
	"de": {"Offen", "Erledigt"},
	"cs": {"Nehotovo", "Hotovo"},
}

func taskStateName(lang string, checked bool) string {
	names, ok := taskStates[lang]
	if !ok {
		names = taskStates["en"]
	}
	if checked {
		return names[1]
	}
	return names[0]
}

// taskCheckBoxRenderer writes a task list's checkbox with the aria-label
// render sets on the node (the renderer alone does not know the article's
// language).
type taskCheckBoxRenderer struct{}

func (taskCheckBoxRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(extast.KindTaskCheckBox, func(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		n := node.(*extast.TaskCheckBox)
		_, _ = w.WriteString(`<input`)
		if n.IsChecked {
			_, _ = w.WriteString(` checked=""`)
		}
		_, _ = w.WriteString(` disabled="" type="checkbox"`)
		if label, ok := n.AttributeString("aria-label"); ok {
			_, _ = w.WriteString(` aria-label="`)
			_, _ = w.Write(util.EscapeHTML(label.([]byte)))
			_ = w.WriteByte('"')
		}
		_, _ = w.WriteString("> ")
		return ast.WalkContinue, nil
	})
}

// resolver answers the questions rendering asks about the rest of the tree.
type resolver interface {
	articleAt(contentPath string) (*Article, bool)
	// file reports whether the tree has a file at contentPath and whether
	// the file may be published.
	file(contentPath string) (exists, servable bool)
}

// rendered is what rendering one article produces.
type rendered struct {
	html     template.HTML
	text     string
	headings []Heading
	assets   map[string]string
	problems []Problem
	targets  []string // content paths asked of the resolver
}

// render parses body (which starts at bodyLine of the file), rewrites internal
// links and asset references and extracts the text, headings and problems;
// with wantHTML it also adds heading anchors and renders HTML.
func render(md goldmark.Markdown, a *Article, body []byte, bodyLine int, res resolver, wantHTML bool) rendered {
	out := rendered{assets: map[string]string{}}
	lines := lineIndex(body)
	lineOf := func(off int) int {
		return bodyLine + sort.SearchInts(lines, off+1) - 1
	}
	ctx := parser.NewContext(parser.WithIDs(newHeadingIDs()))
	doc := md.Parser().Parse(text.NewReader(body), parser.WithContext(ctx))
	dir := path.Dir(a.Path)

	var txt strings.Builder
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			if n.Type() == ast.TypeBlock {
				endBlock(&txt)
			}
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			id, _ := n.AttributeString("id")
			idStr := string(id.([]byte))
			out.headings = append(out.headings, Heading{Level: n.Level, ID: idStr, Text: plainText(n, body)})
		case *ast.Link:
			dest, target, problem := rewriteRef(string(n.Destination), dir, a, false, res, out.assets)
			if target != "" {
				out.targets = append(out.targets, target)
			}
			if problem != "" {
				out.problems = append(out.problems, Problem{a.Path, lineOf(nodeOffset(n, body)), problem})
			}
			n.Destination = []byte(dest)
		case *ast.Image:
			dest, target, problem := rewriteRef(string(n.Destination), dir, a, true, res, out.assets)
			if target != "" {
				out.targets = append(out.targets, target)
			}
			if problem != "" {
				out.problems = append(out.problems, Problem{a.Path, lineOf(nodeOffset(n, body)), problem})
			}
			n.Destination = []byte(dest)
		case *ast.Text:
			txt.WriteString(visibleText(n.Segment.Value(body), n.IsRaw()))
			if n.SoftLineBreak() || n.HardLineBreak() {
				txt.WriteByte(' ')
			}
		case *ast.String:
			txt.WriteString(visibleText(n.Value, n.IsRaw() || n.IsCode()))
		case *ast.AutoLink:
			// The reader sees the address itself as the link's text.
			txt.Write(n.Label(body))
		case *ast.FencedCodeBlock, *ast.CodeBlock:
			l := n.Lines()
			for i := 0; i < l.Len(); i++ {
				s := l.At(i)
				txt.Write(s.Value(body))
			}
		}
		return ast.WalkContinue, nil
	})
	out.text = collapseSpace(txt.String())
	if !wantHTML {
		return out
	}
	// Anchor links are added after the walk so they do not show up in the text.
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if box, ok := n.(*extast.TaskCheckBox); ok && entering {
			box.SetAttributeString("aria-label", []byte(taskStateName(a.Lang, box.IsChecked)))
		}
		if h, ok := n.(*ast.Heading); ok && entering {
			id, _ := h.AttributeString("id")
			link := ast.NewLink()
			link.Destination = append([]byte("#"), id.([]byte)...)
			link.SetAttributeString("class", []byte("anchor"))
			// goldmark renders no aria-* on links; a title names the link.
			link.SetAttributeString("title", []byte("Link to this section"))
			link.AppendChild(link, ast.NewString([]byte("#")))
			h.AppendChild(h, link)
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	var buf bytes.Buffer
	if err := md.Renderer().Render(&buf, body, doc); err != nil {
		out.problems = append(out.problems, Problem{a.Path, bodyLine, "cannot render Markdown: " + err.Error()})
	}
	out.html = template.HTML(buf.String())
	return out
}

// endBlock separates blocks in the plain text. A heading or list item runs
// into the next block in a snippet ("Restore a backup A restore replaces…")
// unless something marks the boundary.
func endBlock(b *strings.Builder) {
	s := strings.TrimRight(b.String(), " \n")
	if s == "" {
		return
	}
	last, _ := utf8.DecodeLastRuneInString(s)
	if strings.ContainsRune(".!?:;·…", last) {
		b.WriteString("\n")
		return
	}
	b.WriteString(" · ")
}

// rewriteRef turns a relative reference into a public URL. Links to ".md"
// files become article URLs; other relative files become assets served under
// the article. It returns the new destination, the content path it asked the
// resolver about ("" if none) and a problem, if any.
func rewriteRef(dest, dir string, a *Article, image bool, res resolver, assets map[string]string) (string, string, string) {
	u, err := url.Parse(dest)
	if err != nil {
		return dest, "", "malformed link " + strconv.Quote(dest)
	}
	if u.Scheme != "" || u.Host != "" || strings.HasPrefix(dest, "/") || u.Path == "" {
		return dest, "", ""
	}
	target := path.Clean(path.Join(dir, u.Path))
	if strings.HasPrefix(target, "../") || target == ".." {
		return dest, "", "link " + strconv.Quote(dest) + " points outside the content directory"
	}
	exists, servable := res.file(target)
	if strings.HasSuffix(strings.ToLower(u.Path), ".md") && !image {
		t, ok := res.articleAt(target)
		if !ok {
			if exists {
				// The target exists but was refused; its own problems are
				// reported on it, and this article is not to blame.
				return dest, target, ""
			}
			return dest, target, "broken link to " + strconv.Quote(u.Path) + ": no such article"
		}
		out := t.URL()
		if u.Fragment != "" {
			out += "#" + u.Fragment
		}
		return out, target, ""
	}
	if !exists {
		if image {
			return dest, target, "missing image " + strconv.Quote(u.Path)
		}
		return dest, target, "missing file " + strconv.Quote(u.Path)
	}
	if !servable {
		// Refused by the file policy, which reports it on the file.
		return dest, target, ""
	}
	key := path.Clean(u.Path)
	if strings.HasPrefix(key, "../") {
		key = "_/" + target
	}
	assets[key] = target
	return a.URL() + "/" + escapePath(key), target, ""
}

// nodeOffset finds a byte offset in the source for an inline node, which
// goldmark does not record itself: the first text inside it, else its block.
func nodeOffset(n ast.Node, src []byte) int {
	var off = -1
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if t, ok := c.(*ast.Text); ok && entering {
			off = t.Segment.Start
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	if off >= 0 {
		return off
	}
	for p := n.Parent(); p != nil; p = p.Parent() {
		if p.Type() == ast.TypeBlock && p.Lines().Len() > 0 {
			return p.Lines().At(0).Start
		}
	}
	return 0
}

func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			b.WriteString(visibleText(c.Segment.Value(src), c.IsRaw()))
		case *ast.String:
			b.WriteString(visibleText(c.Value, c.IsRaw() || c.IsCode()))
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String())
}

// visibleText is a text node as the reader sees it once rendered: outside
// code, Markdown's backslash escapes and HTML entities ("\*", "&lt;",
// "&#169;") are resolved, exactly as goldmark's HTML writer resolves them.
// Without this, a snippet escaped for HTML would show "&amp;lt;". Raw text
// (code spans) is shown as written.
func visibleText(v []byte, raw bool) string {
	if raw || !bytes.ContainsAny(v, "&\\\x00") {
		return string(v)
	}
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	gmhtml.DefaultWriter.Write(w, v)
	w.Flush()
	// The writer escapes for HTML; the plain text is that, unescaped.
	return html.UnescapeString(buf.String())
}

// lineIndex returns the offset at which each line of src starts.
func lineIndex(src []byte) []int {
	idx := []int{0}
	for i, c := range src {
		if c == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// headingIDs makes unicode-aware, unique heading IDs ("Řešení" → "řešení"),
// where goldmark's default would drop non-ASCII letters.
type headingIDs struct{ seen map[string]int }

func newHeadingIDs() *headingIDs { return &headingIDs{seen: map[string]int{}} }

func (h *headingIDs) Generate(value []byte, kind ast.NodeKind) []byte {
	id := Slugify(string(value))
	if id == "" {
		id = "section"
	}
	return h.unique(id)
}

func (h *headingIDs) Put(value []byte) { h.seen[string(value)]++ }

func (h *headingIDs) unique(id string) []byte {
	n := h.seen[id]
	h.seen[id]++
	if n == 0 {
		return []byte(id)
	}
	return []byte(id + "-" + strconv.Itoa(n))
}
